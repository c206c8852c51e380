"""The read-model tables in PostgreSQL: in the settings' schema, beside the event store."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from psycopg.sql import SQL, Identifier, Literal

from adapters.readmodel_store.codec import Codec
from adapters.readmodel_store.statements import create_statements, drop_statements
from adapters.readmodel_store.tables import ReadModelTables
from projections.changes import ChangeSet
from readmodels.bookkeeping import UPSTREAM
from readmodels.slice import Write

# Writes of at least this many rows go through COPY and a staging table.
BULK_ROWS = 500


class PostgresReadModelStore(PostgresTrackingRecorder, ReadModelTables):
    codec = Codec(native=True)
    placeholder = "%s"
    bulk_rows = BULK_ROWS

    def __init__(self, datastore: PostgresDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        # Creating the tables (every opening) and dropping them (a rebuild) take one lock of
        # the schema, to the end of their transaction: a rebuild's writer process opens the
        # store while the rebuild drops and creates the tables, and a creation meeting
        # another, or a drop, failed (a duplicate pg_type row; an index on a dropped table).
        self._tables_lock = SQL("SELECT pg_advisory_xact_lock(hashtext({}))").format(
            Literal(f"crmledger.tables:{datastore.schema}")
        )
        self.sql_create_statements.insert(0, self._tables_lock)
        # The statements below name tables without a schema: create them in ours, not
        # in whatever the server's default search_path finds first (public).
        self.sql_create_statements.append(
            SQL("SET LOCAL search_path TO {}").format(Identifier(datastore.schema))
        )
        for statement in create_statements(self.tables, native=True):
            self.sql_create_statements.append(SQL(statement))  # type: ignore[arg-type]
        # Bytes columns (checkpoint states: megabytes of msgpack) are stored as they are:
        # PostgreSQL's default pglz compression of them cost more than all the other
        # writes of a rebuild (checked first, so a restart takes no lock on the table).
        for t in self.tables:
            blobs = [c.name for c in t.columns if c.kind == "bytes"]
            if not blobs:
                continue
            names = ", ".join(f"'{name}'" for name in blobs)
            alter = ", ".join(f"ALTER COLUMN {name} SET STORAGE EXTERNAL" for name in blobs)
            self.sql_create_statements.append(
                SQL(  # type: ignore[arg-type]
                    "DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_attribute "
                    f"WHERE attrelid = '{t.name}'::regclass "
                    f"AND attname IN ({names}) AND attstorage <> 'e') THEN "
                    f"ALTER TABLE {t.name} {alter}; END IF; END $$"
                )
            )

    def _search_path(self, curs: Any) -> None:
        """Unqualified table names in this transaction mean the tables of our schema."""
        curs.execute(SQL("SET LOCAL search_path TO {}").format(Identifier(self.datastore.schema)))

    def apply(self, changes: ChangeSet) -> None:
        """Write one change set and its tracking position in one transaction."""
        with self.datastore.transaction(commit=True) as curs:
            self._search_path(curs)
            self.write(curs, changes.writes)
            self._insert_tracking(curs, Tracking(UPSTREAM, changes.position))

    def write(self, curs: Any, writes: Sequence[Write]) -> None:
        """Execute ``writes`` in the transaction of ``curs`` (its search path set)."""
        for write in writes:
            statement, rows = self.rows_of(write)
            if len(rows) < self.bulk_rows:
                curs.executemany(statement, rows)  # a few rows: pipelined
            else:  # many (a rebuild, a backlog): COPY and one statement, ten times faster
                self._bulk(curs, write, rows)

    def _bulk(self, curs: Any, write: Write, rows: Sequence[Sequence[Any]]) -> None:
        t = self.table(write.table)
        staging = f"staging_{t.name}"
        if write.operation == "update":
            names = [*write.columns, *write.where]
            kinds = t.kinds(names)
            columns = ", ".join(
                f"{n} {self.codec.sql_type(k)}" for n, k in zip(names, kinds, strict=True)
            )
            curs.execute(f"CREATE TEMP TABLE {staging} ({columns}) ON COMMIT DROP")
            self._copy(curs, staging, rows)
            sets = ", ".join(f"{c} = s.{c}" for c in write.columns)
            keys = " AND ".join(f"t.{c} = s.{c}" for c in write.where)
            curs.execute(f"UPDATE {t.name} t SET {sets} FROM {staging} s WHERE {keys}")
            curs.execute(f"DROP TABLE {staging}")
            return
        curs.execute(
            f"CREATE TEMP TABLE {staging} (LIKE {t.name} INCLUDING DEFAULTS) ON COMMIT DROP"
        )
        self._copy(curs, staging, rows)
        statement, _ = self.prepared(write)
        # The same statement, its VALUES replaced by the staged rows.
        head, _, tail = statement.partition(" VALUES (")
        conflict = tail.partition(")")[2]
        curs.execute(f"{head} SELECT * FROM {staging}{conflict}")
        curs.execute(f"DROP TABLE {staging}")

    @staticmethod
    def _copy(curs: Any, name: str, rows: Sequence[Sequence[Any]]) -> None:
        with curs.copy(f"COPY {name} FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    def _select(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self.datastore.transaction(commit=False) as curs:
            self._search_path(curs)
            curs.execute(statement.replace("?", "%s") if params else statement, params)
            return [tuple(r.values()) for r in curs.fetchall()]

    def drop(self) -> None:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(self._tables_lock)
            self._search_path(curs)
            for statement in drop_statements(self.tables):
                curs.execute(statement)
            curs.execute(
                SQL("DELETE FROM {} WHERE application_name = %s").format(
                    Identifier(self.tracking_table_name)
                ),
                (UPSTREAM,),
            )
        self.create_table()
