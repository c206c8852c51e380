"""Read-model values ⇄ column values, by column kind, for SQLite and PostgreSQL.

Slices hand over plain Python values (``readmodels.slice``); SQLite keeps text and
numbers (ids as text, decimals and instants as ISO text), PostgreSQL native types
(uuid, numeric, timestamptz…). A converter per table turns whole rows at once: a
rebuild writes hundreds of thousands of them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any
from uuid import UUID

from readmodels.slice import Kind
from readmodels.values import NONE, instant, micros

Convert = Callable[[Any], Any]

# (SQLite type, PostgreSQL type) of each kind
SQL_TYPES: dict[Kind, tuple[str, str]] = {
    "id": ("TEXT", "uuid"),
    "text": ("TEXT", "text"),
    "int": ("INTEGER", "integer"),
    "bigint": ("INTEGER", "bigint"),
    "numeric": ("TEXT", "numeric"),
    "currency": ("TEXT", "char(3)"),
    "date": ("TEXT", "date"),
    "instant": ("TEXT", "timestamptz"),
    "moment": ("TEXT", "timestamptz"),
    "stamp": ("INTEGER", "timestamptz"),
    "flag": ("INTEGER", "boolean"),
    "json": ("TEXT", "jsonb"),
    "bytes": ("BLOB", "bytea"),
}


@lru_cache(maxsize=1 << 16)
def _iso(value: int) -> str:
    # The events of one save share an instant: a rebuild formats each instant once.
    return instant(value).isoformat(timespec="microseconds")


def _text_instant(value: int | None) -> str | None:
    return None if value is None or value == NONE else _iso(value)


def _native_instant(value: int | None) -> datetime | None:
    return None if value is None or value == NONE else instant(value)


def _text_moment(value: datetime | None) -> str | None:
    # SQLite compares text: one offset and one precision keep the order right.
    return None if value is None else value.astimezone(UTC).isoformat(timespec="microseconds")


def _uuid(value: str | UUID | None) -> UUID | None:
    return None if value is None else value if isinstance(value, UUID) else UUID(value)


def _id_text(value: str | UUID | None) -> str | None:
    return None if value is None else str(value)


def _decimal_text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _date_text(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _flag_int(value: bool | None) -> int | None:
    return None if value is None else int(value)


def _json(value: dict[str, Any] | None) -> str | None:
    return None if value is None else json.dumps(value, sort_keys=True)


def _native_stamp(value: int | None) -> datetime | None:
    return None if value is None else instant(value)


# How each kind is written (None: as it is), per database.
_WRITE_TEXT: dict[Kind, Convert | None] = {
    "id": None,  # already text (a UUID object, as a parameter, goes through ``param``)
    "numeric": _decimal_text,
    "date": _date_text,
    "instant": _text_instant,
    "moment": _text_moment,
    "flag": _flag_int,
    "json": _json,
}
_WRITE_NATIVE: dict[Kind, Convert | None] = {
    "id": _uuid,
    "instant": _native_instant,
    "stamp": _native_stamp,
    "json": _json,
}


def _read_moment(value: Any) -> datetime | None:
    if value is None:
        return None
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def _read_instant(value: Any) -> int:
    moment = _read_moment(value)
    return NONE if moment is None else micros(moment)


def _read_date(value: Any) -> date | None:
    if value is None:
        return None
    return value if isinstance(value, date) else date.fromisoformat(value)


def _read_decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(value)


def _read_flag(value: Any) -> bool | None:
    return None if value is None else bool(value)


def _read_json(value: Any) -> dict[str, Any] | None:
    if value is None or isinstance(value, dict):
        return value
    loaded: dict[str, Any] = json.loads(value)
    return loaded


def _read_bytes(value: Any) -> bytes | None:
    return None if value is None else bytes(value)


def _read_stamp(value: Any) -> int | None:
    if value is None or isinstance(value, int):
        return value
    return micros(value)


_READ: dict[Kind, Convert | None] = {
    "id": _id_text,
    "numeric": _read_decimal,
    "date": _read_date,
    "instant": _read_instant,
    "moment": _read_moment,
    "stamp": _read_stamp,
    "flag": _read_flag,
    "json": _read_json,
    "bytes": _read_bytes,
}


def row_converter(
    functions: Sequence[Convert | None],
) -> Callable[[Sequence[Any]], tuple[Any, ...]]:
    """One function turning a whole row, calling only the columns' converters that exist.

    Generated (as ``collections.namedtuple`` generates its classes): a loop over the
    columns with a call per cell, identities included, measured a fifth slower on a
    rebuild's rows than this straight tuple expression.
    """
    cells = [f"f{i}(r[{i}])" if f is not None else f"r[{i}]" for i, f in enumerate(functions)]
    names = {f"f{i}": f for i, f in enumerate(functions) if f is not None}
    source = f"lambda r: ({', '.join(cells)},)" if cells else "lambda r: ()"
    converter: Callable[[Sequence[Any]], tuple[Any, ...]] = eval(source, names)
    return converter


@lru_cache(maxsize=256)
def _reader(kinds: tuple[Kind, ...]) -> Callable[[Sequence[Any]], tuple[Any, ...]]:
    return row_converter([_READ.get(kind) for kind in kinds])


class Codec:
    """The conversions of one database: ``native`` (PostgreSQL) or text (SQLite)."""

    def __init__(self, *, native: bool) -> None:
        self.native = native
        self._write = _WRITE_NATIVE if native else _WRITE_TEXT

    def sql_type(self, kind: Kind) -> str:
        return SQL_TYPES[kind][1 if self.native else 0]

    def writer(self, kinds: Sequence[Kind]) -> Callable[[Sequence[Any]], tuple[Any, ...]] | None:
        """The converter of rows of ``kinds``; None when no column needs one (the rows are
        written as they are)."""
        functions = [self._write.get(kind) for kind in kinds]
        return None if all(f is None for f in functions) else row_converter(functions)

    @staticmethod
    def reader(kinds: tuple[Kind, ...]) -> Callable[[Sequence[Any]], tuple[Any, ...]]:
        return _reader(kinds)

    def param(self, kind: Kind, value: Any) -> Any:
        """A value compared with a column of ``kind``."""
        if kind == "id":
            return _uuid(value) if self.native else _id_text(value)
        convert = self._write.get(kind)
        return value if convert is None else convert(value)
