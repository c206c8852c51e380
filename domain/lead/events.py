"""What happens to a lead: its events, each knowing how it changes the state. Those with
personal data (``PersonalEvent``) name the fields the store seals."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal
from uuid import UUID

import msgspec

from domain.aggregate import Event, created, evolve
from domain.custom_values import CustomChanges, CustomValues, merged
from domain.lead.state import DisqualifiedAs, Lead, LeadActivity, LeadShare, Priority
from domain.opportunity import ActivityKind
from domain.personal_data import PersonalData, PersonalEvent

__all__ = [
    "LeadActivityDeleted",
    "LeadActivityEdited",
    "LeadActivityLogged",
    "LeadAddedToAccount",
    "LeadAddedToPartner",
    "LeadAnonymized",
    "LeadArchived",
    "LeadAssigned",
    "LeadCreated",
    "LeadCustomFieldsChanged",
    "LeadDetailsChanged",
    "LeadDisqualified",
    "LeadEvent",
    "LeadPersonalDataChanged",
    "LeadQualified",
    "LeadSharingChanged",
    "LeadSplit",
    "LeadUnarchived",
    "LeadWorkStarted",
]


class LeadCreated(PersonalEvent[Lead], frozen=True, kw_only=True):
    personal: PersonalData | None
    company: str | None = None
    source: str | None = None
    campaign_id: UUID | None = None
    owner: str | None = None
    partner_id: UUID | None = None
    priority: Priority = "normal"
    duplicate_of: UUID | None = None
    routed_by_rule: UUID | None = None
    # "manual" (POST /leads) or "intake" (the lead processor).
    channel: Literal["manual", "intake"] = "manual"
    # Added after the first events were stored: those decode with none.
    custom: CustomValues = {}

    personal_fields: ClassVar[tuple[str, ...]] = ("personal",)

    def apply(self, state: Lead | None) -> Lead:
        return created(Lead, self)


class LeadPersonalDataChanged(PersonalEvent[Lead], frozen=True, kw_only=True):
    personal: PersonalData | None

    personal_fields: ClassVar[tuple[str, ...]] = ("personal",)

    def apply(self, state: Lead) -> Lead:
        return evolve(state, personal=self.personal)


class LeadDetailsChanged(Event[Lead], frozen=True, kw_only=True):
    company: str | None
    source: str | None
    campaign_id: UUID | None
    priority: Priority

    def apply(self, state: Lead) -> Lead:
        return evolve(
            state,
            company=self.company,
            source=self.source,
            campaign_id=self.campaign_id,
            priority=self.priority,
        )


class LeadCustomFieldsChanged(Event[Lead], frozen=True, kw_only=True):
    """Custom values set (key → the new value) or cleared (key → null)."""

    custom: CustomChanges

    def apply(self, state: Lead) -> Lead:
        return evolve(state, custom=merged(state.custom, self.custom))


class LeadAssigned(Event[Lead], frozen=True, kw_only=True):
    """``owner`` None puts the lead back in the free pool."""

    owner: str | None
    previous_owner: str | None

    def apply(self, state: Lead) -> Lead:
        return evolve(state, owner=self.owner, shares=())


class LeadSplit(Event[Lead], frozen=True, kw_only=True):
    """Shared among salespeople; the first share's user is the owner."""

    shares: tuple[LeadShare, ...]

    def apply(self, state: Lead) -> Lead:
        return evolve(state, owner=self.shares[0].user, shares=self.shares)


class _ActivityWritten(PersonalEvent[Lead], frozen=True, kw_only=True):
    """A sales activity as logged or edited; its subject and notes are personal data."""

    abstract: ClassVar[bool] = True

    activity_id: UUID
    activity_kind: ActivityKind
    occurred_at: datetime
    subject: str | None
    notes: str | None = None

    personal_fields: ClassVar[tuple[str, ...]] = ("subject", "notes")

    def activity(self) -> LeadActivity:
        return LeadActivity(
            id=self.activity_id,
            kind=self.activity_kind,
            occurred_at=self.occurred_at,
            subject=self.subject,
            notes=self.notes,
        )


class LeadActivityLogged(_ActivityWritten, frozen=True, kw_only=True):
    def apply(self, state: Lead) -> Lead:
        return evolve(state, activities=(*state.activities, self.activity()))


class LeadActivityEdited(_ActivityWritten, frozen=True, kw_only=True):
    def apply(self, state: Lead) -> Lead:
        edited = self.activity()
        return evolve(
            state,
            activities=tuple(edited if a.id == edited.id else a for a in state.activities),
        )


class LeadActivityDeleted(Event[Lead], frozen=True, kw_only=True):
    activity_id: UUID

    def apply(self, state: Lead) -> Lead:
        return evolve(
            state, activities=tuple(a for a in state.activities if a.id != self.activity_id)
        )


class LeadWorkStarted(Event[Lead], frozen=True, kw_only=True):
    """The first sales activity: the lead is being worked."""

    def apply(self, state: Lead) -> Lead:
        return evolve(state, status="working")


class LeadAddedToAccount(Event[Lead], frozen=True, kw_only=True):
    account_id: UUID

    def apply(self, state: Lead) -> Lead:
        return evolve(state, account_id=self.account_id)


class LeadAddedToPartner(Event[Lead], frozen=True, kw_only=True):
    partner_id: UUID

    def apply(self, state: Lead) -> Lead:
        return evolve(state, partner_id=self.partner_id)


class LeadQualified(Event[Lead], frozen=True, kw_only=True):
    opportunity_id: UUID
    account_id: UUID

    def apply(self, state: Lead) -> Lead:
        return evolve(
            state,
            status="qualified",
            opportunity_id=self.opportunity_id,
            account_id=self.account_id,
        )


class LeadDisqualified(Event[Lead], frozen=True, kw_only=True):
    disqualified_as: DisqualifiedAs
    reason: str

    def apply(self, state: Lead) -> Lead:
        return evolve(
            state,
            status="disqualified",
            disqualified_as=self.disqualified_as,
            disqualify_reason=self.reason,
        )


class LeadArchived(Event[Lead], frozen=True, kw_only=True):
    def apply(self, state: Lead) -> Lead:
        return evolve(state, archived=True)


class LeadUnarchived(Event[Lead], frozen=True, kw_only=True):
    def apply(self, state: Lead) -> Lead:
        return evolve(state, archived=False)


class LeadAnonymized(Event[Lead], frozen=True, kw_only=True):
    """The person is erased: their key is destroyed in the same save as this event."""

    def apply(self, state: Lead) -> Lead:
        return evolve(
            state,
            personal=None,
            anonymized=True,
            activities=tuple(
                msgspec.structs.replace(a, subject=None, notes=None) for a in state.activities
            ),
        )


class LeadSharingChanged(Event[Lead], frozen=True, kw_only=True):
    """Made private or public, or shared with other users (``domain.sharing``)."""

    private: bool
    shared_with: tuple[str, ...]

    def apply(self, state: Lead) -> Lead:
        return evolve(state, private=self.private, shared_with=self.shared_with)


LeadEvent = (
    LeadCreated
    | LeadPersonalDataChanged
    | LeadDetailsChanged
    | LeadAssigned
    | LeadSplit
    | LeadActivityLogged
    | LeadActivityEdited
    | LeadActivityDeleted
    | LeadWorkStarted
    | LeadAddedToAccount
    | LeadAddedToPartner
    | LeadQualified
    | LeadDisqualified
    | LeadArchived
    | LeadUnarchived
    | LeadAnonymized
    | LeadSharingChanged
    | LeadCustomFieldsChanged
)
