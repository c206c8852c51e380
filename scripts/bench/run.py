"""One store, end to end: every phase, timed, with the CPU other processes used."""

from __future__ import annotations

import argparse
import cProfile
import itertools
import math
import os
import pstats
import statistics
import sys
import time
from collections.abc import Callable
from io import StringIO
from pathlib import Path
from typing import Any

from adapters.bootstrap import Services, bootstrap
from adapters.clock import SystemClock

from .lag import measure_lag
from .measure import (
    _stats,
    as_of_queries,
    checkpoint_positions,
    decoded_whole,
    measure_as_of,
    measure_raw_ceiling,
    measure_reads,
    measure_rebuild,
    replay_distances,
)
from .stores import StoreRun


def profile_phase(label: str, directory: Path, run: Callable[[], object]) -> str:
    directory.mkdir(parents=True, exist_ok=True)
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        run()
    finally:
        profiler.disable()
    path = directory / f"{label}.prof"
    profiler.dump_stats(str(path))
    text = StringIO()
    stats = pstats.Stats(profiler, stream=text).strip_dirs()
    stats.sort_stats("tottime").print_stats(25)
    stats.sort_stats("cumulative").print_stats(35)
    (directory / f"{label}.txt").write_text(text.getvalue())
    return str(path)


def _machine_busy_seconds() -> float | None:
    """CPU seconds the whole machine has been busy (all cores), from /proc/stat."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


class Phase:
    """Wall time of a phase, and the CPU other processes used meanwhile (in cores).

    On a 2-core machine another busy process halves what a phase gets: the
    figure tells whether a number was measured on a quiet machine. On
    PostgreSQL it includes the database server's own work for the phase.
    """

    def __init__(self, timings: dict[str, float], other: dict[str, float], name: str) -> None:
        self.timings, self.other, self.name = timings, other, name

    def __enter__(self) -> Phase:
        self.wall = time.perf_counter()
        self.cpu = time.process_time()
        self.busy = _machine_busy_seconds()
        return self

    def __exit__(self, *exc: object) -> None:
        wall = time.perf_counter() - self.wall
        self.timings[self.name] = wall
        busy = _machine_busy_seconds()
        if busy is not None and self.busy is not None and wall > 0:
            own = time.process_time() - self.cpu
            self.other[self.name] = max(0.0, (busy - self.busy - own) / wall)


def rebuild_rounds(
    services: Services, label: str, rounds: int, progress: bool
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The target's ratio, round by round: the raw read's ceiling, then a rebuild, so that a
    machine whose speed drifts (other work on it) moves both figures of a round. The raw
    read and the rebuild of the round with the median ratio, every round's figures too."""
    found = []
    for n in range(rounds):
        raw = measure_raw_ceiling(services.event_log)
        rebuilt = measure_rebuild(services, progress)
        rebuilt["ratio_to_raw"] = rebuilt["rate"] / raw["rate"]
        found.append((raw, rebuilt))
        print(
            f"{label} round {n + 1}: raw read {raw['rate']:,.0f}/s, rebuild "
            f"{rebuilt['rate']:,.0f}/s in {rebuilt['seconds']:.1f} s = "
            f"{rebuilt['ratio_to_raw']:.1%}",
            file=sys.stderr,
        )
    raw, rebuild = sorted(found, key=lambda r: float(r[1]["ratio_to_raw"]))[len(found) // 2]
    rebuild["round_ratios"] = [r["ratio_to_raw"] for _, r in found]
    rebuild["round_rates"] = [r["rate"] for _, r in found]
    rebuild["round_raw_rates"] = [w["rate"] for w, _ in found]
    return raw, rebuild


def run_store(store: StoreRun, args: argparse.Namespace) -> dict[str, Any]:
    progress = not args.no_progress
    timings: dict[str, float] = {}
    other: dict[str, float] = {}
    result: dict[str, Any] = {
        "store": store.name,
        "timings": timings,
        "other_cores": other,
        "notes": store.notes,
    }
    meta = store.meta
    result["history"] = {
        "events": meta.events,
        "last_position": meta.last_position,
        "opportunities": meta.opportunities,
        "quotes": meta.quotes,
        "accounts": meta.accounts,
        "documents": meta.documents,
        "refused_decisions": meta.refused,
        "first_recorded_at": meta.first_recorded_at.isoformat(),
        "last_recorded_at": meta.last_recorded_at.isoformat(),
        "generated_now": store.generated_now,
        "generation_seconds": store.generation_seconds,
        "generation_rate": meta.events / store.generation_seconds,
        "top_event_types": dict(list(meta.event_types.items())[:12]),
    }
    services = bootstrap(store.settings, clock=SystemClock())
    try:
        log = services.event_log
        label = f"[{store.name}]"
        with Phase(timings, other, "reads"):
            result.update(measure_reads(log, label, store.settings.checkpoint_interval))

        with Phase(timings, other, "rebuild"):
            result["raw_read"], rebuild = rebuild_rounds(services, label, args.rounds, progress)
        rebuild["decoded_whole"] = decoded_whole(meta)
        checkpoints = checkpoint_positions(store.settings)
        gaps = [b - a for a, b in itertools.pairwise([0, *checkpoints])]
        rebuild["checkpoints"] = len(checkpoints)
        rebuild["checkpoint_gap_median"] = statistics.median(gaps) if gaps else 0
        rebuild["checkpoint_interval_setting"] = store.settings.checkpoint_interval
        result["rebuild"] = rebuild
        print(
            f"{label} rebuild, the round of the median ratio: {rebuild['rate']:,.0f} events/s "
            f"in {rebuild['seconds']:.1f} s = {rebuild['ratio_to_raw']:.1%} of the raw read rate",
            file=sys.stderr,
        )

        with Phase(timings, other, "as_of"):
            as_of = measure_as_of(services, meta, args.as_of_queries, args.seed)
        plan = as_of_queries(services, meta, args.as_of_queries, args.seed)
        distances = replay_distances(
            [int(a) for _c, mode, a in plan if mode == "position"], checkpoints
        )
        as_of["replay_distance"] = _stats([float(d) for d in distances])
        result["as_of"] = as_of
        unscoped = as_of["scopes"]["unscoped"]["p99"]
        print(
            f"{label} as-of: {as_of['queries']} queries, median {as_of['all']['median']:.1f} ms, "
            f"p99 {as_of['all']['p99']:.1f} ms; p99 as a rep "
            f"{as_of['scopes']['rep']['p99'] / unscoped:.1%}, as a manager "
            f"{as_of['scopes']['manager']['p99'] / unscoped:.1%} of the unscoped",
            file=sys.stderr,
        )

        if args.profile:
            directory = args.work_dir / "profiles"
            profile_phase(
                f"{store.name}-rebuild", directory, lambda: measure_rebuild(services, False)
            )
            profile_phase(
                f"{store.name}-as-of",
                directory,
                lambda: measure_as_of(services, meta, args.as_of_queries, args.seed + 7),
            )
            print(f"{label} profiles written to {directory}", file=sys.stderr)

        if args.lag_seconds > 0:
            mode = args.lag_projector
            if mode == "auto":
                mode = "thread" if store.name == "sqlite" else "process"
            with Phase(timings, other, "lag"):
                lag = measure_lag(
                    services,
                    meta,
                    rate=args.lag_rate,
                    seconds=args.lag_seconds,
                    mode=mode,
                    seed=args.seed,
                )
            result["lag"] = lag
            print(
                f"{label} lag: {lag['commands']} commands ({lag['event_rate']:.0f} events/s), "
                f"median {lag['lag_ms'].get('median', math.nan):.0f} ms, "
                f"p99 {lag['lag_ms'].get('p99', math.nan):.0f} ms",
                file=sys.stderr,
            )
    finally:
        services.close()
    print(
        f"[{store.name}] CPU used by other processes per phase (cores): "
        + ", ".join(f"{k} {v:.2f}" for k, v in other.items()),
        file=sys.stderr,
    )
    return result
