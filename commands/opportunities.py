"""Commands on opportunities, one handler each."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID, uuid5

import msgspec

from commands.accounts import survivor
from commands.bus import Answer, Handlers
from commands.owners import ensure_active
from commands.reference_data import find_or_create_account
from commands.sharing import share, share_new
from commands.unit_of_work import UnitOfWork
from domain import contact as contact_rules
from domain import opportunity as rules
from domain import selling
from domain.contact import Contact
from domain.errors import InvalidInput
from domain.ids import pipeline_id_for
from domain.money import Money
from domain.opportunity import ActivityKind, Opportunity, SalesActivity
from domain.pipeline import ForecastCategory, Pipeline
from domain.quote import Quote

Unset = msgspec.UnsetType
UNSET = msgspec.UNSET


class CreateOpportunity(msgspec.Struct, frozen=True, kw_only=True):
    opportunity_id: UUID
    title: str
    owner: str
    expected_close: date
    account_id: UUID | None = None
    account_name: str | None = None
    amount: Money | None = None
    stage: str | None = None
    pipeline: str | None = None
    probability: int | None = None
    forecast_category: ForecastCategory | None = None
    partner_id: UUID | None = None
    effective_at: datetime | None = None
    private: bool = False
    shared_with: tuple[str, ...] = ()


class EditOpportunity(msgspec.Struct, frozen=True, kw_only=True):
    """PATCH: fields left UNSET stay; probability / forecast_category None clears the override."""

    opportunity_id: UUID
    title: str | Unset = UNSET
    amount: Money | Unset = UNSET
    expected_close: date | Unset = UNSET
    owner: str | Unset = UNSET
    probability: int | Unset | None = UNSET
    forecast_category: ForecastCategory | Unset | None = UNSET
    account_id: UUID | Unset = UNSET
    effective_at: datetime | None = None
    private: bool | Unset = UNSET
    shared_with: tuple[str, ...] | Unset = UNSET


class MoveOpportunityToStage(msgspec.Struct, frozen=True, kw_only=True):
    opportunity_id: UUID
    stage: str
    effective_at: datetime | None = None


class AssignPartner(msgspec.Struct, frozen=True, kw_only=True):
    opportunity_id: UUID
    partner_id: UUID | None


class AddBusinessRole(msgspec.Struct, frozen=True, kw_only=True):
    """``contact_id`` names a contact record; ``contact``, a name as text (as roles were
    first given). One of the two."""

    opportunity_id: UUID
    role_id: UUID
    role: str
    contact_id: UUID | None = None
    contact: str | None = None


class RemoveBusinessRole(msgspec.Struct, frozen=True, kw_only=True):
    opportunity_id: UUID
    role_id: UUID


class LogSalesActivity(msgspec.Struct, frozen=True, kw_only=True):
    opportunity_id: UUID
    activity_id: UUID
    kind: ActivityKind
    subject: str
    occurred_at: datetime | None = None
    notes: str | None = None


class EditSalesActivity(msgspec.Struct, frozen=True, kw_only=True):
    opportunity_id: UUID
    activity_id: UUID
    kind: ActivityKind | None = None
    subject: str | None = None
    occurred_at: datetime | None = None
    notes: str | None = None


class DeleteSalesActivity(msgspec.Struct, frozen=True, kw_only=True):
    opportunity_id: UUID
    activity_id: UUID


class SellOpportunity(msgspec.Struct, frozen=True, kw_only=True):
    opportunity_id: UUID
    effective_at: datetime | None = None


class UnlockOpportunity(msgspec.Struct, frozen=True, kw_only=True):
    opportunity_id: UUID


class LoseOpportunity(msgspec.Struct, frozen=True, kw_only=True):
    opportunity_id: UUID
    reason: str
    effective_at: datetime | None = None


class MarkOpportunityUnqualified(msgspec.Struct, frozen=True, kw_only=True):
    opportunity_id: UUID
    reason: str
    effective_at: datetime | None = None


class ReopenOpportunity(msgspec.Struct, frozen=True, kw_only=True):
    opportunity_id: UUID


class CopyOpportunity(msgspec.Struct, frozen=True, kw_only=True):
    opportunity_id: UUID
    new_opportunity_id: UUID
    title: str | None = None
    # The copy's owner; default: the source's.
    owner: str | None = None


class DeleteOpportunity(msgspec.Struct, frozen=True, kw_only=True):
    opportunity_id: UUID


def _pipeline(uow: UnitOfWork, opportunity: Opportunity) -> Pipeline:
    return uow.get(Pipeline, opportunity.pipeline_id)


def resolve_pipeline(uow: UnitOfWork, name_or_id: str | None) -> Pipeline:
    """A pipeline by UUID or by name; the default ``sales`` one when not given."""
    if name_or_id is None:
        return uow.get(Pipeline, pipeline_id_for("sales"))
    try:
        return uow.get(Pipeline, UUID(name_or_id))
    except ValueError:
        return uow.get(Pipeline, pipeline_id_for(name_or_id))


def _quotes(uow: UnitOfWork, opportunity: Opportunity) -> list[Quote]:
    return [uow.get(Quote, quote_id) for quote_id in opportunity.quote_ids]


def _partner(uow: UnitOfWork, partner_id: UUID | None) -> UUID | None:
    return None if partner_id is None else survivor(uow, partner_id).id


def create_opportunity(uow: UnitOfWork, command: CreateOpportunity) -> Answer:
    if (command.account_id is None) == (command.account_name is None):
        raise InvalidInput("give either account_id or account_name.")
    uow.ensure_new(command.opportunity_id)
    ensure_active(uow, command.owner)
    if command.account_id is not None:
        account_id = survivor(uow, command.account_id).id
    else:
        assert command.account_name is not None
        account_id = find_or_create_account(uow, command.account_name)
    uow.record(
        command.opportunity_id,
        rules.create(
            title=command.title,
            account_id=account_id,
            owner=command.owner,
            pipeline=resolve_pipeline(uow, command.pipeline),
            expected_close=command.expected_close,
            amount=command.amount or Money.zero(uow.context.reporting_currency),
            stage=command.stage,
            probability=command.probability,
            forecast_category=command.forecast_category,
            partner_id=_partner(uow, command.partner_id),
        ),
    )
    share_new(uow, Opportunity, command.opportunity_id, command.private, command.shared_with)
    return Answer(id=command.opportunity_id, created=True)


def edit_opportunity(uow: UnitOfWork, command: EditOpportunity) -> Answer:
    opp = uow.get(Opportunity, command.opportunity_id)
    if not isinstance(command.owner, Unset) and command.owner.strip() != opp.owner:
        # Naming the owner it has changes nothing, and is not asked about.
        ensure_active(uow, command.owner)
    uow.record(
        opp.id,
        rules.edit(
            opp,
            title=None if command.title is UNSET else command.title,
            expected_close=None if command.expected_close is UNSET else command.expected_close,
            owner=None if command.owner is UNSET else command.owner,
        ),
    )
    if not isinstance(command.amount, Unset):
        uow.record(opp.id, rules.change_amount(opp, command.amount))
    if not isinstance(command.probability, Unset):
        uow.record(opp.id, rules.set_probability(opp, command.probability))
    if not isinstance(command.forecast_category, Unset):
        uow.record(opp.id, rules.set_forecast_category(opp, command.forecast_category))
    if not isinstance(command.account_id, Unset):
        # 404 naming it when unknown; a merged account files the deal under its survivor.
        account_id = survivor(uow, command.account_id).id
        uow.record(opp.id, rules.change_account(opp, account_id))
    share(uow, opp, command.private, command.shared_with)
    return Answer(id=opp.id)


def move_to_stage(uow: UnitOfWork, command: MoveOpportunityToStage) -> Answer:
    opp = uow.get(Opportunity, command.opportunity_id)
    uow.record(opp.id, rules.move_to_stage(opp, _pipeline(uow, opp), command.stage))
    return Answer(id=opp.id)


def assign_partner(uow: UnitOfWork, command: AssignPartner) -> Answer:
    opp = uow.get(Opportunity, command.opportunity_id)
    uow.record(opp.id, rules.assign_partner(opp, _partner(uow, command.partner_id)))
    return Answer(id=opp.id)


def add_business_role(uow: UnitOfWork, command: AddBusinessRole) -> Answer:
    opp = uow.get(Opportunity, command.opportunity_id)
    if command.contact_id is not None:
        contact = uow.get(Contact, command.contact_id)
        contact_rules.ensure_exists(contact)  # an anonymized person takes no new part
    decided = rules.add_business_role(
        opp,
        command.role_id,
        role=command.role,
        contact=command.contact,
        contact_id=command.contact_id,
    )
    uow.record(opp.id, decided)
    return Answer(id=opp.id, created=True, extra={"role_id": str(command.role_id)})


def remove_business_role(uow: UnitOfWork, command: RemoveBusinessRole) -> Answer:
    opp = uow.get(Opportunity, command.opportunity_id)
    uow.record(opp.id, rules.remove_business_role(opp, command.role_id))
    return Answer(id=opp.id)


def log_sales_activity(uow: UnitOfWork, command: LogSalesActivity) -> Answer:
    opp = uow.get(Opportunity, command.opportunity_id)
    activity = SalesActivity(
        id=command.activity_id,
        kind=command.kind,
        subject=command.subject,
        occurred_at=command.occurred_at or uow.now,
        notes=command.notes,
    )
    uow.record(opp.id, rules.log_activity(opp, activity))
    return Answer(id=opp.id, created=True, extra={"activity_id": str(command.activity_id)})


def edit_sales_activity(uow: UnitOfWork, command: EditSalesActivity) -> Answer:
    opp = uow.get(Opportunity, command.opportunity_id)
    uow.record(
        opp.id,
        rules.edit_activity(
            opp,
            command.activity_id,
            kind=command.kind,
            subject=command.subject,
            occurred_at=command.occurred_at,
            notes=command.notes,
        ),
    )
    return Answer(id=opp.id)


def delete_sales_activity(uow: UnitOfWork, command: DeleteSalesActivity) -> Answer:
    opp = uow.get(Opportunity, command.opportunity_id)
    uow.record(opp.id, rules.delete_activity(opp, command.activity_id))
    return Answer(id=opp.id)


def sell_opportunity(uow: UnitOfWork, command: SellOpportunity) -> Answer:
    opp = uow.get(Opportunity, command.opportunity_id)
    uow.record_all(
        selling.sell(
            opp,
            _pipeline(uow, opp),
            _quotes(uow, opp),
            sold_at=command.effective_at or uow.now,
            now=uow.now,
        )
    )
    return Answer(id=opp.id)


def unlock_opportunity(uow: UnitOfWork, command: UnlockOpportunity) -> Answer:
    opp = uow.get(Opportunity, command.opportunity_id)
    uow.record_all(selling.unlock(opp, _pipeline(uow, opp), _quotes(uow, opp)))
    return Answer(id=opp.id)


def lose_opportunity(uow: UnitOfWork, command: LoseOpportunity) -> Answer:
    opp = uow.get(Opportunity, command.opportunity_id)
    uow.record(opp.id, rules.lose(opp, _pipeline(uow, opp), command.reason))
    return Answer(id=opp.id)


def mark_unqualified(uow: UnitOfWork, command: MarkOpportunityUnqualified) -> Answer:
    opp = uow.get(Opportunity, command.opportunity_id)
    uow.record(opp.id, rules.mark_unqualified(opp, _pipeline(uow, opp), command.reason))
    return Answer(id=opp.id)


def reopen_opportunity(uow: UnitOfWork, command: ReopenOpportunity) -> Answer:
    opp = uow.get(Opportunity, command.opportunity_id)
    uow.record(opp.id, rules.reopen(opp, _pipeline(uow, opp)))
    return Answer(id=opp.id)


def copy_opportunity(uow: UnitOfWork, command: CopyOpportunity) -> Answer:
    source = uow.get(Opportunity, command.opportunity_id)
    uow.ensure_new(command.new_opportunity_id)
    owner = command.owner if command.owner and command.owner.strip() else source.owner
    ensure_active(uow, owner, named_as="the copy's owner")
    quotes = _quotes(uow, source)
    # Ids of the copied quotes derive from the new opportunity's id: a retry makes the same ones.
    quote_ids = {q.id: uuid5(command.new_opportunity_id, str(q.id)) for q in quotes}
    uow.record_all(
        selling.copy_opportunity(
            source,
            _pipeline(uow, source),
            quotes,
            new_id=command.new_opportunity_id,
            title=command.title,
            owner=owner,
            quote_ids=quote_ids,
        )
    )
    return Answer(id=command.new_opportunity_id, created=True)


def delete_opportunity(uow: UnitOfWork, command: DeleteOpportunity) -> Answer:
    opp = uow.get(Opportunity, command.opportunity_id)
    uow.record_all(selling.delete_opportunity(opp, _quotes(uow, opp)))
    return Answer(id=opp.id)


HANDLERS: Handlers = {
    CreateOpportunity: create_opportunity,
    EditOpportunity: edit_opportunity,
    MoveOpportunityToStage: move_to_stage,
    AssignPartner: assign_partner,
    AddBusinessRole: add_business_role,
    RemoveBusinessRole: remove_business_role,
    LogSalesActivity: log_sales_activity,
    EditSalesActivity: edit_sales_activity,
    DeleteSalesActivity: delete_sales_activity,
    SellOpportunity: sell_opportunity,
    UnlockOpportunity: unlock_opportunity,
    LoseOpportunity: lose_opportunity,
    MarkOpportunityUnqualified: mark_unqualified,
    ReopenOpportunity: reopen_opportunity,
    CopyOpportunity: copy_opportunity,
    DeleteOpportunity: delete_opportunity,
}
