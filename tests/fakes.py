"""In-memory adapters for tests that drive the real command handlers.

``InMemoryEventStore`` implements ``commands.ports.EventStore`` with the same
guarantees as the eventsourcing-backed store (``adapters.event_store``):

- one global log, positions 1, 2, 3… without gaps;
- ``save`` is atomic: it checks everything first (every (aggregate id,
  version) is free and each aggregate's new versions continue its stream with
  no gap; the idempotency key and every document id are free), then writes
  the events, the idempotency record and the documents together, or nothing;
- a refused save raises ``ConcurrentWrite``, as the real store does when the
  database's unique keys refuse the insert;
- every event is stored as its msgspec JSON round trip, so an event that would
  not survive the real store's encoding does not survive here either;
- data subjects get a data key with their first personal event, destroyed when they
  are erased, and an idempotency record's fingerprint is kept keyed by the keys of
  the subjects its save wrote to, compared as the real store does.

``FixedClock`` tells one instant (an ``adapters.clock.ManualClock`` never moved).
"""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from uuid import UUID

import msgspec

from adapters.clock import ManualClock
from adapters.personal_data import fingerprint_subjects, keyed_fingerprint, same_fingerprint
from commands.ports import (
    CONTRACTS_PROCESS,
    ConcurrentWrite,
    Document,
    IdempotencyRecord,
    PersonalDataChanges,
    ProcessTimer,
    TimerChanges,
    TimerKey,
)
from domain.aggregate import AggregateState, fold
from domain.contract import Timer
from domain.events import DomainEvent
from domain.personal_data import personal_fields_of


class FixedClock(ManualClock):
    """A clock that always tells the same aware instant: a ``ManualClock`` nobody moves."""


def _round_trip(event: DomainEvent) -> DomainEvent:
    """The event as the real store would give it back after encoding it."""
    decoded: DomainEvent = msgspec.json.decode(msgspec.json.encode(event), type=type(event))
    return decoded


