"""Raw log reads, the rebuild and as-of queries, measured."""

from __future__ import annotations

import bisect
import contextlib
import math
import random
import sqlite3
import statistics
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg.sql import SQL, Identifier

from adapters.bootstrap import Services
from adapters.event_store.log import EventLog
from adapters.settings import Settings
from domain.access import Principal
from domain.events import event_class, topic_of
from domain.ids import user_id_for
from domain.user import User
from projections.changes import ChangeSet
from projections.projection import Projection
from projections.runner import REBUILD_FLUSH_EVERY, Projector
from readmodels import SLICES
from readmodels.collector import gc_paused
from readmodels.deals.analytics import Analytics
from readmodels.deals.specs import spec_from_params
from readmodels.deals.tables import CHECKPOINTS
from readmodels.slice import Kind

from .history import GenerationMeta, events_bar
from .world import MANAGER_OF, OWNERS, TEAMS

# The rep whose scope the as-of queries are asked under: the one with the most deals.
REP = OWNERS[0]

READ_BATCH = 500


def _quantile(values: Sequence[float], q: float) -> float:
    """The q-quantile by nearest rank (p99 of 400 values is the 396th smallest)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q * len(ordered)))
    return ordered[rank - 1]


def measure_raw_read(log: EventLog, *, decode: bool) -> tuple[int, float]:
    """Read the whole notification log in batches of 500 (optionally decoding every event)."""
    recorder = log.app.recorder
    position = 0
    rows = 0
    started = time.perf_counter()
    while True:
        batch = recorder.select_notifications(
            start=position, limit=READ_BATCH, inclusive_of_start=False
        )
        if not batch:
            break
        if decode:
            for notification in batch:
                log.decode(notification)
        rows += len(batch)
        position = batch[-1].id
    return rows, time.perf_counter() - started


class _NoWrites:
    """A read-model store that keeps nothing: the projector's work without its writes."""

    no_limit = "-1"

    def select(
        self, statement: str, params: Sequence[Any] = (), kinds: Sequence[Kind] | None = None
    ) -> list[tuple[Any, ...]]:
        return []

    def param(self, kind: Kind, value: Any) -> Any:
        return value

    def apply(self, changes: ChangeSet) -> None:
        pass

    def max_tracking_id(self, application_name: str) -> int | None:
        return 0

    def drop(self) -> None:
        pass


def measure_projector_decode(log: EventLog, window: int) -> tuple[int, float]:
    """Read every row as the projector does (windows of positions, plain tuples) and decode
    each as it does: in full when a slice but the audit reads it, else its envelope."""
    projection = Projection.empty(SLICES)
    decoders = {t: log.decoder(t, body=t in projection.bodies) for t in projection.topics}
    last = log.last_position()
    position = rows = 0
    started = time.perf_counter()
    while position < last:
        until = min(position + window, last)
        for logged in log.read(position, window, up_to=until):
            decoders[logged.topic](logged)
            rows += 1
        position = until
    return rows, time.perf_counter() - started


def measure_plain_rows(log: EventLog, window: int) -> tuple[int, float]:
    """Every row of the log as crmledger's own reader returns them (plain tuples, no topic
    filter, nothing decoded): how much of the library's notification read is its own cost."""
    last = log.last_position()
    position = rows = 0
    started = time.perf_counter()
    while position < last:
        until = min(position + window, last)
        rows += len(log.read(position, window, up_to=until))
        position = until
    return rows, time.perf_counter() - started


def measure_in_memory_projection(log: EventLog, interval: int) -> tuple[int, float]:
    """The projector's read + decode + apply + checkpoint encoding, writing nothing (the
    garbage collector paused, as in a rebuild)."""
    projector = Projector(
        log, _NoWrites(), SLICES, checkpoint_interval=interval, flush_every=REBUILD_FLUSH_EVERY
    )
    started = time.perf_counter()
    with gc_paused:
        positions = projector.catch_up()
    return positions, time.perf_counter() - started


def measure_raw_ceiling(log: EventLog) -> dict[str, Any]:
    """The raw read, twice: the faster pass is the ceiling."""
    raw = [measure_raw_read(log, decode=False) for _ in range(2)]
    rows, seconds = min(raw, key=lambda r: r[1])
    return {
        "rows": rows,
        "seconds": seconds,
        "rate": rows / seconds,
        "all_rates": [r / s for r, s in raw],
    }


def measure_reads(log: EventLog, label: str, interval: int) -> dict[str, Any]:
    """Where a rebuild's time goes: read + decode every event, the projector's read (every
    row), with its decoding, and its in-memory work."""
    decoded_rows, decode_seconds = measure_raw_read(log, decode=True)
    window = Projector(log, _NoWrites(), SLICES).batch_size
    plain_rows, plain_seconds = measure_plain_rows(log, window)
    projector_rows, projector_seconds = measure_projector_decode(log, window)
    memory_rows, memory_seconds = measure_in_memory_projection(log, interval)
    print(
        f"{label} read+decode {decoded_rows / decode_seconds:,.0f}/s; the projector's read "
        f"+ decoding {projector_rows / projector_seconds:,.0f}/s; in-memory projection "
        f"{memory_rows / memory_seconds:,.0f}/s",
        file=sys.stderr,
    )
    return {
        "read_decode": {
            "rows": decoded_rows,
            "seconds": decode_seconds,
            "rate": decoded_rows / decode_seconds,
        },
        "projector_decode": {
            "rows": projector_rows,
            "seconds": projector_seconds,
            "rate": projector_rows / projector_seconds,
        },
        "plain_rows": {
            "rows": plain_rows,
            "seconds": plain_seconds,
            "rate": plain_rows / plain_seconds,
        },
        "in_memory_projection": {
            "rows": memory_rows,
            "seconds": memory_seconds,
            "rate": memory_rows / memory_seconds,
        },
    }


