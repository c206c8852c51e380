"""The event store on eventsourcing 9.5: SQLite (embedded default) or PostgreSQL.

- ``EventMapper`` encodes events with msgspec under stable type names (never
  Python module paths) and upcasts old ``class_version`` payloads.
- The application recorders add two tables written in the *same transaction*
  as the events: idempotency keys with their first answer, and generated
  documents (offers). A refused or failed save leaves neither behind.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Collection, Iterator, Sequence
from datetime import UTC, datetime
from functools import cache
from typing import Any, TypeVar
from uuid import UUID

import msgspec
import psycopg
import structlog
from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import (
    InfrastructureFactory,
    IntegrityError,
    JSONTranscoder,
    Mapper,
    StoredEvent,
    Tracking,
)
from eventsourcing.postgres import PostgresDatastore, PostgresProcessRecorder
from eventsourcing.sqlite import SQLiteCursor, SQLiteProcessRecorder
from eventsourcing.utils import Environment
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Composed, Identifier

from adapters.personal_data import (
    PersonalDataVault,
    fingerprint_subjects,
    keyed_fingerprint,
    same_fingerprint,
)
from adapters.settings import Settings
from adapters.unreachable import StoreUnreachable
from commands.ports import (
    ConcurrentWrite,
    Document,
    IdempotencyRecord,
    PersonalDataChanges,
    TimerChanges,
)
from domain.aggregate import AggregateState, fold
from domain.contract import Timer
from domain.events import DomainEvent, parse_topic, topic_of
from projections.log import LogRow
from readmodels.storage import PostgresSalesView, SQLiteSalesView
from readmodels.version import VERSION as READ_MODEL_VERSION

APPLICATION_NAME = "Sales"
log = structlog.get_logger("crmledger.persistence")

# --- encoding --------------------------------------------------------------------

_encoder = msgspec.json.Encoder()


E = TypeVar("E", bound=DomainEvent)


@cache
def _decoder(cls: type[DomainEvent]) -> msgspec.json.Decoder[DomainEvent]:
    return msgspec.json.Decoder(cls)


class _Stamp(msgspec.Struct):
    """The one envelope field an instant-to-position scan needs (others are skipped)."""

    recorded_at: datetime


_stamp_decoder = msgspec.json.Decoder(_Stamp)


def encode_event(event: DomainEvent) -> bytes:
    return _encoder.encode(event)


def decode_event(topic: str, state: bytes) -> DomainEvent:
    cls, stored_version = parse_topic(topic)
    if stored_version == cls.class_version:
        return _decoder(cls).decode(state)
    return event_from_data(cls, stored_version, msgspec.json.decode(state))


def event_from_data(cls: type[E], stored_version: int, data: dict[str, Any]) -> E:
    """The event from its JSON builtins as stored at ``stored_version``, upcast to now
    (changes ``data``)."""
    for version in range(stored_version, cls.class_version):
        getattr(cls, f"upcast_v{version}_v{version + 1}")(data)
    return msgspec.convert(data, cls)


class EventMapper(Mapper[UUID]):
    """msgspec instead of the library's JSON transcoder (which refuses dates and
    turns tuples into lists), with stable topics; personal data sealed under its
    subject's key (``adapters.personal_data``); the library's compression and
    whole-payload encryption still apply when configured."""

    vault: PersonalDataVault

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        assert isinstance(domain_event, DomainEvent)
        state = encode_event(self.vault.seal(domain_event))
        if self.compressor:
            state = self.compressor.compress(state)
        if self.cipher:
            state = self.cipher.encrypt(state)
        return StoredEvent(
            originator_id=domain_event.originator_id,
            originator_version=domain_event.originator_version,
            topic=topic_of(type(domain_event)),
            state=state,
        )

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        return self.vault.reveal(self.sealed_event(stored_event.topic, stored_event.state))

    def sealed_event(self, topic: str, state: bytes) -> DomainEvent:
        """The event as stored: personal fields null, ``sealed`` holding them."""
        if self.cipher:
            state = self.cipher.decrypt(state)
        if self.compressor:
            state = self.compressor.decompress(state)
        return decode_event(topic, state)


# --- recorders -------------------------------------------------------------------


def _utc_text(moment: datetime) -> str:
    """An instant as SQLite text that sorts as time does: UTC, one precision."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


