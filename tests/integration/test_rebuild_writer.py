"""A rebuild whose writes go to a second process ends with the rows of one written in-process.

``crmledger rebuild`` on a large log hands its change sets to a writer process
(``adapters.readmodel_writer``) while it goes on projecting. The tables must
come out exactly as an in-process rebuild writes them, on SQLite and
PostgreSQL; a writer that dies mid-rebuild must stop the rebuild with a clear
error, leave tables whose rows match their tracking position, and a projector
started afterwards must end where a clean rebuild does.
"""

from __future__ import annotations

import os
import random
import signal
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from adapters.bootstrap import Services
from adapters.clock import ManualClock
from adapters.event_store.postgres import ensure_postgres_schema
from adapters.readmodel_store import open_store
from adapters.readmodel_writer import ProcessWriter, WriterFailed
from adapters.settings import Settings
from projections.changes import ChangeSet
from readmodels.bookkeeping import UPSTREAM
from readmodels.deals.tables import CHECKPOINTS
from tests.conftest import settings_for
from tests.histories import History
from tests.readmodel_tables import deals_rows


@pytest.fixture
def settings(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    """Checkpoints every 100 positions, so a few hundred commands write deltas and fulls."""
    schema = request.getfixturevalue("postgres_schema") if backend == "postgres" else None
    return settings_for(backend, tmp_path, schema).model_copy(
        update={"checkpoint_interval": 100, "checkpoint_full_every": 3}
    )


def test_a_rebuild_written_by_a_second_process_equals_one_written_in_process(
    services: Services, clock: ManualClock
) -> None:
    # Given a varied history
    History(services.bus, clock, random.Random(5)).write(300)
    # When it is rebuilt in this process, then with a writer process, small flushes
    _, inline = services.rebuild(writer="inline", flush_every=1)
    in_process = deals_rows(services)
    projector, applied = services.rebuild(writer="process", flush_every=1)
    # Then every table holds the same rows, the checkpoints included
    assert applied == inline == services.store.max_position()
    assert deals_rows(services) == in_process
    assert services.views.max_tracking_id(UPSTREAM) == services.store.max_position()
    bases = [row[4] for row in in_process[CHECKPOINTS]]
    assert None in bases and any(base is not None for base in bases)  # fulls and deltas
    assert projector.applied > 100


class _KillingWriter(ProcessWriter):
    """Kills its child with SIGKILL right after handing it the n-th change set."""

    def __init__(self, *args: object, kill_after: int, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.kill_after = kill_after
        self.sent = 0
        self.killed = threading.Event()

    def submit(self, changes: ChangeSet) -> None:
        super().submit(changes)
        self.sent += 1
        if self.sent == self.kill_after:
            os.kill(self.pid, signal.SIGKILL)
            self.killed.set()


def test_a_writer_killed_mid_rebuild_stops_it_and_a_restart_ends_with_a_clean_rebuilds_rows(
    services: Services, clock: ManualClock
) -> None:
    # Given a history, and its clean rebuild
    History(services.bus, clock, random.Random(9)).write(300)
    services.rebuild(writer="inline", flush_every=1)
    clean = deals_rows(services)
    # When a rebuild's writer process is killed after its third change set
    projector = services.projector(flush_every=1)
    writer = _KillingWriter(services.settings, kill_after=3)
    with pytest.raises(WriterFailed, match="writer process"):
        try:
            projector.rebuild(writer=writer)
        finally:
            writer.close()
    assert writer.killed.is_set()
    # Then the tables hold what was committed, at a tracked position short of the end
    tracked = services.views.max_tracking_id(UPSTREAM) or 0
    assert tracked < services.store.max_position()
    restarted = services.projector()
    restarted.start()
    assert restarted.position == tracked
    # And a projector carrying on from there ends with the clean rebuild's rows
    restarted.catch_up()
    assert deals_rows(services) == clean


def test_a_writer_that_cannot_start_says_so(tmp_path: Path) -> None:
    # Given settings the child cannot open: a home that is a file (the failure path is
    # the same on PostgreSQL, where an unreachable server takes minutes to give up)
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    broken = settings_for("sqlite", tmp_path).model_copy(update={"home": blocker})
    # When a change set is handed to it, then the failure is reported, not hung on
    writer = ProcessWriter(broken)
    with pytest.raises(WriterFailed, match="writer process"):
        try:
            writer.drain()
        finally:
            writer.close()


def _open_and_close(settings: Settings) -> None:
    open_store(settings).datastore.close()


def _at_once(*steps: Callable[[], None]) -> list[Exception]:
    """Run ``steps`` in threads at once; what each raised."""
    failures: list[Exception] = []

    def run(step: Callable[[], None]) -> None:
        try:
            step()
        except Exception as error:  # what the other step's concurrency caused
            failures.append(error)

    threads = [threading.Thread(target=run, args=(step,)) for step in steps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return failures


@pytest.mark.parametrize("backend", ["postgres"])
def test_on_postgresql_tables_dropped_while_another_process_opens_them_are_made_once(
    settings: Settings,
) -> None:
    # Given the read-model tables (a rebuild's writer process opens the store, making what
    # is missing, while the rebuild drops and makes them again)
    ensure_postgres_schema(settings)
    store = open_store(settings)
    try:
        for _ in range(10):
            # When they are dropped and opened at once
            failures = _at_once(store.drop, lambda: _open_and_close(settings))
            # Then neither fails, and the tables are there, empty
            assert failures == []
            assert store.rows(CHECKPOINTS) == []
    finally:
        store.datastore.close()
