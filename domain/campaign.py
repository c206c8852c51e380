"""Campaigns: the marketing efforts leads (and the opportunities made from them) come from.

An archived campaign takes no new leads; what it brought stays counted.
"""

from __future__ import annotations

from datetime import date
from typing import ClassVar

from domain.aggregate import AggregateState, Event, created, evolve
from domain.errors import InvalidInput, RuleViolated


class Campaign(AggregateState, frozen=True, kw_only=True):
    kind: ClassVar[str] = "campaign"
    name: str
    channel: str | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    archived: bool = False


class CampaignCreated(Event[Campaign], frozen=True, kw_only=True):
    name: str
    channel: str | None = None
    starts_on: date | None = None
    ends_on: date | None = None

    def apply(self, state: Campaign | None) -> Campaign:
        return created(Campaign, self)


class CampaignArchived(Event[Campaign], frozen=True, kw_only=True):
    def apply(self, state: Campaign) -> Campaign:
        return evolve(state, archived=True)


CampaignEvent = CampaignCreated | CampaignArchived


def create(
    name: str,
    *,
    channel: str | None = None,
    starts_on: date | None = None,
    ends_on: date | None = None,
) -> list[CampaignEvent]:
    name = " ".join(name.split())
    if not name:
        raise InvalidInput("a campaign needs a name.")
    if starts_on is not None and ends_on is not None and ends_on < starts_on:
        raise InvalidInput("a campaign cannot end before it starts.")
    channel = " ".join(channel.split()) if channel else None
    return [
        CampaignCreated(name=name, channel=channel or None, starts_on=starts_on, ends_on=ends_on)
    ]


def archive(campaign: Campaign) -> list[CampaignEvent]:
    if campaign.archived:
        raise RuleViolated(f"campaign {campaign.name!r} is already archived.")
    return [CampaignArchived()]


def ensure_takes_leads(campaign: Campaign) -> None:
    if campaign.archived:
        raise RuleViolated(f"campaign {campaign.name!r} is archived; it takes no new leads.")