# SQLite stores originator ids as 32 hex digits: give them back as canonical UUID text.
_SQLITE_UUID_TEXT = (
    "substr(originator_id, 1, 8) || '-' || substr(originator_id, 9, 4) || '-' || "
    "substr(originator_id, 13, 4) || '-' || substr(originator_id, 17, 4) || '-' || "
    "substr(originator_id, 21)"
)


# The application's own log is the process manager's upstream: its tracking records
# carry this name (in the tracking table beside the events).
PROCESS_UPSTREAM = APPLICATION_NAME


class SQLiteSalesRecorder(SQLiteProcessRecorder):
    """The library's process recorder (events, notification log and a tracking record in
    one transaction) plus idempotency keys, documents and contract timers."""

    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            "CREATE TABLE IF NOT EXISTS contract_timers ("
            "contract_id TEXT NOT NULL, kind TEXT NOT NULL, due_at TEXT NOT NULL, "
            "PRIMARY KEY (contract_id, kind)) WITHOUT ROWID",
            "CREATE INDEX IF NOT EXISTS contract_timers_due_at_idx ON contract_timers (due_at)",
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
        for subject in changes.erased:
            c.execute("DELETE FROM personal_data_keys WHERE subject_id = ?", (subject.hex,))
            c.execute("DELETE FROM lead_contacts WHERE lead_id = ?", (subject.hex,))

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
        return IdempotencyRecord(
            key=row["key"],
            fingerprint=row["fingerprint"],
            status_code=row["status_code"],
            body=bytes(row["body"]),
            aggregate_id=UUID(row["aggregate_id"]),
            aggregate_version=row["aggregate_version"],
            created_at=datetime.fromisoformat(row["created_at"]),
        )

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
        return Document(
            id=UUID(row["id"]),
            quote_id=UUID(row["quote_id"]),
            media_type=row["media_type"],
            content=bytes(row["content"]),
            sha256=row["sha256"],
            created_at=datetime.fromisoformat(row["created_at"]),
        )