def measure_rebuild(services: Services, progress: bool) -> dict[str, Any]:
    total = services.store.max_position()
    with events_bar(total, "rebuilding", shown=progress) as bar:

        def report(position: int, target: int) -> None:
            bar.update(position - bar.n)

        started = time.perf_counter()
        projector, events = services.rebuild(report)  # as `crmledger rebuild` does
        seconds = time.perf_counter() - started
    return {
        "events": events,
        "seconds": seconds,
        "rate": events / seconds,
        "applied": projector.applied,
        "parked": projector.parked,
    }


def decoded_whole(meta: GenerationMeta) -> int:
    """How many of the history's events a rebuild decodes in full (the others: only their
    envelope)."""
    bodies = Projection.empty(SLICES).bodies
    return sum(n for name, n in meta.event_types.items() if topic_of(event_class(name)) in bodies)


def checkpoint_positions(settings: Settings) -> list[int]:
    """Positions of the stored read-model checkpoints (read directly, without their states)."""
    statement = f"SELECT position FROM {CHECKPOINTS} ORDER BY position"
    if settings.database_url is None:
        with contextlib.closing(sqlite3.connect(settings.read_model_path)) as conn:
            return [row[0] for row in conn.execute(statement)]
    with psycopg.connect(settings.database_url) as pg:
        pg.execute(SQL("SET search_path TO {}").format(Identifier(settings.database_schema)))
        return [row[0] for row in pg.execute(statement.encode())]


def replay_distances(positions: Sequence[int], checkpoints: Sequence[int]) -> list[int]:
    """How far an as-of query at each position replays: to it from the checkpoint before it."""
    return [
        p - checkpoints[bisect.bisect_right(checkpoints, p) - 1]
        if checkpoints and checkpoints[0] <= p
        else p
        for p in positions
    ]


def as_of_queries(services: Services, meta: GenerationMeta, count: int, seed: int) -> list[Any]:
    """(chart, mode, as_of) triples: ``count`` per chart, half positions, half instants."""
    rng = random.Random(seed + 1)
    tracked = services.queries.tracked()
    first = meta.first_recorded_at.timestamp()
    last = meta.last_recorded_at.timestamp()
    plan = []
    for k in range(count):
        for chart in ("pipeline", "forecast"):
            if k % 2 == 0:
                plan.append((chart, "position", str(rng.randint(1, tracked))))
            else:
                moment = datetime.fromtimestamp(rng.uniform(first, last), UTC)
                plan.append((chart, "instant", moment.isoformat().replace("+00:00", "Z")))
    return plan


# Whose scope an as-of query is answered under: everything (an analyst), a rep's own
# deals, a manager's team's (``readmodels.scope``).
SCOPES = ("unscoped", "rep", "manager")


def principals(services: Services) -> dict[str, Principal | None]:
    """The principal of each scope, as a request's token check makes it (the manager's
    team from the users read model): the history's busiest rep, and their manager."""
    found: dict[str, Principal | None] = {"unscoped": None}
    for scope, login in (("rep", REP), ("manager", MANAGER_OF[REP])):
        user = services.store.load(user_id_for(login))
        if not isinstance(user, User):
            raise RuntimeError(f"{login} is no user in this history: regenerate it")
        found[scope] = services.identity.principal(user)
    return found


def measure_as_of(
    services: Services, meta: GenerationMeta, count: int, seed: int
) -> dict[str, Any]:
    """Every query of the plan answered under each scope in turn (the order rotating from
    one query to the next, so no scope always finds the view the one before it warmed)."""
    analytics = Analytics(services.queries)
    specs = {
        "pipeline": spec_from_params("pipeline", {}),
        "forecast": spec_from_params("forecast", {"period": "quarter"}),
    }
    scoped = principals(services)
    plan = as_of_queries(services, meta, count, seed)
    for chart, _mode, as_of in plan[:4]:  # warm-up, not counted
        for principal in scoped.values():
            analytics.answer(specs[chart], as_of=as_of, wait_for=None, principal=principal)
    samples: dict[tuple[str, str, str], list[float]] = {}
    started = time.perf_counter()
    for k, (chart, mode, as_of) in enumerate(plan):
        for j in range(len(SCOPES)):
            scope = SCOPES[(k + j) % len(SCOPES)]
            t0 = time.perf_counter()
            analytics.answer(specs[chart], as_of=as_of, wait_for=None, principal=scoped[scope])
            samples.setdefault((scope, chart, mode), []).append((time.perf_counter() - t0) * 1000)
    seconds = time.perf_counter() - started
    result: dict[str, Any] = {"queries": len(plan), "seconds": seconds, "groups": {}}
    every: list[float] = []
    for (scope, chart, mode), values in sorted(samples.items()):
        if scope == "unscoped":
            every.extend(values)
            result["groups"][f"{chart}/{mode}"] = _stats(values)
    for chart in specs:
        values = [
            v for (s, c, _m), vs in samples.items() if s == "unscoped" and c == chart for v in vs
        ]
        result["groups"][f"{chart}/all"] = _stats(values)
    result["all"] = _stats(every)
    result["scopes"] = {
        scope: _stats([v for (s, _c, _m), vs in samples.items() if s == scope for v in vs])
        for scope in SCOPES
    }
    result["scope_logins"] = {"rep": REP, "manager": MANAGER_OF[REP]}
    result["team"] = sorted(TEAMS[MANAGER_OF[REP]])
    return result


def _stats(values: Sequence[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "median": statistics.median(values),
        "p99": _quantile(values, 0.99),
        "max": max(values),
    }
