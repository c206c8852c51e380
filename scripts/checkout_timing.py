"""Timing two (or more) checkouts' read models against the first, in one run.

Used by ``scripts/compare_readmodels.py``: ``Probe`` drives one ``scripts/as_of_probe.py``
per checkout; ``time_as_of`` has every checkout answer each query in turn;
``timing_table`` gives the figures and the ratios to the baseline, each ratio the median
of paired ratios (a round's rebuilds, a query's answers), so that a machine whose speed
drifts moves both sides of every pair.
"""

from __future__ import annotations

import json
import math
import os
import random
import statistics
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

PROBE = Path(__file__).resolve().parent / "as_of_probe.py"


@dataclass
class Timings:
    """One checkout's figures: a rebuild per round, every as-of answer (ms) per chart."""

    rebuild_rates: list[float] = field(default_factory=list)
    as_of: dict[str, list[float]] = field(default_factory=lambda: {"pipeline": [], "forecast": []})
    refused: int = 0

    def rate(self) -> float:
        return statistics.median(self.rebuild_rates)

    def answers(self, chart: str) -> list[float]:
        return (
            [v for values in self.as_of.values() for v in values]
            if chart == "all"
            else self.as_of[chart]
        )


def checkout_env(checkout: Path, home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRMLEDGER_")}
    env.update(PYTHONPATH=str(checkout), CRMLEDGER_HOME=str(home), CRMLEDGER_LOG_LEVEL="warning")
    return env


class Probe:
    """``scripts/as_of_probe.py`` with ``checkout``'s code on ``home``, answering queries."""

    def __init__(self, checkout: Path, home: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(PROBE), str(home)],
            cwd=checkout,
            env=checkout_env(checkout, home),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.tracked = int(self._read()["tracked"])

    def _read(self) -> Any:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise SystemExit(f"the as-of probe ended with {self.process.wait()}")
        return json.loads(line)

    def ask(self, chart: str, as_of: str) -> tuple[float, bool]:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps({"chart": chart, "as_of": as_of}) + "\n")
        self.process.stdin.flush()
        answer = self._read()
        return float(answer["ms"]), bool(answer["refused"])

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait()


def query_plan(
    count: int, rng: random.Random, tracked: int, window: tuple[str, str]
) -> list[tuple[str, str]]:
    """``count`` (chart, as_of) per chart: half at log positions, half at instants."""
    first = datetime.fromisoformat(window[0]).timestamp()
    last = datetime.fromisoformat(window[1]).timestamp()
    plan = []
    for k in range(count):
        for chart in ("pipeline", "forecast"):
            if k % 2 == 0:
                plan.append((chart, str(rng.randint(1, tracked))))
            else:
                moment = datetime.fromtimestamp(rng.uniform(first, last), UTC)
                plan.append((chart, moment.isoformat().replace("+00:00", "Z")))
    return plan


def time_as_of(
    checkouts: Sequence[Path],
    homes: Sequence[Path],
    timings: Sequence[Timings],
    plan: Callable[[int], list[tuple[str, str]]],
) -> None:
    """Every checkout answers every query of ``plan(tracked position)``, in turns (the
    order alternating from one query to the next)."""
    probes = [Probe(c, h) for c, h in zip(checkouts, homes, strict=True)]
    try:
        queries = plan(probes[0].tracked)
        for chart, as_of in queries[:4]:  # warm-up, not counted
            for probe in probes:
                probe.ask(chart, as_of)
        order = list(range(len(probes)))
        for q, (chart, as_of) in enumerate(queries):
            for n in order if q % 2 == 0 else reversed(order):
                ms, refused = probes[n].ask(chart, as_of)
                timings[n].as_of[chart].append(ms)
                timings[n].refused += refused
    finally:
        for probe in probes:
            probe.close()


def _p99(values: Sequence[float]) -> float:
    """By nearest rank."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.99 * len(ordered)) - 1)]


def _median_p99(values: Sequence[float]) -> str:
    return f"{statistics.median(values):.1f} / {_p99(values):.1f}"


def _paired(values: Sequence[float], base: Sequence[float]) -> str:
    """The median of the pairs' ratios (``values[i] / base[i]``)."""
    return f"{statistics.median(v / b for v, b in zip(values, base, strict=True)):.1%}"


def timing_table(labels: Sequence[str], timings: Sequence[Timings], rounds: int) -> list[str]:
    """A Markdown table: each checkout's figures, and its ratios to the first's."""
    base = timings[0]
    rows: list[list[str]] = [
        ["rebuild, events/s (median of rounds)", *(f"{t.rate():,.0f}" for t in timings)],
        [
            "rebuild, events/s per round",
            *(" / ".join(f"{r:,.0f}" for r in t.rebuild_rates) for t in timings),
        ],
        [
            "**rebuild rate ÷ baseline's** (median of the rounds' ratios; higher is faster)",
            *(f"**{_paired(t.rebuild_rates, base.rebuild_rates)}**" for t in timings),
        ],
    ]
    if base.answers("all"):
        for chart in ("pipeline", "forecast", "all"):
            rows.append(
                [
                    f"as-of {chart}: median / p99 ms (n={len(base.answers(chart))})",
                    *(_median_p99(t.answers(chart)) for t in timings),
                ]
            )
        rows += [
            [
                "**as-of latency ÷ baseline's** (median of the queries' ratios; lower is faster)",
                *(f"**{_paired(t.answers('all'), base.answers('all'))}**" for t in timings),
            ],
            [
                "**as-of p99 ÷ baseline's p99**",
                *(f"**{_p99(t.answers('all')) / _p99(base.answers('all')):.1%}**" for t in timings),
            ],
            [
                "as-of queries the domain refused (answers too, timed)",
                *(str(t.refused) for t in timings),
            ],
        ]
    lines = ["| | " + " | ".join(labels) + " |", "|---" + "|---:" * len(labels) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    lines.append("")
    lines.append(
        f"{rounds} round(s): each rebuilds with every checkout back to back, the order reversed "
        "every other round; then every checkout answers each as-of query in turn."
    )
    return lines
