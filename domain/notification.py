"""Notifications: a sentence for one user, about something that happened to them.

Sent only by the processes (a task assigned, a reminder due, a lead or opportunity given
to someone, a contract due for renewal, an automation, a webhook switched off); read
(marked read) only by their recipient — to anyone else one is not there. Its id derives
from its cause, recipient and kind (``notification_id``), so a cause processed again
never notifies twice.
"""

from __future__ import annotations

from typing import ClassVar, Literal, get_args
from uuid import UUID, uuid5

from domain import limits
from domain.aggregate import AggregateState, Event, created, evolve
from domain.errors import InvalidInput

NotificationKind = Literal[
    "task_assigned",
    "task_reminder",
    "lead_assigned",
    "opportunity_assigned",
    "contract_renewal_due",
    "automation",
    "webhook_disabled",
]
KINDS: tuple[str, ...] = get_args(NotificationKind)
# A notification's text, as a reason is: one or a few sentences.
MAX_TEXT = limits.REASON
# The records a notification may be about: those of the work it tells of.
AboutType = Literal["opportunity", "lead", "contact", "account", "contract", "task", "webhook"]
ABOUT_TYPES: tuple[str, ...] = get_args(AboutType)

_NAMESPACE = UUID("5d0c3b8e-6f1a-4e2b-9c7d-8a9b0c1d2e3f")


def notification_id(cause: str, recipient: str, kind: str) -> UUID:
    """The id of the notification of ``kind`` that ``cause`` (an event's id, a timer's
    firing …) sends ``recipient``: the same cause never notifies anyone twice."""
    return uuid5(_NAMESPACE, f"{cause}\n{recipient}\n{kind}")


class Notification(AggregateState, frozen=True, kw_only=True):
    kind: ClassVar[str] = "notification"
    recipient: str
    notification_kind: str
    text: str
    about_type: str | None = None
    about_id: UUID | None = None
    read: bool = False


class NotificationSent(Event[Notification], frozen=True, kw_only=True):
    recipient: str
    notification_kind: str
    text: str
    about_type: str | None = None
    about_id: UUID | None = None

    def apply(self, state: Notification | None) -> Notification:
        return created(Notification, self)


class NotificationRead(Event[Notification], frozen=True, kw_only=True):
    def apply(self, state: Notification) -> Notification:
        return evolve(state, read=True)


NotificationEvent = NotificationSent | NotificationRead


def send(
    *,
    recipient: str,
    kind: str,
    text: str,
    about_type: str | None = None,
    about_id: UUID | None = None,
) -> list[NotificationEvent]:
    if kind not in KINDS:
        raise InvalidInput(f"a notification's kind is one of {', '.join(KINDS)}, not {kind!r}.")
    tidy = " ".join(text.split())
    if not tidy:
        raise InvalidInput("a notification needs a text.")
    if len(tidy) > MAX_TEXT:
        raise InvalidInput(f"a notification's text is at most {MAX_TEXT} characters.")
    if (about_type is None) != (about_id is None):
        raise InvalidInput("a notification is about a record named by both its type and its id.")
    if about_type is not None and about_type not in ABOUT_TYPES:
        raise InvalidInput(
            f"a notification is about one of {', '.join(ABOUT_TYPES)}, not {about_type!r}."
        )
    return [
        NotificationSent(
            recipient=recipient,
            notification_kind=kind,
            text=tidy,
            about_type=about_type,
            about_id=about_id,
        )
    ]


def mark_read(notification: Notification) -> list[NotificationEvent]:
    """Read once: marking a read one again writes nothing."""
    return [] if notification.read else [NotificationRead()]
