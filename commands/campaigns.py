"""Commands on campaigns: create, archive (an archived campaign takes no new leads)."""

from __future__ import annotations

from datetime import date
from uuid import UUID

import msgspec

from commands.bus import Answer, Handlers, change
from commands.unit_of_work import UnitOfWork
from domain import campaign as campaigns
from domain.campaign import Campaign


class CreateCampaign(msgspec.Struct, frozen=True, kw_only=True):
    campaign_id: UUID
    name: str
    channel: str | None = None
    starts_on: date | None = None
    ends_on: date | None = None


class ArchiveCampaign(msgspec.Struct, frozen=True, kw_only=True):
    campaign_id: UUID


def campaign_taking_leads(uow: UnitOfWork, campaign_id: UUID | None) -> UUID | None:
    """The campaign a new or edited lead names, refused when it takes no new leads."""
    if campaign_id is not None:
        campaigns.ensure_takes_leads(uow.get(Campaign, campaign_id))
    return campaign_id


def create_campaign(uow: UnitOfWork, command: CreateCampaign) -> Answer:
    uow.ensure_new(command.campaign_id)
    uow.record(
        command.campaign_id,
        campaigns.create(
            command.name,
            channel=command.channel,
            starts_on=command.starts_on,
            ends_on=command.ends_on,
        ),
    )
    return Answer(id=command.campaign_id, created=True)


def archive_campaign(uow: UnitOfWork, command: ArchiveCampaign) -> Answer:
    return change(uow, Campaign, command.campaign_id, campaigns.archive)


HANDLERS: Handlers = {
    CreateCampaign: create_campaign,
    ArchiveCampaign: archive_campaign,
}
