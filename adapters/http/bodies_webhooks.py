"""Request bodies of the webhook routes (an admin's setting)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from pydantic import Field

from adapters.http.bodies import Body, example
from adapters.http.fields import Website
from adapters.http.shapes import Text
from commands.webhooks import RegisterWebhook
from domain.webhook import MAX_EVENT_NAMES

EventName = Annotated[
    str,
    Text(100, r"^(\*|[A-Za-z][A-Za-z0-9]*)$", 'must be an event type name, or "*"'),
]


class WebhookBody(Body):
    model_config = example(
        {"url": "https://93.184.216.34/crmledger", "events": ["OpportunitySold"]}
    )
    url: Website = Field(
        description="Where to POST the events: an http or https URL of a public address"
    )
    events: list[EventName] = Field(
        min_length=1,
        max_length=MAX_EVENT_NAMES,
        description='The event types to send (their names, e.g. "OpportunitySold"), or '
        '["*"] for every type',
    )

    def to_command(self, webhook_id: UUID, secret: str) -> RegisterWebhook:
        return RegisterWebhook(
            webhook_id=webhook_id, url=self.url, events=list(self.events), secret=secret
        )
