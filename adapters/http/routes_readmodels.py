"""Read-model routes: pipeline, forecast, targets, baselines, stage history.

Every query takes ``as_of`` (a log position or an ISO 8601 instant) and
``wait_for`` (a position to wait for: read your writes), and says the
position it reflects in ``as_of``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import Discriminator, Field, Tag

from adapters.baselines import take_baseline
from adapters.bootstrap import Services
from adapters.http.answers import ReadAnswer
from adapters.http.bodies import Body, MoneyBody, PositiveMoneyBody, example
from adapters.http.commanding import CommandHeaders, command_headers, run
from adapters.http.errors import STORE_ERRORS, unavailable
from adapters.http.fields import Day as DayField
from adapters.http.fields import (
    DayOrPeriod,
    Login,
    Name,
    Period,
    PositionOrInstant,
    PositiveAmount,
    Uuid,
)
from adapters.http.parameters import PERIOD_FROM, PERIOD_TO, WAIT_FOR, AsOf, Day
from adapters.http.reading import reads
from adapters.http.routes_catalogue import load
from adapters.http.waiting import waiting_answer, waiting_for
from adapters.supervision import Supervisor
from commands.read_model_commands import DeleteBaseline, SetSalesTarget
from domain.baseline import Baseline
from domain.errors import InvalidInput
from domain.money import Money
from domain.periods import PeriodKind
from readmodels.bookkeeping import dead_letters
from readmodels.deals import stored
from readmodels.deals.analytics import Analytics, baseline_view
from readmodels.deals.baselines import as_of_view
from readmodels.deals.specs import spec_from_params
from readmodels.deals.stage_history import stage_history

router = APIRouter(tags=["read models"])
Headers = Depends(command_headers)
CLOSE_FROM = Query(None, alias="from", description="Expected to close on or after this day")
CLOSE_TO = Query(None, alias="to", description="Expected to close on or before this day")


def services_of(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def analytics(request: Request) -> Analytics:
    return Analytics(services_of(request).queries)


@router.get("/pipeline", dependencies=[reads("the pipeline chart")])
def pipeline(
    request: Request,
    pipeline: str = "sales",
    owner: str | None = None,
    partner: UUID | None = None,
    account: UUID | None = None,
    close_from: Day | None = CLOSE_FROM,
    close_to: Day | None = CLOSE_TO,
    as_of: AsOf = None,
    wait_for: int | None = WAIT_FOR,
) -> ReadAnswer:
    spec = spec_from_params(
        "pipeline",
        {
            "pipeline": pipeline,
            "owner": owner,
            "partner": str(partner) if partner else None,
            "account": str(account) if account else None,
            "from": close_from.isoformat() if close_from else None,
            "to": close_to.isoformat() if close_to else None,
        },
    )
    return analytics(request).answer(
        spec, as_of=as_of, wait_for=wait_for, principal=request.state.principal
    )


@router.get("/forecast", dependencies=[reads("the forecast")])
def forecast(
    request: Request,
    period: Literal["month", "quarter", "year"] = "quarter",
    owner: str | None = None,
    partner: UUID | None = None,
    account: UUID | None = None,
    period_from: str | None = PERIOD_FROM,
    period_to: str | None = PERIOD_TO,
    as_of: AsOf = None,
    wait_for: int | None = WAIT_FOR,
) -> ReadAnswer:
    spec = spec_from_params(
        "forecast",
        {
            "period": period,
            "owner": owner,
            "partner": str(partner) if partner else None,
            "account": str(account) if account else None,
            "from": period_from,
            "to": period_to,
        },
    )
    return analytics(request).answer(
        spec, as_of=as_of, wait_for=wait_for, principal=request.state.principal
    )


@router.get("/stage-history", dependencies=[reads("the stage history")])
def get_stage_history(
    request: Request,
    pipeline: str = "sales",
    owner: str | None = None,
    partner: UUID | None = None,
    account: UUID | None = None,
    as_of: AsOf = None,
    wait_for: int | None = WAIT_FOR,
) -> ReadAnswer:
    services = services_of(request)
    spec = spec_from_params(
        "pipeline",
        {
            "pipeline": pipeline,
            "owner": owner,
            "partner": str(partner) if partner else None,
            "account": str(account) if account else None,
        },
    )
    services.queries.wait_for(wait_for)
    point = services.queries.resolve(as_of)
    spec = analytics(request).scoped(spec, request.state.principal, point.position)
    visits = stored.visits_up_to(services.views, point.position)
    answer = services.queries.with_view(
        point,
        lambda view, instant: (stage_history(view, visits, spec, point.position), instant),
    )
    return {"as_of": as_of_view(point.position, answer[1]), "params": spec.params(), **answer[0]}


def _money_or_decimal(value: Any) -> str:
    return "money" if isinstance(value, dict | MoneyBody) else "decimal"


class TargetBody(Body):
    model_config = example(
        {
            "owner": "alice",
            "period": "2027-Q1",
            "amount": {"amount": "150000.00", "currency": "EUR"},
        }
    )
    owner: Login
    period: Period
    amount: Annotated[
        Annotated[PositiveMoneyBody, Tag("money")] | Annotated[PositiveAmount, Tag("decimal")],
        Discriminator(_money_or_decimal),
    ] = Field(description="Money, or a decimal string in the reporting currency")


@router.post("/targets")
def set_target(request: Request, body: TargetBody, h: CommandHeaders = Headers) -> JSONResponse:
    currency = services_of(request).settings.reporting_currency
    amount = (
        body.amount.to_money()
        if isinstance(body.amount, MoneyBody)
        else Money.exact(body.amount, currency)
    )
    return run(request, h, SetSalesTarget(owner=body.owner, period=body.period, amount=amount))


class ChartParams(Body):
    """The chart's parameters, as its query string takes them (docs/readmodels.md)."""

    pipeline: Name | None = Field(None, description="pipeline chart: a pipeline's name or id")
    owner: Login | None = None
    partner_id: Uuid | None = None
    partner: Uuid | None = None
    account_id: Uuid | None = None
    account: Uuid | None = None
    close_from: DayField | None = None
    close_to: DayField | None = None
    from_: DayOrPeriod | None = Field(
        None, alias="from", description="a date (pipeline) or a period like `period` (forecast)"
    )
    to: DayOrPeriod | None = None
    period: PeriodKind | None = Field(None, description="forecast chart; default: quarter")

    def given(self) -> dict[str, str]:
        """The parameters given, as text (as a query string has them)."""
        given = self.model_dump(by_alias=True, exclude_none=True)
        return {name: str(value) for name, value in given.items()}


