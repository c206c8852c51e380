"""What projections read: the event store's notification log, in batches."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Protocol
from uuid import UUID

from domain.events import DomainEvent


class LoggedEvent(Protocol):
    """A stored event at its log position (eventsourcing's ``Notification``)."""

    @property
    def id(self) -> int: ...

    @property
    def topic(self) -> str: ...

    @property
    def originator_id(self) -> UUID | str: ...

    @property
    def originator_version(self) -> int: ...


class NotificationLog(Protocol):
    def read(
        self, after: int, limit: int, *, up_to: int | None = None, topics: Collection[str] = ()
    ) -> Sequence[LoggedEvent]:
        """Events after ``after`` (and up to ``up_to``) in log order, at most ``limit``."""

    def decode(self, logged: LoggedEvent) -> DomainEvent: ...

    def last_position(self) -> int: ...
