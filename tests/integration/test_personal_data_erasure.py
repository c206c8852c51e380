"""Anonymize erases a lead's (and a contact's) personal data everywhere we keep files or
tables.

Given a lead with distinctive personal data that went through every path that
stores something — the event store, a sales activity, an edit, the lead
processor's duplicate index, the read models (projector run), idempotent
commands (the intake and an edit, each with an Idempotency-Key) — when it is
anonymized, then:
- no file of the SQLite store (events, read models, their WAL/SHM files) and
  no row of any PostgreSQL table of the project's schema holds the plaintext,
  nor the lead's data key, nor the SHA-256 fingerprint of a keyed request that
  held it (easy to guess back from a known e-mail; the store keeps it only
  keyed by the lead's data key, never plain — before anonymize too);
- on PostgreSQL, not even the tables' files on disk (heap, TOAST, indexes,
  including dead rows not yet vacuumed) hold the key or the plaintext;
- ``GET /leads/{id}`` and ``GET /history/{id}`` show none of it.
Before anonymize the same scans find the key (so the scans can see what they look for).

A contact is its own data subject, erased the same way: made and changed with keyed
requests, given a role on a deal and read in the clear, then anonymized; afterwards no
file or row holds its plaintext, its key, a plain fingerprint of its requests, or the
digests of its e-mail addresses and phone (the exact-search index, emptied in the
anonymize's save).
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
import pytest
import structlog.testing
from fastapi.testclient import TestClient
from psycopg import sql

from adapters.bootstrap import Services
from adapters.http.commanding import request_fingerprint
from domain.personal_data import contact_digests
from tests.conftest import IN_CI, POSTGRES_URL
from tests.http.helpers import command_ok, query_ok

pytestmark = pytest.mark.users("ann")

FIRST, LAST = "Wilhelmina", "Zyzzyvaberg"
EMAIL = "wilhelmina.zyzzyvaberg@example.org"
PHONE = "+49 30 98765432"
ADDRESS = "Quellenweg 17, 10999 Berlin"
NOTES = "Prefers calls after four; daughter named Ottilie"
ACTIVITY = "Discussed Ottilie's school fees"
EXTRA = "linkedin.com/in/wzyzzyvaberg"
PLAINTEXTS = [FIRST, LAST, EMAIL, "98765432", ADDRESS, NOTES, "Ottilie", EXTRA]


INTAKE = {
    "first_name": FIRST,
    "last_name": LAST,
    "email": EMAIL,
    "phone": PHONE,
    "address": ADDRESS,
    "notes": NOTES,
    "company": "Erasure Test GmbH",
    "source": "web",
    "linkedin": EXTRA,
}
EDIT = {"address": ADDRESS + " (rear)", "email": EMAIL}
KEYS = ("erasure-intake", "erasure-edit")


def _make_lead(client: TestClient) -> str:
    answer = command_ok(
        client.post("/lead-intake", json=INTAKE, headers={"Idempotency-Key": KEYS[0]}), 201
    )
    lead_id = str(answer["id"])
    command_ok(
        client.post(
            f"/leads/{lead_id}/activities",
            json={"kind": "call", "subject": ACTIVITY, "notes": NOTES},
        )
    )
    edit = client.patch(f"/leads/{lead_id}", json=EDIT, headers={"Idempotency-Key": KEYS[1]})
    command_ok(edit)
    command_ok(client.post(f"/leads/{lead_id}/assign", json={"owner": "ann"}))
    return lead_id


def _request_fingerprints(lead_id: str) -> list[str]:
    """The plain fingerprints of the keyed requests, exactly as ``commanding.py`` computes
    them: a SHA-256 over data anyone who knows the e-mail can rebuild."""
    return [
        request_fingerprint("POST", "/lead-intake", json.dumps(INTAKE).encode()),
        request_fingerprint("PATCH", f"/leads/{lead_id}", json.dumps(EDIT).encode()),
    ]


def _assert_fingerprints_keyed(services: Services, lead_id: str) -> None:
    """The stored records hold the fingerprints keyed by the lead's data key, not plain."""
    for key, plain in zip(KEYS, _request_fingerprints(lead_id), strict=True):
        record = services.store.idempotency_record(key)
        assert record is not None
        assert record.fingerprint != plain
        assert record.fingerprint.startswith(f"hmac-sha256:{lead_id}:")


