"""Read-model benchmark: rebuild rate, as-of latency and incremental lag at 1,000,000 events.

    .venv/bin/python scripts/bench_readmodels.py                      # 1M events, both stores
    .venv/bin/python scripts/bench_readmodels.py --quick --stores sqlite   # 50k smoke run

What it does, per store (SQLite: the embedded default under ``--work-dir``;
PostgreSQL: a fresh schema in ``--postgres-url``, dropped afterwards):

1. **History.** A realistic, seeded sales history is simulated with the
   domain's own behaviour functions (``domain.opportunity``, ``domain.quote``,
   ``domain.selling``, ``domain.exchange_rates``, ``domain.pipeline``,
   ``domain.targets``…) and ``domain.aggregate.fold``; events are stamped as
   ``UnitOfWork.stamped_events`` stamps them and appended with
   ``SalesEventStore.save`` in large batches. Tens of thousands of
   opportunities move through stages with quotes, items, activations, amount
   changes, edits, activities, offers, sales, losses and reopenings, among
   daily USD rate changes, stage-setting changes and quarterly sales targets.
   The simulated clock runs from 2023-04-03, so every generated event is older
   than the commands of the lag phase (which use the system clock). The SQLite
   store is cached under ``--work-dir`` and copied for each run; PostgreSQL is
   generated again (same seed, same log) into its fresh schema.
2. **Raw log read** — ``select_notifications`` in batches of 500 over the whole
   log, no decoding (the ceiling; measured twice, the faster counts); then read
   + decode every event; then read + decode + apply in memory (no writes), to
   show where a rebuild's time goes.
3. **Rebuild** — ``Projector.rebuild`` with ``flush_every=REBUILD_FLUSH_EVERY`` as
   ``crmledger rebuild`` runs it; events/s and the ratio to the raw rate.
4. **As-of** — pipeline and forecast charts through ``Analytics.answer`` (as
   the HTTP layer calls it) at random log positions and random instants;
   median and p99 in ms.
5. **Incremental lag** — a thread executes real commands through the
   ``CommandBus`` at a fixed rate while a projector follows the log (a thread
   in the process on SQLite, as ``serve`` runs it; a ``crmledger worker``
   process on PostgreSQL); a poller reads the tracking position every few ms.
   Lag = time from a command's save returning to the read model's tracking
   position reaching it; also positions behind.

Results go to stdout, ``<work-dir>/results-*.json`` and a generated section of
``BENCHMARKS.md`` (everything between the bench markers is replaced).

This file is the command line; the phases are the package ``bench`` beside it
(``scripts/bench/``), imported from this script's directory.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import structlog

# scripts/bench/: this script's directory comes first on sys.path.
from bench.report import REPO, results_table, targets_verdict, write_benchmarks
from bench.run import run_store
from bench.stores import prepare_postgres, prepare_sqlite

from adapters.logging import configure
from adapters.settings import Settings


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--events", type=int, default=1_000_000, help="events to generate")
    p.add_argument("--stores", default="sqlite,postgres", help="sqlite, postgres or both")
    p.add_argument(
        "--work-dir",
        type=Path,
        default=Path(os.environ.get("TMPDIR", "/tmp")) / "crmledger-bench",
        help="where the SQLite stores (and the cached history) live",
    )
    p.add_argument("--quick", action="store_true", help="a smoke run: 50k events, fewer queries")
    p.add_argument("--seed", type=int, default=2027)
    p.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    p.add_argument("--as-of-queries", type=int, default=200, help="queries per chart")
    p.add_argument(
        "--rounds", type=int, default=3, help="raw read + rebuild rounds (the median ratio counts)"
    )
    p.add_argument("--lag-rate", type=float, default=20.0, help="commands per second")
    p.add_argument("--lag-seconds", type=float, default=25.0, help="0 skips the lag phase")
    p.add_argument(
        "--lag-projector",
        choices=("auto", "thread", "process"),
        default="auto",
        help="auto: a thread on SQLite (as serve), a worker process on PostgreSQL",
    )
    p.add_argument(
        "--lag-poll",
        type=float,
        default=None,
        help="the projector's poll interval in s (default: the setting, 0.2 s)",
    )
    p.add_argument("--profile", action="store_true", help="also cProfile a rebuild and as-of")
    p.add_argument("--regenerate", action="store_true", help="ignore the cached history")
    p.add_argument("--keep", action="store_true", help="keep the run's store and schema")
    p.add_argument("--no-write", action="store_true", help="do not update BENCHMARKS.md")
    p.add_argument("--no-progress", action="store_true")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.quick:
        if args.events == 1_000_000:
            args.events = 50_000
        args.lag_seconds = min(args.lag_seconds, 10.0)
    stores = [s.strip() for s in args.stores.split(",") if s.strip()]
    unknown = set(stores) - {"sqlite", "postgres"}
    if unknown:
        print(f"unknown store(s): {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    args.stores = stores
    args.work_dir = args.work_dir.resolve()
    args.work_dir.mkdir(parents=True, exist_ok=True)
    configure(Settings(log_level="warning", log_format="console"))
    structlog.get_logger()  # configured: per-command info logs stay quiet
    command = ".venv/bin/python scripts/bench_readmodels.py " + " ".join(
        shlex.quote(a) for a in (sys.argv[1:] if argv is None else argv)
    )
    wall_started = time.perf_counter()
    results = []
    for name in stores:
        store = prepare_sqlite(args) if name == "sqlite" else prepare_postgres(args)
        try:
            results.append(run_store(store, args))
        finally:
            store.cleanup()
    wall = time.perf_counter() - wall_started
    table = results_table(results)
    print("\n" + table + "\n")
    for line in targets_verdict(results, args.events):
        print(line)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    out = args.work_dir / f"results-{stamp}.json"
    out.write_text(json.dumps(results, indent=2, default=str))
    print(f"\nraw results: {out}")
    if not args.no_write:
        write_benchmarks(results, args, command.strip(), wall)
        print(f"updated {REPO / 'BENCHMARKS.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
