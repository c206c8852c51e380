"""Fixtures shared by every test: clocks, stores on SQLite and PostgreSQL, services.

PostgreSQL tests talk to a real server (``CRMLEDGER_TEST_POSTGRES_URL``,
default postgres@127.0.0.1:5432). Each test gets its own schema, dropped
afterwards. Without a server they are skipped locally, but under ``CI=true``
they fail — and a CI run with any skipped test fails too.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg import sql

from adapters.bootstrap import Services, bootstrap
from adapters.clock import ManualClock
from adapters.http.app import create_app
from adapters.settings import Settings
from tests.identity import add_users, bearer, user_token
from tests.kafka_broker import TansuBroker

# Show diffs when a Given/When/Then expectation fails.
pytest.register_assert_rewrite("tests.gwt")

POSTGRES_URL = os.environ.get(
    "CRMLEDGER_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
T0 = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)


def _postgres_available() -> str | None:
    try:
        with psycopg.connect(POSTGRES_URL, connect_timeout=3):
            return None
    except psycopg.Error as error:
        return str(error).strip().splitlines()[0]


def require_postgres() -> None:
    problem = _postgres_available()
    if problem is None:
        return
    message = f"PostgreSQL at {POSTGRES_URL} is unreachable: {problem}"
    if IN_CI:
        pytest.fail(message + " (CI=true: PostgreSQL tests must run)", pytrace=False)
    pytest.skip(message)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def postgres_schema() -> Iterator[str]:
    require_postgres()
    schema = f"test_{uuid.uuid4().hex[:12]}"
    yield schema
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


def settings_for(backend: str, tmp_path: Path, schema: str | None = None) -> Settings:
    if backend == "sqlite":
        return Settings(home=tmp_path / "home", reporting_currency="EUR")
    assert schema is not None
    return Settings(database_url=POSTGRES_URL, database_schema=schema, reporting_currency="EUR")


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def settings(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    schema = request.getfixturevalue("postgres_schema") if backend == "postgres" else None
    return settings_for(backend, tmp_path, schema)


def users_marked(request: pytest.FixtureRequest) -> list[str]:
    """The logins of every ``users`` mark of the test, its class and its module: an owner
    must be an active user, so a test names those it gives records to."""
    return [login for mark in request.node.iter_markers("users") for login in mark.args]


@pytest.fixture
def services(
    settings: Settings, clock: ManualClock, request: pytest.FixtureRequest
) -> Iterator[Services]:
    """The application on SQLite and on PostgreSQL (the test runs once for each), with the
    users the test marks (``@pytest.mark.users("alice", …)``)."""
    running = bootstrap(settings, clock=clock)
    add_users(running.bus, *users_marked(request))
    yield running
    running.close()


@pytest.fixture
def sqlite_services(
    tmp_path: Path, clock: ManualClock, request: pytest.FixtureRequest
) -> Iterator[Services]:
    """The application on the embedded store, with the users the test marks."""
    running = bootstrap(settings_for("sqlite", tmp_path), clock=clock)
    add_users(running.bus, *users_marked(request))
    yield running
    running.close()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # Under CI nothing may be skipped silently; xdist workers report to the controller.
    if not IN_CI or hasattr(session.config, "workerinput"):
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if skipped:
        print(f"\nCI=true: {skipped} test(s) were skipped; every test must run in CI.")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def admin_client(services: Services) -> TestClient:
    """The HTTP API as an admin: every request carries the admin's bearer token."""
    test_client = TestClient(create_app(services), raise_server_exceptions=False)
    test_client.headers.update(bearer(user_token(services)))
    return test_client


@pytest.fixture
def client(sqlite_services: Services) -> Iterator[TestClient]:
    """The HTTP API on the embedded store, as an admin."""
    with admin_client(sqlite_services) as test_client:
        yield test_client


@pytest.fixture
def any_client(services: Services) -> Iterator[TestClient]:
    """The HTTP API on SQLite and on PostgreSQL (the test runs once for each), as an admin."""
    with admin_client(services) as test_client:
        yield test_client


@pytest.fixture
def kafka_broker(tmp_path: Path) -> Iterator[TansuBroker]:
    """A real Kafka-protocol broker (tansu) on a free loopback port, for one test."""
    broker = TansuBroker(tmp_path)
    broker.start()
    yield broker
    broker.stop()
