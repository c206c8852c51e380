"""What happens to an opportunity: its events, each knowing how it changes the state."""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar, Literal
from uuid import UUID

from domain.aggregate import Event, created, evolve
from domain.money import Money
from domain.opportunity.state import (
    AmountSource,
    BusinessRole,
    Opportunity,
    SalesActivity,
    SoldItem,
)
from domain.pipeline import ForecastCategory

__all__ = [
    "ActiveQuoteChanged",
    "BusinessRoleAdded",
    "BusinessRoleRemoved",
    "ExpectedCloseChanged",
    "OpportunityAccountChanged",
    "OpportunityAmountChanged",
    "OpportunityCreated",
    "OpportunityDeleted",
    "OpportunityEvent",
    "OpportunityForecastCategorySet",
    "OpportunityLost",
    "OpportunityMarkedUnqualified",
    "OpportunityMovedFromRemovedStage",
    "OpportunityMovedToPipeline",
    "OpportunityMovedToStage",
    "OpportunityProbabilitySet",
    "OpportunityReassigned",
    "OpportunityRenamed",
    "OpportunityReopened",
    "OpportunitySharingChanged",
    "OpportunitySold",
    "OpportunityUnlocked",
    "PartnerAssigned",
    "QuoteAdded",
    "QuoteRemoved",
    "SalesActivityDeleted",
    "SalesActivityEdited",
    "SalesActivityLogged",
]


class OpportunityCreated(Event[Opportunity], frozen=True, kw_only=True):
    title: str
    account_id: UUID
    owner: str
    pipeline_id: UUID
    stage: str
    amount: Money
    expected_close: date
    probability: int | None = None
    forecast_category: ForecastCategory | None = None
    partner_id: UUID | None = None
    lead_id: UUID | None = None
    campaign_id: UUID | None = None
    copied_from: UUID | None = None
    renews_contract_id: UUID | None = None

    def apply(self, state: Opportunity | None) -> Opportunity:
        return created(
            Opportunity,
            self,
            probability_override=self.probability,
            forecast_category_override=self.forecast_category,
        )


class OpportunityRenamed(Event[Opportunity], frozen=True, kw_only=True):
    title: str

    def apply(self, state: Opportunity) -> Opportunity:
        return evolve(state, title=self.title)


class ExpectedCloseChanged(Event[Opportunity], frozen=True, kw_only=True):
    expected_close: date
    previous: date

    def apply(self, state: Opportunity) -> Opportunity:
        return evolve(state, expected_close=self.expected_close)


class OpportunityAmountChanged(Event[Opportunity], frozen=True, kw_only=True):
    amount: Money
    previous: Money
    source: AmountSource

    def apply(self, state: Opportunity) -> Opportunity:
        return evolve(state, amount=self.amount)


class OpportunityMovedToStage(Event[Opportunity], frozen=True, kw_only=True):
    stage: str
    previous_stage: str

    def apply(self, state: Opportunity) -> Opportunity:
        return evolve(
            state, stage=self.stage, probability_override=None, forecast_category_override=None
        )


class OpportunityMovedFromRemovedStage(OpportunityMovedToStage, frozen=True, kw_only=True):
    """Moved to ``stage`` because its stage (``previous_stage``) was removed from the
    pipeline (``StageRemoved``, in the same save): a move like any other, saying why."""


class OpportunityMovedToPipeline(Event[Opportunity], frozen=True, kw_only=True):
    """Into open stage ``stage`` of another pipeline; like a stage move, the new stage's
    defaults apply (overrides cleared)."""

    pipeline_id: UUID
    stage: str
    previous_pipeline_id: UUID
    previous_stage: str

    def apply(self, state: Opportunity) -> Opportunity:
        return evolve(
            state,
            pipeline_id=self.pipeline_id,
            stage=self.stage,
            probability_override=None,
            forecast_category_override=None,
        )


class OpportunityAccountChanged(Event[Opportunity], frozen=True, kw_only=True):
    account_id: UUID
    previous_account_id: UUID

    def apply(self, state: Opportunity) -> Opportunity:
        return evolve(state, account_id=self.account_id)


class OpportunityProbabilitySet(Event[Opportunity], frozen=True, kw_only=True):
    """``probability`` None returns the opportunity to its stage's default."""

    probability: int | None

    def apply(self, state: Opportunity) -> Opportunity:
        return evolve(state, probability_override=self.probability)


class OpportunityForecastCategorySet(Event[Opportunity], frozen=True, kw_only=True):
    """``forecast_category`` None returns the opportunity to its stage's default."""

    forecast_category: ForecastCategory | None

    def apply(self, state: Opportunity) -> Opportunity:
        return evolve(state, forecast_category_override=self.forecast_category)


class OpportunityReassigned(Event[Opportunity], frozen=True, kw_only=True):
    owner: str
    previous_owner: str

    def apply(self, state: Opportunity) -> Opportunity:
        return evolve(state, owner=self.owner)


class PartnerAssigned(Event[Opportunity], frozen=True, kw_only=True):
    partner_id: UUID | None

    def apply(self, state: Opportunity) -> Opportunity:
        return evolve(state, partner_id=self.partner_id)


