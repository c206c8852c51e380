"""The tasks and notifications read models (readmodels/tasks/, readmodels/notifications/):
Given events at log positions, Then the versions of their rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid5

import msgspec

from domain.events import DomainEvent
from domain.notification import NotificationRead, NotificationSent
from domain.task import TaskCompleted, TaskCreated, TaskReassigned, TaskRescheduled
from readmodels.notifications import SLICE as NOTIFICATIONS
from readmodels.tasks import SLICE as TASKS
from readmodels.values import micros

AT = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
DUE = datetime(2027, 3, 10, 15, 0, tzinfo=UTC)
TASK = uuid5(UUID(int=3), "task")


def applied(slice_: Any, *events: DomainEvent) -> Any:
    """The slice's state after ``events``, the n-th at position n (recorded n minutes on)."""
    state = slice_.empty(None)
    for position, event in enumerate(events, start=1):
        stamped = msgspec.structs.replace(
            event,
            originator_id=TASK,
            originator_version=position,
            recorded_at=AT + timedelta(minutes=position),
        )
        slice_.handlers[type(event)](state, stamped, position, str(TASK))
    return state


def test_each_change_of_a_task_is_a_version_of_its_row() -> None:
    state = applied(
        TASKS,
        TaskCreated(title="Call", due=DUE, assignee="alice", created_by="bob"),
        TaskReassigned(assignee="carol", previous_assignee="alice"),
        TaskRescheduled(due=DUE + timedelta(days=1), remind_before_minutes=30, previous_due=DUE),
        TaskCompleted(completed_at=AT),
    )
    row = state.current[str(TASK)]
    assert (row.valid_from, row.assignee, row.created_by, row.status) == (4, "carol", "bob", "done")
    assert (row.due, row.remind_before_minutes) == (micros(DUE + timedelta(days=1)), 30)
    assert (row.completed_at, row.created_at) == (micros(AT), micros(AT + timedelta(minutes=1)))
    (insert,) = [w for w in TASKS.flush(state) if w.operation == "insert"]
    # four versions, each ending where the next begins (valid_from, valid_to)
    assert [r[1:3] for r in insert.rows] == [(1, 2), (2, 3), (3, 4), (4, None)]


def test_a_notification_is_sent_unread_at_its_position_and_read_later() -> None:
    state = applied(
        NOTIFICATIONS,
        NotificationSent(recipient="alice", notification_kind="task_assigned", text="A task"),
        NotificationRead(),
    )
    row = state.current[str(TASK)]
    assert (row.recipient, row.kind, row.read, row.sent, row.valid_from) == (
        "alice",
        "task_assigned",
        True,
        1,
        2,
    )
    assert row.sent_at == micros(AT + timedelta(minutes=1))
