"""The read-model tables in SQLite (the embedded default): one file beside the event store."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.sqlite import SQLiteTrackingRecorder

from adapters.readmodel_store.codec import Codec
from adapters.readmodel_store.statements import create_statements, drop_statements
from adapters.readmodel_store.tables import ReadModelTables
from projections.changes import ChangeSet
from readmodels.bookkeeping import UPSTREAM


class SQLiteReadModelStore(SQLiteTrackingRecorder, ReadModelTables):
    codec = Codec(native=False)

    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            *create_statements(self.tables, native=False),
        ]

    def apply(self, changes: ChangeSet) -> None:
        """Write one change set and its tracking position in one transaction."""
        with self.datastore.get_connection(commit=True) as conn:
            # Per connection, outside a transaction (SQLite refuses it inside). The tables
            # are disposable and written with their tracking position in one transaction,
            # so NORMAL (no fsync per commit in WAL mode) can lose the last writes on a
            # power cut but never make rows and position disagree; a larger page cache
            # keeps the visit table's B-tree in memory during a rebuild.
            pragmas = conn.cursor()
            pragmas.execute("PRAGMA synchronous=NORMAL")
            pragmas.execute("PRAGMA cache_size=-65536")
            with conn.transaction(commit=True) as c:
                for write in changes.writes:
                    c.executemany(*self.rows_of(write))
                self._insert_tracking(c, Tracking(UPSTREAM, changes.position))

    def _select(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(statement, params)
            return [tuple(r) for r in c.fetchall()]

    def drop(self) -> None:
        with self.datastore.transaction(commit=True) as c:
            for statement in drop_statements(self.tables):
                c.execute(statement)
            c.execute("DELETE FROM tracking WHERE application_name = ?", (UPSTREAM,))
        self.create_table()
