"""Read models from Kafka: projectors in one consumer group give the in-process projector's rows.

Against a real tansu broker and PostgreSQL on 127.0.0.1:5432. The relay publishes
the demo's history (deals, quotes, contracts, leads, campaigns, rates, targets)
to six partitions, every event twice (what a relay that crashed before recording
its position does); two ``crmledger worker --role kafka-projector`` processes
split the partitions; the tables they write together equal the in-process
projector's, row for row, and so do the pipeline and forecast charts.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from psycopg import sql

from adapters.bootstrap import Services, bootstrap
from adapters.clock import ManualClock
from adapters.demo import seed
from adapters.event_store.postgres import PostgresSalesRecorder
from adapters.kafka_projector import (
    OFFSETS,
    REJECTED,
    KafkaProjector,
    KafkaSalesTables,
    open_kafka_tables,
)
from adapters.kafka_relay import RELAY_NAME, KafkaRelay, ensure_topic, kafka_producer
from adapters.outages import POSTGRESQL, StoreUnavailable, outage_of
from adapters.settings import Settings
from commands import opportunities as opp
from commands.read_model_commands import SetSalesTarget
from domain.ids import pipeline_id_for
from domain.money import Money
from readmodels import deals
from readmodels.audit.tables import AUDIT_EVENTS
from readmodels.bookkeeping import DEAD_LETTERS
from readmodels.contracts.tables import CONTRACT_VERSIONS
from readmodels.deals.charts import forecast_chart, pipeline_chart
from readmodels.deals.selection import Filters
from readmodels.deals.tables import OPPORTUNITIES, RATES, STAGES, TARGETS, VISITS
from readmodels.deals.view import DealsView
from readmodels.leads.tables import CAMPAIGN_OPPORTUNITIES, CAMPAIGN_VERSIONS, LEAD_VERSIONS
from readmodels.slice import Progress
from tests.conftest import POSTGRES_URL, settings_for
from tests.identity import TEAM
from tests.kafka_broker import EVENTS_TOPIC, TansuBroker, deal_in_proposal, relay_all
from tests.processes import Crmledger, environment, wait_until
from tests.readmodel_tables import KAFKA_TABLES

pytestmark = pytest.mark.users(*TEAM)

PARTITIONS = 6
NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def pg_settings(tmp_path: Path, postgres_schema: str) -> Iterator[Settings]:
    settings = settings_for("postgres", tmp_path, postgres_schema)
    yield settings
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                sql.Identifier(settings.kafka_tables_schema)
            )
        )


def _history(settings: Settings) -> Services:
    """The demo's four months on PostgreSQL, contracts made and a few targets set."""
    clock = ManualClock(NOW - timedelta(days=120))
    services = bootstrap(settings, clock=clock)
    seed(services, clock, NOW, io.StringIO())
    for owner, amount in (("alice", "120000"), ("bob", "95000.50")):
        services.bus.execute(
            SetSalesTarget(owner=owner, period="2027-Q1", amount=Money(Decimal(amount), "EUR"))
        )
    contracts = services.contracts_process()
    contracts.catch_up()
    contracts.tick(clock.now())
    contracts.catch_up()
    return services


def _forget_relay_position(relay: KafkaRelay) -> None:
    """As if the relay had crashed before recording any position: it sends all again."""
    recorder = relay.store.recorder
    assert isinstance(recorder, PostgresSalesRecorder)
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DELETE FROM {}.{} WHERE application_name = %s").format(
                sql.Identifier(recorder.datastore.schema),
                sql.Identifier(recorder.tracking_table_name),
            ),
            (RELAY_NAME,),
        )
    assert relay.position() == 0


