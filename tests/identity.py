"""Tests act as real users with real tokens: users made by the same commands an operator
runs, API tokens made as the CLI makes them."""

from __future__ import annotations

from adapters.bootstrap import Services
from adapters.tokens import new_token
from commands.bus import CommandBus
from commands.users import AddUser, DeactivateUser, IssueApiToken
from domain.ids import user_id_for
from domain.user import MAX_TOKEN_DAYS, User

ADMIN = "admin"
# The reps most tests name as owners (``pytestmark = pytest.mark.users(*TEAM)``): an owner
# must be an active user.
TEAM = ("alice", "bob", "carol")


def add_users(bus: CommandBus, *logins: str, role: str = "rep") -> None:
    """Adds each of ``logins`` not a user yet, as ``role``: the users a test names as owners,
    split shares or rule users."""
    for login in logins:
        if not isinstance(bus.store.load(user_id_for(login)), User):
            bus.execute(AddUser(login=login, role=role))


def deactivate_users(bus: CommandBus, *logins: str) -> None:
    for login in logins:
        bus.execute(DeactivateUser(login=login))


def user_token(
    services: Services, login: str = ADMIN, role: str = "admin", **fields: object
) -> str:
    """A bearer token of ``login`` (added with ``role`` and ``fields`` when new), valid for
    as long as a token may be."""
    if not isinstance(services.store.load(user_id_for(login)), User):
        services.bus.execute(AddUser(login=login, role=role, **fields))  # type: ignore[arg-type]
    token, digest = new_token(user_id_for(login))
    services.bus.execute(IssueApiToken(login=login, sha256=digest, days=MAX_TOKEN_DAYS))
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