class PostgresSalesRecorder(PostgresProcessRecorder):
    """The library's process recorder (events, notification log and a tracking record in
    one transaction) plus idempotency keys, documents and contract timers."""

    def __init__(self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events"):
        # The library sets lock_timeout only with SET LOCAL around its table lock; our
        # idempotency and document inserts run before that and could wait forever behind
        # a stuck writer. Give every pooled session the timeout, before the base class
        # opens the pool (it registers type adapters in __init__).
        if datastore.lock_timeout and isinstance(datastore.pool.kwargs, dict):
            datastore.pool.kwargs["options"] = f"-c lock_timeout={datastore.lock_timeout}s"
        prefix = events_table_name.removesuffix("_events")
        super().__init__(
            datastore,
            events_table_name=events_table_name,
            tracking_table_name=f"{prefix}_tracking",
        )
        self.timers_table = f"{prefix}_contract_timers"
        self.idempotency_table = f"{prefix}_idempotency_keys"
        self.documents_table = f"{prefix}_documents"
        schema = Identifier(self.datastore.schema)
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS {schema}.{table} ("
                "key text PRIMARY KEY, fingerprint text NOT NULL, status_code integer NOT NULL, "
                "body bytea NOT NULL, aggregate_id uuid NOT NULL, "
                "aggregate_version bigint NOT NULL, "
                "created_at timestamptz NOT NULL)"
            ).format(schema=schema, table=Identifier(self.idempotency_table))
        )
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS {schema}.{table} ("
                "id uuid PRIMARY KEY, quote_id uuid NOT NULL, media_type text NOT NULL, "
                "content bytea NOT NULL, sha256 text NOT NULL, created_at timestamptz NOT NULL)"
            ).format(schema=schema, table=Identifier(self.documents_table))
        )
        timers = Identifier(self.timers_table)
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS {schema}.{table} ("
                "contract_id uuid NOT NULL, kind text NOT NULL, due_at timestamptz NOT NULL, "
                "PRIMARY KEY (contract_id, kind))"
            ).format(schema=schema, table=timers)
        )
        self.sql_create_statements.append(
            SQL("CREATE INDEX IF NOT EXISTS {index} ON {schema}.{table} (due_at)").format(
                index=Identifier(f"{self.timers_table}_due_at_idx"), schema=schema, table=timers
            )
        )
        # Fire: take the row only if no other worker holds it (SKIP LOCKED), and delete it.
        self._fire_timer = SQL(
            "DELETE FROM {schema}.{table} WHERE (contract_id, kind) IN ("
            "SELECT contract_id, kind FROM {schema}.{table} "
            "WHERE contract_id = %s AND kind = %s FOR UPDATE SKIP LOCKED) RETURNING kind"
        ).format(schema=schema, table=timers)
        self._clear_timers = SQL("DELETE FROM {}.{} WHERE contract_id = %s").format(schema, timers)
        self._insert_timer = SQL("INSERT INTO {}.{} VALUES (%s, %s, %s)").format(schema, timers)
        self._due_timers = SQL(
            "SELECT contract_id, kind, due_at FROM {}.{} WHERE due_at <= %s "
            "ORDER BY due_at, contract_id, kind LIMIT %s"
        ).format(schema, timers)
        self._insert_idempotency = SQL("INSERT INTO {}.{} VALUES (%s,%s,%s,%s,%s,%s,%s)").format(
            schema, Identifier(self.idempotency_table)
        )
        self._insert_document = SQL("INSERT INTO {}.{} VALUES (%s,%s,%s,%s,%s,%s)").format(
            schema, Identifier(self.documents_table)
        )
        self._create_personal_data_tables(prefix)

    # Keys and contact digests are hash-partitioned so that erasing one subject can
    # rewrite (VACUUM FULL) the one small partition that held its rows: a plain VACUUM
    # leaves the bytes of deleted rows in the table's pages.
    PERSONAL_DATA_PARTITIONS = 16

    def _create_personal_data_tables(self, prefix: str) -> None:
        schema = Identifier(self.datastore.schema)
        self.keys_table = f"{prefix}_personal_data_keys"
        self.contacts_table = f"{prefix}_lead_contacts"
        keys, contacts = Identifier(self.keys_table), Identifier(self.contacts_table)
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS {}.{} (subject_id uuid PRIMARY KEY, "
                "key bytea NOT NULL, created_at timestamptz NOT NULL) "
                "PARTITION BY HASH (subject_id)"
            ).format(schema, keys)
        )
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS {}.{} (digest text PRIMARY KEY, lead_id uuid NOT NULL) "
                "PARTITION BY HASH (digest)"
            ).format(schema, contacts)
        )
        self.sql_create_statements.append(
            SQL("CREATE INDEX IF NOT EXISTS {} ON {}.{} (lead_id)").format(
                Identifier(f"{self.contacts_table}_lead_id_idx"), schema, contacts
            )
        )
        for table in (self.keys_table, self.contacts_table):
            for i in range(self.PERSONAL_DATA_PARTITIONS):
                self.sql_create_statements.append(
                    SQL(
                        "CREATE TABLE IF NOT EXISTS {}.{} PARTITION OF {}.{} "
                        "FOR VALUES WITH (MODULUS {}, REMAINDER {})"
                    ).format(
                        schema,
                        Identifier(f"{table}_p{i}"),
                        schema,
                        Identifier(table),
                        self.PERSONAL_DATA_PARTITIONS,
                        i,
                    )
                )
        self._insert_key = SQL("INSERT INTO {}.{} VALUES (%s, %s, %s)").format(schema, keys)
        self._insert_contact = SQL("INSERT INTO {}.{} VALUES (%s, %s)").format(schema, contacts)
        self._delete_key = SQL(
            "DELETE FROM {}.{} WHERE subject_id = %s RETURNING tableoid::regclass::text"
        ).format(schema, keys)
        self._delete_contacts = SQL(
            "DELETE FROM {}.{} WHERE lead_id = %s RETURNING tableoid::regclass::text"
        ).format(schema, contacts)
        self._select_keys = SQL(
            "SELECT subject_id, key FROM {}.{} WHERE subject_id = ANY(%s)"
        ).format(schema, keys)
        self._select_contact = SQL("SELECT lead_id FROM {}.{} WHERE digest = %s").format(
            schema, contacts
        )

    def _insert_events(
        self, curs: psycopg.Cursor[Any], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> None:
        # Runs inside the library's insert transaction, before it locks the events table.
        super()._insert_events(curs, stored_events, **kwargs)
        keys: dict[UUID, bytes] = kwargs.get("data_keys", {})
        personal: PersonalDataChanges | None = kwargs.get("personal")
        if keys or personal:
            with curs.connection.pipeline():
                self._change_personal_data(curs, keys, personal, kwargs.get("erased_in", []))
        timers: TimerChanges | None = kwargs.get("timers")
        if timers:
            # Synced here, so a timer another worker fired or holds fails this save now.
            with curs.connection.pipeline():
                self._change_timers(curs, timers)
        record: IdempotencyRecord | None = kwargs.get("idempotency")
        if not kwargs.get("documents") and record is None:
            return
        # A nested pipeline block syncs on exit, so a key (or document id) taken by a
        # concurrent save raises its IntegrityError here and the transaction rolls back.
        # Left to the library's later statements, the error could surface before its
        # sync and be masked as OperationalError("pipeline aborted") when it commits.
        with curs.connection.pipeline():
            self._insert_documents_and_key(curs, kwargs.get("documents", ()), record)

    def _insert_documents_and_key(
        self,
        curs: psycopg.Cursor[Any],
        documents: Sequence[Document],
        record: IdempotencyRecord | None,
    ) -> None:
        for doc in documents:
            curs.execute(
                self._insert_document,
                (doc.id, doc.quote_id, doc.media_type, doc.content, doc.sha256, doc.created_at),
            )
        if record is not None:
            curs.execute(
                self._insert_idempotency,
                (
                    record.key,
                    record.fingerprint,
                    record.status_code,
                    record.body,
                    record.aggregate_id,
                    record.aggregate_version,
                    record.created_at,
                ),
            )

    def select_log_rows(
        self, after: int, limit: int, stop: int | None, topics: Collection[str]
    ) -> list[LogRow]:
        """``select_notifications(after, limit, stop, topics, inclusive_of_start=False)`` as
        plain rows, the originator id as text (see ``LogRow``)."""
        statement = SQL(
            "SELECT notification_id, originator_id::text, originator_version, topic, state "
            "FROM {}.{} WHERE notification_id > %s"
        ).format(Identifier(self.datastore.schema), Identifier(self.events_table_name))
        params: list[Any] = [after]
        if stop is not None:
            statement += SQL(" AND notification_id <= %s")
            params.append(stop)
        if topics:
            statement += SQL(" AND topic = ANY(%s)")
            params.append(list(topics))
        statement += SQL(" ORDER BY notification_id LIMIT %s")
        params.append(limit)
        with (
            self.datastore.get_connection() as conn,
            conn.cursor(row_factory=tuple_row) as curs,
        ):
            curs.execute(statement, params, prepare=True)
            return [LogRow(i, o, v, t, bytes(s)) for i, o, v, t, s in curs.fetchall()]

    def _change_personal_data(
        self,
        curs: psycopg.Cursor[Any],
        keys: dict[UUID, bytes],
        changes: PersonalDataChanges | None,
        erased_in: list[str],
    ) -> None:
        created = datetime.now(UTC)
        for subject, key in keys.items():
            curs.execute(self._insert_key, (subject, key, created))
        if changes is None:
            return
        for digest, lead in changes.claims.items():
            curs.execute(self._insert_contact, (digest, lead))
        for subject in changes.erased:
            for statement in (self._delete_key, self._delete_contacts):
                curs.execute(statement, (subject,))
                erased_in.extend(row["tableoid"] for row in curs.fetchall())

    def data_keys(self, subjects: Collection[UUID]) -> dict[UUID, bytes]:
        if not subjects:
            return {}
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self._select_keys, (list(subjects),))
            return {row["subject_id"]: bytes(row["key"]) for row in curs.fetchall()}

    def lead_with_contact(self, digests: Sequence[str]) -> UUID | None:
        for digest in digests:
            row = self._select_one(self._select_contact, (digest,))
            if row is not None:
                lead: UUID = row["lead_id"]
                return lead
        return None

    # How long an erasure waits for transactions that could still see the erased rows.
    ERASURE_WAIT_SECONDS = 30.0

    # Another backend of this database whose transaction began before the erasure and holds
    # a snapshot or an xid: it keeps the vacuum horizon behind the erasing transaction.
    _older_snapshots = SQL(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
        "AND pid <> pg_backend_pid() AND xact_start < %s "
        "AND (backend_xmin IS NOT NULL OR backend_xid IS NOT NULL)"
    )

    def after_erasure(self, partitions: Collection[str]) -> None:
        """Rewrite the partitions that held erased rows, so no page keeps their bytes."""
        if partitions:
            self._wait_for_older_snapshots(partitions)
        for partition in sorted(set(partitions)):
            for attempt in range(3):
                try:
                    with self.datastore.get_connection() as conn:
                        # The name comes from the server (tableoid::regclass), qualified.
                        conn.execute(SQL("VACUUM FULL {}").format(SQL(partition)))
                    break
                except psycopg.Error as error:
                    # Its exclusive lock can wait behind a reader or autovacuum: try again.
                    if attempt < 2:
                        time.sleep(0.5 * (attempt + 1))
                        continue
                    log.error(
                        "erased_partition_not_rewritten",
                        partition=partition,
                        error=str(error),
                        remedy=f"run VACUUM FULL {partition}",
                    )

    def _wait_for_older_snapshots(self, partitions: Collection[str]) -> None:
        # VACUUM FULL copies a deleted row that some running transaction may still see
        # ("recently dead"), so the rewrite would keep the erased key's bytes.
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as curs:
            erased_at = curs.execute(SQL("SELECT clock_timestamp()")).fetchone()
            deadline = time.monotonic() + self.ERASURE_WAIT_SECONDS
            while True:
                older = curs.execute(self._older_snapshots, erased_at).fetchone()
                if older is None or not older[0]:
                    return
                if time.monotonic() >= deadline:
                    log.warning(
                        "erased_rows_visible_to_older_transactions",
                        transactions=older[0],
                        waited_seconds=self.ERASURE_WAIT_SECONDS,
                        remedy="once they end, run "
                        + "; ".join(f"VACUUM FULL {p}" for p in sorted(set(partitions))),
                    )
                    return
                time.sleep(0.05)

    def _change_timers(self, curs: psycopg.Cursor[Any], timers: TimerChanges) -> None:
        for contract_id, kind in timers.fired:
            curs.execute(self._fire_timer, (contract_id, kind))
            if curs.fetchone() is None:  # fetching syncs the pipeline
                # Fired already, never set, or being fired by another worker right now.
                raise IntegrityError(f"the {kind} timer of contract {contract_id} is taken")
        for contract_id, replacing in timers.replaced.items():
            curs.execute(self._clear_timers, (contract_id,))
            for timer in replacing:
                curs.execute(self._insert_timer, (timer.contract_id, timer.kind, timer.due_at))

    def due_timers(self, until: datetime, limit: int) -> list[Timer]:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self._due_timers, (until, limit))
            return [
                Timer(contract_id=row["contract_id"], kind=row["kind"], due_at=row["due_at"])
                for row in curs.fetchall()
            ]

    def _select_one(self, query: Composed, params: tuple[Any, ...]) -> dict[str, Any] | None:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(query, params)
            row: dict[str, Any] | None = curs.fetchone()
            return row

    def idempotency_record(self, key: str) -> IdempotencyRecord | None:
        row = self._select_one(
            SQL("SELECT * FROM {}.{} WHERE key=%s").format(
                Identifier(self.datastore.schema), Identifier(self.idempotency_table)
            ),
            (key,),
        )
        if row is None:
            return None
        return IdempotencyRecord(
            key=row["key"],
            fingerprint=row["fingerprint"],
            status_code=row["status_code"],
            body=bytes(row["body"]),
            aggregate_id=row["aggregate_id"],
            aggregate_version=row["aggregate_version"],
            created_at=row["created_at"],
        )

    def position_of(self, aggregate_id: UUID, version: int) -> int | None:
        row = self._select_one(
            SQL(
                "SELECT notification_id FROM {}.{} WHERE originator_id=%s AND originator_version=%s"
            ).format(Identifier(self.datastore.schema), Identifier(self.events_table_name)),
            (aggregate_id, version),
        )
        return None if row is None else int(row["notification_id"])

    def document(self, document_id: UUID) -> Document | None:
        row = self._select_one(
            SQL("SELECT * FROM {}.{} WHERE id=%s").format(
                Identifier(self.datastore.schema), Identifier(self.documents_table)
            ),
            (document_id,),
        )
        if row is None:
            return None
        return Document(
            id=row["id"],
            quote_id=row["quote_id"],
            media_type=row["media_type"],
            content=bytes(row["content"]),
            sha256=row["sha256"],
            created_at=row["created_at"],
        )


