"""The embedded store's recorder: eventsourcing's SQLite process recorder plus the tables
written in the same transaction as the events."""

from __future__ import annotations

import time
from collections.abc import Collection, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import structlog
from eventsourcing.persistence import IntegrityError, StoredEvent
from eventsourcing.sqlite import SQLiteCursor, SQLiteProcessRecorder

from adapters.event_store import records
from adapters.event_store.access_log import SQLiteAccessLog
from adapters.event_store.webhook_tables import WebhookTables
from commands.ports import (
    Document,
    IdempotencyRecord,
    PersonalDataChanges,
    ProcessTimer,
    TimerChanges,
)
from domain.contract import Timer
from readmodels.log import LogRow

log = structlog.get_logger("crmledger.persistence")


def _utc_text(moment: datetime) -> str:
    """An instant as SQLite text that sorts as time does: UTC, one precision."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


# SQLite stores originator ids as 32 hex digits: give them back as canonical UUID text.
_SQLITE_UUID_TEXT = (
    "substr(originator_id, 1, 8) || '-' || substr(originator_id, 9, 4) || '-' || "
    "substr(originator_id, 13, 4) || '-' || substr(originator_id, 17, 4) || '-' || "
    "substr(originator_id, 21)"
)


class SQLiteSalesRecorder(WebhookTables, SQLiteAccessLog, SQLiteProcessRecorder):
    """The library's process recorder (events, notification log and a tracking record in
    one transaction) plus idempotency keys, documents, contract timers and the webhooks'
    secrets and outbox; and the access log beside them (written on its own)."""

    def _table(self, name: str) -> str:
        return name

    def _index(self, name: str) -> str:
        return name

    def _transaction(self, *, commit: bool) -> Any:
        return self.datastore.transaction(commit=commit)

    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            "CREATE TABLE IF NOT EXISTS contract_timers ("
            "contract_id TEXT NOT NULL, kind TEXT NOT NULL, due_at TEXT NOT NULL, "
            "PRIMARY KEY (contract_id, kind)) WITHOUT ROWID",
            "CREATE INDEX IF NOT EXISTS contract_timers_due_at_idx ON contract_timers (due_at)",
            # The other process managers' timers (task reminders, idle triggers).
            "CREATE TABLE IF NOT EXISTS process_timers ("
            "process TEXT NOT NULL, subject_id TEXT NOT NULL, kind TEXT NOT NULL, "
            "due_at TEXT NOT NULL, PRIMARY KEY (process, subject_id, kind)) WITHOUT ROWID",
            "CREATE INDEX IF NOT EXISTS process_timers_due_at_idx "
            "ON process_timers (process, due_at)",
            "CREATE TABLE IF NOT EXISTS idempotency_keys ("
            "key TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, status_code INTEGER NOT NULL, "
            "body BLOB NOT NULL, aggregate_id TEXT NOT NULL, aggregate_version INTEGER NOT NULL, "
            "created_at TEXT NOT NULL) WITHOUT ROWID",
            "CREATE TABLE IF NOT EXISTS documents ("
            "id TEXT PRIMARY KEY, quote_id TEXT NOT NULL, media_type TEXT NOT NULL, "
            "content BLOB NOT NULL, sha256 TEXT NOT NULL, created_at TEXT NOT NULL) WITHOUT ROWID",
            "CREATE TABLE IF NOT EXISTS personal_data_keys ("
            "subject_id TEXT PRIMARY KEY, key BLOB NOT NULL, created_at TEXT NOT NULL) "
            "WITHOUT ROWID",
            "CREATE TABLE IF NOT EXISTS lead_contacts ("
            "digest TEXT PRIMARY KEY, lead_id TEXT NOT NULL) WITHOUT ROWID",
            "CREATE INDEX IF NOT EXISTS lead_contacts_lead_id_idx ON lead_contacts (lead_id)",
            # Every contact's e-mail and phone digests, for exact search (several contacts
            # may share one); emptied for a contact when it is anonymized.
            "CREATE TABLE IF NOT EXISTS contact_digests ("
            "digest TEXT NOT NULL, contact_id TEXT NOT NULL, PRIMARY KEY (digest, contact_id)) "
            "WITHOUT ROWID",
            "CREATE INDEX IF NOT EXISTS contact_digests_contact_id_idx "
            "ON contact_digests (contact_id)",
            *self.ACCESS_LOG_STATEMENTS,
            *self.webhook_ddl(),
        ]

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        # Deleted rows (an erased subject's key and contacts) are overwritten with zeros,
        # not left in free pages of the file.
        c.execute("PRAGMA secure_delete=ON")
        ids = super()._insert_events(c, stored_events, **kwargs)
        self._change_personal_data(c, kwargs.get("data_keys", {}), kwargs.get("personal"))
        for doc in kwargs.get("documents", ()):
            c.execute(
                "INSERT INTO documents VALUES (?,?,?,?,?,?)",
                (
                    doc.id.hex,
                    doc.quote_id.hex,
                    doc.media_type,
                    doc.content,
                    doc.sha256,
                    doc.created_at.isoformat(),
                ),
            )
        timers: TimerChanges | None = kwargs.get("timers")
        if timers:
            self._change_timers(c, timers)
        self._write_webhook_rows(c, kwargs, time.time())
        record: IdempotencyRecord | None = kwargs.get("idempotency")
        if record is not None:
            c.execute(
                "INSERT INTO idempotency_keys VALUES (?,?,?,?,?,?,?)",
                (
                    record.key,
                    record.fingerprint,
                    record.status_code,
                    record.body,
                    record.aggregate_id.hex,
                    record.aggregate_version,
                    record.created_at.isoformat(),
                ),
            )
        return ids

    @staticmethod
    def _change_personal_data(
        c: SQLiteCursor, keys: dict[UUID, bytes], changes: PersonalDataChanges | None
    ) -> None:
        created = datetime.now(UTC).isoformat()
        c.executemany(
            "INSERT INTO personal_data_keys VALUES (?, ?, ?)",
            [(s.hex, k, created) for s, k in keys.items()],
        )
        if changes is None:
            return
        # A digest claimed meanwhile fails the save (primary key): the retry finds the lead.
        c.executemany(
            "INSERT INTO lead_contacts VALUES (?, ?)",
            [(d, lead.hex) for d, lead in changes.claims.items()],
        )
        for contact, digests in changes.contact_digests.items():
            c.execute("DELETE FROM contact_digests WHERE contact_id = ?", (contact.hex,))
            c.executemany(
                "INSERT INTO contact_digests VALUES (?, ?)",
                [(d, contact.hex) for d in dict.fromkeys(digests)],
            )
        for subject in changes.erased:
            c.execute("DELETE FROM personal_data_keys WHERE subject_id = ?", (subject.hex,))
            c.execute("DELETE FROM lead_contacts WHERE lead_id = ?", (subject.hex,))
            c.execute("DELETE FROM contact_digests WHERE contact_id = ?", (subject.hex,))

    def data_keys(self, subjects: Collection[UUID]) -> dict[UUID, bytes]:
        if not subjects:
            return {}
        ids = [s.hex for s in subjects]
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                "SELECT subject_id, key FROM personal_data_keys "
                f"WHERE subject_id IN ({','.join('?' * len(ids))})",
                ids,
            )
            return {UUID(row[0]): bytes(row[1]) for row in c.fetchall()}

    def lead_with_contact(self, digests: Sequence[str]) -> UUID | None:
        if not digests:
            return None
        with self.datastore.transaction(commit=False) as c:
            # The first digest (e-mail) decides when e-mail and phone point at two leads.
            for digest in digests:
                c.execute("SELECT lead_id FROM lead_contacts WHERE digest = ?", (digest,))
                row = c.fetchone()
                if row is not None:
                    return UUID(row[0])
        return None

    def contacts_with_digest(self, digest: str) -> list[UUID]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                "SELECT contact_id FROM contact_digests WHERE digest = ? ORDER BY contact_id",
                (digest,),
            )
            return [UUID(row[0]) for row in c.fetchall()]

    def after_erasure(self, partitions: Collection[str]) -> None:
        """Empty the write-ahead log: it still holds page images with the erased keys."""
        with self.datastore.transaction(commit=False) as c:
            c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            busy = c.fetchone()[0]
        if busy:
            # A reader holds an old snapshot; the next erasure (or checkpoint) truncates it.
            log.warning("wal_not_truncated_after_erasure")

    @staticmethod
    def _change_timers(c: SQLiteCursor, timers: TimerChanges) -> None:
        for contract_id, kind in timers.fired:
            c.execute(
                "DELETE FROM contract_timers WHERE contract_id = ? AND kind = ?",
                (contract_id.hex, kind),
            )
            if c.sqlite_cursor.rowcount != 1:
                # Fired already (or never set): this save lost a race; nothing is written.
                raise IntegrityError(f"the {kind} timer of contract {contract_id} is gone")
        for contract_id, replacing in timers.replaced.items():
            c.execute("DELETE FROM contract_timers WHERE contract_id = ?", (contract_id.hex,))
            c.executemany(
                "INSERT INTO contract_timers VALUES (?, ?, ?)",
                [(t.contract_id.hex, t.kind, _utc_text(t.due_at)) for t in replacing],
            )
        for process, subject, kind in timers.process_fired:
            c.execute(
                "DELETE FROM process_timers WHERE process = ? AND subject_id = ? AND kind = ?",
                (process, subject.hex, kind),
            )
            if c.sqlite_cursor.rowcount != 1:
                raise IntegrityError(f"the {process} {kind} timer of {subject} is gone")
        c.executemany(
            "DELETE FROM process_timers WHERE process = ? AND subject_id = ? AND kind = ?",
            [(process, subject.hex, kind) for process, subject, kind in timers.cancelled],
        )
        c.executemany(
            "INSERT OR REPLACE INTO process_timers VALUES (?, ?, ?, ?)",
            [(t.process, t.subject_id.hex, t.kind, _utc_text(t.due_at)) for t in timers.scheduled],
        )

    def due_process_timers(self, process: str, until: datetime, limit: int) -> list[ProcessTimer]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                "SELECT subject_id, kind, due_at FROM process_timers "
                "WHERE process = ? AND due_at <= ? ORDER BY due_at, subject_id, kind LIMIT ?",
                (process, _utc_text(until), limit),
            )
            return [
                ProcessTimer(
                    process=process,
                    subject_id=UUID(row[0]),
                    kind=row[1],
                    due_at=datetime.fromisoformat(row[2]),
                )
                for row in c.fetchall()
            ]

    def due_timers(self, until: datetime, limit: int) -> list[Timer]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                "SELECT contract_id, kind, due_at FROM contract_timers WHERE due_at <= ? "
                "ORDER BY due_at, contract_id, kind LIMIT ?",
                (_utc_text(until), limit),
            )
            return [
                Timer(
                    contract_id=UUID(row[0]),
                    kind=row[1],
                    due_at=datetime.fromisoformat(row[2]),
                )
                for row in c.fetchall()
            ]

    def select_log_rows(
        self, after: int, limit: int, stop: int | None, topics: Collection[str]
    ) -> list[LogRow]:
        """``select_notifications(after, limit, stop, topics, inclusive_of_start=False)`` as
        plain rows, the originator id as text (see ``LogRow``)."""
        statement = (
            f"SELECT rowid, {_SQLITE_UUID_TEXT}, originator_version, topic, state "
            f"FROM {self.events_table_name} WHERE rowid > ?"
        )
        params: list[int | str] = [after]
        if stop is not None:
            statement += " AND rowid <= ?"
            params.append(stop)
        if topics:
            statement += f" AND topic IN ({','.join('?' * len(topics))})"
            params.extend(topics)
        statement += " ORDER BY rowid LIMIT ?"
        params.append(limit)
        with self.datastore.transaction(commit=False) as c:
            cursor = c.sqlite_cursor
            cursor.row_factory = None  # tuples, not sqlite3.Row
            cursor.execute(statement, params)
            return list(map(LogRow._make, cursor.fetchall()))

    def idempotency_record(self, key: str) -> IdempotencyRecord | None:
        with self.datastore.transaction(commit=False) as c:
            c.execute("SELECT * FROM idempotency_keys WHERE key=?", (key,))
            row = c.fetchone()
        if row is None:
            return None
        return records.idempotency_record(row)

    def version_of(self, aggregate_id: UUID) -> int:
        """The aggregate's last version (0: no events): one read of the key's index, on a
        reader connection, no transaction (one statement reads one snapshot)."""
        with self.datastore.get_connection(commit=False) as conn:
            cursor = conn.cursor()
            cursor.execute(
                f"SELECT max(originator_version) FROM {self.events_table_name} "
                "WHERE originator_id=?",
                (aggregate_id.hex,),
            )
            row = cursor.fetchone()
        return int(row[0] or 0)

    def position_of(self, aggregate_id: UUID, version: int) -> int | None:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT rowid FROM {self.events_table_name} "
                "WHERE originator_id=? AND originator_version=?",
                (aggregate_id.hex, version),
            )
            row = c.fetchone()
        return None if row is None else int(row[0])

    def document(self, document_id: UUID) -> Document | None:
        with self.datastore.transaction(commit=False) as c:
            c.execute("SELECT * FROM documents WHERE id=?", (document_id.hex,))
            row = c.fetchone()
        if row is None:
            return None
        return records.document(row)
