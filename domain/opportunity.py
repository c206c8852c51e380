"""Opportunities: a deal with an account, moving through a pipeline's stages.

Rules this module keeps:
- probability defaults to the stage's and may be overridden; moving to another
  stage returns it (and the forecast category) to the new stage's defaults;
- the amount is the active quote's total while there is one (see ``selling``);
- a sold opportunity is locked: nothing about it changes until it is unlocked;
- a lost or unqualified opportunity changes only by being reopened.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar, Literal
from uuid import UUID

import msgspec

from domain.aggregate import AggregateState, evolve
from domain.errors import InvalidInput, Locked, NotFound, RuleViolated
from domain.events import DomainEvent
from domain.money import Money
from domain.pipeline import ForecastCategory, Pipeline, Stage
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


# --- events -----------------------------------------------------------------


class OpportunityCreated(DomainEvent, frozen=True, kw_only=True):
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

    def apply(self, state: None) -> Opportunity:
        return Opportunity(
            id=self.originator_id,
            title=self.title,
            account_id=self.account_id,
            owner=self.owner,
            pipeline_id=self.pipeline_id,
            stage=self.stage,
            amount=self.amount,
            expected_close=self.expected_close,
            probability_override=self.probability,
            forecast_category_override=self.forecast_category,
            partner_id=self.partner_id,
            lead_id=self.lead_id,
            campaign_id=self.campaign_id,
            copied_from=self.copied_from,
            renews_contract_id=self.renews_contract_id,
        )


class OpportunityRenamed(DomainEvent, frozen=True, kw_only=True):
    title: str

    def apply(self, state: Opportunity) -> Opportunity:
        return evolve(state, title=self.title)


class ExpectedCloseChanged(DomainEvent, frozen=True, kw_only=True):
    expected_close: date
    previous: date

    def apply(self, state: Opportunity) -> Opportunity:
        return evolve(state, expected_close=self.expected_close)


class OpportunityAmountChanged(DomainEvent, frozen=True, kw_only=True):
    amount: Money
    previous: Money
    source: AmountSource

    def apply(self, state: Opportunity) -> Opportunity:
        return evolve(state, amount=self.amount)


class OpportunityMovedToStage(DomainEvent, frozen=True, kw_only=True):
    stage: str
    previous_stage: str

    def apply(self, state: Opportunity) -> Opportunity:
        return evolve(
            state, stage=self.stage, probability_override=None, forecast_category_override=None
        )


class OpportunityProbabilitySet(DomainEvent, frozen=True, kw_only=True):
    """``probability`` None returns the opportunity to its stage's default."""

    probability: int | None

    def apply(self, state: Opportunity) -> Opportunity:
        return evolve(state, probability_override=self.probability)


class OpportunityForecastCategorySet(DomainEvent, frozen=True, kw_only=True):
    """``forecast_category`` None returns the opportunity to its stage's default."""

    forecast_category: ForecastCategory | None

    def apply(self, state: Opportunity) -> Opportunity:
        return evolve(state, forecast_category_override=self.forecast_category)


class OpportunityReassigned(DomainEvent, frozen=True, kw_only=True):
    owner: str
    previous_owner: str

    def apply(self, state: Opportunity) -> Opportunity:
        return evolve(state, owner=self.owner)


class PartnerAssigned(DomainEvent, frozen=True, kw_only=True):
    partner_id: UUID | None

    def apply(self, state: Opportunity) -> Opportunity:
        return evolve(state, partner_id=self.partner_id)


class BusinessRoleAdded(DomainEvent, frozen=True, kw_only=True):
    role: BusinessRole

    def apply(self, state: Opportunity) -> Opportunity:
        return evolve(state, roles=(*state.roles, self.role))


class BusinessRoleRemoved(DomainEvent, frozen=True, kw_only=True):
    role_id: UUID

    def apply(self, state: Opportunity) -> Opportunity:
        return evolve(state, roles=tuple(r for r in state.roles if r.id != self.role_id))


class SalesActivityLogged(DomainEvent, frozen=True, kw_only=True):
    activity: SalesActivity

    def apply(self, state: Opportunity) -> Opportunity:
        return evolve(state, activities=(*state.activities, self.activity))


