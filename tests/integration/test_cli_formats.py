"""Every ``crmledger`` command that prints records, in each ``--format``, as real processes.

Run with stdout a pipe (as here, captured), each command prints a table unless asked
otherwise; ``--format json`` parses with ``json.loads`` and ``--format csv`` with
``csv.reader``, and all three carry the same figures. One demo store is seeded for the
module; the commands that write (``baseline create|delete``, ``users add``) make their
own records.
"""

from __future__ import annotations

import csv
import importlib.metadata
import io
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.processes import Run, crmledger, log_position

UUID_IN_TEXT = re.compile(r"\(id ([0-9a-f-]{36})\)")
CLOSED = ("won", "lost", "unqualified")
FORMATS = ("table", "json", "csv")


@dataclass(frozen=True)
class Demo:
    home: Path
    sold: str  # a deal the demo sold
    middle: int  # a position in the middle of its history
    baseline: dict[str, Any]  # a pipeline baseline taken at `middle`, as created


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    home = tmp_path_factory.mktemp("cli-formats") / "home"
    run = crmledger(home, "demo")
    assert run.code == 0, run.err
    middle = log_position(home) // 2
    baseline = crmledger(
        home, "baseline", "create", "then", "--as-of", str(middle), "--format", "json"
    ).json()
    return Demo(home, UUID_IN_TEXT.findall(run.out)[0], middle, baseline)


@dataclass(frozen=True)
class Outputs:
    """One command's output in the three formats."""

    table: str
    document: Any
    rows: list[dict[str, str]]  # the CSV rows, by the header row's names


def ok(run: Run) -> str:
    assert run.code == 0, run.err
    assert "Traceback" not in run.err
    return run.out


def csv_rows(text: str) -> list[dict[str, str]]:
    """CSV as the csv module reads it: a header row, then rows of exactly as many cells."""
    header, *rows = list(csv.reader(io.StringIO(text)))
    assert header and len(set(header)) == len(header), header
    assert all(len(row) == len(header) for row in rows), text
    return [dict(zip(header, row, strict=True)) for row in rows]


def not_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return True
    return False


def read(home: Path, *args: str) -> Outputs:
    """A read command in each format; its table is what it prints by default into a pipe."""
    default = ok(crmledger(home, *args))
    table = ok(crmledger(home, *args, "--format", "table"))
    assert default == table and not_json(table)
    document = json.loads(ok(crmledger(home, *args, "--format", "json")))
    return Outputs(table, document, csv_rows(ok(crmledger(home, *args, "--format", "csv"))))


def row_in(table: str, *cells: str) -> bool:
    """A line of the table starts with ``cells[0]`` and holds the other cells, in order."""
    for line in table.splitlines():
        words = line.split()
        if words and words[0] == cells[0]:
            rest = iter(words[1:])
            if all(cell in rest for cell in cells[1:]):  # a subsequence of the words
                return True
    return False


