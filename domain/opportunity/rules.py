"""What may be done to an opportunity: each function checks the rules and decides the events.

Rules this module keeps:
- probability defaults to the stage's and may be overridden; moving to another
  stage returns it (and the forecast category) to the new stage's defaults;
- the amount is the active quote's total while there is one (see ``selling``);
- a sold opportunity is locked: nothing about it changes until it is unlocked;
- a lost or unqualified opportunity changes only by being reopened.
"""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

import msgspec

from domain import limits
from domain.errors import InvalidInput, Locked, NotFound, RuleViolated
from domain.money import Money
from domain.opportunity.events import (
    BusinessRoleAdded,
    BusinessRoleRemoved,
    ExpectedCloseChanged,
    OpportunityAccountChanged,
    OpportunityAmountChanged,
    OpportunityCreated,
    OpportunityEvent,
    OpportunityForecastCategorySet,
    OpportunityLost,
    OpportunityMarkedUnqualified,
    OpportunityMovedFromRemovedStage,
    OpportunityMovedToPipeline,
    OpportunityMovedToStage,
    OpportunityProbabilitySet,
    OpportunityReassigned,
    OpportunityRenamed,
    OpportunityReopened,
    PartnerAssigned,
    SalesActivityDeleted,
    SalesActivityEdited,
    SalesActivityLogged,
)
from domain.opportunity.state import ActivityKind, BusinessRole, Opportunity, SalesActivity
from domain.pipeline import ForecastCategory, Pipeline, Stage

__all__ = [
    "add_business_role",
    "assign_partner",
    "change_account",
    "change_amount",
    "create",
    "delete_activity",
    "edit",
    "edit_activity",
    "ensure_changeable",
    "ensure_exists",
    "log_activity",
    "lose",
    "mark_unqualified",
    "move_off_removed_stage",
    "move_to_pipeline",
    "move_to_stage",
    "remove_business_role",
    "reopen",
    "reopening_stage",
    "set_forecast_category",
    "set_probability",
]


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
    if len(title) > limits.NAME:
        raise InvalidInput(f"an opportunity title has at most {limits.NAME} characters.")
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
) -> list[OpportunityEvent]:
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
) -> list[OpportunityEvent]:
    ensure_changeable(opportunity)
    events: list[OpportunityEvent] = []
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


def change_amount(opportunity: Opportunity, amount: Money) -> list[OpportunityEvent]:
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


def move_to_stage(
    opportunity: Opportunity, pipeline: Pipeline, stage: str
) -> list[OpportunityEvent]:
    ensure_changeable(opportunity)
    _open_stage(pipeline, stage)
    if stage == opportunity.stage:
        raise RuleViolated(f"the opportunity is already in stage {stage!r}.")
    return [OpportunityMovedToStage(stage=stage, previous_stage=opportunity.stage)]


def move_to_pipeline(
    opportunity: Opportunity, pipeline: Pipeline, stage: str | None = None
) -> list[OpportunityEvent]:
    """Into open stage ``stage`` of another pipeline (default: its first open stage)."""
    ensure_changeable(opportunity)
    if pipeline.id == opportunity.pipeline_id:
        raise RuleViolated(
            f"the opportunity is already in pipeline {pipeline.name!r}; move it to a stage."
        )
    target = _open_stage(pipeline, stage) if stage else pipeline.open_stages[0]
    return [
        OpportunityMovedToPipeline(
            pipeline_id=pipeline.id,
            stage=target.key,
            previous_pipeline_id=opportunity.pipeline_id,
            previous_stage=opportunity.stage,
        )
    ]


def move_off_removed_stage(
    opportunity: Opportunity, removed: str, move_to: str
) -> list[OpportunityEvent]:
    """An open deal in stage ``removed``, which its pipeline is removing, moves to
    ``move_to``; any other deal is left as it is (it left the stage meanwhile)."""
    if opportunity.deleted or opportunity.status != "open" or opportunity.stage != removed:
        return []
    return [OpportunityMovedFromRemovedStage(stage=move_to, previous_stage=removed)]


def change_account(opportunity: Opportunity, account_id: UUID) -> list[OpportunityEvent]:
    """The deal is now with account ``account_id`` (checked to exist by the caller)."""
    ensure_changeable(opportunity)
    if account_id == opportunity.account_id:
        return []
    return [
        OpportunityAccountChanged(account_id=account_id, previous_account_id=opportunity.account_id)
    ]