def _key_of(services: Services, lead_id: str) -> bytes:
    key = services.store.app.vault.keys.data_keys([UUID(lead_id)])  # type: ignore[union-attr]
    assert UUID(lead_id) in key, "the lead has a data key before it is anonymized"
    return key[UUID(lead_id)]


def _needles(key: bytes, lead_id: str) -> list[bytes]:
    texts = [p.encode() for p in PLAINTEXTS]
    fingerprints = [f.encode() for f in _request_fingerprints(lead_id)]
    return [*texts, *fingerprints, key, key.hex().encode()]


def _found_in(data: bytes, needles: list[bytes]) -> list[bytes]:
    return [n for n in needles if n in data]


# --- SQLite: every file under the store's home ---------------------------------------------


def _sqlite_files(home: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in sorted(home.rglob("*")) if p.is_file()}


def _scan_sqlite(home: Path, needles: list[bytes]) -> dict[str, list[bytes]]:
    hits = {}
    for name, data in _sqlite_files(home).items():
        found = _found_in(data, needles)
        if found:
            hits[name] = found
    return hits


# --- PostgreSQL: every row of every table of the schema, and their files -------------------


def _tables(conn: psycopg.Connection[Any], schema: str) -> list[str]:
    rows = conn.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relkind IN ('r', 'p', 'm') ORDER BY 1",
        (schema,),
    ).fetchall()
    return [r[0] for r in rows]


def _scan_pg_rows(schema: str, needles: list[bytes]) -> dict[str, list[bytes]]:
    hits = {}
    with psycopg.connect(POSTGRES_URL) as conn:
        tables = _tables(conn, schema)
        assert any(t.endswith("personal_data_keys") for t in tables)
        for table in tables:
            # Every column, text and bytea alike, as one text per row (bytea as hex).
            rows = conn.execute(
                sql.SQL("SELECT t::text FROM {}.{} AS t").format(
                    sql.Identifier(schema), sql.Identifier(table)
                )
            ).fetchall()
            data = "\n".join(r[0] for r in rows).encode()
            found = _found_in(data, needles)
            if found:
                hits[table] = found
    return hits


def _pg_data_directory() -> Path | None:
    with psycopg.connect(POSTGRES_URL) as conn:
        row = conn.execute("SHOW data_directory").fetchone()
    assert row is not None
    path = Path(row[0])
    return path if os.access(path, os.R_OK | os.X_OK) else None


def _scan_pg_files(schema: str, needles: list[bytes]) -> dict[str, list[bytes]]:
    """The on-disk files of every relation in the schema (tables, TOAST, indexes)."""
    data_dir = _pg_data_directory()
    if data_dir is None:
        message = "the PostgreSQL data directory is not readable by this user"
        if IN_CI:
            pytest.fail(message + " (CI=true: the file scan must run)")
        pytest.skip(message)
    hits = {}
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute("CHECKPOINT")  # dirty pages reach the files
        rows = conn.execute(
            "SELECT c.relname, pg_relation_filepath(c.oid) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname IN (%s, 'pg_toast') AND pg_relation_filepath(c.oid) IS NOT NULL "
            "AND (n.nspname = %s OR c.oid IN (SELECT reltoastrelid FROM pg_class k "
            "JOIN pg_namespace m ON m.oid = k.relnamespace WHERE m.nspname = %s))",
            (schema, schema, schema),
        ).fetchall()
    assert rows
    for name, relative in rows:
        for segment in sorted((data_dir / relative).parent.glob(Path(relative).name + "*")):
            found = _found_in(segment.read_bytes(), needles)
            if found:
                hits[f"{name} ({segment.name})"] = found
    return hits


