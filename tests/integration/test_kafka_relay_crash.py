"""The relay loses nothing: SIGKILLed at random points, or with the broker gone for a while.

Commands keep flowing from a writer thread on the embedded store while:
- the relay worker process (``crmledger worker --role relay``) is killed with
  SIGKILL at random moments and started again;
- or the broker is frozen (SIGSTOP: it accepts no request and answers none)
  for a few seconds and then resumes, under a relay running in this process.
Then every event is on the topic at least once; deduplicated on (aggregate id,
version), as consumers do, exactly once; and each aggregate's events come in
version order.
"""

from __future__ import annotations

import json
import random
import signal
import threading
import time
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from adapters.bootstrap import Services, bootstrap
from adapters.clock import SystemClock
from adapters.kafka_relay import KafkaRelay, Producer, ensure_topic
from adapters.outages import Health
from adapters.supervision import Supervisor
from tests.conftest import settings_for
from tests.kafka_broker import EVENTS_TOPIC, TansuBroker, consume, deal_in_proposal
from tests.processes import TIMEOUT, Crmledger, environment, wait_until

pytestmark = pytest.mark.xdist_group("kafka-crash")


class Writer(threading.Thread):
    """Opportunities created and moved, a few per second, until stopped."""

    def __init__(self, services: Services, count: int) -> None:
        super().__init__(daemon=True)
        self.services = services
        self.count = count
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            for n in range(self.count):
                title, account = f"Crash deal {n}", f"Crash Account {n % 7}"
                deal_in_proposal(self.services, title, account, date(2027, 9, 30))
                time.sleep(0.02)
        except BaseException as error:  # surfaced by the test
            self.error = error


def _check_delivery(messages: list[Any], end: int) -> None:
    envelopes = [json.loads(m.value) for m in messages]
    positions = {e["position"] for e in envelopes}
    assert positions == set(range(1, end + 1)), "every event reached Kafka at least once"
    first_seen: dict[tuple[str, int], Any] = {}
    per_aggregate: dict[str, list[int]] = {}
    for message, env in zip(messages, envelopes, strict=True):
        key = (env["aggregate_id"], env["aggregate_version"])
        if key in first_seen:
            assert json.loads(first_seen[key].value) == env, "a resend is the same message"
            continue
        first_seen[key] = message
        per_aggregate.setdefault(env["aggregate_id"], []).append(env["aggregate_version"])
    assert len(first_seen) == end, "after dedupe, exactly once"
    for versions in per_aggregate.values():
        assert versions == list(range(1, len(versions) + 1)), "per-aggregate order"


def _consume_all(broker: TansuBroker, at_least: int) -> list[Any]:
    # Resends make more messages than events: read until the topic is quiet.
    return consume(broker.bootstrap, expected=10 * at_least, timeout_ms=6_000)


def test_a_relay_killed_at_random_points_loses_nothing(
    tmp_path: Path, kafka_broker: TansuBroker
) -> None:
    rng = random.Random(20270104)
    services = bootstrap(settings_for("sqlite", tmp_path), clock=SystemClock())
    home = services.settings.home
    env = environment(
        home=home,
        CRMLEDGER_KAFKA_BOOTSTRAP_SERVERS=kafka_broker.bootstrap,
        CRMLEDGER_RELAY_BATCH="25",
        CRMLEDGER_PROJECTOR_POLL_SECONDS="0.05",
    )
    ensure_topic(kafka_broker.bootstrap, EVENTS_TOPIC, partitions=3)
    writer = Writer(services, count=120)
    writer.start()

    def start() -> Crmledger:
        return Crmledger(["worker", "--role", "relay"], env, tmp_path / "relay.log")

    kills = 0
    try:
        # When the relay is SIGKILLed at random moments while commands flow
        while writer.is_alive() or kills < 4:
            process = start()
            time.sleep(rng.uniform(0.5, 2.0))
            process.kill()
            kills += 1
        writer.join(TIMEOUT)
        assert writer.error is None, writer.error
        # and then runs until it has caught up
        process = start()
        relay = KafkaRelay(services.store, _no_producer)
        wait_until(
            lambda: relay.position() >= services.store.max_position(),
            "the relay caught up",
            process=process,
            timeout=TIMEOUT,
            interval=0.1,
        )
        process.terminate()
        end = services.store.max_position()
        # Then every event is there at least once, and exactly once after dedupe, in order
        _check_delivery(_consume_all(kafka_broker, end), end)
        assert kills >= 4
    finally:
        services.close()


def _no_producer() -> Producer:
    raise AssertionError("this relay only reads the recorded position")


def test_a_broker_gone_for_a_while_loses_nothing_and_the_relay_catches_up(
    tmp_path: Path, kafka_broker: TansuBroker
) -> None:
    from adapters.kafka_relay import kafka_producer

    services = bootstrap(settings_for("sqlite", tmp_path), clock=SystemClock())
    ensure_topic(kafka_broker.bootstrap, EVENTS_TOPIC, partitions=3)
    # A short send timeout: the outage is noticed in seconds, not the default 30.
    relay = KafkaRelay(
        services.store, kafka_producer(kafka_broker.bootstrap), batch=20, send_timeout=2.0
    )
    stop = threading.Event()
    # As the worker runs it: a failed send ends the loop, its supervisor waits and goes on.
    supervisor = Supervisor(
        "relay",
        lambda: relay,
        lambda loop, stop, pulse: loop.run(stop, poll_interval=0.05, pulse=pulse),
        health=Health(),
        close=KafkaRelay.close,
        max_backoff=1.0,
    )
    runner = threading.Thread(target=supervisor.run, args=(stop,))
    writer = Writer(services, count=80)
    assert kafka_broker.process is not None
    try:
        runner.start()
        writer.start()
        time.sleep(0.5)
        # When the broker stops answering for a while during the load
        kafka_broker.process.send_signal(signal.SIGSTOP)
        # A batch the broker acknowledged just before it stopped may still be recorded:
        # the position is taken once that moment has passed.
        time.sleep(1.0)
        stalled_at = relay.position()
        time.sleep(4.0)
        assert relay.position() == stalled_at, "nothing is acknowledged while the broker is away"
        kafka_broker.process.send_signal(signal.SIGCONT)
        writer.join(TIMEOUT)
        assert writer.error is None, writer.error
        # Then the relay catches up by itself
        wait_until(
            lambda: relay.position() >= services.store.max_position(),
            "the relay caught up after the outage",
            timeout=TIMEOUT,
            interval=0.1,
        )
        end = services.store.max_position()
        _check_delivery(_consume_all(kafka_broker, end), end)
    finally:
        if kafka_broker.process is not None:
            kafka_broker.process.send_signal(signal.SIGCONT)
        stop.set()
        runner.join(TIMEOUT)
        relay.close()
        services.close()
