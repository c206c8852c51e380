"""The production shape as real processes, for the tests that take it apart under load.

- ``servers``: a PostgreSQL server of the test's own (restarting it disturbs no other
  test) and a tansu broker (``proxied``: behind a proxy, to ``cut`` and ``restore``).
- ``Deployment``: ``crmledger`` processes on them, each remembered with its arguments
  and environment, so ``restart`` (SIGKILL, then the same again) starts the same one.
- ``Api``: a well-behaved HTTP client: one ``Idempotency-Key`` per command, kept on every
  retry; a 503 waited out (``Retry-After``); no answer at all (the API restarting) tried
  again shortly.
- ``make_users``, ``make_catalogue``: reps by ``crmledger users``, as an operator makes
  them; products and a price book with their prices, as an admin makes them.
- ``HttpClient``, ``KafkaClient``: threads selling all the time — a deal, and every other
  one sold with a quote of the catalogue's products — over HTTP, and as commands on
  ``crmledger.commands`` (a deal's commands keyed by the deal: one partition, in order).
- ``assert_clients_clean``, ``assert_logs_clean``, ``assert_nothing_lost``: what must hold
  afterwards (see ``assert_nothing_lost``).
"""

from __future__ import annotations

import contextlib
import http.client
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
from kafka.admin import KafkaAdminClient
from psycopg import sql

from adapters.event_store.log import EventLog
from adapters.event_store.postgres import ensure_postgres_schema
from adapters.event_store.store import SalesEventStore
from adapters.kafka_commands import COMMANDS_TOPIC, RESULTS_TOPIC
from adapters.kafka_projector import OFFSETS, VERSIONS
from adapters.readmodel_store import READ_MODEL_NAME, open_store
from adapters.settings import Settings
from domain.events import event_id
from projections.runner import Projector
from readmodels import SLICES
from readmodels.contracts.tables import CONTRACTS
from readmodels.deals.tables import OPPORTUNITIES
from tests.conftest import IN_CI
from tests.kafka_broker import TansuBroker, consume
from tests.postgres_server import PostgresServer, postgres_bin
from tests.processes import Crmledger, crmledger, wait_until
from tests.readmodel_tables import KAFKA_TABLES, PROJECTOR_TABLES

TIMEOUT = 120.0  # a wait on the whole deployment (catching up after an outage) on a slow CI
REPS = ("alice", "bob", "carol", "dave")  # the clients' deals are theirs; dave's from Kafka
# What no log of a process may hold: a traceback, an internal error, a failure that was no
# outage, settings refused.
BAD_LOG_LINES = ("Traceback", "internal_error", "unexpected_error", "_failed", "bad_settings")


def wait(condition: Callable[[], bool], what: str, timeout: float = TIMEOUT) -> None:
    wait_until(condition, what, timeout=timeout, interval=0.2)


# --- the servers and the processes -------------------------------------------------------------


@contextlib.contextmanager
def servers(tmp_path: Path, *, proxied: bool) -> Iterator[tuple[PostgresServer, TansuBroker]]:
    """A PostgreSQL server and a broker of this test's own, for the block."""
    if postgres_bin() is None:
        missing = "the outage tests need the PostgreSQL server binaries (initdb, pg_ctl)"
        if IN_CI:
            pytest.fail(missing + " (CI=true: they must run)", pytrace=False)
        pytest.skip(missing)
    pg = PostgresServer()
    try:
        pg.init()
        pg.start()
        broker = TansuBroker(tmp_path, proxied=proxied)
        try:
            broker.start()
            yield pg, broker
        finally:
            broker.stop()
    finally:
        pg.destroy()


@dataclass(frozen=True)
class Launch:
    """How a process was started: ``crmledger *args`` in ``env``."""

    args: tuple[str, ...]
    env: dict[str, str]


