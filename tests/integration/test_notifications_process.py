"""The notifications process (processes/notifications.py) on SQLite and on PostgreSQL.

Given work recorded through the real command bus, when the process follows the log, then
each assignment to someone else and each contract falling due notifies its user once, in a
save that carries the process's position; a process started again from that position
repeats none and misses none; and a task's reminder fires once, at its instant exactly,
however many workers tick at the same time.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from adapters.bootstrap import Services, bootstrap
from adapters.clock import ManualClock
from adapters.settings import Settings
from commands.bus import Outcome
from commands.leads import AssignLead, CreateLead
from commands.opportunities import EditOpportunity
from commands.tasks import ChangeTask, CompleteTask, CreateTask
from commands.unit_of_work import Actor
from domain.events import DomainEvent, event_id
from domain.notification import NotificationSent
from domain.task import TaskReminderSent
from processes.notifications import ACTOR, NotificationsProcess
from readmodels.log import events_between
from tests.builders import create_opportunity
from tests.identity import TEAM, add_users
from tests.integration.test_contracts_process import NOTICE_AT, processed_sale
from tests.processes import crmledger

pytestmark = pytest.mark.users(*TEAM)

DUE = datetime(2027, 3, 10, 15, 0, tzinfo=UTC)
REMIND_AT = datetime(2027, 3, 10, 13, 30, tzinfo=UTC)  # 90 minutes before, by hand


def as_(services: Services, login: str, command: Any) -> Outcome:
    return services.bus.execute(command, actor=Actor(by=login))


def written(services: Services, after: int = 0) -> list[DomainEvent]:
    """Every event in the log after position ``after``, in log order."""
    log = services.event_log
    found = events_between(log, after, log.last_position(), topics=())
    return [log.decode(logged) for logged in found]


def sent(services: Services, after: int = 0) -> list[NotificationSent]:
    return [e for e in written(services, after) if isinstance(e, NotificationSent)]


def notified(services: Services, after: int = 0) -> list[tuple[str, str, UUID | None]]:
    return sorted((e.recipient, e.notification_kind, e.about_id) for e in sent(services, after))


def task(services: Services, by: str, assignee: str, **fields: Any) -> UUID:
    command = CreateTask(task_id=uuid4(), title="Call back", due=DUE, assignee=assignee, **fields)
    return as_(services, by, command).id


def test_work_given_to_someone_else_notifies_them_once(services: Services) -> None:
    # Given bob making a task for alice and one for himself, a lead for alice and one he
    # gives carol, and an opportunity of alice's he gives carol
    for_alice = task(services, "bob", "alice")
    task(services, "bob", "bob")
    lead = uuid4()
    as_(services, "bob", CreateLead(lead_id=lead, first_name="Ada", last_name="L", owner="alice"))
    as_(services, "bob", AssignLead(lead_id=lead, owner="carol"))
    deal = as_(services, "alice", create_opportunity(owner="alice")).id
    as_(services, "bob", EditOpportunity(opportunity_id=deal, owner="carol"))
    as_(services, "alice", ChangeTask(task_id=for_alice, assignee="alice"))  # no change
    before = services.store.max_position()
    # When the process catches up
    process = services.notifications_process()
    process.catch_up()
    # Then each given piece of work notified its new holder, and no one else
    assert notified(services, before) == sorted(
        [
            ("alice", "task_assigned", for_alice),
            ("alice", "lead_assigned", lead),
            ("carol", "lead_assigned", lead),
            ("carol", "opportunity_assigned", deal),
        ]
    )
    # And each says who did it: the process, caused by the event it answers
    causes = {str(event_id(e.originator_id, e.originator_version)) for e in written(services)}
    for notice in sent(services, before):
        assert notice.by == ACTOR
        assert notice.causation_id in causes
    assert process.position == before  # its own notices follow what it read
    # When it catches up again, or a fresh process does, nothing more is sent
    end = services.store.max_position()
    process.catch_up()
    services.notifications_process().catch_up()
    assert sent(services, end) == []


def test_a_contract_falling_due_notifies_its_owner(services: Services) -> None:
    # Given a sale whose three time-based contracts fell due for renewal
    processed_sale(services, ticked_to=NOTICE_AT)
    before = services.store.max_position()
    # When the process catches up
    services.notifications_process().catch_up()
    # Then the owner hears of each, once, and of the deal the operator made for her; the
    # renewal opportunities are told as the contracts falling due, not again
    kinds = [(r, k) for r, k, _ in notified(services, before)]
    assert kinds == [("alice", "contract_renewal_due")] * 3 + [("alice", "opportunity_assigned")]


def test_a_restart_from_the_recorded_position_repeats_none_and_misses_none(
    services: Services,
) -> None:
    # Given ten tasks bob made for alice
    start = services.store.max_position()
    tasks = [task(services, "bob", "alice") for _ in range(10)]
    middle = services.store.position_of(tasks[4], 1)
    assert middle is not None
    # When one process got halfway and stopped (a crash after its save)
    NotificationsProcess(services.event_log, services.bus, services.store).catch_up(up_to=middle)
    assert {n.about_id for n in sent(services, start)} == set(tasks[:5])
    # And more work came meanwhile
    tasks += [task(services, "carol", "alice") for _ in range(3)]
    # When a new process starts from the recorded position
    NotificationsProcess(services.event_log, services.bus, services.store).catch_up()
    # Then every task notified alice exactly once
    about = [n.about_id for n in sent(services, start)]
    assert sorted(map(str, about)) == sorted(map(str, tasks))


def test_a_reminder_fires_once_at_its_instant_however_many_workers_tick(
    services: Services,
) -> None:
    # Given tasks due 2027-03-10 15:00Z, each to be reminded 90 minutes before; one done
    tasks = [task(services, "bob", "alice", remind_before_minutes=90) for _ in range(6)]
    done = task(services, "bob", "alice", remind_before_minutes=90)
    as_(services, "bob", CompleteTask(task_id=done))
    first = services.notifications_process()
    first.catch_up()
    start = services.store.max_position()
    # When a worker ticks to a microsecond before 13:30, nothing fires
    assert first.tick(REMIND_AT - timedelta(microseconds=1)) == 0
    assert services.store.max_position() == start
    # When two workers tick to 13:30 at the same time
    workers = [first, services.notifications_process()]
    barrier = threading.Barrier(len(workers))
    fired: list[int] = []

    def tick(worker: NotificationsProcess) -> None:
        barrier.wait()
        fired.append(worker.tick(REMIND_AT))

    threads = [threading.Thread(target=tick, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Then each open task's reminder fired once, with one notification to its assignee
    assert sum(fired) == len(tasks)
    reminders = [e for e in written(services, start) if isinstance(e, TaskReminderSent)]
    assert sorted(str(e.originator_id) for e in reminders) == sorted(map(str, tasks))
    assert {e.reminder_at for e in reminders} == {REMIND_AT}
    assert notified(services, start) == sorted(("alice", "task_reminder", t) for t in tasks)
    assert {e.by for e in written(services, start)} == {ACTOR}
    # And ticking on, by either, fires nothing again
    end = services.store.max_position()
    assert first.tick(DUE + timedelta(days=1)) == 0
    assert services.notifications_process().tick(DUE + timedelta(days=1)) == 0
    assert services.store.max_position() == end


def test_crmledger_tick_fires_a_reminder_due_by_its_instant_once(
    settings: Settings, clock: ManualClock
) -> None:
    # Given a task of alice's, due at 15:00, to be reminded 90 minutes before
    services = bootstrap(settings, clock=clock)
    try:
        add_users(services.bus, *TEAM)
        made = task(services, "bob", "alice", remind_before_minutes=90)
    finally:
        services.close()

    def tick(until: str) -> dict[str, Any]:
        run = crmledger(settings, "tick", "--until", until, "--format", "json")
        assert run.code == 0, run.err
        answer: dict[str, Any] = json.loads(run.out)
        return answer

    # When time is ticked to a second before 13:30, no reminder fires (alice hears of
    # the task bob gave her)
    early = tick("2027-03-10T13:29:59Z")
    assert (early["reminders"], early["notifications"]) == (0, 1)
    # When it is ticked to 13:30, the reminder fires; ticked again, nothing
    assert (tick("2027-03-10T13:30:00Z")["reminders"], tick("2028-01-01")["reminders"]) == (1, 0)
    services = bootstrap(settings, clock=clock)
    try:
        reminded = [e for e in written(services) if isinstance(e, TaskReminderSent)]
        assert [(e.originator_id, e.reminder_at) for e in reminded] == [(made, REMIND_AT)]
        assert ("alice", "task_reminder", made) in notified(services)
    finally:
        services.close()
