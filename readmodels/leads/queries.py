"""Leads by status, source, campaign and owner; campaigns, and per campaign its leads, how
many were qualified (conversion) and the opportunities made for it; as of any position.

Each change of a lead (of a campaign) is a new version of its row in ``lead_versions_v4``
(``campaign_versions_v4``), ``valid_from`` … ``valid_to`` log positions
(``readmodels.versions``), written by the projector in the same transaction as its
tracking position, so the leads as they stood at any position are a plain query;
``leads_v4`` and ``campaigns_v4`` (views) are the current versions.
``campaign_opportunities_v4`` holds, insert only, each opportunity made for a campaign
with the position it was made at.

No personal data in the clear: a lead row carries only ``personal_sealed``, the ciphertext
the event store keeps; the HTTP route opens it with the lead's key (gone once anonymized).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from decimal import Decimal
from typing import Any, Literal
from uuid import UUID

import msgspec

from domain.errors import InvalidInput
from domain.money import EXACT, round_half_up
from readmodels.leads.tables import (
    CAMPAIGN_OPPORTUNITIES,
    CAMPAIGN_TABLE,
    LEAD_TABLE,
    LEAD_VERSIONS,
    CampaignRow,
    LeadRow,
)
from readmodels.scope import Scope
from readmodels.slice import Kind, Rows
from readmodels.values import instant
from readmodels.versions import (
    KeyPart,
    Order,
    Page,
    as_of,
    created,
    current,
    keyset_page,
    null_last,
)

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

# The orders GET /leads and GET /campaigns page in: ``created``, the order the records were
# made in (the log's: one made later always comes after), or by a field, ties in that
# order; ``-`` reverses the whole order.
LeadSort = Literal[
    "created",
    "-created",
    "created_at",
    "-created_at",
    "updated_at",
    "-updated_at",
    "status",
    "-status",
]
CampaignSort = Literal[
    "created", "-created", "name", "-name", "starts_on", "-starts_on", "ends_on", "-ends_on"
]
_LEAD_SORT_KEYS: dict[str, tuple[tuple[str, Kind], ...]] = {
    "created": (),
    "created_at": (("created_at", "instant"),),  # when it took effect (may be backdated)
    "updated_at": (("updated_at", "instant"),),
    "status": (("status", "text"),),
}
_CAMPAIGN_SORT_KEYS: dict[str, tuple[tuple[str, Kind], ...]] = {
    "created": (),
    "name": (("name", "text"),),
    # Campaigns without the date last (first, descending).
    "starts_on": ((null_last("starts_on"), "int"), ("starts_on", "date")),
    "ends_on": ((null_last("ends_on"), "int"), ("ends_on", "date")),
}


def lead_order(sort: LeadSort) -> Order:
    """The keyset order of ``GET /leads?sort=``."""
    parts = _LEAD_SORT_KEYS[sort.removeprefix("-")]
    return Order((*parts, (created(LEAD_TABLE), "bigint")), descending=sort.startswith("-"))


def campaign_order(sort: CampaignSort) -> Order:
    """The keyset order of ``GET /campaigns?sort=``."""
    parts = _CAMPAIGN_SORT_KEYS[sort.removeprefix("-")]
    return Order((*parts, (created(CAMPAIGN_TABLE), "bigint")), descending=sort.startswith("-"))


# Lead columns a query may filter or group by (never the sealed personal data).
_LEAD_KINDS = {c.name: c.kind for c in LEAD_TABLE.columns if c.name != "personal_sealed"}
_ID_COLUMNS = {name for name, kind in _LEAD_KINDS.items() if kind == "id"}


POOLED = "owner IS NULL AND partner_id IS NULL"


def _lead_clauses(rows: Rows, where: Sequence[tuple[str, Any]]) -> tuple[list[str], list[Any]]:
    """Clauses filtering leads by column equality (a None value: the column is NULL),
    ``("pool", bool)`` (no owner and no partner) or ``("scope", (Scope, position))`` (the
    leads the scope's user may see then)."""
    clauses: list[str] = []
    params: list[Any] = []
    for column, value in where:
        if column == "pool":
            clauses.append(POOLED if value else f"NOT ({POOLED})")
        elif column == "scope":
            clause, more = _scope_clause(rows, *value)
            clauses.append(clause)
            params.extend(more)
        elif column not in _LEAD_KINDS:
            raise ValueError(f"not a lead filter: {column!r}")
        elif value is None:
            clauses.append(f"{column} IS NULL")
        else:
            clauses.append(f"{column} = ?")
            params.append(rows.param(_LEAD_KINDS[column], value))
    return clauses, params


def _scope_clause(rows: Rows, scope: Scope, position: int | None) -> tuple[str, list[Any]]:
    """The leads ``scope`` counts at ``position``: by owner (or partner) and the free pool,
    less the leads with exceptions, plus those of them its user may see (decided one by
    one, with each lead's owner, partner and pool then)."""
    owners = sorted(scope.owners)
    marks = ", ".join("?" for _ in owners)
    if scope.partner_id is None:
        clause = f"(owner IN ({marks}) OR ({POOLED}))"
        params: list[Any] = list(owners)
    else:
        clause = f"(owner IN ({marks}) OR partner_id = ?)"
        params = [*owners, rows.param("id", scope.partner_id)]
    if not scope.exceptions:
        return clause, params
    special = current(
        rows,
        LEAD_TABLE,
        LeadRow,
        position=position,
        clauses=[f"id IN ({', '.join('?' for _ in scope.exceptions)})"],
        params=[rows.param("id", i) for i in scope.exceptions],
    )
    seen = [
        row.id
        for row in special
        if scope.admits(
            row.id, row.owner, row.partner_id, pool=row.owner is None and row.partner_id is None
        )
    ]
    hidden = [row.id for row in special if row.id not in seen]
    if hidden:
        clause = f"({clause} AND id NOT IN ({', '.join('?' for _ in hidden)}))"
        params.extend(rows.param("id", i) for i in hidden)
    if seen:
        clause = f"({clause} OR id IN ({', '.join('?' for _ in seen)}))"
        params.extend(rows.param("id", i) for i in seen)
    return clause, params


def leads(rows: Rows, position: int | None, where: Sequence[tuple[str, Any]] = ()) -> list[LeadRow]:
    """The leads as they stood at ``position`` (None: now), filtered (``_lead_clauses``),
    in the order they were made."""
    clauses, params = _lead_clauses(rows, where)
    order = lead_order("created")
    return keyset_page(
        rows, LEAD_TABLE, LeadRow, order, position=position, clauses=clauses, params=params
    ).records


def count_leads(
    rows: Rows,
    position: int | None,
    where: Sequence[tuple[str, Any]] = (),
    by: Sequence[str] = (),
) -> list[tuple[Any, ...]]:
    """How many leads stood at ``position``, per value of the ``by`` columns:
    ``(value…, count)`` rows, ids as text."""
    for column in by:
        if column not in _LEAD_KINDS:
            raise ValueError(f"not a lead column: {column!r}")
    standing, params = as_of(position)
    clauses, more = _lead_clauses(rows, where)
    grouped = ", ".join(by)
    found = rows.select(
        f"SELECT {grouped + ', ' if by else ''}count(*) FROM {LEAD_VERSIONS} "
        f"WHERE {' AND '.join([*standing, *clauses])}{' GROUP BY ' + grouped if by else ''}",
        [*params, *more],
    )
    return [
        (
            *(
                None if value is None else str(value) if column in _ID_COLUMNS else value
                for column, value in zip(by, row, strict=False)
            ),
            int(row[-1]),
        )
        for row in found
    ]


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


def scoped(
    where: list[tuple[str, Any]], scope: Scope | None, position: int | None
) -> list[tuple[str, Any]]:
    """``where``, counting only the leads ``scope`` may see (None: all)."""
    return where if scope is None else [*where, ("scope", (scope, position))]


def list_leads(
    rows: Rows,
    filters: LeadFilters,
    position: int | None,
    scope: Scope | None = None,
    *,
    sort: LeadSort = "created",
    after: Sequence[KeyPart] | None = None,
    limit: int | None = None,
) -> Page[LeadRow]:
    """The lead rows (personal data still sealed) ``scope`` may see, in ``sort`` order,
    after the lead whose key is ``after``, at most ``limit`` of them."""
    clauses, params = _lead_clauses(rows, scoped(filters.where(), scope, position))
    return keyset_page(
        rows,
        LEAD_TABLE,
        LeadRow,
        lead_order(sort),
        position=position,
        clauses=clauses,
        params=params,
        after=after,
        limit=limit,
    )


def summary(
    rows: Rows,
    filters: LeadFilters,
    position: int | None,
    by: Grouping,
    scope: Scope | None = None,
) -> list[dict[str, Any]]:
    """How many leads per status, source, campaign or owner (none: null, listed first),
    of those ``scope`` may see."""
    if by not in GROUPINGS:
        raise InvalidInput(f"by is one of {', '.join(GROUPINGS)}.")
    counts = count_leads(rows, position, scoped(filters.where(), scope, position), (_COLUMN[by],))
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
