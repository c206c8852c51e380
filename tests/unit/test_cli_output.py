"""How the command line lays out what it prints (``adapters/cli_output.py``), the
waterfall's steps (``adapters/cli_charts.py``) and the version it says it is."""

from __future__ import annotations

import csv
import importlib.metadata
import io
import json
import tomllib
from pathlib import Path

import pytest

from adapters import cli
from adapters.cli_charts import waterfall_steps
from adapters.cli_output import Printed, Table, csv_text, render, table_text

ROOT = Path(__file__).resolve().parents[2]


def test_a_table_right_aligns_columns_of_numbers_and_leaves_blanks_blank() -> None:
    # Given rows with text, money, a signed number and a missing value
    rows = [
        {"stage": "initial_contact", "amount": "400184.91", "change": "+12"},
        {"stage": "won", "amount": "5.00", "change": None},
    ]
    # When laid out as a table
    lines = table_text(rows, ("stage", "amount", "change")).splitlines()
    # Then text is left-aligned, numbers right-aligned under their header, nothing trails
    assert lines == [
        "stage               amount  change",
        "initial_contact  400184.91     +12",
        "won                   5.00",
    ]


def test_a_table_shows_nested_values_by_dotted_columns_and_objects_as_key_value_pairs() -> None:
    rows = [{"id": "b1", "params": {"owner": "alice", "pipeline": "sales"}, "then": {"count": 3}}]
    text = table_text(rows, ("id", "params", "then.count"))
    assert text.splitlines() == [
        "id  params                       then.count",
        "b1  owner=alice, pipeline=sales           3",
    ]


def test_csv_flattens_objects_into_dotted_columns_side_by_side_and_lists_into_json() -> None:
    # Given records whose objects differ in their keys, with a list, a flag and a null
    rows = [
        {"id": "a", "params": {"owner": "alice"}, "position": 4, "tags": ["x", "y"], "ok": True},
        {"id": "b", "params": {"period": "month"}, "position": 5, "tags": [], "ok": None},
    ]
    # When printed as CSV
    read = list(csv.reader(io.StringIO(csv_text(rows))))
    # Then an object's keys are dotted columns next to each other, in the order met
    assert read[0] == ["id", "params.owner", "params.period", "position", "tags", "ok"]
    # and a key a record lacks is empty, a list is one cell of JSON, a flag true/false
    assert read[1:] == [
        ["a", "alice", "", "4", '["x","y"]', "true"],
        ["b", "", "month", "5", "[]", ""],
    ]


def test_csv_of_no_records_is_the_header_the_command_names() -> None:
    assert csv_text([], ("id", "name")) == "id,name\n"


def test_each_format_prints_what_it_should_and_json_keeps_decimals_as_strings() -> None:
    # Given an answer with a heading, a table and its records
    answer = {"as_of": 7, "rows": [{"stage": "won", "amount": "10.50"}]}
    printed = Printed(
        document=answer,
        records=answer["rows"],
        tables=[Table(answer["rows"], ("stage", "amount"), "Outcomes")],
        lines=["as of position 7"],
    )
    # Then JSON is the whole answer, decimals still strings
    assert json.loads(render(printed, "json")) == answer
    # and CSV the records, and the table the heading, then the titled table
    assert render(printed, "csv") == "stage,amount\nwon,10.50\n"
    assert (
        render(printed, "table") == "as of position 7\n\nOutcomes\nstage  amount\nwon     10.50\n"
    )


def test_the_waterfall_steps_are_signed_and_their_running_total_ends_at_the_end() -> None:
    # Given a waterfall from 100.00 (2 deals) that gained one deal and lost one
    figures = dict.fromkeys(
        ("new", "pulled_in", "increased", "reopened", "decreased", "pushed_out"), "0.00"
    )
    waterfall = {
        **figures,
        "start": "100.00",
        "won": "0.00",
        "deleted": "0.00",
        "new": "30.00",
        "lost": "20.00",
        "end": "110.00",
        "counts": {"start": 2, "new": 1, "lost": 1, "end": 2}
        | dict.fromkeys(
            ("pulled_in", "increased", "reopened", "decreased", "pushed_out", "won", "deleted"), 0
        ),
    }
    # When laid out as steps
    steps = {s["step"]: s for s in waterfall_steps(waterfall)}
    # Then inflows add (+), outflows take away (-), nothing is 0.00 (never -0.00)
    assert steps["new"] == {"step": "new", "count": "+1", "amount": "+30.00", "total": "130.00"}
    assert steps["lost"] == {"step": "lost", "count": "-1", "amount": "-20.00", "total": "110.00"}
    assert steps["won"]["amount"] == steps["pushed_out"]["amount"] == "0.00"
    # and the list runs from start to end, whose total is the end
    assert list(steps) == [
        "start",
        *("new", "pulled_in", "increased", "reopened"),
        *("decreased", "pushed_out", "won", "lost", "deleted"),
        "end",
    ]
    assert steps["end"] == {"step": "end", "count": "2", "amount": "110.00", "total": "110.00"}


def test_the_version_comes_from_the_installed_distribution() -> None:
    assert cli.version() == importlib.metadata.version("crmledger")


def test_from_a_source_tree_never_installed_the_version_is_pyprojects(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given no installed distribution's metadata
    def missing(name: str) -> str:
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "version", missing)
    # When the version is asked for, Then it is the one pyproject.toml declares
    with (ROOT / "pyproject.toml").open("rb") as project:
        declared = tomllib.load(project)["project"]["version"]
    assert cli.version() == declared
