"""Commands from Kafka run the HTTP handlers once, however often they are delivered."""

from __future__ import annotations

import json
import time
from typing import Any
from uuid import UUID, uuid4

import pytest
from kafka import KafkaConsumer, KafkaProducer

from adapters import worker
from adapters.bootstrap import Services
from adapters.kafka_commands import (
    COMMANDS_TOPIC,
    RESULTS_TOPIC,
    CommandConsumer,
)
from adapters.kafka_relay import ensure_topic
from adapters.outages import Health
from domain.opportunity import Opportunity, OpportunityCreated
from tests.identity import user_token
from tests.kafka_broker import TansuBroker

pytestmark = pytest.mark.users("ann")


def _send(broker: TansuBroker, *messages: dict[str, Any]) -> None:
    producer = KafkaProducer(bootstrap_servers=broker.bootstrap, acks="all")
    for message in messages:
        producer.send(
            COMMANDS_TOPIC, key=message["command_id"].encode(), value=json.dumps(message).encode()
        )
    producer.flush()
    producer.close()


def _results(broker: TansuBroker, expected: int) -> list[Any]:
    consumer = KafkaConsumer(
        RESULTS_TOPIC,
        bootstrap_servers=broker.bootstrap,
        group_id=f"results-{uuid4().hex[:8]}",
        auto_offset_reset="earliest",
        max_poll_interval_ms=10_000,
        session_timeout_ms=6_000,
        heartbeat_interval_ms=1_000,
        consumer_timeout_ms=8_000,
    )
    found = []
    try:
        for message in consumer:
            found.append(message)
            if len(found) >= expected:
                break
    finally:
        consumer.close()
    return found


def _consumer(services: Services, broker: TansuBroker, group: str) -> CommandConsumer:
    """The commands worker's consumer, on the test's store and broker."""
    return CommandConsumer(
        services.bus, services.identity, broker.bootstrap, group=group, max_poll_interval_ms=10_000
    )


def _drain(consumer: CommandConsumer, expected: int, timeout: float = 30.0) -> None:
    done, deadline = 0, time.monotonic() + timeout
    while done < expected:
        assert time.monotonic() < deadline, f"only {done} of {expected} commands were run"
        done += consumer.poll_once()


def test_a_command_sent_twice_has_one_effect_and_two_identical_results(
    services: Services, kafka_broker: TansuBroker
) -> None:
    for topic in (COMMANDS_TOPIC, RESULTS_TOPIC):
        ensure_topic(kafka_broker.bootstrap, topic, partitions=2)
    command = {
        "command_id": f"cmd-{uuid4()}",
        "token": user_token(services, "svc.orders", "admin"),
        "type": "CreateOpportunity",
        "body": {
            "title": "From Kafka",
            "owner": "ann",
            "expected_close": "2027-06-30",
            "account_name": "Kafka Account",
            "amount": {"amount": "1200.00", "currency": "EUR"},
        },
    }
    # Given the same command delivered twice (a producer retry, a redelivery)
    _send(kafka_broker, command, command)
    consumer = _consumer(services, kafka_broker, "crmledger-test")
    try:
        # When the consumer runs them
        _drain(consumer, 2)
    finally:
        consumer.close()
    # Then there are two results, identical, keyed by the command id
    results = _results(kafka_broker, 2)
    assert len(results) == 2
    assert [r.key.decode() for r in results] == [command["command_id"]] * 2
    first, second = (json.loads(r.value) for r in results)
    assert first == second
    assert first["status"] == "ok" and first["status_code"] == 201
    # and one effect: one opportunity, created once
    opportunity_id = UUID(first["answer"]["id"])
    created = [
        e for e in services.store.history(opportunity_id) if isinstance(e, OpportunityCreated)
    ]
    assert len(created) == 1
    # made by the token's user, in the command's name
    assert (created[0].by, created[0].request_id, created[0].causation_id) == (
        "svc.orders",
        command["command_id"],
        command["command_id"],
    )
    state = services.store.load(opportunity_id)
    assert isinstance(state, Opportunity) and state.title == "From Kafka"


