"""Commands on users: add, change (name, role, manager), deactivate, issue and revoke
API tokens. A token itself never reaches a command: the transport makes it, shows it
once, and hands over only its SHA-256."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec

from commands.bus import Answer, Handlers
from commands.unit_of_work import UnitOfWork
from domain import user as users
from domain.errors import AlreadyExists, DomainError, NotFound
from domain.ids import user_id_for
from domain.user import MAX_CHAIN, NotAnActiveUser, User


class AddUser(msgspec.Struct, frozen=True, kw_only=True):
    login: str
    role: str
    name: str | None = None
    manager: str | None = None
    partner_id: UUID | None = None
    # When the user joined, for an organisation recorded after the fact.
    effective_at: datetime | None = None


class ChangeUser(msgspec.Struct, frozen=True, kw_only=True):
    """Only what is given changes; ``clear_manager`` leaves the user with no manager."""

    login: str
    name: str | None = None
    role: str | None = None
    manager: str | None = None
    clear_manager: bool = False
    partner_id: UUID | None = None
    # When the change took effect (a move between teams recorded after the fact).
    effective_at: datetime | None = None


class DeactivateUser(msgspec.Struct, frozen=True, kw_only=True):
    login: str
    effective_at: datetime | None = None


class IssueApiToken(msgspec.Struct, frozen=True, kw_only=True):
    login: str
    sha256: str
    days: int


class RevokeApiTokens(msgspec.Struct, frozen=True, kw_only=True):
    login: str


def user_named(uow: UnitOfWork, login: str, missing: type[DomainError] = NotFound) -> User:
    """The user with that login. None is ``missing``: NotFound for the user a path names,
    InvalidInput for a login in a body (a mistake in the request)."""
    state = uow.find(user_id_for(login))
    if not isinstance(state, User):
        raise missing(f"there is no user {login!r}.")
    return state


def _manager(uow: UnitOfWork, login: str | None) -> tuple[User | None, list[str]]:
    """The manager a command names and the logins above them, nearest first."""
    if login is None:
        return None, []
    manager = user_named(uow, login, NotAnActiveUser)
    chain: list[str] = []
    above = manager.manager
    while above is not None and above not in chain and len(chain) <= MAX_CHAIN:
        chain.append(above)
        above = user_named(uow, above, NotAnActiveUser).manager
    return manager, chain


def add_user(uow: UnitOfWork, command: AddUser) -> Answer:
    user_id = user_id_for(users.valid_login(command.login))
    if uow.find(user_id) is not None:
        raise AlreadyExists(f"there is already a user {command.login!r} ({user_id}).", user_id)
    manager, chain = _manager(uow, command.manager)
    events = users.add(
        command.login,
        command.role,
        name=command.name,
        manager=manager,
        chain=chain,
        partner_id=command.partner_id,
    )
    uow.record(user_id, events)
    return Answer(id=user_id, created=True, extra={"login": command.login})


def change_user(uow: UnitOfWork, command: ChangeUser) -> Answer:
    user = user_named(uow, command.login)
    manager, chain = _manager(uow, command.manager)
    uow.record(
        user.id,
        users.change(
            user,
            name=command.name,
            role=command.role,
            manager=manager,
            chain=chain,
            clear_manager=command.clear_manager,
            partner_id=command.partner_id,
        ),
    )
    return Answer(id=user.id)


def deactivate_user(uow: UnitOfWork, command: DeactivateUser) -> Answer:
    user = user_named(uow, command.login)
    uow.record(user.id, users.deactivate(user))
    return Answer(id=user.id)


def issue_api_token(uow: UnitOfWork, command: IssueApiToken) -> Answer:
    user = user_named(uow, command.login)
    issued = users.issue_token(user, command.sha256, uow.now, command.days)
    uow.record(user.id, issued)
    return Answer(id=user.id, extra={"expires_at": issued[0].expires_at.isoformat()})


def revoke_api_tokens(uow: UnitOfWork, command: RevokeApiTokens) -> Answer:
    user = user_named(uow, command.login)
    uow.record(user.id, users.revoke_tokens(user))
    return Answer(id=user.id)


HANDLERS: Handlers = {
    AddUser: add_user,
    ChangeUser: change_user,
    DeactivateUser: deactivate_user,
    IssueApiToken: issue_api_token,
    RevokeApiTokens: revoke_api_tokens,
}
