"""Who may do what: the rights of each role over commands and records.

- ``admin``: everything; the only role that changes settings (users, pipelines, the
  catalogue, price books, rates, lead rules, targets).
- ``analyst`` and ``auditor``: read; write nothing.
- ``rep`` and ``manager``: the sales work (deals, quotes, leads, accounts, campaigns,
  contracts, baselines) on the records they own and the leads of the free pool; a
  manager also on their team's (everyone below them in the manager chain).
- ``partner`` (a user of a partner account): works the leads and opportunities assigned
  to that partner — edit, stage, activities — and nothing else.
- Anyone: their own API tokens.

A record the caller may not see answers exactly as an unknown one (404); a visible one
they may not change, or a setting changed by a non-admin, is refused as forbidden (403).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal
from uuid import UUID

import msgspec

from domain.errors import DomainError, NotFound
from domain.user import Role, User

# What a command needs: ``settings`` (admins), ``work`` (the sales roles), ``partner``
# (the sales roles, and a partner user on a record of their partner), ``own`` (an admin,
# or the user the command is about), ``system`` (the processes and the local operator:
# no user runs it).
Right = Literal["settings", "work", "partner", "own", "system"]
SALES: frozenset[Role] = frozenset({"admin", "manager", "rep"})


class Forbidden(DomainError):
    """A visible record the caller may not change, or a right their role does not have."""

    code = "forbidden"


class Principal(msgspec.Struct, frozen=True, kw_only=True):
    """A user as authorization sees them."""

    login: str
    role: Role
    partner_id: UUID | None = None
    # Everyone below them in the manager chain (for a manager: their team).
    team: frozenset[str] = frozenset()


def principal_of(user: User, team: frozenset[str] = frozenset()) -> Principal:
    return Principal(login=user.login, role=user.role, partner_id=user.partner_id, team=team)


def ensure_may(principal: Principal, right: Right, what: str, *, about: str | None = None) -> None:
    """``principal`` may run a command needing ``right`` (``what`` names it in the
    refusal; ``about``: the login an ``own`` command is about)."""
    role = principal.role
    allowed = (
        role == "admin"
        or (right in ("work", "partner") and role in SALES)
        or (right == "partner" and role == "partner")
        or (right == "own" and about == principal.login)
    )
    if not allowed:
        raise Forbidden(f"a {role} may not {what}.")


def ensure_sees(
    principal: Principal, owners: Iterable[str], kind: str, record_id: UUID, *, pool: bool = False
) -> None:
    """A rep sees the records they own (a lead's shares count as owning) and the leads of
    the free pool; a manager also those their team owns; an admin, analyst or auditor
    all. Any other record is, for them, not there (the same answer as an unknown id)."""
    if principal.role not in ("rep", "manager") or pool:
        return
    if principal.login in owners or not principal.team.isdisjoint(owners):
        return
    raise NotFound(f"there is no {kind} with id {record_id}.")


def ensure_partner_works(
    principal: Principal, partner_id: UUID | None, kind: str, record_id: UUID
) -> None:
    """A partner user works only the records assigned to their partner; any other is, for
    them, not there (the same answer as an unknown id)."""
    if principal.role == "partner" and (partner_id is None or partner_id != principal.partner_id):
        raise NotFound(f"there is no {kind} with id {record_id}.")
