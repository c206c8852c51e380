"""No acknowledged write lost, no worker gone for good: PostgreSQL and Kafka go away under load.

The whole production shape runs as real processes: ``crmledger serve`` and one
worker per role (projector, process-manager, relay, commands, kafka-projector) on a
PostgreSQL server of the test's own (so restarting it disturbs no other test) and a
Kafka-protocol broker behind a proxy (so it can go away and come back with its data).
Two clients write all the time — HTTP commands, whole sales included, retried after
``Retry-After`` with the same ``Idempotency-Key`` as a well-behaved client does, and
commands on ``crmledger.commands`` — while PostgreSQL is restarted, or the broker is
cut off. Then:

- no answer was a 500 and no log holds a traceback or an internal error;
- every process is the one started at the beginning;
- every acknowledged write is in the store, and every read model equals a fresh
  rebuild of the log (the in-process projector's tables; the Kafka-side projector's
  the same rows; a contract per sold item, made once; every event on the topic once
  after dedupe; one result per Kafka command).

Run alone (``-m outage``, one worker): beside the parallel suite the load would measure
the machine, not the product.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest
from kafka import KafkaProducer
from psycopg import sql

from adapters.event_store.log import EventLog
from adapters.event_store.postgres import ensure_postgres_schema
from adapters.event_store.store import SalesEventStore
from adapters.kafka_commands import COMMANDS_TOPIC, RESULTS_TOPIC
from adapters.kafka_projector import OFFSETS
from adapters.kafka_relay import ensure_topic
from adapters.readmodel_store import READ_MODEL_NAME, open_store
from adapters.settings import Settings
from projections.runner import Projector
from readmodels import SLICES
from readmodels.contracts.tables import CONTRACTS
from readmodels.deals.tables import OPPORTUNITIES
from tests.conftest import IN_CI
from tests.kafka_broker import TansuBroker, consume, free_port
from tests.postgres_server import PostgresServer, postgres_bin
from tests.processes import Crmledger, admin_token, crmledger, environment, wait_until
from tests.readmodel_tables import KAFKA_TABLES, PROJECTOR_TABLES

pytestmark = [pytest.mark.outage, pytest.mark.xdist_group("outages")]

ROLES = ("projector", "process-manager", "relay", "commands", "kafka-projector")
TIMEOUT = 120.0


# --- the deployment ----------------------------------------------------------------------------


@dataclass
class Deployment:
    settings: Settings
    pg: PostgresServer
    broker: TansuBroker
    logs: Path
    base: str = ""
    token: str = ""  # an admin's, made with `crmledger users` once the API answers
    processes: dict[str, Crmledger] = field(default_factory=dict)

    def env(self) -> dict[str, str]:
        assert self.settings.kafka_bootstrap_servers
        return environment(
            self.settings,
            CRMLEDGER_KAFKA_BOOTSTRAP_SERVERS=self.settings.kafka_bootstrap_servers,
            CRMLEDGER_KAFKA_PARTITIONS="3",
            CRMLEDGER_KAFKA_MAX_POLL_INTERVAL_SECONDS="10",
            CRMLEDGER_RUN_PROJECTOR="no",
            CRMLEDGER_PROJECTOR_POLL_SECONDS="0.1",
            CRMLEDGER_CHECKPOINT_INTERVAL="100",
            CRMLEDGER_RETRY_MAX_SECONDS="2",
            CRMLEDGER_PG_CONNECT_TIMEOUT_SECONDS="5",
            CRMLEDGER_LOG_FORMAT="json",
        )

    def start(self, name: str, *args: str) -> None:
        self.processes[name] = Crmledger(list(args), self.env(), self.logs / f"{name}.log")

    def log(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(errors="replace")

    def stop_all(self) -> None:
        for process in self.processes.values():
            if process.running():
                process.process.terminate()
        for process in self.processes.values():
            process.stop()


def _wait(condition: Callable[[], bool], what: str, timeout: float = TIMEOUT) -> None:
    wait_until(condition, what, timeout=timeout, interval=0.2)


def _get(url: str, token: str) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(url, headers={"authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _answers(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=2).read()
    except (OSError, urllib.error.URLError):
        return False
    return True


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[Deployment]:
    if postgres_bin() is None:
        missing = "the outage tests need the PostgreSQL server binaries (initdb, pg_ctl)"
        if IN_CI:
            pytest.fail(missing + " (CI=true: they must run)", pytrace=False)
        pytest.skip(missing)
    pg = PostgresServer()
    pg.init()
    pg.start()
    broker = TansuBroker(tmp_path, proxied=True)
    broker.start()
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
        deployment.start("api", "serve", "--port", str(port))
        _wait(lambda: _answers(f"{deployment.base}/health"), "the API answers")
        deployment.token = admin_token(settings)
        for owner in ("alice", "bob", "carol", "dave"):  # the clients' deals are theirs
            added = crmledger(settings, "users", "add", owner, "--role", "rep")
            assert added.code == 0, added.err
        for role in ROLES:
            deployment.start(role, "worker", "--role", role)
        yield deployment
    finally:
        deployment.stop_all()
        broker.stop()
        pg.destroy()


# --- the clients -------------------------------------------------------------------------------


class HttpClient(threading.Thread):
    """Writes steadily over HTTP: new deals, and every third one sold with a time-based item.
    A 503 is retried after its Retry-After with the same Idempotency-Key."""

    def __init__(self, base: str, token: str, stop: threading.Event, name: str) -> None:
        super().__init__(daemon=True, name=name)
        self.base = base
        self.token = token
        self.stop = stop
        self.statuses: Counter[int] = Counter()
        self.failures: list[str] = []
        self.deals: list[UUID] = []
        self.sold: list[UUID] = []

    def call(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        key = f"{self.name}-{uuid4()}"
        data = json.dumps(body or {}).encode()
        while True:
            request = urllib.request.Request(
                self.base + path,
                data=data,
                method="POST",
                headers={
                    "content-type": "application/json",
                    "Idempotency-Key": key,
                    "authorization": f"Bearer {self.token}",
                },
            )
            try:
                with urllib.request.urlopen(request, timeout=60) as response:
                    self.statuses[response.status] += 1
                    answer: dict[str, Any] = json.loads(response.read())
                    return answer
            except urllib.error.HTTPError as error:
                self.statuses[error.code] += 1
                payload = error.read()
                if error.code != 503:
                    raise AssertionError(f"{path}: {error.code} {payload!r}") from None
                body503 = json.loads(payload)
                assert body503["error"] == "unavailable" and body503["detail"], body503
                time.sleep(min(float(error.headers["Retry-After"]), 2.0))

    def run(self) -> None:
        n = 0
        try:
            while not self.stop.is_set():
                n += 1
                deal = self.call(
                    "/opportunities",
                    {
                        "title": f"{self.name} deal {n}",
                        "owner": ("alice", "bob", "carol")[n % 3],
                        "expected_close": "2027-09-30",
                        "account_name": f"Account {n % 5}",
                        "amount": {"amount": f"{100 * n}.00", "currency": "EUR"},
                    },
                )
                self.deals.append(UUID(deal["id"]))
                if n % 3 == 0:
                    self.sell(deal["id"], n)
        except BaseException as error:  # surfaced by the test
            self.failures.append(f"{type(error).__name__}: {error}")

    def sell(self, deal: str, n: int) -> None:
        quote = self.call(f"/opportunities/{deal}/quotes", {"name": "Q", "currency": "EUR"})
        item = {
            "name": f"Support {n}",
            "quantity": "1",
            "unit_price": "1200.00",
            "kind": "time_based",
            "term_months": 12,
            "category": "support",
        }
        self.call(f"/quotes/{quote['id']}/items", item)
        self.call(f"/quotes/{quote['id']}/activate")
        self.call(f"/opportunities/{deal}/sell")
        self.sold.append(UUID(deal))


class KafkaClient(threading.Thread):
    """Sends a CreateOpportunity command to crmledger.commands a few times a second."""

    def __init__(self, bootstrap: str, token: str, stop: threading.Event) -> None:
        super().__init__(daemon=True, name="kafka-client")
        self.bootstrap = bootstrap
        self.token = token
        self.stop = stop
        self.sent: list[str] = []
        self.failures: list[str] = []

    def run(self) -> None:
        producer = KafkaProducer(bootstrap_servers=self.bootstrap, acks="all", retries=100)
        try:
            n = 0
            while not self.stop.is_set():
                n += 1
                command_id = f"kafka-{uuid4()}"
                message = {
                    "command_id": command_id,
                    "token": self.token,
                    "type": "CreateOpportunity",
                    "body": {
                        "title": f"Kafka deal {n}",
                        "owner": "dave",
                        "expected_close": "2027-10-31",
                        "account_name": "Kafka Account",
                    },
                }
                producer.send(
                    COMMANDS_TOPIC, key=command_id.encode(), value=json.dumps(message).encode()
                )
                self.sent.append(command_id)
                time.sleep(0.25)
            producer.flush(timeout=TIMEOUT)
        except BaseException as error:
            self.failures.append(f"{type(error).__name__}: {error}")
        finally:
            producer.close(timeout=10)


# --- what must hold afterwards -----------------------------------------------------------------


def _query(settings: Settings, query: str, *params: Any, schema: str | None = None) -> list[Any]:
    assert settings.database_url is not None
    with psycopg.connect(settings.database_url) as conn:
        conn.execute(
            sql.SQL("SET search_path TO {}").format(
                sql.Identifier(schema or settings.database_schema)
            )
        )
        return conn.execute(query, params or None).fetchall()  # type: ignore[arg-type]


def _log_position(settings: Settings) -> int:
    return int(_query(settings, "SELECT coalesce(max(notification_id), 0) FROM sales_events")[0][0])


def _tracked(settings: Settings, table: str, name: str) -> int:
    found = _query(
        settings, f"SELECT max(notification_id) FROM {table} WHERE application_name = %s", name
    )
    return int(found[0][0] or 0)


def _all_caught_up(deployment: Deployment, commands_sent: int) -> Callable[[], bool]:
    settings = deployment.settings

    def check() -> bool:
        end = _log_position(settings)
        results = _query(
            settings, "SELECT count(*) FROM sales_idempotency_keys WHERE key LIKE 'kafka:%'"
        )[0][0]
        return (
            results >= commands_sent
            and _tracked(settings, f"{READ_MODEL_NAME}_tracking", "Sales") == end
            and _tracked(settings, "sales_tracking", "Sales") == end
            and _tracked(settings, "sales_tracking", "kafka-relay") == end
            and _log_position(settings) == end
        )

    return check


def _rows(settings: Settings, table: str, schema: str) -> list[tuple[Any, ...]]:
    return sorted(
        (tuple(row) for row in _query(settings, f"SELECT * FROM {table}", schema=schema)),
        key=repr,
    )


def _fresh_rebuild(settings: Settings) -> str:
    """The log projected from scratch into another schema; its name."""
    fresh = settings.model_copy(update={"database_schema": f"{settings.database_schema}_fresh"})
    ensure_postgres_schema(fresh)
    views = open_store(fresh)
    store = SalesEventStore.open(settings)
    try:
        Projector(
            EventLog(store.app), views, SLICES, checkpoint_interval=settings.checkpoint_interval
        ).rebuild()
    finally:
        store.close()
        views.datastore.close()
    return fresh.database_schema


def assert_nothing_lost(
    deployment: Deployment, clients: list[HttpClient], kafka: KafkaClient, pids: dict[str, int]
) -> None:
    settings = deployment.settings
    # No answer was a 500; the clients met nothing but success and 503s
    for client in clients:
        assert client.failures == [], client.failures
        assert set(client.statuses) <= {200, 201, 503}, client.statuses
    assert kafka.failures == [], kafka.failures
    # and no log holds a traceback, an internal error, a failure that was not an outage
    for name in ("api", *ROLES):
        log = deployment.log(name)
        for bad in ("Traceback", "internal_error", "unexpected_error", "_failed", "bad_settings"):
            assert bad not in log, f"{name}: {bad}\n{log[-3000:]}"
        assert '" 500' not in log and '"status": 500' not in log, name
    # Every process is the one started at the beginning
    for name, process in deployment.processes.items():
        assert process.running(), f"{name} exited\n{deployment.log(name)[-3000:]}"
        assert process.process.pid == pids[name]

    _wait(_all_caught_up(deployment, len(kafka.sent)), "every worker caught up")
    end = _log_position(settings)
    schema = settings.database_schema

    # Every acknowledged write is in the store and in the read model
    deals = {d for client in clients for d in client.deals}
    sold = {d for client in clients for d in client.sold}
    assert len(deals) > 20 and sold, (len(deals), len(sold))
    stored = {row[0] for row in _query(settings, "SELECT DISTINCT originator_id FROM sales_events")}
    assert deals <= stored
    statuses = dict(_query(settings, f"SELECT id, status FROM {OPPORTUNITIES}"))
    assert deals <= set(statuses)
    assert {statuses[d] for d in sold} == {"won"}

    # The read model is the one a fresh rebuild of the log gives, row for row
    fresh = _fresh_rebuild(settings)
    for table in PROJECTOR_TABLES:
        assert _rows(settings, table, schema) == _rows(settings, table, fresh), table

    # One contract per sold item, made once
    contracts = _query(settings, f"SELECT opportunity_id, count(*) FROM {CONTRACTS} GROUP BY 1")
    assert {row[0]: row[1] for row in contracts if row[0] in sold} == dict.fromkeys(sold, 1)

    # Every event reached Kafka, once after dedupe, in each aggregate's order
    positions = {row[0] for row in _query(settings, "SELECT notification_id FROM sales_events")}
    envelopes = [
        json.loads(m.value) for m in consume(deployment.broker.bootstrap, timeout_ms=8_000)
    ]
    assert {e["position"] for e in envelopes} == positions
    versions: dict[str, list[int]] = {}
    for envelope in envelopes:
        seen = versions.setdefault(envelope["aggregate_id"], [])
        if envelope["aggregate_version"] not in seen:
            seen.append(envelope["aggregate_version"])
    assert all(v == list(range(1, len(v) + 1)) for v in versions.values())

    # The Kafka-side projector holds the in-process projector's rows
    kafka_schema = settings.kafka_tables_schema

    def kafka_caught_up() -> bool:
        return all(
            _rows(settings, t, kafka_schema) == _rows(settings, t, schema) for t in KAFKA_TABLES
        )

    _wait(kafka_caught_up, "the Kafka-side projector has every row")
    assert _query(settings, f"SELECT count(*) FROM {OFFSETS}", schema=kafka_schema)[0][0] > 0

    # Every Kafka command has one effect and a result (the same one, if delivered twice)
    results: dict[str, set[str]] = {}
    for message in consume(deployment.broker.bootstrap, RESULTS_TOPIC, timeout_ms=8_000):
        result = json.loads(message.value)
        results.setdefault(result["command_id"], set()).add(message.value.decode())
    assert set(kafka.sent) <= set(results)
    for command_id in kafka.sent:
        (answer,) = results[command_id]
        assert json.loads(answer)["status"] == "ok", answer
    kafka_deals = _query(
        settings,
        "SELECT count(*) FROM sales_events WHERE topic = 'OpportunityCreated' "
        "AND convert_from(state, 'UTF8') LIKE %s",
        "%Kafka deal%",
    )
    assert end == _log_position(settings)
    assert kafka_deals[0][0] == len(kafka.sent)


def _run_clients(
    deployment: Deployment, outage: Callable[[], None]
) -> tuple[list[HttpClient], KafkaClient]:
    stop = threading.Event()
    clients = [HttpClient(deployment.base, deployment.token, stop, f"client{n}") for n in range(2)]
    kafka = KafkaClient(deployment.broker.bootstrap, deployment.token, stop)
    for thread in (*clients, kafka):
        thread.start()
    try:
        time.sleep(4)  # a steady load first
        outage()
        time.sleep(6)  # and on after it
    finally:
        stop.set()
        for thread in (*clients, kafka):
            thread.join(TIMEOUT)
    return clients, kafka


# --- the tests ---------------------------------------------------------------------------------


def test_a_postgresql_restart_under_load_loses_no_write_and_no_worker(
    deployment: Deployment,
) -> None:
    pids = {name: p.process.pid for name, p in deployment.processes.items()}

    seen: dict[str, tuple[int, dict[str, Any]]] = {}

    def restart() -> None:
        # A restart as an operator does it, then one that takes a while (down for 5 s)
        deployment.pg.restart()
        time.sleep(3)
        deployment.pg.stop()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            for route in ("/health", "/read-models/status"):
                status, body = _get(deployment.base + route, deployment.token)
                if status == 503 and route not in seen:
                    seen[route] = (status, body)
            time.sleep(0.2)
        deployment.pg.start()

    clients, kafka = _run_clients(deployment, restart)

    # The outage was real: the API answered 503 meanwhile, the loops waited for PostgreSQL
    assert sum(c.statuses[503] for c in clients) > 0
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
    assert_nothing_lost(deployment, clients, kafka, pids)


def test_a_kafka_broker_outage_under_load_loses_nothing_and_no_worker(
    deployment: Deployment,
) -> None:
    pids = {name: p.process.pid for name, p in deployment.processes.items()}

    def outage() -> None:
        deployment.broker.cut()
        time.sleep(12)
        deployment.broker.restore()

    clients, kafka = _run_clients(deployment, outage)

    # The outage was real: the Kafka loops said they waited for the broker; the API, which
    # needs no broker, answered every request
    for name in ("relay", "commands", "kafka-projector"):
        assert "waiting_for_kafka" in deployment.log(name), name
    assert sum(c.statuses[503] for c in clients) == 0
    assert_nothing_lost(deployment, clients, kafka, pids)
