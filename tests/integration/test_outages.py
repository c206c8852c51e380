"""No acknowledged write lost, no worker gone for good: PostgreSQL and Kafka go away under load.

The whole production shape runs as real processes: ``crmledger serve`` and one
worker per role (projector, process-manager, relay, commands, kafka-projector) on a
PostgreSQL server of the test's own (so restarting it disturbs no other test) and a
Kafka-protocol broker behind a proxy (so it can go away and come back with its data).
Two clients write all the time — HTTP commands, whole sales included, retried after
``Retry-After`` with the same ``Idempotency-Key`` as a well-behaved client does, and
sales as commands on ``crmledger.commands`` — while PostgreSQL is restarted, or the
broker is cut off (the processes, clients and checks: ``tests/deployment.py``). Then:

- no answer was a 500 and no log holds a traceback or an internal error;
- every process is the one started at the beginning;
- every acknowledged write is in the store, and every read model equals a fresh
  rebuild of the log (the in-process projector's tables; the Kafka-side projector's
  the same rows; a contract per sold item, made once; every event on the topic once
  after dedupe; one result per Kafka command).

``tests/integration/test_deployment.py`` runs compose.yaml's services instead, and kills
each process once.

Run alone (``-m outage``, one worker): beside the parallel suite the load would measure
the machine, not the product.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from adapters.kafka_commands import COMMANDS_TOPIC, RESULTS_TOPIC
from adapters.kafka_relay import ensure_topic
from adapters.settings import Settings
from tests.deployment import (
    Api,
    Catalogue,
    Deployment,
    HttpClient,
    KafkaClient,
    answers,
    assert_clients_clean,
    assert_logs_clean,
    assert_nothing_lost,
    get,
    make_catalogue,
    make_users,
    servers,
    start_clients,
    stop_clients,
    wait,
)
from tests.kafka_broker import free_port
from tests.processes import admin_token, environment

pytestmark = [pytest.mark.outage, pytest.mark.xdist_group("outages")]

ROLES = ("projector", "process-manager", "relay", "commands", "kafka-projector")


def _env(settings: Settings) -> dict[str, str]:
    """Every process's environment: the store, the broker, and short waits for a test."""
    assert settings.kafka_bootstrap_servers
    return environment(
        settings,
        CRMLEDGER_KAFKA_BOOTSTRAP_SERVERS=settings.kafka_bootstrap_servers,
        CRMLEDGER_KAFKA_PARTITIONS="3",
        CRMLEDGER_KAFKA_MAX_POLL_INTERVAL_SECONDS="10",
        CRMLEDGER_RUN_PROJECTOR="no",
        CRMLEDGER_PROJECTOR_POLL_SECONDS="0.1",
        CRMLEDGER_CHECKPOINT_INTERVAL="100",
        CRMLEDGER_RETRY_MAX_SECONDS="2",
        CRMLEDGER_PG_CONNECT_TIMEOUT_SECONDS="5",
        CRMLEDGER_LOG_FORMAT="json",
    )


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[Deployment]:
    with servers(tmp_path, proxied=True) as (pg, broker):
        logs = tmp_path / "logs"
        logs.mkdir()
        settings = Settings(
            database_url=pg.url,
            database_schema="crm",
            kafka_bootstrap_servers=broker.bootstrap,
            kafka_partitions=3,
            checkpoint_interval=100,
        )
        deployment = Deployment(settings=settings, pg=pg, broker=broker, logs=logs)
        for topic in ("crmledger.events", COMMANDS_TOPIC, RESULTS_TOPIC):
            ensure_topic(broker.bootstrap, topic, 3)
        port = free_port()
        deployment.base = f"http://127.0.0.1:{port}"
        try:
            deployment.start("api", ("serve", "--port", str(port)), _env(settings))
            wait(lambda: answers(f"{deployment.base}/health"), "the API answers")
            deployment.token = admin_token(settings)
            make_users(settings)
            for role in ROLES:
                deployment.start(role, ("worker", "--role", role), _env(settings))
            yield deployment
        finally:
            deployment.stop_all()


def _run_clients(
    deployment: Deployment, outage: Callable[[], None]
) -> tuple[list[HttpClient], KafkaClient]:
    catalogue: Catalogue = make_catalogue(Api(deployment.base, deployment.token, "admin"))
    stop = threading.Event()
    clients, kafka = start_clients(deployment, catalogue, stop)
    try:
        time.sleep(4)  # a steady load first
        outage()
        time.sleep(6)  # and on after it
    finally:
        stop_clients(clients, kafka, stop)
    return clients, kafka


def _assert_outage_ridden_out(
    deployment: Deployment, clients: list[HttpClient], kafka: KafkaClient, pids: dict[str, int]
) -> None:
    assert_clients_clean(clients, kafka)
    assert all(c.api.unanswered == 0 for c in clients)  # the API never went away
    assert_logs_clean(deployment)
    # Every process is the one started at the beginning
    for name, process in deployment.processes.items():
        assert process.running(), f"{name} exited\n{deployment.log(name)[-3000:]}"
        assert process.process.pid == pids[name]
    assert_nothing_lost(deployment, clients, kafka)


# --- the tests ---------------------------------------------------------------------------------


def test_a_postgresql_restart_under_load_loses_no_write_and_no_worker(
    deployment: Deployment,
) -> None:
    pids = deployment.pids()

    seen: dict[str, tuple[int, dict[str, Any]]] = {}

    def restart() -> None:
        # A restart as an operator does it, then one that takes a while (down for 5 s)
        deployment.pg.restart()
        time.sleep(3)
        deployment.pg.stop()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            for route in ("/health", "/read-models/status"):
                status, body = get(deployment.base + route, deployment.token)
                if status == 503 and route not in seen:
                    seen[route] = (status, body)
            time.sleep(0.2)
        deployment.pg.start()

    clients, kafka = _run_clients(deployment, restart)

    # The outage was real: the API answered 503 meanwhile, the loops waited for PostgreSQL
    assert sum(c.api.statuses[503] for c in clients) > 0
    # and its operations routes said what it waited for
    for route in ("/health", "/read-models/status"):
        assert route in seen, f"{route} never answered 503 while PostgreSQL was down"
        _, body = seen[route]
        waiting = body["waiting"]
        assert (
            waiting and waiting[0]["waiting_for"] == f"PostgreSQL at 127.0.0.1:{deployment.pg.port}"
        )
        assert waiting[0]["since"] and waiting[0]["retry_in_seconds"] >= 1
    for name in ("api", "projector", "process-manager", "relay"):
        assert "waiting_for_postgres" in deployment.log(name), name
    _assert_outage_ridden_out(deployment, clients, kafka, pids)


def test_a_kafka_broker_outage_under_load_loses_nothing_and_no_worker(
    deployment: Deployment,
) -> None:
    pids = deployment.pids()

    def outage() -> None:
        deployment.broker.cut()
        time.sleep(12)
        deployment.broker.restore()

    clients, kafka = _run_clients(deployment, outage)

    # The outage was real: the Kafka loops said they waited for the broker; the API, which
    # needs no broker, answered every request
    for name in ("relay", "commands", "kafka-projector"):
        assert "waiting_for_kafka" in deployment.log(name), name
    assert sum(c.api.statuses[503] for c in clients) == 0
    _assert_outage_ridden_out(deployment, clients, kafka, pids)
