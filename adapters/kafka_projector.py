"""The read model from Kafka: projectors in one consumer group write the sales tables.

Each member consumes some partitions of ``crmledger.events`` and applies their events,
with the in-process projector's ``apply``, to a view loaded from the tables. Every row
belongs to one aggregate (a deal and its stage visits, a pipeline's stages, the exchange
rates, a target, a contract, a lead, a campaign, a baseline, an event's audit row), one
aggregate's events stay in one partition, and no handler reads another aggregate's row.
So a member writes only the rows of its own partitions' aggregates, and the members' rows
together are the in-process projector's rows (``docs/design.md``, "Kafka").

Exactly once, though Kafka delivers at least once:

- the rows one poll changed, each partition's next offset and the last version applied
  per aggregate are written in one PostgreSQL transaction;
- an event whose version is not above its aggregate's last applied one is a duplicate
  (the relay resends after a crash): skipped and counted;
- an assignment reads the stored offsets and seeks to them, then loads the view;
- a write moves a partition's offset only from the value this member last read or wrote.
  A member that lost a partition in a rebalance it has not seen yet (a long pause, a cut
  network) finds another member's offset there: it writes nothing and reloads ("fenced").

The tables live in their own schema, beside the in-process projector's. Current-state
queries and charts read them like those (the slices' loading and the same chart functions);
``as_of`` needs the in-process projector's checkpoints, which a member that sees only
some aggregates cannot take.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol

import msgspec
import structlog
from psycopg.sql import SQL

from adapters.event_store.codec import event_from_data
from adapters.event_store.postgres import ensure_postgres_schema
from adapters.kafka_relay import Envelope
from adapters.readmodel_store import open_store
from adapters.readmodel_store.postgres import PostgresReadModelStore
from adapters.settings import Settings
from adapters.supervision import NoPulse, Pulse
from domain.events import event_class, topic_of
from projections.projection import Projection
from projections.runner import stored_progress
from readmodels import SLICES
from readmodels.bookkeeping import DeadLetter, dead_letters_write
from readmodels.slice import Write, table

log = structlog.get_logger("crmledger.kafka-projector")

OFFSETS = table("kafka_offsets")
VERSIONS = table("kafka_aggregate_versions")
REJECTED = table("kafka_rejected_messages")

_CREATE = (
    f"CREATE TABLE IF NOT EXISTS {OFFSETS} (topic text NOT NULL, kafka_partition integer "
    "NOT NULL, next_offset bigint NOT NULL, PRIMARY KEY (topic, kafka_partition))",
    f"CREATE TABLE IF NOT EXISTS {VERSIONS} (aggregate_id uuid PRIMARY KEY, "
    "kafka_partition integer NOT NULL, aggregate_version bigint NOT NULL)",
    f"CREATE INDEX IF NOT EXISTS {VERSIONS}_partition_idx ON {VERSIONS} (kafka_partition)",
    # Messages that are not an event envelope at all (a dead letter needs an aggregate id).
    f"CREATE TABLE IF NOT EXISTS {REJECTED} (topic text NOT NULL, kafka_partition integer "
    "NOT NULL, kafka_offset bigint NOT NULL, error text NOT NULL, "
    "PRIMARY KEY (topic, kafka_partition, kafka_offset))",
)


class Fenced(Exception):
    """Another member moved a partition's offset on: this member's view is out of date."""


class Rejected(NamedTuple):
    partition: int
    offset: int
    error: str


@dataclass
class Poll:
    """What one poll changed, written in one transaction."""

    # partition -> (the offset this member expects stored, or None: none yet; the next one)
    offsets: dict[int, tuple[int | None, int]] = field(default_factory=dict)
    versions: dict[str, tuple[int, int]] = field(default_factory=dict)  # id -> partition, version
    dead_letters: list[DeadLetter] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)


class KafkaSalesTables(PostgresReadModelStore):
    """The sales tables plus where each partition stands, in the Kafka projectors' schema."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for statement in _CREATE:
            self.sql_create_statements.append(SQL(statement))  # type: ignore[arg-type]

    def positions(
        self, topic: str, partitions: Collection[int]
    ) -> tuple[dict[int, int], dict[str, int]]:
        """The stored next offset of each of ``partitions`` and the last version applied of
        each aggregate in them."""
        with self.datastore.transaction(commit=False) as curs:
            self._search_path(curs)
            curs.execute(
                f"SELECT kafka_partition, next_offset FROM {OFFSETS} "
                "WHERE topic = %s AND kafka_partition = ANY(%s)",
                (topic, list(partitions)),
            )
            offsets = {r["kafka_partition"]: r["next_offset"] for r in curs.fetchall()}
            curs.execute(
                f"SELECT aggregate_id, aggregate_version FROM {VERSIONS} "
                "WHERE kafka_partition = ANY(%s)",
                (list(partitions),),
            )
            versions = {str(r["aggregate_id"]): r["aggregate_version"] for r in curs.fetchall()}
        return offsets, versions

    def write_poll(self, topic: str, writes: list[Write], poll: Poll) -> None:
        """The slices' ``writes``, the offsets and versions of ``poll`` in one transaction
        (the reporting currency among the writes only from the member that applied the
        rates' start). Raises ``Fenced`` (writing nothing) when an offset moved on."""
        if poll.dead_letters:
            writes = [*writes, dead_letters_write(poll.dead_letters)]
        with self.datastore.transaction(commit=True) as curs:
            self._search_path(curs)
            # Offsets first, in partition order: a fenced member stops before any other write.
            for partition, (expected, following) in sorted(poll.offsets.items()):
                if expected is None:
                    curs.execute(
                        f"INSERT INTO {OFFSETS} VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
                        (topic, partition, following),
                    )
                else:
                    curs.execute(
                        f"UPDATE {OFFSETS} SET next_offset = %s "
                        "WHERE topic = %s AND kafka_partition = %s AND next_offset = %s",
                        (following, topic, partition, expected),
                    )
                if curs.rowcount != 1:
                    raise Fenced(f"partition {partition} of {topic} moved on without this member")
            self.write(curs, writes)
            if poll.versions:
                curs.executemany(
                    f"INSERT INTO {VERSIONS} VALUES (%s, %s, %s) ON CONFLICT (aggregate_id) "
                    "DO UPDATE SET aggregate_version = excluded.aggregate_version",
                    [(key, part, version) for key, (part, version) in poll.versions.items()],
                )
            if poll.rejected:
                curs.executemany(
                    f"INSERT INTO {REJECTED} VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
                    [(topic, r.partition, r.offset, r.error) for r in poll.rejected],
                )


