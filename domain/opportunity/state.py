"""An opportunity's state: a deal with an account, moving through a pipeline's stages."""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar, Literal
from uuid import UUID

import msgspec

from domain.aggregate import AggregateState
from domain.forecasting import effective_forecast
from domain.money import Money
from domain.pipeline import ForecastCategory, Pipeline, StageCategory
from domain.quote import QuoteItem

__all__ = [
    "ACTIVITY_KINDS",
    "ActivityKind",
    "AmountSource",
    "BusinessRole",
    "Opportunity",
    "SalesActivity",
    "SoldItem",
    "Status",
]

Status = Literal["open", "won", "lost", "unqualified"]
ActivityKind = Literal["call", "meeting", "email", "task", "note"]
AmountSource = Literal["manual", "active_quote"]
ACTIVITY_KINDS: tuple[ActivityKind, ...] = ("call", "meeting", "email", "task", "note")


class BusinessRole(msgspec.Struct, frozen=True, kw_only=True):
    """A person's part in a deal: a contact record (``contact_id``) or, as roles were
    first written, a name given as text (``contact``); one of the two."""

    id: UUID
    role: str
    contact_id: UUID | None = None
    contact: str | None = None


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
    # Seen only by its owner, those it is shared with, and the reading roles (domain.sharing).
    private: bool = False
    shared_with: tuple[str, ...] = ()

    @property
    def locked(self) -> bool:
        """Sold: nothing about it changes until it is unlocked."""
        return self.status == "won"

    def forecast(self, pipeline: Pipeline) -> tuple[StageCategory, int]:
        """Its forecast category and probability now (``domain.forecasting``)."""
        stage = next((s for s in pipeline.stages if s.key == self.stage), None)
        if stage is None:
            # Its stage was removed as it entered it (docs/domain.md, "Pipeline"): as the
            # charts count it, nowhere, until it moves.
            return "omitted", 0
        return effective_forecast(
            self.status,
            stage.probability,
            stage.forecast_category,
            self.probability_override,
            self.forecast_category_override,
        )

    def probability(self, pipeline: Pipeline) -> int:
        return self.forecast(pipeline)[1]

    def forecast_category(self, pipeline: Pipeline) -> StageCategory:
        return self.forecast(pipeline)[0]
