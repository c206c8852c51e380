"""Immutable aggregate state, the events of one kind of aggregate, and the fold that
rebuilds a state from its events."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import Any, ClassVar, Generic, TypeVar, cast, overload
from uuid import UUID

import msgspec

from domain.events import DomainEvent


class AggregateState(msgspec.Struct, frozen=True, kw_only=True):
    """The state every aggregate shares: its id and the version of its last event."""

    id: UUID
    version: int = 0
    deleted: bool = False

    # What the API calls this kind of aggregate ("opportunity", "quote"…).
    kind: ClassVar[str] = "aggregate"


S = TypeVar("S", bound=AggregateState)


class Event(DomainEvent, Generic[S], frozen=True, kw_only=True):
    """An event of one kind of aggregate (``Event[Opportunity]``): it knows how it changes
    that aggregate's state. The event that starts an aggregate takes ``S | None`` instead
    (None: nothing came before it)."""

    abstract: ClassVar[bool] = True

    def apply(self, state: S) -> S:
        """The state after this event."""
        raise NotImplementedError(f"{type(self).__name__} does not change any state")


@overload
def fold(state: S, events: Iterable[Event[S]]) -> S: ...


@overload
def fold(state: None, events: Iterable[Event[S]]) -> S | None: ...


def fold(state: AggregateState | None, events: Iterable[DomainEvent]) -> AggregateState | None:
    """Apply events of one aggregate in order (from None: its creation first).

    Typed per aggregate: ``fold(quote, quote_events)`` is a ``Quote``. Tests use it as
    ``given``; ``replay`` is the same for events whose aggregate is not known statically.
    """
    return replay(state, events)


def replay(state: AggregateState | None, events: Iterable[DomainEvent]) -> AggregateState | None:
    """``fold`` for any aggregate's events, as the event store and the unit of work hold
    them (the repository's projector function)."""
    # Every stored event is an ``Event`` of its aggregate (tests/unit/test_events.py).
    for event in cast("Iterable[Event[Any]]", events):
        state = event.apply(state)
        if event.originator_version:
            state = msgspec.structs.replace(state, version=event.originator_version)
        elif state is not None:
            # Events not yet stamped (tests, decisions) still advance the version.
            state = msgspec.structs.replace(state, version=state.version + 1)
    return state


def evolve(state: S, **changes: Any) -> S:
    return msgspec.structs.replace(state, **changes)


def shared_fields(source: msgspec.Struct, target: type[msgspec.Struct]) -> dict[str, Any]:
    """The fields of ``source`` that ``target`` has too (by name), with their values: what
    one struct hands on to another made to match it (an event to its state, terms to an
    event)."""
    return {name: getattr(source, name) for name in _shared_names(type(source), target)}


@cache
def _shared_names(source: type[msgspec.Struct], target: type[msgspec.Struct]) -> tuple[str, ...]:
    return tuple(name for name in source.__struct_fields__ if name in target.__struct_fields__)


def created(state: type[S], event: DomainEvent, **renamed: Any) -> S:
    """The state an aggregate's creation ``event`` starts it in: the event's aggregate id,
    every field of the event the state has too, and ``renamed``, the fields the state
    names otherwise."""
    return state(id=event.originator_id, **shared_fields(event, state), **renamed)
