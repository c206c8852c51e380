"""Users: who may do what (their role), whom they answer to (their manager), and, for a
partner user, the partner account they work for.

A user is named by their login everywhere a user goes (owners, assignees, sharing). A
change of role, manager or name is effective-dated like every event, so the organisation
as it stood at any past instant is known. API tokens are kept as SHA-256 digests only;
revoking a user's tokens, or deactivating the user, takes effect on the next request.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import ClassVar, Literal, get_args
from uuid import UUID

import msgspec

from domain import limits
from domain.aggregate import AggregateState, Event, created, evolve
from domain.errors import InvalidInput, RuleViolated

Role = Literal["rep", "manager", "admin", "analyst", "auditor", "partner"]
ROLES: tuple[Role, ...] = get_args(Role)
# Who may stand above others in the manager chain.
LEADS_OTHERS: frozenset[Role] = frozenset({"manager", "admin"})
# A login goes into bodies, paths and the log: lower case, no spaces, stable.
LOGIN = re.compile(rf"[a-z0-9][a-z0-9._@-]{{0,{limits.LOGIN - 1}}}")
MAX_NAME = limits.NAME
# The longest a manager chain may be: deeper is a mistake (or a loop) in the data.
MAX_CHAIN = 64
MAX_TOKEN_DAYS = limits.TOKEN_DAYS
DEFAULT_TOKEN_DAYS = 90


class ApiToken(msgspec.Struct, frozen=True, kw_only=True):
    sha256: str  # of the whole token: the token itself is shown once and never kept
    expires_at: datetime


class User(AggregateState, frozen=True, kw_only=True):
    kind: ClassVar[str] = "user"
    login: str
    name: str
    role: Role
    manager: str | None = None
    partner_id: UUID | None = None
    active: bool = True
    tokens: tuple[ApiToken, ...] = ()

    def token_valid(self, sha256: str, now: datetime) -> bool:
        """A token with that digest was issued, is not revoked and has not expired."""
        # compare_digest: how long a comparison takes says nothing about a stored digest.
        return self.active and any(
            hmac.compare_digest(t.sha256, sha256) and now < t.expires_at for t in self.tokens
        )


class UserAdded(Event[User], frozen=True, kw_only=True):
    login: str
    name: str
    role: Role
    manager: str | None = None
    partner_id: UUID | None = None

    def apply(self, state: User | None) -> User:
        return created(User, self)


class UserChanged(Event[User], frozen=True, kw_only=True):
    """The user's name, role, manager and partner account from now on (all of them, as
    they are after the change)."""

    name: str
    role: Role
    manager: str | None
    partner_id: UUID | None

    def apply(self, state: User) -> User:
        return evolve(
            state,
            name=self.name,
            role=self.role,
            manager=self.manager,
            partner_id=self.partner_id,
        )


class UserDeactivated(Event[User], frozen=True, kw_only=True):
    def apply(self, state: User) -> User:
        return evolve(state, active=False, tokens=())


class ApiTokenIssued(Event[User], frozen=True, kw_only=True):
    sha256: str
    expires_at: datetime

    def apply(self, state: User) -> User:
        token = ApiToken(sha256=self.sha256, expires_at=self.expires_at)
        return evolve(state, tokens=(*state.tokens, token))


class ApiTokensRevoked(Event[User], frozen=True, kw_only=True):
    def apply(self, state: User) -> User:
        return evolve(state, tokens=())


UserEvent = UserAdded | UserChanged | UserDeactivated | ApiTokenIssued | ApiTokensRevoked


class NotAnActiveUser(RuleViolated):
    """A request names, where a user goes (an owner, a share, a rule's user, a manager), a
    login that is no user's or a deactivated user's. The request is well formed; what the
    store holds refuses it (409), as for any rule."""

    code = "invalid_user"


def ensure_active_user(login: str, user: User | None, *, named_as: str = "the owner") -> None:
    """``login`` names ``user`` (loaded by its id; None when there is none), who is active:
    only active users are given records. ``named_as`` says where the request names them."""
    if user is None:
        raise NotAnActiveUser(f"{login!r} ({named_as}) is not a user; name an active user.")
    if not user.active:
        raise NotAnActiveUser(f"{login!r} ({named_as}) is deactivated; name an active user.")


def valid_login(login: str) -> str:
    if not LOGIN.fullmatch(login):
        raise InvalidInput(
            f"a login is 1 to 100 lower-case letters, digits and . _ @ -, "
            f"starting with a letter or digit; not {login!r}."
        )
    return login


def _name(name: str | None, login: str) -> str:
    name = " ".join((name or "").split()) or login
    if len(name) > MAX_NAME:
        raise InvalidInput(f"a user's name is at most {MAX_NAME} characters.")
    return name


def _role(role: str) -> Role:
    if role not in ROLES:
        raise InvalidInput(f"a role is one of {', '.join(ROLES)}; not {role!r}.")
    return role


def _partner(role: Role, partner_id: UUID | None) -> UUID | None:
    if role == "partner" and partner_id is None:
        raise RuleViolated("a partner user needs the partner account they work for.")
    if role != "partner" and partner_id is not None:
        raise RuleViolated("only a partner user works for a partner account.")
    return partner_id


def ensure_can_manage(login: str, manager: User | None, chain: Sequence[str]) -> None:
    """``manager`` may stand above ``login``: an active manager or admin, and ``login`` not
    already above them (``chain``: the logins above the manager, nearest first)."""
    if manager is None:
        return
    if manager.login == login or login in chain:
        raise RuleViolated(f"{manager.login} cannot manage {login}: {login} is above them.")
    if not manager.active:
        raise RuleViolated(f"{manager.login} is deactivated and manages no one.")
    if manager.role not in LEADS_OTHERS:
        raise RuleViolated(
            f"{manager.login} is a {manager.role}; only a manager or an admin manages others."
        )
    if len(chain) >= MAX_CHAIN:
        raise RuleViolated(f"a manager chain is at most {MAX_CHAIN} users long.")


def add(
    login: str,
    role: str,
    *,
    name: str | None = None,
    manager: User | None = None,
    chain: Sequence[str] = (),
    partner_id: UUID | None = None,
) -> list[UserEvent]:
    login = valid_login(login)
    checked = _role(role)
    ensure_can_manage(login, manager, chain)
    return [
        UserAdded(
            login=login,
            name=_name(name, login),
            role=checked,
            manager=None if manager is None else manager.login,
            partner_id=_partner(checked, partner_id),
        )
    ]


def change(
    user: User,
    *,
    name: str | None = None,
    role: str | None = None,
    manager: User | None = None,
    chain: Sequence[str] = (),
    clear_manager: bool = False,
    partner_id: UUID | None = None,
) -> list[UserEvent]:
    """Only what is given changes; ``clear_manager`` leaves the user with no manager."""
    _ensure_active(user)
    checked = _role(role) if role is not None else user.role
    if manager is not None:
        ensure_can_manage(user.login, manager, chain)
    new_manager = None if clear_manager else (manager.login if manager else user.manager)
    # A partner user keeps their account unless told another; any other role has none.
    kept = user.partner_id if checked == "partner" else None
    partner = partner_id if partner_id is not None else kept
    event = UserChanged(
        name=_name(name, user.login) if name is not None else user.name,
        role=checked,
        manager=new_manager,
        partner_id=_partner(checked, partner),
    )
    unchanged = (event.name, event.role, event.manager, event.partner_id) == (
        user.name,
        user.role,
        user.manager,
        user.partner_id,
    )
    return [] if unchanged else [event]


def deactivate(user: User) -> list[UserEvent]:
    _ensure_active(user)
    return [UserDeactivated()]


def issue_token(user: User, sha256: str, now: datetime, days: int) -> list[ApiTokenIssued]:
    _ensure_active(user)
    if not 1 <= days <= MAX_TOKEN_DAYS:
        raise InvalidInput(f"a token lasts 1 to {MAX_TOKEN_DAYS} days, not {days}.")
    return [ApiTokenIssued(sha256=sha256, expires_at=now + timedelta(days=days))]


def revoke_tokens(user: User) -> list[UserEvent]:
    """Every token the user has stops working; with none, nothing happens."""
    return [ApiTokensRevoked()] if user.tokens else []


def _ensure_active(user: User) -> None:
    if not user.active:
        raise RuleViolated(f"user {user.login} is deactivated.")
