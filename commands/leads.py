"""Commands on leads: create, edit, assign or split, account and partner,
qualify (with its opportunity and the contact made of its person), disqualify, archive,
anonymize.

Sales activities on a lead are in ``commands.lead_activities``, the lead processor's
intake and rules in ``commands.lead_intake``, campaigns in ``commands.campaigns``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from uuid import UUID

import msgspec

from commands.accounts import survivor
from commands.bus import Answer, Handlers, change
from commands.campaigns import campaign_taking_leads
from commands.contacts import contact_of_qualified_lead
from commands.opportunities import resolve_pipeline
from commands.owners import ensure_active
from commands.reference_data import find_or_create_account
from commands.sharing import share, share_new
from commands.unit_of_work import UnitOfWork
from domain import lead as rules
from domain import opportunity as opportunities
from domain.errors import InvalidInput
from domain.lead import Lead, LeadPersonalDataChanged, Priority
from domain.money import Money
from domain.personal_data import PersonalData, contact_digests
from domain.pipeline import ForecastCategory

Unset = msgspec.UnsetType
UNSET = msgspec.UNSET


class CreateLead(msgspec.Struct, frozen=True, kw_only=True):
    lead_id: UUID
    first_name: str
    last_name: str
    email: str | None = None
    phone: str | None = None
    address: str | None = None
    notes: str | None = None
    company: str | None = None
    source: str | None = None
    campaign_id: UUID | None = None
    owner: str | None = None
    priority: Priority = "normal"
    # Further fields (intake tools send what they have); personal data like the rest.
    extra: dict[str, str] = {}
    private: bool = False
    shared_with: tuple[str, ...] = ()

    def personal(self) -> PersonalData:
        return PersonalData(
            first_name=self.first_name,
            last_name=self.last_name,
            email=self.email,
            phone=self.phone,
            address=self.address,
            notes=self.notes,
            extra=self.extra,
        )

    def fields(self) -> dict[str, str | None]:
        """What rule conditions look at, by lower-case field name."""
        named: dict[str, str | None] = {
            "first_name": self.first_name,
            "last_name": self.last_name,
            "email": self.email,
            "phone": self.phone,
            "address": self.address,
            "notes": self.notes,
            "company": self.company,
            "source": self.source,
            "campaign_id": None if self.campaign_id is None else str(self.campaign_id),
            "owner": self.owner,
            "priority": self.priority,
        }
        return {**{k.lower(): v for k, v in self.extra.items()}, **named}


class EditLead(msgspec.Struct, frozen=True, kw_only=True):
    """PATCH: fields left UNSET stay as they are."""

    lead_id: UUID
    first_name: str | Unset = UNSET
    last_name: str | Unset = UNSET
    email: str | Unset | None = UNSET
    phone: str | Unset | None = UNSET
    address: str | Unset | None = UNSET
    notes: str | Unset | None = UNSET
    company: str | Unset | None = UNSET
    source: str | Unset | None = UNSET
    campaign_id: UUID | Unset | None = UNSET
    priority: Priority | Unset = UNSET
    private: bool | Unset = UNSET
    shared_with: tuple[str, ...] | Unset = UNSET


class AssignLead(msgspec.Struct, frozen=True, kw_only=True):
    """``owner`` None returns the lead to the free pool."""

    lead_id: UUID
    owner: str | None


class SplitLead(msgspec.Struct, frozen=True, kw_only=True):
    lead_id: UUID
    shares: dict[str, int]


class AddLeadToAccount(msgspec.Struct, frozen=True, kw_only=True):
    lead_id: UUID
    account_id: UUID | None = None
    account_name: str | None = None


class AddLeadToPartner(msgspec.Struct, frozen=True, kw_only=True):
    lead_id: UUID
    partner_id: UUID


class QualifyLead(msgspec.Struct, frozen=True, kw_only=True):
    """Makes the opportunity; its account is the lead's, or the one named, or the lead's
    company (created when it does not exist)."""

    lead_id: UUID
    opportunity_id: UUID
    title: str
    expected_close: date
    amount: Money | None = None
    account_id: UUID | None = None
    account_name: str | None = None
    owner: str | None = None
    stage: str | None = None
    pipeline: str | None = None
    probability: int | None = None
    forecast_category: ForecastCategory | None = None
    effective_at: datetime | None = None


class DisqualifyLead(msgspec.Struct, frozen=True, kw_only=True):
    lead_id: UUID
    status: str
    reason: str
    effective_at: datetime | None = None


class ArchiveLead(msgspec.Struct, frozen=True, kw_only=True):
    lead_id: UUID


class UnarchiveLead(msgspec.Struct, frozen=True, kw_only=True):
    lead_id: UUID


class AnonymizeLead(msgspec.Struct, frozen=True, kw_only=True):
    lead_id: UUID


# --- handlers ----------------------------------------------------------------------------


def first_with_same_contact(uow: UnitOfWork, command: CreateLead) -> Lead | None:
    """The first lead with the new lead's e-mail or phone; otherwise the new lead claims them."""
    digests = contact_digests(command.email, command.phone, uow.context.phone_region)
    first_id = uow.store.lead_with_contact(digests)
    if first_id is None:
        uow.claim_contacts(command.lead_id, digests)
        return None
    return uow.get(Lead, first_id)


