"""What the lead and contact routes answer: a lead, the leads read model (list,
summary), campaigns (one, the list, the report), the lead rules, a contact. Schemas only:
``adapters.http.answers`` says why.

A lead's personal fields (names, contact, notes, ``extra``, its activities' subject and
notes) and a contact's (names, e-mail, phone) read null once it is anonymized, and for
analysts and auditors (``masked``), so each is nullable whatever it is otherwise.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from adapters.http.answers import CUSTOM, Answer, AsOf, CustomValue, Day, Decimal, Id, Instant
from domain.lead.state import DisqualifiedAs, LeadStatus, Priority
from domain.lead_routing import Operator
from domain.opportunity.state import ActivityKind

ANONYMIZED = "Its personal data cannot be read any more (its key is destroyed)"
MASKED = "Its personal fields read null: the caller's role may not see them"

# --- one lead ------------------------------------------------------------------------


class LeadShareAnswer(Answer):
    user: str
    percent: int


class LeadActivity(Answer):
    id: Id
    kind: ActivityKind
    occurred_at: Instant
    subject: str | None = Field(description="Personal data: null when masked or anonymized")
    notes: str | None = Field(description="Personal data: null when masked or anonymized")


class Lead(Answer):
    id: Id
    version: int
    first_name: str | None
    last_name: str | None
    email: str | None
    phone: str | None
    address: str | None
    notes: str | None
    extra: dict[str, str] | None = Field(description="Further fields an intake tool sent")
    anonymized: bool = Field(description=ANONYMIZED)
    masked: bool = Field(description=MASKED)
    company: str | None
    source: str | None
    campaign_id: Id | None
    owner: str | None
    shares: list[LeadShareAnswer] = Field(description="A split lead's owners and their shares")
    pool: bool = Field(description="In the free pool: no owner, no partner")
    partner_id: Id | None
    account_id: Id | None
    priority: Priority
    status: LeadStatus
    disqualified_as: DisqualifiedAs | None
    disqualify_reason: str | None
    opportunity_id: Id | None = Field(description="The opportunity it was qualified into")
    duplicate_of: Id | None
    routed_by_rule: Id | None
    archived: bool
    private: bool
    shared_with: list[str]
    activities: list[LeadActivity]
    custom: dict[str, CustomValue] = CUSTOM


# --- the leads read model ------------------------------------------------------------


class LeadListed(Answer):
    """A lead as the leads read model has it (as of the position asked for), with its
    personal data opened for this answer where it can be."""

    id: Id
    status: LeadStatus
    disqualified_as: DisqualifiedAs | None
    source: str | None
    campaign_id: Id | None
    owner: str | None
    partner_id: Id | None
    pool: bool = Field(description="In the free pool: no owner, no partner")
    account_id: Id | None
    company: str | None
    priority: Priority
    opportunity_id: Id | None
    duplicate_of: Id | None
    channel: Literal["manual", "intake"] = Field(description="How it came in")
    archived: bool
    anonymized: bool = Field(description=ANONYMIZED + " (by the position asked for)")
    activities: int = Field(description="How many activities it has")
    created_at: Instant
    updated_at: Instant
    first_name: str | None
    last_name: str | None
    email: str | None
    phone: str | None
    address: str | None
    masked: bool = Field(description=MASKED)


class LeadList(Answer):
    """``GET /leads``: a page of the leads, in the envelope of every list."""

    items: list[LeadListed]
    next_cursor: str | None = Field(description="The next page's cursor; null: the last page")
    as_of: AsOf


# ``GET /leads/summary``: one shape per ``by``, each row naming its group under the
# grouping's name (``{"status": "new", "count": 3}``; null: leads without one).


class LeadStatusCount(Answer):
    status: LeadStatus
    count: int


class LeadSourceCount(Answer):
    source: str | None
    count: int


class LeadCampaignCount(Answer):
    campaign: Id | None = Field(description="The campaign's id")
    count: int


class LeadOwnerCount(Answer):
    owner: str | None
    count: int


class LeadSummaryByStatus(Answer):
    as_of: AsOf
    by: Literal["status"]
    rows: list[LeadStatusCount]


class LeadSummaryBySource(Answer):
    as_of: AsOf
    by: Literal["source"]
    rows: list[LeadSourceCount]


class LeadSummaryByCampaign(Answer):
    as_of: AsOf
    by: Literal["campaign"]
    rows: list[LeadCampaignCount]


class LeadSummaryByOwner(Answer):
    as_of: AsOf
    by: Literal["owner"]
    rows: list[LeadOwnerCount]


LeadSummary = Annotated[
    LeadSummaryByStatus | LeadSummaryBySource | LeadSummaryByCampaign | LeadSummaryByOwner,
    Field(discriminator="by"),
]

# --- campaigns -----------------------------------------------------------------------


class CampaignListed(Answer):
    id: Id
    name: str
    channel: str | None
    starts_on: Day | None
    ends_on: Day | None
    archived: bool


class Campaign(CampaignListed):
    version: int


class CampaignList(Answer):
    """``GET /campaigns``: a page of the campaigns, in the envelope of every list."""

    items: list[CampaignListed]
    next_cursor: str | None = Field(description="The next page's cursor; null: the last page")
    as_of: AsOf


class CampaignRow(Answer):
    campaign_id: Id
    name: str | None = Field(description="null: a campaign its leads name but none is")
    archived: bool | None
    leads: int
    qualified: int
    disqualified: int
    conversion: Decimal | None = Field(
        description="qualified / leads, to 4 places; null without leads"
    )
    opportunities: int = Field(description="Opportunities made for it")


class CampaignReport(Answer):
    as_of: AsOf
    rows: list[CampaignRow]


# --- lead rules ----------------------------------------------------------------------


class ConditionAnswer(Answer):
    field: str
    op: Operator
    value: str | list[str] = Field(description="A list for `in`, a text otherwise")


class AssignAction(Answer):
    assign: str = Field(description="The user the lead is given to")


class PartnerAction(Answer):
    partner: Id


class PriorityAction(Answer):
    priority: Priority


class SplitAction(Answer):
    split: dict[str, int] = Field(description="Each user's share, in percent")


class LeadRuleAnswer(Answer):
    id: Id
    priority: int = Field(description="Rules are tried by this, lowest first")
    conditions: list[ConditionAnswer]
    action: AssignAction | PartnerAction | PriorityAction | SplitAction
    counts: dict[str, int] | None = Field(
        description="A split's: how many leads each user was given; null otherwise"
    )


# --- one contact ---------------------------------------------------------------------


class ContactListed(Answer):
    """A contact as lists show it (``GET /contacts``)."""

    id: Id
    version: int
    first_name: str | None
    last_name: str | None
    email: str | None
    phone: str | None
    anonymized: bool = Field(description=ANONYMIZED)
    masked: bool = Field(description=MASKED)
    title: str | None
    account_id: Id | None
    owner: str | None
    lead_id: Id | None = Field(description="The lead whose qualification made it")
    private: bool
    shared_with: list[str]
    created_at: Instant
    updated_at: Instant


class Contact(ContactListed):
    """One contact (``GET /contacts/{id}``): as listed, with its custom values."""

    custom: dict[str, CustomValue] = CUSTOM
    as_of: AsOf