class SalesActivityEdited(DomainEvent, frozen=True, kw_only=True):
    activity: SalesActivity

    def apply(self, state: Opportunity) -> Opportunity:
        return evolve(
            state,
            activities=tuple(
                self.activity if a.id == self.activity.id else a for a in state.activities
            ),
        )


class SalesActivityDeleted(DomainEvent, frozen=True, kw_only=True):
    activity_id: UUID

    def apply(self, state: Opportunity) -> Opportunity:
        return evolve(
            state, activities=tuple(a for a in state.activities if a.id != self.activity_id)
        )


class QuoteAdded(DomainEvent, frozen=True, kw_only=True):
    quote_id: UUID

    def apply(self, state: Opportunity) -> Opportunity:
        return evolve(state, quote_ids=(*state.quote_ids, self.quote_id))


class QuoteRemoved(DomainEvent, frozen=True, kw_only=True):
    quote_id: UUID

    def apply(self, state: Opportunity) -> Opportunity:
        return evolve(state, quote_ids=tuple(q for q in state.quote_ids if q != self.quote_id))


class ActiveQuoteChanged(DomainEvent, frozen=True, kw_only=True):
    quote_id: UUID | None

    def apply(self, state: Opportunity) -> Opportunity:
        return evolve(state, active_quote_id=self.quote_id)


class OpportunitySold(DomainEvent, frozen=True, kw_only=True):
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
            locked=True,
            stage=self.stage,
            sold_at=self.sold_at,
            stage_before_close=self.previous_stage,
        )


class OpportunityUnlocked(DomainEvent, frozen=True, kw_only=True):
    stage: str

    def apply(self, state: Opportunity) -> Opportunity:
        return evolve(
            state,
            status="open",
            locked=False,
            stage=self.stage,
            sold_at=None,
            stage_before_close=None,
        )


class OpportunityLost(DomainEvent, frozen=True, kw_only=True):
    reason: str
    stage: str
    previous_stage: str

    def apply(self, state: Opportunity) -> Opportunity:
        return evolve(
            state,
            status="lost",
            stage=self.stage,
            close_reason=self.reason,
            stage_before_close=self.previous_stage,
        )


class OpportunityMarkedUnqualified(DomainEvent, frozen=True, kw_only=True):
    reason: str
    stage: str
    previous_stage: str

    def apply(self, state: Opportunity) -> Opportunity:
        return evolve(
            state,
            status="unqualified",
            stage=self.stage,
            close_reason=self.reason,
            stage_before_close=self.previous_stage,
        )


class OpportunityReopened(DomainEvent, frozen=True, kw_only=True):
    stage: str

    def apply(self, state: Opportunity) -> Opportunity:
        return evolve(
            state, status="open", stage=self.stage, close_reason=None, stage_before_close=None
        )


class OpportunityDeleted(DomainEvent, frozen=True, kw_only=True):
    def apply(self, state: Opportunity) -> Opportunity:
        return evolve(state, deleted=True)


# --- behaviour ------------------------------------------------------------------


def ensure_exists(opportunity: Opportunity) -> None:
    if opportunity.deleted:
        raise NotFound(f"opportunity {opportunity.id} was deleted.")


def ensure_changeable(opportunity: Opportunity) -> None:
    """Locked means unchanged; closed means reopen first."""
    ensure_exists(opportunity)
    if opportunity.locked:
        raise Locked(
            f"opportunity {opportunity.title!r} is sold and locked; unlock it to change it."
        )
    if opportunity.status != "open":
        raise RuleViolated(
            f"opportunity {opportunity.title!r} is {opportunity.status}; reopen it to change it."
        )


def _check_title(title: str) -> str:
    title = title.strip()
    if not title:
        raise InvalidInput("an opportunity needs a title.")
    if len(title) > 200:
        raise InvalidInput("an opportunity title has at most 200 characters.")
    return title


def _check_owner(owner: str) -> str:
    owner = owner.strip()
    if not owner:
        raise InvalidInput("an opportunity needs an owner.")
    return owner


