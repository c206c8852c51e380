"""Tasks: follow-up work due at an instant, for one user, perhaps about a record.

A task is open until it is completed (and open again when reopened). It may ask for a
reminder some minutes before it is due: the reminder is sent once, at ``due −
remind_before``, to whoever is assigned then, while the task is open. Who sees and works a
task: its assignee, its creator, their managers, and those who see everything
(``task_access``, asked by ``domain.access.sees``).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import ClassVar, Literal, get_args
from uuid import UUID

import msgspec

from domain import limits
from domain.access import RecordAccess
from domain.aggregate import AggregateState, Event, created, evolve
from domain.errors import InvalidInput, RuleViolated

Unset = msgspec.UnsetType
UNSET = msgspec.UNSET

# The records a task may be about.
AboutType = Literal["opportunity", "lead", "contact", "account", "contract"]
ABOUT_TYPES: tuple[str, ...] = get_args(AboutType)
TaskStatus = Literal["open", "done"]
# A reminder at most 30 days before the task is due.
MAX_REMIND_BEFORE_MINUTES = 30 * 24 * 60


class Task(AggregateState, frozen=True, kw_only=True):
    kind: ClassVar[str] = "task"
    title: str
    due: datetime
    assignee: str
    created_by: str
    about_type: str | None = None
    about_id: UUID | None = None
    category: str | None = None
    notes: str | None = None
    remind_before_minutes: int | None = None
    status: TaskStatus = "open"
    completed_at: datetime | None = None
    # The reminder instant a reminder was last sent for: never twice for one instant.
    reminded_for: datetime | None = None

    @property
    def reminder_at(self) -> datetime | None:
        """When its reminder is due (None: it asks for none)."""
        if self.remind_before_minutes is None:
            return None
        return self.due - timedelta(minutes=self.remind_before_minutes)

    def reminder_pending(self, now: datetime) -> datetime | None:
        """The instant its reminder is to be sent at, if one is to be: the task is open, asks
        for one, it has not been sent for that instant, and the instant is after ``now`` (a
        reminder whose moment passed before it was set is not sent)."""
        at = self.reminder_at
        if self.status != "open" or at is None or at == self.reminded_for or at <= now:
            return None
        return at


class TaskCreated(Event[Task], frozen=True, kw_only=True):
    title: str
    due: datetime
    assignee: str
    created_by: str
    about_type: str | None = None
    about_id: UUID | None = None
    category: str | None = None
    notes: str | None = None
    remind_before_minutes: int | None = None

    def apply(self, state: Task | None) -> Task:
        return created(Task, self)


class TaskChanged(Event[Task], frozen=True, kw_only=True):
    """Its details as they are afterwards."""

    title: str
    about_type: str | None
    about_id: UUID | None
    category: str | None
    notes: str | None

    def apply(self, state: Task) -> Task:
        return evolve(
            state,
            title=self.title,
            about_type=self.about_type,
            about_id=self.about_id,
            category=self.category,
            notes=self.notes,
        )


class TaskRescheduled(Event[Task], frozen=True, kw_only=True):
    """Its due instant or its reminder moved (both as they are afterwards)."""

    due: datetime
    remind_before_minutes: int | None
    previous_due: datetime

    def apply(self, state: Task) -> Task:
        return evolve(state, due=self.due, remind_before_minutes=self.remind_before_minutes)


class TaskReassigned(Event[Task], frozen=True, kw_only=True):
    assignee: str
    previous_assignee: str

    def apply(self, state: Task) -> Task:
        return evolve(state, assignee=self.assignee)


class TaskCompleted(Event[Task], frozen=True, kw_only=True):
    completed_at: datetime

    def apply(self, state: Task) -> Task:
        return evolve(state, status="done", completed_at=self.completed_at)


class TaskReopened(Event[Task], frozen=True, kw_only=True):
    def apply(self, state: Task) -> Task:
        return evolve(state, status="open", completed_at=None)


class TaskReminderSent(Event[Task], frozen=True, kw_only=True):
    """The reminder due at ``reminder_at`` went to ``assignee``."""

    reminder_at: datetime
    assignee: str

    def apply(self, state: Task) -> Task:
        return evolve(state, reminded_for=self.reminder_at)


TaskEvent = (
    TaskCreated
    | TaskChanged
    | TaskRescheduled
    | TaskReassigned
    | TaskCompleted
    | TaskReopened
    | TaskReminderSent
)


def task_access(task: Task) -> RecordAccess:
    """Who sees a task: its assignee and its creator own it (their managers see it as their
    team's)."""
    return RecordAccess(owners=frozenset({task.assignee, task.created_by}))


# --- rules ---------------------------------------------------------------------------------


def _title(title: str) -> str:
    tidy = " ".join(title.split())
    if not tidy:
        raise InvalidInput("a task needs a title.")
    if len(tidy) > limits.NAME:
        raise InvalidInput(f"a task's title is at most {limits.NAME} characters.")
    return tidy


def _optional(value: str | None, limit: int, what: str) -> str | None:
    tidy = None if value is None else value.strip()
    if tidy and len(tidy) > limit:
        raise InvalidInput(f"a task's {what} is at most {limit} characters.")
    return tidy or None


def _due(due: datetime) -> datetime:
    if due.tzinfo is None or due.utcoffset() is None:
        raise InvalidInput("a task's due instant needs an offset, such as 2027-03-10T15:00Z.")
    return due


def _remind(minutes: int | None) -> int | None:
    if minutes is not None and not 0 <= minutes <= MAX_REMIND_BEFORE_MINUTES:
        raise InvalidInput(
            f"remind_before_minutes is 0 to {MAX_REMIND_BEFORE_MINUTES} (30 days), not {minutes}."
        )
    return minutes


def check_about(about_type: str | None, about_id: UUID | None) -> None:
    """A task is about a record of a known kind, named by both its kind and id, or none."""
    if (about_type is None) != (about_id is None):
        raise InvalidInput("a task is about a record named by both its type and its id.")
    if about_type is not None and about_type not in ABOUT_TYPES:
        raise InvalidInput(f"a task is about one of {', '.join(ABOUT_TYPES)}, not {about_type!r}.")


def create(
    *,
    title: str,
    due: datetime,
    assignee: str,
    created_by: str,
    about_type: str | None = None,
    about_id: UUID | None = None,
    category: str | None = None,
    notes: str | None = None,
    remind_before_minutes: int | None = None,
) -> list[TaskEvent]:
    check_about(about_type, about_id)
    return [
        TaskCreated(
            title=_title(title),
            due=_due(due),
            assignee=assignee,
            created_by=created_by,
            about_type=about_type,
            about_id=about_id,
            category=_optional(category, limits.LABEL, "category"),
            notes=_optional(notes, limits.LONG_TEXT, "notes"),
            remind_before_minutes=_remind(remind_before_minutes),
        )
    ]


def ensure_open(task: Task) -> None:
    if task.status != "open":
        raise RuleViolated(f"task {task.id} is done; reopen it to change it.")


def change(
    task: Task,
    *,
    title: str | Unset = UNSET,
    due: datetime | Unset = UNSET,
    assignee: str | Unset = UNSET,
    category: str | Unset | None = UNSET,
    notes: str | Unset | None = UNSET,
    remind_before_minutes: int | Unset | None = UNSET,
    about_type: str | Unset | None = UNSET,
    about_id: UUID | Unset | None = UNSET,
) -> list[TaskEvent]:
    """Change what is given, on an open task; what does not differ writes nothing."""
    ensure_open(task)
    events: list[TaskEvent] = []
    about = (
        task.about_type if isinstance(about_type, Unset) else about_type,
        task.about_id if isinstance(about_id, Unset) else about_id,
    )
    check_about(*about)
    details = TaskChanged(
        title=task.title if isinstance(title, Unset) else _title(title),
        about_type=about[0],
        about_id=about[1],
        category=(
            task.category
            if isinstance(category, Unset)
            else _optional(category, limits.LABEL, "category")
        ),
        notes=task.notes
        if isinstance(notes, Unset)
        else _optional(notes, limits.LONG_TEXT, "notes"),
    )
    if (details.title, details.about_type, details.about_id, details.category, details.notes) != (
        task.title,
        task.about_type,
        task.about_id,
        task.category,
        task.notes,
    ):
        events.append(details)
    new_due = task.due if isinstance(due, Unset) else _due(due)
    remind = (
        task.remind_before_minutes
        if isinstance(remind_before_minutes, Unset)
        else _remind(remind_before_minutes)
    )
    if (new_due, remind) != (task.due, task.remind_before_minutes):
        events.append(
            TaskRescheduled(due=new_due, remind_before_minutes=remind, previous_due=task.due)
        )
    if not isinstance(assignee, Unset) and assignee != task.assignee:
        events.append(TaskReassigned(assignee=assignee, previous_assignee=task.assignee))
    return events


def complete(task: Task, *, at: datetime) -> list[TaskEvent]:
    if task.status == "done":
        raise RuleViolated(f"task {task.id} is already done.")
    return [TaskCompleted(completed_at=at)]


def reopen(task: Task) -> list[TaskEvent]:
    if task.status == "open":
        raise RuleViolated(f"task {task.id} is open; only a done task is reopened.")
    return [TaskReopened()]


def remind(task: Task, *, at: datetime) -> list[TaskEvent]:
    """The reminder due ``at`` is sent: once, while the task is open and still asks for a
    reminder at that instant (a timer that outlived a change sends nothing)."""
    if task.status != "open" or task.reminder_at != at or task.reminded_for == at:
        return []
    return [TaskReminderSent(reminder_at=at, assignee=task.assignee)]
