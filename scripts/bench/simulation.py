"""The history generator's plumbing: states, stamping and batched saves."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, cast
from uuid import UUID

from tqdm import tqdm

from adapters.event_store.store import SalesEventStore
from commands.ports import Document
from commands.unit_of_work import Actor, stamp
from domain.aggregate import AggregateState, fold
from domain.errors import DomainError
from domain.events import DomainEvent
from domain.ids import (
    bundle_id_for,
    pipeline_id_for,
)
from domain.opportunity import Opportunity
from domain.pipeline import Pipeline
from domain.quote import Quote, SellableProduct

from .world import _NAME_A, _NAME_B, _NAME_C, ADMIN, BUNDLE, HISTORY_START


class Simulation:
    """The states a simulated history has reached, and how a decision joins it: stamped
    as ``UnitOfWork.stamped_events`` stamps it (by ``self.by``, each decision a request of
    its own), folded into the states, and saved with ``SalesEventStore.save`` in large
    batches."""

    def __init__(
        self,
        store: SalesEventStore,
        *,
        seed: int,
        target_events: int,
        batch_size: int = 5000,
        progress: bool = True,
    ) -> None:
        self.store = store
        self.rng = random.Random(seed)
        # Request and command ids from a generator of their own: the business history is
        # the same whoever is said to have made it.
        self.ids = random.Random(f"{seed}:ids")
        self.by = ADMIN  # who makes the next decisions (the running process's actor)
        self.seed = seed
        self.target = target_events
        self.batch_size = batch_size
        self.progress = progress
        self.states: dict[UUID, AggregateState] = {}
        self.pending: list[DomainEvent] = []
        self.documents: list[Document] = []
        self.document_count = 0
        self.emitted = 0
        self.saved = 0
        self.last_position = 0
        self.refused = 0
        self.deals = 0
        self.quotes = 0
        self.types: Counter[str] = Counter()
        self.t = 0.0
        self.now = HISTORY_START
        self.first_recorded_at: datetime | None = None
        self.pipeline_id = pipeline_id_for("sales")
        self.book_id = self.uuid()
        self.products: dict[str, tuple[UUID, str]] = {}
        self.sellables: list[SellableProduct] = []
        self.units: dict[UUID, str] = {}
        self.spawn: Callable[[Iterator[float], float], None] = lambda process, at: None
        self.bundle_id = bundle_id_for(BUNDLE[0])
        self.partners: list[UUID] = []
        names = [f"{a} {b} {c}" for a in _NAME_A for b in _NAME_B for c in _NAME_C]
        self.rng.shuffle(names)
        self.account_names = names[: max(200, min(len(names), target_events // 250))]
        self.bar: tqdm[Any] | None = None

    # --- plumbing ---------------------------------------------------------------

    def uuid(self) -> UUID:
        return UUID(int=self.rng.getrandbits(128), version=4)

    def _id(self) -> str:
        return str(UUID(int=self.ids.getrandbits(128), version=4))

    def state(self, aggregate_id: UUID) -> Any:
        return self.states[aggregate_id]

    def decide(
        self,
        changes: Mapping[UUID, Sequence[DomainEvent]],
        *,
        effective_at: datetime | None = None,
    ) -> None:
        """Stamp the decision's events as a unit of work does, fold them, queue them."""
        # One request per decision, as over HTTP: the request's id, the command's id its cause.
        actor = Actor(by=self.by, request_id=self._id(), causation_id=self._id())
        for aggregate_id, events in changes.items():
            if not events:
                continue
            state = self.states.get(aggregate_id)
            version = 0 if state is None else state.version
            stamped = stamp(events, aggregate_id, version, self.now, effective_at, actor=actor)
            self.types.update(type(event).type_name for event in events)
            self.states[aggregate_id] = fold(state, stamped)
            self.pending.extend(stamped)
            self.emitted += len(stamped)
        if len(self.pending) >= self.batch_size:
            self.flush()

    def attempt(self, decide: Callable[[], None]) -> bool:
        """Run one decision; a refusal (the simulation asked for something the rules forbid)
        is counted, never saved."""
        try:
            decide()
        except DomainError:
            self.refused += 1
            return False
        return True

    def flush(self) -> None:
        if not self.pending:
            return
        if self.first_recorded_at is None:
            self.first_recorded_at = self.pending[0].recorded_at
        self.last_position = self.store.save(self.pending, documents=self.documents)
        self.saved += len(self.pending)
        if self.bar is not None:
            self.bar.update(len(self.pending))
        self.pending = []
        self.documents = []

    @property
    def pipeline(self) -> Pipeline:
        return cast(Pipeline, self.states[self.pipeline_id])

    def opp(self, oid: UUID) -> Opportunity:
        return cast(Opportunity, self.states[oid])

    def quotes_of(self, opportunity: Opportunity) -> list[Quote]:
        return [cast(Quote, self.states[q]) for q in opportunity.quote_ids]

    def active_quote(self, opportunity: Opportunity) -> Quote | None:
        if opportunity.active_quote_id is None:
            return None
        return cast(Quote, self.states[opportunity.active_quote_id])
