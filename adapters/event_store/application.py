"""The one eventsourcing application holding every aggregate and the global log, and the
environment it is built from."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import JSONTranscoder, Mapper

from adapters.event_store.codec import EventMapper
from adapters.event_store.postgres import PostgresSalesRecorder, postgres_env
from adapters.event_store.sqlite import SQLiteSalesRecorder
from adapters.personal_data import PersonalDataVault
from adapters.settings import Settings

APPLICATION_NAME = "Sales"


# The application's own log is the process manager's upstream: its tracking records
# carry this name (in the tracking table beside the events).
PROCESS_UPSTREAM = APPLICATION_NAME


def tracking_name(process: str) -> str:
    """The tracking record's name for a process manager following the application's log:
    the contracts process keeps the name it always had; each other one its own."""
    return PROCESS_UPSTREAM if process == "contracts" else f"{PROCESS_UPSTREAM}/{process}"


SalesRecorder = SQLiteSalesRecorder | PostgresSalesRecorder


class SalesLog(Application[UUID]):
    """The one event-sourced application holding every aggregate and the global log."""

    name = APPLICATION_NAME

    def construct_mapper(self) -> Mapper[UUID]:
        mapper = EventMapper(
            transcoder=JSONTranscoder(),  # unused: EventMapper encodes with msgspec
            compressor=self.factory.compressor(),
            cipher=self.factory.cipher(),
        )
        mapper.vault = self.vault = PersonalDataVault()
        return mapper

    def __init__(self, env: Any = None) -> None:
        super().__init__(env=env)
        recorder = self.recorder
        assert isinstance(recorder, SQLiteSalesRecorder | PostgresSalesRecorder)
        self.vault.keys = recorder


def sales_env(settings: Settings) -> dict[str, str]:
    common = {
        "AGGREGATE_CACHE_MAXSIZE": str(settings.aggregate_cache_size),
        # States are immutable: a cached one can be handed out as it is.
        "DEEPCOPY_FROM_AGGREGATE_CACHE": "n",
    }
    if settings.uses_postgres:
        return {**postgres_env(settings), **common}
    settings.home.mkdir(parents=True, exist_ok=True)
    return {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": str(settings.event_store_path),
        "SQLITE_LOCK_TIMEOUT": "30",
        "APPLICATION_RECORDER_TOPIC": "adapters.event_store.sqlite:SQLiteSalesRecorder",
        **common,
    }
