"""What a user's lists and charts count: the records they may see (``domain.access.sees``),
decided fast.

Most records are seen or not by their owner alone: a rep's and a manager's scope is an
owner set (themselves and their team), a partner user's their partner account. Only the
few records that are private, shared or split (``readmodels.sharing``) are decided one by
one by the rule itself, as they stood at the query's position. Admins, analysts and
auditors have no scope: they count everything.
"""

from __future__ import annotations

from collections.abc import Mapping
from uuid import UUID

import msgspec

from domain.access import READ_ALL, Principal, RecordAccess, sees
from domain.baseline import SCOPE_PREFIX
from domain.user import Role
from readmodels.sharing.queries import exceptions
from readmodels.sharing.tables import SharingRow
from readmodels.slice import Rows


class Scope(msgspec.Struct, frozen=True, kw_only=True):
    """A user's scope at one position: their principal, and the records of one kind whose
    visibility their owner alone does not decide then (id → sharing)."""

    principal: Principal
    exceptions: Mapping[str, SharingRow] = msgspec.field(default_factory=dict)

    @property
    def owners(self) -> frozenset[str]:
        """Whose records count by ownership: themselves and their team."""
        return self.principal.team | {self.principal.login}

    @property
    def partner_id(self) -> str | None:
        """A partner user's partner account, whose records count too."""
        if self.principal.role != "partner":
            return None
        return _text(self.principal.partner_id)

    def admits(
        self, record_id: str, owner: str | None, partner_id: str | None, *, pool: bool = False
    ) -> bool:
        """Does the scope count this record (with the owner and partner it has here)?
        The same answer as ``sees``, without building the record's access for the many
        records without exceptions."""
        row = self.exceptions.get(record_id)
        if row is not None:
            return sees(self.principal, access(row, owner, partner_id, pool=pool))
        if owner is not None and owner in self.owners:
            return True
        if self.principal.role == "partner":
            return partner_id is not None and partner_id == self.partner_id
        return pool


def access(
    row: SharingRow, owner: str | None, partner_id: str | None, *, pool: bool = False
) -> RecordAccess:
    """A record's access as it stood: its owner and partner then, its sharing then."""
    return RecordAccess(
        owners=row.owners | {owner or ""},
        private=row.private,
        shared_with=row.shared,
        pool=pool,
        partner_id=UUID(partner_id) if partner_id else None,
    )


def scope_of(
    principal: Principal | None, rows: Rows, kind: str, position: int | None
) -> Scope | None:
    """The scope of ``principal`` over records of ``kind`` at ``position``; None when they
    see everything (the reading roles, the local operator). Position None: now."""
    if principal is None or principal.role in READ_ALL:
        return None
    return Scope(principal=principal, exceptions=exceptions(rows, kind, position))


def scope_params(principal: Principal | None) -> dict[str, str]:
    """The scope a baseline taken by ``principal`` keeps among its parameters (none when
    they see everything): who they are and their team then, so the baseline counts the
    same records whenever it is compared or verified."""
    if principal is None or principal.role in READ_ALL:
        return {}
    params = {
        f"{SCOPE_PREFIX}login": principal.login,
        f"{SCOPE_PREFIX}role": principal.role,
        f"{SCOPE_PREFIX}team": ",".join(sorted(principal.team)),
    }
    if principal.partner_id is not None:
        params[f"{SCOPE_PREFIX}partner"] = str(principal.partner_id)
    return params


def split_scope(params: Mapping[str, str]) -> tuple[Principal | None, dict[str, str]]:
    """A baseline's parameters: the principal whose scope it keeps (None: unscoped), and
    the chart's own parameters."""
    own = {k: v for k, v in params.items() if not k.startswith(SCOPE_PREFIX)}
    login = params.get(f"{SCOPE_PREFIX}login")
    if login is None:
        return None, own
    partner = params.get(f"{SCOPE_PREFIX}partner")
    team = params.get(f"{SCOPE_PREFIX}team", "")
    principal = Principal(
        login=login,
        role=msgspec.convert(params.get(f"{SCOPE_PREFIX}role", "rep"), Role),
        partner_id=UUID(partner) if partner else None,
        team=frozenset(team.split(",")) if team else frozenset(),
    )
    return principal, own


def _text(value: UUID | None) -> str | None:
    return None if value is None else str(value)