SalesRecorder = SQLiteSalesRecorder | PostgresSalesRecorder


# --- the application ------------------------------------------------------------------


class SalesLog(Application[UUID]):
    """The one event-sourced application holding every aggregate and the global log."""

    name = APPLICATION_NAME

    def construct_mapper(self) -> Mapper[UUID]:
        mapper = EventMapper(
            transcoder=JSONTranscoder(),  # unused: EventMapper encodes with msgspec
            compressor=self.factory.compressor(),
            cipher=self.factory.cipher(),
        )
        mapper.vault = self.vault = PersonalDataVault()
        return mapper

    def __init__(self, env: Any = None) -> None:
        super().__init__(env=env)
        recorder = self.recorder
        assert isinstance(recorder, SQLiteSalesRecorder | PostgresSalesRecorder)
        self.vault.keys = recorder


def postgres_env(settings: Settings) -> dict[str, str]:
    assert settings.database_url is not None
    info = psycopg.conninfo.conninfo_to_dict(settings.database_url)
    return {
        # The library's PostgreSQL factory with its datastore guarded: while the server is
        # away, calls are answered at once instead of each waiting out the pool.
        "PERSISTENCE_MODULE": "adapters.postgres_guard:GuardedPostgresFactory",
        "POSTGRES_DBNAME": str(info.get("dbname", "postgres")),
        "POSTGRES_HOST": str(info.get("host", "127.0.0.1")),
        "POSTGRES_PORT": str(info.get("port", "5432")),
        "POSTGRES_USER": str(info.get("user", "postgres")),
        "POSTGRES_PASSWORD": str(info.get("password", "")),
        "POSTGRES_SCHEMA": settings.database_schema,
        "POSTGRES_POOL_SIZE": str(settings.pg_pool_size),
        "POSTGRES_MAX_OVERFLOW": str(settings.pg_max_overflow),
        # A stuck transaction must not freeze the log for everyone.
        "POSTGRES_LOCK_TIMEOUT": str(settings.pg_lock_timeout_seconds),
        "POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT": str(
            settings.pg_idle_in_transaction_timeout_seconds
        ),
        "POSTGRES_PRE_PING": "y",
        "POSTGRES_CONNECT_TIMEOUT": str(settings.pg_connect_timeout_seconds),
        "APPLICATION_RECORDER_TOPIC": "adapters.persistence:PostgresSalesRecorder",
    }