class InMemoryEventStore:
    """The ``EventStore`` port in memory: atomic saves, version checks, one global log."""

    def __init__(self) -> None:
        self._log: list[DomainEvent] = []
        self._streams: dict[UUID, list[DomainEvent]] = {}
        self._positions: dict[tuple[UUID, int], int] = {}
        self._idempotency: dict[str, IdempotencyRecord] = {}
        self._documents: dict[UUID, Document] = {}
        self._secrets: dict[UUID, str] = {}
        self._timers: dict[tuple[UUID, str], Timer] = {}
        self._tracking: dict[str, int] = {}
        self._process_timers: dict[TimerKey, ProcessTimer] = {}
        self._contacts: dict[str, UUID] = {}
        self._contact_digests: dict[UUID, list[str]] = {}
        # Subjects whose key the real store would have destroyed: their personal fields
        # read null, as they would there.
        self._erased: set[UUID] = set()
        self._keys: dict[UUID, bytes] = {}  # data keys of the subjects not erased

    # --- reads ------------------------------------------------------------------------

    def load(self, aggregate_id: UUID) -> AggregateState | None:
        stream = self._streams.get(aggregate_id)
        if not stream:
            return None
        state: AggregateState = fold(None, self.history(aggregate_id))
        return state

    def history(self, aggregate_id: UUID) -> list[DomainEvent]:
        stream = self._streams.get(aggregate_id, [])
        if aggregate_id not in self._erased:
            return list(stream)
        return [
            msgspec.structs.replace(e, **dict.fromkeys(personal_fields_of(type(e)))) for e in stream
        ]

    def lead_with_contact(self, digests: Sequence[str]) -> UUID | None:
        for digest in digests:
            if digest in self._contacts:
                return self._contacts[digest]
        return None

    def contacts_with_digest(self, digest: str) -> list[UUID]:
        return sorted(c for c, digests in self._contact_digests.items() if digest in digests)

    def position_of(self, aggregate_id: UUID, version: int) -> int | None:
        return self._positions.get((aggregate_id, version))

    def idempotency_record(self, key: str) -> IdempotencyRecord | None:
        return self._idempotency.get(key)

    def same_request(self, stored: str, fingerprint: str) -> bool | None:
        return same_fingerprint(
            stored, fingerprint, self._subject_keys(fingerprint_subjects(stored))
        )

    def _subject_keys(self, subjects: Collection[UUID]) -> dict[UUID, bytes]:
        return {s: self._keys[s] for s in subjects if s in self._keys}

    def document(self, document_id: UUID) -> Document | None:
        return self._documents.get(document_id)

    def secret(self, owner_id: UUID) -> str | None:
        return self._secrets.get(owner_id)

    def max_position(self) -> int:
        return len(self._log)

    def due_timers(self, until: datetime, limit: int) -> list[Timer]:
        due = sorted(
            (t for t in self._timers.values() if t.due_at <= until),
            key=lambda t: (t.due_at, t.contract_id.hex, t.kind),
        )
        return due[:limit]

    def due_process_timers(self, process: str, until: datetime, limit: int) -> list[ProcessTimer]:
        due = sorted(
            (
                t
                for t in self._process_timers.values()
                if t.process == process and t.due_at <= until
            ),
            key=lambda t: (t.due_at, t.subject_id.hex, t.kind),
        )
        return due[:limit]

    def tracked_position(self, process: str = CONTRACTS_PROCESS) -> int:
        return self._tracking.get(process, 0)

    @property
    def log(self) -> tuple[DomainEvent, ...]:
        """Every event in log order; the event at index i has position i + 1."""
        return tuple(self._log)

    def aggregate_ids(self) -> list[UUID]:
        return list(self._streams)

    # --- the one write ----------------------------------------------------------------

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
        """Append atomically; return the log position of the last event.

        Raises ``ConcurrentWrite`` — having written nothing — when a version is
        taken or skipped, or when the idempotency key, a document id, the tracking
        position or a fired timer is taken.
        """
        if not events and tracking is None and not timers:
            raise ValueError("a save needs at least one event")
        self._check(events, idempotency, documents)
        if personal is not None and any(d in self._contacts for d in personal.claims):
            raise ConcurrentWrite("a contact digest is claimed")
        if tracking is not None and tracking <= self._tracking.get(process, 0):
            raise ConcurrentWrite(f"tracking position {tracking} is taken")
        for fired in timers.fired if timers else ():
            if fired not in self._timers:
                raise ConcurrentWrite(f"the {fired[1]} timer of {fired[0]} is gone")
        for key in timers.process_fired if timers else ():
            if key not in self._process_timers:
                raise ConcurrentWrite(f"the {key[0]} {key[2]} timer of {key[1]} is gone")
        if tracking is not None:
            self._tracking[process] = tracking
        if timers:
            for key in timers.process_fired + timers.cancelled:
                self._process_timers.pop(key, None)
            for scheduled in timers.scheduled:
                key = (scheduled.process, scheduled.subject_id, scheduled.kind)
                self._process_timers[key] = scheduled
            for fired in timers.fired:
                del self._timers[fired]
            for contract_id, replacing in timers.replaced.items():
                for key in [k for k in self._timers if k[0] == contract_id]:
                    del self._timers[key]
                for timer in replacing:
                    self._timers[(timer.contract_id, timer.kind)] = timer
        for event in events:
            if personal_fields_of(type(event)) and event.originator_id not in self._keys:
                self._keys[event.originator_id] = os.urandom(32)
        stored = [_round_trip(event) for event in events]
        for event in stored:
            self._log.append(event)
            self._streams.setdefault(event.originator_id, []).append(event)
            self._positions[(event.originator_id, event.originator_version)] = len(self._log)
        if idempotency is not None:
            erased = set(personal.erased) if personal else set()
            keys = self._subject_keys({e.originator_id for e in events} - erased)
            fingerprint = keyed_fingerprint(idempotency.fingerprint, keys)
            self._idempotency[idempotency.key] = msgspec.structs.replace(
                idempotency, fingerprint=fingerprint
            )
        for owner_id, secret in (secrets or {}).items():
            if secret is None:
                self._secrets.pop(owner_id, None)
            else:
                self._secrets[owner_id] = secret
        for doc in documents:
            self._documents[doc.id] = doc
        if personal is not None:
            self._contacts.update(personal.claims)
            self._contact_digests.update(personal.contact_digests)
            for subject in personal.erased:
                self._contact_digests.pop(subject, None)
                self._erased.add(subject)
                self._keys.pop(subject, None)
                for digest in [d for d, lead in self._contacts.items() if lead == subject]:
                    del self._contacts[digest]
        return len(self._log)

    def _check(
        self,
        events: Sequence[DomainEvent],
        idempotency: IdempotencyRecord | None,
        documents: Sequence[Document],
    ) -> None:
        next_version: dict[UUID, int] = {}
        for event in events:
            key = (event.originator_id, event.originator_version)
            if key in self._positions:
                raise ConcurrentWrite(f"version {key[1]} of {key[0]} is taken")
            expected = next_version.get(
                event.originator_id, len(self._streams.get(event.originator_id, ())) + 1
            )
            if event.originator_version != expected:
                raise ConcurrentWrite(
                    f"{event.originator_id} would get version {event.originator_version}, "
                    f"not the next one ({expected})"
                )
            next_version[event.originator_id] = expected + 1
        if idempotency is not None and idempotency.key in self._idempotency:
            raise ConcurrentWrite(f"idempotency key {idempotency.key!r} is taken")
        document_ids = [doc.id for doc in documents]
        if len(set(document_ids)) != len(document_ids) or any(
            doc_id in self._documents for doc_id in document_ids
        ):
            raise ConcurrentWrite("a document id is taken")
