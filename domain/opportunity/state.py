"""An opportunity's state: a deal with an account, moving through a pipeline's stages."""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar, Literal
from uuid import UUID

import msgspec

from domain.aggregate import AggregateState
from domain.money import Money
from domain.pipeline import ForecastCategory, Pipeline
from domain.quote import QuoteItem

Status = Literal["open", "won", "lost", "unqualified"]
ActivityKind = Literal["call", "meeting", "email", "task", "note"]
AmountSource = Literal["manual", "active_quote"]
ACTIVITY_KINDS: tuple[ActivityKind, ...] = ("call", "meeting", "email", "task", "note")


class BusinessRole(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    contact: str
    role: str


class SalesActivity(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    kind: ActivityKind
    subject: str
    occurred_at: datetime
    notes: str | None = None


class SoldItem(msgspec.Struct, frozen=True, kw_only=True):
    """A quote item as it was sold, with its line total: all a contract needs."""

    item: QuoteItem
    line_total: Money


class Opportunity(AggregateState, frozen=True, kw_only=True):
    kind: ClassVar[str] = "opportunity"
    title: str
    account_id: UUID
    owner: str
    pipeline_id: UUID
    stage: str
    amount: Money
    expected_close: date
    probability_override: int | None = None
    forecast_category_override: ForecastCategory | None = None
    partner_id: UUID | None = None
    status: Status = "open"
    locked: bool = False
    active_quote_id: UUID | None = None
    quote_ids: tuple[UUID, ...] = ()
    roles: tuple[BusinessRole, ...] = ()
    activities: tuple[SalesActivity, ...] = ()
    sold_at: datetime | None = None
    close_reason: str | None = None
    # The open stage it was in when it closed: where reopening puts it back.
    stage_before_close: str | None = None
    lead_id: UUID | None = None
    campaign_id: UUID | None = None
    copied_from: UUID | None = None
    # The contract this opportunity renews (opened by the contracts process manager).
    renews_contract_id: UUID | None = None

    def probability(self, pipeline: Pipeline) -> int:
        # Like the forecast category, a closed deal's probability follows its status,
        # not an override made while it was open (the charts count won at 100).
        if self.status == "won":
            return 100
        if self.status != "open":
            return 0
        if self.probability_override is not None:
            return self.probability_override
        return pipeline.stage(self.stage).probability

    def forecast_category(self, pipeline: Pipeline) -> str:
        if self.status == "won":
            return "closed"
        if self.status != "open":
            return "omitted"
        if self.forecast_category_override is not None:
            return self.forecast_category_override
        return pipeline.stage(self.stage).forecast_category
