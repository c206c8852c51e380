"""Leads by status, source, campaign and owner, as of any position (campaigns:
``readmodels.leads.campaigns``).

Each change of a lead (of a campaign) is a new version of its row in ``lead_versions_v5``
(``campaign_versions_v5``), ``valid_from`` … ``valid_to`` log positions
(``readmodels.versions``), written by the projector in the same transaction as its
tracking position, so the leads as they stood at any position are a plain query;
``leads_v5`` and ``campaigns_v5`` (views) are the current versions.
``campaign_opportunities_v5`` holds, insert only, each opportunity made for a campaign
with the position it was made at.

No personal data in the clear: a lead row carries only ``personal_sealed``, the ciphertext
the event store keeps; the HTTP route opens it with the lead's key (gone once anonymized).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal
from uuid import UUID

import msgspec

from domain.errors import InvalidInput
from readmodels.leads.tables import (
    LEAD_TABLE,
    LEAD_VERSIONS,
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

# The orders GET /leads pages in: ``created``, the order the records were made in (the
# log's: one made later always comes after), or by a field, ties in that order; ``-``
# reverses the whole order. (GET /campaigns': ``readmodels.leads.campaigns``.)
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
_LEAD_SORT_KEYS: dict[str, tuple[tuple[str, Kind], ...]] = {
    "created": (),
    "created_at": (("created_at", "instant"),),  # when it took effect (may be backdated)
    "updated_at": (("updated_at", "instant"),),
    "status": (("status", "text"),),
}


def lead_order(sort: LeadSort) -> Order:
    """The keyset order of ``GET /leads?sort=``."""
    parts = _LEAD_SORT_KEYS[sort.removeprefix("-")]
    return Order((*parts, (created(LEAD_TABLE), "bigint")), descending=sort.startswith("-"))


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
