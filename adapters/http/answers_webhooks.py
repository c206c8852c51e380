"""What the webhook routes answer (admins): the webhooks, and each one's deliveries."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from adapters.http.answers import Answer, AsOf, Id, Instant
from adapters.http.answers_lists import NEXT_CURSOR


class WebhookListed(Answer):
    id: Id
    url: str
    events: list[str] = Field(description='The event types it is sent, or ["*"]')
    owner: str = Field(description="The admin who registered it (told when it is disabled)")
    status: Literal["enabled", "disabled"]
    disabled_reason: str | None = Field(description="Why it was disabled; null when enabled")
    failures: int = Field(description="Delivery attempts failed in a row (0 after a success)")
    version: int


class Webhooks(Answer):
    items: list[WebhookListed]


class DeliveryListed(Answer):
    event_id: Id = Field(description="The event's id (`X-Crmledger-Event-Id`)")
    event_type: str
    aggregate_id: Id
    position: int = Field(description="The event's log position")
    status: Literal["pending", "delivered"]
    attempts: int
    last_status_code: int | None = Field(description="The last attempt's HTTP status, if any")
    last_error: str | None = Field(description="What went wrong with the last attempt")
    next_attempt_at: Instant | None = Field(description="When it is tried next (pending only)")
    delivered_at: Instant | None


class Deliveries(Answer):
    items: list[DeliveryListed] = Field(description="Newest first")
    next_cursor: str | None = Field(description=NEXT_CURSOR)
    as_of: AsOf
