"""The notifications read model's table: every version of every notification."""

from __future__ import annotations

import msgspec

from readmodels.slice import Column, table
from readmodels.versions import versioned_table

NOTIFICATION_VERSIONS = table("notification_versions")
NOTIFICATIONS = table("notifications")  # a view: the current version of each

TABLE = versioned_table(
    NOTIFICATION_VERSIONS,
    NOTIFICATIONS,
    (
        Column("recipient", "text", True),
        Column("kind", "text", True),
        Column("text", "text", True),
        Column("about_type", "text"),
        Column("about_id", "id"),
        Column("read", "flag", True),
        # The log position it was sent at: newest first is this, descending.
        Column("sent", "bigint", True),
        Column("sent_at", "instant", True),
        Column("updated_at", "instant", True),
    ),
    indexes=(("recipient", "sent"),),
)


class NotificationRow(msgspec.Struct, array_like=True):
    """One version of a notification (the table's columns but ``valid_to``)."""

    id: str
    valid_from: int
    recipient: str
    kind: str
    text: str
    about_type: str | None
    about_id: str | None
    read: bool
    sent: int
    sent_at: int  # micros
    updated_at: int  # micros
