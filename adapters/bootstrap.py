"""The composition root: settings → event store → command bus."""

from __future__ import annotations

from dataclasses import dataclass, field

# Importing the command modules registers their handlers with the bus.
import commands.opportunities
import commands.quotes
import commands.reference_data
from adapters.clock import Clock, SystemClock
from adapters.persistence import SalesEventStore
from adapters.settings import Settings
from commands.bus import CommandBus

__all__ = ["Services", "bootstrap", "commands"]


@dataclass
class Services:
    settings: Settings
    store: SalesEventStore
    bus: CommandBus
    clock: Clock = field(default_factory=SystemClock)

    def close(self) -> None:
        self.store.close()


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
    return Services(settings=settings, store=store, bus=bus, clock=clock)
