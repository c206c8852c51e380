"""The access log: who read which record's personal data in the clear, when, and through
which route — never the data itself.

It lives beside the events, in the same database (SQLite: ``access_log`` in
``events.sqlite``; PostgreSQL: ``<prefix>_access_log``, ``postgres_access_log.py``),
so it is as durable as the log and needs no store of its own. It is append-only: no
code path updates or deletes an entry, and the database refuses it too (triggers).
It holds no personal data, so an erasure leaves it as it is: after anonymize the
entries still say who read the person's data before.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from uuid import UUID

import msgspec
from eventsourcing.sqlite import SQLiteDatastore

# The most entries one read of the log answers.
MAX_ACCESSES = 501


class AccessEntry(msgspec.Struct, frozen=True, kw_only=True):
    """One record whose personal data one answer showed. ``sequence``: its place in the
    log (0 until written), which only grows."""

    record_id: UUID
    login: str
    at: datetime
    route: str  # the route template, e.g. "GET /leads/{lead_id}"
    request_id: str | None
    sequence: int = 0


class SQLiteAccessLog:
    """The access log in the embedded store (mixed into its recorder)."""

    datastore: SQLiteDatastore

    ACCESS_LOG_STATEMENTS = (
        # AUTOINCREMENT: a sequence number is never given twice.
        "CREATE TABLE IF NOT EXISTS access_log ("
        "sequence INTEGER PRIMARY KEY AUTOINCREMENT, record_id TEXT NOT NULL, "
        "login TEXT NOT NULL, at TEXT NOT NULL, route TEXT NOT NULL, request_id TEXT)",
        "CREATE INDEX IF NOT EXISTS access_log_record_idx ON access_log (record_id, sequence)",
        "CREATE TRIGGER IF NOT EXISTS access_log_no_update BEFORE UPDATE ON access_log "
        "BEGIN SELECT RAISE(ABORT, 'the access log is append-only: UPDATE refused'); END",
        "CREATE TRIGGER IF NOT EXISTS access_log_no_delete BEFORE DELETE ON access_log "
        "BEGIN SELECT RAISE(ABORT, 'the access log is append-only: DELETE refused'); END",
    )

    def append_accesses(self, entries: Sequence[AccessEntry]) -> None:
        """Write ``entries`` in one transaction (all or none)."""
        if not entries:
            return
        with self.datastore.transaction(commit=True) as c:
            c.executemany(
                "INSERT INTO access_log (record_id, login, at, route, request_id) "
                "VALUES (?, ?, ?, ?, ?)",
                [
                    (e.record_id.hex, e.login, _utc_text(e.at), e.route, e.request_id)
                    for e in entries
                ],
            )

    def accesses(self, record_id: UUID, after: int, limit: int) -> list[AccessEntry]:
        """The entries of ``record_id`` after sequence ``after``, oldest first."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                "SELECT sequence, login, at, route, request_id FROM access_log "
                "WHERE record_id = ? AND sequence > ? ORDER BY sequence LIMIT ?",
                (record_id.hex, after, min(limit, MAX_ACCESSES)),
            )
            rows = c.fetchall()
        return [
            AccessEntry(
                record_id=record_id,
                sequence=int(row[0]),
                login=row[1],
                at=datetime.fromisoformat(row[2]),
                route=row[3],
                request_id=row[4],
            )
            for row in rows
        ]


def _utc_text(moment: datetime) -> str:
    """An instant as text that sorts as time does: UTC, one precision."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")
