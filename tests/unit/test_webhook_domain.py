"""Webhooks as business rules: Given events / When a decision / Then events."""

from __future__ import annotations

from uuid import uuid4

import msgspec
import pytest

from commands.webhooks import event_type_names
from domain import webhook
from domain.aggregate import fold
from domain.errors import InvalidInput, RuleViolated
from domain.webhook import WebhookDisabled, WebhookEnabled, WebhookRegistered

KNOWN = event_type_names()


def registered() -> webhook.Webhook:
    events = webhook.register("https://h.example.com/x", ["OpportunitySold"], "ada", known=KNOWN)
    state = fold(None, events)
    assert state is not None
    return msgspec.structs.replace(state, id=uuid4())


def test_registering_names_the_url_the_types_and_the_owner() -> None:
    events = webhook.register("https://h.example.com/x", ["OpportunitySold"], "ada", known=KNOWN)
    assert events == [
        WebhookRegistered(url="https://h.example.com/x", events=("OpportunitySold",), owner="ada")
    ]


def test_every_type_is_star_alone() -> None:
    assert webhook.register("https://h.example.com/", ["*"], "ada", known=KNOWN)[0].events == ("*",)
    with pytest.raises(InvalidInput, match="alone"):
        webhook.register("https://h.example.com/", ["*", "OpportunitySold"], "ada", known=KNOWN)


def test_unknown_event_types_are_refused_by_name() -> None:
    with pytest.raises(InvalidInput, match="unknown event types: OpportunityBought"):
        webhook.register("https://h.example.com/", ["OpportunityBought"], "ada", known=KNOWN)


@pytest.mark.parametrize("url", ["ftp://h.example.com/", "https://", "https://u:p@h.example.com/"])
def test_only_plain_http_or_https_urls(url: str) -> None:
    with pytest.raises(InvalidInput):
        webhook.register(url, ["*"], "ada", known=KNOWN)


def test_disabled_then_enabled() -> None:
    hook = registered()
    assert webhook.disable(hook, "failing") == [WebhookDisabled(reason="failing")]
    disabled = fold(hook, webhook.disable(hook, "failing"))
    assert disabled.disabled and disabled.disabled_reason == "failing"
    with pytest.raises(RuleViolated):
        webhook.disable(disabled, "again")
    assert webhook.enable(disabled) == [WebhookEnabled()]
    with pytest.raises(RuleViolated):
        webhook.enable(hook)


def test_a_webhook_wants_its_types_or_all() -> None:
    hook = registered()
    assert hook.wants("OpportunitySold") and not hook.wants("AccountCreated")
