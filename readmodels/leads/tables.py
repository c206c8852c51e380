"""The leads read model's tables: every version of every lead and campaign
(``readmodels.versions``), and the opportunities made for each campaign.

No personal data in the clear: ``personal_sealed`` is the event store's ciphertext of it.
"""

from __future__ import annotations

from datetime import date

import msgspec

from readmodels.custom_values import CustomTexts
from readmodels.slice import Column, Table, table
from readmodels.versions import versioned_table

LEAD_VERSIONS = table("lead_versions")
LEADS = table("leads")  # a view: the current version of each lead
CAMPAIGN_VERSIONS = table("campaign_versions")
CAMPAIGNS = table("campaigns")  # a view: the current version of each campaign
CAMPAIGN_OPPORTUNITIES = table("campaign_opportunities")

LEAD_TABLE = versioned_table(
    LEAD_VERSIONS,
    LEADS,
    (
        Column("status", "text", True),
        Column("disqualified_as", "text"),
        Column("source", "text"),
        Column("campaign_id", "id"),
        Column("owner", "text"),
        Column("partner_id", "id"),
        Column("account_id", "id"),
        Column("company", "text"),
        Column("priority", "text", True),
        Column("opportunity_id", "id"),
        Column("duplicate_of", "id"),
        Column("channel", "text", True),
        Column("archived", "flag", True),
        Column("anonymized", "flag", True),
        Column("activities", "int", True),
        Column("created_at", "instant", True),
        Column("updated_at", "instant", True),
        Column("personal_sealed", "text"),
        # key → canonical text of each custom value (``readmodels.custom_values``).
        Column("custom", "json", True),
    ),
    indexes=(("status",), ("campaign_id",), ("owner",)),
)
CAMPAIGN_TABLE = versioned_table(
    CAMPAIGN_VERSIONS,
    CAMPAIGNS,
    (
        Column("name", "text", True),
        Column("channel", "text"),
        Column("starts_on", "date"),
        Column("ends_on", "date"),
        Column("archived", "flag", True),
        Column("updated_at", "instant", True),
    ),
)
OPPORTUNITIES_TABLE = Table(
    CAMPAIGN_OPPORTUNITIES,
    (
        Column("opportunity_id", "id", True),
        Column("campaign_id", "id", True),
        Column("lead_id", "id"),
        Column("valid_from", "bigint", True),  # the opportunity's creation
    ),
    key=("opportunity_id",),
    indexes=(("campaign_id",),),
)
TABLES = (LEAD_TABLE, CAMPAIGN_TABLE, OPPORTUNITIES_TABLE)


class LeadRow(msgspec.Struct, array_like=True):
    """One version of a lead (the table's columns but ``valid_to``).

    ``personal_sealed`` is the ciphertext the event store keeps of the latest
    ``LeadCreated`` / ``LeadPersonalDataChanged`` (None once the lead is anonymized);
    only the lead's key opens it, and anonymize destroys that key.
    """

    id: str
    valid_from: int  # the log position this version begins at
    status: str  # new working qualified disqualified
    disqualified_as: str | None
    source: str | None
    campaign_id: str | None
    owner: str | None  # None: unassigned (the free pool, unless with a partner)
    partner_id: str | None
    account_id: str | None
    company: str | None
    priority: str
    opportunity_id: str | None
    duplicate_of: str | None
    channel: str  # manual or intake
    archived: bool
    anonymized: bool
    activities: int  # sales activities on the lead now
    created_at: int  # micros
    updated_at: int  # micros
    personal_sealed: str | None
    custom: CustomTexts  # key → canonical text (domain.custom_fields.text_of)


class CampaignRow(msgspec.Struct, array_like=True):
    """One version of a campaign (the table's columns but ``valid_to``)."""

    id: str
    valid_from: int
    name: str
    channel: str | None
    starts_on: date | None
    ends_on: date | None
    archived: bool
    updated_at: int  # micros
