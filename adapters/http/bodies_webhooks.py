"""Request bodies of the webhook routes (an admin's setting)."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from annotated_types import Len
from pydantic import Discriminator, Field, Tag

from adapters.http.bodies import Body, example
from adapters.http.fields import Website
from adapters.http.shapes import Named
from commands.webhooks import RegisterWebhook, event_type_names
from domain.webhook import MAX_EVENT_NAMES

# The name of an event type the log stores: one schema, ``EventType``, an enum of them all
# (a name the document does not list is refused by it too).
EventType = Annotated[
    str,
    Named(
        "EventType",
        sorted(event_type_names()),
        "must be the name of an event type, such as OpportunitySold",
        "The name of an event type.",
    ),
]


def _events_kind(value: Any) -> str:
    return "all" if isinstance(value, list) and "*" in value else "named"


# Every type (``["*"]``, alone) or the names of some: one schema per form.
EventTypes = Annotated[
    Annotated[Annotated[list[Literal["*"]], Len(1, 1)], Tag("all")]
    | Annotated[Annotated[list[EventType], Len(1, MAX_EVENT_NAMES)], Tag("named")],
    Discriminator(_events_kind),
]


class WebhookBody(Body):
    model_config = example(
        {"url": "https://93.184.216.34/crmledger", "events": ["OpportunitySold"]}
    )
    url: Website = Field(
        description="Where to POST the events: an http or https URL of a public address"
    )
    events: EventTypes = Field(
        description='The event types to send (their names, e.g. "OpportunitySold"), or '
        '["*"] for every type',
    )

    def to_command(self, webhook_id: UUID, secret: str) -> RegisterWebhook:
        return RegisterWebhook(
            webhook_id=webhook_id, url=self.url, events=list(self.events), secret=secret
        )
