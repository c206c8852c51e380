"""Commands on notifications: sent by the processes, marked read by their recipient.

``SendNotification`` is the processes' (right ``system``): a notification whose id is
taken was sent already (its id derives from its cause: ``domain.notification.
notification_id``), and one to a user who is not, or no longer, active is not sent;
neither is a refusal, so a process can send several in one save with its position
(``SendNotifications``) and never stall on one.
"""

from __future__ import annotations

from uuid import UUID

import msgspec

from commands.bus import Answer, Handlers, change
from commands.owners import is_active
from commands.unit_of_work import UnitOfWork
from domain import notification as rules
from domain.events import NIL
from domain.notification import Notification

# The process that sends assignment notices and task reminders: its tracking record.
NOTIFICATIONS_PROCESS = "notifications"


class SendNotification(msgspec.Struct, frozen=True, kw_only=True):
    notification_id: UUID
    recipient: str
    kind: str
    text: str
    about_type: str | None = None
    about_id: UUID | None = None


class SendNotifications(msgspec.Struct, frozen=True, kw_only=True):
    """The notifications the event at log ``position`` calls for, sent with the process's
    position in one save (``process``: whose tracking record)."""

    notifications: tuple[SendNotification, ...]
    position: int
    process: str = NOTIFICATIONS_PROCESS


class MarkNotificationRead(msgspec.Struct, frozen=True, kw_only=True):
    notification_id: UUID


def send_notification(uow: UnitOfWork, command: SendNotification) -> Answer:
    """Records the notification in the unit of work's save, unless it was sent already or
    its recipient is not an active user (then nothing)."""
    if uow.find(command.notification_id) is not None or not is_active(uow, command.recipient):
        return Answer(id=command.notification_id)
    uow.record(
        command.notification_id,
        rules.send(
            recipient=command.recipient.strip(),
            kind=command.kind,
            text=command.text,
            about_type=command.about_type,
            about_id=command.about_id,
        ),
    )
    return Answer(id=command.notification_id, created=True)


def send_notifications(uow: UnitOfWork, command: SendNotifications) -> Answer:
    """All of them and the position, in one save; nothing when another worker recorded that
    position already (its save sent them)."""
    if uow.store.tracked_position(command.process) >= command.position:
        return Answer(id=NIL)
    for notification in command.notifications:
        send_notification(uow, notification)
    uow.track(command.position, command.process)
    first = command.notifications[0].notification_id if command.notifications else NIL
    return Answer(id=first, extra={"notifications": len(command.notifications)})


def mark_notification_read(uow: UnitOfWork, command: MarkNotificationRead) -> Answer:
    return change(uow, Notification, command.notification_id, rules.mark_read)


def recipient_of(uow: UnitOfWork, notification_id: UUID) -> str:
    """Whom a notification was sent to (NotFound when there is none)."""
    return uow.get(Notification, notification_id).recipient


HANDLERS: Handlers = {
    SendNotification: send_notification,
    SendNotifications: send_notifications,
    MarkNotificationRead: mark_notification_read,
}
