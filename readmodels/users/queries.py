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
    reports: dict[str, list[str]] = {}
    for row in users(rows):
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