def record_new_lead(
    uow: UnitOfWork,
    command: CreateLead,
    first: Lead | None,
    *,
    owner: str | None,
    priority: Priority,
    partner_id: UUID | None = None,
    routed_by_rule: UUID | None = None,
    channel: Literal["manual", "intake"] = "manual",
) -> None:
    """Records the lead ``command`` describes, a duplicate of ``first`` when there is one,
    with the owner, partner and priority it gets (by hand: the command's)."""
    uow.record(
        command.lead_id,
        rules.create(
            personal=command.personal(),
            company=command.company,
            source=command.source,
            campaign_id=campaign_taking_leads(uow, command.campaign_id),
            owner=owner,
            partner_id=partner_id,
            priority=priority,
            duplicate_of=None if first is None else first.id,
            routed_by_rule=routed_by_rule,
            channel=channel,
        ),
    )
    share_new(uow, Lead, command.lead_id, command.private, command.shared_with)


def create_lead(uow: UnitOfWork, command: CreateLead) -> Answer:
    uow.ensure_new(command.lead_id)
    ensure_active(uow, command.owner)
    first = first_with_same_contact(uow, command)
    record_new_lead(uow, command, first, owner=command.owner, priority=command.priority)
    return Answer(
        id=command.lead_id,
        created=True,
        extra={"duplicate_of": None if first is None else str(first.id)},
    )


def edit_lead(uow: UnitOfWork, command: EditLead) -> Answer:
    lead = uow.get(Lead, command.lead_id)
    # Asked first: an archived or anonymized lead is refused as such before its personal
    # data is read (an anonymized lead has none) and before the campaign is looked up.
    rules.ensure_changeable(lead)
    personal = None
    names = ("first_name", "last_name", "email", "phone", "address", "notes")
    if any(getattr(command, n) is not UNSET for n in names):
        current = lead.personal
        assert current is not None  # anonymized leads were refused above
        personal = msgspec.structs.replace(
            current, **{n: getattr(command, n) for n in names if getattr(command, n) is not UNSET}
        )
    if command.campaign_id is not UNSET and command.campaign_id != lead.campaign_id:
        campaign_taking_leads(uow, command.campaign_id)
    events = rules.edit(
        lead,
        personal=personal,
        company=command.company,
        source=command.source,
        campaign_id=command.campaign_id,
        priority=None if command.priority is UNSET else command.priority,
    )
    uow.record(lead.id, events)
    for event in events:
        if isinstance(event, LeadPersonalDataChanged) and event.personal is not None:
            # A new e-mail or phone is this lead's for duplicate detection unless another
            # lead has it already (the old ones stay: earlier intakes matched them).
            new = contact_digests(
                event.personal.email, event.personal.phone, uow.context.phone_region
            )
            uow.claim_contacts(
                lead.id, [d for d in new if uow.store.lead_with_contact([d]) is None]
            )
    share(uow, lead, command.private, command.shared_with)
    return Answer(id=lead.id)


def assign_lead(uow: UnitOfWork, command: AssignLead) -> Answer:
    answer = change(uow, Lead, command.lead_id, lambda lead: rules.assign(lead, command.owner))
    ensure_active(uow, command.owner)  # None: back to the free pool
    return answer


def split_lead(uow: UnitOfWork, command: SplitLead) -> Answer:
    answer = change(uow, Lead, command.lead_id, lambda lead: rules.split(lead, command.shares))
    # Asked once the domain took the shares (their sum, their form): of each user in it.
    for user_share in rules.check_shares(command.shares):
        ensure_active(uow, user_share.user, named_as="a user of the split")
    return answer


def _account(uow: UnitOfWork, account_id: UUID | None, account_name: str | None) -> UUID:
    if account_id is not None:
        return survivor(uow, account_id).id
    assert account_name is not None
    return find_or_create_account(uow, account_name)


