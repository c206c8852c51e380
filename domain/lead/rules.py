"""What may be done to a lead: each function checks the rules and decides the events.

Rules this module keeps:
- new → working (the first sales activity) → qualified (an opportunity is made
  from it) | disqualified (a status and a reason); qualified and disqualified
  leads are closed: they change only by edit, archive, unarchive or anonymize;
- a lead has one owner, or none (the free pool), or is split among several
  salespeople by whole percentages that sum to 100;
- an archived lead changes only by being unarchived or anonymized;
- anonymize erases the person for good: every later command is refused, and the
  personal fields of every event of the lead read null (its key is destroyed).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

import msgspec

from domain.custom_values import CustomChanges, CustomValues
from domain.errors import InvalidInput, NotFound, RuleViolated
from domain.lead.events import (
    LeadActivityDeleted,
    LeadActivityEdited,
    LeadActivityLogged,
    LeadAddedToAccount,
    LeadAddedToPartner,
    LeadAnonymized,
    LeadArchived,
    LeadAssigned,
    LeadCreated,
    LeadCustomFieldsChanged,
    LeadDetailsChanged,
    LeadDisqualified,
    LeadEvent,
    LeadPersonalDataChanged,
    LeadQualified,
    LeadSplit,
    LeadUnarchived,
    LeadWorkStarted,
)
from domain.lead.state import DISQUALIFIED_AS, PRIORITIES, Lead, LeadActivity, LeadShare, Priority
from domain.opportunity import ACTIVITY_KINDS, ActivityKind
from domain.personal_data import PersonalData, check_email, tidy_text

__all__ = [
    "add_to_account",
    "add_to_partner",
    "anonymize",
    "archive",
    "assign",
    "check_owner",
    "check_personal",
    "check_shares",
    "create",
    "delete_activity",
    "disqualify",
    "edit",
    "edit_activity",
    "ensure_changeable",
    "ensure_exists",
    "ensure_open",
    "log_activity",
    "qualify",
    "set_custom",
    "split",
    "unarchive",
]


def check_personal(personal: PersonalData) -> PersonalData:
    last_name = tidy_text(personal.last_name)
    if last_name is None:
        raise InvalidInput("a lead needs a last name.")
    return PersonalData(
        first_name=tidy_text(personal.first_name) or "",
        last_name=last_name,
        email=check_email(personal.email),
        phone=tidy_text(personal.phone),
        address=personal.address.strip() if personal.address else None,
        notes=personal.notes.strip() if personal.notes else None,
        extra={k: v for k, v in personal.extra.items() if v.strip()},
    )


def check_owner(owner: str | None) -> str | None:
    return tidy_text(owner)


def check_shares(shares: dict[str, int]) -> tuple[LeadShare, ...]:
    """Whole percentages from 1 to 100, one per user, summing to 100; kept in the given order."""
    cleaned: dict[str, int] = {}
    for user, percent in shares.items():
        name = tidy_text(user)
        if name is None:
            raise InvalidInput("every share needs a user.")
        if name in cleaned:
            raise InvalidInput(f"{name} has two shares.")
        if isinstance(percent, bool) or not isinstance(percent, int) or not 1 <= percent <= 100:
            raise InvalidInput(f"{name}'s share is a whole percentage from 1 to 100.")
        cleaned[name] = percent
    if not cleaned:
        raise InvalidInput("a split needs at least one share.")
    total = sum(cleaned.values())
    if total != 100:
        # Each share is well formed; together they break the rule of a split (409).
        raise RuleViolated(f"the shares sum to {total}, not 100.")
    return tuple(LeadShare(user=u, percent=p) for u, p in cleaned.items())


def ensure_exists(lead: Lead) -> None:
    if lead.anonymized:
        raise RuleViolated(f"lead {lead.id} is anonymized; it cannot change any more.")


def ensure_changeable(lead: Lead) -> None:
    ensure_exists(lead)
    if lead.archived:
        raise RuleViolated(f"lead {lead.id} is archived; unarchive it to change it.")


def ensure_open(lead: Lead) -> None:
    ensure_changeable(lead)
    if lead.status in ("qualified", "disqualified"):
        raise RuleViolated(f"lead {lead.id} is {lead.status}; it is closed.")


def create(
    *,
    personal: PersonalData,
    company: str | None = None,
    source: str | None = None,
    campaign_id: UUID | None = None,
    owner: str | None = None,
    partner_id: UUID | None = None,
    priority: Priority = "normal",
    duplicate_of: UUID | None = None,
    routed_by_rule: UUID | None = None,
    channel: Literal["manual", "intake"] = "manual",
    custom: CustomValues | None = None,
) -> list[LeadEvent]:
    """``custom``: values checked against the definitions (``domain.custom_fields``)."""
    if priority not in PRIORITIES:
        raise InvalidInput(f"priority is one of {', '.join(PRIORITIES)}.")
    return [
        LeadCreated(
            personal=check_personal(personal),
            company=tidy_text(company),
            source=tidy_text(source),
            campaign_id=campaign_id,
            owner=check_owner(owner),
            partner_id=partner_id,
            priority=priority,
            duplicate_of=duplicate_of,
            routed_by_rule=routed_by_rule,
            channel=channel,
            custom=dict(custom or {}),
        )
    ]


def edit(
    lead: Lead,
    *,
    personal: PersonalData | None = None,
    company: str | msgspec.UnsetType | None = msgspec.UNSET,
    source: str | msgspec.UnsetType | None = msgspec.UNSET,
    campaign_id: UUID | msgspec.UnsetType | None = msgspec.UNSET,
    priority: Priority | None = None,
) -> list[LeadEvent]:
    """Change what is given; an unchanged value writes nothing."""
    ensure_changeable(lead)
    events: list[LeadEvent] = []
    if personal is not None:
        personal = check_personal(personal)
        if personal != lead.personal:
            events.append(LeadPersonalDataChanged(personal=personal))
    if priority is not None and priority not in PRIORITIES:
        raise InvalidInput(f"priority is one of {', '.join(PRIORITIES)}.")
    details = LeadDetailsChanged(
        company=lead.company if company is msgspec.UNSET else tidy_text(company),
        source=lead.source if source is msgspec.UNSET else tidy_text(source),
        campaign_id=lead.campaign_id if campaign_id is msgspec.UNSET else campaign_id,
        priority=priority or lead.priority,
    )
    if (details.company, details.source, details.campaign_id, details.priority) != (
        lead.company,
        lead.source,
        lead.campaign_id,
        lead.priority,
    ):
        events.append(details)
    return events


def set_custom(lead: Lead, changes: CustomChanges) -> list[LeadEvent]:
    """Custom values checked against the definitions, only those that differ (None:
    cleared); none writes nothing. Like an edit: closed leads too, not archived ones."""
    ensure_changeable(lead)
    return [LeadCustomFieldsChanged(custom=dict(changes))] if changes else []


def assign(lead: Lead, owner: str | None) -> list[LeadEvent]:
    ensure_open(lead)
    owner = check_owner(owner)
    if owner == lead.owner and not lead.shares:
        if owner is None:
            raise RuleViolated("the lead is already in the free pool.")
        raise RuleViolated(f"the lead is already assigned to {owner}.")
    return [LeadAssigned(owner=owner, previous_owner=lead.owner)]


def split(lead: Lead, shares: dict[str, int]) -> list[LeadEvent]:
    ensure_open(lead)
    checked = check_shares(shares)
    if checked == lead.shares:
        raise RuleViolated("the lead is already split that way.")
    return [LeadSplit(shares=checked)]


def _check_activity_kind(kind: str) -> ActivityKind:
    if kind not in ACTIVITY_KINDS:
        raise InvalidInput(f"an activity kind is one of {', '.join(ACTIVITY_KINDS)}.")
    return kind


def log_activity(
    lead: Lead,
    *,
    activity_id: UUID,
    kind: str,
    subject: str,
    occurred_at: datetime,
    notes: str | None = None,
) -> list[LeadEvent]:
    ensure_open(lead)
    if any(a.id == activity_id for a in lead.activities):
        raise RuleViolated(f"the lead already has an activity {activity_id}.")
    text = tidy_text(subject)
    if text is None:
        raise InvalidInput("a sales activity needs a subject.")
    events: list[LeadEvent] = [
        LeadActivityLogged(
            activity_id=activity_id,
            activity_kind=_check_activity_kind(kind),
            occurred_at=occurred_at,
            subject=text,
            notes=notes.strip() if notes and notes.strip() else None,
        )
    ]
    if lead.status == "new":
        events.append(LeadWorkStarted())
    return events


def _activity(lead: Lead, activity_id: UUID) -> LeadActivity:
    for activity in lead.activities:
        if activity.id == activity_id:
            return activity
    raise NotFound(f"the lead has no sales activity {activity_id}.")


def edit_activity(
    lead: Lead,
    activity_id: UUID,
    *,
    kind: str | None = None,
    subject: str | None = None,
    occurred_at: datetime | None = None,
    notes: str | None = None,
) -> list[LeadEvent]:
    ensure_open(lead)
    current = _activity(lead, activity_id)
    text = current.subject if subject is None else tidy_text(subject)
    if text is None:
        raise InvalidInput("a sales activity needs a subject.")
    edited = LeadActivityEdited(
        activity_id=activity_id,
        activity_kind=current.kind if kind is None else _check_activity_kind(kind),
        occurred_at=occurred_at or current.occurred_at,
        subject=text,
        notes=current.notes if notes is None else (notes.strip() or None),
    )
    if (edited.activity_kind, edited.occurred_at, edited.subject, edited.notes) == (
        current.kind,
        current.occurred_at,
        current.subject,
        current.notes,
    ):
        return []
    return [edited]


def delete_activity(lead: Lead, activity_id: UUID) -> list[LeadEvent]:
    ensure_open(lead)
    _activity(lead, activity_id)
    return [LeadActivityDeleted(activity_id=activity_id)]


def add_to_account(lead: Lead, account_id: UUID) -> list[LeadEvent]:
    ensure_open(lead)
    if lead.account_id == account_id:
        raise RuleViolated("the lead is already added to that account.")
    return [LeadAddedToAccount(account_id=account_id)]


def add_to_partner(lead: Lead, partner_id: UUID) -> list[LeadEvent]:
    ensure_open(lead)
    if lead.partner_id == partner_id:
        raise RuleViolated("the lead is already with that partner.")
    return [LeadAddedToPartner(partner_id=partner_id)]


def qualify(lead: Lead, *, opportunity_id: UUID, account_id: UUID) -> list[LeadEvent]:
    """The opportunity (and the account when new) is created in the same save."""
    ensure_open(lead)
    if lead.owner is None:
        raise RuleViolated("assign the lead before qualifying it: an opportunity needs an owner.")
    return [LeadQualified(opportunity_id=opportunity_id, account_id=account_id)]


def disqualify(lead: Lead, status: str, reason: str) -> list[LeadEvent]:
    ensure_open(lead)
    if status not in DISQUALIFIED_AS:
        raise InvalidInput(f"a disqualified lead's status is one of {', '.join(DISQUALIFIED_AS)}.")
    text = tidy_text(reason)
    if text is None:
        raise InvalidInput("say why the lead is disqualified.")
    return [LeadDisqualified(disqualified_as=status, reason=text)]


def archive(lead: Lead) -> list[LeadEvent]:
    ensure_exists(lead)
    if lead.archived:
        raise RuleViolated("the lead is already archived.")
    return [LeadArchived()]


def unarchive(lead: Lead) -> list[LeadEvent]:
    ensure_exists(lead)
    if not lead.archived:
        raise RuleViolated("the lead is not archived.")
    return [LeadUnarchived()]


def anonymize(lead: Lead) -> list[LeadEvent]:
    if lead.anonymized:
        raise RuleViolated(f"lead {lead.id} is already anonymized.")
    return [LeadAnonymized()]
