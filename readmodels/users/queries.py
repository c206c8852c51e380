"""Users as they stood at any position: the list, and the organisation (who is below
whom) that visibility is decided by."""

from __future__ import annotations

from typing import Any

from readmodels.slice import Rows
from readmodels.users.tables import TABLE, UserRow
from readmodels.versions import current


def users(rows: Rows, position: int | None = None) -> list[UserRow]:
    """Every user at ``position`` (None: now), by login."""
    return current(rows, TABLE, UserRow, position=position, order="login")


def team(rows: Rows, login: str) -> frozenset[str]:
    """Everyone below ``login`` in the manager chain now (their reports, their reports'
    reports, …)."""
    return team_in({row.login: row for row in users(rows)}, login)


def user_view(row: UserRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "login": row.login,
        "name": row.name,
        "role": row.role,
        "manager": row.manager,
        "partner_id": row.partner_id,
        "active": row.active,
    }


def organisation_at(rows: Rows, moment: int) -> dict[str, UserRow]:
    """Every user as they were in effect at ``moment`` (micros): for each, the version
    that took effect last by then (business time: a move recorded after the fact counts
    from when it happened); users who had not joined yet are not there."""
    found = rows.select(
        f"SELECT {', '.join(TABLE.column_names)} FROM {TABLE.name} "
        "WHERE effective_from <= ? ORDER BY effective_from, valid_from",
        [rows.param("instant", moment)],
        TABLE.kinds(),
    )
    organisation: dict[str, UserRow] = {}
    for values in found:
        row = UserRow(*values[:2], *values[3:])
        organisation[row.login] = row
    return organisation


def team_in(organisation: dict[str, UserRow], login: str) -> frozenset[str]:
    """Everyone below ``login`` in the manager chain of ``organisation``."""
    reports: dict[str, list[str]] = {}
    for row in organisation.values():
        if row.manager is not None:
            reports.setdefault(row.manager, []).append(row.login)
    below: set[str] = set()
    waiting = [login]
    while waiting:
        for report in reports.get(waiting.pop(), ()):
            if report not in below:
                below.add(report)
                waiting.append(report)
    return frozenset(below)
