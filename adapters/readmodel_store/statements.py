"""The SQL of the read-model tables: DDL from the slices' declarations, DML from writes,
and the full-text search of their searched columns."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from adapters.readmodel_store.codec import SQL_TYPES
from readmodels.slice import Kind, Table, Write


def create_statements(tables: tuple[Table, ...], *, native: bool) -> list[str]:
    """``CREATE TABLE`` / ``INDEX`` / ``VIEW`` for ``tables`` (idempotent). A single-column
    key is declared on its column; a longer one at the end."""
    dialect = 1 if native else 0
    statements = []
    for t in tables:
        inline = len(t.key) == 1
        cells = []
        for column in t.columns:
            sql_type = SQL_TYPES[column.kind][dialect]
            if inline and column.name == t.key[0]:
                cells.append(f"{column.name} {sql_type} PRIMARY KEY")
            else:
                cells.append(f"{column.name} {sql_type}{' NOT NULL' if column.required else ''}")
        if not inline:
            cells.append(f"PRIMARY KEY ({', '.join(t.key)})")
        statements.append(f"CREATE TABLE IF NOT EXISTS {t.name} ({', '.join(cells)})")
    for t in tables:
        for columns in t.indexes:
            index = f"{t.name}_{'_'.join(columns)}_idx"
            statements.append(
                f"CREATE INDEX IF NOT EXISTS {index} ON {t.name} ({', '.join(columns)})"
            )
    for t in tables:
        if t.search:
            statements.extend(search_statements(t, native=native))
    for t in tables:
        if t.current_view is not None:
            current = f"SELECT * FROM {t.name} WHERE valid_to IS NULL"
            statements.append(
                f"CREATE OR REPLACE VIEW {t.current_view} AS {current}"
                if native
                else f"CREATE VIEW IF NOT EXISTS {t.current_view} AS {current}"
            )
    return statements


def drop_statements(tables: tuple[Table, ...]) -> list[str]:
    views = [f"DROP VIEW IF EXISTS {t.current_view}" for t in tables if t.current_view]
    # SQLite's full-text tables (their triggers go with the table they watch).
    searches = [f"DROP TABLE IF EXISTS {search_table(t)}" for t in tables if t.search]
    return [*views, *(f"DROP TABLE IF EXISTS {t.name}" for t in tables), *searches]


# --- full-text search ----------------------------------------------------------------------


def search_table(t: Table) -> str:
    """SQLite: the FTS5 table indexing ``t``'s searched columns (external content: it keeps
    only the index, the words stay in ``t``)."""
    return f"{t.name}_search"


def _document(t: Table) -> str:
    """PostgreSQL: the searched text of a row, exactly as the index is built over it."""
    text = " || ' ' || ".join(f"coalesce({c}, '')" for c in t.search)
    return f"to_tsvector('simple', {text})"


def search_statements(t: Table, *, native: bool) -> list[str]:
    """The full-text index of ``t``'s searched columns (idempotent). PostgreSQL: a GIN
    index over the ``simple`` text search vector (lower case, no stemming: names are not
    prose). SQLite: an FTS5 table kept by triggers on ``t`` (unicode61: case and accents
    folded)."""
    if native:
        return [
            f"CREATE INDEX IF NOT EXISTS {t.name}_search_idx ON {t.name} USING gin ({_document(t)})"
        ]
    fts = search_table(t)
    cols = ", ".join(t.search)
    new = ", ".join(f"new.{c}" for c in t.search)
    old = ", ".join(f"old.{c}" for c in t.search)
    add = f"INSERT INTO {fts}(rowid, {cols}) VALUES (new.rowid, {new});"
    remove = f"INSERT INTO {fts}({fts}, rowid, {cols}) VALUES ('delete', old.rowid, {old});"
    return [
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {fts} USING fts5({cols}, content='{t.name}', "
        "content_rowid='rowid', tokenize='unicode61 remove_diacritics 2')",
        f"CREATE TRIGGER IF NOT EXISTS {fts}_insert AFTER INSERT ON {t.name} BEGIN {add} END",
        f"CREATE TRIGGER IF NOT EXISTS {fts}_delete AFTER DELETE ON {t.name} BEGIN {remove} END",
        f"CREATE TRIGGER IF NOT EXISTS {fts}_update AFTER UPDATE OF {cols} ON {t.name} "
        f"BEGIN {remove} {add} END",
    ]


def match_clause(t: Table, words: Sequence[str], *, native: bool) -> tuple[str, list[Any]]:
    """Rows of ``t`` whose searched columns hold every word of ``words`` (each a run of
    letters and digits), as a word or its beginning; through the full-text index."""
    if not t.search:
        raise ValueError(f"{t.name} has no searched columns")
    if native:
        query = " & ".join(f"{word}:*" for word in words)
        return f"{_document(t)} @@ to_tsquery('simple', ?)", [query]
    fts = search_table(t)
    query = " ".join(f'"{word}"*' for word in words)
    return f"rowid IN (SELECT rowid FROM {fts} WHERE {fts} MATCH ?)", [query]


def ordered(column: str, kind: Kind, *, native: bool) -> str:
    """``column`` as it sorts in value order: SQLite keeps decimals as text, cast them."""
    if kind == "numeric" and not native:
        return f"CAST({column} AS REAL)"
    return column


def write_statement(table: Table, write: Write, placeholder: str) -> str:
    """The statement a write's rows are executed with, one row at a time."""
    p = placeholder
    if write.operation == "update":
        sets = ", ".join(f"{c} = {p}" for c in write.columns)
        keys = " AND ".join(f"{c} = {p}" for c in write.where)
        return f"UPDATE {table.name} SET {sets} WHERE {keys}"
    columns = table.column_names
    insert = (
        f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join(p for _ in columns)})"
    )
    if write.operation == "insert":
        return insert
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in table.key)
    return f"{insert} ON CONFLICT ({', '.join(table.key)}) DO UPDATE SET {updates}"
