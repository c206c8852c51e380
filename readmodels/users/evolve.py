"""How each user event changes the users read model: a new version of the user's row.
Tokens are not the read model's business (they stay digests in the log)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from domain.events import DomainEvent
from domain.user import UserAdded, UserChanged, UserDeactivated
from readmodels.users.tables import TABLE, UserRow
from readmodels.values import micros, text
from readmodels.versions import Versions


class Users(Versions[UserRow]):
    """The users read model's state: the current version of each user."""

    def __init__(self) -> None:
        super().__init__(TABLE, UserRow)


def _added(state: Users, e: UserAdded, position: int, key: str) -> None:
    state.begin(
        UserRow(
            id=key,
            valid_from=position,
            login=e.login,
            name=e.name,
            role=e.role,
            manager=e.manager,
            partner_id=text(e.partner_id),
            active=True,
            updated_at=micros(e.recorded_at),
            effective_from=_effective(e),
        )
    )


def _changed(state: Users, e: UserChanged, position: int, key: str) -> None:
    state.change(
        key,
        position,
        e.recorded_at,
        name=e.name,
        role=e.role,
        manager=e.manager,
        partner_id=text(e.partner_id),
        effective_from=_effective(e),
    )


def _deactivated(state: Users, e: UserDeactivated, position: int, key: str) -> None:
    state.change(key, position, e.recorded_at, active=False, effective_from=_effective(e))


def _effective(e: DomainEvent) -> int:
    return micros(e.occurred_at)


HANDLERS: Mapping[type[DomainEvent], Callable[[Users, Any, int, str], None]] = {
    UserAdded: _added,
    UserChanged: _changed,
    UserDeactivated: _deactivated,
}
