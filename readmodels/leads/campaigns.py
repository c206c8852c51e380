"""Campaigns as of any position: listed in pages, and reported with the leads of each, how
many were qualified (conversion) and the opportunities made for it (the leads read model's
``campaign_versions`` and ``campaign_opportunities`` tables)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from decimal import Decimal
from typing import Any, Literal

from domain.money import EXACT, round_half_up
from readmodels.leads.queries import CONVERSION_PLACES, count_leads, scoped
from readmodels.leads.tables import CAMPAIGN_OPPORTUNITIES, CAMPAIGN_TABLE, CampaignRow
from readmodels.scope import Scope
from readmodels.slice import Kind, Rows
from readmodels.versions import KeyPart, Order, Page, created, current, keyset_page, null_last

# The orders GET /campaigns pages in: ``created`` (the order they were made in), or by a
# field, ties in that order; ``-`` reverses the whole order.
CampaignSort = Literal[
    "created", "-created", "name", "-name", "starts_on", "-starts_on", "ends_on", "-ends_on"
]
_CAMPAIGN_SORT_KEYS: dict[str, tuple[tuple[str, Kind], ...]] = {
    "created": (),
    "name": (("name", "text"),),
    # Campaigns without the date last (first, descending).
    "starts_on": ((null_last("starts_on"), "int"), ("starts_on", "date")),
    "ends_on": ((null_last("ends_on"), "int"), ("ends_on", "date")),
}


def campaign_order(sort: CampaignSort) -> Order:
    """The keyset order of ``GET /campaigns?sort=``."""
    parts = _CAMPAIGN_SORT_KEYS[sort.removeprefix("-")]
    return Order((*parts, (created(CAMPAIGN_TABLE), "bigint")), descending=sort.startswith("-"))


def campaigns(
    rows: Rows, position: int | None, where: Sequence[tuple[str, Any]] = ()
) -> list[CampaignRow]:
    """The campaigns as they stood at ``position`` (None: now), by name then id;
    filtered by column equality."""
    kinds = dict(zip(CAMPAIGN_TABLE.column_names, CAMPAIGN_TABLE.kinds(), strict=True))
    clauses: list[str] = []
    params: list[Any] = []
    for column, value in where:
        if column not in kinds:
            raise ValueError(f"not a campaign filter: {column!r}")
        clauses.append(f"{column} = ?")
        params.append(rows.param(kinds[column], value))
    return current(
        rows,
        CAMPAIGN_TABLE,
        CampaignRow,
        position=position,
        clauses=clauses,
        params=params,
        order="name, id",
    )


def campaign_opportunities(
    rows: Rows, position: int | None, deals: Collection[str] | None = None
) -> dict[str, int]:
    """How many opportunities were made for each campaign by ``position`` (None: now),
    counting only ``deals`` (ids) when given."""
    clause, params = ("", []) if position is None else (" WHERE valid_from <= ?", [position])
    found = rows.select(
        f"SELECT campaign_id, opportunity_id FROM {CAMPAIGN_OPPORTUNITIES}{clause}", params
    )
    counts: dict[str, int] = defaultdict(int)
    for campaign, opportunity in found:
        if deals is None or str(opportunity) in deals:
            counts[str(campaign)] += 1
    return dict(counts)


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
    rows: Rows,
    position: int | None,
    archived: bool | None = None,
    *,
    sort: CampaignSort = "created",
    after: Sequence[KeyPart] | None = None,
    limit: int | None = None,
) -> Page[CampaignRow]:
    """The campaigns as they stood at ``position``, in ``sort`` order, after the campaign
    whose key is ``after``, at most ``limit`` of them."""
    clauses, params = ([], []) if archived is None else (["archived = ?"], [archived])
    return keyset_page(
        rows,
        CAMPAIGN_TABLE,
        CampaignRow,
        campaign_order(sort),
        position=position,
        clauses=clauses,
        params=[rows.param("flag", value) for value in params],
        after=after,
        limit=limit,
    )


def conversion(qualified: int, leads: int) -> str | None:
    """qualified / leads to 4 places (ROUND_HALF_UP), as text; None without leads."""
    if leads == 0:
        return None
    ratio = round_half_up(EXACT.divide(Decimal(qualified), Decimal(leads)), CONVERSION_PLACES)
    return str(ratio)


def campaign_report(
    rows: Rows,
    position: int | None,
    archived: bool | None = None,
    *,
    scope: Scope | None = None,
    deals: Collection[str] | None = None,
) -> list[dict[str, Any]]:
    """Per campaign (by name): its leads (every lead with the campaign now, archived and
    anonymized ones too), how many are qualified and disqualified, ``conversion =
    qualified / leads``, and the opportunities made for it. A campaign id that leads name
    but no campaign row does (none of the commands allows it) is listed with a null name.
    Under a ``scope``, only the leads it may see count, and only the opportunities among
    ``deals`` (the ones it may see)."""
    statuses: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    where = scoped([], scope, position)
    for campaign_id, status, count in count_leads(rows, position, where, ("campaign_id", "status")):
        if campaign_id is not None:
            statuses[campaign_id][status] += count
    opportunities = campaign_opportunities(rows, position, deals)
    standing = campaigns(rows, position)
    known = {c.id for c in standing}
    unknown = sorted((set(statuses) | set(opportunities)) - known)
    report = []
    for campaign_id, campaign in [
        *((c.id, c) for c in standing),
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
