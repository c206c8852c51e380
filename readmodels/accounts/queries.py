"""One account as it stood at any position, whether a user may see it then, and what
counted under it then.

Each change of an account is a new version of its row in ``account_versions_v5``
(``valid_from`` … ``valid_to`` log positions, ``readmodels.versions``); ``accounts_v5``
(a view) holds the current ones. Who may see an account is decided by the one rule
(``domain.access.sees``) with its owner then and its sharing then (``readmodels.sharing``).

A merged account keeps its row (with ``merged_into``), and the records filed under it keep
its id: what counts under an account at a position is what is filed under it or under any
account merged into it by then (``family``), so a count or a list as of before a merge
shows both accounts as they were, and after it the survivor with the merged one's links.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from domain.access import RecordAccess
from readmodels.accounts.tables import TABLE, AccountRow
from readmodels.contacts.tables import CONTACT_VERSIONS
from readmodels.contracts.tables import CONTRACT_VERSIONS
from readmodels.deals.view import DealsView
from readmodels.lists import Filter, ListSpec, Visibility
from readmodels.scope import Scope, access
from readmodels.sharing.queries import sharing_of
from readmodels.slice import Rows
from readmodels.versions import as_of, current


def account_at(rows: Rows, account_id: str, position: int | None) -> AccountRow | None:
    """The account as it stood at ``position`` (None: now); None when there was none."""
    found = current(
        rows,
        TABLE,
        AccountRow,
        position=position,
        clauses=["id = ?"],
        params=[rows.param("id", account_id)],
    )
    return found[0] if found else None


def account_access(rows: Rows, row: AccountRow, position: int | None) -> RecordAccess:
    """What decides who sees the account as it stood at ``position`` (None: now): everyone
    who works, unless it was private then (its owner then, its sharing then)."""
    sharing = sharing_of(rows, "account", row.id, position)
    if sharing is None or not sharing.private:
        return RecordAccess()
    return access(sharing, row.owner, None)


def family(rows: Rows, account_id: str, position: int | None) -> list[str]:
    """The account and every account merged into it (and into those) by ``position``
    (None: now): the accounts whose links count under it."""
    found = [account_id]
    frontier = [account_id]
    while frontier:
        merged = current(
            rows,
            TABLE,
            AccountRow,
            position=position,
            clauses=[f"merged_into IN ({', '.join('?' for _ in frontier)})"],
            params=[rows.param("id", member) for member in frontier],
        )
        frontier = [row.id for row in merged if row.id not in found]
        found.extend(frontier)
    return found


def merged_into_it(rows: Rows, account_id: str, position: int | None) -> list[str]:
    """The accounts merged into this one (directly) by ``position``, by id."""
    merged = current(
        rows,
        TABLE,
        AccountRow,
        position=position,
        clauses=["merged_into = ?"],
        params=[rows.param("id", account_id)],
        order="id",
    )
    return [row.id for row in merged]


def _standing(
    rows: Rows,
    table: str,
    accounts: Collection[str],
    position: int | None,
    extra: str = "",
) -> list[tuple[Any, ...]]:
    """(id, owner) of the versions of ``table`` standing at ``position`` filed under
    ``accounts``."""
    standing, params = as_of(position)
    marks = ", ".join("?" for _ in accounts)
    where = " AND ".join([*standing, f"account_id IN ({marks})", *([extra] if extra else [])])
    statement = f"SELECT id, owner FROM {table} WHERE {where}"
    return rows.select(
        statement, [*params, *(rows.param("id", a) for a in accounts)], ("id", "text")
    )


def count_contacts(
    rows: Rows, accounts: Collection[str], position: int | None, scope: Scope | None
) -> int:
    """The contacts filed under ``accounts`` at ``position`` that ``scope`` sees (None:
    all)."""
    found = _standing(rows, CONTACT_VERSIONS, accounts, position)
    return sum(1 for i, owner in found if scope is None or scope.admits(i, owner, None))


def count_contracts(
    rows: Rows, accounts: Collection[str], position: int | None, scope: Scope | None
) -> int:
    """The contracts of ``accounts`` at ``position``, but cancelled ones, that ``scope``
    sees (None: all)."""
    found = _standing(rows, CONTRACT_VERSIONS, accounts, position, "status <> 'cancelled'")
    return sum(1 for i, owner in found if scope is None or scope.admits(i, owner, None))


def count_open_deals(view: DealsView, accounts: Collection[str], scope: Scope | None) -> int:
    """The open deals of ``accounts`` in the deals ``view`` (at its position) that
    ``scope`` sees (None: all)."""
    deals = view.deals
    wanted = set(accounts)
    return sum(
        1
        for i, account_id in enumerate(deals.account_ids)
        if account_id in wanted
        and deals.statuses[i] == "open"
        and (scope is None or scope.admits(deals.ids[i], deals.owners[i], deals.partner_ids[i]))
    )


# The accounts list (``readmodels.lists``): an account merged into another is listed no
# more (its survivor is), but as of before the merge it is, as it stood.
ACCOUNTS = ListSpec(
    name="accounts",
    table=TABLE,
    row=AccountRow,
    filters={
        "owner": Filter("owner"),
        "type": Filter("type"),
        "industry": Filter("industry"),
        "partner": Filter("partner"),
        "parent_id": Filter("parent_id"),
        "country": Filter("country"),
        "city": Filter("city"),
    },
    sorts=("name", "type", "industry", "owner", "created_at", "updated_at"),
    default_sort="name",
    visibility=Visibility("account", public=True),
    always=("merged_into IS NULL",),
)
