"""Answers as-of queries on one store's read models, with whatever code is on ``PYTHONPATH``.

    PYTHONPATH=CHECKOUT python scripts/as_of_probe.py HOME

Run by ``scripts/compare_readmodels.py``, one per checkout, so that two versions of the
code answer the same queries on the same rebuilt read models, query by query in
turns. It prints ``{"tracked": N}`` (the read model's position) once ready, then reads
one JSON query a line — ``{"chart": "pipeline" | "forecast", "as_of": "<position or
ISO 8601 instant>"}`` — answers it through ``Analytics.answer`` (as the HTTP layer
calls it; the forecast by quarter) and prints ``{"ms": <elapsed>, "refused": <bool>}``:
a query the domain refuses (e.g. an instant before any exchange rate was in force) is
an answer too, timed like the others. It ends at the end of its input.

It imports only what every version since the read-model slices' restructuring (and
the version before it) offers: ``adapters.bootstrap`` and the analytics and chart
specifications, found where each version keeps them.
"""

from __future__ import annotations

import importlib
import json
import sys
import time
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


def main(home: str) -> None:
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
        print(json.dumps({"tracked": services.queries.tracked()}), flush=True)
        for line in sys.stdin:
            query = json.loads(line)
            refused = False
            started = time.perf_counter()
            try:
                analytics.answer(specs[query["chart"]], as_of=query["as_of"], wait_for=None)
            except DomainError:
                refused = True
            elapsed = (time.perf_counter() - started) * 1000
            print(json.dumps({"ms": elapsed, "refused": refused}), flush=True)
    finally:
        services.close()


if __name__ == "__main__":
    main(sys.argv[1])