@dataclass
class Deployment:
    settings: Settings  # where its store is, as the test reads it
    pg: PostgresServer
    broker: TansuBroker
    logs: Path
    base: str = ""  # the API's URL
    token: str = ""  # an admin's, made with `crmledger users` once the API answers
    processes: dict[str, Crmledger] = field(default_factory=dict)
    launches: dict[str, Launch] = field(default_factory=dict)

    def start(self, name: str, args: tuple[str, ...], env: dict[str, str]) -> None:
        self.launches[name] = Launch(args, env)
        self.processes[name] = Crmledger(list(args), env, self.logs / f"{name}.log")

    def restart(self, name: str) -> int:
        """SIGKILL the process (no cleanup), then start it as before (its log goes on in the
        same file); how much of its log there was before."""
        self.processes[name].kill()
        before = len(self.log(name))
        launch = self.launches[name]
        self.processes[name] = Crmledger(list(launch.args), launch.env, self.logs / f"{name}.log")
        return before

    def log(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(errors="replace")

    def pids(self) -> dict[str, int]:
        return {name: p.process.pid for name, p in self.processes.items()}

    def stop_all(self) -> None:
        for process in self.processes.values():
            if process.running():
                process.process.terminate()
        for process in self.processes.values():
            process.stop()


def topics(bootstrap: str) -> set[str]:
    """The topics the broker has."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        return set(admin.list_topics())
    finally:
        admin.close()


def answers(url: str) -> bool:
    """``url`` answers 200."""
    try:
        urllib.request.urlopen(url, timeout=2).read()
    except (OSError, http.client.HTTPException):
        return False
    return True


def get(url: str, token: str) -> tuple[int, dict[str, Any]]:
    """A GET's status and JSON answer (of an error too)."""
    request = urllib.request.Request(url, headers={"authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


# --- the clients -------------------------------------------------------------------------------


class Api:
    """Commands over HTTP as an admin, as a well-behaved client sends them: the answers'
    statuses counted, and how often the API did not answer at all."""

    def __init__(self, base: str, token: str, name: str) -> None:
        self.base = base
        self.token = token
        self.name = name
        self.statuses: Counter[int] = Counter()
        self.unanswered = 0

    def post(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        key = f"{self.name}-{uuid4()}"
        data = json.dumps(body or {}).encode()
        deadline = time.monotonic() + TIMEOUT
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
                refusal = json.loads(payload)
                assert refusal["error"] == "unavailable" and refusal["detail"], refusal
                pause = min(float(error.headers["Retry-After"]), 2.0)
            except (OSError, http.client.HTTPException):
                # No answer: the API is not there (restarting). The command may have been
                # saved before it went; the same key makes the retry answer as the first.
                self.unanswered += 1
                pause = 0.2
            if time.monotonic() > deadline:
                raise AssertionError(f"{path}: no answer in {TIMEOUT} s")
            time.sleep(pause)


def make_users(settings: Settings) -> None:
    """The reps who own the clients' deals, added as an operator adds them."""
    for owner in REPS:
        added = crmledger(settings, "users", "add", owner, "--role", "rep")
        assert added.code == 0, added.err


@dataclass(frozen=True)
class Catalogue:
    price_book_id: str
    product_ids: tuple[str, ...]


PRODUCTS = (
    {"name": "CRM licence", "code": "CRM", "category": "software", "kind": "time_based"},
    {"name": "Onboarding", "code": "ONBOARD", "category": "implementation", "kind": "one_off"},
)


def make_catalogue(api: Api) -> Catalogue:
    """Products (a subscription, a one-off service) and a price book with their prices."""
    products = []
    for product in PRODUCTS:
        term = {"term_months": 12} if product["kind"] == "time_based" else {}
        products.append(api.post("/products", {**product, **term})["id"])
    book = api.post("/price-books", {"name": "Standard"})["id"]
    for n, product_id in enumerate(products):
        price = {
            "product_id": product_id,
            "unit": "seat",
            "currency": "EUR",
            "price": f"{10 * n + 9}.00",
        }
        api.post(f"/price-books/{book}/prices", price)
    return Catalogue(book, tuple(products))


@dataclass
class Sales:
    """What a client made: its deals, and the quote items of those it sold."""

    deals: list[UUID] = field(default_factory=list)
    sold: dict[UUID, set[UUID]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)


class HttpClient(threading.Thread):
    """Sells over HTTP: a deal, and every other one quoted with the catalogue's products,
    activated and sold."""

    def __init__(self, api: Api, catalogue: Catalogue, stop: threading.Event) -> None:
        super().__init__(daemon=True, name=api.name)
        self.api = api
        self.catalogue = catalogue
        self.stop = stop
        self.sales = Sales()

    def run(self) -> None:
        n = 0
        try:
            while not self.stop.is_set():
                n += 1
                deal = self.api.post(
                    "/opportunities",
                    {
                        "title": f"{self.name} deal {n}",
                        "owner": REPS[n % 3],
                        "expected_close": "2027-09-30",
                        "account_name": f"Account {n % 5}",
                        "amount": {"amount": f"{100 * n}.00", "currency": "EUR"},
                    },
                )
                self.sales.deals.append(UUID(deal["id"]))
                if n % 2 == 0:
                    self.sell(deal["id"], n)
        except BaseException as error:  # surfaced by the test
            self.sales.failures.append(f"{type(error).__name__}: {error}")

    def sell(self, deal: str, n: int) -> None:
        book = self.catalogue.price_book_id
        quote = self.api.post(
            f"/opportunities/{deal}/quotes",
            {"name": f"Offer {n}", "currency": "EUR", "price_book_id": book},
        )["quote_id"]
        items = set()
        for product in self.catalogue.product_ids:
            item = {"product_id": product, "quantity": "2"}
            items.add(UUID(self.api.post(f"/quotes/{quote}/items", item)["item_id"]))
        self.api.post(f"/quotes/{quote}/activate")
        self.api.post(f"/opportunities/{deal}/sell")
        self.sales.sold[UUID(deal)] = items


class KafkaClient(threading.Thread):
    """Sells through ``crmledger.commands`` a few times a second: ``CreateOpportunity``, and
    for every other deal ``CreateQuote``, ``AddQuoteItem`` per product, ``ActivateQuote``,
    ``SellOpportunity`` — all keyed by the deal, so they reach one partition in order."""

    def __init__(
        self, bootstrap: str, token: str, catalogue: Catalogue, stop: threading.Event
    ) -> None:
        super().__init__(daemon=True, name="kafka-client")
        self.bootstrap = bootstrap
        self.token = token
        self.catalogue = catalogue
        self.stop = stop
        self.sent: list[str] = []
        self.sales = Sales()

    def run(self) -> None:
        producer = KafkaProducer(bootstrap_servers=self.bootstrap, acks="all", retries=100)

        def send(deal: UUID, type_: str, body: dict[str, Any]) -> None:
            command_id = f"kafka-{uuid4()}"
            message = {"command_id": command_id, "token": self.token, "type": type_, "body": body}
            producer.send(
                COMMANDS_TOPIC, key=str(deal).encode(), value=json.dumps(message).encode()
            )
            self.sent.append(command_id)

        try:
            n = 0
            while not self.stop.is_set():
                n += 1
                deal = uuid4()
                send(
                    deal,
                    "CreateOpportunity",
                    {
                        "opportunity_id": str(deal),
                        "title": f"Kafka deal {n}",
                        "owner": "dave",
                        "expected_close": "2027-10-31",
                        "account_name": "Kafka Account",
                    },
                )
                self.sales.deals.append(deal)
                if n % 2 == 0:
                    quote, items = uuid4(), {p: uuid4() for p in self.catalogue.product_ids}
                    book = self.catalogue.price_book_id
                    send(
                        deal,
                        "CreateQuote",
                        {
                            "quote_id": str(quote),
                            "opportunity_id": str(deal),
                            "name": f"Kafka offer {n}",
                            "currency": "EUR",
                            "price_book_id": book,
                        },
                    )
                    for product, item in items.items():
                        add = {
                            "quote_id": str(quote),
                            "item_id": str(item),
                            "product_id": product,
                            "quantity": "3",
                        }
                        send(deal, "AddQuoteItem", add)
                    send(deal, "ActivateQuote", {"quote_id": str(quote)})
                    send(deal, "SellOpportunity", {"opportunity_id": str(deal)})
                    self.sales.sold[deal] = set(items.values())
                time.sleep(0.25)
            producer.flush(timeout=TIMEOUT)
        except BaseException as error:
            self.sales.failures.append(f"{type(error).__name__}: {error}")
        finally:
            producer.close(timeout=10)


def start_clients(
    deployment: Deployment, catalogue: Catalogue, stop: threading.Event, http_clients: int = 2
) -> tuple[list[HttpClient], KafkaClient]:
    clients = [
        HttpClient(Api(deployment.base, deployment.token, f"client{n}"), catalogue, stop)
        for n in range(http_clients)
    ]
    kafka = KafkaClient(deployment.broker.bootstrap, deployment.token, catalogue, stop)
    for thread in (*clients, kafka):
        thread.start()
    return clients, kafka


def stop_clients(clients: list[HttpClient], kafka: KafkaClient, stop: threading.Event) -> None:
    stop.set()
    for thread in (*clients, kafka):
        thread.join(TIMEOUT)
        assert not thread.is_alive(), f"{thread.name} did not stop"


# --- what must hold afterwards -----------------------------------------------------------------


def query(settings: Settings, statement: str, *params: Any, schema: str | None = None) -> list[Any]:
    assert settings.database_url is not None
    with psycopg.connect(settings.database_url) as conn:
        conn.execute(
            sql.SQL("SET search_path TO {}").format(
                sql.Identifier(schema or settings.database_schema)
            )
        )
        return conn.execute(statement, params or None).fetchall()  # type: ignore[arg-type]


def log_position(settings: Settings) -> int:
    return int(query(settings, "SELECT coalesce(max(notification_id), 0) FROM sales_events")[0][0])


def _tracked(settings: Settings, table: str, name: str) -> int:
    found = query(
        settings, f"SELECT max(notification_id) FROM {table} WHERE application_name = %s", name
    )
    return int(found[0][0] or 0)


def _all_caught_up(settings: Settings, commands_sent: int) -> Callable[[], bool]:
    """Every Kafka command run, and the projector, the process manager and the relay at the
    log's end (which the process manager moves on while it makes contracts)."""

    def check() -> bool:
        end = log_position(settings)
        results = query(
            settings, "SELECT count(*) FROM sales_idempotency_keys WHERE key LIKE 'kafka:%'"
        )[0][0]
        return (
            results >= commands_sent
            and _tracked(settings, f"{READ_MODEL_NAME}_tracking", "Sales") == end
            and _tracked(settings, "sales_tracking", "Sales") == end
            and _tracked(settings, "sales_tracking", "kafka-relay") == end
            and log_position(settings) == end
        )

    return check


def _rows(settings: Settings, table: str, schema: str) -> list[tuple[Any, ...]]:
    return sorted(
        (tuple(row) for row in query(settings, f"SELECT * FROM {table}", schema=schema)),
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


def assert_clients_clean(clients: list[HttpClient], kafka: KafkaClient) -> None:
    """No answer was a 500: the clients met nothing but success and 503s."""
    for client in clients:
        assert client.sales.failures == [], client.sales.failures
        assert set(client.api.statuses) <= {200, 201, 503}, client.api.statuses
    assert kafka.sales.failures == [], kafka.sales.failures


def assert_logs_clean(deployment: Deployment) -> None:
    """No log holds a traceback, an internal error, a failure that was no outage, a 500."""
    for name in deployment.processes:
        log = deployment.log(name)
        for bad in BAD_LOG_LINES:
            assert bad not in log, f"{name}: {bad}\n{log[-3000:]}"
        assert '" 500' not in log and '"status": 500' not in log, name


def assert_nothing_lost(
    deployment: Deployment, clients: list[HttpClient], kafka: KafkaClient
) -> None:
    """Once every worker caught up:

    - every acknowledged write is in the store; the sold deals are won;
    - the events written are the events on the topic (each once after dedupe by event id,
      in each aggregate's order), the events the in-process projector applied (its
      tracking position) and those the Kafka-side projectors applied (each aggregate's
      last applied version);
    - the in-process and the Kafka-side read models are a fresh rebuild of the log, row for
      row;
    - every sold quote item has its contract, made once, and nothing else has one;
    - every Kafka command has one effect and one result (the same, if delivered twice).
    """
    settings = deployment.settings
    wait(_all_caught_up(settings, len(kafka.sent)), "every worker caught up")
    end = log_position(settings)
    schema = settings.database_schema
    kafka_schema = settings.kafka_tables_schema
    everyone = [*(c.sales for c in clients), kafka.sales]

    # Every acknowledged write is in the store and in the read model
    deals = {d for sales in everyone for d in sales.deals}
    sold = {d: items for sales in everyone for d, items in sales.sold.items()}
    assert len(deals) > 20 and sold, (len(deals), len(sold))
    stored = {row[0] for row in query(settings, "SELECT DISTINCT originator_id FROM sales_events")}
    assert deals <= stored
    statuses = dict(query(settings, f"SELECT id, status FROM {OPPORTUNITIES}"))
    assert deals <= set(statuses)
    assert {statuses[d] for d in sold} == {"won"}

    # The events written: each aggregate's versions, each event's id
    written = query(settings, "SELECT originator_id, originator_version FROM sales_events")
    ids = {event_id(aggregate, version) for aggregate, version in written}
    assert len(ids) == len(written)
    last_versions: dict[UUID, int] = {}
    for aggregate, version in written:
        last_versions[aggregate] = max(version, last_versions.get(aggregate, 0))

    # On the topic: every event, once after dedupe, in each aggregate's order
    envelopes = [
        json.loads(m.value)
        for m in consume(deployment.broker.bootstrap, settings.kafka_events_topic, timeout_ms=8_000)
    ]
    assert {UUID(e["event_id"]) for e in envelopes} == ids
    positions = {row[0] for row in query(settings, "SELECT notification_id FROM sales_events")}
    assert {e["position"] for e in envelopes} == positions
    versions: dict[str, list[int]] = {}
    for envelope in envelopes:
        seen = versions.setdefault(envelope["aggregate_id"], [])
        if envelope["aggregate_version"] not in seen:
            seen.append(envelope["aggregate_version"])
    assert all(v == list(range(1, len(v) + 1)) for v in versions.values())

    # The in-process projector applied them all (tracking at the end, checked by the wait),
    # and its read model is the one a fresh rebuild of the log gives, row for row
    fresh = _fresh_rebuild(settings)
    for table in PROJECTOR_TABLES:
        assert _rows(settings, table, schema) == _rows(settings, table, fresh), table

    # The Kafka-side projectors applied them all (each aggregate to its last version), and
    # together hold the same rows
    def kafka_caught_up() -> bool:
        applied = query(
            settings, f"SELECT aggregate_id, aggregate_version FROM {VERSIONS}", schema=kafka_schema
        )
        return dict(applied) == last_versions and all(
            _rows(settings, t, kafka_schema) == _rows(settings, t, fresh) for t in KAFKA_TABLES
        )

    wait(kafka_caught_up, "the Kafka-side projectors have applied every event")
    assert query(settings, f"SELECT count(*) FROM {OFFSETS}", schema=kafka_schema)[0][0] > 0

    # One contract per sold quote item, made once; none for a deal not sold
    contracts = query(settings, f"SELECT opportunity_id, quote_item_id FROM {CONTRACTS}")
    assert Counter(contracts) == Counter((d, i) for d, items in sold.items() for i in items)

    # Every Kafka command has one effect and a result (the same one, if delivered twice)
    results: dict[str, set[str]] = {}
    for message in consume(deployment.broker.bootstrap, RESULTS_TOPIC, timeout_ms=8_000):
        result = json.loads(message.value)
        results.setdefault(result["command_id"], set()).add(message.value.decode())
    assert set(kafka.sent) <= set(results)
    for command_id in kafka.sent:
        (answer,) = results[command_id]
        assert json.loads(answer)["status"] == "ok", answer
    kafka_deals = query(
        settings,
        "SELECT count(*) FROM sales_events WHERE topic = 'OpportunityCreated' "
        "AND convert_from(state, 'UTF8') LIKE %s",
        "%Kafka deal%",
    )
    assert kafka_deals[0][0] == len(kafka.sales.deals)
    assert end == log_position(settings)
