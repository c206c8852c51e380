"""Who a command may name where a user goes — an opportunity's, a lead's or an account's
owner, a user of a lead's split, a lead rule's user, a target's owner: an active user.

The user is loaded as an aggregate through the unit of work, by the id its login
derives, never from the users read model: a read model may lag behind a deactivation,
the log does not. The contracts process names no one here: it copies the owner of a
sold deal, who owned it when it was sold.
"""

from __future__ import annotations

from commands.unit_of_work import UnitOfWork
from domain.ids import user_id_for
from domain.user import User, ensure_active_user


def _user(uow: UnitOfWork, login: str) -> User | None:
    state = uow.find(user_id_for(login))
    return state if isinstance(state, User) else None


def ensure_active(uow: UnitOfWork, login: str | None, *, named_as: str = "the owner") -> None:
    """``login`` names an active user, else ``NotAnActiveUser`` (422). None or blank passes:
    whether a user must be named at all is the domain's to say, in its own words."""
    if login is None or not login.strip():
        return
    name = login.strip()
    ensure_active_user(name, _user(uow, name), named_as=named_as)


def is_active(uow: UnitOfWork, login: str | None) -> bool:
    """Whether ``login`` names an active user (for what the log decided earlier, such as a
    lead rule's user, who may have been deactivated since)."""
    if login is None or not login.strip():
        return False
    user = _user(uow, login.strip())
    return user is not None and user.active


def owner_or_caller(uow: UnitOfWork, owner: str | None) -> str | None:
    """The owner a command names (an active user), or when it names none the caller (just
    authenticated, so active); None for a command no user sent."""
    ensure_active(uow, owner)
    if owner is not None and owner.strip():
        return owner.strip()
    actor = uow.context.actor
    return actor.principal.login if actor and actor.principal else None
