"""Runs a command through its handler: retries, If-Match and idempotency keys.

- ``expected_version``: the addressed aggregate must be at that version
  (HTTP ``If-Match``); otherwise ``VersionConflict``.
- Without it, a save that loses a race is retried from a fresh load.
- ``idempotency_key``: the first answer is stored in the same transaction as
  the command's events. A repeat with the same fingerprint returns that answer
  and writes nothing; another fingerprint is ``IdempotencyKeyReused``.
  Refused commands write nothing, so their keys stay free. The store keeps the
  fingerprint of a command on a data subject keyed by the subject's data key;
  once the subject is erased it cannot be compared, and a repeat gets the stored
  answer (ids only), writing nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar
from uuid import UUID, uuid4

import msgspec
import structlog

from commands.errors import Contention, IdempotencyKeyReused
from commands.ports import Clock, ConcurrentWrite, EventStore, IdempotencyRecord
from commands.unit_of_work import Actor, CommandContext, UnitOfWork
from domain.access import Principal
from domain.aggregate import AggregateState
from domain.errors import DomainError
from domain.events import DomainEvent

log = structlog.get_logger("crmledger.commands")


class Answer(msgspec.Struct, frozen=True, kw_only=True):
    """What a handler tells its caller: the aggregate it made or changed, and extras."""

    id: UUID
    created: bool = False
    extra: dict[str, Any] = {}


class Outcome(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    version: int
    position: int
    created: bool = False
    extra: dict[str, Any] = {}
    replayed: bool = False

    def body(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "version": self.version,
            "position": self.position,
            **self.extra,
        }


class _StoredAnswer(msgspec.Struct, frozen=True):
    id: UUID
    version: int
    created: bool
    extra: dict[str, Any]


C = TypeVar("C")
# A handler takes the unit of work and its command, decides, records, and answers.
Handler = Callable[[UnitOfWork, C], Answer]
# Refuses a command its principal may not run (``commands.authorization.authorize``).
Authorize = Callable[[UnitOfWork, Principal, Any], None]
# Command type → its handler. Each commands module has one (``HANDLERS``);
# ``commands.handlers.all_handlers`` merges them for the bus.
Handlers = Mapping[type[Any], Handler[Any]]
S = TypeVar("S", bound=AggregateState)


def change(
    uow: UnitOfWork,
    kind: type[S],
    aggregate_id: UUID,
    decide: Callable[[S], Sequence[DomainEvent]],
) -> Answer:
    """What most handlers do: load the ``kind`` aggregate (NotFound when missing or
    deleted), record the events ``decide`` makes of it, and answer its id."""
    state = uow.get(kind, aggregate_id)
    uow.record(state.id, decide(state))
    return Answer(id=state.id)


class CommandBus:
    def __init__(
        self,
        store: EventStore,
        clock: Clock,
        *,
        handlers: Handlers,
        reporting_currency: str,
        phone_region: str = "DE",
        retries: int = 5,
        actor: Actor | None = None,
        authorize: Authorize | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.handlers = handlers
        self.reporting_currency = reporting_currency
        self.phone_region = phone_region
        self.retries = retries
        # Who runs the commands that do not say (the local operator, by default).
        self.actor = actor or Actor(by="system")
        # Decides whether a principal may run a command (``commands.authorization``).
        self.authorize = authorize

    def execute(
        self,
        command: object,
        *,
        expected_version: tuple[UUID, int] | None = None,
        idempotency_key: str | None = None,
        fingerprint: str = "",
        actor: Actor | None = None,
    ) -> Outcome:
        """Run ``command`` as ``actor`` (default: the bus's); its events say who, the
        request and the cause (the command's own id when the actor names none)."""
        actor = identified(actor or self.actor)
        handler = self.handlers.get(type(command))
        if handler is None:
            raise TypeError(f"no handler for {type(command).__name__}")
        if idempotency_key is not None:
            replayed = self._replay(idempotency_key, fingerprint)
            if replayed is not None:
                return replayed
        for _attempt in range(self.retries):
            context = CommandContext(
                now=self.clock.now(),
                reporting_currency=self.reporting_currency,
                effective_at=getattr(command, "effective_at", None),
                phone_region=self.phone_region,
                actor=actor,
            )
            uow = UnitOfWork(self.store, context, expected_version=expected_version)
            try:
                if actor.principal is not None:
                    if self.authorize is None:
                        raise TypeError("a bus that runs users' commands needs authorize")
                    self.authorize(uow, actor.principal, command)
                answer = handler(uow, command)
            except DomainError:
                # A twin with the same key may have committed between our key check and
                # our load (the domain then refuses: "already has that item"); its answer
                # is ours.
                if idempotency_key is not None:
                    replayed = self._replay(idempotency_key, fingerprint)
                    if replayed is not None:
                        return replayed
                raise
            if not uow.must_save:
                version = uow.version_of(answer.id)
                position = self.store.position_of(answer.id, version) or 0
                return Outcome(id=answer.id, version=version, position=position, extra=answer.extra)
            events = uow.stamped_events()
            version = _version_after(answer.id, events, uow)
            record = None
            if idempotency_key is not None and events:
                record = IdempotencyRecord(
                    key=idempotency_key,
                    fingerprint=fingerprint,
                    status_code=201 if answer.created else 200,
                    body=msgspec.json.encode(
                        _StoredAnswer(answer.id, version, answer.created, answer.extra)
                    ),
                    aggregate_id=events[-1].originator_id,
                    aggregate_version=events[-1].originator_version,
                    created_at=context.now,
                )
            try:
                # A process manager's tracking and timers, only when it has them.
                extra: dict[str, Any] = {}
                if uow.tracking is not None:
                    extra["tracking"] = uow.tracking
                    extra["process"] = uow.tracking_process
                if uow.timers:
                    extra["timers"] = uow.timers
                if uow.personal:
                    extra["personal"] = uow.personal
                if uow.secrets:
                    extra["secrets"] = uow.secrets
                position = self.store.save(
                    events, idempotency=record, documents=uow.documents, **extra
                )
            except ConcurrentWrite:
                if idempotency_key is not None:
                    replayed = self._replay(idempotency_key, fingerprint)
                    if replayed is not None:
                        return replayed
                log.info("command_retried", command=type(command).__name__)
                continue
            log.info(
                "command_executed",
                command=type(command).__name__,
                aggregate_id=str(answer.id),
                events=len(events),
                position=position,
            )
            return Outcome(
                id=answer.id,
                version=version,
                position=position,
                created=answer.created,
                extra=answer.extra,
            )
        raise Contention(
            f"{type(command).__name__} lost {self.retries} races with concurrent writers; "
            "try again."
        )

    def _replay(self, key: str, fingerprint: str) -> Outcome | None:
        record = self.store.idempotency_record(key)
        if record is None:
            return None
        # None: keyed by an erased subject's key. Nothing can be compared, and either way
        # nothing is written: the stored answer (ids only) is all a repeat gets.
        if self.store.same_request(record.fingerprint, fingerprint) is False:
            raise IdempotencyKeyReused(
                "this Idempotency-Key was first used with another request; use a new key."
            )
        stored = msgspec.json.decode(record.body, type=_StoredAnswer)
        position = self.store.position_of(record.aggregate_id, record.aggregate_version) or 0
        return Outcome(
            id=stored.id,
            version=stored.version,
            position=position,
            created=stored.created,
            extra=stored.extra,
            replayed=True,
        )


def identified(actor: Actor) -> Actor:
    """``actor`` with a request id and a cause: a new id for the command when not given
    (one command run without a request of its own is its own request)."""
    if actor.request_id is not None and actor.causation_id is not None:
        return actor
    command_id = str(uuid4())
    return msgspec.structs.replace(
        actor,
        request_id=actor.request_id or command_id,
        causation_id=actor.causation_id or command_id,
    )


def _version_after(aggregate_id: UUID, events: list[DomainEvent], uow: UnitOfWork) -> int:
    versions = [e.originator_version for e in events if e.originator_id == aggregate_id]
    return max(versions) if versions else uow.version_of(aggregate_id)
