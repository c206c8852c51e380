"""Personal data on PostgreSQL: the data keys and contact digests beside the events, and
the rewrite of the partitions an erasure emptied."""

from __future__ import annotations

import time
from collections.abc import Collection, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import psycopg
import structlog
from eventsourcing.postgres import PostgresProcessRecorder
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Composed, Identifier

from commands.ports import PersonalDataChanges

log = structlog.get_logger("crmledger.persistence")


class PostgresPersonalDataRecorder(PostgresProcessRecorder):
    """The library's process recorder plus the personal-data tables: keys and contact
    digests, written in the event transaction and rewritten after an erasure."""

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
        # Contacts' digests, partitioned by contact: erasing one rewrites one partition.
        self.contact_digests_table = f"{prefix}_contact_digests"
        digests = Identifier(self.contact_digests_table)
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS {}.{} (digest text NOT NULL, contact_id uuid NOT NULL, "
                "PRIMARY KEY (digest, contact_id)) PARTITION BY HASH (contact_id)"
            ).format(schema, digests)
        )
        self.sql_create_statements.append(
            SQL("CREATE INDEX IF NOT EXISTS {} ON {}.{} (contact_id)").format(
                Identifier(f"{self.contact_digests_table}_contact_id_idx"), schema, digests
            )
        )
        for table in (self.keys_table, self.contacts_table, self.contact_digests_table):
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
        self._insert_digest = SQL("INSERT INTO {}.{} VALUES (%s, %s)").format(schema, digests)
        self._replace_digests = SQL(
            "DELETE FROM {}.{} WHERE contact_id = %s RETURNING tableoid::regclass::text"
        ).format(schema, digests)
        self._select_digest = SQL(
            "SELECT contact_id FROM {}.{} WHERE digest = %s ORDER BY contact_id"
        ).format(schema, digests)
        self._select_keys = SQL(
            "SELECT subject_id, key FROM {}.{} WHERE subject_id = ANY(%s)"
        ).format(schema, keys)
        self._select_contact = SQL("SELECT lead_id FROM {}.{} WHERE digest = %s").format(
            schema, contacts
        )

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
        for contact, contact_digests in changes.contact_digests.items():
            curs.execute(self._replace_digests, (contact,))
            curs.fetchall()
            for digest in dict.fromkeys(contact_digests):
                curs.execute(self._insert_digest, (digest, contact))
        for subject in changes.erased:
            for statement in (self._delete_key, self._delete_contacts, self._replace_digests):
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

    def contacts_with_digest(self, digest: str) -> list[UUID]:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self._select_digest, (digest,))
            return [row["contact_id"] for row in curs.fetchall()]

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

    def _select_one(self, query: Composed, params: tuple[Any, ...]) -> dict[str, Any] | None:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(query, params)
            row: dict[str, Any] | None = curs.fetchone()
            return row