class BaselineBody(Body):
    model_config = example(
        {
            "name": "Q1 kick-off",
            "chart": "forecast",
            "params": {"period": "quarter", "owner": "alice"},
        }
    )
    name: Name
    chart: Literal["pipeline", "forecast"]
    params: ChartParams = Field(
        default_factory=ChartParams, description="Those the chart does not take are refused"
    )
    as_of: PositionOrInstant | None = Field(
        None, description="Take it after the fact: a position or an instant"
    )


@router.post("/baselines", status_code=201)
def create_baseline(
    request: Request, body: BaselineBody, h: CommandHeaders = Headers
) -> JSONResponse:
    command = take_baseline(
        analytics(request),
        body.name,
        body.chart,
        body.params.given(),
        body.as_of,
        principal=request.state.principal,
    )
    return run(request, h, command)


@router.get("/baselines", dependencies=[reads("baselines")])
def list_baselines(request: Request, wait_for: int | None = WAIT_FOR) -> ReadAnswer:
    services = services_of(request)
    services.queries.wait_for(wait_for)
    position = services.queries.tracked()
    return {
        "as_of": as_of_view(position, services.queries.recorded_instant(position)),
        "baselines": analytics(request).list_baselines(request.state.principal),
    }


@router.get("/baselines/{baseline_id}", dependencies=[reads("a baseline")])
def get_baseline(request: Request, baseline_id: UUID) -> ReadAnswer:
    return baseline_view(load(request, Baseline, baseline_id))


@router.delete("/baselines/{baseline_id}")
def delete_baseline(
    request: Request, baseline_id: UUID, h: CommandHeaders = Headers
) -> JSONResponse:
    return run(request, h, DeleteBaseline(baseline_id=baseline_id), target=baseline_id)


@router.get("/baselines/{baseline_id}/compare", dependencies=[reads("a baseline comparison")])
def compare_baseline(
    request: Request,
    baseline_id: UUID,
    with_: str = Query("now", alias="with", description="now, or another baseline's id"),
    wait_for: int | None = WAIT_FOR,
) -> ReadAnswer:
    services_of(request).queries.wait_for(wait_for)
    baseline = load(request, Baseline, baseline_id)
    other = None
    if with_ != "now":
        try:
            other_id = UUID(with_)
        except ValueError:
            raise InvalidInput(f"with must be now or a baseline id, not {with_!r}.") from None
        other = load(request, Baseline, other_id)
    return analytics(request).compare(baseline, other)


@router.get("/baselines/{baseline_id}/verify", dependencies=[reads("a baseline verification")])
def verify_baseline(request: Request, baseline_id: UUID) -> ReadAnswer:
    return analytics(request).verify(load(request, Baseline, baseline_id))


@router.get(
    "/read-models/status",
    tags=["operations"],
    response_model=None,
    dependencies=[reads("the read models' status")],
)
def read_model_status(request: Request) -> dict[str, Any] | JSONResponse:
    """How far the log, the read models and the contracts process are; the loops this
    process runs; and what it waits for (503 ``unavailable`` while the store is away)."""
    services = services_of(request)

    def loop(supervisor: Supervisor[Any] | None) -> dict[str, Any] | None:
        # None: not run in this process (a worker runs it)
        return None if supervisor is None else supervisor.view()

    try:
        positions = {
            "log_position": services.store.max_position(),
            "read_model_position": services.queries.tracked(),
            "contracts_process_position": services.store.tracked_position(),
            "dead_letters": len(dead_letters(services.views)),
        }
    except STORE_ERRORS as exc:
        answer = unavailable(exc)
        if answer is None:
            raise
        return waiting_answer(answer, services)
    return {
        **positions,
        "projector": loop(services.supervisor),
        "contracts_process": loop(services.contracts_supervisor),
        "waiting": waiting_for(services),
    }
