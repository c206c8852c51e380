"""Temporal tables: every change of a record is a new version of its row.

A version holds from the log position of the event that made it (``valid_from``)
until that of the next one (``valid_to``; NULL while it is current), so the
records as they stood at any position are a plain query, and a view of the rows
with ``valid_to IS NULL`` shows the current ones. Contracts, leads and campaigns
are kept this way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any, Generic, NamedTuple, TypeVar
from uuid import UUID

import msgspec

from domain.errors import NotFound
from domain.events import DomainEvent
from readmodels.slice import Column, Handler, Kind, Progress, Rows, Table, Write
from readmodels.values import micros

R = TypeVar("R", bound=msgspec.Struct)
V = TypeVar("V", bound="Versions[Any]")

# The columns every temporal table begins with: the record, and the log positions its
# version holds from and until (NULL: still).
VERSION_COLUMNS = (
    Column("id", "id", True),
    Column("valid_from", "bigint", True),
    Column("valid_to", "bigint"),
)


def versioned_table(
    name: str,
    view: str,
    columns: tuple[Column, ...],
    indexes: tuple[tuple[str, ...], ...] = (),
    search: tuple[str, ...] = (),
) -> Table:
    """A temporal table ``name``: the version columns, then the record's ``columns``;
    ``view`` shows the current version of each record; ``search``: its columns searched
    by words (a full-text index)."""
    return Table(
        name,
        (*VERSION_COLUMNS, *columns),
        key=("id", "valid_from"),
        indexes=indexes,
        current_view=view,
        search=search,
    )


class Versions(Generic[R]):
    """The current version of each record, and the versions begun or ended since the
    last write. A version that begins and ends between two writes is one INSERT with
    both ends, not an INSERT and an UPDATE."""

    def __init__(self, table: Table, row_type: type[R]) -> None:
        self.table = table
        self.row_type = row_type
        self.current: dict[str, R] = {}
        # (id, valid_from) -> [row, the position it ended at, or None]
        self._begun: dict[tuple[str, int], list[Any]] = {}
        # versions begun in earlier writes that ended: (id, valid_from, valid_to)
        self._ended: list[tuple[str, int, int]] = []

    def __getitem__(self, key: str) -> R:
        return self.current[key]

    def begin(self, row: R, previous: R | None = None) -> None:
        """``row`` is the record's version from now on, ending ``previous``."""
        row_id, since = _id(row), _since(row)
        if previous is not None:
            begun = self._begun.get((_id(previous), _since(previous)))
            if begun is None:
                self._ended.append((_id(previous), _since(previous), since))
            else:
                begun[1] = since
        self.current[row_id] = row
        self._begun[(row_id, since)] = [row, None]

    def change(self, key: str, position: int, recorded_at: datetime, **changes: Any) -> None:
        """A new version of record ``key`` from ``position`` on, with ``changes``."""
        previous = self.current[key]
        row = msgspec.structs.replace(
            previous, valid_from=position, updated_at=micros(recorded_at), **changes
        )
        self.begin(row, previous)

    def flush(self) -> list[Write]:
        """The versions begun (with their end, if they ended) and the earlier versions
        that ended, as writes; forgets them."""
        name = self.table.name
        begun = [_table_row(row, ended) for row, ended in self._begun.values()]
        ends = [(to, row_id, since) for row_id, since, to in self._ended]
        self._begun.clear()
        self._ended.clear()
        return [
            w
            for w in (
                Write(name, "insert", begun),
                Write(name, "update", ends, columns=("valid_to",), where=("id", "valid_from")),
            )
            if w.rows
        ]

    def load(self, rows: Rows) -> None:
        """The current versions the table holds."""
        for row in current(rows, self.table, self.row_type):
            self.current[_id(row)] = row


def _id(row: Any) -> str:
    value: str = row.id
    return value


def _since(row: Any) -> int:
    value: int = row.valid_from
    return value


def _table_row(row: msgspec.Struct, ended: int | None) -> tuple[Any, ...]:
    # The table's columns are the row's fields with valid_to after valid_from.
    values = msgspec.structs.astuple(row)
    return (*values[:2], ended, *values[2:])


def as_of(position: int | None) -> tuple[list[str], list[Any]]:
    """The clauses and parameters of the versions standing at ``position`` (None: now)."""
    if position is None:
        return ["valid_to IS NULL"], []
    return ["valid_from <= ? AND (valid_to IS NULL OR valid_to > ?)"], [position, position]


def current(
    rows: Rows,
    table: Table,
    row_type: type[R],
    *,
    position: int | None = None,
    clauses: Sequence[str] = (),
    params: Sequence[Any] = (),
    order: str = "",
) -> list[R]:
    """The versions of ``table`` standing at ``position`` (None: now), filtered by
    ``clauses`` (with ``params``), in ``order``."""
    standing, standing_params = as_of(position)
    where = " AND ".join([*standing, *clauses])
    statement = f"SELECT {', '.join(table.column_names)} FROM {table.name} WHERE {where}"
    if order:
        statement += f" ORDER BY {order}"
    return [
        row_type(*values[:2], *values[3:])
        for values in rows.select(statement, [*standing_params, *params], table.kinds())
    ]


