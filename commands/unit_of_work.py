"""Load → decide → append: the one path every command handler takes.

A unit of work loads the aggregates a handler needs, remembers the version
each was loaded at, collects the events the domain decided for each, and
saves all of them in one atomic save. The store's key on (aggregate id,
version) makes that save fail if any of those aggregates moved meanwhile.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import TypeVar
from uuid import UUID

import msgspec

from commands.errors import VersionConflict
from commands.ports import (
    CONTRACTS_PROCESS,
    Document,
    EventStore,
    PersonalDataChanges,
    ProcessTimer,
    TimerChanges,
)
from domain.access import Principal
from domain.aggregate import AggregateState, replay
from domain.contract import Timer
from domain.errors import AlreadyExists, NotFound
from domain.events import DomainEvent

S = TypeVar("S", bound=AggregateState)


class Actor(msgspec.Struct, frozen=True, kw_only=True):
    """Who runs a command, stamped on every event it writes: ``by`` (a login,
    ``cli:<os user>``, ``system:<process>``), the request it came with, and what caused it
    (the command's own id, or the event a process reacted to)."""

    by: str
    request_id: str | None = None
    causation_id: str | None = None
    # The user's rights, checked before the command runs (``commands.authorization``);
    # None for the processes and the local operator, who may run anything.
    principal: Principal | None = None


class CommandContext(msgspec.Struct, frozen=True, kw_only=True):
    now: datetime
    reporting_currency: str
    actor: Actor | None = None
    # The business time the command says it took effect, stamped on its events.
    effective_at: datetime | None = None
    # The region of phone numbers written without a country code (duplicate detection).
    phone_region: str = "DE"


class UnitOfWork:
    def __init__(
        self,
        store: EventStore,
        context: CommandContext,
        *,
        expected_version: tuple[UUID, int] | None = None,
    ) -> None:
        self.store = store
        self.context = context
        self._expected = expected_version
        self._loaded: dict[UUID, AggregateState | None] = {}
        self._pending: dict[UUID, list[DomainEvent]] = {}
        self.documents: list[Document] = []
        # A process manager's save: the log position it processed, and its timers.
        self.tracking: int | None = None
        self.tracking_process = CONTRACTS_PROCESS
        self.timers = TimerChanges()
        self.personal = PersonalDataChanges()
        # Secrets kept beside the log, never in it (a webhook's signing key); None drops one.
        self.secrets: dict[UUID, str | None] = {}
        # Who the events recorded now say did it, when not the command's actor (``acting_as``).
        self._acting: Actor | None = None

    @property
    def now(self) -> datetime:
        return self.context.now

    def find(self, aggregate_id: UUID) -> AggregateState | None:
        """The aggregate as this unit of work sees it (with its pending events), or None."""
        if aggregate_id not in self._loaded:
            state = self.store.load(aggregate_id)
            if self._expected is not None and self._expected[0] == aggregate_id:
                found = 0 if state is None else state.version
                if found != self._expected[1]:
                    raise VersionConflict(
                        f"{aggregate_id} is at version {found}, not {self._expected[1]}; "
                        "reload it and try again."
                    )
            self._loaded[aggregate_id] = state
        current = replay(self._loaded[aggregate_id], self._pending.get(aggregate_id, ()))
        if current is not None and current.id != aggregate_id:
            # Created in this unit of work: its events are not stamped with their id yet.
            current = msgspec.structs.replace(current, id=aggregate_id)
        return current

    def get(self, cls: type[S], aggregate_id: UUID) -> S:
        """The aggregate of type ``cls``; NotFound when missing, deleted or of another kind."""
        state = self.find(aggregate_id)
        if state is None or not isinstance(state, cls) or state.deleted:
            raise NotFound(f"there is no {cls.kind.replace('_', ' ')} with id {aggregate_id}.")
        return state

    def ensure_new(self, aggregate_id: UUID) -> None:
        """Refuse an id that already names an aggregate of any kind (deleted ones too).

        Without this, recording a creation under a loaded aggregate's id would
        append it to that aggregate's stream, and under a stored one would be
        refused by the store as a lost race, retried, and reported as contention.
        """
        if self.find(aggregate_id) is not None:
            raise AlreadyExists(
                f"the id {aggregate_id} is already taken; use a new one.", aggregate_id
            )

    def record(self, aggregate_id: UUID, events: Sequence[DomainEvent]) -> None:
        if aggregate_id not in self._loaded:
            # A new aggregate: saved from version 1; the store refuses it if the id is taken.
            self._loaded[aggregate_id] = None
        if self._acting is not None:
            who = self._acting
            events = [
                msgspec.structs.replace(
                    e, by=who.by, request_id=who.request_id, causation_id=who.causation_id
                )
                for e in events
            ]
        self._pending.setdefault(aggregate_id, []).extend(events)

    def record_all(self, changes: Mapping[UUID, Sequence[DomainEvent]]) -> None:
        for aggregate_id, events in changes.items():
            self.record(aggregate_id, events)

    def version_of(self, aggregate_id: UUID) -> int:
        state = self.find(aggregate_id)
        return 0 if state is None else state.version

    @property
    def has_changes(self) -> bool:
        return any(self._pending.values())

    @property
    def must_save(self) -> bool:
        """Events to save, or a process manager's tracking position or timers."""
        return (
            self.has_changes
            or self.tracking is not None
            or bool(self.timers)
            or bool(self.personal)
            or bool(self.secrets)
        )

    @contextmanager
    def acting_as(self, actor: Actor) -> Iterator[None]:
        """The events recorded meanwhile say ``actor`` did them, and handlers called meanwhile
        see it as the command's actor: a process's command that acts for several of its
        rules in one save (automations)."""
        before, context = self._acting, self.context
        self._acting, self.context = actor, msgspec.structs.replace(context, actor=actor)
        try:
            yield
        finally:
            self._acting, self.context = before, context

    def track(self, position: int, process: str) -> None:
        """Save ``position`` as processed by the process manager ``process``, with the rest."""
        self.tracking, self.tracking_process = position, process

    def schedule(self, timer: ProcessTimer) -> None:
        """Set a process timer in this save (replacing one with the same key)."""
        self.timers.scheduled.append(timer)

    def cancel_timer(self, process: str, subject_id: UUID, kind: str) -> None:
        """Drop a process timer in this save, if it is set."""
        self.timers.cancelled.append((process, subject_id, kind))

    def fire_process_timer(self, process: str, subject_id: UUID, kind: str) -> None:
        """Fire a process timer: the save fails as a lost race if it is gone or held."""
        self.timers.process_fired.append((process, subject_id, kind))

    def fire_timer(self, contract_id: UUID, kind: str) -> None:
        self.timers.fired.append((contract_id, kind))

    def claim_contacts(self, lead_id: UUID, digests: Sequence[str]) -> None:
        for digest in digests:
            self.personal.claims.setdefault(digest, lead_id)

    def index_contact(self, contact_id: UUID, digests: Sequence[str]) -> None:
        """The digests the contact's e-mail and phone have now, saved with its events."""
        self.personal.contact_digests[contact_id] = list(digests)

    def erase_personal_data(self, subject_id: UUID) -> None:
        self.personal.erased.append(subject_id)

    def keep_secret(self, owner_id: UUID, secret: str | None) -> None:
        """Store (or, with None, drop) ``owner_id``'s secret in this save."""
        self.secrets[owner_id] = secret

    def set_timers(self, contract_id: UUID, timers: Sequence[Timer]) -> None:
        self.timers.replaced[contract_id] = list(timers)

    def stamped_events(self) -> list[DomainEvent]:
        """Pending events with their aggregate id, version and times, in decision order."""
        stamped: list[DomainEvent] = []
        for aggregate_id, events in self._pending.items():
            loaded = self._loaded.get(aggregate_id)
            version = 0 if loaded is None else loaded.version
            stamped += stamp(
                events,
                aggregate_id,
                version,
                self.context.now,
                self.context.effective_at,
                actor=self.context.actor,
            )
        return stamped


def stamp(
    events: Sequence[DomainEvent],
    aggregate_id: UUID,
    version: int,
    recorded_at: datetime,
    effective_at: datetime | None,
    *,
    actor: Actor | None = None,
) -> list[DomainEvent]:
    """``events`` of one aggregate at ``version``, stamped as recorded: its id, the versions
    that follow, the instant, who caused them; an event's own effective instant, and its own
    actor (``UnitOfWork.acting_as``), win over the decision's."""
    who = (
        {}
        if actor is None
        else {"by": actor.by, "request_id": actor.request_id, "causation_id": actor.causation_id}
    )
    return [
        msgspec.structs.replace(
            event,
            originator_id=aggregate_id,
            originator_version=version + number,
            recorded_at=recorded_at,
            effective_at=event.effective_at or effective_at,
            **({} if event.by is not None else who),
        )
        for number, event in enumerate(events, start=1)
    ]
