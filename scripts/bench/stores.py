"""Preparing a run: the SQLite store (generated once, cached, copied) or a fresh
PostgreSQL schema."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import uuid4

import msgspec
import psycopg
from psycopg.sql import SQL, Identifier

from adapters.settings import Settings

from .history import GenerationMeta, _generate
from .world import GENERATOR_VERSION


@dataclass
class StoreRun:
    name: str
    settings: Settings
    cleanup: Callable[[], None]
    meta: GenerationMeta
    generated_now: bool
    generation_seconds: float
    notes: list[str] = field(default_factory=list)


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    return {} if args.lag_poll is None else {"projector_poll_seconds": args.lag_poll}


def prepare_sqlite(args: argparse.Namespace) -> StoreRun:
    key = f"gen-v{GENERATOR_VERSION}-seed{args.seed}-n{args.events}"
    cache = args.work_dir / "cache" / key
    meta_path = cache / "meta.json"
    generated_now = False
    generation_seconds = 0.0
    if not meta_path.exists() or args.regenerate:
        shutil.rmtree(cache, ignore_errors=True)
        cache.mkdir(parents=True)
        print(f"[sqlite] generating {args.events:,} events into {cache}", file=sys.stderr)
        started = time.perf_counter()
        meta = _generate(Settings(home=cache), args.seed, args.events, not args.no_progress)
        generation_seconds = time.perf_counter() - started
        meta_path.write_bytes(msgspec.json.encode(meta))
        generated_now = True
    else:
        meta = msgspec.json.decode(meta_path.read_bytes(), type=GenerationMeta)
        print(f"[sqlite] using the cached history in {cache}", file=sys.stderr)
    run_home = args.work_dir / "run-sqlite"
    shutil.rmtree(run_home, ignore_errors=True)
    run_home.mkdir(parents=True)
    started = time.perf_counter()
    for path in cache.glob("events.sqlite*"):
        shutil.copyfile(path, run_home / path.name)
    copy_seconds = time.perf_counter() - started
    print(f"[sqlite] copied the store for this run in {copy_seconds:.1f} s", file=sys.stderr)

    def cleanup() -> None:
        if not args.keep:
            shutil.rmtree(run_home, ignore_errors=True)

    return StoreRun(
        "sqlite",
        Settings(home=run_home, log_level="warning", **_overrides(args)),
        cleanup,
        meta,
        generated_now,
        generation_seconds or meta.seconds,
    )


def prepare_postgres(args: argparse.Namespace) -> StoreRun:
    schema = f"bench_{os.getpid()}_{uuid4().hex[:8]}"
    settings = Settings(
        database_url=args.postgres_url,
        database_schema=schema,
        log_level="warning",
        **_overrides(args),
    )

    def cleanup() -> None:
        if args.keep:
            print(f"[postgres] kept schema {schema}", file=sys.stderr)
            return
        with psycopg.connect(args.postgres_url, autocommit=True) as conn:
            conn.execute(SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(Identifier(schema)))
        print(f"[postgres] dropped schema {schema}", file=sys.stderr)

    print(f"[postgres] generating {args.events:,} events into schema {schema}", file=sys.stderr)
    try:
        started = time.perf_counter()
        meta = _generate(settings, args.seed, args.events, not args.no_progress)
        seconds = time.perf_counter() - started
    except BaseException:
        cleanup()
        raise
    return StoreRun("postgres", settings, cleanup, meta, True, seconds, [])
