"""Supervised loops outlive their servers: outages are waited out, bad settings end them.

The loops here are stand-ins that fail as the real ones do (the errors PostgreSQL's
driver, the library and kafka-python raise); the real loops under a real outage are
``tests/integration/test_outages.py``.
"""

from __future__ import annotations

import sqlite3
import threading
from typing import Any

import psycopg
import pytest
from eventsourcing.persistence import IntegrityError, OperationalError
from kafka.errors import KafkaConfigurationError, KafkaConnectionError, KafkaTimeoutError

from adapters.outages import (
    EMBEDDED,
    KAFKA,
    POSTGRESQL,
    Backoff,
    Health,
    SettingsProblem,
    StoreUnavailable,
    outage_of,
    settings_problem,
)
from adapters.supervision import Pulse, Supervisor, wait_for_start
from adapters.unreachable import StoreUnreachable


def wrapped(cause: Exception, outer: type[Exception] = OperationalError) -> Exception:
    """``cause`` as the library raises it: its own error, from the driver's."""
    try:
        try:
            raise cause
        except Exception as error:
            raise outer(str(error)) from error
    except Exception as raised:
        return raised


@pytest.mark.parametrize(
    ("error", "dependency"),
    [
        (wrapped(psycopg.OperationalError("connection refused")), POSTGRESQL),
        (wrapped(psycopg.errors.AdminShutdown("terminating connection")), POSTGRESQL),
        (psycopg.InterfaceError("the connection is closed"), POSTGRESQL),
        (StoreUnreachable("PostgreSQL at h:5432 could not be reached within 10 s"), POSTGRESQL),
        (StoreUnavailable(POSTGRESQL, "away", retry_after=2), POSTGRESQL),
        (wrapped(sqlite3.OperationalError("database is locked")), EMBEDDED),
        (KafkaTimeoutError("Unable to bootstrap from 127.0.0.1:9092"), KAFKA),
        (KafkaConnectionError("111 ECONNREFUSED"), KAFKA),
        (wrapped(sqlite3.OperationalError("no such table: x")), None),
        (wrapped(psycopg.errors.UniqueViolation("duplicate key"), IntegrityError), None),
        (ValueError("a bug"), None),
    ],
)
def test_an_error_names_the_dependency_that_is_away_or_none(
    error: Exception, dependency: str | None
) -> None:
    assert outage_of(error) == dependency


@pytest.mark.parametrize(
    "error",
    [
        wrapped(psycopg.OperationalError('FATAL:  database "crm" does not exist')),
        StoreUnreachable('could not be reached (FATAL:  password authentication failed for "x")'),
        psycopg.OperationalError("FATAL:  no pg_hba.conf entry for host"),
        KafkaConfigurationError("Unrecognized configs"),
    ],
)
def test_bad_settings_are_no_outage_and_say_why(error: Exception) -> None:
    assert outage_of(error) is None
    assert settings_problem(error)


def test_a_server_starting_up_is_an_outage_not_bad_settings() -> None:
    error = psycopg.OperationalError("FATAL:  the database system is starting up")
    assert settings_problem(error) is None and outage_of(error) == POSTGRESQL