class VersionedSlice(Generic[V]):
    """A slice that is one temporal table (contracts, users): its state is the current
    version of each record (a ``Versions``, made by ``state``), changed by ``handlers``."""

    def __init__(
        self,
        name: str,
        state: Callable[[], V],
        handlers: Mapping[type[DomainEvent], Handler[V]],
    ) -> None:
        self.name = name
        self._state = state
        self._handlers = handlers
        self.tables: tuple[Table, ...] = (state().table,)

    @property
    def handlers(self) -> Mapping[type[DomainEvent], Handler[V]]:
        return self._handlers

    def empty(self, progress: Progress) -> V:
        return self._state()

    def load(self, rows: Rows, progress: Progress) -> V:
        state = self._state()
        state.load(rows)
        return state

    def flush(self, state: V) -> list[Write]:
        return state.flush()


# --- keyset pages over the versions standing at a position -------------------------------


def created(table: Table) -> str:
    """SQL: the log position a record of ``table`` was made at (its first version's), the
    order records were made in, which a record made later always comes after."""
    return f"(SELECT min(f.valid_from) FROM {table.name} f WHERE f.id = {table.name}.id)"


def null_last(column: str) -> str:
    """SQL: 1 where ``column`` is NULL, else 0: a key part before the column itself puts
    the nulls last (first, descending) on SQLite as on PostgreSQL."""
    return f"CASE WHEN {column} IS NULL THEN 1 ELSE 0 END"


class Order(NamedTuple):
    """One order of a list: its key's parts (SQL expressions over a temporal table, with
    their kinds), the last a record's own (``created``), all ascending, or all descending
    (``sort=-field``: exactly the ascending order reversed)."""

    parts: tuple[tuple[str, Kind], ...]
    descending: bool = False


# A key as a cursor carries it: text, a whole number (positions, flags, micros) or null.
KeyPart = str | int | None


class Page(NamedTuple, Generic[R]):
    """The records of one page, and the key of its last record when more follow."""

    records: list[R]
    next_key: tuple[KeyPart, ...] | None


class BadKey(NotFound):
    """A key no page of this order ends at (from a made-up or damaged cursor): as a cursor
    the list never gave, no such page."""

    def __init__(self) -> None:
        super().__init__("cursor is not a next_cursor this list gave.")


def keyset_page(
    rows: Rows,
    table: Table,
    row_type: type[R],
    order: Order,
    *,
    position: int | None,
    clauses: Sequence[str] = (),
    params: Sequence[Any] = (),
    after: Sequence[KeyPart] | None = None,
    limit: int | None = None,
) -> Page[R]:
    """The versions of ``table`` standing at ``position`` (None: now), filtered by
    ``clauses``, in ``order``, after the record whose key is ``after`` (None: from the
    first), at most ``limit`` (None: all). A key, never an offset: a record written
    between two pages comes where its key puts it, never twice, and none is missed for
    it; made later, it comes after every record made before (``created`` ends each key)."""
    standing, standing_params = as_of(position)
    where = [*standing, *clauses]
    where_params = [*standing_params, *params]
    if after is not None:
        clause, after_params = _after(rows, order, after)
        where.append(clause)
        where_params.extend(after_params)
    direction = " DESC" if order.descending else ""
    parts = [part for part, _ in order.parts]
    # Named apart from the columns: a row's values are read by name on PostgreSQL.
    keys = [f"{part} AS key_{i}" for i, part in enumerate(parts)]
    statement = (
        f"SELECT {', '.join([*table.column_names, *keys])} FROM {table.name} "
        f"WHERE {' AND '.join(where)} ORDER BY {', '.join(p + direction for p in parts)}"
    )
    if limit is not None:
        statement += f" LIMIT {int(limit) + 1}"
    kinds = [*table.kinds(), *(kind for _, kind in order.parts)]
    found = rows.select(statement, where_params, kinds)
    width = len(table.column_names)
    page = found if limit is None else found[:limit]
    records = [row_type(*values[:2], *values[3:width]) for values in page]
    more = limit is not None and len(found) > limit
    return Page(records, _key(page[-1][width:], order) if more else None)


def _key(values: Sequence[Any], order: Order) -> tuple[KeyPart, ...]:
    """A key as a cursor carries it: dates as ISO text, the rest as they are read."""
    return tuple(
        value.isoformat() if kind == "date" and value is not None else value
        for value, (_, kind) in zip(values, order.parts, strict=True)
    )


def _after(rows: Rows, order: Order, key: Sequence[KeyPart]) -> tuple[str, list[Any]]:
    """The clause of the records after ``key`` in ``order``: greater (less, descending) in
    the first part they differ in. A null part is equal only to a null (what follows a
    ``null_last`` flag saying so), and nothing is greater than it there."""
    compare = "<" if order.descending else ">"
    alternatives: list[str] = []
    params: list[Any] = []
    equal: list[str] = []
    equal_params: list[Any] = []
    for (part, kind), value in zip(order.parts, key, strict=True):
        if value is None:
            equal.append(f"{part} IS NULL")
            continue
        param = _param(rows, kind, value)
        alternatives.append(" AND ".join([*equal, f"{part} {compare} ?"]))
        params.extend([*equal_params, param])
        equal.append(f"{part} = ?")
        equal_params.append(param)
    return f"({' OR '.join(f'({a})' for a in alternatives) or '1 = 0'})", params


def _param(rows: Rows, kind: Kind, value: KeyPart) -> Any:
    """A key part as a parameter compared with a column of ``kind``; BadKey for a value
    no such column holds."""
    whole = kind in ("bigint", "int", "instant")
    if not isinstance(value, int if whole else str) or isinstance(value, bool):
        raise BadKey
    try:
        if kind == "date":
            return rows.param(kind, date.fromisoformat(str(value)))
        if kind == "id":
            return rows.param(kind, UUID(str(value)))
    except ValueError as error:  # a date or an id that is none
        raise BadKey from error
    return rows.param(kind, value)