class BusinessRoleAdded(Event[Opportunity], frozen=True, kw_only=True):
    role: BusinessRole

    def apply(self, state: Opportunity) -> Opportunity:
        return evolve(state, roles=(*state.roles, self.role))


class BusinessRoleRemoved(Event[Opportunity], frozen=True, kw_only=True):
    role_id: UUID

    def apply(self, state: Opportunity) -> Opportunity:
        return evolve(state, roles=tuple(r for r in state.roles if r.id != self.role_id))


class SalesActivityLogged(Event[Opportunity], frozen=True, kw_only=True):
    activity: SalesActivity

    def apply(self, state: Opportunity) -> Opportunity:
        return evolve(state, activities=(*state.activities, self.activity))


class SalesActivityEdited(Event[Opportunity], frozen=True, kw_only=True):
    activity: SalesActivity

    def apply(self, state: Opportunity) -> Opportunity:
        return evolve(
            state,
            activities=tuple(
                self.activity if a.id == self.activity.id else a for a in state.activities
            ),
        )


class SalesActivityDeleted(Event[Opportunity], frozen=True, kw_only=True):
    activity_id: UUID

    def apply(self, state: Opportunity) -> Opportunity:
        return evolve(
            state, activities=tuple(a for a in state.activities if a.id != self.activity_id)
        )


class QuoteAdded(Event[Opportunity], frozen=True, kw_only=True):
    quote_id: UUID

    def apply(self, state: Opportunity) -> Opportunity:
        return evolve(state, quote_ids=(*state.quote_ids, self.quote_id))


class QuoteRemoved(Event[Opportunity], frozen=True, kw_only=True):
    quote_id: UUID

    def apply(self, state: Opportunity) -> Opportunity:
        return evolve(state, quote_ids=tuple(q for q in state.quote_ids if q != self.quote_id))


class ActiveQuoteChanged(Event[Opportunity], frozen=True, kw_only=True):
    quote_id: UUID | None

    def apply(self, state: Opportunity) -> Opportunity:
        return evolve(state, active_quote_id=self.quote_id)


class OpportunitySold(Event[Opportunity], frozen=True, kw_only=True):
    sold_at: datetime
    quote_id: UUID
    stage: str
    previous_stage: str
    amount: Money
    items: tuple[SoldItem, ...]

    def apply(self, state: Opportunity) -> Opportunity:
        return evolve(
            state,
            status="won",
            stage=self.stage,
            sold_at=self.sold_at,
            stage_before_close=self.previous_stage,
        )


class OpportunityUnlocked(Event[Opportunity], frozen=True, kw_only=True):
    stage: str

    def apply(self, state: Opportunity) -> Opportunity:
        return evolve(
            state,
            status="open",
            stage=self.stage,
            sold_at=None,
            stage_before_close=None,
        )


class _Closed(Event[Opportunity], frozen=True, kw_only=True):
    """Closed for a reason (not sold): in the closed ``stage``, remembering the one before."""

    abstract: ClassVar[bool] = True
    closed_as: ClassVar[Literal["lost", "unqualified"]]

    reason: str
    stage: str
    previous_stage: str

    def apply(self, state: Opportunity) -> Opportunity:
        return evolve(
            state,
            status=self.closed_as,
            stage=self.stage,
            close_reason=self.reason,
            stage_before_close=self.previous_stage,
        )


class OpportunityLost(_Closed, frozen=True, kw_only=True):
    closed_as = "lost"


class OpportunityMarkedUnqualified(_Closed, frozen=True, kw_only=True):
    closed_as = "unqualified"


class OpportunityReopened(Event[Opportunity], frozen=True, kw_only=True):
    stage: str

    def apply(self, state: Opportunity) -> Opportunity:
        return evolve(
            state, status="open", stage=self.stage, close_reason=None, stage_before_close=None
        )


class OpportunityDeleted(Event[Opportunity], frozen=True, kw_only=True):
    def apply(self, state: Opportunity) -> Opportunity:
        return evolve(state, deleted=True)


class OpportunitySharingChanged(Event[Opportunity], frozen=True, kw_only=True):
    """Made private or public, or shared with other users (``domain.sharing``)."""

    private: bool
    shared_with: tuple[str, ...]

    def apply(self, state: Opportunity) -> Opportunity:
        return evolve(state, private=self.private, shared_with=self.shared_with)


OpportunityEvent = (
    OpportunityCreated
    | OpportunityRenamed
    | ExpectedCloseChanged
    | OpportunityAmountChanged
    | OpportunityMovedToStage
    | OpportunityMovedFromRemovedStage
    | OpportunityMovedToPipeline
    | OpportunityAccountChanged
    | OpportunityProbabilitySet
    | OpportunityForecastCategorySet
    | OpportunityReassigned
    | PartnerAssigned
    | BusinessRoleAdded
    | BusinessRoleRemoved
    | SalesActivityLogged
    | SalesActivityEdited
    | SalesActivityDeleted
    | QuoteAdded
    | QuoteRemoved
    | ActiveQuoteChanged
    | OpportunitySold
    | OpportunityUnlocked
    | OpportunityLost
    | OpportunityMarkedUnqualified
    | OpportunityReopened
    | OpportunityDeleted
    | OpportunitySharingChanged
)
