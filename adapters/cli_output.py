"""How the command line prints what it read: ``--format table|json|csv``, one way for all.

- ``table`` (the default, on a terminal and into a pipe alike): plain-text columns,
  numbers right-aligned, under the sentences saying what the answer is.
- ``json``: the whole answer, the document the HTTP API gives where there is one;
  decimals stay strings, so no figure is rounded.
- ``csv``: a header row and one row per record (each command names its record); nested
  objects become dotted columns (``params.owner``), lists one cell of JSON.

A command builds one ``Printed`` and hands it to ``emit``. stdout carries only the
answer, so that JSON and CSV parse: the sentences of a command that writes (a tick's)
go to stderr with them; progress and logs are on stderr always.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast

Format = Literal["table", "json", "csv"]
FORMATS: tuple[Format, ...] = ("table", "json", "csv")
# A cell that is a number (an integer or a decimal, signed or not) is right-aligned.
NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")

Row = Mapping[str, Any]


@dataclass(frozen=True)
class Table:
    """Rows shown as columns; a column is a key of the rows, dotted for a nested one."""

    rows: Sequence[Row]
    columns: Sequence[str]
    title: str | None = None


@dataclass(frozen=True)
class Printed:
    """What one command prints, in each format."""

    document: Any  # json: the whole answer
    records: Sequence[Row]  # csv: one row per record, columns taken from the rows
    tables: Sequence[Table] = ()  # table: these, each under its title
    lines: Sequence[str] = ()  # table: sentences above the tables
    # Sentences that say what happened (a tick's), not data: on stdout under a table,
    # on stderr when stdout carries JSON or CSV.
    notes: Sequence[str] = ()
    header: Sequence[str] = ()  # csv: the header row when there is no record to take it from


def listing(rows: Sequence[Row], columns: Sequence[str], header: Sequence[str]) -> Printed:
    """A list of records: the JSON list, their CSV rows (``header``: a record's keys, for
    an empty list), a table of ``columns``."""
    return Printed(document=list(rows), records=rows, tables=[Table(rows, columns)], header=header)


def record(answer: Row) -> Printed:
    """One record: the JSON object, one CSV row, a table of its fields and values."""
    return Printed(document=answer, records=[answer], tables=[fields(answer)])


def fields(answer: Row, keys: Sequence[str] | None = None) -> Table:
    """One record as a table of two columns: each field (dotted when nested) and its value."""
    shown = keys if keys is not None else list(flatten(answer))
    rows = [{"field": k, "value": lookup(answer, k)} for k in shown]
    return Table(rows, ("field", "value"))


def add_format_option(
    parser: argparse.ArgumentParser, records: str, *, json_alias: bool = False
) -> None:
    """``--format``; ``records`` says what the CSV rows are. ``json_alias``: the command
    had ``--json`` before ``--format`` existed; it stays, hidden, for old scripts."""
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default="table",
        help=f"table (the default), json, or csv ({records})",
    )
    if json_alias:
        parser.add_argument(
            "--json", dest="format", action="store_const", const="json", help=argparse.SUPPRESS
        )


def emit(printed: Printed, fmt: Format) -> None:
    """Print ``printed`` in ``fmt`` on stdout; its notes on stderr unless in a table."""
    if printed.notes and fmt != "table":
        print("\n".join(printed.notes), file=sys.stderr)
    sys.stdout.write(render(printed, fmt))


def render(printed: Printed, fmt: Format) -> str:
    if fmt == "json":
        return json.dumps(printed.document, indent=2) + "\n"
    if fmt == "csv":
        return csv_text(printed.records, printed.header)
    if fmt != "table":
        raise ValueError(f"no format {fmt!r}")
    blocks = []
    if printed.notes or printed.lines:
        blocks.append("\n".join([*printed.notes, *printed.lines]))
    for shown in printed.tables:
        text = table_text(shown.rows, shown.columns)
        blocks.append(text if shown.title is None else f"{shown.title}\n{text}")
    return "\n\n".join(blocks) + "\n"


def csv_text(rows: Sequence[Row], header: Sequence[str] = ()) -> str:
    """A header row, the union of the rows' flattened keys in the order met (the dotted
    keys of one object side by side), and a row per record; a key a row lacks is empty."""
    tops: dict[str, int] = {}
    met: dict[str, int] = {}  # each column, and the rank of the key it comes from
    for row in rows:
        for key, value in row.items():
            rank = tops.setdefault(key, len(tops))
            for column in flatten({key: value}):
                met.setdefault(column, rank)
    columns = sorted(met, key=met.__getitem__) if rows else list(header)
    flat = [flatten(row) for row in rows]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([_csv_cell(row.get(c)) for c in columns] for row in flat)
    return buffer.getvalue()


def flatten(row: Row, prefix: str = "") -> dict[str, Any]:
    """Nested objects as dotted keys: ``{"params": {"owner": "x"}}`` → ``params.owner``.
    An empty object stays one key (its value ``{}``), so no column silently vanishes."""
    flat: dict[str, Any] = {}
    for key, value in row.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple | Mapping):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def lookup(row: Row, column: str) -> Any:
    """The value at a dotted column (``then.amount``); None where the row has none."""
    value: Any = row
    for key in column.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def cell(value: Any) -> str:
    """A value as a table shows it: nothing for None, ``k=v, …`` for an object."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={cell(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(cell(v) for v in cast(Sequence[Any], value))
    return str(value)


def table_text(rows: Sequence[Row], columns: Sequence[str]) -> str:
    """Columns two spaces apart under a header; a column of numbers is right-aligned."""
    cells = [[cell(lookup(row, c)) for c in columns] for row in rows]
    widths = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(columns)]
    numeric = [
        any(r[i] for r in cells) and all(not r[i] or NUMBER.match(r[i]) for r in cells)
        for i in range(len(columns))
    ]
    lines = [
        "  ".join(
            v.rjust(w) if n else v.ljust(w) for v, w, n in zip(r, widths, numeric, strict=True)
        )
        for r in [list(columns), *cells]
    ]
    return "\n".join(line.rstrip() for line in lines)
