"""The charts analysts query, computed from a ``DealsView`` at one instant.

Formulas (docs/readmodels.md has them with the choices made):

- each deal's amount is converted to the reporting currency with the rate in
  force at the chart's instant and rounded to the minor unit (ROUND_HALF_UP);
  its weighted amount is ``round(converted × probability / 100)``; totals are
  sums of these per-deal figures, so a drill-down adds up to its total;
- pipeline: per stage in stage order, the open deals' count, amount and
  weighted amount, with the stage probability of the chart's time (a deal's
  own override wins for its weighted amount); plus won, lost and unqualified;
- forecast: per period × owner × category (pipeline, best_case, commit,
  closed, omitted). A won deal counts in the period of its sale, an open one
  in that of its expected close; lost and unqualified deals are not forecast.
  Roll-ups: commit = commit + closed; best_case = best_case + commit + closed;
  open_pipeline = pipeline + best_case + commit; omitted counts nowhere;
  attainment = won / target; coverage = open_pipeline / (target − won).

Arithmetic is on integers in minor units: exact, and fast enough for as-of
queries over tens of thousands of deals.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import msgspec

from domain.errors import RuleViolated
from domain.forecasting import FORECAST_ORDER, effective_forecast
from domain.money import (
    EXACT,
    round_half_up,
    round_half_up_ratio,
    round_half_up_total,
)
from domain.periods import PeriodKind, kind_of, period_of
from readmodels.deals.selection import Filters, columns, pipeline_stages
from readmodels.deals.valuer import Valuer
from readmodels.deals.view import DealsView, StageRow, target_key
from readmodels.values import EPOCH, NONE

RATIO_PLACES = 4
MICROS_PER_DAY = 86_400_000_000
EPOCH_ORDINAL = EPOCH.date().toordinal()


class StageFigures(msgspec.Struct, kw_only=True):
    stage: str
    name: str
    probability: int
    count: int
    amount: Decimal
    weighted: Decimal


class Totals(msgspec.Struct, kw_only=True):
    count: int
    amount: Decimal


class PipelineChart(msgspec.Struct, kw_only=True):
    pipeline: str
    currency: str
    stages: list[StageFigures]
    won: Totals
    lost: Totals
    unqualified: Totals


class ForecastRow(msgspec.Struct, kw_only=True):
    period: str
    owner: str
    category: str
    count: int
    amount: Decimal
    weighted: Decimal
    won: Decimal
    target: Decimal | None
    attainment: Decimal | None


class Rollup(msgspec.Struct, kw_only=True):
    period: str
    owner: str
    commit: Decimal
    best_case: Decimal
    open_pipeline: Decimal
    won: Decimal
    target: Decimal | None
    attainment: Decimal | None
    coverage: Decimal | None


class ForecastChart(msgspec.Struct, kw_only=True):
    currency: str
    period: str
    rows: list[ForecastRow]
    rollups: list[Rollup]


def pipeline_chart(
    view: DealsView, pipeline_id: UUID, filters: Filters, instant: datetime
) -> PipelineChart:
    stages = pipeline_stages(view, pipeline_id)
    valuer = Valuer(view, instant)
    wanted = str(pipeline_id)
    # An open deal's probability without an override of its own, per stage (the rule,
    # domain.forecasting, asked once per stage rather than once per deal).
    probability = {
        s.key: effective_forecast("open", s.probability, s.forecast_category)[1]
        for s in stages
        if s.closed is None
    }
    # stage -> [count, amount, the weighted amounts' numerators (value × probability)]
    sums: dict[str, list[Any]] = {key: [0, 0, []] for key in probability}
    closed = {kind: [0, 0] for kind in ("won", "lost", "unqualified")}
    # The loop below runs once per deal of every as-of query: columns zipped, no call for
    # a deal in the reporting currency, the rule asked only for a deal's own override.
    reporting = valuer.currency
    known, fraction = valuer.fractions, valuer.fraction
    ratio, forecast = round_half_up_ratio, effective_forecast
    for pipeline, status, stage, amount, currency, override in zip(
        *columns(
            view,
            filters,
            "pipeline_ids",
            "statuses",
            "stages",
            "amounts",
            "currencies",
            "probability_override",
        ),
        strict=True,
    ):
        if pipeline != wanted or status == "deleted":
            continue
        if currency == reporting:
            value = amount
        else:
            n, d = known.get(currency) or fraction(currency)
            value = ratio(amount * n, d)
        if status == "open":
            cell = sums.get(stage)
            if cell is None:
                continue
            if override == NONE:
                weight = probability[stage]
            else:
                weight = forecast("open", 0, "", override)[1]
            cell[0] += 1
            cell[1] += value
            cell[2].append(value * weight)
        else:
            totals = closed[status]
            totals[0] += 1
            totals[1] += value
    return PipelineChart(
        pipeline=stages[0].pipeline_name,
        currency=valuer.currency,
        stages=[
            StageFigures(
                stage=s.key,
                name=s.name,
                probability=s.probability,
                count=sums[s.key][0],
                amount=valuer.money(sums[s.key][1]),
                weighted=valuer.money(round_half_up_total(sums[s.key][2], 100)),
            )
            for s in stages
            if s.closed is None
        ],
        won=Totals(count=closed["won"][0], amount=valuer.money(closed["won"][1])),
        lost=Totals(count=closed["lost"][0], amount=valuer.money(closed["lost"][1])),
        unqualified=Totals(
            count=closed["unqualified"][0], amount=valuer.money(closed["unqualified"][1])
        ),
    )


def _ratio(numerator: Decimal, denominator: Decimal | None) -> Decimal | None:
    if denominator is None or denominator <= 0:
        return None
    return round_half_up(EXACT.divide(numerator, denominator), RATIO_PLACES)


def _forecast_cells(
    view: DealsView,
    valuer: Valuer,
    filters: Filters,
    period_kind: PeriodKind,
    *,
    period_from: str | None,
    period_to: str | None,
) -> dict[tuple[str, str, str], list[int]]:
    """(period, owner, category) -> [count, amount, weighted], in reporting minor units."""
    stages = view.stages
    by_day: dict[int, str] = {}

    def period(day_ordinal: int) -> str:
        label = by_day.get(day_ordinal)
        if label is None:
            label = by_day[day_ordinal] = period_of(date.fromordinal(day_ordinal), period_kind)
        return label

    # (period, owner, category) -> [count, amount, weighted]
    # (period, owner, category) -> [count, amount, the weighted amounts' numerators]
    raw: dict[tuple[str, str, str], list[Any]] = {}
    # Once per deal of every as-of query: columns zipped, no call for a deal in the
    # reporting currency, the rule (domain.forecasting) asked once per stage for the deals
    # without overrides of their own and once for every won deal.
    reporting = valuer.currency
    known, fraction = valuer.fractions, valuer.fraction
    ratio, forecast = round_half_up_ratio, effective_forecast
    # pipeline -> stage -> (the stage, its deals' category and probability without overrides)
    stage_of: dict[str, dict[str, tuple[StageRow, tuple[str, int]]]] = defaultdict(dict)
    for row in stages.values():
        if row.removed:  # a deal left in it counts nowhere, as in an unknown stage
            continue
        stage_of[row.pipeline_id][row.key] = (
            row,
            forecast("open", row.probability, row.forecast_category),
        )
    won = forecast("won", 0, "")
    for status, amount, currency, owner, pipeline, stage_key_, override, chosen, sold, close in zip(
        *columns(
            view,
            filters,
            "statuses",
            "amounts",
            "currencies",
            "owners",
            "pipeline_ids",
            "stages",
            "probability_override",
            "category_override",
            "sold_at",
            "expected_close",
        ),
        strict=True,
    ):
        if status == "won":
            day = EPOCH_ORDINAL + sold // MICROS_PER_DAY
            category, probability = won
        elif status == "open":
            day = close
            found = stage_of[pipeline].get(stage_key_)
            if found is None:  # a stage its pipeline does not have: counts nowhere
                category, probability = "omitted", 0
            elif override == NONE and chosen is None:
                category, probability = found[1]
            else:
                stage = found[0]
                category, probability = forecast(
                    "open",
                    stage.probability,
                    stage.forecast_category,
                    None if override == NONE else override,
                    chosen,
                )
        else:
            continue
        label = by_day.get(day) or period(day)
        if (period_from is not None and label < period_from) or (
            period_to is not None and label > period_to
        ):
            continue
        if currency == reporting:
            value = amount
        else:
            n, d = known.get(currency) or fraction(currency)
            value = ratio(amount * n, d)
        key = (label, owner, category)
        cell = raw.get(key)
        if cell is None:
            cell = raw[key] = [0, 0, []]
        cell[0] += 1
        cell[1] += value
        cell[2].append(value * probability)

    # Each deal's weighted amount rounded on its own, as one sum per cell.
    return {
        key: [count, amount, round_half_up_total(weights, 100)]
        for key, (count, amount, weights) in raw.items()
    }


def forecast_chart(
    view: DealsView,
    period_kind: PeriodKind,
    filters: Filters,
    instant: datetime,
    *,
    period_from: str | None = None,
    period_to: str | None = None,
) -> ForecastChart:
    for label in (period_from, period_to):
        if label is not None and kind_of(label) != period_kind:
            raise RuleViolated(
                f"{label!r} is not a {period_kind}; from and to must be {period_kind}s."
            )
    valuer = Valuer(view, instant)
    cells = _forecast_cells(
        view, valuer, filters, period_kind, period_from=period_from, period_to=period_to
    )

    totals: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
    for (label, owner, category), cell in cells.items():
        totals[(label, owner)][category] = cell[1]
    rollups: dict[tuple[str, str], Rollup] = {}
    for (label, owner), amounts in sorted(totals.items()):
        closed = amounts.get("closed", 0)
        commit = amounts.get("commit", 0)
        best = amounts.get("best_case", 0)
        open_pipeline = amounts.get("pipeline", 0) + best + commit
        target_row = view.targets.get(target_key(owner, label))
        target = target_row.amount if target_row else None
        won = valuer.money(closed)
        rollups[(label, owner)] = Rollup(
            period=label,
            owner=owner,
            commit=valuer.money(commit + closed),
            best_case=valuer.money(best + commit + closed),
            open_pipeline=valuer.money(open_pipeline),
            won=won,
            target=target,
            attainment=_ratio(won, target),
            coverage=_ratio(valuer.money(open_pipeline), None if target is None else target - won),
        )
    rows = []
    for (label, owner, category), cell in sorted(
        cells.items(), key=lambda kv: (kv[0][0], kv[0][1], FORECAST_ORDER.index(kv[0][2]))
    ):
        rollup = rollups[(label, owner)]
        rows.append(
            ForecastRow(
                period=label,
                owner=owner,
                category=category,
                count=cell[0],
                amount=valuer.money(cell[1]),
                weighted=valuer.money(cell[2]),
                won=valuer.money(cell[1]) if category == "closed" else valuer.money(0),
                target=rollup.target,
                attainment=rollup.attainment,
            )
        )
    return ForecastChart(
        currency=valuer.currency, period=period_kind, rows=rows, rollups=list(rollups.values())
    )
