"""The access log on PostgreSQL (``access_log.py`` says what it is): a table beside the
events whose statement-level trigger refuses every UPDATE, DELETE and TRUNCATE, so not
even a hand-written statement changes what it says."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.postgres import PostgresDatastore
from psycopg.sql import SQL, Composed, Identifier

from adapters.event_store.access_log import MAX_ACCESSES, AccessEntry


class PostgresAccessLog:
    """The access log in the PostgreSQL store (mixed into its recorder)."""

    datastore: PostgresDatastore
    sql_create_statements: list[Composed]

    def _create_access_log(self, prefix: str) -> None:
        schema = Identifier(self.datastore.schema)
        self.access_log_table = f"{prefix}_access_log"
        table = Identifier(self.access_log_table)
        refuse = Identifier(f"{self.access_log_table}_append_only")
        self.sql_create_statements += [
            SQL(
                "CREATE TABLE IF NOT EXISTS {}.{} ("
                "sequence bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
                "record_id uuid NOT NULL, login text NOT NULL, at timestamptz NOT NULL, "
                "route text NOT NULL, request_id text)"
            ).format(schema, table),
            SQL("CREATE INDEX IF NOT EXISTS {} ON {}.{} (record_id, sequence)").format(
                Identifier(f"{self.access_log_table}_record_idx"), schema, table
            ),
            SQL(
                "CREATE OR REPLACE FUNCTION {}.{}() RETURNS trigger LANGUAGE plpgsql AS $$ "
                "BEGIN RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege', "
                "MESSAGE = 'the access log is append-only: ' || TG_OP || ' refused'; END $$"
            ).format(schema, refuse),
            # Statement level: it refuses even a statement that would touch no row.
            SQL(
                "CREATE OR REPLACE TRIGGER {} BEFORE UPDATE OR DELETE OR TRUNCATE ON {}.{} "
                "FOR EACH STATEMENT EXECUTE FUNCTION {}.{}()"
            ).format(refuse, schema, table, schema, refuse),
        ]
        self._insert_access = SQL(
            "INSERT INTO {}.{} (record_id, login, at, route, request_id) "
            "VALUES (%s, %s, %s, %s, %s)"
        ).format(schema, table)
        self._select_accesses = SQL(
            "SELECT sequence, login, at, route, request_id FROM {}.{} "
            "WHERE record_id = %s AND sequence > %s ORDER BY sequence LIMIT %s"
        ).format(schema, table)

    def append_accesses(self, entries: Sequence[AccessEntry]) -> None:
        """Write ``entries`` in one transaction (all or none)."""
        if not entries:
            return
        with self.datastore.transaction(commit=True) as curs:
            curs.executemany(
                self._insert_access,
                [(e.record_id, e.login, e.at, e.route, e.request_id) for e in entries],
            )

    def accesses(self, record_id: UUID, after: int, limit: int) -> list[AccessEntry]:
        """The entries of ``record_id`` after sequence ``after``, oldest first."""
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self._select_accesses, (record_id, after, min(limit, MAX_ACCESSES)))
            rows: list[dict[str, Any]] = curs.fetchall()
        return [AccessEntry(record_id=record_id, **row) for row in rows]