def test_refused_and_malformed_commands_get_error_results_and_write_nothing(
    services: Services, kafka_broker: TansuBroker
) -> None:
    for topic in (COMMANDS_TOPIC, RESULTS_TOPIC):
        ensure_topic(kafka_broker.bootstrap, topic, partitions=1)
    token = user_token(services, "svc.orders", "admin")
    before = services.store.max_position()
    unknown = {"command_id": "c-1", "token": token, "type": "LaunchRocket", "body": {}}
    invalid = {
        "command_id": "c-2",
        "token": token,
        "type": "CreateOpportunity",
        "body": {"title": 5},
    }
    refused = {
        "command_id": "c-3",
        "token": token,
        "type": "SellOpportunity",
        "body": {"opportunity_id": str(uuid4())},
    }
    sale = {"type": "CreateOpportunity", "body": {"title": "T", "owner": "ann"}}
    no_token = {"command_id": "c-4", **sale}
    bad_token = {"command_id": "c-5", "token": token[:-4] + "AAAA", **sale}
    nobodys = {
        "command_id": "c-6",
        "token": token,
        "type": "CreateOpportunity",
        "body": {
            "title": "T",
            "owner": "zoe",
            "expected_close": "2027-06-30",
            "account_name": "Kafka Account",
        },
    }
    _send(kafka_broker, unknown, invalid, refused, no_token, bad_token, nobodys)
    consumer = _consumer(services, kafka_broker, "crmledger-test-2")
    try:
        _drain(consumer, 6)
    finally:
        consumer.close()
    results = {r.key.decode(): json.loads(r.value) for r in _results(kafka_broker, 6)}
    assert (results["c-1"]["status_code"], results["c-1"]["error"]) == (404, "unknown_command")
    assert (results["c-2"]["status_code"], results["c-2"]["error"]) == (422, "invalid_input")
    assert (results["c-3"]["status_code"], results["c-3"]["error"]) == (404, "not_found")
    # an owner who is no user: the sentence names the login
    assert (results["c-6"]["status_code"], results["c-6"]["error"]) == (409, "invalid_user")
    assert "'zoe'" in results["c-6"]["detail"]
    for unauthenticated in ("c-4", "c-5"):
        answer = results[unauthenticated]
        assert (answer["status_code"], answer["error"]) == (401, "unauthenticated")
    assert all(r["status"] == "error" and r["detail"] for r in results.values())
    assert services.store.max_position() == before


def test_a_webhook_sent_over_kafka_is_screened_as_over_http(
    services: Services, kafka_broker: TansuBroker
) -> None:
    # Given the commands worker as the worker builds it (private addresses refused)
    for topic in (COMMANDS_TOPIC, RESULTS_TOPIC):
        ensure_topic(kafka_broker.bootstrap, topic, partitions=1)
    settings = services.settings.model_copy(
        update={"kafka_bootstrap_servers": kafka_broker.bootstrap, "webhook_allow_private": "no"}
    )
    admin = user_token(services, "svc.hooks", "admin")
    rep = user_token(services, "rita", "rep")
    before = services.store.max_position()
    hook = {"webhook_id": str(uuid4()), "events": ["*"]}
    # When an admin registers a loopback, a link-local and an IPv6 loopback URL, and a rep
    # any URL
    _send(
        kafka_broker,
        *(
            {"command_id": f"w-{n}", "token": admin, "type": "RegisterWebhook",
             "body": {**hook, "url": url}}
            for n, url in enumerate(
                ("http://127.0.0.1:8080/hook", "http://169.254.169.254/", "http://[::1]/")
            )
        ),
        {"command_id": "w-rep", "token": rep, "type": "RegisterWebhook",
         "body": {**hook, "url": "http://127.0.0.1/"}},
    )  # fmt: skip
    supervisor = worker._commands(services, settings, Health())
    consumer = supervisor._make()
    try:
        _drain(consumer, 4)
    finally:
        consumer.close()
    # Then each is refused as HTTP refuses it, the rep's for want of the right
    results = {r.key.decode(): json.loads(r.value) for r in _results(kafka_broker, 4)}
    for n in range(3):
        answer = results[f"w-{n}"]
        assert (answer["status_code"], answer["error"]) == (422, "invalid_input"), answer
    assert results["w-rep"]["status_code"] == 403
    # And nothing was written
    assert services.store.max_position() == before