def _connect(settings: Settings) -> psycopg.Connection[Any]:
    assert settings.database_url is not None
    try:
        return psycopg.connect(
            settings.database_url,
            autocommit=True,
            connect_timeout=settings.pg_connect_timeout_seconds,
        )
    except psycopg.OperationalError as error:
        info = psycopg.conninfo.conninfo_to_dict(settings.database_url)
        where = f"{info.get('host', '127.0.0.1')}:{info.get('port', '5432')}"
        first = (str(error).strip().splitlines() or ["no answer"])[-1]
        raise StoreUnreachable(
            f"PostgreSQL at {where} could not be reached within "
            f"{settings.pg_connect_timeout_seconds} s ({first})"
        ) from error


@contextlib.contextmanager
def one_setup_at_a_time(settings: Settings, what: str = "store") -> Iterator[None]:
    """Hold a session advisory lock on ``what`` in the settings' schema.

    Processes starting together (api, workers) would run the same DDL at once and fail
    ("tuple concurrently updated" on CREATE OR REPLACE FUNCTION, a duplicate pg_type
    row on CREATE TABLE IF NOT EXISTS): they set up one at a time per schema."""
    with _connect(settings) as conn:
        key = f"crmledger.setup:{what}:{settings.database_schema}"
        conn.execute("SELECT pg_advisory_lock(hashtext(%s))", (key,))
        yield  # the lock ends with the connection


