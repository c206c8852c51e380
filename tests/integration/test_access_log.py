"""The access log on both stores: beside the events, append-only (the database itself
refuses to change or remove an entry), holding no personal data, kept through an erasure,
and written before any personal data is shown — when it cannot be written, the answer is
503 and shows nothing."""

from __future__ import annotations

import contextlib
import getpass
import sqlite3
from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg import sql

from adapters.bootstrap import Services
from commands.leads import CreateLead
from tests.conftest import POSTGRES_URL
from tests.http.helpers import command_ok, query_ok
from tests.identity import bearer, user_token
from tests.processes import crmledger

LEAD = {
    "first_name": "Wilhelmina",
    "last_name": "Zyzzyvaberg",
    "email": "wilhelmina@example.org",
    "notes": "call after four",
}


@contextlib.contextmanager
def database(services: Services) -> Iterator[tuple[Any, str]]:
    """A connection of our own to the store's database (autocommit) and the access log's
    table, qualified."""
    settings = services.settings
    if settings.uses_postgres:
        table = f"{settings.database_schema}.{services.store.recorder.access_log_table}"
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            yield conn, table
    else:
        conn = sqlite3.connect(settings.event_store_path, isolation_level=None)
        try:
            yield conn, "access_log"
        finally:
            conn.close()


def _rows(services: Services) -> list[tuple[Any, ...]]:
    with database(services) as (conn, table):
        return list(conn.execute(f"SELECT * FROM {table} ORDER BY sequence").fetchall())


def _read_lead(client: TestClient) -> str:
    lead = str(command_ok(client.post("/leads", json=LEAD), 201)["id"])
    assert query_ok(client.get(f"/leads/{lead}"))["last_name"] == LEAD["last_name"]
    return lead


def test_the_database_refuses_to_change_or_remove_an_entry(
    any_client: TestClient, services: Services
) -> None:
    # Given an entry
    _read_lead(any_client)
    before = _rows(services)
    assert len(before) == 1
    # When anyone, even with SQL of their own, updates, deletes or empties the log
    attempts = ["UPDATE {} SET login = 'someone else'", "DELETE FROM {}"]
    if services.settings.uses_postgres:
        # Refused per statement: even one that would remove nothing, and TRUNCATE.
        attempts += ["DELETE FROM {} WHERE sequence < 0", "TRUNCATE {}"]
    with database(services) as (conn, table):
        for attempt in attempts:
            error = psycopg.Error if services.settings.uses_postgres else sqlite3.DatabaseError
            # Then the database refuses, saying why
            with pytest.raises(error, match="append-only"):
                conn.execute(attempt.format(table))
    assert _rows(services) == before


def test_entries_hold_no_personal_data_and_survive_the_erasure(
    any_client: TestClient, services: Services
) -> None:
    # Given a lead whose data was read twice
    lead = _read_lead(any_client)
    assert any_client.get(f"/history/{lead}").is_success
    entries = _rows(services)
    assert len(entries) == 2
    # Then the entries say nothing of the person
    text = repr(entries)
    assert not any(str(value) in text for value in LEAD.values())
    # When the lead is anonymized (its key destroyed; PostgreSQL rewrites its partitions)
    command_ok(any_client.post(f"/leads/{lead}/anonymize"))
    # Then the log still says who read the person's data, when and how
    assert _rows(services) == entries
    auditor = bearer(user_token(services, "audrey", "auditor"))
    page = query_ok(any_client.get("/audit/access", params={"record": lead}, headers=auditor))
    assert [e["route"] for e in page["items"]] == [
        "GET /leads/{lead_id}",
        "GET /history/{aggregate_id}",
    ]


def _refuse_entries(services: Services) -> None:
    """Make the database refuse every new entry, as a store that cannot take it."""
    with database(services) as (conn, table):
        if services.settings.uses_postgres:
            schema = services.settings.database_schema
            conn.execute(
                sql.SQL(
                    "CREATE FUNCTION {}.refuse() RETURNS trigger LANGUAGE plpgsql AS "
                    "$$ BEGIN RAISE EXCEPTION 'disk full'; END $$"
                ).format(sql.Identifier(schema))
            )
            conn.execute(
                f"CREATE TRIGGER refuse BEFORE INSERT ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION {schema}.refuse()"
            )
        else:
            conn.execute(
                "CREATE TRIGGER refuse BEFORE INSERT ON access_log "
                "BEGIN SELECT RAISE(ABORT, 'disk full'); END"
            )


def test_personal_data_is_not_shown_when_its_read_cannot_be_logged(
    any_client: TestClient, services: Services
) -> None:
    # Given a lead, and an access log that cannot be written to
    lead = str(command_ok(any_client.post("/leads", json=LEAD), 201)["id"])
    services.projector().catch_up()
    _refuse_entries(services)
    # When its data is asked for in the clear, one lead, the list, or its history
    for url in (f"/leads/{lead}", "/leads", f"/history/{lead}"):
        answer = any_client.get(url)
        # Then the answer is 503 (as any store outage), showing none of it
        assert answer.status_code == 503, answer.text
        assert answer.json()["error"] == "unavailable"
        assert answer.json()["detail"].startswith("the access log is not answering")
        assert answer.headers["Retry-After"]
        assert not any(value in answer.text for value in LEAD.values())
    # and a masked read, which shows no one's data, is answered as ever
    analyst = bearer(user_token(services, "ana", "analyst"))
    masked = query_ok(any_client.get(f"/leads/{lead}", headers=analyst))
    assert (masked["masked"], masked["last_name"]) == (True, None)
    assert _rows(services) == []


def test_the_command_line_logs_its_reads_of_personal_data_too(services: Services) -> None:
    # Given a lead
    lead = uuid4()
    services.bus.execute(CreateLead(lead_id=lead, **LEAD))
    # When the operator prints its history
    run = crmledger(services.settings, "history", str(lead), "--format", "json")
    # Then it shows the data, and the access log says the operator read it, and how
    assert run.code == 0, run.err
    assert LEAD["last_name"] in run.out
    [entry] = services.store.accesses(lead, 0, 10)
    assert (entry.login, entry.route) == (f"cli:{getpass.getuser()}", "crmledger history")
    assert entry.request_id
