"""Immutable aggregate state and the fold that rebuilds it from events."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar, TypeVar
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


def fold(state: Any, events: Iterable[DomainEvent]) -> Any:
    """Apply events in order; each event knows how it changes its aggregate's state.

    Used by the repository as its projector function and by tests as ``given``.
    """
    for event in events:
        state = event.apply(state)
        if event.originator_version:
            state = msgspec.structs.replace(state, version=event.originator_version)
        elif state is not None:
            # Events not yet stamped (tests, decisions) still advance the version.
            state = msgspec.structs.replace(state, version=state.version + 1)
    return state


def evolve(state: S, **changes: Any) -> S:
    return msgspec.structs.replace(state, **changes)
