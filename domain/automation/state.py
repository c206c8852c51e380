"""The automation aggregate, its events, and the catalogue that lists the automations."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar
from uuid import UUID, uuid5

import msgspec

from domain.aggregate import AggregateState, Event, created, evolve
from domain.automation.definition import Action, Trigger

__all__ = [
    "CATALOGUE_ID",
    "Automation",
    "AutomationCatalogue",
    "AutomationCatalogued",
    "AutomationChainStopped",
    "AutomationDefined",
    "AutomationDeleted",
    "AutomationDisabled",
    "AutomationEnabled",
    "AutomationEvent",
    "AutomationRan",
    "AutomationUncatalogued",
    "CatalogueEvent",
    "ChainStop",
    "LastRun",
]

# The one catalogue: which automations there are, so the list needs no read model.
CATALOGUE_ID = uuid5(UUID("4b7c2e10-9a55-4f0e-b1d3-6c2a8e0f7d21"), "automations")


class LastRun(msgspec.Struct, frozen=True, kw_only=True):
    at: datetime
    # The event (or, for an idle opportunity, the timer) it ran for.
    cause: str
    depth: int
    # Why its actions were passed over, when the domain refused one.
    refused: str | None = None


class ChainStop(msgspec.Struct, frozen=True, kw_only=True):
    at: datetime
    cause: str
    depth: int


class Automation(AggregateState, frozen=True, kw_only=True):
    kind: ClassVar[str] = "automation"
    name: str
    trigger: Trigger
    actions: tuple[Action, ...]
    enabled: bool = True
    runs: int = 0
    last_run: LastRun | None = None
    chain_stops: int = 0
    last_chain_stop: ChainStop | None = None


class AutomationDefined(Event[Automation], frozen=True, kw_only=True):
    name: str
    trigger: Trigger
    actions: tuple[Action, ...]

    def apply(self, state: Automation | None) -> Automation:
        return created(Automation, self)


class AutomationDisabled(Event[Automation], frozen=True, kw_only=True):
    def apply(self, state: Automation) -> Automation:
        return evolve(state, enabled=False)


class AutomationEnabled(Event[Automation], frozen=True, kw_only=True):
    def apply(self, state: Automation) -> Automation:
        return evolve(state, enabled=True)


class AutomationDeleted(Event[Automation], frozen=True, kw_only=True):
    def apply(self, state: Automation) -> Automation:
        return evolve(state, enabled=False, deleted=True)


class AutomationRan(Event[Automation], frozen=True, kw_only=True):
    """Its actions ran for ``cause`` (an event id, or an idle timer's), at chain ``depth``;
    ``refused``: the domain refused one of them, and none was kept."""

    cause: str
    depth: int
    refused: str | None = None

    def apply(self, state: Automation) -> Automation:
        run = LastRun(at=self.recorded_at, cause=self.cause, depth=self.depth, refused=self.refused)
        return evolve(state, runs=state.runs + 1, last_run=run)


class AutomationChainStopped(Event[Automation], frozen=True, kw_only=True):
    """``cause`` was written by automations ``depth`` deep: this one did not run for it."""

    cause: str
    depth: int

    def apply(self, state: Automation) -> Automation:
        stop = ChainStop(at=self.recorded_at, cause=self.cause, depth=self.depth)
        return evolve(state, chain_stops=state.chain_stops + 1, last_chain_stop=stop)


AutomationEvent = (
    AutomationDefined
    | AutomationDisabled
    | AutomationEnabled
    | AutomationDeleted
    | AutomationRan
    | AutomationChainStopped
)


class AutomationCatalogue(AggregateState, frozen=True, kw_only=True):
    kind: ClassVar[str] = "automation catalogue"
    automation_ids: tuple[UUID, ...] = ()


class AutomationCatalogued(Event[AutomationCatalogue], frozen=True, kw_only=True):
    automation_id: UUID

    def apply(self, state: AutomationCatalogue | None) -> AutomationCatalogue:
        if state is None:
            state = AutomationCatalogue(id=self.originator_id)
        return evolve(state, automation_ids=(*state.automation_ids, self.automation_id))


class AutomationUncatalogued(Event[AutomationCatalogue], frozen=True, kw_only=True):
    automation_id: UUID

    def apply(self, state: AutomationCatalogue) -> AutomationCatalogue:
        kept = tuple(i for i in state.automation_ids if i != self.automation_id)
        return evolve(state, automation_ids=kept)


CatalogueEvent = AutomationCatalogued | AutomationUncatalogued
