"""The PostgreSQL store: its recorder, its settings as the library's environment, and the
schema set up by one process at a time."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Collection, Iterator, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.persistence import IntegrityError, StoredEvent
from eventsourcing.postgres import PostgresDatastore
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Identifier

from adapters.event_store import records
from adapters.event_store.postgres_access_log import PostgresAccessLog
from adapters.event_store.postgres_personal import PostgresPersonalDataRecorder
from adapters.event_store.webhook_tables import WebhookTables
from adapters.settings import Settings
from adapters.unreachable import StoreUnreachable
from commands.ports import (
    Document,
    IdempotencyRecord,
    PersonalDataChanges,
    ProcessTimer,
    TimerChanges,
)
from domain.contract import Timer
from readmodels.log import LogRow


class PostgresSalesRecorder(WebhookTables, PostgresAccessLog, PostgresPersonalDataRecorder):
    """The library's process recorder (events, notification log and a tracking record in
    one transaction) plus idempotency keys, documents and contract timers; and the access
    log beside them (written on its own)."""

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
        self._create_process_timers(prefix)
        self._insert_idempotency = SQL("INSERT INTO {}.{} VALUES (%s,%s,%s,%s,%s,%s,%s)").format(
            schema, Identifier(self.idempotency_table)
        )
        self._insert_document = SQL("INSERT INTO {}.{} VALUES (%s,%s,%s,%s,%s,%s)").format(
            schema, Identifier(self.documents_table)
        )
        self._create_personal_data_tables(prefix)
        self._create_access_log(prefix)
        self._prefix = prefix
        self.sql_create_statements.extend(SQL(text) for text in self.webhook_ddl())  # type: ignore[misc]

    postgres = True

    def _table(self, name: str) -> str:
        return f'"{self.datastore.schema}"."{self._prefix}_{name}"'

    def _index(self, name: str) -> str:
        return f'"{self._prefix}_{name}"'

    def _transaction(self, *, commit: bool) -> Any:
        return self.datastore.transaction(commit=commit)

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
        self._write_webhook_rows(curs, kwargs, time.time())
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
        self._change_process_timers(curs, timers)

    def _create_process_timers(self, prefix: str) -> None:
        """The other process managers' timers (task reminders, idle triggers)."""
        schema, table = Identifier(self.datastore.schema), Identifier(f"{prefix}_process_timers")
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS {schema}.{table} ("
                "process text NOT NULL, subject_id uuid NOT NULL, kind text NOT NULL, "
                "due_at timestamptz NOT NULL, PRIMARY KEY (process, subject_id, kind))"
            ).format(schema=schema, table=table)
        )
        self.sql_create_statements.append(
            SQL("CREATE INDEX IF NOT EXISTS {index} ON {schema}.{table} (process, due_at)").format(
                index=Identifier(f"{prefix}_process_timers_due_at_idx"), schema=schema, table=table
            )
        )
        self._fire_process_timer = SQL(
            "DELETE FROM {schema}.{table} WHERE (process, subject_id, kind) IN ("
            "SELECT process, subject_id, kind FROM {schema}.{table} WHERE process = %s "
            "AND subject_id = %s AND kind = %s FOR UPDATE SKIP LOCKED) RETURNING kind"
        ).format(schema=schema, table=table)
        self._cancel_process_timer = SQL(
            "DELETE FROM {}.{} WHERE process = %s AND subject_id = %s AND kind = %s"
        ).format(schema, table)
        self._schedule_process_timer = SQL(
            "INSERT INTO {}.{} VALUES (%s, %s, %s, %s) ON CONFLICT (process, subject_id, kind) "
            "DO UPDATE SET due_at = EXCLUDED.due_at"
        ).format(schema, table)
        self._due_process_timers = SQL(
            "SELECT subject_id, kind, due_at FROM {}.{} WHERE process = %s AND due_at <= %s "
            "ORDER BY due_at, subject_id, kind LIMIT %s"
        ).format(schema, table)

    def _change_process_timers(self, curs: psycopg.Cursor[Any], timers: TimerChanges) -> None:
        for process, subject, kind in timers.process_fired:
            curs.execute(self._fire_process_timer, (process, subject, kind))
            if curs.fetchone() is None:
                raise IntegrityError(f"the {process} {kind} timer of {subject} is taken")
        for key in timers.cancelled:
            curs.execute(self._cancel_process_timer, key)
        for t in timers.scheduled:
            curs.execute(self._schedule_process_timer, (t.process, t.subject_id, t.kind, t.due_at))

    def due_process_timers(self, process: str, until: datetime, limit: int) -> list[ProcessTimer]:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self._due_process_timers, (process, until, limit))
            return [
                ProcessTimer(
                    process=process, subject_id=r["subject_id"], kind=r["kind"], due_at=r["due_at"]
                )
                for r in curs.fetchall()
            ]

    def due_timers(self, until: datetime, limit: int) -> list[Timer]:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self._due_timers, (until, limit))
            return [
                Timer(contract_id=row["contract_id"], kind=row["kind"], due_at=row["due_at"])
                for row in curs.fetchall()
            ]

    def idempotency_record(self, key: str) -> IdempotencyRecord | None:
        row = self._select_one(
            SQL("SELECT * FROM {}.{} WHERE key=%s").format(
                Identifier(self.datastore.schema), Identifier(self.idempotency_table)
            ),
            (key,),
        )
        if row is None:
            return None
        return records.idempotency_record(row)

    def version_of(self, aggregate_id: UUID) -> int:
        """The aggregate's last version (0: no events): one read of the key's index."""
        statement = SQL(
            "SELECT max(originator_version) AS version FROM {}.{} WHERE originator_id=%s"
        ).format(Identifier(self.datastore.schema), Identifier(self.events_table_name))
        row = self._select_one(statement, (aggregate_id,))
        return int(row["version"] or 0) if row is not None else 0

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
        return records.document(row)


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
        "APPLICATION_RECORDER_TOPIC": "adapters.event_store.postgres:PostgresSalesRecorder",
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
