"""Process managers' own tracking records and timers, on SQLite and on PostgreSQL.

Given a store, when a process manager saves its position or changes its timers with
a save, then those are kept per process, in that save's transaction, and a timer fires
once: firing it again (or one never set) fails the whole save as a lost race.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from adapters.event_store.store import SalesEventStore
from adapters.settings import Settings
from commands.ports import ConcurrentWrite, ProcessTimer, TimerChanges

T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def store(settings: Settings) -> Iterator[SalesEventStore]:
    opened = SalesEventStore.open(settings)
    yield opened
    opened.close()


def test_each_process_keeps_its_own_position(store: SalesEventStore) -> None:
    # Given nothing tracked, when two processes record positions
    store.save([], tracking=5, process="automations")
    store.save([], tracking=3, process="webhooks")
    # Then each reads its own, and the contracts process none
    assert store.tracked_position("automations") == 5
    assert store.tracked_position("webhooks") == 3
    assert store.tracked_position() == 0
    # And a position not beyond the one recorded is a lost race
    with pytest.raises(ConcurrentWrite):
        store.save([], tracking=5, process="automations")
    assert store.tracked_position("automations") == 5


def test_timers_are_scheduled_moved_cancelled_and_fired_once(store: SalesEventStore) -> None:
    task, other = uuid4(), uuid4()
    remind = ProcessTimer(process="tasks", subject_id=task, kind="reminder", due_at=T0)
    idle = ProcessTimer(process="automations", subject_id=other, kind="idle", due_at=T0)
    # Given two processes' timers
    store.save([], tracking=1, process="tasks", timers=TimerChanges(scheduled=[remind, idle]))
    # Then each process sees only its own, once due
    assert store.due_process_timers("tasks", T0 - timedelta(seconds=1), 10) == []
    assert [t.subject_id for t in store.due_process_timers("tasks", T0, 10)] == [task]
    # When the reminder is moved, it is due at its new instant only
    later = ProcessTimer(
        process="tasks", subject_id=task, kind="reminder", due_at=T0 + timedelta(hours=1)
    )
    store.save([], tracking=2, process="tasks", timers=TimerChanges(scheduled=[later]))
    assert store.due_process_timers("tasks", T0, 10) == []
    assert store.due_process_timers("tasks", T0 + timedelta(hours=2), 10) == [later]
    # When it fires, it is gone; firing it again fails the whole save
    key = ("tasks", task, "reminder")
    store.save([], tracking=3, process="tasks", timers=TimerChanges(process_fired=[key]))
    assert store.due_process_timers("tasks", T0 + timedelta(days=1), 10) == []
    with pytest.raises(ConcurrentWrite):
        store.save([], tracking=4, process="tasks", timers=TimerChanges(process_fired=[key]))
    assert store.tracked_position("tasks") == 3
    # When the other is cancelled (and a missing one too), nothing is left
    store.save(
        [],
        tracking=4,
        process="tasks",
        timers=TimerChanges(cancelled=[("automations", other, "idle"), key]),
    )
    assert store.due_process_timers("automations", T0 + timedelta(days=1), 10) == []