def _check_probability(probability: int | None) -> None:
    if probability is not None and not 0 <= probability <= 100:
        raise InvalidInput(f"a probability is a whole percentage from 0 to 100, not {probability}.")


def _open_stage(pipeline: Pipeline, key: str) -> Stage:
    stage = pipeline.stage(key)
    if not stage.is_open:
        raise RuleViolated(
            f"stage {key!r} closes an opportunity; use sell, lose or mark unqualified instead."
        )
    return stage


def create(
    *,
    title: str,
    account_id: UUID,
    owner: str,
    pipeline: Pipeline,
    expected_close: date,
    amount: Money,
    stage: str | None = None,
    probability: int | None = None,
    forecast_category: ForecastCategory | None = None,
    partner_id: UUID | None = None,
    lead_id: UUID | None = None,
    campaign_id: UUID | None = None,
    copied_from: UUID | None = None,
    renews_contract_id: UUID | None = None,
) -> list[DomainEvent]:
    _check_probability(probability)
    if amount.amount < 0:
        raise InvalidInput("an opportunity amount cannot be negative.")
    first = _open_stage(pipeline, stage) if stage else pipeline.open_stages[0]
    return [
        OpportunityCreated(
            title=_check_title(title),
            account_id=account_id,
            owner=_check_owner(owner),
            pipeline_id=pipeline.id,
            stage=first.key,
            amount=amount.rounded(),
            expected_close=expected_close,
            probability=probability,
            forecast_category=forecast_category,
            partner_id=partner_id,
            lead_id=lead_id,
            campaign_id=campaign_id,
            copied_from=copied_from,
            renews_contract_id=renews_contract_id,
        )
    ]


def edit(
    opportunity: Opportunity,
    *,
    title: str | None = None,
    expected_close: date | None = None,
    owner: str | None = None,
) -> list[DomainEvent]:
    ensure_changeable(opportunity)
    events: list[DomainEvent] = []
    if title is not None and _check_title(title) != opportunity.title:
        events.append(OpportunityRenamed(title=_check_title(title)))
    if expected_close is not None and expected_close != opportunity.expected_close:
        events.append(
            ExpectedCloseChanged(expected_close=expected_close, previous=opportunity.expected_close)
        )
    if owner is not None and _check_owner(owner) != opportunity.owner:
        events.append(
            OpportunityReassigned(owner=_check_owner(owner), previous_owner=opportunity.owner)
        )
    return events


def change_amount(opportunity: Opportunity, amount: Money) -> list[DomainEvent]:
    ensure_changeable(opportunity)
    if opportunity.active_quote_id is not None:
        raise RuleViolated(
            "the amount is the active quote's total; change the quote or deactivate it."
        )
    if amount.amount < 0:
        raise InvalidInput("an opportunity amount cannot be negative.")
    amount = amount.rounded()
    if amount == opportunity.amount:
        return []
    return [OpportunityAmountChanged(amount=amount, previous=opportunity.amount, source="manual")]


def move_to_stage(opportunity: Opportunity, pipeline: Pipeline, stage: str) -> list[DomainEvent]:
    ensure_changeable(opportunity)
    _open_stage(pipeline, stage)
    if stage == opportunity.stage:
        raise RuleViolated(f"the opportunity is already in stage {stage!r}.")
    return [OpportunityMovedToStage(stage=stage, previous_stage=opportunity.stage)]


def set_probability(opportunity: Opportunity, probability: int | None) -> list[DomainEvent]:
    ensure_changeable(opportunity)
    _check_probability(probability)
    if probability == opportunity.probability_override:
        return []
    return [OpportunityProbabilitySet(probability=probability)]


def set_forecast_category(
    opportunity: Opportunity, category: ForecastCategory | None
) -> list[DomainEvent]:
    ensure_changeable(opportunity)
    if category == opportunity.forecast_category_override:
        return []
    return [OpportunityForecastCategorySet(forecast_category=category)]


def assign_partner(opportunity: Opportunity, partner_id: UUID | None) -> list[DomainEvent]:
    ensure_changeable(opportunity)
    if partner_id == opportunity.partner_id:
        if partner_id is None:
            raise RuleViolated("the opportunity has no partner to remove.")
        raise RuleViolated("the opportunity already has that partner.")
    return [PartnerAssigned(partner_id=partner_id)]