def text(value: Any) -> str:
    """A JSON value as a CSV cell or a table shows it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# --- the charts ------------------------------------------------------------------------------


def test_pipeline_in_each_format_carries_the_same_stages_and_outcomes(demo: Demo) -> None:
    # When the pipeline is printed as a table, JSON and CSV
    out = read(demo.home, "pipeline")
    # Then JSON is the whole answer, as of the log's position
    assert out.document["as_of"]["position"] == log_position(demo.home)
    # and CSV has a row per stage, then won, lost and unqualified, with the same figures
    expected = [
        *((s["stage"], text(s["count"]), s["amount"]) for s in out.document["stages"]),
        *((k, text(out.document[k]["count"]), out.document[k]["amount"]) for k in CLOSED),
    ]
    assert [(r["stage"], r["count"], r["amount"]) for r in out.rows] == expected
    assert [r["weighted"] for r in out.rows[:-3]] == [s["weighted"] for s in out.document["stages"]]
    # and the table shows each of them on its line, money right-aligned
    assert all(row_in(out.table, *figures) for figures in expected)
    header = next(line for line in out.table.splitlines() if line.startswith("stage"))
    won = next(line for line in out.table.splitlines() if line.startswith("won "))
    assert won.find(out.document["won"]["amount"]) + len(out.document["won"]["amount"]) == (
        header.find("amount") + len("amount")
    )


def test_forecast_in_each_format_carries_the_same_rows_and_rollups(demo: Demo) -> None:
    # When the forecast is printed as a table, JSON and CSV
    out = read(demo.home, "forecast")
    rows, rollups = out.document["rows"], out.document["rollups"]
    assert rows and rollups
    # Then CSV has its rows and its roll-ups, told apart by kind, with the same figures
    assert [r["kind"] for r in out.rows] == ["row"] * len(rows) + ["rollup"] * len(rollups)
    row_figures = ("period", "owner", "category", "count", "amount", "weighted", "won")
    rollup_figures = ("period", "owner", "commit", "best_case", "open_pipeline", "won", "target")
    assert [tuple(r[f] for f in row_figures) for r in out.rows[: len(rows)]] == [
        tuple(text(r[f]) for f in row_figures) for r in rows
    ]
    assert [tuple(r[f] for f in rollup_figures) for r in out.rows[len(rows) :]] == [
        tuple(text(r[f]) for f in rollup_figures) for r in rollups
    ]
    # and the table shows both
    assert all(row_in(out.table, *(text(r[f]) for f in row_figures[:6])) for r in rows)
    assert all(row_in(out.table, *(text(r[f]) for f in rollup_figures[:6])) for r in rollups)


def test_history_in_each_format_carries_the_same_events(demo: Demo) -> None:
    # When a sold deal's history is printed as a table, JSON and CSV
    out = read(demo.home, "history", demo.sold)
    events = out.document
    # Then CSV has a row per event, its data in dotted columns
    assert [(r["version"], r["type"], r["recorded_at"], r["actor"]) for r in out.rows] == [
        (text(e["version"]), e["type"], e["recorded_at"], e["actor"]) for e in events
    ]
    assert out.rows[0]["data.title"] == events[0]["data"]["title"]
    assert out.rows[0]["data.amount.currency"] == events[0]["data"]["amount"]["currency"]
    # and the table has a line per event
    assert all(row_in(out.table, text(e["version"]), e["type"], e["recorded_at"]) for e in events)


# --- baselines -------------------------------------------------------------------------------


def test_baseline_list_and_show_in_each_format_carry_the_same_baseline(demo: Demo) -> None:
    taken = demo.baseline
    # When the baselines are listed
    listed = read(demo.home, "baseline", "list")
    # Then each format has the baseline taken, with its position and parameters
    [mine] = [b for b in listed.document if b["id"] == taken["id"]]
    assert mine["position"] == demo.middle and mine["sha256"] == taken["sha256"]
    [row] = [r for r in listed.rows if r["id"] == taken["id"]]
    assert (row["position"], row["params.pipeline"], row["sha256"]) == (
        str(demo.middle),
        "sales",
        taken["sha256"],
    )
    assert row_in(listed.table, taken["id"], "then", "pipeline", "pipeline=sales", str(demo.middle))

    # When it is shown
    shown = read(demo.home, "baseline", "show", taken["id"])
    # Then JSON is the baseline with its chart; the table its fields, then the chart
    assert shown.document["id"] == taken["id"]
    assert row_in(shown.table, "sha256", taken["sha256"])
    assert row_in(shown.table, "position", str(demo.middle))
    stages = shown.document["rows"]["stages"]
    assert all(row_in(shown.table, s["stage"], text(s["count"]), s["amount"]) for s in stages)
    # and CSV is the chart's rows: the very CSV of the chart at that position
    chart = ok(crmledger(demo.home, "pipeline", "--as-of", str(demo.middle), "--format", "csv"))
    assert shown.rows == csv_rows(chart)


def test_baseline_compare_prints_the_waterfall_that_reconciles_in_each_format(demo: Demo) -> None:
    # When the baseline is compared with now
    out = read(demo.home, "baseline", "compare", demo.baseline["id"])
    waterfall = out.document["waterfall"]
    # Then CSV is the waterfall: start, each step, end
    steps = [r["step"] for r in out.rows]
    assert steps[0] == "start" and steps[-1] == "end" and len(steps) == 11
    start, *moves, end = out.rows
    assert (start["amount"], end["amount"]) == (waterfall["start"], waterfall["end"])
    # each step signed, with JSON's figure, and the running total reaching the end
    for move in moves:
        assert abs(Decimal(move["amount"])) == Decimal(waterfall[move["step"]])
        assert abs(int(move["count"])) == waterfall["counts"][move["step"]]
    assert Decimal(start["amount"]) + sum(Decimal(m["amount"]) for m in moves) == Decimal(
        waterfall["end"]
    )
    assert int(start["count"]) + sum(int(m["count"]) for m in moves) == int(end["count"])
    assert moves[-1]["total"] == end["total"] == waterfall["end"]
    assert Decimal(next(m for m in moves if m["step"] == "won")["amount"]) <= 0
    # and the table shows the same steps with the same figures, money right-aligned
    assert all(row_in(out.table, r["step"], r["count"], r["amount"], r["total"]) for r in out.rows)
    lines = out.table.splitlines()
    header = lines.index(next(line for line in lines if line.startswith("step ")))
    ends = {len(line) for line in lines[header : header + 12]}
    assert len(ends) == 1, "every amount and total ends in the same column"
    # and the rows then and now, per stage
    assert all(row_in(out.table, r["stage"]) for r in out.document["rows"])


def test_baseline_create_verify_and_delete_print_their_answer_in_each_format(
    demo: Demo,
) -> None:
    # When the same chart is taken as a baseline at the same position, once per format
    at = ("baseline", "create", "again", "--as-of", str(demo.middle))
    table = ok(crmledger(demo.home, *at))
    document = json.loads(ok(crmledger(demo.home, *at, "--format", "json")))
    [row] = csv_rows(ok(crmledger(demo.home, *at, "--format", "csv")))
    # Then each says the same position and hash (a table of its fields by default)
    assert not_json(table) and table.splitlines()[0].split() == ["field", "value"]
    assert row_in(table, "baseline_position", str(demo.middle))
    assert row_in(table, "sha256", demo.baseline["sha256"])
    assert document["sha256"] == row["sha256"] == demo.baseline["sha256"]
    assert document["baseline_position"] == int(row["baseline_position"]) == demo.middle
    ids = [document["id"], row["id"], re.findall(r"^id\s+(\S+)$", table, re.M)[0]]

    # When one is verified, Then each format says it is, with both hashes
    out = read(demo.home, "baseline", "verify", ids[0])
    assert out.document["verified"] is True
    assert out.rows == [
        {
            "verified": "true",
            "sha256_stored": demo.baseline["sha256"],
            "sha256_replayed": demo.baseline["sha256"],
            "position": str(demo.middle),
        }
    ]
    assert row_in(out.table, "verified", "true")

    # When each is deleted, one per format, Then each answer names the baseline deleted
    deleted = json.loads(ok(crmledger(demo.home, "baseline", "delete", ids[0], "--format", "json")))
    [gone] = csv_rows(ok(crmledger(demo.home, "baseline", "delete", ids[1], "--format", "csv")))
    shown = ok(crmledger(demo.home, "baseline", "delete", ids[2]))
    assert (deleted["id"], gone["id"]) == (ids[0], ids[1]) and row_in(shown, "id", ids[2])
    assert (deleted["version"], gone["version"]) == (2, "2")


# --- users -----------------------------------------------------------------------------------


def test_users_list_and_add_in_each_format_carry_the_same_users(demo: Demo) -> None:
    # When the users are listed
    out = read(demo.home, "users", "list")
    # Then each format has every user, with the same login, role, manager and id
    figures = ("login", "role", "manager", "partner_id", "active", "id")
    assert [tuple(r[f] for f in figures) for r in out.rows] == [
        tuple(text(u[f]) for f in figures) for u in out.document
    ]
    assert {u["login"] for u in out.document} >= {"admin", "maria", "alice", "pat"}
    assert all(
        row_in(out.table, u["login"], u["role"], text(u["active"]), u["id"]) for u in out.document
    )

    # When users are added, one per format, Then each is printed with its login and role
    table = ok(crmledger(demo.home, "users", "add", "uma", "--role", "rep", "--manager", "tom"))
    added = json.loads(
        ok(crmledger(demo.home, "users", "add", "ulf", "--role", "analyst", "--format", "json"))
    )
    [row] = csv_rows(
        ok(crmledger(demo.home, "users", "add", "ute", "--role", "rep", "--format", "csv"))
    )
    assert row_in(table, "login", "uma") and row_in(table, "manager", "tom")
    assert (added["login"], added["role"], added["active"]) == ("ulf", "analyst", True)
    assert (row["login"], row["role"], row["manager"], row["active"]) == ("ute", "rep", "", "true")
    listed = {u["login"] for u in crmledger(demo.home, "users", "list", "--format", "json").json()}
    assert {"uma", "ulf", "ute"} <= listed


# --- tick ------------------------------------------------------------------------------------


def test_tick_lists_its_contracts_in_each_format_with_its_sentences_on_stderr(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    assert crmledger(home, "demo").code == 0
    # When a dry run is asked for in each format
    dry = ("tick", "--until", "2099-01-01", "--dry-run")
    table = crmledger(home, *dry)
    as_json, as_csv = (crmledger(home, *dry, "--format", f) for f in ("json", "csv"))
    would = json.loads(ok(as_json))
    # Then JSON and CSV list the same contracts, and the table shows each of them
    assert would["dry_run"] is True and would["contracts"]
    assert [(r["id"], r["name"], r["changes"]) for r in csv_rows(ok(as_csv))] == [
        (c["id"], c["name"], "; ".join(c["changes"])) for c in would["contracts"]
    ]
    assert all(row_in(ok(table), c["id"]) for c in would["contracts"])
    # and the sentences are on stdout with the table, on stderr with JSON and CSV
    said = "crmledger tick --dry-run: nothing was written."
    assert table.out.startswith(said)
    assert as_json.err.startswith(said) and as_csv.err.startswith(said)

    # When the tick runs, as JSON
    done = crmledger(home, "tick", "--until", "2099-01-01", "--format", "json")
    answer = json.loads(ok(done))
    # Then it changed those contracts; what it says of them is on stderr
    assert [c["id"] for c in answer["contracts"]] == [c["id"] for c in would["contracts"]]
    assert answer["timers"] == would["timers"] and answer["events"] > 0
    assert "are permanent" in done.err


# --- the command line itself -----------------------------------------------------------------


def test_version_prints_the_installed_distributions_version(demo: Demo) -> None:
    run = crmledger(demo.home, "--version")
    assert run.code == 0, run.err
    assert run.out == f"crmledger {importlib.metadata.version('crmledger')}\n"


@pytest.mark.parametrize(
    "args",
    [
        ["pipeline", "--format", "xml"],
        ["forecast", "--format", "JSON"],
        ["history", "00000000-0000-4000-8000-000000000000", "--format", ""],
        ["baseline", "list", "--format", "yaml"],
        ["baseline", "compare", "00000000-0000-4000-8000-000000000000", "--format", "tsv"],
        ["users", "list", "--format", "html"],
        ["tick", "--until", "2099-01-01", "--dry-run", "--format", "text"],
    ],
)
def test_a_format_it_does_not_know_is_a_usage_error_with_exit_2(
    demo: Demo, args: Sequence[str]
) -> None:
    before = log_position(demo.home)
    run = crmledger(demo.home, *args)
    assert run.code == 2 and run.out == "" and "Traceback" not in run.err
    assert run.err.startswith("usage: crmledger")
    assert (
        run.err.strip()
        .splitlines()[-1]
        .endswith(
            f"error: argument --format: invalid choice: {args[-1]!r} "
            "(choose from 'table', 'json', 'csv')"
        )
    )
    assert log_position(demo.home) == before
