"""The SQL of the read-model tables: DDL from the slices' declarations, DML from writes."""

from __future__ import annotations

from adapters.readmodel_store.codec import SQL_TYPES
from readmodels.slice import Table, Write


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
    return [*views, *(f"DROP TABLE IF EXISTS {t.name}" for t in tables)]


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
