"""As-of latency of one store's read models, with whatever code is on ``PYTHONPATH``.

    PYTHONPATH=CHECKOUT python scripts/as_of_probe.py HOME QUERIES SEED FIRST LAST

Run by ``scripts/compare_readmodels.py`` once per checkout, so that two versions of
the code answer the same seeded plan of queries on the same rebuilt read models:
``QUERIES`` pipeline and ``QUERIES`` forecast charts (quarters) through
``Analytics.answer`` (as the HTTP layer calls it), half at random log positions, half
at random instants between ``FIRST`` and ``LAST`` (ISO 8601). Prints one JSON object:
median and p99 in milliseconds, per chart and over all queries, and how many queries
the domain refused (e.g. an instant before any exchange rate was in force: an answer
too, timed like the others).

It imports only what every version since the read-model slices' restructuring
(and the version before it) offers: ``adapters.bootstrap`` and the analytics and chart
specifications, found where each version keeps them.
"""

from __future__ import annotations

import importlib
import json
import random
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


def _modules() -> tuple[Any, Any]:
    """The analytics and specs modules of the checkout on ``PYTHONPATH``.

    Chosen by the checkout's own files, not by trying imports: an editable install of
    another checkout would answer an import the checkout on ``PYTHONPATH`` cannot.
    """
    import readmodels

    root = Path(readmodels.__path__[0])
    package = "readmodels.deals" if (root / "deals" / "analytics.py").exists() else "readmodels"
    return (
        importlib.import_module(f"{package}.analytics"),
        importlib.import_module(f"{package}.specs"),
    )


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, -(-99 * len(ordered) // 100) - 1)]


def main(argv: list[str]) -> None:
    home, queries, seed, first, last = argv
    from adapters.bootstrap import bootstrap
    from adapters.settings import Settings
    from domain.errors import DomainError

    analytics_module, specs_module = _modules()
    services = bootstrap(Settings(home=Path(home), log_level="warning"))
    try:
        analytics = analytics_module.Analytics(services.queries)
        specs = {
            "pipeline": specs_module.spec_from_params("pipeline", {}),
            "forecast": specs_module.spec_from_params("forecast", {"period": "quarter"}),
        }
        rng = random.Random(int(seed))
        tracked = services.queries.tracked()
        start = datetime.fromisoformat(first).timestamp()
        end = datetime.fromisoformat(last).timestamp()
        plan: list[tuple[str, str]] = []
        for k in range(int(queries)):
            for chart in specs:
                if k % 2 == 0:
                    plan.append((chart, str(rng.randint(1, tracked))))
                else:
                    moment = datetime.fromtimestamp(rng.uniform(start, end), UTC)
                    plan.append((chart, moment.isoformat().replace("+00:00", "Z")))

        def answer(chart: str, as_of: str) -> bool:
            try:
                analytics.answer(specs[chart], as_of=as_of, wait_for=None)
            except DomainError:
                return False
            return True

        for chart, as_of in plan[:4]:  # warm-up, not counted
            answer(chart, as_of)
        samples: dict[str, list[float]] = {chart: [] for chart in specs}
        refused = 0
        for chart, as_of in plan:
            started = time.perf_counter()
            refused += not answer(chart, as_of)
            samples[chart].append((time.perf_counter() - started) * 1000)
    finally:
        services.close()
    every = [v for values in samples.values() for v in values]
    result: dict[str, Any] = {
        name: {"median": statistics.median(values), "p99": _p99(values), "n": len(values)}
        for name, values in [*samples.items(), ("all", every)]
    }
    result["refused"] = refused
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
