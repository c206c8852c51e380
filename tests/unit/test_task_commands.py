"""Task and notification commands through ``CommandBus`` on the in-memory store
(commands/tasks.py, commands/notifications.py): what each writes in one save, the reminder
timer set, moved, dropped and set again in that save, the rights asked before anything
runs, and that a refused command writes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid5

import pytest

from commands.authorization import authorize
from commands.bus import CommandBus, Outcome
from commands.handlers import all_handlers
from commands.notifications import MarkNotificationRead, SendNotification, SendNotifications
from commands.opportunities import CreateOpportunity
from commands.ports import ProcessTimer
from commands.reference_data import CreateAccount, EnsureDefaults
from commands.tasks import (
    ChangeTask,
    CompleteTask,
    CreateTask,
    FireTaskReminder,
    ReopenTask,
)
from commands.unit_of_work import Actor
from domain.access import Forbidden, Principal
from domain.errors import DomainError, InvalidInput, NotFound, RuleViolated
from domain.events import DomainEvent
from domain.notification import Notification, NotificationRead, NotificationSent, notification_id
from domain.task import (
    Task,
    TaskCompleted,
    TaskCreated,
    TaskReminderSent,
    TaskReopened,
)
from domain.user import NotAnActiveUser
from tests.fakes import InMemoryEventStore, ManualClock
from tests.identity import add_users, deactivate_users

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
DUE = datetime(2027, 3, 10, 15, 0, tzinfo=UTC)
REMIND_AT = datetime(2027, 3, 10, 13, 30, tzinfo=UTC)  # 15:00 less 90 minutes
FAR = datetime(2099, 1, 1, tzinfo=UTC)
NS = UUID("1e0b6a4c-2d3f-4e5a-8b9c-0d1e2f3a4b5c")
TASK = uuid5(NS, "task")
ALICE = Principal(login="alice", role="rep")
BOB = Principal(login="bob", role="rep")
BOSS = Principal(login="boss", role="manager", team=frozenset({"alice"}))


class App:
    def __init__(self) -> None:
        self.store = InMemoryEventStore()
        self.clock = ManualClock(NOW)
        self.bus = CommandBus(
            self.store,
            self.clock,
            handlers=all_handlers(),
            reporting_currency="EUR",
            authorize=authorize,
        )
        self.bus.execute(EnsureDefaults())
        add_users(self.bus, "alice", "bob", "carol")
        add_users(self.bus, "boss", role="manager")

    def run(self, command: Any, as_: Principal | None = ALICE) -> Outcome:
        actor = Actor(by=as_.login if as_ else "cli:test", principal=as_)
        return self.bus.execute(command, actor=actor)

    def written(self, command: Any, as_: Principal | None = ALICE) -> list[DomainEvent]:
        before = len(self.store.log)
        self.run(command, as_)
        return list(self.store.log[before:])

    def refused(self, command: Any, error: type[DomainError], match: str, **kw: Any) -> None:
        before, timers = len(self.store.log), self.timers()
        with pytest.raises(error, match=match):
            self.run(command, **kw)
        assert (len(self.store.log), self.timers()) == (before, timers)

    def task(self) -> Task:
        state = self.store.load(TASK)
        assert isinstance(state, Task)
        return state

    def timers(self) -> list[ProcessTimer]:
        return self.store.due_process_timers("tasks", FAR, 10)


@pytest.fixture
def app() -> App:
    return App()


def create(**fields: Any) -> CreateTask:
    return CreateTask(**{"task_id": TASK, "title": "Call back", "due": DUE, **fields})


def reminder(at: datetime = REMIND_AT) -> list[ProcessTimer]:
    return [ProcessTimer(process="tasks", subject_id=TASK, kind="reminder", due_at=at)]


def test_creating_a_task_writes_it_for_the_caller_with_its_reminder_timer(app: App) -> None:
    written = app.written(create(remind_before_minutes=90))
    assert [type(e) for e in written] == [TaskCreated]
    assert (app.task().assignee, app.task().created_by) == ("alice", "alice")
    # Then the reminder is due at 13:30 exactly: not a microsecond earlier
    assert app.timers() == reminder()
    assert app.store.due_process_timers("tasks", REMIND_AT - timedelta(microseconds=1), 10) == []


def test_a_task_for_someone_else_or_about_a_record_names_what_exists(app: App) -> None:
    app.run(create(assignee="bob"))
    assert (app.task().assignee, app.task().created_by) == ("bob", "alice")
    other = uuid5(NS, "other")
    app.refused(
        create(task_id=other, assignee="nobody"), NotAnActiveUser, "'nobody' \\(the assignee\\)"
    )
    deactivate_users(app.bus, "carol")
    app.refused(create(task_id=other, assignee="carol"), NotAnActiveUser, "is deactivated")
    missing = uuid5(NS, "missing")
    app.refused(
        create(task_id=other, about_type="lead", about_id=missing), NotFound, "no lead with id"
    )
    app.refused(create(task_id=other, about_type="lead"), InvalidInput, "both its type and its id")
    # a process names its assignee
    app.refused(create(task_id=other), InvalidInput, "names its assignee", as_=None)


def test_a_task_about_a_record_the_caller_may_not_see_is_refused_as_unknown(app: App) -> None:
    account = app.run(CreateAccount(name="ACME"), as_=None).id
    deal = uuid5(NS, "deal")
    app.run(
        CreateOpportunity(
            opportunity_id=deal,
            title="Rollout",
            account_id=account,
            owner="bob",
            expected_close=DUE.date(),
        ),
        as_=None,
    )
    app.refused(create(about_type="opportunity", about_id=deal), NotFound, "no opportunity")
    app.run(create(about_type="opportunity", about_id=deal), as_=BOB)
    assert app.task().about_id == deal


def test_moving_the_due_or_the_reminder_moves_the_timer_and_dropping_it_drops_it(
    app: App,
) -> None:
    app.run(create(remind_before_minutes=90))
    app.run(ChangeTask(task_id=TASK, due=DUE + timedelta(days=1)))
    assert app.timers() == reminder(REMIND_AT + timedelta(days=1))
    app.run(ChangeTask(task_id=TASK, remind_before_minutes=30))
    assert app.timers() == reminder(DUE + timedelta(days=1, minutes=-30))
    # a title changes nothing of the reminder
    app.run(ChangeTask(task_id=TASK, title="Call back soon"))
    assert app.timers() == reminder(DUE + timedelta(days=1, minutes=-30))
    app.run(ChangeTask(task_id=TASK, remind_before_minutes=None))
    assert app.timers() == []
    # a reminder whose moment has passed is not set
    app.run(ChangeTask(task_id=TASK, due=NOW + timedelta(minutes=10), remind_before_minutes=20))
    assert app.timers() == []


def test_completing_drops_the_reminder_and_reopening_sets_it_again_while_ahead(
    app: App,
) -> None:
    app.run(create(remind_before_minutes=90))
    assert [type(e) for e in app.written(CompleteTask(task_id=TASK))] == [TaskCompleted]
    assert app.timers() == []
    app.refused(CompleteTask(task_id=TASK), RuleViolated, "is already done")
    app.refused(ChangeTask(task_id=TASK, title="x"), RuleViolated, "reopen it")
    assert [type(e) for e in app.written(ReopenTask(task_id=TASK))] == [TaskReopened]
    assert app.timers() == reminder()
    app.refused(ReopenTask(task_id=TASK), RuleViolated, "only a done task is reopened")
    # Completed again, and reopened after the reminder's moment: no reminder any more
    app.run(CompleteTask(task_id=TASK))
    app.clock.set(REMIND_AT)
    app.run(ReopenTask(task_id=TASK))
    assert app.timers() == []


def test_a_reminder_fires_once_with_the_assignees_notification_in_one_save(app: App) -> None:
    app.run(create(remind_before_minutes=90, assignee="bob"))
    app.clock.set(REMIND_AT)
    written = app.written(FireTaskReminder(task_id=TASK, due_at=REMIND_AT), as_=None)
    assert [type(e) for e in written] == [TaskReminderSent, NotificationSent]
    sent = written[1]
    assert isinstance(sent, NotificationSent)
    assert (sent.recipient, sent.notification_kind, sent.about_id) == ("bob", "task_reminder", TASK)
    assert app.timers() == []
    # Fired again (another worker, a replay): the timer is gone, nothing is written
    before = len(app.store.log)
    with pytest.raises(DomainError):
        app.run(FireTaskReminder(task_id=TASK, due_at=REMIND_AT), as_=None)
    assert len(app.store.log) == before


def test_who_may_work_a_task_its_assignee_creator_their_managers_and_admins(app: App) -> None:
    app.run(create(assignee="alice"), as_=BOB)  # bob made it for alice
    app.run(ChangeTask(task_id=TASK, notes="from alice"), as_=ALICE)
    app.run(ChangeTask(task_id=TASK, notes="from bob"), as_=BOB)
    app.run(ChangeTask(task_id=TASK, notes="from the boss"), as_=BOSS)
    app.run(ChangeTask(task_id=TASK, notes="from an admin"), as_=Principal(login="a", role="admin"))
    carol = Principal(login="carol", role="rep")
    app.refused(CompleteTask(task_id=TASK), NotFound, "no task with id", as_=carol)
    analyst = Principal(login="ann", role="analyst")
    app.refused(CompleteTask(task_id=TASK), Forbidden, "may not complete task", as_=analyst)


def test_notifications_are_sent_by_processes_once_and_read_by_their_recipient_only(
    app: App,
) -> None:
    nid = notification_id("cause", "alice", "automation")
    send = SendNotification(notification_id=nid, recipient="alice", kind="automation", text="Hi")
    app.refused(send, Forbidden, "may not send notification")
    assert [type(e) for e in app.written(send, as_=None)] == [NotificationSent]
    assert app.written(send, as_=None) == []  # the same cause: not twice
    # to someone who is not a user: not sent, not refused
    ghost = SendNotification(
        notification_id=notification_id("c", "ghost", "automation"),
        recipient="ghost",
        kind="automation",
        text="Hi",
    )
    assert app.written(ghost, as_=None) == []
    admin = Principal(login="boss2", role="admin")
    for other in (BOB, admin):
        app.refused(
            MarkNotificationRead(notification_id=nid), NotFound, "no notification", as_=other
        )
    assert [type(e) for e in app.written(MarkNotificationRead(notification_id=nid))] == [
        NotificationRead
    ]
    state = app.store.load(nid)
    assert isinstance(state, Notification) and state.read


def test_a_process_sends_notifications_with_its_position_in_one_save(app: App) -> None:
    notices = tuple(
        SendNotification(
            notification_id=notification_id("e", who, "task_assigned"),
            recipient=who,
            kind="task_assigned",
            text="A task",
        )
        for who in ("alice", "bob")
    )
    written = app.written(SendNotifications(notifications=notices, position=7), as_=None)
    assert [type(e) for e in written] == [NotificationSent, NotificationSent]
    assert app.store.tracked_position("notifications") == 7
    # the same position again (another worker): nothing
    assert app.written(SendNotifications(notifications=notices, position=7), as_=None) == []
