"""A user's notifications as ``GET /notifications`` lists them: their own only, newest
first, through the one keyset engine (``readmodels.lists``)."""

from __future__ import annotations

from readmodels.lists import Clause, Filter, ListSpec, Visibility
from readmodels.notifications.tables import TABLE, NotificationRow

NOTIFICATIONS = ListSpec(
    name="notifications",
    table=TABLE,
    row=NotificationRow,
    filters={"recipient": Filter("recipient"), "read": Filter("read")},
    sorts=("sent",),
    default_sort="-sent",
    # Not asked: a notification is its recipient's alone (``notifications_of``).
    visibility=Visibility("notification", owner="recipient"),
)


def notifications_of(login: str) -> list[Clause]:
    """The clause of the notifications sent to ``login``: nobody reads another's."""
    return [("recipient = ?", [login])]
