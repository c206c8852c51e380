"""Who may do what: the rights of each role over commands and records.

- ``admin``: everything; the only role that changes settings (users, pipelines, the
  catalogue, price books, rates, lead rules, targets).
- ``analyst`` and ``auditor``: read; write nothing.
- ``rep`` and ``manager``: the sales work (deals, quotes, leads, accounts, campaigns,
  contracts, baselines) on the records they own and the leads of the free pool; a
  manager also on their team's (everyone below them in the manager chain).
- ``partner`` (a user of a partner account): works the leads and opportunities assigned
  to that partner — edit, stage, activities — and nothing else.
- Anyone: their own API tokens; the records they own or that are shared with them.
- A private record (``domain.sharing``) is seen only by its owner, those it is shared
  with, admins, analysts and auditors — not by managers.

Reads: every role reads what it may see; the history of a record is for admins and
auditors, and for the sales roles and partner users on the records they may see (not for
analysts); the audit routes are for admins and auditors only. Analysts and auditors see
personal data masked (null).

A record the caller may not see answers exactly as an unknown one (404); a visible one
they may not change, or a setting changed by a non-admin, is refused as forbidden (403).
"""

from __future__ import annotations

from typing import Literal
from uuid import UUID

import msgspec

from domain.errors import DomainError, NotFound
from domain.user import Role, User

# What a command needs: ``settings`` (admins), ``work`` (the sales roles), ``partner``
# (the sales roles, and a partner user on a record of their partner), ``own`` (an admin,
# or the user the command is about), ``system`` (the processes and the local operator:
# no user runs it), ``recipient`` (any role, on what was sent to them: a notification).
Right = Literal["settings", "work", "partner", "own", "system", "recipient"]
# What a read needs: ``read`` (every role, over what it may see), ``history`` (a record's
# events: not analysts), ``audit`` (who read and did what: admins and auditors),
# ``settings`` (an admin's settings, such as automations and webhooks: admins only).
ReadRight = Literal["read", "history", "audit", "settings"]
SALES: frozenset[Role] = frozenset({"admin", "manager", "rep"})
AUDITORS: frozenset[Role] = frozenset({"admin", "auditor"})
# Roles that read every record but never a person's data: it reads null (masked).
MASKED: frozenset[Role] = frozenset({"analyst", "auditor"})


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
        # Whether it was sent to them is asked with the record (``commands.authorization``).
        or right == "recipient"
    )
    if not allowed:
        raise Forbidden(f"{_a(role)} may not {what}.")


def ensure_may_read(principal: Principal, right: ReadRight, what: str) -> None:
    """``principal`` may read what needs ``right`` (``what`` names it in the refusal). Which
    records they see is decided per record (``ensure_sees``), not here."""
    role = principal.role
    allowed = (
        right == "read"
        or role == "admin"
        or (role in AUDITORS and right != "settings")
        or (right == "history" and (role in SALES or role == "partner"))
    )
    if not allowed:
        raise Forbidden(f"{_a(role)} may not read {what}.")


def masks_personal_data(principal: Principal) -> bool:
    """Whether ``principal`` sees a person's data masked (null) rather than in the clear."""
    return principal.role in MASKED


def _a(role: str) -> str:
    """``a rep``, ``an admin``: the role in a refusal."""
    return f"{'an' if role[:1] in 'aeiou' else 'a'} {role}"


# The roles that read every record, private ones too.
READ_ALL: frozenset[Role] = frozenset({"admin", "analyst", "auditor"})


class RecordAccess(msgspec.Struct, frozen=True, kw_only=True):
    """What decides who sees a record: its owners (None: not owned — reference data
    everyone sees), privacy and sharing (``domain.sharing``), whether it is a lead of the
    free pool, and the partner account it is assigned to."""

    owners: frozenset[str] | None = None
    private: bool = False
    shared_with: frozenset[str] = frozenset()
    pool: bool = False
    partner_id: UUID | None = None


def sees(principal: Principal, record: RecordAccess) -> bool:
    """The visibility rule (API: identity, roles and visibility), for one record.

    Admins, analysts and auditors see everything. Anyone sees what they own and what is
    shared with them. Nobody else sees a private record. Reference data (not owned) is
    seen by all. A partner user sees the records assigned to their partner; a rep the
    leads of the free pool; a manager, besides, what their team owns."""
    if principal.role in READ_ALL:
        return True
    login = principal.login
    if login in record.shared_with or (record.owners is not None and login in record.owners):
        return True
    if record.private:
        return False
    if record.owners is None:
        return True
    if principal.role == "partner":
        return record.partner_id is not None and record.partner_id == principal.partner_id
    return record.pool or not principal.team.isdisjoint(record.owners)


def ensure_sees(principal: Principal, record: RecordAccess, kind: str, record_id: UUID) -> None:
    """A record the principal may not see is, for them, not there (the same answer as an
    unknown id)."""
    if not sees(principal, record):
        raise NotFound(f"there is no {kind} with id {record_id}.")
