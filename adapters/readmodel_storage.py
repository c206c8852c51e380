"""Where the read-model tables live: opened like the event store, from the same settings."""

from __future__ import annotations

from eventsourcing.persistence import InfrastructureFactory
from eventsourcing.utils import Environment

from adapters.event_store.postgres import one_setup_at_a_time, postgres_env
from adapters.settings import Settings
from readmodels.storage import PostgresSalesView, SQLiteSalesView
from readmodels.version import VERSION as READ_MODEL_VERSION

READ_MODEL_NAME = f"sales_view_{READ_MODEL_VERSION}"


def open_view_storage(
    settings: Settings, *, postgres: type[PostgresSalesView] = PostgresSalesView
) -> SQLiteSalesView | PostgresSalesView:
    """The read-model tables: ``readmodels_<version>.sqlite`` beside the store, or the same
    PostgreSQL schema.

    Built by the library's infrastructure factory like the event store, so the
    tracking table and the pool follow the same settings.
    """
    if settings.uses_postgres:
        env = {k: v for k, v in postgres_env(settings).items() if "RECORDER_TOPIC" not in k}
        factory = InfrastructureFactory.construct(Environment(READ_MODEL_NAME, env))
        with one_setup_at_a_time(settings, "read models"):
            view = factory.tracking_recorder(postgres)
    else:
        settings.home.mkdir(parents=True, exist_ok=True)
        env = {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(settings.read_model_path),
            "SQLITE_LOCK_TIMEOUT": "30",
        }
        factory = InfrastructureFactory.construct(Environment(READ_MODEL_NAME, env))
        view = factory.tracking_recorder(SQLiteSalesView)
    assert isinstance(view, SQLiteSalesView | PostgresSalesView)
    return view
