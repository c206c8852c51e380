"""A reader tailing the log while many writers append misses nothing (docs/design.md,
"Persistence").

Projectors, the process manager and the Kafka relay all follow the log the same
way: remember the last notification id read and ask for the ones after it. That
is only safe if an id, once a reader has passed it, can never be committed later.
On PostgreSQL the eventsourcing library guarantees it by taking an EXCLUSIVE
lock on the events table for every insert (commit order = id order); its
``POSTGRES_ENABLE_DB_FUNCTIONS`` path skips that lock, and tailing readers then
miss events (23–42 of them with 8 writers when it was measured). On SQLite the
single writer lock gives the same guarantee.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any
from uuid import uuid4

import psycopg
import pytest
from eventsourcing.persistence import PersistenceError
from psycopg.sql import SQL, Identifier

from adapters.bootstrap import Services, bootstrap
from adapters.clock import ManualClock
from commands.bus import CommandBus
from commands.opportunities import LogSalesActivity, MoveOpportunityToStage
from tests.builders import create_opportunity
from tests.conftest import settings_for
from tests.identity import add_users

ROOT = Path(__file__).resolve().parents[2]
WRITER_THREADS = 8
COMMANDS_PER_THREAD = 60
WRITER_PROCESSES = 2
COMMANDS_PER_PROCESS = 120
BATCH = 500


def write_commands(bus: CommandBus, label: str, count: int) -> int:
    """``count`` commands on aggregates only this writer touches; returns the events written.

    Every tenth command opens a new opportunity for a new account: two events in one
    save, so multi-row inserts interleave with single-row ones. Writers never contend
    for an aggregate, so no insert is rolled back and the ids stay dense on PostgreSQL
    too (a rolled-back insert burns sequence values there; that is a gap, not a miss).
    """
    written = 0
    opportunity_id = uuid4()
    for n in range(count):
        if n % 10 == 0:
            opportunity_id = uuid4()
            bus.execute(
                create_opportunity(
                    opportunity_id,
                    account=f"{label} account {n}",
                    title=f"{label} deal {n}",
                    owner=label,
                    expected_close=date(2027, 6, 30),
                )
            )
            written += 2
        elif n % 10 == 5:
            bus.execute(MoveOpportunityToStage(opportunity_id=opportunity_id, stage="proposal"))
            written += 1
        else:
            bus.execute(
                LogSalesActivity(
                    opportunity_id=opportunity_id,
                    activity_id=uuid4(),
                    kind="email",
                    subject=f"{label} #{n}",
                )
            )
            written += 1
    return written


def write_from_process(database_url: str, schema: str, label: str, count: int) -> None:
    """Entry point of a writer process: boot, say ready, wait for go, write, report."""
    from adapters.logging import configure
    from adapters.settings import Settings

    settings = Settings(
        database_url=database_url, database_schema=schema, pg_pool_size=1, log_level="warning"
    )
    configure(settings)
    services = bootstrap(settings)
    try:
        print("ready", flush=True)
        sys.stdin.readline()
        print(f"wrote {write_commands(services.bus, label, count)}", flush=True)
    finally:
        services.close()


def start_writer_process(services: Services, label: str) -> subprocess.Popen[str]:
    settings = services.settings
    code = (
        "import sys; from tests.integration.test_log_tailing import write_from_process; "
        "write_from_process(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]))"
    )
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            code,
            str(settings.database_url),
            settings.database_schema,
            label,
            str(COMMANDS_PER_PROCESS),
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


class Tail:
    """Follows the log as every consumer does: ids after the last one read, 500 at a time."""

    def __init__(self, recorder: Any) -> None:
        self.recorder = recorder
        self.seen: list[int] = []
        self.reads = 0
        self.seen_while_writing = 0
        self.writing_done = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            last = 0
            while True:
                done = self.writing_done.is_set()  # before the read: a final read follows it
                batch = self.recorder.select_notifications(
                    start=last, limit=BATCH, inclusive_of_start=False
                )
                self.reads += 1
                self.seen.extend(n.id for n in batch)
                if batch:
                    last = batch[-1].id
                    if not done:
                        self.seen_while_writing = len(self.seen)
                elif done:
                    return
                else:
                    time.sleep(0.001)
        except BaseException as error:
            self.error = error


# The writers' labels name the owners of their deals.
@pytest.mark.users(
    *(f"p{i}" for i in range(WRITER_PROCESSES)), *(f"t{i}" for i in range(WRITER_THREADS))
)
def test_a_tailing_reader_sees_every_event_once_in_order_while_writers_append(
    services: Services,
) -> None:
    # Given a reader tailing the log from the start, and writers ready to go: 8 threads,
    # and on PostgreSQL also 2 separate processes with their own connection pools
    processes = (
        [start_writer_process(services, f"p{i}") for i in range(WRITER_PROCESSES)]
        if services.settings.uses_postgres
        else []
    )
    try:
        for process in processes:
            assert process.stdout is not None
            line = process.stdout.readline()
            assert line.strip() == "ready", process.communicate(timeout=30)
        start = services.store.max_position()  # the defaults: pipeline and rate table
        tail = Tail(services.store.app.recorder)
        reader = threading.Thread(target=tail.run)
        reader.start()
        barrier = threading.Barrier(WRITER_THREADS + 1)
        written: list[int] = []
        errors: list[BaseException] = []

        def writer(label: str) -> None:
            try:
                barrier.wait(timeout=30)
                written.append(write_commands(services.bus, label, COMMANDS_PER_THREAD))
            except BaseException as error:
                errors.append(error)

        threads = [threading.Thread(target=writer, args=(f"t{i}",)) for i in range(WRITER_THREADS)]
        for thread in threads:
            thread.start()

        # When they all append at once
        barrier.wait(timeout=30)
        for process in processes:
            assert process.stdin is not None
            process.stdin.write("go\n")
            process.stdin.flush()
        for thread in threads:
            thread.join(timeout=60)
        for process in processes:
            out, err = process.communicate(timeout=60)
            assert process.returncode == 0, err
            written.append(int(out.split()[-1]))
        tail.writing_done.set()
        reader.join(timeout=30)
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    assert not reader.is_alive() and tail.error is None, tail.error
    assert not errors, errors[0]

    # Then the log holds every event written, with ids 1..max and no gap
    newest = services.store.max_position()
    expected_events = sum(written)
    assert len(written) == WRITER_THREADS + len(processes)
    assert newest == start + expected_events
    stored = [n.id for n in services.store.app.recorder.select_notifications(0, newest + 1)]
    assert stored == list(range(1, newest + 1))
    # And the reader saw each of them exactly once, in increasing order: zero misses
    assert tail.seen == stored
    # And it really was tailing: it read many times while the writers were appending
    assert tail.seen_while_writing > 0
    assert tail.reads > 10


# --- PostgreSQL session settings ------------------------------------------------------------


@pytest.fixture
def postgres_services(
    postgres_schema: str, tmp_path: Path, clock: ManualClock
) -> Iterator[Services]:
    """PostgreSQL only, with a short idle-in-transaction timeout to watch it act."""
    settings = settings_for("postgres", tmp_path, postgres_schema).model_copy(
        update={"pg_idle_in_transaction_timeout_seconds": 1}
    )
    running = bootstrap(settings, clock=clock)
    add_users(running.bus, "alice")  # the owner of the deals below
    yield running
    running.close()


def test_postgres_keeps_the_table_lock_and_bounds_every_sessions_waits(
    postgres_services: Services,
) -> None:
    # Given the application on PostgreSQL
    services = postgres_services
    datastore = services.store.app.recorder.datastore
    # Then the insert path that takes the table lock is the one in use: the database
    # function path (POSTGRES_ENABLE_DB_FUNCTIONS) skips the lock, so tailing readers
    # miss events; it also bypasses the recorder, which writes idempotency keys and
    # documents in the events' transaction
    assert datastore.enable_db_functions is False
    # And every pooled session carries both timeouts: a writer waiting on a lock gives
    # up after lock_timeout instead of queueing forever, and a session left idle inside
    # a transaction (holding the table lock, say) is ended by the server so the log
    # does not freeze for everyone
    with datastore.get_connection() as conn:
        settings = {
            name: conn.execute(SQL("SHOW {}").format(Identifier(name))).fetchone()[name]
            for name in ("lock_timeout", "idle_in_transaction_session_timeout")
        }
    assert settings == {
        "lock_timeout": f"{services.settings.pg_lock_timeout_seconds}s",
        "idle_in_transaction_session_timeout": "1s",
    }


def test_a_session_stuck_holding_the_table_lock_does_not_freeze_the_log(
    postgres_services: Services,
) -> None:
    # Given a pooled session that locked the events table and then went idle in its
    # transaction (a crashed worker, a debugger on a breakpoint…)
    services = postgres_services
    recorder = services.store.app.recorder
    opportunity_id = uuid4()
    locked = threading.Event()
    release = threading.Event()
    ended: list[BaseException] = []

    def stuck() -> None:
        try:
            with recorder.datastore.get_connection() as conn:
                conn.execute("BEGIN")
                conn.execute(
                    SQL("LOCK TABLE {}.{} IN EXCLUSIVE MODE").format(
                        Identifier(recorder.datastore.schema),
                        Identifier(recorder.events_table_name),
                    )
                )
                locked.set()
                release.wait(timeout=30)
        except PersistenceError as error:  # its commit finds the session gone
            ended.append(error)

    holder = threading.Thread(target=stuck)
    holder.start()
    try:
        assert locked.wait(timeout=10)
        # When a command is saved meanwhile
        started = time.monotonic()
        outcome = services.bus.execute(
            create_opportunity(
                opportunity_id,
                account="Umbrella",
                title="Stuck-lock check",
                expected_close=date(2027, 6, 30),
            )
        )
        waited = time.monotonic() - started
    finally:
        release.set()
        holder.join(timeout=30)
    # Then it went through once the server ended the idle session (after ~1 s), well
    # before the lock timeout would have refused it
    assert 0.5 < waited < services.settings.pg_lock_timeout_seconds
    [error] = ended
    assert isinstance(error.__cause__, psycopg.errors.IdleInTransactionSessionTimeout)
    assert outcome.position == services.store.max_position()
    assert services.store.load(opportunity_id) is not None
