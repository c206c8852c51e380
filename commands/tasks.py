"""Commands on tasks: create, change, complete, reopen, and a reminder's firing.

A task's reminder is a durable process timer (process ``tasks``, kind ``reminder``, the
task's id) set, moved or dropped in the same save as the task's events: created with a
reminder, it is set at ``due − remind_before``; moving the due instant or the reminder
moves it; completing drops it; reopening sets it again when that instant is still ahead.
``FireTaskReminder`` (the notifications process, ``processes.notifications``) fires it:
the timer, ``TaskReminderSent`` and the assignee's notification in one save, so it fires
once however many workers tick.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec

from commands.bus import Answer, Handlers
from commands.notifications import SendNotification, send_notification
from commands.owners import ensure_active
from commands.ports import ProcessTimer
from commands.unit_of_work import UnitOfWork
from domain import task as rules
from domain.account import Account
from domain.aggregate import AggregateState
from domain.contact import Contact
from domain.contract import Contract
from domain.errors import InvalidInput
from domain.events import event_id
from domain.lead import Lead
from domain.notification import notification_id
from domain.opportunity import Opportunity
from domain.task import Task

Unset = msgspec.UnsetType
UNSET = msgspec.UNSET

# Reminder timers: their process and kind (the subject is the task).
TASKS_PROCESS = "tasks"
REMINDER = "reminder"

# The aggregate each kind of record a task may be about is.
ABOUT: dict[str, type[AggregateState]] = {
    "opportunity": Opportunity,
    "lead": Lead,
    "contact": Contact,
    "account": Account,
    "contract": Contract,
}


class CreateTask(msgspec.Struct, frozen=True, kw_only=True):
    """``assignee`` None: the caller (a process must name one)."""

    task_id: UUID
    title: str
    due: datetime
    assignee: str | None = None
    about_type: str | None = None
    about_id: UUID | None = None
    category: str | None = None
    notes: str | None = None
    remind_before_minutes: int | None = None


class ChangeTask(msgspec.Struct, frozen=True, kw_only=True):
    """PATCH: fields left UNSET stay as they are; None clears an optional one."""

    task_id: UUID
    title: str | Unset = UNSET
    due: datetime | Unset = UNSET
    assignee: str | Unset = UNSET
    category: str | Unset | None = UNSET
    notes: str | Unset | None = UNSET
    remind_before_minutes: int | Unset | None = UNSET
    about_type: str | Unset | None = UNSET
    about_id: UUID | Unset | None = UNSET


class CompleteTask(msgspec.Struct, frozen=True, kw_only=True):
    task_id: UUID


class ReopenTask(msgspec.Struct, frozen=True, kw_only=True):
    task_id: UUID


class FireTaskReminder(msgspec.Struct, frozen=True, kw_only=True):
    """The reminder timer of ``task_id``, due at ``due_at``, fires."""

    task_id: UUID
    due_at: datetime


def _assignee(uow: UnitOfWork, assignee: str | None) -> str:
    """The assignee named (an active user), or the caller when none is."""
    ensure_active(uow, assignee, named_as="the assignee")
    if assignee is not None and assignee.strip():
        return assignee.strip()
    actor = uow.context.actor
    if actor is None or actor.principal is None:
        raise InvalidInput("a task made by a process or the operator names its assignee.")
    return actor.principal.login


def _ensure_about(uow: UnitOfWork, about_type: str | None, about_id: UUID | None) -> None:
    """The record a task is about exists (404 naming it otherwise); whether the caller may
    see it is asked before (``commands.authorization``)."""
    rules.check_about(about_type, about_id)
    if about_type is not None and about_id is not None:
        uow.get(ABOUT[about_type], about_id)


def _creator(uow: UnitOfWork) -> str:
    actor = uow.context.actor
    if actor is None:
        return "system"
    return actor.principal.login if actor.principal is not None else actor.by


def keep_reminder(uow: UnitOfWork, before: Task | None, after: Task) -> None:
    """The task's reminder timer, set, moved or dropped in this save as its events say."""
    if before is not None and (before.reminder_at, before.status) == (
        after.reminder_at,
        after.status,
    ):
        return  # nothing that moves the reminder changed
    at = after.reminder_pending(uow.now)
    if at is not None:
        uow.schedule(
            ProcessTimer(process=TASKS_PROCESS, subject_id=after.id, kind=REMINDER, due_at=at)
        )
    elif before is not None:
        uow.cancel_timer(TASKS_PROCESS, after.id, REMINDER)


