"""The relay publishes every event of the log to Kafka, once per acknowledged batch.

Against a real Kafka-protocol broker (tansu) and the real stores (SQLite and
PostgreSQL): the messages are the events, in per-aggregate order, keyed by
aggregate id, with the envelope of docs/design.md ("Kafka"); personal data leaves only
sealed; a new relay resumes from the recorded position and sends nothing twice.
"""

from __future__ import annotations

import getpass
import json
import subprocess
import time
from datetime import date
from pathlib import Path
from uuid import UUID, uuid4

from adapters.bootstrap import Services, bootstrap
from adapters.clock import ManualClock
from adapters.kafka_relay import KafkaRelay, ensure_topic, kafka_producer
from commands import leads as ld
from domain.events import event_id
from tests.conftest import settings_for
from tests.kafka_broker import EVENTS_TOPIC, TansuBroker, consume, deal_in_proposal, relay_all
from tests.processes import CRMLEDGER, TIMEOUT, crmledger, environment

SECRET = "Quintessa Vandermeulen"


def _history(services: Services) -> list[UUID]:
    close = date(2027, 6, 30)
    ids = [deal_in_proposal(services, f"Deal {n}", f"Relay Account {n}", close) for n in range(3)]
    first, last = SECRET.split()
    lead = uuid4()
    services.bus.execute(
        ld.CreateLead(lead_id=lead, first_name=first, last_name=last, email="q.v@example.org")
    )
    ids.append(lead)
    return ids


def test_every_event_reaches_kafka_once_in_order_keyed_by_aggregate(
    services: Services, kafka_broker: TansuBroker
) -> None:
    # Given a history on the store and a topic of three partitions
    _history(services)
    ensure_topic(kafka_broker.bootstrap, EVENTS_TOPIC, partitions=3)
    log_end = services.store.max_position()
    relay = KafkaRelay(services.store, kafka_producer(kafka_broker.bootstrap), batch=7)
    try:
        # When the relay runs until it has nothing more to send
        sent = relay_all(relay)
    finally:
        relay.close()

    # Then its position is the log's end, and every event is on the topic exactly once
    assert relay.position() == log_end
    messages = consume(kafka_broker.bootstrap, expected=sent)
    assert len(messages) == sent == log_end
    envelopes = [json.loads(m.value) for m in messages]
    assert sorted(e["position"] for e in envelopes) == list(range(1, log_end + 1))
    # keyed by aggregate id, each aggregate's events in version order in one partition
    by_aggregate: dict[str, list[tuple[int, int]]] = {}
    for message, env in zip(messages, envelopes, strict=True):
        assert message.key.decode() == env["aggregate_id"]
        headers = dict(message.headers)
        assert headers["type"].decode() == env["type"]
        assert headers["event_id"].decode() == env["event_id"]
        assert env["event_id"] == str(event_id(UUID(env["aggregate_id"]), env["aggregate_version"]))
        by_aggregate.setdefault(env["aggregate_id"], []).append(
            (message.partition, env["aggregate_version"])
        )
    for seen in by_aggregate.values():
        assert len({partition for partition, _ in seen}) == 1
        assert [v for _, v in seen] == list(range(1, len(seen) + 1))
    # the envelope of docs/design.md ("Kafka")
    assert set(envelopes[0]) == {
        "event_id",
        "type",
        "aggregate_id",
        "aggregate_version",
        "position",
        "recorded_at",
        "effective_at",
        "actor",
        "correlation_id",
        "causation_id",
        "schema",
        "data",
    }
    # and each says who did it, in which request, caused by what (commands run on the
    # store here: the local operator's, each its own request and cause; the store's
    # defaults the bootstrap's)
    assert {e["actor"] for e in envelopes} == {f"cli:{getpass.getuser()}", "system:bootstrap"}
    assert all(e["correlation_id"] and e["causation_id"] for e in envelopes)
    # personal data leaves only sealed
    lead = next(e for e in envelopes if e["type"] == "LeadCreated")
    assert lead["data"]["personal"] is None and lead["data"]["sealed"]
    for message in messages:
        for word in (*SECRET.split(), "q.v@example.org"):
            assert word.encode() not in message.value


def test_a_new_relay_resumes_from_the_recorded_position(
    services: Services, kafka_broker: TansuBroker
) -> None:
    # Given a relay that sent the history so far, then stopped
    _history(services)
    ensure_topic(kafka_broker.bootstrap, EVENTS_TOPIC, partitions=2)
    first = KafkaRelay(services.store, kafka_producer(kafka_broker.bootstrap))
    sent_before = relay_all(first)
    first.close()
    # When more happens and a new relay starts
    _history(services)
    second = KafkaRelay(services.store, kafka_producer(kafka_broker.bootstrap))
    try:
        sent_after = relay_all(second)
    finally:
        second.close()
    # Then it sends only what is new: every position once in all
    messages = consume(kafka_broker.bootstrap, expected=sent_before + sent_after)
    positions = sorted(json.loads(m.value)["position"] for m in messages)
    assert positions == list(range(1, services.store.max_position() + 1))


def test_the_relay_worker_process_publishes_the_log_and_resumes_after_a_restart(
    tmp_path: Path, kafka_broker: TansuBroker, clock: ManualClock
) -> None:
    # Given an embedded store with a history
    home = tmp_path / "home"
    services = bootstrap(settings_for("sqlite", tmp_path), clock=clock)
    _history(services)
    env = environment(home=home, CRMLEDGER_KAFKA_BOOTSTRAP_SERVERS=kafka_broker.bootstrap)

    def relay_until_caught_up() -> None:
        process = subprocess.Popen(
            [str(CRMLEDGER), "worker", "--role", "relay"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + TIMEOUT
            relay = KafkaRelay(services.store, kafka_producer(kafka_broker.bootstrap))
            while relay.position() < services.store.max_position():
                assert process.poll() is None, "the relay worker died"
                assert time.monotonic() < deadline, "the relay worker did not catch up"
                time.sleep(0.1)
        finally:
            process.terminate()
            process.wait(TIMEOUT)

    try:
        # When the relay worker runs (it creates the topic), stops, more happens, it runs again
        relay_until_caught_up()
        _history(services)
        relay_until_caught_up()
        # Then every position reached Kafka once
        end = services.store.max_position()
        positions = sorted(
            json.loads(m.value)["position"] for m in consume(kafka_broker.bootstrap, expected=end)
        )
        assert positions == list(range(1, end + 1))
    finally:
        services.close()


def test_the_relay_worker_without_kafka_settings_says_what_is_missing(tmp_path: Path) -> None:
    run = crmledger(tmp_path / "home", "worker", "--role", "relay")
    assert run.code == 2
    assert "CRMLEDGER_KAFKA_BOOTSTRAP_SERVERS" in run.err
