"""The script that checks a change of code leaves the read models byte for byte the same.

``scripts/compare_readmodels.py`` rebuilds one log with two checkouts, hashes every
table and times both; here both checkouts are this one, so every table must match.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from adapters.bootstrap import bootstrap
from adapters.clock import ManualClock
from adapters.settings import Settings
from scripts.compare_readmodels import compare_tables, main
from tests.conftest import T0
from tests.histories import History

ROOT = Path(__file__).resolve().parents[2]


def test_the_same_code_twice_rebuilds_identical_tables_and_reports_both_timings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given an embedded store with a varied history
    log = tmp_path / "log"
    clock = ManualClock(T0)
    services = bootstrap(Settings(home=log, log_level="warning"), clock=clock)
    History(services.bus, clock, random.Random(11)).write(150)
    services.close()
    report = tmp_path / "BENCHMARKS.md"
    report.write_text("# Benchmarks\n\nkept as it was\n")
    # When this checkout is compared with itself, as-of queries included
    status = main(
        [
            "--log", str(log),
            "--checkout", str(ROOT), "--checkout", str(ROOT),
            "--label", "before", "--label", "after",
            "--as-of-queries", "3",
            "--first", T0.isoformat(), "--last", clock.now().isoformat(),
            "--benchmarks", str(report),
        ]
    )  # fmt: skip
    # Then every table is the same, and both checkouts were timed
    out = capsys.readouterr().out
    assert status == 0
    assert "every table is identical" in out
    assert "DIFF" not in out
    assert "same  read_model_checkpoints" in out
    rows = {line.split(" | ")[0].strip("| *").split("*")[0]: line for line in out.splitlines()}
    assert "| **100.0%** |" in rows["rebuild rate ÷ baseline's"]  # the baseline is itself
    assert "| **100.0%** |" in rows["as-of latency ÷ baseline's"]
    assert "as-of all: median / p99 ms (n=6)" in rows  # 3 of each chart, answered by both
    # And the figures went into the benchmarks file, beside what it held
    written = report.read_text()
    assert "kept as it was" in written
    assert "every table is identical" in written
    assert "--as-of-queries 3" in written


def test_a_table_that_differs_or_is_missing_in_one_checkout_fails_the_comparison() -> None:
    before = {"opportunities": (2, "aa"), "visits": (5, "bb")}
    changed = {"opportunities": (2, "ab"), "visits": (5, "bb")}
    missing = {"opportunities": (2, "aa")}
    same, lines = compare_tables([before, changed])
    assert not same
    assert lines[0].startswith("DIFF  opportunities")
    assert lines[1].startswith("same  visits")
    assert lines[-1] == "the tables differ"
    same, lines = compare_tables([before, missing])
    assert not same
    assert "missing" in lines[1]
    assert compare_tables([before, dict(before)])[0]
