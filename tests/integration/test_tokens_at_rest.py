"""No store file or table holds an API token in the clear: only its SHA-256 is kept. The
scan is the erasure test's (every SQLite file; every PostgreSQL row and relation file),
and it does find the digest, so it would find the token if it were there."""

from __future__ import annotations

import hashlib

import pytest
from fastapi.testclient import TestClient

from adapters.bootstrap import Services
from tests.identity import bearer, user_token
from tests.integration.test_personal_data_erasure import (
    _scan_pg_files,
    _scan_pg_rows,
    _scan_sqlite,
)


def _issued(client: TestClient, services: Services) -> tuple[bytes, bytes]:
    """A token made over HTTP (as a user makes their own), used once; its secret part and
    the hex digest the store keeps."""
    alice = bearer(user_token(services, "alice", "rep"))
    made = client.post("/users/alice/tokens", json={"expires_in_days": 30}, headers=alice)
    assert made.status_code in (200, 201), made.text
    token = str(made.json()["token"])
    assert client.get("/me", headers=bearer(token)).status_code == 200
    services.projector().catch_up()
    secret = token[len("crm_") + 32 + 1 :]  # what follows the user id
    return secret.encode(), hashlib.sha256(token.encode()).hexdigest().encode()


def test_no_sqlite_file_holds_a_token(client: TestClient, sqlite_services: Services) -> None:
    secret, digest = _issued(client, sqlite_services)
    found = _scan_sqlite(sqlite_services.settings.home, [secret, digest])
    assert found, "the scan finds the token's digest"
    assert all(hits == [digest] for hits in found.values()), found


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_no_postgres_table_or_file_holds_a_token(
    any_client: TestClient, services: Services
) -> None:
    secret, digest = _issued(any_client, services)
    schema = services.settings.database_schema
    # Rows show bytea as hex: look for both as text and as the hex of their bytes.
    needles = [secret, secret.hex().encode(), digest, digest.hex().encode()]
    rows = _scan_pg_rows(schema, needles)
    assert rows, "the scan finds the token's digest"
    assert all(set(hits) <= {digest, digest.hex().encode()} for hits in rows.values()), rows
    files = _scan_pg_files(schema, [secret, digest])
    assert files, "the file scan finds the token's digest"
    assert all(hits == [digest] for hits in files.values()), files
