"""The leads read model: leads by status, source, campaign and owner; campaigns, and per
campaign its leads, how many were qualified (conversion) and the opportunities made for it.

As the contracts read model: each change of a lead (of a campaign) is a new version of
its row in ``lead_versions_v2`` (``campaign_versions_v2``), ``valid_from`` … ``valid_to``
log positions, written by the sales projector in the same transaction as its tracking
position, so the leads as they stood at any position are a plain query; ``leads_v2``
and ``campaigns_v2`` (views) are the current versions. ``campaign_opportunities_v2``
holds, insert only, each opportunity made for a campaign with the position it was made at.

No personal data in the clear: a lead row carries only ``personal_sealed``, the ciphertext
the event store keeps; the HTTP route opens it with the lead's key (gone once anonymized).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, Literal, Protocol
from uuid import UUID

import msgspec

from domain.errors import InvalidInput
from domain.money import EXACT, round_half_up
from readmodels.rows import CampaignRow, LeadRow, instant

LEAD_STATUSES = ("new", "working", "qualified", "disqualified")
Grouping = Literal["status", "source", "campaign", "owner"]
GROUPINGS: tuple[Grouping, ...] = ("status", "source", "campaign", "owner")
_COLUMN: dict[Grouping, str] = {
    "status": "status",
    "source": "source",
    "campaign": "campaign_id",
    "owner": "owner",
}
CONVERSION_PLACES = 4
MAX_LIMIT = 10_000


class LeadRows(Protocol):
    def leads(
        self,
        position: int | None,
        where: Sequence[tuple[str, Any]] = (),
        *,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[LeadRow]: ...

    def count_leads(
        self,
        position: int | None,
        where: Sequence[tuple[str, Any]] = (),
        by: Sequence[str] = (),
    ) -> list[tuple[Any, ...]]: ...

    def campaigns(
        self, position: int | None, where: Sequence[tuple[str, Any]] = ()
    ) -> list[CampaignRow]: ...

    def campaign_opportunities(self, position: int | None) -> dict[str, int]: ...


class LeadFilters(msgspec.Struct, frozen=True, kw_only=True):
    status: str | None = None
    source: str | None = None
    campaign_id: UUID | None = None
    owner: str | None = None
    pool: bool | None = None  # True: no owner and no partner; False: the others
    archived: bool | None = None
    anonymized: bool | None = None

    def __post_init__(self) -> None:
        if self.status is not None and self.status not in LEAD_STATUSES:
            raise InvalidInput(f"status {self.status!r} is not one of {', '.join(LEAD_STATUSES)}.")

    def where(self) -> list[tuple[str, Any]]:
        where: list[tuple[str, Any]] = []
        for column in self.__struct_fields__:
            value = getattr(self, column)
            if value is not None:
                where.append((column, value))
        return where


class Page(msgspec.Struct, frozen=True, kw_only=True):
    limit: int | None = None
    offset: int = 0

    def __post_init__(self) -> None:
        if self.limit is not None and not 1 <= self.limit <= MAX_LIMIT:
            raise InvalidInput(f"limit is from 1 to {MAX_LIMIT}.")
        if self.offset < 0:
            raise InvalidInput("offset is 0 or more.")


def _moment(micros: int) -> str:
    return instant(micros).isoformat(timespec="microseconds")


def lead_view(row: LeadRow) -> dict[str, Any]:
    """A lead without its personal data (the route adds it when it can be opened)."""
    return {
        "id": row.id,
        "status": row.status,
        "disqualified_as": row.disqualified_as,
        "source": row.source,
        "campaign_id": row.campaign_id,
        "owner": row.owner,
        "partner_id": row.partner_id,
        "pool": row.owner is None and row.partner_id is None,
        "account_id": row.account_id,
        "company": row.company,
        "priority": row.priority,
        "opportunity_id": row.opportunity_id,
        "duplicate_of": row.duplicate_of,
        "channel": row.channel,
        "archived": row.archived,
        "anonymized": row.anonymized,
        "activities": row.activities,
        "created_at": _moment(row.created_at),
        "updated_at": _moment(row.updated_at),
    }


def list_leads(
    rows: LeadRows, filters: LeadFilters, position: int | None, page: Page | None = None
) -> list[LeadRow]:
    """The lead rows (personal data still sealed), oldest first."""
    page = page or Page()
    return rows.leads(position, filters.where(), limit=page.limit, offset=page.offset)


def summary(
    rows: LeadRows, filters: LeadFilters, position: int | None, by: Grouping
) -> list[dict[str, Any]]:
    """How many leads per status, source, campaign or owner (none: null, listed first)."""
    if by not in GROUPINGS:
        raise InvalidInput(f"by is one of {', '.join(GROUPINGS)}.")
    counts = rows.count_leads(position, filters.where(), (_COLUMN[by],))
    return [
        {by: group, "count": count}
        for group, count in sorted(counts, key=lambda r: (r[0] is not None, r[0] or ""))
    ]


def campaign_view(row: CampaignRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "channel": row.channel,
        "starts_on": None if row.starts_on is None else row.starts_on.isoformat(),
        "ends_on": None if row.ends_on is None else row.ends_on.isoformat(),
        "archived": row.archived,
    }


def list_campaigns(
    rows: LeadRows, position: int | None, archived: bool | None = None
) -> list[dict[str, Any]]:
    where = [] if archived is None else [("archived", archived)]
    return [campaign_view(row) for row in rows.campaigns(position, where)]


def conversion(qualified: int, leads: int) -> str | None:
    """qualified / leads to 4 places (ROUND_HALF_UP), as text; None without leads."""
    if leads == 0:
        return None
    ratio = round_half_up(EXACT.divide(Decimal(qualified), Decimal(leads)), CONVERSION_PLACES)
    return str(ratio)


def campaign_report(
    rows: LeadRows, position: int | None, archived: bool | None = None
) -> list[dict[str, Any]]:
    """Per campaign (by name): its leads (every lead with the campaign now, archived and
    anonymized ones too), how many are qualified and disqualified, ``conversion =
    qualified / leads``, and the opportunities made for it. A campaign id that leads name
    but no campaign row does (none of the commands allows it) is listed with a null name."""
    statuses: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for campaign_id, status, count in rows.count_leads(position, (), ("campaign_id", "status")):
        if campaign_id is not None:
            statuses[campaign_id][status] += count
    opportunities = rows.campaign_opportunities(position)
    campaigns = rows.campaigns(position)
    known = {c.id for c in campaigns}
    unknown = sorted((set(statuses) | set(opportunities)) - known)
    report = []
    for campaign_id, campaign in [
        *((c.id, c) for c in campaigns),
        *((i, None) for i in unknown),
    ]:
        if archived is not None and (campaign is None or campaign.archived != archived):
            continue
        counts = statuses.get(campaign_id, {})
        leads = sum(counts.values())
        qualified = counts.get("qualified", 0)
        report.append(
            {
                "campaign_id": campaign_id,
                "name": None if campaign is None else campaign.name,
                "archived": None if campaign is None else campaign.archived,
                "leads": leads,
                "qualified": qualified,
                "disqualified": counts.get("disqualified", 0),
                "conversion": conversion(qualified, leads),
                "opportunities": opportunities.get(campaign_id, 0),
            }
        )
    return report
