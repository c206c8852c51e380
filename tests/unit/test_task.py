"""Task and notification rules (domain/task.py, domain/notification.py), Given / When / Then."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from uuid import UUID, uuid4, uuid5

import pytest

from domain import notification, task
from domain.errors import InvalidInput, RuleViolated
from domain.notification import NotificationRead, NotificationSent, notification_id
from domain.task import (
    TaskChanged,
    TaskCompleted,
    TaskCreated,
    TaskReassigned,
    TaskReminderSent,
    TaskReopened,
    TaskRescheduled,
)
from tests.gwt import given

DUE = datetime(2027, 3, 10, 15, 0, tzinfo=UTC)
LEAD = uuid5(UUID(int=7), "lead")
CREATED = TaskCreated(
    title="Call back",
    due=DUE,
    assignee="alice",
    created_by="bob",
    remind_before_minutes=90,
)
DONE = TaskCompleted(completed_at=DUE)


def test_a_reminder_is_due_the_minutes_asked_for_before_the_task() -> None:
    state = given(CREATED).state
    # 15:00 less 90 minutes: 13:30, to the microsecond
    assert state.reminder_at == datetime(2027, 3, 10, 13, 30, tzinfo=UTC)
    # in another offset, the same instant
    east = timezone(timedelta(hours=2))
    assert state.reminder_at == datetime(2027, 3, 10, 15, 30, tzinfo=east)


def test_a_reminder_is_pending_only_while_open_ahead_and_not_yet_sent() -> None:
    at = datetime(2027, 3, 10, 13, 30, tzinfo=UTC)
    early = at - timedelta(microseconds=1)
    assert given(CREATED).state.reminder_pending(early) == at
    assert given(CREATED).state.reminder_pending(at) is None  # its moment has come
    assert given(CREATED, DONE).state.reminder_pending(early) is None
    sent = TaskReminderSent(reminder_at=at, assignee="alice")
    assert given(CREATED, sent).state.reminder_pending(early) is None
    assert given(CREATED, DONE, TaskReopened()).state.reminder_pending(early) == at
    assert (
        given(TaskCreated(title="x", due=DUE, assignee="a", created_by="a")).state.reminder_at
        is None
    )


def test_creating_tidies_the_title_and_checks_what_it_is_about() -> None:
    assert task.create(
        title="  Call   back ", due=DUE, assignee="alice", created_by="bob", notes="  "
    ) == [TaskCreated(title="Call back", due=DUE, assignee="alice", created_by="bob")]
    with pytest.raises(InvalidInput, match="needs a title"):
        task.create(title=" ", due=DUE, assignee="a", created_by="a")
    with pytest.raises(InvalidInput, match="both its type and its id"):
        task.create(title="x", due=DUE, assignee="a", created_by="a", about_id=LEAD)
    with pytest.raises(InvalidInput, match="one of opportunity, lead"):
        task.create(
            title="x", due=DUE, assignee="a", created_by="a", about_type="quote", about_id=LEAD
        )
    with pytest.raises(InvalidInput, match="needs an offset"):
        task.create(title="x", due=DUE.replace(tzinfo=None), assignee="a", created_by="a")
    with pytest.raises(InvalidInput, match="remind_before_minutes is 0 to 43200"):
        task.create(title="x", due=DUE, assignee="a", created_by="a", remind_before_minutes=-1)


def test_a_change_writes_only_what_differs_each_kind_its_own_event() -> None:
    later = DUE + timedelta(days=1)
    given(CREATED).when(
        lambda t: task.change(t, title="Call back", due=DUE, assignee="alice")
    ).then()
    given(CREATED).when(
        lambda t: task.change(
            t, notes="ring twice", due=later, assignee="carol", about_type="lead", about_id=LEAD
        )
    ).then(
        TaskChanged(
            title="Call back", about_type="lead", about_id=LEAD, category=None, notes="ring twice"
        ),
        TaskRescheduled(due=later, remind_before_minutes=90, previous_due=DUE),
        TaskReassigned(assignee="carol", previous_assignee="alice"),
    )
    given(CREATED).when(lambda t: task.change(t, remind_before_minutes=None)).then(
        TaskRescheduled(due=DUE, remind_before_minutes=None, previous_due=DUE)
    )


def test_a_done_task_is_not_changed_or_completed_again_and_an_open_one_not_reopened() -> None:
    given(CREATED, DONE).when(lambda t: task.change(t, title="x")).then_raises(
        RuleViolated, "is done; reopen it to change it"
    )
    given(CREATED, DONE).when(lambda t: task.complete(t, at=DUE)).then_raises(
        RuleViolated, "is already done"
    )
    given(CREATED).when(task.reopen).then_raises(RuleViolated, "only a done task is reopened")
    given(CREATED, DONE).when(task.reopen).then(TaskReopened())
    given(CREATED).when(lambda t: task.complete(t, at=DUE)).then(DONE)


def test_a_reminder_is_sent_once_for_its_instant_while_the_task_asks_for_it() -> None:
    at = datetime(2027, 3, 10, 13, 30, tzinfo=UTC)
    sent = TaskReminderSent(reminder_at=at, assignee="alice")
    given(CREATED).when(lambda t: task.remind(t, at=at)).then(sent)
    given(CREATED, sent).when(lambda t: task.remind(t, at=at)).then()
    given(CREATED, DONE).when(lambda t: task.remind(t, at=at)).then()
    # a timer for an instant the task no longer asks for sends nothing
    given(CREATED).when(lambda t: task.remind(t, at=at - timedelta(minutes=1))).then()


def test_notifications_are_of_known_kinds_read_once_and_their_ids_follow_their_cause() -> None:
    assert notification.send(recipient="alice", kind="task_assigned", text=" A  task ") == [
        NotificationSent(recipient="alice", notification_kind="task_assigned", text="A task")
    ]
    with pytest.raises(InvalidInput, match="kind is one of"):
        notification.send(recipient="alice", kind="gossip", text="x")
    with pytest.raises(InvalidInput, match="needs a text"):
        notification.send(recipient="alice", kind="automation", text=" ")
    # about a record of the kinds the answer names, and only those
    hook = uuid4()
    assert (
        notification.send(
            recipient="alice",
            kind="webhook_disabled",
            text="x",
            about_type="webhook",
            about_id=hook,
        )[0].about_type
        == "webhook"
    )
    with pytest.raises(InvalidInput, match="is about one of"):
        notification.send(
            recipient="alice", kind="automation", text="x", about_type="user", about_id=hook
        )
    sent = NotificationSent(recipient="alice", notification_kind="automation", text="x")
    given(sent).when(notification.mark_read).then(NotificationRead())
    given(sent, NotificationRead()).when(notification.mark_read).then()
    assert notification_id("e1", "alice", "task_assigned") == notification_id(
        "e1", "alice", "task_assigned"
    )
    assert (
        len(
            {
                notification_id("e1", "alice", "task_assigned"),
                notification_id("e2", "alice", "task_assigned"),
                notification_id("e1", "bob", "task_assigned"),
                notification_id("e1", "alice", "task_reminder"),
            }
        )
        == 4
    )
