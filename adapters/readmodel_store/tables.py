"""What the SQLite and PostgreSQL read-model stores share: the tables, the statement and
the conversion of each write, and reading rows back.

Each store is an eventsourcing tracking recorder: the rows of a change set and the
tracking position are written in **one transaction**, so after a crash the tables and
the position agree and a restart applies every event exactly once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cached_property
from typing import Any, Literal

from adapters.readmodel_store.codec import Codec
from adapters.readmodel_store.statements import match_clause, ordered, write_statement
from readmodels.slice import Kind, Table, Write

RowConverter = Callable[[Sequence[Any]], tuple[Any, ...]]


class ReadModelTables:
    """The tables of every slice (and the read model's own) and how to write and read them.

    ``tables`` is set on a subclass made for the slices a store holds
    (``adapters.readmodel_store.store_class``): the library constructs recorders from
    their class, and creates their tables as it does.
    """

    codec: Codec
    placeholder = "?"
    tables: tuple[Table, ...] = ()

    @cached_property
    def _by_name(self) -> dict[str, Table]:
        return {t.name: t for t in self.tables}

    @cached_property
    def _prepared(self) -> dict[tuple[Any, ...], Any]:
        # (table, operation, columns, where, prepare) -> statement and row converter
        return {}

    def table(self, name: str) -> Table:
        return self._by_name[name]

    # --- writing -----------------------------------------------------------------------

    def prepared(self, write: Write) -> tuple[str, RowConverter | None]:
        """The statement a write's rows are executed with, and the converter of its rows
        (None: they are written as they are)."""
        key = (write.table, write.operation, write.columns, write.where, write.prepare)
        found: tuple[str, RowConverter | None] | None = self._prepared.get(key)
        if found is None:
            t = self.table(write.table)
            names = (
                [*write.columns, *write.where] if write.operation == "update" else t.column_names
            )
            convert = self.codec.writer(t.kinds(names))
            prepare = write.prepare
            if prepare is not None:
                convert = prepare if convert is None else _after(prepare, convert)
            found = (write_statement(t, write, self.placeholder), convert)
            self._prepared[key] = found
        return found

    def rows_of(self, write: Write) -> tuple[str, Sequence[Sequence[Any]]]:
        """A write's statement and its rows as the database takes them."""
        statement, convert = self.prepared(write)
        if convert is None:  # nothing to turn (the audit's rows): no call per row
            return statement, write.rows
        return statement, [convert(row) for row in write.rows]

    # --- reading (``readmodels.slice.Rows``) ----------------------------------------------

    def select(
        self, statement: str, params: Sequence[Any] = (), kinds: Sequence[Kind] | None = None
    ) -> list[tuple[Any, ...]]:
        found = self._select(statement, params)
        if kinds is None:
            return found
        read = self.codec.reader(tuple(kinds))
        return [read(row) for row in found]

    def param(self, kind: Kind, value: Any) -> Any:
        return self.codec.param(kind, value)

    @property
    def no_limit(self) -> str:
        return "ALL" if self.codec.native else "-1"

    @property
    def dialect(self) -> Literal["sqlite", "postgresql"]:
        return "postgresql" if self.codec.native else "sqlite"

    def match(self, table: Table, words: Sequence[str]) -> tuple[str, list[Any]]:
        return match_clause(table, words, native=self.codec.native)

    def ordered(self, column: str, kind: Kind) -> str:
        return ordered(column, kind, native=self.codec.native)

    def rows(self, name: str) -> list[tuple[Any, ...]]:
        """Every row of one table in key order, as the database keeps them (tests,
        verification)."""
        t = self.table(name)
        return self._select(f"SELECT * FROM {name} ORDER BY {', '.join(t.key)}")

    def _select(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        raise NotImplementedError


def _after(prepare: RowConverter, convert: RowConverter) -> RowConverter:
    """``convert`` of what ``prepare`` makes of a row."""
    return lambda row: convert(prepare(row))
