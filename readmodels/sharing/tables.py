"""The sharing read model's table: every version of the sharing of every record that was
ever private, shared or split (``readmodels.versions``). Logins are kept comma-joined (a
login holds no comma)."""

from __future__ import annotations

import msgspec

from readmodels.slice import Column, table
from readmodels.versions import versioned_table

SHARING_VERSIONS = table("sharing_versions")
SHARING = table("sharing")  # a view: the current version of each record's sharing

TABLE = versioned_table(
    SHARING_VERSIONS,
    SHARING,
    (
        Column("kind", "text", True),  # opportunity, lead, account, contact
        Column("private", "flag", True),
        Column("shared_with", "text", True),
        # A split lead's users besides its owner: they see it as owners do.
        Column("co_owners", "text", True),
        Column("updated_at", "instant", True),
    ),
    indexes=(("kind", "valid_from"),),
)


class SharingRow(msgspec.Struct, array_like=True):
    """One version of a record's sharing (the table's columns but ``valid_to``)."""

    id: str
    valid_from: int
    kind: str
    private: bool
    shared_with: str
    co_owners: str
    updated_at: int  # micros

    @property
    def shared(self) -> frozenset[str]:
        return logins(self.shared_with)

    @property
    def owners(self) -> frozenset[str]:
        return logins(self.co_owners)


def joined(users: tuple[str, ...] | list[str]) -> str:
    return ",".join(users)


def logins(text: str) -> frozenset[str]:
    return frozenset(text.split(",")) if text else frozenset()
