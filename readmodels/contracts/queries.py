"""Contracts by status, category, account and expiry, as they stood at any position.

Each change of a contract is a new version of its row in ``contract_versions_v4``
(``valid_from`` … ``valid_to`` log positions, ``readmodels.versions``), written by the
projector in the same transaction as its tracking position, so the contracts as they
stood at any position are a plain query; ``contracts_v4`` (a view) is the current
version of each.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any, Literal
from uuid import UUID

import msgspec

from domain.contract import CONTRACT_STATUSES
from domain.errors import InvalidInput
from readmodels.contracts.tables import TABLE, ContractRow
from readmodels.scope import Scope
from readmodels.slice import Kind, Rows
from readmodels.versions import KeyPart, Order, Page, created, keyset_page, null_last

Grouping = Literal["status", "category", "account", "expiry_month", "owner", "kind"]
GROUPINGS: tuple[Grouping, ...] = ("status", "category", "account", "expiry_month", "owner", "kind")


class ContractFilters(msgspec.Struct, frozen=True, kw_only=True):
    opportunity_id: UUID | None = None
    account_id: UUID | None = None
    status: str | None = None
    category: str | None = None
    kind: str | None = None
    owner: str | None = None
    expires_from: date | None = None
    expires_to: date | None = None

    def __post_init__(self) -> None:
        if self.status is not None and self.status not in CONTRACT_STATUSES:
            raise InvalidInput(
                f"status {self.status!r} is not one of {', '.join(CONTRACT_STATUSES)}."
            )
        if self.kind is not None and self.kind not in ("time_based", "one_off"):
            raise InvalidInput("kind is time_based or one_off.")
        # expires_from after expires_to is an empty span: no contract ends in it.

    def where(self) -> list[tuple[str, Any]]:
        where: list[tuple[str, Any]] = []
        for column in ("opportunity_id", "account_id", "status", "category", "kind", "owner"):
            value = getattr(self, column)
            if value is not None:
                where.append((column, value))
        if self.expires_from is not None:
            where.append(("end_date >=", self.expires_from))
        if self.expires_to is not None:
            where.append(("end_date <=", self.expires_to))
        return where


def contract_view(row: ContractRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "opportunity_id": row.opportunity_id,
        "quote_item_id": row.quote_item_id,
        "product_id": row.product_id,
        "component_product_id": row.component_product_id,
        "account_id": row.account_id,
        "owner": row.owner,
        "name": row.name,
        "kind": row.kind,
        "category": row.category,
        "value": {"amount": str(row.value), "currency": row.currency},
        "start": row.start.isoformat(),
        "end": None if row.end is None else row.end.isoformat(),
        "status": row.status,
        "renewal_opportunity_id": row.renewal_opportunity_id,
        "renews_contract_id": row.renews_contract_id,
    }


# The orders GET /contracts pages in: ``created``, the order the contracts were made in (the
# log's: one made later always comes after), or by a field, ties in that order; ``-``
# reverses the whole order.
ContractSort = Literal["created", "-created", "start", "-start", "end", "-end", "status", "-status"]
_SORT_KEYS: dict[str, tuple[tuple[str, Kind], ...]] = {
    "created": (),
    "start": (("start_date", "date"),),
    # Contracts without an end (one-off) last (first, descending).
    "end": ((null_last("end_date"), "int"), ("end_date", "date")),
    "status": (("status", "text"),),
}


def contract_order(sort: ContractSort) -> Order:
    """The keyset order of ``GET /contracts?sort=``."""
    parts = _SORT_KEYS[sort.removeprefix("-")]
    return Order((*parts, (created(TABLE), "bigint")), descending=sort.startswith("-"))


def _clauses(
    rows: Rows, where: Sequence[tuple[str, Any]], scope: Scope | None
) -> tuple[list[str], list[Any]]:
    """Clauses filtering contracts by column equality or ranges (``("end_date >=",
    date)``); under a ``scope``, those of its owners (a contract is seen by its owner's,
    as its opportunity once was)."""
    kinds = dict(zip(TABLE.column_names, TABLE.kinds(), strict=True))
    clauses: list[str] = []
    params: list[Any] = []
    for condition, value in where:
        column, _, op = condition.partition(" ")
        if column not in kinds or op not in ("", ">=", "<="):
            raise ValueError(f"not a contract filter: {condition!r}")
        clauses.append(f"{column} {op or '='} ?")
        params.append(rows.param(kinds[column], value))
    if scope is not None:
        owners = sorted(scope.owners)
        clauses.append(f"owner IN ({', '.join('?' for _ in owners)})")
        params.extend(owners)
    return clauses, params


def contracts(
    rows: Rows,
    position: int | None,
    where: Sequence[tuple[str, Any]] = (),
    scope: Scope | None = None,
    *,
    sort: ContractSort = "created",
    after: Sequence[KeyPart] | None = None,
    limit: int | None = None,
) -> Page[ContractRow]:
    """The contracts as they stood at ``position`` (None: now), filtered (``_clauses``), in
    ``sort`` order, after the contract
    whose key is ``after``, at most ``limit`` of them."""
    clauses, params = _clauses(rows, where, scope)
    return keyset_page(
        rows,
        TABLE,
        ContractRow,
        contract_order(sort),
        position=position,
        clauses=clauses,
        params=params,
        after=after,
        limit=limit,
    )


def list_contracts(
    rows: Rows,
    filters: ContractFilters,
    position: int | None,
    scope: Scope | None = None,
    *,
    sort: ContractSort = "created",
    after: Sequence[KeyPart] | None = None,
    limit: int | None = None,
) -> Page[ContractRow]:
    """The contracts ``scope`` may see, filtered, as ``GET /contracts`` pages them."""
    return contracts(rows, position, filters.where(), scope, sort=sort, after=after, limit=limit)


def _group_of(row: ContractRow, by: Grouping) -> str | None:
    if by == "expiry_month":
        return None if row.end is None else row.end.strftime("%Y-%m")
    if by == "account":
        return row.account_id
    value: str | None = getattr(row, by)
    return value


def summary(
    rows: Rows,
    filters: ContractFilters,
    position: int | None,
    by: Grouping,
    scope: Scope | None = None,
) -> list[dict[str, Any]]:
    """Count and value per group and currency ("active subscriptions by category",
    "expiring per month"); a contract without an end has no expiry month (null)."""
    if by not in GROUPINGS:
        raise InvalidInput(f"by is one of {', '.join(GROUPINGS)}.")
    cells: dict[tuple[str, str], list[Any]] = defaultdict(lambda: [0, Decimal(0)])
    for row in contracts(rows, position, filters.where(), scope).records:
        group = _group_of(row, by)
        cell = cells[("" if group is None else group, row.currency)]
        cell[0] += 1
        cell[1] += row.value
    return [
        {by: group or None, "currency": currency, "count": count, "value": str(value)}
        for (group, currency), (count, value) in sorted(cells.items())
    ]
