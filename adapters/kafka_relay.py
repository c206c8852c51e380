"""The Kafka relay: every event of the log, in order, to ``crmledger.events``.

- Key: the aggregate id (one aggregate's events stay in one partition, in order).
- Value: the JSON envelope (``Envelope``: event id, type, aggregate id and version,
  position, recorded and effective times, schema, data); ``data`` is the
  event as stored, so personal data leaves only sealed (``adapters.personal_data``).
- Headers: ``type`` and ``event_id`` (a stable id per aggregate id and version,
  the same on every resend).
- At least once: a batch is sent with ``acks="all"`` on an idempotent producer;
  the relay's position (a tracking record beside the events) moves only after
  the broker acknowledged every message of the batch. A crash resends at most
  the unacknowledged batch; consumers dedupe on (aggregate_id, aggregate_version).
- A failed send (broker away, back-pressure) ends the loop; its supervisor
  (``adapters.supervision``) waits with capped backoff and sends again from the same
  position: no event is ever skipped.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

import msgspec
import structlog
from eventsourcing.persistence import Tracking

from adapters.event_store.log import EventLog
from adapters.event_store.store import SalesEventStore
from adapters.kafka_health import flush_patiently
from adapters.supervision import NoPulse, Pulse
from domain.events import event_id, parse_topic, payload
from readmodels.log import LogRow

log = structlog.get_logger("crmledger.relay")

RELAY_NAME = "kafka-relay"


class Envelope(msgspec.Struct, frozen=True, kw_only=True):
    event_id: UUID
    type: str
    aggregate_id: UUID
    aggregate_version: int
    position: int
    recorded_at: datetime
    effective_at: datetime | None
    # Who caused it (``by``), the request it came with, what caused it (see docs/design.md).
    actor: str | None = None
    correlation_id: str | None = None
    causation_id: str | None = None
    # The event's class_version: consumers upcast like the store does.
    schema: int
    data: dict[str, Any]


_encoder = msgspec.json.Encoder()


def envelope(events: EventLog, row: LogRow) -> Envelope:
    event = events.decode(row)  # as stored: personal fields null, ``sealed`` kept
    cls, _ = parse_topic(row.topic)
    aggregate_id = UUID(row.originator_id)
    return Envelope(
        event_id=event_id(aggregate_id, row.originator_version),
        type=cls.type_name,
        aggregate_id=aggregate_id,
        aggregate_version=row.originator_version,
        position=row.id,
        recorded_at=event.recorded_at,
        effective_at=event.effective_at,
        actor=event.by,
        correlation_id=event.request_id,
        causation_id=event.causation_id,
        schema=cls.class_version,
        data=payload(event),
    )


class Producer(Protocol):
    """The part of ``kafka.KafkaProducer`` the relay uses."""

    def send(
        self, topic: str, *, value: bytes, key: bytes, headers: list[tuple[str, bytes]]
    ) -> Any: ...

    def flush(self, timeout: float | None = None) -> None: ...

    def close(self, timeout: float | None = None) -> None: ...


class KafkaRelay:
    def __init__(
        self,
        store: SalesEventStore,
        producer: Callable[[], Producer],
        *,
        topic: str = "crmledger.events",
        batch: int = 500,
        send_timeout: float = 30.0,
        servers: str = "",
    ) -> None:
        self.store = store
        self.events = EventLog(store.app)
        self.make_producer = producer
        self.topic = topic
        self.batch = batch
        self.send_timeout = send_timeout
        self.servers = servers  # for what the logs say while the broker is silent
        self._producer: Producer | None = None

    def position(self) -> int:
        """The last log position the broker acknowledged (0: none)."""
        return self.store.recorder.max_tracking_id(RELAY_NAME) or 0

    def _record(self, position: int) -> None:
        self.store.recorder.insert_tracking(Tracking(RELAY_NAME, position))

    @property
    def producer(self) -> Producer:
        if self._producer is None:
            self._producer = self.make_producer()
        return self._producer

    def relay_once(self, pulse: Pulse | None = None) -> int:
        """Send the next batch and record its position once all of it is acknowledged;
        the number of events sent (0: nothing new). Raises when a send fails; while the
        broker is silent, says so to ``pulse`` every few seconds."""
        rows: Sequence[LogRow] = self.events.read(self.position(), self.batch)
        if not rows:
            return 0
        futures = [
            self.producer.send(
                self.topic,
                key=row.originator_id.encode(),
                value=_encoder.encode(message := envelope(self.events, row)),
                headers=[
                    ("type", message.type.encode()),
                    ("event_id", str(message.event_id).encode()),
                ],
            )
            for row in rows
        ]
        flush_patiently(self.producer, self.send_timeout, pulse or NoPulse(), self.servers)
        for future in futures:
            future.get(timeout=self.send_timeout)  # raises the broker's error, if any
        self._record(rows[-1].id)
        return len(rows)

    def run(
        self, stop: threading.Event, *, poll_interval: float = 0.2, pulse: Pulse | None = None
    ) -> None:
        """Follow the log until ``stop``. A failed send (Kafka away) or read (PostgreSQL
        away) propagates: the supervisor closes this relay (its producer), waits, and a new
        one sends again from the recorded position; nothing is skipped."""
        pulse = pulse or NoPulse()
        while not stop.is_set():
            sent = self.relay_once(pulse)
            pulse()
            if sent:
                log.info("relay_sent", events=sent, position=self.position())
            else:
                stop.wait(poll_interval)

    def close(self) -> None:
        if self._producer is not None:
            try:
                self._producer.close(timeout=5)
            except Exception as error:  # closing a producer to a dead broker may fail too
                log.debug("relay_producer_close_failed", error=str(error))
            self._producer = None


def kafka_producer(bootstrap_servers: str) -> Callable[[], Producer]:
    def make() -> Producer:
        from kafka import KafkaProducer  # noqa: PLC0415 - only the relay needs kafka

        producer: Producer = KafkaProducer(
            bootstrap_servers=bootstrap_servers,
            acks="all",
            enable_idempotence=True,
            linger_ms=5,
            retries=5,
        )
        return producer

    return make


def ensure_topic(bootstrap_servers: str, topic: str, partitions: int) -> None:
    """Create the topic with ``partitions`` partitions unless it exists."""
    from kafka.admin import KafkaAdminClient, NewTopic  # noqa: PLC0415
    from kafka.errors import TopicAlreadyExistsError  # noqa: PLC0415

    admin = KafkaAdminClient(bootstrap_servers=bootstrap_servers)
    try:
        if topic not in admin.list_topics():
            admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1)])
    except TopicAlreadyExistsError:
        pass
    finally:
        admin.close()
