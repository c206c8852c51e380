"""The lists' answers: one envelope for every list (``{items, next_cursor, as_of}``,
``adapters.http.paging``), with the items of opportunities, quotes and contacts, and the
board of a pipeline (its open deals per stage, each stage paged on its own)."""

from __future__ import annotations

from pydantic import Field

from adapters.http.answers import (
    AccountListed,
    Answer,
    AsOf,
    Currency,
    Day,
    Id,
    Instant,
    Money,
)
from adapters.http.answers_leads import ContactListed
from domain.opportunity.state import Status
from domain.pipeline import StageCategory

NEXT_CURSOR = "Pass it as `cursor` for the next page; null: this is the last one"


class OpportunityListed(Answer):
    id: Id
    title: str
    owner: str
    account_id: Id
    partner_id: Id | None
    pipeline_id: Id
    stage: str = Field(description="The stage's key")
    status: Status
    amount: Money
    expected_close: Day
    probability: int | None = Field(description="Set on the deal; null: its stage's")
    forecast_category: StageCategory | None = Field(
        description="Set on the deal; null: its stage's"
    )
    private: bool
    shared_with: list[str]
    created_at: Instant
    updated_at: Instant


class Opportunities(Answer):
    items: list[OpportunityListed]
    next_cursor: str | None = Field(description=NEXT_CURSOR)
    as_of: AsOf


class QuoteListed(Answer):
    id: Id
    opportunity_id: Id
    name: str
    currency: Currency
    active: bool
    locked: bool
    items: int = Field(description="How many items it has")
    total: Money
    created_at: Instant
    updated_at: Instant


class Quotes(Answer):
    items: list[QuoteListed]
    next_cursor: str | None = Field(description=NEXT_CURSOR)
    as_of: AsOf


class Contacts(Answer):
    items: list[ContactListed]
    next_cursor: str | None = Field(description=NEXT_CURSOR)
    as_of: AsOf


class BoardColumn(Answer):
    stage: str = Field(description="The stage's key")
    name: str
    probability: int
    items: list[OpportunityListed] = Field(description="Its open deals, soonest close first")
    next_cursor: str | None = Field(
        description="Pass it as `cursor` (with this `stage`) for the column's next page; "
        "null: the column is complete"
    )


class Board(Answer):
    pipeline_id: Id
    columns: list[BoardColumn] = Field(description="The pipeline's open stages in order")
    as_of: AsOf


class Accounts(Answer):
    items: list[AccountListed]
    next_cursor: str | None = Field(description=NEXT_CURSOR)
    as_of: AsOf
