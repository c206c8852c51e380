"""Private records and sharing (opportunities, leads, accounts).

A record may be ``private``: then it is seen only by its owner, the users it is shared
with, admins, analysts and auditors — not by managers, whatever the chain. Sharing a
record with users (``shared_with``, logins) lets them see and work it as their own,
private or not. Both are changed by events, so who could see a record at any past
instant is known (``domain.access.sees`` decides).
"""

from __future__ import annotations

from collections.abc import Iterable

import msgspec

from domain import limits
from domain.errors import InvalidInput
from domain.user import LOGIN

# Sharing is a short list of people, not a distribution list.
MAX_SHARED_WITH = limits.SHARED_WITH


class Sharing(msgspec.Struct, frozen=True, kw_only=True):
    private: bool = False
    shared_with: tuple[str, ...] = ()


def check_shared_with(logins: Iterable[str]) -> tuple[str, ...]:
    """Logins, each once, sorted (so equal sharing is an equal value)."""
    cleaned = sorted({login.strip() for login in logins})
    for login in cleaned:
        if not LOGIN.fullmatch(login):
            raise InvalidInput(f"shared_with names users by login; {login!r} is not a login.")
    if len(cleaned) > MAX_SHARED_WITH:
        raise InvalidInput(f"a record is shared with at most {MAX_SHARED_WITH} users.")
    return tuple(cleaned)


def changed_sharing(
    current: Sharing,
    *,
    private: bool | None = None,
    shared_with: Iterable[str] | None = None,
) -> Sharing | None:
    """The sharing after the change asked for (None for a field: keep it), or None when
    nothing changes (no event to write)."""
    wanted = Sharing(
        private=current.private if private is None else private,
        shared_with=current.shared_with if shared_with is None else check_shared_with(shared_with),
    )
    return None if wanted == current else wanted
