"""What a chart query asks for, as a value: the parameters of a pipeline or forecast chart.

The same spec computes the chart, stores with a baseline, and decides which
deals are in the chart's window for a waterfall.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from uuid import UUID

import msgspec

from domain.errors import InvalidInput, RuleViolated
from domain.ids import pipeline_id_for
from domain.periods import PERIOD_KINDS, PeriodKind, as_kind, kind_of, period_of
from readmodels.deals.charts import ForecastChart, PipelineChart, forecast_chart, pipeline_chart
from readmodels.deals.selection import Filters
from readmodels.deals.view import DealsView

ChartKind = Literal["pipeline", "forecast"]


class ChartSpec(msgspec.Struct, frozen=True, kw_only=True):
    chart: ChartKind
    pipeline: str = "sales"
    period: PeriodKind = "quarter"
    filters: Filters = Filters()
    # Forecast: first and last period shown; pipeline: expected-close dates (in Filters).
    period_from: str | None = None
    period_to: str | None = None

    @property
    def pipeline_id(self) -> UUID:
        try:
            return UUID(self.pipeline)
        except ValueError:
            return pipeline_id_for(self.pipeline)

    def params(self) -> dict[str, str]:
        """The parameters as query strings would give them (stored with baselines)."""
        params = self.filters.as_params()
        if self.chart == "pipeline":
            params["pipeline"] = self.pipeline
        else:
            params["period"] = self.period
            if self.period_from:
                params["from"] = self.period_from
            if self.period_to:
                params["to"] = self.period_to
        return dict(sorted(params.items()))

    def compute(self, view: DealsView, instant: datetime) -> PipelineChart | ForecastChart:
        if self.chart == "pipeline":
            return pipeline_chart(view, self.pipeline_id, self.filters, instant)
        return forecast_chart(
            view,
            self.period,
            self.filters,
            instant,
            period_from=self.period_from,
            period_to=self.period_to,
        )

    def in_window(self, view: DealsView, i: int) -> bool:
        """Is deal ``i`` an open deal this chart's window counts (waterfalls)?"""
        deals = view.deals
        if deals.statuses[i] != "open":
            return False
        f = self.filters
        if f.owner is not None and deals.owners[i] != f.owner:
            return False
        if f.scope is not None and not f.scope.admits(
            deals.ids[i], deals.owners[i], deals.partner_ids[i]
        ):
            return False
        if f.partner_id is not None and deals.partner_ids[i] != str(f.partner_id):
            return False
        if f.account_id is not None and deals.account_ids[i] != str(f.account_id):
            return False
        close = deals.expected_close[i]
        if f.close_from is not None and close < f.close_from.toordinal():
            return False
        if f.close_to is not None and close > f.close_to.toordinal():
            return False
        if self.chart == "pipeline":
            return deals.pipeline_ids[i] == str(self.pipeline_id)
        label = period_of(date.fromordinal(close), self.period)
        return (self.period_from is None or label >= self.period_from) and (
            self.period_to is None or label <= self.period_to
        )


def _uuid(value: str | None, name: str) -> UUID | None:
    if value is None or value == "":
        return None
    try:
        return UUID(value)
    except ValueError:
        raise InvalidInput(f"{name} must be an id (a UUID), not {value!r}.") from None


def _day(value: str | None, name: str) -> date | None:
    if value is None or value == "":
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{name} must be a date like 2027-03-31, not {value!r}.") from None


def spec_from_params(chart: str, params: dict[str, str | None]) -> ChartSpec:
    """Validate query parameters (or a baseline's stored params) into a spec."""
    known = {
        "pipeline": {
            "pipeline",
            "owner",
            "partner_id",
            "account_id",
            "close_from",
            "close_to",
            "from",
            "to",
            "partner",
            "account",
        },
        "forecast": {
            "period",
            "owner",
            "partner_id",
            "account_id",
            "from",
            "to",
            "partner",
            "account",
        },
    }
    if chart not in known:
        raise InvalidInput(f"chart must be pipeline or forecast, not {chart!r}.")
    unknown = sorted(k for k, v in params.items() if v is not None and k not in known[chart])
    if unknown:
        # A rule of the chart (the body's params are any names): 409, not a shape error.
        raise RuleViolated(f"a {chart} chart takes no parameter {', '.join(unknown)}.")
    owner = params.get("owner") or None
    partner = _uuid(params.get("partner_id") or params.get("partner"), "partner")
    account = _uuid(params.get("account_id") or params.get("account"), "account")
    if chart == "pipeline":
        filters = Filters(
            owner=owner,
            partner_id=partner,
            account_id=account,
            close_from=_day(params.get("close_from") or params.get("from"), "from"),
            close_to=_day(params.get("close_to") or params.get("to"), "to"),
        )
        return ChartSpec(
            chart="pipeline", pipeline=params.get("pipeline") or "sales", filters=filters
        )
    period = params.get("period") or "quarter"
    if period not in PERIOD_KINDS:
        raise InvalidInput(f"period must be month, quarter or year, not {period!r}.")
    bounds = []
    for name in ("from", "to"):
        value = params.get(name) or None
        # A bound of another kind counts by its days: from=2027-Q1 in months is 2027-01.
        if value is not None and kind_of(value) != period:
            value = as_kind(value, period, end=name == "to")
        bounds.append(value)
    return ChartSpec(
        chart="forecast",
        period=period,
        filters=Filters(owner=owner, partner_id=partner, account_id=account),
        period_from=bounds[0],
        period_to=bounds[1],
    )