# --- the tests -------------------------------------------------------------------------------


def _anonymize_and_check_answers(client: TestClient, lead_id: str) -> None:
    command_ok(client.post(f"/leads/{lead_id}/anonymize"))
    lead = query_ok(client.get(f"/leads/{lead_id}"))
    assert lead["anonymized"] is True
    for field in ("first_name", "last_name", "email", "phone", "address", "notes", "extra"):
        assert lead[field] is None, field
    assert all(a["subject"] is None and a["notes"] is None for a in lead["activities"])
    for text in (client.get(f"/leads/{lead_id}").text, client.get(f"/history/{lead_id}").text):
        for plaintext in PLAINTEXTS:
            assert plaintext not in text
    history = query_ok(client.get(f"/history/{lead_id}"))
    assert [e["type"] for e in history][-1] == "LeadAnonymized"
    assert history[0]["data"]["personal"] is None


def _lead_to_erase(client: TestClient, services: Services) -> tuple[str, bytes, list[bytes]]:
    """A lead with personal data, projected; its data key; what the scans look for. Its
    requests' fingerprints are checked to be keyed by the lead's data key."""
    lead_id = _make_lead(client)
    services.projector().catch_up()
    key = _key_of(services, lead_id)
    _assert_fingerprints_keyed(services, lead_id)
    return lead_id, key, _needles(key, lead_id)


