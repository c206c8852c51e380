"""How lead, campaign and campaign-opportunity events change the leads read model.

Each change of a lead or campaign is a new version of its row. Personal data never
reaches these rows: events carrying it arrive as stored (their personal fields
null), and a lead row keeps only ``sealed``, the ciphertext.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from domain import lead
from domain.campaign import CampaignArchived, CampaignCreated
from domain.events import DomainEvent
from domain.opportunity import OpportunityCreated
from readmodels.custom_values import changed_texts, texts
from readmodels.leads.tables import CAMPAIGN_TABLE, LEAD_TABLE, CampaignRow, LeadRow
from readmodels.values import micros, text
from readmodels.versions import Versions

# An opportunity made for a campaign: (opportunity_id, campaign_id, lead_id, position made)
CampaignOpportunity = tuple[str, str, str | None, int]


class Leads:
    """The leads read model's state: the current version of each lead and campaign, and
    the opportunities made for a campaign since the last write."""

    def __init__(self) -> None:
        self.leads = Versions(LEAD_TABLE, LeadRow)
        self.campaigns = Versions(CAMPAIGN_TABLE, CampaignRow)
        self.campaign_opportunities: list[CampaignOpportunity] = []


def _change(state: Leads, e: DomainEvent, position: int, key: str, **changes: Any) -> None:
    state.leads.change(key, position, e.recorded_at, **changes)


def _created(state: Leads, e: lead.LeadCreated, position: int, key: str) -> None:
    state.leads.begin(
        LeadRow(
            id=key,
            valid_from=position,
            status="new",
            disqualified_as=None,
            source=e.source,
            campaign_id=text(e.campaign_id),
            owner=e.owner,
            partner_id=text(e.partner_id),
            account_id=None,
            company=e.company,
            priority=e.priority,
            opportunity_id=None,
            duplicate_of=text(e.duplicate_of),
            channel=e.channel,
            archived=False,
            anonymized=False,
            activities=0,
            created_at=micros(e.occurred_at),
            updated_at=micros(e.recorded_at),
            personal_sealed=e.sealed,
            custom=texts(e.custom),
        )
    )


def _personal(state: Leads, e: lead.LeadPersonalDataChanged, position: int, key: str) -> None:
    _change(state, e, position, key, personal_sealed=e.sealed)


def _details(state: Leads, e: lead.LeadDetailsChanged, position: int, key: str) -> None:
    _change(
        state,
        e,
        position,
        key,
        company=e.company,
        source=e.source,
        campaign_id=text(e.campaign_id),
        priority=e.priority,
    )


def _custom(state: Leads, e: lead.LeadCustomFieldsChanged, position: int, key: str) -> None:
    _change(state, e, position, key, custom=changed_texts(state.leads[key].custom, e.custom))


def _assigned(state: Leads, e: lead.LeadAssigned, position: int, key: str) -> None:
    _change(state, e, position, key, owner=e.owner)


def _split(state: Leads, e: lead.LeadSplit, position: int, key: str) -> None:
    _change(state, e, position, key, owner=e.shares[0].user)


def _activities(state: Leads, key: str, change: int) -> int:
    return max(state.leads[key].activities + change, 0)


def _activity_logged(state: Leads, e: lead.LeadActivityLogged, position: int, key: str) -> None:
    _change(state, e, position, key, activities=_activities(state, key, 1))


def _activity_edited(state: Leads, e: lead.LeadActivityEdited, position: int, key: str) -> None:
    _change(state, e, position, key)  # what changed is personal: updated_at only


def _activity_deleted(state: Leads, e: lead.LeadActivityDeleted, position: int, key: str) -> None:
    _change(state, e, position, key, activities=_activities(state, key, -1))


def _work_started(state: Leads, e: lead.LeadWorkStarted, position: int, key: str) -> None:
    _change(state, e, position, key, status="working")


def _to_account(state: Leads, e: lead.LeadAddedToAccount, position: int, key: str) -> None:
    _change(state, e, position, key, account_id=str(e.account_id))


def _to_partner(state: Leads, e: lead.LeadAddedToPartner, position: int, key: str) -> None:
    _change(state, e, position, key, partner_id=str(e.partner_id))


def _qualified(state: Leads, e: lead.LeadQualified, position: int, key: str) -> None:
    _change(
        state,
        e,
        position,
        key,
        status="qualified",
        opportunity_id=str(e.opportunity_id),
        account_id=str(e.account_id),
    )


def _disqualified(state: Leads, e: lead.LeadDisqualified, position: int, key: str) -> None:
    _change(state, e, position, key, status="disqualified", disqualified_as=e.disqualified_as)


def _archived(state: Leads, e: lead.LeadArchived, position: int, key: str) -> None:
    _change(state, e, position, key, archived=True)


def _unarchived(state: Leads, e: lead.LeadUnarchived, position: int, key: str) -> None:
    _change(state, e, position, key, archived=False)


def _anonymized(state: Leads, e: lead.LeadAnonymized, position: int, key: str) -> None:
    _change(state, e, position, key, anonymized=True, personal_sealed=None)


def _campaign_created(state: Leads, e: CampaignCreated, position: int, key: str) -> None:
    state.campaigns.begin(
        CampaignRow(
            id=key,
            valid_from=position,
            name=e.name,
            channel=e.channel,
            starts_on=e.starts_on,
            ends_on=e.ends_on,
            archived=False,
            updated_at=micros(e.recorded_at),
        )
    )


def _campaign_archived(state: Leads, e: CampaignArchived, position: int, key: str) -> None:
    state.campaigns.change(key, position, e.recorded_at, archived=True)


def _opportunity_created(state: Leads, e: OpportunityCreated, position: int, key: str) -> None:
    if e.campaign_id is not None:
        state.campaign_opportunities.append((key, str(e.campaign_id), text(e.lead_id), position))


HANDLERS: Mapping[type[DomainEvent], Callable[[Leads, Any, int, str], None]] = {
    lead.LeadCreated: _created,
    lead.LeadPersonalDataChanged: _personal,
    lead.LeadDetailsChanged: _details,
    lead.LeadAssigned: _assigned,
    lead.LeadSplit: _split,
    lead.LeadActivityLogged: _activity_logged,
    lead.LeadActivityEdited: _activity_edited,
    lead.LeadActivityDeleted: _activity_deleted,
    lead.LeadWorkStarted: _work_started,
    lead.LeadAddedToAccount: _to_account,
    lead.LeadAddedToPartner: _to_partner,
    lead.LeadQualified: _qualified,
    lead.LeadDisqualified: _disqualified,
    lead.LeadArchived: _archived,
    lead.LeadUnarchived: _unarchived,
    lead.LeadAnonymized: _anonymized,
    lead.LeadCustomFieldsChanged: _custom,
    CampaignCreated: _campaign_created,
    CampaignArchived: _campaign_archived,
    OpportunityCreated: _opportunity_created,
}
