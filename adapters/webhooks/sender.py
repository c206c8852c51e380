"""The webhooks sender: delivers the outbox's pending rows, signed, in order per lane.

- A lane is one webhook and one aggregate: a row is attempted only when no earlier row
  of its lane is undelivered, so a receiver sees each aggregate's events in log order.
  Rows are leased when claimed (on PostgreSQL after ``FOR UPDATE SKIP LOCKED``; SQLite
  has one writer), so several senders never hold one lane at once; a lease outlives
  the attempt's time-out, and a sender that died leaves its rows to the next after it.
- Any 2xx delivers the row. Anything else — another status (a 3xx too: redirects are
  not followed), a time-out, a refused connection, a URL that now resolves to a private
  address — is a failed attempt, retried after ``base · 2^n`` seconds (n: the row's
  failed attempts before this one), at most ``cap``. Every attempt is logged.
- After ``disable_after`` failed attempts in a row (any of its rows), the webhook is
  disabled (``WebhookDisabled``, by ``system:webhooks``) and its owner notified (kind
  ``webhook_disabled``) in the same save; its
  rows wait. Deleted webhooks' rows are never sent again.
- At least once: a crash after the receiver answered but before the attempt was written
  sends the row again; receivers dedupe on ``X-Crmledger-Event-Id``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from uuid import UUID

import msgspec
import structlog

from adapters.event_store.store import SalesEventStore
from adapters.event_store.webhook_tables import Attempt, Delivery
from adapters.webhooks.addresses import Refused, Resolver, check, system_resolver
from adapters.webhooks.delivery import Outcome, post, signature
from commands.bus import CommandBus
from commands.unit_of_work import Actor
from commands.webhooks import DisableWebhook
from domain.errors import DomainError
from domain.webhook import Webhook

log = structlog.get_logger("crmledger.webhooks")

ACTOR = "system:webhooks"


class SenderSettings(msgspec.Struct, frozen=True, kw_only=True):
    timeout: float = 10.0
    backoff: float = 1.0
    backoff_max: float = 3600.0
    disable_after: int = 20
    allow_private: bool = False
    batch: int = 100
    concurrency: int = 8


def backoff(settings: SenderSettings, failed_before: int) -> float:
    """Seconds until the next attempt after the row's ``failed_before + 1``-th failure."""
    return float(min(settings.backoff * 2 ** min(failed_before, 62), settings.backoff_max))


class WebhookSender:
    def __init__(
        self,
        store: SalesEventStore,
        bus: CommandBus,
        now: Callable[[], datetime],
        settings: SenderSettings,
        *,
        resolve: Resolver = system_resolver,
    ) -> None:
        self.store = store
        self.bus = bus
        self.now = now
        self.settings = settings
        self.resolve = resolve
        self._pool = ThreadPoolExecutor(settings.concurrency, thread_name_prefix="webhook")

    def close(self) -> None:
        self._pool.shutdown(wait=True)

    def __enter__(self) -> WebhookSender:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _enabled(self) -> dict[str, Webhook]:
        """The webhooks that send: registered (a secret kept), not deleted, not disabled."""
        found: dict[str, Webhook] = {}
        for owner in self.store.recorder.secret_owners():
            state = self.store.load(UUID(owner))
            if isinstance(state, Webhook) and not (state.deleted or state.disabled):
                found[owner] = state
        return found

    def deliver_due(self) -> int:
        """Attempt every row that is due and first in its lane; return how many."""
        webhooks = self._enabled()
        lease = self.settings.timeout * 2 + 30
        rows = self.store.recorder.claim_deliveries(
            list(webhooks), self.now().timestamp(), lease, self.settings.batch
        )
        secrets = {w: self.store.secret(UUID(w)) for w in {r.webhook_id for r in rows}}
        attempts = [
            self._pool.submit(self._attempt, row, webhooks[row.webhook_id], secrets[row.webhook_id])
            for row in rows
        ]
        for done in attempts:
            done.result()
        return len(rows)

    def _attempt(self, row: Delivery, webhook: Webhook, secret: str | None) -> None:
        at = self.now().timestamp()
        if secret is None:  # deleted meanwhile: its rows stop
            return
        try:
            target = check(
                webhook.url, allow_private=self.settings.allow_private, resolve=self.resolve
            )
        except Refused as refusal:
            outcome = Outcome(status_code=None, error=refusal.detail, duration_ms=0.0)
        else:
            headers = {
                "Content-Type": "application/json",
                "User-Agent": "crmledger-webhooks",
                "X-Crmledger-Event-Id": row.event_id,
                "X-Crmledger-Signature": signature(secret, int(time.time()), row.body),
            }
            outcome = post(target, row.body, headers, self.settings.timeout)
        attempt = Attempt(
            delivery_id=row.id,
            webhook_id=row.webhook_id,
            at=at,
            status_code=outcome.status_code,
            error=outcome.error,
            duration_ms=outcome.duration_ms,
        )
        retry_at = at + backoff(self.settings, row.attempts)
        failures, _since = self.store.recorder.record_attempt(
            row, attempt, delivered=outcome.delivered, retry_at=retry_at
        )
        log.info(
            "webhook_attempt",
            webhook_id=row.webhook_id,
            event_id=row.event_id,
            status_code=outcome.status_code,
            error=outcome.error,
        )
        if not outcome.delivered and failures >= self.settings.disable_after:
            self._disable(webhook, failures)

    def _disable(self, webhook: Webhook, failures: int) -> None:
        reason = f"{failures} delivery attempts in a row failed"
        try:
            self.bus.execute(
                DisableWebhook(webhook_id=webhook.id, reason=reason, notify_owner=True),
                actor=Actor(by=ACTOR),
            )
        except DomainError:
            return  # disabled or deleted meanwhile (by another sender, or an admin)
        log.warning("webhook_disabled", webhook_id=str(webhook.id), reason=reason)

    def run(
        self,
        stop: threading.Event,
        *,
        poll_interval: float = 0.2,
        healthy: Callable[[], None] = lambda: None,
    ) -> None:
        while not stop.is_set():
            busy = self.deliver_due() > 0
            healthy()
            if not busy:
                stop.wait(poll_interval)