def test_after_anonymize_no_sqlite_file_holds_the_personal_data(
    client: TestClient, sqlite_services: Services
) -> None:
    lead_id, key, needles = _lead_to_erase(client, sqlite_services)
    home = sqlite_services.settings.home
    before = _scan_sqlite(home, needles)
    # The plaintext (or a plain hash of it) never reaches a file, only the key does (it is
    # what anonymize destroys).
    assert all(found == [key] for found in before.values()), before
    assert before, "the scan sees the key before the lead is anonymized"

    _anonymize_and_check_answers(client, lead_id)
    sqlite_services.projector().catch_up()

    assert _scan_sqlite(home, needles) == {}


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_after_anonymize_no_postgres_table_or_file_holds_the_personal_data(
    any_client: TestClient, services: Services
) -> None:
    lead_id, key, needles = _lead_to_erase(any_client, services)
    schema = services.settings.database_schema
    rows_before = _scan_pg_rows(schema, needles)
    # Before: only the key table (and its partition) holds the key; no table holds plaintext
    # or a plain hash of a request that held it.
    assert rows_before, "the scan sees the key before the lead is anonymized"
    assert all("_personal_data_keys" in t for t in rows_before), rows_before
    assert all(found == [key.hex().encode()] for found in rows_before.values()), rows_before
    files_before = _scan_pg_files(schema, needles)
    assert any(key in found for found in files_before.values())
    assert not any(set(found) - {key} for found in files_before.values()), files_before

    _anonymize_and_check_answers(any_client, lead_id)
    services.projector().catch_up()

    assert _scan_pg_rows(schema, needles) == {}
    assert _scan_pg_files(schema, needles) == {}


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_an_erasure_waits_for_an_older_snapshot_before_rewriting_the_partition(
    any_client: TestClient, services: Services
) -> None:
    # Given a lead, and another session of the database holding a snapshot taken before
    # the erasure (another worker's long read): the deleted key row is still visible to it.
    lead_id = _make_lead(any_client)
    key = _key_of(services, lead_id)
    needles = _needles(key, lead_id)
    reader = psycopg.connect(POSTGRES_URL)
    reader.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
    reader.execute("SELECT 1")
    answers: list[int] = []
    anonymizing = threading.Thread(
        target=lambda: answers.append(any_client.post(f"/leads/{lead_id}/anonymize").status_code)
    )
    # When the lead is anonymized while the old snapshot lives, which then ends
    anonymizing.start()
    time.sleep(1.0)
    still_waiting = anonymizing.is_alive()
    reader.rollback()
    reader.close()
    anonymizing.join(timeout=60)
    # Then the rewrite waited for it, and no file keeps the key.
    assert answers == [200]
    assert still_waiting, "the erasure waits while an older snapshot could see the key"
    assert _scan_pg_files(services.settings.database_schema, needles) == {}


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_an_erasure_does_not_wait_forever_for_an_older_snapshot(
    any_client: TestClient, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a session holding an old snapshot that never ends while the lead is anonymized
    lead_id = _make_lead(any_client)
    recorder = services.store.recorder
    monkeypatch.setattr(recorder, "ERASURE_WAIT_SECONDS", 0.3)
    with psycopg.connect(POSTGRES_URL) as reader, structlog.testing.capture_logs() as logs:
        reader.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        reader.execute("SELECT 1")
        # When it is anonymized
        command_ok(any_client.post(f"/leads/{lead_id}/anonymize"))
        reader.rollback()
    # Then the command answers after the wait, and the log says what is left to do.
    warned = [e for e in logs if e["event"] == "erased_rows_visible_to_older_transactions"]
    assert warned and warned[0]["transactions"] >= 1
    assert "VACUUM FULL" in warned[0]["remedy"]


# --- a contact: its own data subject, erased the same way ----------------------------------

C_FIRST, C_LAST = "Ottokar", "Quillfeatherington"
C_EMAIL = "ottokar.quillfeatherington@example.org"
C_NEW_EMAIL = "o.quillfeatherington@procurement.example"
C_PHONE = "+49 30 55501234"
C_PLAINTEXTS = [C_FIRST, C_LAST, C_EMAIL, C_NEW_EMAIL, "55501234"]
CONTACT = {
    "first_name": C_FIRST,
    "last_name": C_LAST,
    "email": C_EMAIL,
    "phone": C_PHONE,
    "title": "Head of Procurement",
}
C_EDIT = {"email": C_NEW_EMAIL, "title": "Chief Procurement Officer"}
C_KEYS = ("erasure-contact", "erasure-contact-edit")


def _make_contact(client: TestClient) -> str:
    """A contact made and changed with Idempotency-Keys, given a role on a deal, and read in
    the clear (so the read model, the access log and the digest index all hold their part)."""
    made = client.post("/contacts", json=CONTACT, headers={"Idempotency-Key": C_KEYS[0]})
    contact_id = str(command_ok(made, 201)["id"])
    edit = client.patch(
        f"/contacts/{contact_id}", json=C_EDIT, headers={"Idempotency-Key": C_KEYS[1]}
    )
    command_ok(edit)
    deal = {"title": "Erasure deal", "account_name": "Erasure Co", "owner": "ann"}
    deal_id = command_ok(
        client.post("/opportunities", json={**deal, "expected_close": "2027-06-30"}), 201
    )["id"]
    role = {"contact_id": contact_id, "role": "decision maker"}
    command_ok(client.post(f"/opportunities/{deal_id}/roles", json=role), 201)
    return contact_id


def _contact_needles(services: Services, contact_id: str) -> tuple[bytes, list[bytes]]:
    """The contact's data key, and what the scans look for: the plaintext, the plain
    fingerprints of its keyed requests, the digests of its e-mail addresses and phone (a
    plain SHA-256 of an address is easy to guess back), and the key."""
    key = _key_of(services, contact_id)
    fingerprints = [
        request_fingerprint("POST", "/contacts", json.dumps(CONTACT).encode()),
        request_fingerprint("PATCH", f"/contacts/{contact_id}", json.dumps(C_EDIT).encode()),
    ]
    for idempotency_key, plain in zip(C_KEYS, fingerprints, strict=True):
        record = services.store.idempotency_record(idempotency_key)
        assert record is not None
        assert record.fingerprint.startswith(f"hmac-sha256:{contact_id}:")
        assert record.fingerprint != plain
    texts = [t.encode() for t in (*C_PLAINTEXTS, *fingerprints)]
    return key, [*texts, *_digests(services), key, key.hex().encode()]


def _digests(services: Services) -> list[bytes]:
    """The digests of every address and phone the contact had."""
    region = services.settings.phone_region
    digests = contact_digests(C_NEW_EMAIL, C_PHONE, region) + contact_digests(C_EMAIL, None, region)
    return [d.encode() for d in digests]


def _current_digests(services: Services) -> list[bytes]:
    region = services.settings.phone_region
    return [d.encode() for d in contact_digests(C_NEW_EMAIL, C_PHONE, region)]


def _contact_to_erase(client: TestClient, services: Services) -> tuple[str, bytes, list[bytes]]:
    contact_id = _make_contact(client)
    services.projector().catch_up()
    shown = query_ok(client.get(f"/contacts/{contact_id}"))
    assert shown["last_name"] == C_LAST
    # the index finds the contact by its e-mail and phone now
    for digest in _current_digests(services):
        assert services.store.contacts_with_digest(digest.decode()) == [UUID(contact_id)]
    key, needles = _contact_needles(services, contact_id)
    return contact_id, key, needles


def _anonymize_contact_and_check_answers(client: TestClient, contact_id: str) -> None:
    erased = command_ok(client.post(f"/contacts/{contact_id}/anonymize"))
    services = client.app.state.services  # type: ignore[attr-defined]
    services.projector().catch_up()
    shown = query_ok(client.get(f"/contacts/{contact_id}", params={"wait_for": erased["position"]}))
    assert shown["anonymized"] is True
    assert [shown[f] for f in ("first_name", "last_name", "email", "phone")] == [None] * 4
    history = client.get(f"/history/{contact_id}").text
    for text in (client.get(f"/contacts/{contact_id}").text, history):
        for plaintext in C_PLAINTEXTS:
            assert plaintext not in text
    for digest in _current_digests(services):
        assert services.store.contacts_with_digest(digest.decode()) == []


def test_after_anonymize_no_sqlite_file_holds_the_contacts_personal_data(
    client: TestClient, sqlite_services: Services
) -> None:
    contact_id, key, needles = _contact_to_erase(client, sqlite_services)
    home = sqlite_services.settings.home
    before = _scan_sqlite(home, needles)
    # Before: no plaintext, no plain fingerprint; the key, and the digests in the index
    # (which anonymize empties; the old address's may linger in the write-ahead log until
    # a checkpoint), are what the scans see.
    allowed = {key, *_digests(sqlite_services)}
    assert before and any(key in found for found in before.values()), before
    assert all(set(found) <= allowed for found in before.values()), before

    _anonymize_contact_and_check_answers(client, contact_id)

    assert _scan_sqlite(home, needles) == {}


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_after_anonymize_no_postgres_table_or_file_holds_the_contacts_personal_data(
    any_client: TestClient, services: Services
) -> None:
    contact_id, key, needles = _contact_to_erase(any_client, services)
    schema = services.settings.database_schema
    rows_before = _scan_pg_rows(schema, needles)
    allowed = {key.hex().encode(), *_digests(services)}
    assert any("_personal_data_keys" in t for t in rows_before), rows_before
    assert all(set(found) <= allowed for found in rows_before.values()), rows_before
    assert all("_personal_data_keys" in t or "_contact_digests" in t for t in rows_before), (
        rows_before
    )
    files_before = _scan_pg_files(schema, needles)
    assert any(key in found for found in files_before.values())

    _anonymize_contact_and_check_answers(any_client, contact_id)

    assert _scan_pg_rows(schema, needles) == {}
    assert _scan_pg_files(schema, needles) == {}
