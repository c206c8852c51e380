"""Webhooks: an admin's endpoint that receives the log's events, signed, as they happen.

A webhook names the event types it wants (or ``*`` for all). Its secret is never an
event's: the store keeps it beside the log (see docs/design.md, "Webhooks"). An
endpoint that keeps failing is disabled by the system; an admin may enable it again.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import ClassVar
from urllib.parse import urlsplit

from domain import limits
from domain.aggregate import AggregateState, Event, created, evolve
from domain.errors import InvalidInput, RuleViolated

ALL_EVENTS = "*"
MAX_URL = limits.URL
MAX_EVENT_NAMES = 200


class Webhook(AggregateState, frozen=True, kw_only=True):
    kind: ClassVar[str] = "webhook"
    url: str
    events: tuple[str, ...]
    owner: str
    disabled: bool = False
    disabled_reason: str | None = None

    def wants(self, type_name: str) -> bool:
        return ALL_EVENTS in self.events or type_name in self.events


class WebhookRegistered(Event[Webhook], frozen=True, kw_only=True):
    url: str
    events: tuple[str, ...]
    owner: str

    def apply(self, state: Webhook | None) -> Webhook:
        return created(Webhook, self)


class WebhookDisabled(Event[Webhook], frozen=True, kw_only=True):
    reason: str

    def apply(self, state: Webhook) -> Webhook:
        return evolve(state, disabled=True, disabled_reason=self.reason)


class WebhookEnabled(Event[Webhook], frozen=True, kw_only=True):
    def apply(self, state: Webhook) -> Webhook:
        return evolve(state, disabled=False, disabled_reason=None)


class WebhookDeleted(Event[Webhook], frozen=True, kw_only=True):
    def apply(self, state: Webhook) -> Webhook:
        return evolve(state, deleted=True)


WebhookEvent = WebhookRegistered | WebhookDisabled | WebhookEnabled | WebhookDeleted


def check_url(url: str) -> str:
    """An absolute http or https URL with a host (where it points is the adapters' to
    check: that needs the resolver)."""
    url = url.strip()
    if len(url) > MAX_URL:
        raise InvalidInput(f"a webhook URL has at most {MAX_URL} characters.")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise InvalidInput("a webhook URL must start with http:// or https://.")
    if not parts.hostname:
        raise InvalidInput("a webhook URL must name a host.")
    if parts.username is not None or parts.password is not None:
        raise InvalidInput("a webhook URL may not carry a user name or password.")
    return url


def register(
    url: str, events: Sequence[str], owner: str, *, known: Collection[str]
) -> list[WebhookEvent]:
    """A new webhook for ``events`` (type names among ``known``, or ``["*"]``)."""
    names = tuple(dict.fromkeys(events))
    if not names:
        raise InvalidInput('a webhook needs at least one event type, or ["*"] for all.')
    if ALL_EVENTS in names and len(names) > 1:
        raise InvalidInput('"*" already means every event type; give it alone.')
    unknown = sorted(n for n in names if n != ALL_EVENTS and n not in known)
    if unknown:
        raise InvalidInput(f"unknown event types: {', '.join(unknown)}.")
    return [WebhookRegistered(url=check_url(url), events=names, owner=owner)]


def disable(webhook: Webhook, reason: str) -> list[WebhookEvent]:
    if webhook.disabled:
        raise RuleViolated(f"webhook {webhook.id} is already disabled.")
    return [WebhookDisabled(reason=reason)]


def enable(webhook: Webhook) -> list[WebhookEvent]:
    if not webhook.disabled:
        raise RuleViolated(f"webhook {webhook.id} is not disabled.")
    return [WebhookEnabled()]


def delete(webhook: Webhook) -> list[WebhookEvent]:
    return [WebhookDeleted()]
