"""The composition root: settings → event store, read models → command bus, queries."""

from __future__ import annotations

from dataclasses import dataclass, field

# Importing the command modules registers their handlers with the bus.
import commands.opportunities
import commands.quotes
import commands.read_model_commands
import commands.reference_data
from adapters.clock import Clock, SystemClock
from adapters.persistence import EventLog, SalesEventStore, open_view_storage
from adapters.settings import Settings
from commands.bus import CommandBus
from projections.runner import SalesProjector, Supervisor
from readmodels.queries import ReadModelQueries
from readmodels.storage import PostgresSalesView, SQLiteSalesView

__all__ = ["Services", "bootstrap", "commands"]


@dataclass
class Services:
    settings: Settings
    store: SalesEventStore
    bus: CommandBus
    views: SQLiteSalesView | PostgresSalesView
    queries: ReadModelQueries
    clock: Clock = field(default_factory=SystemClock)
    supervisor: Supervisor | None = None

    @property
    def event_log(self) -> EventLog:
        return EventLog(self.store.app)

    def projector(self, *, flush_every: int = 1) -> SalesProjector:
        return SalesProjector(
            self.event_log,
            self.views,
            checkpoint_interval=self.settings.checkpoint_interval,
            flush_every=flush_every,
        )

    def start_projector(self) -> Supervisor:
        """Follow the log in a background thread (``serve`` on the embedded store)."""
        self.supervisor = Supervisor(
            self.projector, poll_interval=self.settings.projector_poll_seconds
        )
        self.supervisor.start()
        return self.supervisor

    def close(self) -> None:
        if self.supervisor is not None:
            self.supervisor.stop()
        self.store.close()
        self.views.datastore.close()


def bootstrap(settings: Settings | None = None, *, clock: Clock | None = None) -> Services:
    settings = settings or Settings()
    clock = clock or SystemClock()
    store = SalesEventStore.open(settings)
    bus = CommandBus(
        store,
        clock,
        reporting_currency=settings.reporting_currency,
        retries=settings.command_retries,
    )
    bus.execute(commands.reference_data.EnsureDefaults())
    views = open_view_storage(settings)
    queries = ReadModelQueries(
        views, EventLog(store.app), checkpoint_interval=settings.checkpoint_interval
    )
    return Services(
        settings=settings, store=store, bus=bus, views=views, queries=queries, clock=clock
    )
