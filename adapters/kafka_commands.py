"""Commands from Kafka: ``crmledger.commands`` in, ``crmledger.command-results`` out.

A message's value is ``{"command_id", "type", "body", "token"}``: ``type`` names a command
(``CreateOpportunity``, ``IntakeLead``… — the classes in ``commands/``) and
``body`` its fields as JSON. It runs through the same command bus and handlers
as HTTP, with the command id as its idempotency key, so a redelivered command
has no second effect and gets the same result again. A creation command may
leave its new id out: it is derived from the command id, the same on every
delivery. ``token`` is the sender's bearer token, checked as HTTP checks one (an API
token of a service user, or an OIDC JWT; ``adapters.identity``): the command runs as that
user, its events say so, and without a valid token it is refused (401) and writes
nothing. The topic keeps the token as long as it keeps the message: give the sending
service a short-lived token and only it (and this consumer) access to the topic.

The result, keyed by command id: ``{"command_id", "status": "ok", "status_code",
"answer": {id, version, position, …}}`` or ``{"command_id", "status": "error",
"status_code", "error", "detail"}`` (the HTTP status it would have had). The
consumer commits its offset only after the result was acknowledged: at least
once in, at least once out, one effect.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from typing import Any
from uuid import UUID, uuid5

import msgspec
import structlog

from adapters.identity import Identity, Unauthenticated
from adapters.kafka_health import flush_patiently
from adapters.supervision import NoPulse, Pulse
from commands.authorization import ensure_may_run
from commands.bus import CommandBus, Handlers
from commands.refusals import refusal_of
from commands.unit_of_work import Actor
from domain.errors import DomainError

log = structlog.get_logger("crmledger.kafka-commands")

COMMANDS_TOPIC = "crmledger.commands"
RESULTS_TOPIC = "crmledger.command-results"
_ID_NAMESPACE = UUID("5b0e2a8c-8f0d-4c3e-9b61-0d7f3c2a9e44")


class CommandMessage(msgspec.Struct, frozen=True, kw_only=True):
    command_id: str
    type: str
    body: dict[str, Any] = {}
    token: str | None = None  # the sender's bearer token


class CommandResult(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    command_id: str
    status: str
    status_code: int
    answer: dict[str, Any] | None = None
    error: str | None = None
    detail: str | None = None
    existing_id: str | None = None  # already_exists: the record that exists


def command_types(handlers: Handlers) -> dict[str, type[Any]]:
    """The commands a message may name: those the bus has a handler for, by class name."""
    return {cls.__name__: cls for cls in handlers}


def _command(message: CommandMessage, handlers: Handlers) -> Any:
    cls = command_types(handlers).get(message.type)
    if cls is None:
        raise LookupError(f"there is no command {message.type!r}.")
    body = dict(message.body)
    fields = msgspec.structs.fields(cls)
    first = fields[0] if fields else None
    if first is not None and first.type is UUID and first.name not in body:
        # A creation's new id, the same on every delivery of this command.
        body[first.name] = str(uuid5(_ID_NAMESPACE, message.command_id))
    return msgspec.convert(body, cls)


# Checks a transport makes before a command runs (``adapters.webhooks.addresses.screen``).
Screen = Callable[[object], None]


def _nothing_to_screen(command: object) -> None:
    return None


def run_command(
    bus: CommandBus, identity: Identity, raw: bytes, *, screen: Screen = _nothing_to_screen
) -> CommandResult:
    """One message: its result, success or refusal (never raises for bad input)."""
    try:
        message = msgspec.json.decode(raw, type=CommandMessage)
    except msgspec.DecodeError as error:
        return CommandResult(
            command_id="", status="error", status_code=400, error="malformed_command",
            detail=f"the message is not a command envelope: {error}.",
        )  # fmt: skip
    try:
        if message.token is None:
            raise Unauthenticated("a command needs the sender's token (the message's token).")
        user = identity.authenticate(message.token)
    except Unauthenticated as refused:
        return _error(message, 401, "unauthenticated", refused.detail)
    actor = Actor(
        by=user.login,
        request_id=message.command_id,
        causation_id=message.command_id,
        principal=identity.principal(user),
    )
    try:
        command = _command(message, bus.handlers)
        # The caller's right first (a 403 before a 422), then what the domain cannot check.
        if actor.principal is not None:
            ensure_may_run(actor.principal, command)
        screen(command)
        fingerprint = hashlib.sha256(
            message.type.encode() + b"\n" + msgspec.json.encode(message.body, order="sorted")
        ).hexdigest()
        outcome = bus.execute(
            command,
            idempotency_key=f"kafka:{message.command_id}",
            fingerprint=fingerprint,
            actor=actor,
        )
    except LookupError as error:
        return _error(message, 404, "unknown_command", str(error))
    except msgspec.ValidationError as error:
        return _error(message, 422, "invalid_input", f"{error}.")
    except DomainError as error:
        refusal = refusal_of(error)
        return _error(message, refusal.status, refusal.error, refusal.detail, refusal.existing_id)
    return CommandResult(
        command_id=message.command_id,
        status="ok",
        status_code=201 if outcome.created else 200,
        answer=outcome.body(),
    )


def _error(
    message: CommandMessage, status: int, code: str, detail: str, existing_id: str | None = None
) -> CommandResult:
    return CommandResult(
        command_id=message.command_id, status="error", status_code=status, error=code,
        detail=detail, existing_id=existing_id,
    )  # fmt: skip


class CommandConsumer:
    """Consumes commands in a consumer group; results go out before offsets are committed."""

    def __init__(
        self,
        bus: CommandBus,
        identity: Identity,
        bootstrap_servers: str,
        *,
        group: str,
        max_poll_interval_ms: int = 300_000,
        screen: Screen = _nothing_to_screen,
    ) -> None:
        from kafka import KafkaConsumer, KafkaProducer  # noqa: PLC0415

        self.bus = bus
        self.identity = identity
        self.screen = screen
        self.consumer = KafkaConsumer(
            COMMANDS_TOPIC,
            bootstrap_servers=bootstrap_servers,
            group_id=group,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_interval_ms=max_poll_interval_ms,
            session_timeout_ms=6_000,
            heartbeat_interval_ms=1_000,
        )
        self.producer = KafkaProducer(
            bootstrap_servers=bootstrap_servers, acks="all", enable_idempotence=True
        )
        self.servers = bootstrap_servers
        self.pulse: Pulse = NoPulse()

    def poll_once(self, timeout_ms: int = 500) -> int:
        batches = self.consumer.poll(timeout_ms=timeout_ms)
        futures = []
        for records in batches.values():
            for record in records:
                result = run_command(self.bus, self.identity, record.value, screen=self.screen)
                log.info(
                    "kafka_command_done",
                    command_id=result.command_id,
                    status=result.status,
                    status_code=result.status_code,
                )
                futures.append(
                    self.producer.send(
                        RESULTS_TOPIC,
                        key=result.command_id.encode(),
                        value=msgspec.json.encode(result),
                    )
                )
        if not futures:
            return 0
        flush_patiently(self.producer, 30, self.pulse, self.servers)
        for future in futures:
            future.get(timeout=30)
        self.consumer.commit()
        return len(futures)

    def run(self, stop: threading.Event, pulse: Pulse | None = None) -> None:
        """Consume until ``stop``. A command that cannot be saved (PostgreSQL away) or a
        result that cannot be sent (Kafka away) propagates before the offset is committed:
        the supervisor closes this consumer, waits, and a new one gets the same commands
        again, whose idempotency keys give each one effect and the same result."""
        self.pulse = pulse or NoPulse()
        while not stop.is_set():
            # Progress only when commands came: an empty poll may be a broker away (the
            # supervisor's watchdog tells which).
            if self.poll_once():
                self.pulse()

    def close(self) -> None:
        try:
            self.consumer.close()
        finally:
            self.producer.close(timeout=5)
        self.producer.close(timeout=5)