def add_business_role(
    opportunity: Opportunity, role_id: UUID, contact: str, role: str
) -> list[DomainEvent]:
    ensure_changeable(opportunity)
    contact, role = contact.strip(), role.strip()
    if not contact or not role:
        raise InvalidInput("a business role needs a contact and a role.")
    if any(r.contact == contact and r.role == role for r in opportunity.roles):
        raise RuleViolated(f"{contact} already has the role {role!r} on this opportunity.")
    return [BusinessRoleAdded(role=BusinessRole(id=role_id, contact=contact, role=role))]


def remove_business_role(opportunity: Opportunity, role_id: UUID) -> list[DomainEvent]:
    ensure_changeable(opportunity)
    if not any(r.id == role_id for r in opportunity.roles):
        raise NotFound(f"the opportunity has no business role {role_id}.")
    return [BusinessRoleRemoved(role_id=role_id)]


def _check_activity(activity: SalesActivity) -> SalesActivity:
    subject = activity.subject.strip()
    if not subject:
        raise InvalidInput("a sales activity needs a subject.")
    return msgspec.structs.replace(activity, subject=subject)


def log_activity(opportunity: Opportunity, activity: SalesActivity) -> list[DomainEvent]:
    ensure_changeable(opportunity)
    return [SalesActivityLogged(activity=_check_activity(activity))]


def _activity(opportunity: Opportunity, activity_id: UUID) -> SalesActivity:
    for activity in opportunity.activities:
        if activity.id == activity_id:
            return activity
    raise NotFound(f"the opportunity has no sales activity {activity_id}.")


def edit_activity(
    opportunity: Opportunity,
    activity_id: UUID,
    *,
    kind: ActivityKind | None = None,
    subject: str | None = None,
    occurred_at: datetime | None = None,
    notes: str | None = None,
) -> list[DomainEvent]:
    ensure_changeable(opportunity)
    current = _activity(opportunity, activity_id)
    edited = _check_activity(
        msgspec.structs.replace(
            current,
            kind=kind or current.kind,
            subject=current.subject if subject is None else subject,
            occurred_at=occurred_at or current.occurred_at,
            notes=current.notes if notes is None else notes,
        )
    )
    if edited == current:
        return []
    return [SalesActivityEdited(activity=edited)]


def delete_activity(opportunity: Opportunity, activity_id: UUID) -> list[DomainEvent]:
    ensure_changeable(opportunity)
    _activity(opportunity, activity_id)
    return [SalesActivityDeleted(activity_id=activity_id)]


def lose(opportunity: Opportunity, pipeline: Pipeline, reason: str) -> list[DomainEvent]:
    ensure_changeable(opportunity)
    if not reason.strip():
        raise InvalidInput("say why the opportunity was lost.")
    return [
        OpportunityLost(
            reason=reason.strip(),
            stage=pipeline.closed_stage("lost").key,
            previous_stage=opportunity.stage,
        )
    ]


def mark_unqualified(
    opportunity: Opportunity, pipeline: Pipeline, reason: str
) -> list[DomainEvent]:
    ensure_changeable(opportunity)
    if not reason.strip():
        raise InvalidInput("say why the opportunity is unqualified.")
    return [
        OpportunityMarkedUnqualified(
            reason=reason.strip(),
            stage=pipeline.closed_stage("unqualified").key,
            previous_stage=opportunity.stage,
        )
    ]


def reopen(opportunity: Opportunity, pipeline: Pipeline) -> list[DomainEvent]:
    ensure_exists(opportunity)
    if opportunity.status == "won":
        raise RuleViolated("a sold opportunity is reopened by unlocking it.")
    if opportunity.status == "open":
        raise RuleViolated(f"opportunity {opportunity.title!r} is already open.")
    return [OpportunityReopened(stage=reopening_stage(opportunity, pipeline))]


def reopening_stage(opportunity: Opportunity, pipeline: Pipeline) -> str:
    previous = opportunity.stage_before_close
    if previous is not None and any(s.key == previous and s.is_open for s in pipeline.stages):
        return previous
    return pipeline.open_stages[-1].key