def ensure_postgres_schema(settings: Settings) -> None:
    assert settings.database_url is not None
    with _connect(settings) as conn:
        conn.execute(
            SQL("CREATE SCHEMA IF NOT EXISTS {}").format(Identifier(settings.database_schema))
        )


def sales_env(settings: Settings) -> dict[str, str]:
    common = {
        "AGGREGATE_CACHE_MAXSIZE": str(settings.aggregate_cache_size),
        # States are immutable: a cached one can be handed out as it is.
        "DEEPCOPY_FROM_AGGREGATE_CACHE": "n",
    }
    if settings.uses_postgres:
        return {**postgres_env(settings), **common}
    settings.home.mkdir(parents=True, exist_ok=True)
    return {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": str(settings.event_store_path),
        "SQLITE_LOCK_TIMEOUT": "30",
        "APPLICATION_RECORDER_TOPIC": "adapters.persistence:SQLiteSalesRecorder",
        **common,
    }


class SalesEventStore:
    """The command layer's ``EventStore`` port on an eventsourcing application."""

    def __init__(self, app: SalesLog) -> None:
        self.app = app
        recorder = app.recorder
        assert isinstance(recorder, SQLiteSalesRecorder | PostgresSalesRecorder)
        self.recorder: SalesRecorder = recorder

    @classmethod
    def open(cls, settings: Settings) -> SalesEventStore:
        if settings.uses_postgres:
            with one_setup_at_a_time(settings):
                ensure_postgres_schema(settings)
                return cls(SalesLog(env=sales_env(settings)))
        return cls(SalesLog(env=sales_env(settings)))

    def close(self) -> None:
        self.app.close()

    def load(self, aggregate_id: UUID) -> AggregateState | None:
        try:
            with self.app.vault.reading():
                state: AggregateState = self.app.repository.get(aggregate_id, projector_func=fold)
        except AggregateNotFoundError:
            return None
        cache = self.app.repository.cache
        if cache is not None:
            # The library fast-forwards mutable aggregates in place; ours are immutable,
            # so keep the fast-forwarded state or every load re-reads all newer events.
            cache.put(aggregate_id, state)
        return state

    def save(
        self,
        events: Sequence[DomainEvent],
        *,
        idempotency: IdempotencyRecord | None = None,
        documents: Sequence[Document] = (),
        tracking: int | None = None,
        timers: TimerChanges | None = None,
        personal: PersonalDataChanges | None = None,
    ) -> int:
        kwargs: dict[str, Any] = {"documents": documents}
        if timers:
            kwargs["timers"] = timers
        if personal:
            kwargs["personal"] = personal
            erased_in: list[str] = []
            kwargs["erased_in"] = erased_in
        try:
            with self.app.vault.sealing(events) as new_keys:
                if new_keys:
                    kwargs["data_keys"] = new_keys
                if idempotency is not None:
                    kwargs["idempotency"] = self._keyed(idempotency, events, personal)
                if tracking is None:
                    recordings = self.app.save(*events, **kwargs)
                else:
                    # The library's process-application path: the tracking record is written
                    # by the process recorder in the same transaction as the events.
                    recordings = self.app.events.put(
                        list(events), tracking=Tracking(PROCESS_UPSTREAM, tracking), **kwargs
                    )
        except IntegrityError as error:
            raise ConcurrentWrite(str(error)) from error
        if personal and personal.erased:
            self.recorder.after_erasure(erased_in)
        if not recordings:
            return self.max_position()
        return max(r.notification.id for r in recordings)

    def _keyed(
        self,
        record: IdempotencyRecord,
        events: Sequence[DomainEvent],
        personal: PersonalDataChanges | None,
    ) -> IdempotencyRecord:
        """The record with its fingerprint keyed by the data keys of every data subject the
        command wrote to (a lead: one with a key, or getting one in this save), whether or
        not its events carry personal fields: the request may repeat the subject's e-mail
        all the same. A subject erased by this very save keys nothing (its key goes)."""
        erased = set(personal.erased) if personal else set()
        subjects = {e.originator_id for e in events} - erased
        keys = self.app.vault.subject_keys(subjects)
        if not keys:
            return record
        return msgspec.structs.replace(
            record, fingerprint=keyed_fingerprint(record.fingerprint, keys)
        )

    def idempotency_record(self, key: str) -> IdempotencyRecord | None:
        return self.recorder.idempotency_record(key)

    def same_request(self, stored: str, fingerprint: str) -> bool | None:
        subjects = fingerprint_subjects(stored)
        keys = self.app.vault.subject_keys(subjects) if subjects else {}
        return same_fingerprint(stored, fingerprint, keys)

    def position_of(self, aggregate_id: UUID, version: int) -> int | None:
        return self.recorder.position_of(aggregate_id, version)

    def history(self, aggregate_id: UUID) -> list[DomainEvent]:
        with self.app.vault.reading():
            return [e for e in self.app.events.get(aggregate_id) if isinstance(e, DomainEvent)]

    def lead_with_contact(self, digests: Sequence[str]) -> UUID | None:
        return self.recorder.lead_with_contact(digests)

    def open_sealed(
        self, sealed: Collection[tuple[UUID, str, type[DomainEvent]]]
    ) -> list[dict[str, Any] | None]:
        """Personal fields from sealed copies (read-model rows); None where erased."""
        return self.app.vault.open_values(sealed)

    def document(self, document_id: UUID) -> Document | None:
        return self.recorder.document(document_id)

    def max_position(self) -> int:
        return self.recorder.max_notification_id() or 0

    def due_timers(self, until: datetime, limit: int) -> list[Timer]:
        return self.recorder.due_timers(until, limit)

    def tracked_position(self) -> int:
        return self.recorder.max_tracking_id(PROCESS_UPSTREAM) or 0

    def __enter__(self) -> SalesEventStore:
        return self

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(Exception):
            self.close()