class Consumer(Protocol):
    """The part of ``kafka.KafkaConsumer`` the projector uses."""

    def subscribe(self, topics: Sequence[str], *, listener: Any) -> None: ...

    def poll(self, timeout_ms: int = 0, max_records: int | None = None) -> dict[Any, Any]: ...

    def assignment(self) -> set[Any]: ...

    def seek(self, partition: Any, offset: int) -> None: ...

    def seek_to_beginning(self, *partitions: Any) -> None: ...

    def close(self) -> None: ...


_envelope = msgspec.json.Decoder(Envelope)


class KafkaProjector:
    """One member of the group: its partitions' events, applied and written per poll."""

    def __init__(
        self,
        tables: KafkaSalesTables,
        consumer: Consumer,
        *,
        topic: str = "crmledger.events",
        max_records: int = 2000,
    ) -> None:
        self.tables = tables
        self.consumer = consumer
        self.topic = topic
        self.max_records = max_records
        self.projection = Projection.empty(SLICES)
        self.versions: dict[str, int] = {}
        self.offsets: dict[int, int | None] = {}
        self._stale = False  # the view may hold changes that were never written
        self.applied = self.duplicates = self.parked = self.rejected = self.fenced = 0

    def subscribe(self) -> None:
        from kafka import ConsumerRebalanceListener  # noqa: PLC0415

        projector = self

        class Listener(ConsumerRebalanceListener):  # type: ignore[misc]
            def on_partitions_revoked(self, revoked: Any) -> None:
                # Nothing is pending: every poll is written before the next one.
                projector.offsets = {}

            def on_partitions_assigned(self, assigned: Any) -> None:
                projector.load(assigned)

        self.consumer.subscribe([self.topic], listener=Listener())

    @property
    def partitions(self) -> list[int]:
        return sorted(self.offsets)

    def load(self, assigned: Collection[Any]) -> None:
        """Seek ``assigned`` to their stored offsets; load the view and the versions.

        Offsets before the view: a write by another member in between leaves the view
        ahead of the offsets, and then this member's first write is fenced."""
        from kafka import TopicPartition  # noqa: PLC0415

        numbers = sorted(tp.partition for tp in assigned if tp.topic == self.topic)
        offsets, self.versions = self.tables.positions(self.topic, numbers)
        self.projection = Projection.load(SLICES, self.tables, stored_progress(self.tables))
        self.offsets = {n: offsets.get(n) for n in numbers}
        for n in numbers:
            tp = TopicPartition(self.topic, n)
            if offsets.get(n) is None:
                self.consumer.seek_to_beginning(tp)
            else:
                self.consumer.seek(tp, offsets[n])
        self._stale = False
        log.info("kafka_projector_assigned", partitions=numbers)

    def poll_once(self, timeout_ms: int = 500) -> int:
        """Apply and write one poll's messages; how many there were."""
        if self._stale:
            self.load(self.consumer.assignment())
        batches = self.consumer.poll(timeout_ms=timeout_ms, max_records=self.max_records)
        if not batches:
            return 0
        self._stale = True  # until written
        poll = Poll()
        count = 0
        for tp, records in batches.items():
            for record in records:
                self._one(record.partition, record.offset, record.value, poll)
            count += len(records)
            poll.offsets[tp.partition] = (self.offsets.get(tp.partition), records[-1].offset + 1)
        try:
            self.tables.write_poll(self.topic, self.projection.flush(), poll)
        except Fenced as error:
            self.fenced += 1
            log.warning("kafka_projector_fenced", error=str(error), partitions=self.partitions)
            return 0
        self._stale = False
        for partition, (_, following) in poll.offsets.items():
            self.offsets[partition] = following
        log.info("kafka_projector_wrote", messages=count, partitions=sorted(poll.offsets))
        return count

    def _one(self, partition: int, offset: int, value: bytes, poll: Poll) -> None:
        try:
            message = _envelope.decode(value)
        except (msgspec.DecodeError, msgspec.ValidationError) as error:
            self.rejected += 1
            poll.rejected.append(Rejected(partition, offset, f"{type(error).__name__}: {error}"))
            log.error(
                "kafka_message_rejected", partition=partition, offset=offset, error=str(error)
            )
            return
        key = str(message.aggregate_id)
        version = message.aggregate_version
        if self.versions.get(key, 0) >= version:
            self.duplicates += 1
            return
        self.versions[key] = version
        poll.versions[key] = (partition, version)
        try:
            cls = event_class(message.type)
        except LookupError as error:
            self._park(message, message.type, error, poll)
            return
        try:
            if message.schema > cls.class_version:
                raise ValueError(f"schema {message.schema} is newer than this code's")
            if topic_of(cls, message.schema) not in self.projection.topics:
                return  # an event the read model does not show (a quote, an activity)
            data = dict(message.data)
            data.update(
                originator_id=key,
                originator_version=version,
                recorded_at=message.recorded_at,
                effective_at=message.effective_at,
                # who caused it: the audit slice lists it under them
                by=message.actor,
                request_id=message.correlation_id,
                causation_id=message.causation_id,
            )
            event = event_from_data(cls, message.schema, data)
            self.projection.apply(event, message.position, key)
            self.applied += 1
        except Exception as error:  # parked, logged and counted, like the in-process projector
            self._park(message, topic_of(cls, min(message.schema, cls.class_version)), error, poll)

    def _park(self, message: Envelope, topic: str, error: Exception, poll: Poll) -> None:
        self.parked += 1
        letter = DeadLetter(
            position=message.position,
            topic=topic,
            aggregate_id=message.aggregate_id,
            aggregate_version=message.aggregate_version,
            error=f"{type(error).__name__}: {error}",
        )
        poll.dead_letters.append(letter)
        log.error(
            "event_parked",
            position=letter.position,
            topic=topic,
            aggregate_id=str(letter.aggregate_id),
            error=letter.error,
        )

    def run(self, stop: threading.Event, pulse: Pulse | None = None) -> None:
        """Consume until ``stop``. A failed write (PostgreSQL away) propagates: the
        supervisor closes this member (it leaves the group), waits, and a new member reads
        the stored offsets again; the rows and offsets of a poll commit together or not."""
        self.subscribe()
        pulse = pulse or NoPulse()
        while not stop.is_set():
            # Progress only when messages came: an empty poll may be a broker away (the
            # supervisor's watchdog tells which).
            if self.poll_once():
                pulse()

    def close(self) -> None:
        self.consumer.close()


