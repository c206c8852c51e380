"""The command layer's ``EventStore`` port on the eventsourcing application."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec
import psycopg
from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError, PersistenceError, Tracking

from adapters.event_store.access_log import AccessEntry
from adapters.event_store.application import (
    SalesLog,
    SalesRecorder,
    sales_env,
    tracking_name,
)
from adapters.event_store.postgres import (
    PostgresSalesRecorder,
    ensure_postgres_schema,
    one_setup_at_a_time,
)
from adapters.event_store.sqlite import SQLiteSalesRecorder
from adapters.event_store.webhook_tables import OutboxRow
from adapters.outages import StoreUnavailable, one_line, outage_of
from adapters.personal_data import (
    fingerprint_subjects,
    keyed_fingerprint,
    same_fingerprint,
)
from adapters.settings import Settings
from commands.ports import (
    CONTRACTS_PROCESS,
    ConcurrentWrite,
    Document,
    IdempotencyRecord,
    PersonalDataChanges,
    ProcessTimer,
    TimerChanges,
)
from domain.aggregate import AggregateState, replay
from domain.contract import Timer
from domain.events import DomainEvent


class SalesEventStore:
    """The command layer's ``EventStore`` port on an eventsourcing application."""

    def __init__(self, app: SalesLog) -> None:
        self.app = app
        recorder = app.recorder
        assert isinstance(recorder, SQLiteSalesRecorder | PostgresSalesRecorder)
        self.recorder: SalesRecorder = recorder

    @classmethod
    def open(cls, settings: Settings) -> SalesEventStore:
        if settings.uses_postgres:
            with one_setup_at_a_time(settings):
                ensure_postgres_schema(settings)
                return cls(SalesLog(env=sales_env(settings)))
        return cls(SalesLog(env=sales_env(settings)))

    def close(self) -> None:
        self.app.close()

    def load(self, aggregate_id: UUID) -> AggregateState | None:
        try:
            with self.app.vault.reading():
                state: AggregateState = self.app.repository.get(aggregate_id, projector_func=replay)
        except AggregateNotFoundError:
            return None
        cache = self.app.repository.cache
        if cache is not None:
            # The library fast-forwards mutable aggregates in place; ours are immutable,
            # so keep the fast-forwarded state or every load re-reads all newer events.
            cache.put(aggregate_id, state)
        return state

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
        outbox: Sequence[OutboxRow] = (),
    ) -> int:
        """The port's save; ``outbox``: webhook deliveries the webhooks process writes with
        its tracking position (``adapters.webhooks.outbox``)."""
        kwargs: dict[str, Any] = {"documents": documents}
        if secrets:
            kwargs["secrets"] = secrets
        if outbox:
            kwargs["outbox"] = outbox
        if timers:
            kwargs["timers"] = timers
        if personal:
            kwargs["personal"] = personal
            erased_in: list[str] = []
            kwargs["erased_in"] = erased_in
        try:
            with self.app.vault.sealing(events) as new_keys:
                if new_keys:
                    kwargs["data_keys"] = new_keys
                if idempotency is not None:
                    kwargs["idempotency"] = self._keyed(idempotency, events, personal)
                if tracking is None:
                    recordings = self.app.save(*events, **kwargs)
                else:
                    # The library's process-application path: the tracking record is written
                    # by the process recorder in the same transaction as the events.
                    recordings = self.app.events.put(
                        list(events), tracking=Tracking(tracking_name(process), tracking), **kwargs
                    )
        except IntegrityError as error:
            raise ConcurrentWrite(str(error)) from error
        if personal and personal.erased:
            self.recorder.after_erasure(erased_in)
        if not recordings:
            return self.max_position()
        return max(r.notification.id for r in recordings)

    def _keyed(
        self,
        record: IdempotencyRecord,
        events: Sequence[DomainEvent],
        personal: PersonalDataChanges | None,
    ) -> IdempotencyRecord:
        """The record with its fingerprint keyed by the data keys of every data subject the
        command wrote to (a lead: one with a key, or getting one in this save), whether or
        not its events carry personal fields: the request may repeat the subject's e-mail
        all the same. A subject erased by this very save keys nothing (its key goes)."""
        erased = set(personal.erased) if personal else set()
        subjects = {e.originator_id for e in events} - erased
        keys = self.app.vault.subject_keys(subjects)
        if not keys:
            return record
        return msgspec.structs.replace(
            record, fingerprint=keyed_fingerprint(record.fingerprint, keys)
        )

    def idempotency_record(self, key: str) -> IdempotencyRecord | None:
        return self.recorder.idempotency_record(key)

    def same_request(self, stored: str, fingerprint: str) -> bool | None:
        subjects = fingerprint_subjects(stored)
        keys = self.app.vault.subject_keys(subjects) if subjects else {}
        return same_fingerprint(stored, fingerprint, keys)

    def position_of(self, aggregate_id: UUID, version: int) -> int | None:
        return self.recorder.position_of(aggregate_id, version)

    def version_of(self, aggregate_id: UUID) -> int:
        """The aggregate's last version (0: none), without loading it."""
        return self.recorder.version_of(aggregate_id)

    def history(self, aggregate_id: UUID) -> list[DomainEvent]:
        with self.app.vault.reading():
            return [e for e in self.app.events.get(aggregate_id) if isinstance(e, DomainEvent)]

    def lead_with_contact(self, digests: Sequence[str]) -> UUID | None:
        return self.recorder.lead_with_contact(digests)

    def contacts_with_digest(self, digest: str) -> list[UUID]:
        return self.recorder.contacts_with_digest(digest)

    def open_sealed(
        self, sealed: Collection[tuple[UUID, str, type[DomainEvent]]]
    ) -> list[dict[str, Any] | None]:
        """Personal fields from sealed copies (read-model rows); None where erased."""
        return self.app.vault.open_values(sealed)

    def document(self, document_id: UUID) -> Document | None:
        return self.recorder.document(document_id)

    def secret(self, owner_id: UUID) -> str | None:
        return self.recorder.secret(owner_id)

    def record_accesses(self, entries: Sequence[AccessEntry]) -> None:
        """Append ``entries`` to the access log, all or none. Whatever keeps them from being
        written is an outage for the caller (``StoreUnavailable``, answered 503): the data
        they are about must not be shown unlogged."""
        try:
            self.recorder.append_accesses(entries)
        except (PersistenceError, sqlite3.Error, psycopg.Error) as error:
            if outage_of(error) is not None:
                raise
            raise StoreUnavailable(
                "the access log", f"the access log refused an entry: {one_line(error)}", 1
            ) from error

    def accesses(self, record_id: UUID, after: int, limit: int) -> list[AccessEntry]:
        """The access log's entries of ``record_id`` after sequence ``after``, oldest first."""
        return self.recorder.accesses(record_id, after, limit)

    def max_position(self) -> int:
        return self.recorder.max_notification_id() or 0

    def due_timers(self, until: datetime, limit: int) -> list[Timer]:
        return self.recorder.due_timers(until, limit)

    def due_process_timers(self, process: str, until: datetime, limit: int) -> list[ProcessTimer]:
        return self.recorder.due_process_timers(process, until, limit)

    def tracked_position(self, process: str = CONTRACTS_PROCESS) -> int:
        return self.recorder.max_tracking_id(tracking_name(process)) or 0

    def __enter__(self) -> SalesEventStore:
        return self

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(Exception):
            self.close()