def test_backoff_doubles_up_to_its_cap_and_starts_small_again() -> None:
    backoff = Backoff(first=0.5, cap=3.0)
    assert [backoff.next() for _ in range(5)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    backoff.reset()
    assert backoff.next() == 0.5
    assert Backoff(first=0.5, cap=0.1).next() == 0.1


class Flaky:
    """A loop that fails with each of ``errors`` in turn (one per life), then runs until
    stopped, reporting progress."""

    def __init__(self, errors: list[Exception], stop: threading.Event) -> None:
        self.errors = errors
        self.stop = stop
        self.lives = 0
        self.closed = 0
        self.seen_waiting: list[Any] = []

    def make(self) -> Flaky:
        self.lives += 1
        return self

    def run(self, loop: Flaky, stop: threading.Event, pulse: Pulse) -> None:
        if self.errors:
            raise self.errors.pop(0)
        pulse()
        stop.set()

    def close(self, loop: Flaky) -> None:
        self.closed += 1


def supervised(loop: Flaky, health: Health) -> Supervisor[Flaky]:
    return Supervisor(
        "projector", loop.make, loop.run, health=health, close=loop.close, max_backoff=0.01
    )


def test_an_outage_is_waited_out_and_the_loop_goes_on_as_a_new_one() -> None:
    # Given a loop that meets PostgreSQL away twice, then works
    stop, health = threading.Event(), Health()
    away = wrapped(psycopg.OperationalError("connection refused"))
    loop = Flaky([away, StoreUnavailable(POSTGRESQL, "away", retry_after=1)], stop)
    supervisor = supervised(loop, health)
    waiting: list[Any] = []
    original = health.waiting

    def record(*args: Any, **kwargs: Any) -> Any:
        entry = original(*args, **kwargs)
        waiting.append((entry.role, entry.dependency, entry.attempts))
        return entry

    health.waiting = record  # type: ignore[method-assign]
    # When it runs under its supervisor
    supervisor.run(stop)
    # Then each failure was waited out as an outage (no failure counted), each dead loop
    # closed, and a third one made; once it worked, nothing is waited for any more
    assert waiting == [("projector", POSTGRESQL, 1), ("projector", POSTGRESQL, 2)]
    assert (loop.lives, loop.closed, supervisor.failures) == (3, 3, 0)
    assert health.snapshot() == [] and supervisor.fatal is None


def test_any_other_failure_is_retried_too_and_counted() -> None:
    stop, health = threading.Event(), Health()
    loop = Flaky([RuntimeError("a bug")], stop)
    supervisor = supervised(loop, health)
    supervisor.run(stop)
    assert (loop.lives, supervisor.failures) == (2, 1)
    assert supervisor.last_error == "a bug"


def test_bad_settings_end_the_loop_with_one_sentence() -> None:
    stop, health = threading.Event(), Health()
    bad = wrapped(psycopg.OperationalError('FATAL:  role "nobody" does not exist'))
    loop = Flaky([bad], stop)
    supervisor = supervised(loop, health)
    with pytest.raises(SettingsProblem, match="does not exist"):
        supervisor.run(stop)
    assert loop.lives == 1 and stop.is_set()
    assert supervisor.fatal is not None and "\n" not in supervisor.fatal


def test_a_loop_silent_inside_a_library_call_is_reported_waiting_by_its_watchdog() -> None:
    # Given a loop blocked in a call (as kafka-python blocks) whose broker is away
    stop, health = threading.Event(), Health()
    blocked = threading.Event()

    def run(loop: object, stop: threading.Event, pulse: Pulse) -> None:
        blocked.set()
        stop.wait(5)

    supervisor: Supervisor[object] = Supervisor(
        "relay",
        object,
        run,
        health=health,
        watch=lambda: (f"{KAFKA} at b:9092", "b:9092: connection refused"),
        watch_every=0.05,
    )
    runner = threading.Thread(target=supervisor.run, args=(stop,))
    runner.start()
    try:
        assert blocked.wait(5)
        # Then, while it reports no progress, its health says what it waits for
        for _ in range(100):
            if health.get("relay") is not None:
                break
            stop.wait(0.05)
        entry = health.get("relay")
        assert entry is not None and entry.dependency == f"{KAFKA} at b:9092"
    finally:
        stop.set()
        runner.join(5)


def test_starting_waits_out_an_outage_and_stops_on_bad_settings() -> None:
    stop, health = threading.Event(), Health()
    attempts = iter([wrapped(psycopg.OperationalError("connection refused")), None])

    def open_() -> str:
        error = next(attempts)
        if error is not None:
            raise error
        return "opened"

    assert wait_for_start("worker", open_, health=health, stop=stop, max_backoff=0.01) == ("opened")

    def refused() -> str:
        raise wrapped(psycopg.OperationalError("FATAL:  password authentication failed"))

    with pytest.raises(SettingsProblem):
        wait_for_start("worker", refused, health=health, stop=stop, max_backoff=0.01)
