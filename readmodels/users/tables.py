"""The users read model's table: every version of every user (``readmodels.versions``)."""

from __future__ import annotations

import msgspec

from readmodels.slice import Column, table
from readmodels.versions import versioned_table

USER_VERSIONS = table("user_versions")
USERS = table("users")  # a view: the current version of each user

TABLE = versioned_table(
    USER_VERSIONS,
    USERS,
    (
        Column("login", "text", True),
        Column("name", "text", True),
        Column("role", "text", True),
        Column("manager", "text"),
        Column("partner_id", "id"),
        Column("active", "flag", True),
        Column("updated_at", "instant", True),
        # When the version took effect in business time (a move recorded after the fact
        # says when it happened): the organisation at an instant is read by it.
        Column("effective_from", "instant", True),
    ),
    indexes=(("login",), ("manager",)),
)


class UserRow(msgspec.Struct, array_like=True):
    """One version of a user (the table's columns but ``valid_to``)."""

    id: str
    valid_from: int  # the log position this version begins at
    login: str
    name: str
    role: str
    manager: str | None
    partner_id: str | None
    active: bool
    updated_at: int  # micros
    effective_from: int  # micros
