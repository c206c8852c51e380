"""A lead's state: its statuses, owner or shares, activities and personal data."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar, Literal
from uuid import UUID

import msgspec

from domain.aggregate import AggregateState
from domain.custom_values import CustomValues
from domain.opportunity import ActivityKind
from domain.personal_data import PersonalData

__all__ = [
    "DISQUALIFIED_AS",
    "PRIORITIES",
    "DisqualifiedAs",
    "Lead",
    "LeadActivity",
    "LeadShare",
    "LeadStatus",
    "Priority",
]

LeadStatus = Literal["new", "working", "qualified", "disqualified"]
Priority = Literal["low", "normal", "high", "urgent"]
PRIORITIES: tuple[Priority, ...] = ("low", "normal", "high", "urgent")
# Why a lead was disqualified, beside the free-text reason.
DisqualifiedAs = Literal["unqualified", "not_interested", "lost", "junk", "duplicate"]
DISQUALIFIED_AS: tuple[DisqualifiedAs, ...] = (
    "unqualified",
    "not_interested",
    "lost",
    "junk",
    "duplicate",
)


class LeadShare(msgspec.Struct, frozen=True, kw_only=True):
    user: str
    percent: int


class LeadActivity(msgspec.Struct, frozen=True, kw_only=True):
    """A sales activity on a lead; subject and notes are about the person (personal data)."""

    id: UUID
    kind: ActivityKind
    occurred_at: datetime
    subject: str | None
    notes: str | None = None


class Lead(AggregateState, frozen=True, kw_only=True):
    kind: ClassVar[str] = "lead"
    # None once anonymized.
    personal: PersonalData | None
    company: str | None = None
    source: str | None = None
    campaign_id: UUID | None = None
    # None and no shares: the lead is in the free pool.
    owner: str | None = None
    shares: tuple[LeadShare, ...] = ()
    partner_id: UUID | None = None
    account_id: UUID | None = None
    priority: Priority = "normal"
    status: LeadStatus = "new"
    disqualified_as: DisqualifiedAs | None = None
    disqualify_reason: str | None = None
    opportunity_id: UUID | None = None
    duplicate_of: UUID | None = None
    routed_by_rule: UUID | None = None
    activities: tuple[LeadActivity, ...] = ()
    archived: bool = False
    anonymized: bool = False
    # Seen only by its owners, those it is shared with, and the reading roles (domain.sharing).
    private: bool = False
    shared_with: tuple[str, ...] = ()
    # Values of the lead custom fields (``domain.custom_fields``), canonical; not personal
    # data (lists filter on them).
    custom: CustomValues = {}

    @property
    def in_pool(self) -> bool:
        return self.owner is None and not self.shares and self.partner_id is None
