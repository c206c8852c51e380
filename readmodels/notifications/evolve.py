"""How each notification event changes the notifications read model."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from domain import notification
from domain.events import DomainEvent
from readmodels.notifications.tables import TABLE, NotificationRow
from readmodels.values import micros, text
from readmodels.versions import Versions


class Notifications(Versions[NotificationRow]):
    """The notifications read model's state: the current version of each."""

    def __init__(self) -> None:
        super().__init__(TABLE, NotificationRow)


def _sent(state: Notifications, e: notification.NotificationSent, position: int, key: str) -> None:
    state.begin(
        NotificationRow(
            id=key,
            valid_from=position,
            recipient=e.recipient,
            kind=e.notification_kind,
            text=e.text,
            about_type=e.about_type,
            about_id=text(e.about_id),
            read=False,
            sent=position,
            sent_at=micros(e.recorded_at),
            updated_at=micros(e.recorded_at),
        )
    )


def _read(state: Notifications, e: notification.NotificationRead, position: int, key: str) -> None:
    state.change(key, position, e.recorded_at, read=True)


HANDLERS: Mapping[type[DomainEvent], Callable[[Notifications, Any, int, str], None]] = {
    notification.NotificationSent: _sent,
    notification.NotificationRead: _read,
}