def create_task(uow: UnitOfWork, command: CreateTask) -> Answer:
    uow.ensure_new(command.task_id)
    assignee = _assignee(uow, command.assignee)
    _ensure_about(uow, command.about_type, command.about_id)
    uow.record(
        command.task_id,
        rules.create(
            title=command.title,
            due=command.due,
            assignee=assignee,
            created_by=_creator(uow),
            about_type=command.about_type,
            about_id=command.about_id,
            category=command.category,
            notes=command.notes,
            remind_before_minutes=command.remind_before_minutes,
        ),
    )
    keep_reminder(uow, None, uow.get(Task, command.task_id))
    return Answer(id=command.task_id, created=True)


def change_task(uow: UnitOfWork, command: ChangeTask) -> Answer:
    task = uow.get(Task, command.task_id)
    rules.ensure_open(task)
    assignee: str | Unset = UNSET
    if not isinstance(command.assignee, Unset):
        ensure_active(uow, command.assignee, named_as="the assignee")
        assignee = command.assignee.strip()
        if not assignee:
            raise InvalidInput("a task's assignee is a user's login.")
    if not (isinstance(command.about_type, Unset) and isinstance(command.about_id, Unset)):
        about_type = (
            task.about_type if isinstance(command.about_type, Unset) else command.about_type
        )
        about_id = task.about_id if isinstance(command.about_id, Unset) else command.about_id
        _ensure_about(uow, about_type, about_id)
    uow.record(
        task.id,
        rules.change(
            task,
            title=command.title,
            due=command.due,
            assignee=assignee,
            category=command.category,
            notes=command.notes,
            remind_before_minutes=command.remind_before_minutes,
            about_type=command.about_type,
            about_id=command.about_id,
        ),
    )
    keep_reminder(uow, task, uow.get(Task, task.id))
    return Answer(id=task.id)


def complete_task(uow: UnitOfWork, command: CompleteTask) -> Answer:
    task = uow.get(Task, command.task_id)
    uow.record(task.id, rules.complete(task, at=uow.now))
    keep_reminder(uow, task, uow.get(Task, task.id))
    return Answer(id=task.id)


def reopen_task(uow: UnitOfWork, command: ReopenTask) -> Answer:
    task = uow.get(Task, command.task_id)
    uow.record(task.id, rules.reopen(task))
    keep_reminder(uow, task, uow.get(Task, task.id))
    return Answer(id=task.id)


def reminder_text(task: Task) -> str:
    return f"Reminder: {task.title!r} is due at {task.due.isoformat()}."


def fire_task_reminder(uow: UnitOfWork, command: FireTaskReminder) -> Answer:
    """The timer fires (the save fails as a lost race when another worker fired it); the
    task records the reminder and its assignee is notified, when the task still asks for
    it (a task gone or done meanwhile just lets the timer go)."""
    uow.fire_process_timer(TASKS_PROCESS, command.task_id, REMINDER)
    task = uow.find(command.task_id)
    if not isinstance(task, Task) or task.deleted:
        return Answer(id=command.task_id)
    events = rules.remind(task, at=command.due_at)
    if not events:
        return Answer(id=task.id)
    uow.record(task.id, events)
    # The reminder's own event is its cause: one notification per reminder sent.
    cause = str(event_id(task.id, task.version + 1))
    send_notification(
        uow,
        SendNotification(
            notification_id=notification_id(cause, task.assignee, "task_reminder"),
            recipient=task.assignee,
            kind="task_reminder",
            text=reminder_text(task),
            about_type="task",
            about_id=task.id,
        ),
    )
    return Answer(id=task.id)


HANDLERS: Handlers = {
    CreateTask: create_task,
    ChangeTask: change_task,
    CompleteTask: complete_task,
    ReopenTask: reopen_task,
    FireTaskReminder: fire_task_reminder,
}
