"""The webhooks' two loops under supervisors: the outbox (follows the log) and the sender
(``crmledger worker --role webhooks``, ``all``, and ``serve`` on the embedded store)."""

from __future__ import annotations

from typing import Any

from adapters.bootstrap import Services
from adapters.supervision import Supervisor
from adapters.webhooks.outbox import WebhookOutbox
from adapters.webhooks.sender import SenderSettings, WebhookSender


def sender_settings(services: Services) -> SenderSettings:
    s = services.settings
    return SenderSettings(
        timeout=s.webhook_timeout_seconds,
        backoff=s.webhook_backoff_seconds,
        backoff_max=s.webhook_backoff_max_seconds,
        disable_after=s.webhook_disable_after_failures,
        allow_private=s.webhook_allow_private == "yes",
    )


def webhook_outbox(services: Services) -> WebhookOutbox:
    return WebhookOutbox(services.store, services.clock.now)


def webhook_sender(services: Services) -> WebhookSender:
    return WebhookSender(
        services.store, services.bus, services.clock.now, sender_settings(services)
    )


def webhook_supervisors(services: Services) -> list[Supervisor[Any]]:
    poll = services.settings.projector_poll_seconds
    cap = services.settings.retry_max_seconds
    return [
        Supervisor(
            "webhooks-outbox",
            lambda: webhook_outbox(services),
            lambda loop, stop, pulse: loop.run(stop, poll_interval=poll, healthy=pulse),
            health=services.health,
            max_backoff=cap,
        ),
        Supervisor(
            "webhooks-sender",
            lambda: webhook_sender(services),
            lambda loop, stop, pulse: loop.run(stop, poll_interval=poll, healthy=pulse),
            health=services.health,
            close=lambda sender: sender.close(),
            max_backoff=cap,
        ),
    ]
