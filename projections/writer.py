"""Where the projector's change sets go: written in order, each in one transaction."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from projections.changes import ChangeSet


class ChangeStore(Protocol):
    def apply(self, changes: ChangeSet) -> None:
        """Write one change set and its tracking position in one transaction."""


class ChangeWriter(Protocol):
    def submit(self, changes: ChangeSet) -> None:
        """Write ``changes`` (or hand them on to be written; ``drain`` waits for that)."""

    def drain(self) -> None:
        """Return once everything submitted is written; raise if a write failed."""


class DirectWriter:
    """Writes each change set as it is submitted, in this thread. (A rebuild of a large
    log writes from a second process instead: ``adapters.readmodel_writer``.)"""

    def __init__(self, store: ChangeStore) -> None:
        self.store = store

    def submit(self, changes: ChangeSet) -> None:
        self.store.apply(changes)

    def drain(self) -> None:
        return None
