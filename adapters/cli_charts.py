"""How the charts, baselines and their comparisons print, in ``adapters.cli_output``'s terms.

The CSV record of each:

- ``pipeline`` (and a pipeline baseline's ``show``): a stage, then ``won``, ``lost`` and
  ``unqualified`` (stage, name, probability, count, amount, weighted).
- ``forecast`` (and a forecast baseline's ``show``): its rows and its roll-ups, told apart
  by ``kind`` (``row``: a period, owner and category; ``rollup``: a period and owner).
- ``baseline compare``: a step of the waterfall, from ``start`` to ``end`` (count and
  amount signed: what the step adds or takes away; ``total``: the amount after it).
- ``baseline list``: a baseline; ``create``, ``verify``, ``delete``: the one answer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from adapters.cli_output import Printed, Row, Table, fields, listing, record

PIPELINE_COLUMNS = ("stage", "probability", "count", "amount", "weighted")
FORECAST_COLUMNS = ("period", "owner", "category", "count", "amount", "weighted")
ROLLUP_COLUMNS = (
    "period",
    "owner",
    "commit",
    "best_case",
    "open_pipeline",
    "won",
    "target",
    "attainment",
    "coverage",
)
# A forecast's CSV columns: its rows' keys, then those only its roll-ups have.
FORECAST_RECORD = (
    "kind",
    *FORECAST_COLUMNS,
    "won",
    "target",
    "attainment",
    "commit",
    "best_case",
    "open_pipeline",
    "coverage",
)
CLOSED = ("won", "lost", "unqualified")
# The waterfall's steps in order, each with what it does to the total.
INFLOWS = ("new", "pulled_in", "increased", "reopened")
OUTFLOWS = ("decreased", "pushed_out", "won", "lost", "deleted")
BASELINE_COLUMNS = ("id", "name", "chart", "params", "position", "as_of", "taken_at")
BASELINE_RECORD = ("id", "name", "chart", "params", "position", "as_of", "sha256", "taken_at")


def heading(answer: Mapping[str, Any]) -> str:
    """What a chart counts and as of when."""
    as_of = answer["as_of"]
    params = ", ".join(f"{k}={v}" for k, v in answer.get("params", {}).items())
    return (
        f"as of position {as_of['position']} ({as_of['recorded_at']}); {params}; "
        f"currency {answer.get('currency', '')}"
    )


def pipeline_rows(chart: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The open stages in order, then the closed outcomes (a pipeline answer or document)."""
    return [*chart["stages"], *({"stage": kind, **chart[kind]} for kind in CLOSED)]


def forecast_records(chart: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [
        *({"kind": "row", **row} for row in chart["rows"]),
        *({"kind": "rollup", **row} for row in chart["rollups"]),
    ]


def chart_tables(chart_name: str, chart: Mapping[str, Any]) -> list[Table]:
    if chart_name == "pipeline":
        return [Table(pipeline_rows(chart), PIPELINE_COLUMNS)]
    return [
        Table(chart["rows"], FORECAST_COLUMNS, "By period, owner and category"),
        Table(chart["rollups"], ROLLUP_COLUMNS, "Roll-ups by period and owner"),
    ]


def chart_records(chart_name: str, chart: Mapping[str, Any]) -> list[dict[str, Any]]:
    return pipeline_rows(chart) if chart_name == "pipeline" else forecast_records(chart)


def chart_output(chart_name: str, answer: Mapping[str, Any]) -> Printed:
    """``crmledger pipeline|forecast``: JSON is the HTTP API's answer."""
    return Printed(
        document=answer,
        records=chart_records(chart_name, answer),
        tables=chart_tables(chart_name, answer),
        lines=[heading(answer)],
        header=_chart_header(chart_name),
    )


def _chart_header(chart_name: str) -> tuple[str, ...]:
    return ("stage", "name", *PIPELINE_COLUMNS[1:]) if chart_name == "pipeline" else FORECAST_RECORD


def baseline_list_output(baselines: Sequence[Row]) -> Printed:
    return listing(baselines, BASELINE_COLUMNS, BASELINE_RECORD)


def baseline_output(answer: Row) -> Printed:
    """``baseline show``: the baseline's fields, then its chart as it was kept."""
    chart_name, chart = answer["chart"], answer["rows"]
    return Printed(
        document=answer,
        records=chart_records(chart_name, chart),
        tables=[
            fields(answer, [k for k in answer if k != "rows"]),
            *chart_tables(chart_name, chart),
        ],
        header=_chart_header(chart_name),
    )


def outcome_output(answer: Row) -> Printed:
    """``baseline create|verify|delete``: one answer."""
    return record(answer)


def waterfall_steps(waterfall: Mapping[str, Any]) -> list[dict[str, str]]:
    """start, each step signed (+ adds to the total, - takes away), end; with the
    running total, which ends at ``end`` (the waterfall reconciles)."""
    counts = waterfall["counts"]
    total = Decimal(waterfall["start"])
    steps = [_step("start", counts["start"], total, total, sign=False)]
    for name in (*INFLOWS, *OUTFLOWS):
        inflow = name in INFLOWS
        # Unary minus (unlike multiplying by -1) makes 0.00 of 0.00, never -0.00.
        amount = Decimal(waterfall[name]) if inflow else -Decimal(waterfall[name])
        count = counts[name] if inflow else -counts[name]
        total += amount
        steps.append(_step(name, count, amount, total, sign=True))
    end = Decimal(waterfall["end"])
    steps.append(_step("end", counts["end"], end, end, sign=False))
    return steps


def _step(name: str, count: int, amount: Decimal, total: Decimal, *, sign: bool) -> dict[str, str]:
    def shown(value: Decimal | int) -> str:
        return f"+{value}" if sign and value > 0 else str(value)

    return {"step": name, "count": shown(count), "amount": shown(amount), "total": str(total)}


def comparison_output(answer: Mapping[str, Any]) -> Printed:
    """``baseline compare``: the rows then and now, and the waterfall that reconciles them."""
    then, now, waterfall = answer["baseline"], answer["with"], answer["waterfall"]
    keys = [
        k for k in ("stage", "period", "owner", "category") if any(k in r for r in answer["rows"])
    ]
    figures = [f"{side}.{f}" for side in ("then", "now", "delta") for f in ("count", "amount")]
    steps = waterfall_steps(waterfall)
    return Printed(
        document=answer,
        records=steps,
        tables=[
            Table(answer["rows"], [*keys, *figures], "Rows then, now and the change"),
            Table(
                steps,
                ("step", "count", "amount", "total"),
                f"Waterfall from position {waterfall['from_position']} to "
                f"{waterfall['to_position']} (both valued at the rates of "
                f"{waterfall['rates_at']})",
            ),
        ],
        lines=[
            f"baseline {then['id']} at position {then['position']} ({then['recorded_at']}) "
            f"compared with {now['id']} at position {now['position']} ({now['recorded_at']}); "
            f"currency {answer['currency']}"
        ],
    )
