"""What the command layer needs from persistence, implemented in ``adapters.event_store``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol
from uuid import UUID

import msgspec

from domain.aggregate import AggregateState
from domain.contract import Timer
from domain.events import DomainEvent


class Clock(Protocol):
    def now(self) -> datetime: ...


class ConcurrentWrite(Exception):
    """Another writer saved first: an aggregate version or an idempotency key is taken."""


class IdempotencyRecord(msgspec.Struct, frozen=True, kw_only=True):
    """The first answer to a keyed command, stored in the same transaction as its events.

    ``fingerprint`` is the request's, as the caller computed it; the store keeps it keyed
    by the data keys of the data subjects the command wrote to (``same_request`` compares).
    """

    key: str
    fingerprint: str
    status_code: int
    body: bytes
    # The last event the command wrote; its log position completes the answer.
    aggregate_id: UUID
    aggregate_version: int
    created_at: datetime


class Document(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    quote_id: UUID
    media_type: str
    content: bytes
    sha256: str
    created_at: datetime


# The process managers' own log names (their tracking records) and timer owners.
CONTRACTS_PROCESS = "contracts"


class ProcessTimer(msgspec.Struct, frozen=True, kw_only=True):
    """A durable timer of a process manager other than the contracts one: ``process`` owns
    it; at most one per (process, subject, kind); it fires once, at ``due_at``."""

    process: str
    subject_id: UUID
    kind: str
    due_at: datetime


TimerKey = tuple[str, UUID, str]  # (process, subject id, kind)


class TimerChanges(msgspec.Struct, kw_only=True):
    """What a save does to the timers tables, in the same transaction as its events.

    ``fired``: contract timers this save fires; each must still be there (and, on
    PostgreSQL, not locked by another worker firing it) or the whole save fails as a lost
    race. ``replaced``: the complete set of timers each listed contract has after the save.
    ``process_fired``: process timers fired, under the same rule as ``fired``;
    ``cancelled``: process timers dropped if there; ``scheduled``: process timers set,
    replacing one with the same key (applied in that order).
    """

    fired: list[tuple[UUID, str]] = msgspec.field(default_factory=list)
    replaced: dict[UUID, list[Timer]] = msgspec.field(default_factory=dict)
    process_fired: list[TimerKey] = msgspec.field(default_factory=list)
    cancelled: list[TimerKey] = msgspec.field(default_factory=list)
    scheduled: list[ProcessTimer] = msgspec.field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(
            self.fired or self.replaced or self.process_fired or self.cancelled or self.scheduled
        )


class PersonalDataChanges(msgspec.Struct, kw_only=True):
    """What a save does to the personal-data tables, in the same transaction as its events.

    ``claims``: contact digests (``domain.personal_data.contact_digests``) now naming
    their first lead; a digest claimed meanwhile fails the save as a lost race.
    ``contact_digests``: the digests of each contact's e-mail and phone as they are now,
    replacing those it had (many contacts may share one: the index finds them all).
    ``erased``: subjects whose data key and contact digests are destroyed.
    """

    claims: dict[str, UUID] = msgspec.field(default_factory=dict)
    contact_digests: dict[UUID, list[str]] = msgspec.field(default_factory=dict)
    erased: list[UUID] = msgspec.field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.claims or self.contact_digests or self.erased)


class EventStore(Protocol):
    def load(self, aggregate_id: UUID) -> AggregateState | None:
        """The current state, or None when no aggregate has that id."""

    def save(
        self,
        events: Sequence[DomainEvent],
        *,
        idempotency: IdempotencyRecord | None = None,
        documents: Sequence[Document] = (),
        tracking: int | None = None,
        process: str = CONTRACTS_PROCESS,
        timers: TimerChanges | None = None,
        personal: PersonalDataChanges | None = None,
        secrets: Mapping[UUID, str | None] | None = None,
    ) -> int:
        """Append atomically; return the log position of the last event (with no events,
        the log's last position).

        ``tracking``: the log position the process manager ``process`` has processed,
        recorded in the same transaction (it must be beyond the one recorded before).
        Raises ``ConcurrentWrite`` when a version, the idempotency key, the tracking
        position or a fired timer is taken. ``secrets``: a webhook's signing secret kept
        beside the log, never in it (None deletes it).
        """

    def idempotency_record(self, key: str) -> IdempotencyRecord | None: ...

    def same_request(self, stored: str, fingerprint: str) -> bool | None:
        """Whether a request's ``fingerprint`` is the one a record ``stored``; None when it
        cannot be told: the stored one is keyed by a data key that is gone (erased)."""

    def position_of(self, aggregate_id: UUID, version: int) -> int | None: ...

    def history(self, aggregate_id: UUID) -> list[DomainEvent]: ...

    def document(self, document_id: UUID) -> Document | None: ...

    def secret(self, owner_id: UUID) -> str | None:
        """The secret kept for ``owner_id`` (a webhook), if any."""

    def max_position(self) -> int: ...

    def due_timers(self, until: datetime, limit: int) -> list[Timer]:
        """Timers due by ``until``, earliest first."""

    def due_process_timers(self, process: str, until: datetime, limit: int) -> list[ProcessTimer]:
        """``process``'s timers due by ``until``, earliest first."""

    def tracked_position(self, process: str = CONTRACTS_PROCESS) -> int:
        """The log position the process manager ``process`` has processed (0: none)."""

    def lead_with_contact(self, digests: Sequence[str]) -> UUID | None:
        """The first lead with one of these contact digests (tried in order), if any."""

    def contacts_with_digest(self, digest: str) -> list[UUID]:
        """The contacts whose e-mail or phone has this digest (none once erased)."""
