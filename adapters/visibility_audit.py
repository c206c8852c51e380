"""Who could see a record at a past instant (``GET /audit/visibility/{id}``).

The record as it stood then is its own events recorded by that instant, folded (its
owner, privacy, sharing, partner then); the organisation is the users as in effect then
(``readmodels.users.queries.organisation_at``: a move between teams counts from when it
took effect). Each user active then is asked the one rule, ``domain.access.sees``, with
the team they had then.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from adapters.bootstrap import Services
from commands.authorization import access_of
from domain.access import Principal, sees
from domain.aggregate import AggregateState, replay
from domain.errors import NotFound
from domain.events import DomainEvent
from domain.user import Role
from readmodels.users.queries import organisation_at, team_in
from readmodels.users.tables import UserRow
from readmodels.values import micros


def record_at(services: Services, record_id: UUID, moment: datetime) -> AggregateState | None:
    """The record as its events recorded by ``moment`` make it (None: not yet made)."""
    return _folded(services.store.history(record_id), moment)


def _folded(history: list[DomainEvent], moment: datetime) -> AggregateState | None:
    events = [e for e in history if e.recorded_at <= moment]
    return replay(None, events) if events else None


def _principal(row: UserRow, organisation: dict[str, UserRow]) -> Principal:
    role: Role = row.role  # type: ignore[assignment]  # the read model holds only roles
    return Principal(
        login=row.login,
        role=role,
        partner_id=UUID(row.partner_id) if row.partner_id else None,
        team=team_in(organisation, row.login) if role == "manager" else frozenset(),
    )


def who_could_see(services: Services, record_id: UUID, moment: datetime) -> dict[str, Any]:
    """The users who could see ``record_id`` at ``moment``, by login."""
    history = services.store.history(record_id)
    if not history:
        raise NotFound(f"there is no record with id {record_id}.")
    state = _folded(history, moment)
    organisation = organisation_at(services.views, micros(moment))
    users: list[dict[str, Any]] = []
    if state is not None and not state.deleted:
        access = access_of(state, lambda other: record_at(services, other, moment))
        for login, row in sorted(organisation.items()):
            if row.active and sees(_principal(row, organisation), access):
                users.append({"login": login, "role": row.role, "manager": row.manager})
    return {
        "record": str(record_id),
        "kind": None if state is None else state.kind,
        "as_of": moment.isoformat(),
        "existed": state is not None and not state.deleted,
        "users": users,
    }