def set_probability(opportunity: Opportunity, probability: int | None) -> list[OpportunityEvent]:
    ensure_changeable(opportunity)
    _check_probability(probability)
    if probability == opportunity.probability_override:
        return []
    return [OpportunityProbabilitySet(probability=probability)]


def set_forecast_category(
    opportunity: Opportunity, category: ForecastCategory | None
) -> list[OpportunityEvent]:
    ensure_changeable(opportunity)
    if category == opportunity.forecast_category_override:
        return []
    return [OpportunityForecastCategorySet(forecast_category=category)]


def assign_partner(opportunity: Opportunity, partner_id: UUID | None) -> list[OpportunityEvent]:
    ensure_changeable(opportunity)
    if partner_id == opportunity.partner_id:
        if partner_id is None:
            raise RuleViolated("the opportunity has no partner to remove.")
        raise RuleViolated("the opportunity already has that partner.")
    return [PartnerAssigned(partner_id=partner_id)]


def add_business_role(
    opportunity: Opportunity,
    role_id: UUID,
    *,
    role: str,
    contact: str | None = None,
    contact_id: UUID | None = None,
) -> list[OpportunityEvent]:
    """A contact's role on the deal; the contact is a contact record (``contact_id``,
    checked to exist by the caller) or a name as text, not both."""
    ensure_changeable(opportunity)
    role = role.strip()
    name = None if contact is None else contact.strip()
    if (contact_id is None) == (name is None) or not role or name == "":
        raise InvalidInput("a business role needs a role and one contact: a contact_id or a name.")
    held = {(r.contact_id, r.contact, r.role) for r in opportunity.roles}
    if (contact_id, name, role) in held:
        who = name if contact_id is None else f"contact {contact_id}"
        raise RuleViolated(f"{who} already has the role {role!r} on this opportunity.")
    added = BusinessRole(id=role_id, role=role, contact_id=contact_id, contact=name)
    return [BusinessRoleAdded(role=added)]


def remove_business_role(opportunity: Opportunity, role_id: UUID) -> list[OpportunityEvent]:
    ensure_changeable(opportunity)
    if not any(r.id == role_id for r in opportunity.roles):
        raise NotFound(f"the opportunity has no business role {role_id}.")
    return [BusinessRoleRemoved(role_id=role_id)]


def _check_activity(activity: SalesActivity) -> SalesActivity:
    subject = activity.subject.strip()
    if not subject:
        raise InvalidInput("a sales activity needs a subject.")
    return msgspec.structs.replace(activity, subject=subject)


def log_activity(opportunity: Opportunity, activity: SalesActivity) -> list[OpportunityEvent]:
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
) -> list[OpportunityEvent]:
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


def delete_activity(opportunity: Opportunity, activity_id: UUID) -> list[OpportunityEvent]:
    ensure_changeable(opportunity)
    _activity(opportunity, activity_id)
    return [SalesActivityDeleted(activity_id=activity_id)]


def lose(opportunity: Opportunity, pipeline: Pipeline, reason: str) -> list[OpportunityEvent]:
    return _close(opportunity, pipeline, reason, OpportunityLost, "was lost")


def mark_unqualified(
    opportunity: Opportunity, pipeline: Pipeline, reason: str
) -> list[OpportunityEvent]:
    return _close(opportunity, pipeline, reason, OpportunityMarkedUnqualified, "is unqualified")


def _close(
    opportunity: Opportunity,
    pipeline: Pipeline,
    reason: str,
    closing: type[OpportunityLost | OpportunityMarkedUnqualified],
    why: str,
) -> list[OpportunityEvent]:
    """Closed for ``reason``, which must be given (the refusal asks why it ``why``)."""
    ensure_changeable(opportunity)
    if not reason.strip():
        raise InvalidInput(f"say why the opportunity {why}.")
    return [
        closing(
            reason=reason.strip(),
            stage=pipeline.closed_stage(closing.closed_as).key,
            previous_stage=opportunity.stage,
        )
    ]


def reopen(opportunity: Opportunity, pipeline: Pipeline) -> list[OpportunityEvent]:
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
