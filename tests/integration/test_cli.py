"""The ``crmledger`` command line, run as a real process on the embedded store.

One demo store is seeded per module (``crmledger demo`` takes a couple of
seconds) and shared; tests that write (baselines) make their own and never
assume the log's length. Bad input is answered with one line on stderr and
exit code 2, never a traceback.
"""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from adapters.settings import Settings
from tests.processes import (
    CRMLEDGER,
    TIMEOUT,
    assert_one_line_error,
    crmledger,
    environment,
    log_position,
)

QUARTER = re.compile(r"^\d{4}-Q[1-4]$")
MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
UUID_IN_TEXT = re.compile(r"\(id ([0-9a-f-]{36})\)")
OPEN_STAGES = ["initial_contact", "qualification", "proposal", "negotiation"]


def on_a_terminal(home: Path, *args: str) -> tuple[int, str]:
    """Run with stdout on a pseudo-terminal, as a person at a shell would; its output."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [str(CRMLEDGER), *args],
        env=environment(home=home),
        stdout=follower,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    )
    os.close(follower)
    chunks: list[bytes] = []
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal closed: the process is done
                break
            if not chunk:
                break
            chunks.append(chunk)
        elif process.poll() is not None:
            break
    os.close(leader)
    code = process.wait(TIMEOUT)
    assert process.stderr is not None
    process.stderr.close()
    return code, b"".join(chunks).decode().replace("\r\n", "\n")


def as_json(home: Path, *args: str) -> Any:
    """``crmledger *args --format json``, parsed (it must succeed)."""
    return crmledger(home, *args, "--format", "json").json()


def assert_balances(waterfall: dict[str, Any]) -> None:
    from decimal import Decimal

    for figures, number in ((waterfall, Decimal), (waterfall["counts"], int)):
        f = {k: number(figures[k]) for k in figures if k not in ("counts", "rates_at")}
        inflow = f["start"] + f["new"] + f["pulled_in"] + f["increased"] + f["reopened"]
        outflow = f["decreased"] + f["pushed_out"] + f["won"] + f["lost"] + f["deleted"]
        assert inflow - outflow == f["end"], figures


@dataclass(frozen=True)
class Demo:
    home: Path
    output: str
    sold: list[str]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    home = tmp_path_factory.mktemp("cli") / "home"
    run = crmledger(home, "demo")
    assert run.code == 0, run.err
    return Demo(home, run.out, UUID_IN_TEXT.findall(run.out))


# --- demo ------------------------------------------------------------------------------------


def test_demo_seeds_the_embedded_store_and_prints_pipeline_and_forecast(demo: Demo) -> None:
    # Given `crmledger demo` ran on an empty home
    # Then it printed the pipeline (stages in order) and the forecast from the read models
    for stage in ("initial_contact", "negotiation", "won", "lost"):
        assert stage in demo.output
    assert "Forecast by quarter and owner" in demo.output
    assert re.search(r"^\d{4}-Q[1-4]\s+\w+", demo.output, re.MULTILINE)
    # and the contacts: those made at its accounts, and those qualifying its leads made
    contacts = demo.output.split("\nContacts: ", 1)[1].split("\n\n", 1)[0].splitlines()
    assert contacts[0].startswith("5 at the accounts, ")
    assert contacts[1].split() == ["name", "title", "account", "owner", "made", "id"]
    made = [line for line in contacts[2:] if line.strip()]
    assert sum("by hand" in line for line in made) == 5
    assert sum("from a lead" in line for line in made) >= 1
    assert "Mara Lindqvist   Head of Procurement  Acme Logistics GmbH   alice  by hand" in made[0]
    # and the sold deals with their ids, and where to go next
    assert len(demo.sold) >= 3
    assert "crmledger serve" in demo.output
    # and the store holds events and read models
    assert log_position(demo.home) > 300
    assert Settings(home=demo.home).read_model_path.exists()


def test_demo_refuses_a_home_it_did_not_make(demo: Demo, tmp_path: Path) -> None:
    # Given a home holding a store the demo did not make
    home = tmp_path / "mine"
    home.mkdir()
    store = (demo.home / "events.sqlite").read_bytes()
    (home / "events.sqlite").write_bytes(store)
    # When the demo is run there, Then it refuses in one line and leaves it alone
    line = assert_one_line_error(crmledger(home, "demo"), starts="crmledger demo: ")
    assert "did not make" in line
    assert (home / "events.sqlite").read_bytes() == store


# --- pipeline and forecast ----------------------------------------------------------------------


def test_pipeline_in_json_is_the_http_answer_and_the_old_json_flag_still_asks_for_it(
    demo: Demo,
) -> None:
    # When the pipeline is asked for as JSON, with --format json and with the old --json
    piped = as_json(demo.home, "pipeline")
    flagged = crmledger(demo.home, "pipeline", "--json").json()

    # Then both are the JSON answer of the HTTP API, at the log's position
    assert piped == flagged
    assert piped["as_of"]["position"] == log_position(demo.home)
    assert re.match(r"^\d{4}-\d\d-\d\dT", piped["as_of"]["recorded_at"])
    assert [s["stage"] for s in piped["stages"]] == OPEN_STAGES
    assert piped["currency"] == "EUR" and piped["params"] == {"pipeline": "sales"}
    assert piped["won"]["count"] == len(demo.sold)
    assert {"count", "amount"} <= set(piped["lost"]) and "unqualified" in piped


def test_pipeline_filters_by_owner_and_expected_close(demo: Demo) -> None:
    # Given the whole pipeline
    everyone = as_json(demo.home, "pipeline")
    # When it is asked for one owner, Then that owner's deals are a part of the whole
    alice = as_json(demo.home, "pipeline", "--owner", "alice")
    assert alice["params"] == {"owner": "alice", "pipeline": "sales"}
    total = sum(s["count"] for s in everyone["stages"])
    assert 0 < sum(s["count"] for s in alice["stages"]) < total
    # When limited to an expected-close range in the far past, Then nothing is open there
    old = as_json(demo.home, "pipeline", "--from", "2000-01-01", "--to", "2000-12-31")
    assert sum(s["count"] for s in old["stages"]) == 0


def test_pipeline_and_forecast_print_the_same_tables_on_a_terminal_and_into_a_pipe(
    demo: Demo,
) -> None:
    # When the pipeline is asked for at a terminal
    code, text = on_a_terminal(demo.home, "pipeline")
    # Then it is a table with a header line saying the position, not JSON
    assert code == 0, text
    # and into a pipe it is the very same table: no format depends on where stdout goes
    assert crmledger(demo.home, "pipeline").out == text
    assert not text.lstrip().startswith("{")
    assert re.match(r"^as of position \d+ \(", text)
    header = next(line for line in text.splitlines() if line.startswith("stage"))
    assert header.split() == ["stage", "probability", "count", "amount", "weighted"]
    assert re.search(r"^initial_contact\s+10\s+\d+\s+[\d.]+\s+[\d.]+$", text, re.MULTILINE)
    # When the forecast is asked for at a terminal, Then rows and roll-ups are tables too
    code, text = on_a_terminal(demo.home, "forecast")
    assert code == 0, text
    assert re.search(r"^period\s+owner\s+category\s+count", text, re.MULTILINE)
    assert re.search(r"^period\s+owner\s+commit\s+best_case\s+open_pipeline", text, re.MULTILINE)
    assert re.search(
        r"^\d{4}-Q[1-4]\s+\w+\s+(pipeline|best_case|commit|closed)", text, re.MULTILINE
    )
    assert crmledger(demo.home, "forecast").out == text
    # and --format json at a terminal is JSON
    code, text = on_a_terminal(demo.home, "forecast", "--format", "json")
    assert code == 0 and json.loads(text)["period"] == "quarter"


def test_forecast_labels_quarters_months_and_filters_periods(demo: Demo) -> None:
    # When the forecast is asked for by quarter (the default)
    quarters = as_json(demo.home, "forecast")
    # Then it has rows and roll-ups labelled like 2027-Q1
    assert quarters["period"] == "quarter" and quarters["rows"] and quarters["rollups"]
    assert all(QUARTER.match(r["period"]) for r in quarters["rows"] + quarters["rollups"])
    assert {"commit", "best_case", "open_pipeline", "won", "coverage"} <= set(
        quarters["rollups"][0]
    )
    # When by month, Then labels are months
    months = as_json(demo.home, "forecast", "--period", "month")
    assert all(MONTH.match(r["period"]) for r in months["rows"])
    # When limited to the first quarter shown, Then only it remains
    first = quarters["rows"][0]["period"]
    only = as_json(demo.home, "forecast", "--from", first, "--to", first)
    assert {r["period"] for r in only["rows"]} == {first}


def test_as_of_a_past_position_answers_as_the_chart_stood_then(demo: Demo) -> None:
    # Given a position in the middle of the demo's history
    middle = log_position(demo.home) // 2
    # When the pipeline is asked as of it
    then = as_json(demo.home, "pipeline", "--as-of", str(middle))
    now = as_json(demo.home, "pipeline")
    # Then it answers for that position, with fewer deals won by then
    assert then["as_of"]["position"] == middle
    assert then["won"]["count"] < now["won"]["count"]
    # and an instant works too: it answers for the last position recorded by that instant
    # (one command's events share an instant, so that may lie after `middle`)
    at = as_json(demo.home, "pipeline", "--as-of", then["as_of"]["recorded_at"])
    assert at["as_of"]["position"] >= middle
    assert at["as_of"]["recorded_at"] == then["as_of"]["recorded_at"]
    same = as_json(demo.home, "pipeline", "--as-of", str(at["as_of"]["position"]))
    assert at["stages"] == same["stages"] and at["won"] == same["won"]


# --- baselines ----------------------------------------------------------------------------------


def test_baseline_create_list_show_compare_verify_and_delete(demo: Demo) -> None:
    # Given a position in the past
    middle = log_position(demo.home) // 2

    # When a baseline of alice's pipeline is taken now, and one after the fact at that position
    now = as_json(demo.home, "baseline", "create", "alice now", "--param", "owner=alice")
    late = as_json(
        demo.home, "baseline", "create", "alice then", "--param", "owner=alice",
        "--as-of", str(middle),
    )  # fmt: skip

    # Then each answers its id, event position, chart position and hash
    assert set(now) == {"id", "version", "position", "baseline_position", "sha256"}
    assert late["baseline_position"] == middle < now["baseline_position"]
    # and the late one holds the chart as it stood then
    shown = as_json(demo.home, "baseline", "show", late["id"])
    chart = as_json(demo.home, "pipeline", "--owner", "alice", "--as-of", str(middle))
    assert shown["rows"] == {k: v for k, v in chart.items() if k not in ("as_of", "params")}
    assert (shown["name"], shown["chart"]) == ("alice then", "pipeline")
    # and both are listed
    listed = {b["id"]: b for b in as_json(demo.home, "baseline", "list")}
    assert listed[now["id"]]["params"] == {"owner": "alice", "pipeline": "sales"}
    assert listed[late["id"]]["position"] == middle

    # When the late one is compared with now and with the other baseline
    with_now = as_json(demo.home, "baseline", "compare", late["id"])
    with_other = as_json(demo.home, "baseline", "compare", late["id"], "--with", now["id"])
    # Then both give per-row deltas and a waterfall that reconciles
    assert with_now["baseline"]["position"] == middle and with_now["with"]["id"] == "now"
    assert with_other["with"]["id"] == now["id"]
    assert [r["stage"] for r in with_other["rows"]][:4] == OPEN_STAGES
    assert_balances(with_now["waterfall"])
    assert_balances(with_other["waterfall"])
    # When verified, Then a fresh replay gives the stored hash (exit 0)
    for baseline in (now, late):
        verified = as_json(demo.home, "baseline", "verify", baseline["id"])
        assert verified["verified"] is True
        assert verified["sha256_replayed"] == verified["sha256_stored"] == baseline["sha256"]

    # When one is deleted, Then it is gone: show and compare refuse it in one line
    as_json(demo.home, "baseline", "delete", now["id"])
    line = assert_one_line_error(crmledger(demo.home, "baseline", "show", now["id"]))
    assert "no baseline" in line
    assert now["id"] not in {b["id"] for b in as_json(demo.home, "baseline", "list")}
    assert_one_line_error(
        crmledger(demo.home, "baseline", "compare", late["id"], "--with", now["id"])
    )


def test_baselines_of_different_charts_do_not_compare(demo: Demo) -> None:
    # Given a pipeline baseline and a forecast baseline
    pipeline = as_json(demo.home, "baseline", "create", "p")
    forecast = as_json(
        demo.home, "baseline", "create", "f", "--chart", "forecast", "--param", "period=month"
    )
    # When one is compared with the other, Then one line says why, exit 2
    run = crmledger(demo.home, "baseline", "compare", pipeline["id"], "--with", forecast["id"])
    assert "different charts or parameters" in assert_one_line_error(run)


# --- rebuild and history ------------------------------------------------------------------------


def test_rebuild_drops_and_replays_the_read_models_reporting_events_and_rate(demo: Demo) -> None:
    # Given the charts before
    pipeline = as_json(demo.home, "pipeline")
    forecast = as_json(demo.home, "forecast")

    # When the read models are rebuilt
    run = crmledger(demo.home, "rebuild")

    # Then stdout reports how many events and how fast; stderr shows a progress bar
    assert run.code == 0, run.err
    found = re.fullmatch(
        r"rebuilt read models from (\d+) events in [\d.]+ s \(([\d,]+) events/s\); "
        r"0 parked as dead letters\n",
        run.out,
    )
    assert found, run.out
    assert int(found[1]) == log_position(demo.home)
    assert int(found[2].replace(",", "")) > 0
    assert "rebuilding read models" in run.err and "100%" in run.err
    assert "Traceback" not in run.err
    # and the charts are the same as before: read models are disposable
    assert as_json(demo.home, "pipeline") == pipeline
    assert as_json(demo.home, "forecast") == forecast
    # and --quiet leaves stderr empty
    quiet = crmledger(demo.home, "rebuild", "--quiet")
    assert quiet.code == 0 and quiet.err == ""
    # and a rebuild written by a second process gives the same charts
    child = crmledger(demo.home, "rebuild", "--quiet", "--writer", "process")
    assert child.code == 0, child.err
    assert child.out.startswith(f"rebuilt read models from {log_position(demo.home)} events")
    assert as_json(demo.home, "pipeline") == pipeline
    assert as_json(demo.home, "forecast") == forecast


def test_history_prints_every_event_of_an_aggregate_as_a_table_or_json(demo: Demo) -> None:
    # Given a deal the demo sold
    deal = demo.sold[0]
    # When its history is printed
    text = crmledger(demo.home, "history", deal)
    events = as_json(demo.home, "history", deal)
    # Then it lists its events in version order, first the creation, with the sale among them
    assert text.code == 0, text.err
    header, first = text.out.splitlines()[:2]
    assert header.split() == ["version", "type", "recorded_at", "effective_at", "actor", "data"]
    assert first.split()[:2] == ["1", "OpportunityCreated"]
    assert [e["version"] for e in events] == list(range(1, len(events) + 1))
    assert "OpportunitySold" in [e["type"] for e in events]
    assert {"version", "type", "recorded_at", "effective_at", "data"} <= set(events[0])
    # When the id is unknown, Then one line says so (exit 1: nothing found, not bad input)
    missing = crmledger(demo.home, "history", str(uuid4()))
    assert "no aggregate" in assert_one_line_error(missing, code=1)


# --- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["pipeline", "--as-of", "yesterday"], "neither a log position nor"),
        (["pipeline", "--as-of", "2027-01-01T00:00:00"], "UTC offset"),
        (["pipeline", "--as-of", "99999999"], "beyond what the read model"),
        (["pipeline", "--from", "2027-13-01"], "must be a date"),
        (["pipeline", "--pipeline", "nope"], "no pipeline"),
        (["forecast", "--from", "2027-3"], "is not a period"),
        (["forecast", "--period", "month", "--to", "27"], "is not a period"),
        (["baseline", "show", "nope"], "not a baseline id"),
        (["baseline", "verify", "00000000-0000-4000-8000-000000000000"], "no baseline"),
        (["baseline", "compare", "00000000-0000-4000-8000-000000000000"], "no baseline"),
        (["baseline", "create", "x", "--param", "colour=red"], "no parameter colour"),
        (["baseline", "create", "x", "--param", "owner"], "key=value"),
        (["baseline", "create", "x", "--as-of", "soon"], "neither a log position nor"),
        (["baseline", "create", ""], "name"),
        (["history", "not-an-id"], "not an id"),
    ],
)
def test_bad_input_is_one_line_on_stderr_and_exit_2_and_writes_nothing(
    demo: Demo, args: list[str], says: str
) -> None:
    # Given the demo store at some position
    before = log_position(demo.home)
    # When a command gets bad input, Then one line says what is wrong, exit 2, no traceback
    line = assert_one_line_error(crmledger(demo.home, *args), starts=f"crmledger {args[0]}: ")
    assert says in line
    # and nothing was written
    assert log_position(demo.home) == before


@pytest.mark.parametrize(
    "args",
    [
        ["forecast", "--period", "week"],
        ["baseline"],
        ["baseline", "create", "x", "--chart", "funnel"],
        ["rebuild", "--flush-every", "many"],
        ["worker", "--role", "janitor"],
        ["no-such-command"],
    ],
)
def test_malformed_command_lines_are_usage_errors_with_exit_2(demo: Demo, args: list[str]) -> None:
    # When the command line itself is malformed, Then argparse's usage and one error line, exit 2
    run = crmledger(demo.home, *args)
    assert run.code == 2 and run.out == "" and "Traceback" not in run.err
    assert run.err.startswith("usage: crmledger")
    assert re.match(r"^crmledger( [\w-]+)*: error: ", run.err.strip().splitlines()[-1])


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("CRMLEDGER_CHECKPOINT_INTERVAL", "5"),
        ("CRMLEDGER_DATABASE_URL", "mysql://localhost/crm"),
        ("CRMLEDGER_LOG_LEVEL", "loud"),
    ],
)
def test_invalid_settings_are_one_line_naming_the_variable_and_exit_2(
    demo: Demo, variable: str, value: str
) -> None:
    # When a setting is invalid, Then one line names the variable, exit 2, no traceback
    run = crmledger(demo.home, "pipeline", **{variable: value})
    assert variable in assert_one_line_error(run, starts="crmledger: invalid settings: ")
