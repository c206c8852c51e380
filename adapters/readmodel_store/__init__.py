"""Where the read-model tables live: SQLite beside the event store, or the same PostgreSQL
schema; opened like the event store, from the same settings."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any, TypeVar

from eventsourcing.persistence import InfrastructureFactory
from eventsourcing.utils import Environment

from adapters.event_store.postgres import one_setup_at_a_time, postgres_env
from adapters.readmodel_store.postgres import PostgresReadModelStore
from adapters.readmodel_store.sqlite import SQLiteReadModelStore
from adapters.settings import Settings
from readmodels import SLICES, bookkeeping
from readmodels.slice import Slice, Table
from readmodels.version import VERSION as READ_MODEL_VERSION

READ_MODEL_NAME = f"sales_view_{READ_MODEL_VERSION}"
ReadModelStore = SQLiteReadModelStore | PostgresReadModelStore
C = TypeVar("C", bound=type[Any])


def tables_of(slices: Sequence[Slice[Any]]) -> tuple[Table, ...]:
    """The read model's own tables and every slice's."""
    return (*bookkeeping.TABLES, *(t for s in slices for t in s.tables))


@cache
def store_class(base: C, tables: tuple[Table, ...]) -> C:
    """``base`` holding ``tables`` (the library constructs recorders from their class)."""
    made = type(base.__name__, (base,), {"tables": tables})
    return made  # type: ignore[return-value]  # a subclass of base, made at run time


def open_store(
    settings: Settings,
    slices: Sequence[Slice[Any]] = SLICES,
    *,
    postgres: type[PostgresReadModelStore] = PostgresReadModelStore,
) -> ReadModelStore:
    """The read-model tables of ``slices``: ``readmodels_<version>.sqlite`` beside the store,
    or the settings' PostgreSQL schema (created if missing). Built by the library's
    infrastructure factory like the event store, so the tracking table and the pool
    follow the same settings."""
    tables = tables_of(slices)
    if settings.uses_postgres:
        env = {k: v for k, v in postgres_env(settings).items() if "RECORDER_TOPIC" not in k}
        factory = InfrastructureFactory.construct(Environment(READ_MODEL_NAME, env))
        with one_setup_at_a_time(settings, "read models"):
            store = factory.tracking_recorder(store_class(postgres, tables))
    else:
        settings.home.mkdir(parents=True, exist_ok=True)
        env = {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(settings.read_model_path),
            "SQLITE_LOCK_TIMEOUT": "30",
        }
        factory = InfrastructureFactory.construct(Environment(READ_MODEL_NAME, env))
        store = factory.tracking_recorder(store_class(SQLiteReadModelStore, tables))
    assert isinstance(store, SQLiteReadModelStore | PostgresReadModelStore)
    return store