def open_kafka_tables(settings: Settings) -> KafkaSalesTables:
    """The Kafka projectors' tables, in ``settings.kafka_tables_schema`` (created if
    missing)."""
    if not settings.uses_postgres:
        raise ValueError(
            "the Kafka-side projector writes to PostgreSQL: set CRMLEDGER_DATABASE_URL"
        )
    own = settings.model_copy(update={"database_schema": settings.kafka_tables_schema})
    ensure_postgres_schema(own)
    tables = open_store(own, postgres=KafkaSalesTables)
    assert isinstance(tables, KafkaSalesTables)
    return tables


def kafka_consumer(settings: Settings) -> Consumer:
    from kafka import KafkaConsumer  # noqa: PLC0415

    assert settings.kafka_bootstrap_servers is not None
    consumer: Consumer = KafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=settings.kafka_projector_group,
        enable_auto_commit=False,  # positions live in the tables, written with the rows
        auto_offset_reset="earliest",
        max_poll_interval_ms=settings.kafka_max_poll_interval_seconds * 1000,
        session_timeout_ms=6_000,
        heartbeat_interval_ms=1_000,
    )
    return consumer


def run_kafka_projector(settings: Settings, stop: threading.Event) -> None:
    tables = open_kafka_tables(settings)
    projector = KafkaProjector(tables, kafka_consumer(settings), topic=settings.kafka_events_topic)
    try:
        projector.run(stop)
    finally:
        projector.close()
        tables.datastore.close()
