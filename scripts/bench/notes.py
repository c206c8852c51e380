"""The notes above the results: the machine, and the history the run measured."""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import sqlite3
from pathlib import Path
from typing import Any

import msgspec
import psycopg


def machine_notes(args: argparse.Namespace) -> list[str]:
    cpu = platform.processor() or "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = ""
    with contextlib.suppress(OSError, ValueError, IndexError):
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kb / 1024 / 1024:.0f} GiB RAM"
    postgres = ""
    if "postgres" in args.stores:
        with contextlib.suppress(Exception), psycopg.connect(args.postgres_url) as conn:
            row = conn.execute("SHOW server_version").fetchone()
            postgres = f"; PostgreSQL {row[0] if row else '?'} on the same machine (127.0.0.1)"
    return [
        f"- {os.cpu_count()} cores ({cpu}){memory}; {platform.system()} {platform.release()}.",
        f"- Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}{postgres}; "
        f"eventsourcing 9.5.6, psycopg {psycopg.__version__}, msgspec {msgspec.__version__}.",
        "- One process (but for the rebuild's writer process and, on PostgreSQL, the lag "
        "phase's worker); the store files and tables are warm in the OS page cache (the SQLite "
        "store was just copied or generated, PostgreSQL just generated).",
        "- The machine is shared: other work ran beside this run (the CPU it used is given "
        "per phase below), so the absolute rates move from run to run; every figure with a "
        "target is a ratio of figures measured in the same run, back to back.",
    ]


def history_notes(result: dict[str, Any]) -> list[str]:
    h = result["history"]
    mix = ", ".join(f"{name} {count:,}" for name, count in h["top_event_types"].items())
    return [
        f"- {h['events']:,} events recorded {h['first_recorded_at'][:10]} → "
        f"{h['last_recorded_at'][:10]}: {h['opportunities']:,} opportunities "
        f"({h['events'] / h['opportunities']:.1f} events each, reference data included; those "
        f"still open at the end are the live pipeline), {h['quotes']:,} quotes, "
        f"{h['accounts']:,} accounts, {h['documents']:,} offer documents, EUR and "
        "USD (daily USD rates), stage probability and category changes every 15–45 days, "
        "quarterly sales targets, a new price book each year; "
        f"{h['refused_decisions']} decisions refused by the domain rules.",
        "- Who did it: every event says who made it and in which request (`by`, "
        "`request_id`, `causation_id`; each decision a request of its own), so the audit read "
        "model has a row for every event: 12 reps (users) work their own deals; two managers, "
        "six reps each, set their reps' targets and reassign deals; an admin keeps the "
        "reference data and stage settings; the daily rate comes from a command-line import "
        "(`cli:ops`); the store's defaults are `system:bootstrap`'s.",
        f"- Most frequent events: {mix}.",
    ]