def add_lead_to_account(uow: UnitOfWork, command: AddLeadToAccount) -> Answer:
    if (command.account_id is None) == (command.account_name is None):
        raise InvalidInput("give either account_id or account_name.")
    lead = uow.get(Lead, command.lead_id)
    # Asked first: a closed lead is refused as such before the account is looked up (or made).
    rules.ensure_open(lead)
    account_id = _account(uow, command.account_id, command.account_name)
    uow.record(lead.id, rules.add_to_account(lead, account_id))
    return Answer(id=lead.id)


def add_lead_to_partner(uow: UnitOfWork, command: AddLeadToPartner) -> Answer:
    lead = uow.get(Lead, command.lead_id)
    partner = survivor(uow, command.partner_id)
    uow.record(lead.id, rules.add_to_partner(lead, partner.id))
    return Answer(id=lead.id)


def qualify_lead(uow: UnitOfWork, command: QualifyLead) -> Answer:
    """The lead, the opportunity and (when new) the account: one atomic save."""
    lead = uow.get(Lead, command.lead_id)
    # Asked first: a closed lead is refused as such before the new ids and the account are
    # looked at.
    rules.ensure_open(lead)
    uow.ensure_new(command.opportunity_id)
    if command.account_id is not None and command.account_name is not None:
        raise InvalidInput("give account_id or account_name, not both.")
    if command.account_id is not None or command.account_name is not None:
        account_id = _account(uow, command.account_id, command.account_name)
    elif lead.account_id is not None:
        account_id = survivor(uow, lead.account_id).id
    elif lead.company is not None:
        account_id = find_or_create_account(uow, lead.company)
    else:
        raise InvalidInput(
            "the lead has no account and no company; give account_id or account_name."
        )
    owner = command.owner or lead.owner
    # The opportunity's owner: the one named, else the lead's (who may have left since).
    ensure_active(uow, owner, named_as="the owner" if command.owner else "the lead's owner")
    if owner is not None and lead.owner is None:
        # Qualifying a pooled lead for someone assigns it to them first.
        uow.record(lead.id, rules.assign(lead, owner))
        lead = uow.get(Lead, lead.id)
    uow.record(
        lead.id, rules.qualify(lead, opportunity_id=command.opportunity_id, account_id=account_id)
    )
    assert lead.owner is not None
    contact_id = contact_of_qualified_lead(uow, lead, account_id, owner or lead.owner)
    uow.record(
        command.opportunity_id,
        opportunities.create(
            title=command.title,
            account_id=account_id,
            owner=owner or lead.owner,
            pipeline=resolve_pipeline(uow, command.pipeline),
            expected_close=command.expected_close,
            amount=command.amount or Money.zero(uow.context.reporting_currency),
            stage=command.stage,
            probability=command.probability,
            forecast_category=command.forecast_category,
            partner_id=lead.partner_id,
            lead_id=lead.id,
            campaign_id=lead.campaign_id,
        ),
    )
    extra = {"opportunity_id": str(command.opportunity_id), "contact_id": str(contact_id)}
    return Answer(id=lead.id, extra=extra)


def disqualify_lead(uow: UnitOfWork, command: DisqualifyLead) -> Answer:
    lead = uow.get(Lead, command.lead_id)
    uow.record(lead.id, rules.disqualify(lead, command.status, command.reason))
    return Answer(id=lead.id)


def archive_lead(uow: UnitOfWork, command: ArchiveLead) -> Answer:
    return change(uow, Lead, command.lead_id, rules.archive)


def unarchive_lead(uow: UnitOfWork, command: UnarchiveLead) -> Answer:
    return change(uow, Lead, command.lead_id, rules.unarchive)


def anonymize_lead(uow: UnitOfWork, command: AnonymizeLead) -> Answer:
    lead = uow.get(Lead, command.lead_id)
    uow.record(lead.id, rules.anonymize(lead))
    # Its key and contact digests go in the same transaction as the event.
    uow.erase_personal_data(lead.id)
    return Answer(id=lead.id)


HANDLERS: Handlers = {
    CreateLead: create_lead,
    EditLead: edit_lead,
    AssignLead: assign_lead,
    SplitLead: split_lead,
    AddLeadToAccount: add_lead_to_account,
    AddLeadToPartner: add_lead_to_partner,
    QualifyLead: qualify_lead,
    DisqualifyLead: disqualify_lead,
    ArchiveLead: archive_lead,
    UnarchiveLead: unarchive_lead,
    AnonymizeLead: anonymize_lead,
}