def _rows(schema: str, name: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(POSTGRES_URL) as conn:
        rows = conn.execute(
            sql.SQL("SELECT * FROM {}.{}").format(sql.Identifier(schema), sql.Identifier(name))
        ).fetchall()
    return sorted(rows, key=repr)


def _stored_offsets(schema: str) -> int:
    with psycopg.connect(POSTGRES_URL) as conn:
        row = conn.execute(
            sql.SQL("SELECT coalesce(sum(next_offset), 0) FROM {}.{}").format(
                sql.Identifier(schema), sql.Identifier(OFFSETS)
            )
        ).fetchone()
    assert row is not None
    return int(row[0])


def _wait(condition: Callable[[], bool], what: str, timeout: float = 120.0) -> None:
    wait_until(condition, what, timeout=timeout, interval=0.25)


class Member(Crmledger):
    """One ``crmledger worker --role kafka-projector`` process; its JSON log in a file."""

    def __init__(self, home: Path, settings: Settings, broker: TansuBroker, n: int) -> None:
        env = environment(
            home=home,
            CRMLEDGER_DATABASE_URL=POSTGRES_URL,
            CRMLEDGER_DATABASE_SCHEMA=settings.database_schema,
            CRMLEDGER_KAFKA_BOOTSTRAP_SERVERS=broker.bootstrap,
            CRMLEDGER_KAFKA_PARTITIONS=str(PARTITIONS),
            CRMLEDGER_KAFKA_MAX_POLL_INTERVAL_SECONDS="10",
            CRMLEDGER_LOG_FORMAT="json",
        )
        super().__init__(
            ["worker", "--role", "kafka-projector"], env, home.parent / f"member-{n}.log"
        )

    def assignments(self) -> list[list[int]]:
        return [
            e["partitions"] for e in self.lines() if e.get("event") == "kafka_projector_assigned"
        ]

    def partitions(self) -> list[int] | None:
        """The partitions of this member's latest assignment (None: none yet)."""
        assigned = self.assignments()
        return assigned[-1] if assigned else None

    def writes(self) -> list[dict[str, Any]]:
        return [e for e in self.lines() if e.get("event") == "kafka_projector_wrote"]


def _split(members: list[Member]) -> bool:
    parts = [m.partitions() for m in members]
    if any(not p for p in parts):
        return False
    seen = [n for p in parts for n in p or ()]
    return sorted(seen) == list(range(PARTITIONS))


def _charts(view: DealsView) -> tuple[Any, ...]:
    sales = pipeline_id_for("sales")
    return (
        pipeline_chart(view, sales, Filters(), NOW),
        pipeline_chart(view, sales, Filters(owner="alice"), NOW),
        forecast_chart(view, "quarter", Filters(), NOW),
        forecast_chart(view, "month", Filters(), NOW),
    )


@pytest.mark.parametrize("crash", [False, True], ids=["steady", "a-member-killed"])
def test_two_kafka_projectors_in_one_group_give_the_in_process_projectors_rows(
    pg_settings: Settings, kafka_broker: TansuBroker, tmp_path: Path, crash: bool
) -> None:
    # Given the demo's history on PostgreSQL and an events topic of six partitions
    services = _history(pg_settings)
    ensure_topic(kafka_broker.bootstrap, EVENTS_TOPIC, PARTITIONS)
    home = tmp_path / "home"
    members: list[Member] = []
    try:
        # and two Kafka-side projectors in one group that have split the partitions
        members = [Member(home, pg_settings, kafka_broker, n) for n in (1, 2)]
        _wait(lambda: _split(members), "the two members to split the six partitions")

        # When the relay publishes the history twice (a resend of every event)
        relay = KafkaRelay(services.store, kafka_producer(kafka_broker.bootstrap), batch=400)
        try:
            first = relay_all(relay)
            if crash:
                # (a member SIGKILLed once it has written, a new one started: the group
                # gives its partitions to the others, who go on from its stored offsets)
                _wait(lambda: bool(members[1].writes()), "the second member to write")
                members[1].kill()
                members.append(Member(home, pg_settings, kafka_broker, 3))
            _forget_relay_position(relay)
            again = relay_all(relay)
            # and, while the members run, more changes follow and are relayed once
            moved = services.bus.execute(
                opp.CreateOpportunity(
                    opportunity_id=uuid4(),
                    title="Late deal",
                    owner="alice",
                    expected_close=date(2027, 3, 31),
                    account_name="Late Account",
                    amount=Money(Decimal("1234.56"), "USD"),
                )
            ).id
            services.bus.execute(opp.MoveOpportunityToStage(opportunity_id=moved, stage="proposal"))
            later = relay_all(relay)
        finally:
            relay.close()
        log_end = services.store.max_position()
        assert first == again == log_end - later and later > 0
        published = 2 * first + later
        kafka_schema = pg_settings.kafka_tables_schema
        _wait(
            lambda: _stored_offsets(kafka_schema) == published,
            "the members to store the offsets of every message",
        )
        running = [m for m in members if m.running()]
        assert len(running) == 2 and [m.stop() for m in running] == [0, 0]

        # Then the members wrote, each only partitions it was given (the one started after
        # the kill may find everything written already)
        for member in members:
            wrote = member.writes()
            assert wrote or (crash and member is members[-1])
            given = {n for assignment in member.assignments() for n in assignment}
            assert {n for e in wrote for n in e["partitions"]} <= given
        if not crash:  # (a killed member may have lost the log line of its last write)
            assert sum(e["messages"] for m in members for e in m.writes()) == published

        # and the in-process projector, over the same log, writes the same rows
        projector = services.projector()
        projector.start()
        projector.catch_up()
        own = pg_settings.database_schema
        for name in KAFKA_TABLES:
            assert _rows(kafka_schema, name) == _rows(own, name), name
        # (a history that exercises them all)
        for name in (OPPORTUNITIES, VISITS, STAGES, RATES, TARGETS, CONTRACT_VERSIONS):
            assert _rows(own, name), name
        for name in (LEAD_VERSIONS, CAMPAIGN_VERSIONS, CAMPAIGN_OPPORTUNITIES, AUDIT_EVENTS):
            assert _rows(own, name), name
        assert _rows(kafka_schema, REJECTED) == []

        # and the pipeline and forecast charts from the two sets of tables are equal
        kafka_tables = open_kafka_tables(pg_settings)
        try:
            kafka_view = deals.SLICE.load(kafka_tables, Progress())
        finally:
            kafka_tables.datastore.close()
        in_process = deals.SLICE.load(projector.store, Progress())
        assert kafka_view.reporting_currency == in_process.reporting_currency
        assert _charts(kafka_view) == _charts(in_process)
    finally:
        for member in members:
            if member.running():
                member.kill()
        services.close()


# --- one member in this process: duplicates, bad messages, fencing -------------------------


def _consumer(broker: TansuBroker, group: str) -> KafkaConsumer:
    return KafkaConsumer(
        bootstrap_servers=broker.bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_interval_ms=10_000,
        session_timeout_ms=6_000,
        heartbeat_interval_ms=1_000,
    )


@pytest.fixture
def app_and_tables(
    pg_settings: Settings, kafka_broker: TansuBroker
) -> Iterator[tuple[Services, KafkaSalesTables]]:
    """The application on PostgreSQL, the Kafka projectors' tables, and the events topic."""
    services = bootstrap(pg_settings)
    tables = open_kafka_tables(pg_settings)
    ensure_topic(kafka_broker.bootstrap, EVENTS_TOPIC, PARTITIONS)
    yield services, tables
    tables.datastore.close()
    services.close()


def _stored(projector: KafkaProjector) -> int:
    return sum(offset or 0 for offset in projector.offsets.values())


def _drain(projector: KafkaProjector, messages: int, timeout: float = 60.0) -> None:
    """Poll until the member has written ``messages`` messages of its partitions.

    (Counted, not compared with the broker's end offsets: tansu's ListOffsets answers
    less than the last offset + 1 when a batch held several records.)"""
    deadline = time.monotonic() + timeout
    while _stored(projector) < messages:
        if time.monotonic() > deadline:
            raise AssertionError(f"the member stored {projector.offsets}, not {messages}")
        projector.poll_once(timeout_ms=200)
    assert _stored(projector) == messages


def _deal_row(schema: str, deal: UUID) -> tuple[Any, ...]:
    with psycopg.connect(POSTGRES_URL) as conn:
        row = conn.execute(
            sql.SQL("SELECT stage, stage_visits FROM {}.{} WHERE id = %s").format(
                sql.Identifier(schema), sql.Identifier(OPPORTUNITIES)
            ),
            (deal,),
        ).fetchone()
    assert row is not None
    return tuple(row)


def _deals(services: Services, n: int) -> list[UUID]:
    close = date(2027, 6, 30)
    return [deal_in_proposal(services, f"Deal {k}", f"Kafka Account {k}", close) for k in range(n)]


def _in_process_rows(services: Services) -> dict[str, list[tuple[Any, ...]]]:
    projector = services.projector()
    projector.start()
    projector.catch_up()
    return {name: _rows(services.settings.database_schema, name) for name in KAFKA_TABLES}


def test_a_member_skips_duplicates_and_parks_what_it_cannot_read(
    kafka_broker: TansuBroker, app_and_tables: tuple[Services, KafkaSalesTables]
) -> None:
    # Given deals relayed twice, a message that is no envelope and one of an unknown type
    services, tables = app_and_tables
    projector = KafkaProjector(tables, _consumer(kafka_broker, "solo"), topic=EVENTS_TOPIC)
    try:
        _deals(services, 4)
        relay = KafkaRelay(services.store, kafka_producer(kafka_broker.bootstrap))
        try:
            events = relay_all(relay)
            _forget_relay_position(relay)
            relay_all(relay)
        finally:
            relay.close()
        stranger = uuid4()
        producer = KafkaProducer(bootstrap_servers=kafka_broker.bootstrap)
        producer.send(EVENTS_TOPIC, key=b"x", value=b"not an envelope")
        unknown = {
            "event_id": str(uuid4()),
            "type": "NoSuchEvent",
            "aggregate_id": str(stranger),
            "aggregate_version": 1,
            "position": 10_000,
            "recorded_at": NOW.isoformat(),
            "effective_at": None,
            "schema": 1,
            "data": {},
        }
        producer.send(EVENTS_TOPIC, key=str(stranger).encode(), value=json.dumps(unknown).encode())
        producer.flush()
        producer.close()

        # When one member consumes them all
        projector.subscribe()
        _drain(projector, 2 * events + 2)

        # Then every event is applied once: the rows are the in-process projector's
        assert projector.duplicates == events
        expected = _in_process_rows(services)
        schema = services.settings.kafka_tables_schema
        for name in KAFKA_TABLES:
            if name != DEAD_LETTERS:
                assert _rows(schema, name) == expected[name], name
        # and what it could not read is kept with the reason, not skipped silently
        (letter,) = _rows(schema, DEAD_LETTERS)
        assert letter[1:4] == ("NoSuchEvent", stranger, 1)
        assert "unknown event type" in letter[4]
        (rejected,) = _rows(schema, REJECTED)
        assert rejected[0] == EVENTS_TOPIC and "DecodeError" in rejected[3]
        assert (projector.parked, projector.rejected) == (1, 1)
    finally:
        projector.close()


def test_a_member_that_lost_its_partition_unseen_is_fenced_and_writes_nothing(
    kafka_broker: TansuBroker, app_and_tables: tuple[Services, KafkaSalesTables]
) -> None:
    # Given a member (A) that has written every event of its partitions
    services, tables = app_and_tables
    relay = KafkaRelay(services.store, kafka_producer(kafka_broker.bootstrap))
    a = KafkaProjector(tables, _consumer(kafka_broker, "fenced"), topic=EVENTS_TOPIC)
    other = open_kafka_tables(services.settings)
    b_consumer = KafkaConsumer(bootstrap_servers=kafka_broker.bootstrap, enable_auto_commit=False)
    b = KafkaProjector(other, b_consumer, topic=EVENTS_TOPIC)
    try:
        (deal, *_) = _deals(services, 3)
        sent = relay_all(relay)
        a.subscribe()
        _drain(a, sent)
        schema = services.settings.kafka_tables_schema
        assert _deal_row(schema, deal) == ("proposal", 2)

        # and a second member (B) that was given the same partitions (A has not noticed)
        every = [TopicPartition(EVENTS_TOPIC, n) for n in range(PARTITIONS)]
        b_consumer.assign(every)
        b.load(every)

        # When the deal moves on and B writes that first
        services.bus.execute(opp.MoveOpportunityToStage(opportunity_id=deal, stage="negotiation"))
        sent += relay_all(relay)
        _drain(b, sent)
        assert _deal_row(schema, deal) == ("negotiation", 3)
        # and A polls the same event
        deadline = time.monotonic() + 30
        while a.fenced == 0:
            assert time.monotonic() < deadline, "A was never fenced"
            a.poll_once(timeout_ms=200)

        # Then A's write was refused whole: the deal has one visit of negotiation, not two
        assert _deal_row(schema, deal) == ("negotiation", 3)
        # and A reloads from the tables and goes on from B's offsets, applying nothing twice
        _drain(a, sent)
        assert _deal_row(schema, deal) == ("negotiation", 3)
        view = a.projection.state(deals.SLICE)
        assert view.deals.stages[view.index[str(deal)]] == "negotiation"
        assert a.offsets == b.offsets
        expected = _in_process_rows(services)
        for name in KAFKA_TABLES:
            assert _rows(schema, name) == expected[name], name
    finally:
        relay.close()
        a.close()
        b.close()
        other.datastore.close()


def test_a_member_given_partitions_while_postgresql_is_away_fails_as_an_outage(
    kafka_broker: TansuBroker,
    app_and_tables: tuple[Services, KafkaSalesTables],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a member that has written every event of its partitions
    services, tables = app_and_tables
    relay = KafkaRelay(services.store, kafka_producer(kafka_broker.bootstrap))
    member = KafkaProjector(tables, _consumer(kafka_broker, "assigned"), topic=EVENTS_TOPIC)
    try:
        (deal, *_) = _deals(services, 3)
        sent = relay_all(relay)
        member.subscribe()
        _drain(member, sent)
        schema = services.settings.kafka_tables_schema
        written = {name: _rows(schema, name) for name in (*KAFKA_TABLES, OFFSETS)}

        # When its group gives it its partitions again while PostgreSQL is away (the
        # stored offsets cannot be read)
        def away(*args: object) -> None:
            raise StoreUnavailable(POSTGRESQL, "PostgreSQL is not answering", 1.0)

        monkeypatch.setattr(tables, "positions", away)
        member.consumer.unsubscribe()
        member.subscribe()
        failure: Exception | None = None
        deadline = time.monotonic() + 60
        while failure is None and time.monotonic() < deadline:
            try:  # the assignment comes in one of these polls
                member.poll_once(timeout_ms=200)
            except Exception as error:  # what the member's supervisor gets
                failure = error

        # Then the poll fails with an outage (its supervisor waits for PostgreSQL, makes a
        # new member) and applied nothing of what the group's positions (none: the topic's
        # start) would have given it
        assert failure is not None and outage_of(failure) == POSTGRESQL, failure
        assert (member.fenced, member.duplicates) == (0, 0)
        assert {name: _rows(schema, name) for name in written} == written
        # and once PostgreSQL is back the member its supervisor makes in its place goes on
        # from the stored offsets
        monkeypatch.undo()
        member.close()
        member = KafkaProjector(tables, _consumer(kafka_broker, "assigned"), topic=EVENTS_TOPIC)
        member.subscribe()
        services.bus.execute(opp.MoveOpportunityToStage(opportunity_id=deal, stage="negotiation"))
        sent += relay_all(relay)
        _drain(member, sent)
        assert member.duplicates == 0
        expected = _in_process_rows(services)
        for name in KAFKA_TABLES:
            assert _rows(schema, name) == expected[name], name
    finally:
        relay.close()
        member.close()


def _tables_in(schema: str) -> list[str]:
    with psycopg.connect(POSTGRES_URL) as conn:
        rows = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (schema,)
        ).fetchall()
    return sorted(r[0] for r in rows)


def test_a_kafka_projector_opens_only_its_own_tables(
    pg_settings: Settings, kafka_broker: TansuBroker, tmp_path: Path
) -> None:
    # Given a database with no event store yet
    assert _tables_in(pg_settings.database_schema) == []
    # When a Kafka-side projector starts and joins its group
    member = Member(tmp_path / "home", pg_settings, kafka_broker, 0)
    try:
        _wait(lambda: member.partitions() is not None, "the member's assignment", timeout=60)
    finally:
        assert member.stop() == 0
    # Then it wrote its own tables only: it reads Kafka, never the event store.
    assert OFFSETS in _tables_in(pg_settings.kafka_tables_schema)
    assert _tables_in(pg_settings.database_schema) == []
