"""What the read-model and audit routes answer: the pipeline and forecast charts, the
stage history, baselines (list, one, comparison, verification), the audit lists.
Schemas only: ``adapters.http.answers`` says why.

Chart figures are decimals in the reporting currency (``currency``); the chart
documents a baseline keeps are the charts' own fields (``PipelineFigures``,
``ForecastFigures``), as they stood when it was taken.
"""

from __future__ import annotations

from pydantic import Field

from adapters.http.answers import Answer, AsOf, Currency, Decimal, Id, Instant, absent
from domain.baseline import Chart
from domain.periods import PeriodKind
from domain.user import Role

# --- chart parameters ------------------------------------------------------------------


class ChartParamsAnswer(Answer):
    """A chart's parameters as a query string gives them (only those given, and those
    with a default); a baseline's also keep the scope of the user who took it."""

    pipeline: str = absent("The pipeline chart's pipeline (name or id)")
    period: str = absent("The forecast's period kind")
    from_: str = absent("The forecast's first period", alias="from")
    to: str = absent("The forecast's last period")
    owner: str = absent()
    partner_id: str = absent()
    account_id: str = absent()
    close_from: str = absent()
    close_to: str = absent()
    scope_login: str = absent("Who took it", alias="scope.login")
    scope_role: str = absent("Their role then", alias="scope.role")
    scope_team: str = absent("Their team then: logins, comma-separated", alias="scope.team")
    scope_partner: str = absent("A partner user's partner account", alias="scope.partner")


# --- the charts ------------------------------------------------------------------------


class StageFigures(Answer):
    stage: str = Field(description="The stage's key")
    name: str
    probability: int
    count: int
    amount: Decimal
    weighted: Decimal = Field(description="amount × probability")


class Totals(Answer):
    count: int
    amount: Decimal


class PipelineFigures(Answer):
    """The pipeline chart: the open deals per stage, and the closed ones."""

    pipeline: str
    currency: Currency
    stages: list[StageFigures]
    won: Totals
    lost: Totals
    unqualified: Totals


class ForecastRow(Answer):
    period: str
    owner: str
    category: str = Field(description="A forecast category")
    count: int
    amount: Decimal
    weighted: Decimal
    won: Decimal
    target: Decimal | None
    attainment: Decimal | None = Field(description="won / target; null without a target")


class Rollup(Answer):
    period: str
    owner: str
    commit: Decimal
    best_case: Decimal
    open_pipeline: Decimal
    won: Decimal
    target: Decimal | None
    attainment: Decimal | None
    coverage: Decimal | None


class ForecastFigures(Answer):
    """The forecast chart: per period, owner and category, and per period and owner."""

    currency: Currency
    period: PeriodKind
    rows: list[ForecastRow]
    rollups: list[Rollup]


class PipelineChart(PipelineFigures):
    as_of: AsOf
    params: ChartParamsAnswer


class ForecastChart(ForecastFigures):
    as_of: AsOf
    params: ChartParamsAnswer


class StageHistoryRow(Answer):
    stage: str
    name: str
    visits_ended: int
    mean_days_in_stage: Decimal | None
    median_days_in_stage: Decimal | None
    conversion: dict[str, Decimal] = Field(
        description="Per next stage: the share of the ended visits that went on to it"
    )


class StageHistory(Answer):
    as_of: AsOf
    params: ChartParamsAnswer
    stages: list[StageHistoryRow]
    won: int
    lost: int
    win_rate: Decimal | None = Field(description="won / (won + lost); null: none closed")
    mean_sales_cycle_days: Decimal | None


# --- baselines -------------------------------------------------------------------------


class BaselineListed(Answer):
    id: Id
    name: str
    chart: Chart
    params: ChartParamsAnswer
    position: int = Field(description="The log position it was taken at")
    as_of: Instant = Field(description="The instant it reflects")
    sha256: str = Field(description="Of its chart document (canonical JSON)")
    taken_at: Instant


class Baselines(Answer):
    as_of: AsOf
    baselines: list[BaselineListed]


class Baseline(BaselineListed):
    version: int
    rows: PipelineFigures | ForecastFigures = Field(description="The chart as it stood")


class BaselineEnd(Answer):
    """One end of a comparison: a baseline (or `now`) and the position it reflects."""

    id: str = Field(description="A baseline's id, or `now`")
    position: int
    recorded_at: Instant | None


class Figures(Answer):
    count: int
    amount: Decimal
    weighted: Decimal = absent("Not on the won, lost, unqualified rows")


class StageDelta(Answer):
    stage: str = Field(description="A stage's key, or `won`, `lost`, `unqualified`")
    then: Figures
    now: Figures
    delta: Figures


class ForecastDelta(Answer):
    period: str
    owner: str
    category: str
    then: Figures
    now: Figures
    delta: Figures


class Buckets(Answer):
    """start + new + pulled_in + increased + reopened − decreased − pushed_out − won −
    lost − deleted = end."""

    start: int
    new: int
    pulled_in: int
    increased: int
    reopened: int
    decreased: int
    pushed_out: int
    won: int
    lost: int
    deleted: int
    end: int


class Waterfall(Answer):
    """How the open deals in the chart's window went from one end to the other, in the
    reporting currency at the later end's rates (and in ``counts``)."""

    from_position: int
    to_position: int
    rates_at: Instant
    start: Decimal
    new: Decimal
    pulled_in: Decimal
    increased: Decimal
    reopened: Decimal
    decreased: Decimal
    pushed_out: Decimal
    won: Decimal
    lost: Decimal
    deleted: Decimal
    end: Decimal
    counts: Buckets


class Comparison(Answer):
    baseline: BaselineEnd
    with_: BaselineEnd = Field(alias="with")
    currency: Currency
    rows: list[StageDelta] | list[ForecastDelta] = Field(
        description="Per chart row: the figures then, now, and now − then"
    )
    waterfall: Waterfall


class Verification(Answer):
    verified: bool = Field(description="The replay gave the same chart document")
    sha256_stored: str
    sha256_replayed: str
    position: int


# --- audit -----------------------------------------------------------------------------


class Access(Answer):
    record_id: Id
    by: str = Field(description="Who read it")
    at: Instant
    route: str = Field(description="The route template (`GET /leads/{lead_id}`) or the CLI's")
    request_id: str | None


class AccessLog(Answer):
    items: list[Access]
    next_cursor: str | None = Field(description="The next page's cursor; null: the last page")
    as_of: AsOf = Field(description="The event log's position and the instant of the read")


class ActionEvent(Answer):
    type: str = Field(description="The event's type")
    aggregate_id: Id
    aggregate_version: int
    position: int


class Action(Answer):
    by: str
    recorded_at: Instant
    request_id: str | None
    causation_id: str | None
    position: int = Field(description="The position of its last event")
    events: list[ActionEvent]


class Actions(Answer):
    items: list[Action]
    next_cursor: str | None = Field(description="The next page's cursor; null: the last page")
    as_of: AsOf


class Viewer(Answer):
    login: str
    role: Role
    manager: str | None


class Visibility(Answer):
    record: Id
    kind: str | None = Field(description="The record's kind; null before it was made")
    as_of: Instant
    existed: bool
    users: list[Viewer]