class EventLog:
    """The projections' ``NotificationLog`` port on the sales application."""

    def __init__(self, app: SalesLog) -> None:
        self.app = app

    def read(
        self, after: int, limit: int, *, up_to: int | None = None, topics: Collection[str] = ()
    ) -> Sequence[LogRow]:
        recorder = self.app.recorder
        assert isinstance(recorder, SQLiteSalesRecorder | PostgresSalesRecorder)
        return recorder.select_log_rows(after, limit, up_to, topics)

    def decode(self, logged: Any) -> DomainEvent:
        """The event as stored: projectors never see personal data, only its sealed form."""
        mapper = self.app.mapper
        if mapper.cipher is None and mapper.compressor is None:
            # The mapper's own path, minus two calls per event of a rebuild.
            return decode_event(logged.topic, logged.state)
        assert isinstance(mapper, EventMapper)
        return mapper.sealed_event(logged.topic, logged.state)

    def recorded_at(self, logged: Any) -> datetime:
        mapper = self.app.mapper
        state = logged.state
        if mapper.cipher:
            state = mapper.cipher.decrypt(state)
        if mapper.compressor:
            state = mapper.compressor.decompress(state)
        return _stamp_decoder.decode(state).recorded_at

    def last_position(self) -> int:
        return self.app.recorder.max_notification_id() or 0


READ_MODEL_NAME = f"sales_view_{READ_MODEL_VERSION}"


def open_view_storage(
    settings: Settings, *, postgres: type[PostgresSalesView] = PostgresSalesView
) -> SQLiteSalesView | PostgresSalesView:
    """The read-model tables: ``readmodels_<version>.sqlite`` beside the store, or the same
    PostgreSQL schema.

    Built by the library's infrastructure factory like the event store, so the
    tracking table and the pool follow the same settings.
    """
    if settings.uses_postgres:
        env = {k: v for k, v in postgres_env(settings).items() if "RECORDER_TOPIC" not in k}
        factory = InfrastructureFactory.construct(Environment(READ_MODEL_NAME, env))
        with one_setup_at_a_time(settings, "read models"):
            view = factory.tracking_recorder(postgres)
    else:
        settings.home.mkdir(parents=True, exist_ok=True)
        env = {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(settings.read_model_path),
            "SQLITE_LOCK_TIMEOUT": "30",
        }
        factory = InfrastructureFactory.construct(Environment(READ_MODEL_NAME, env))
        view = factory.tracking_recorder(SQLiteSalesView)
    assert isinstance(view, SQLiteSalesView | PostgresSalesView)
    return view
