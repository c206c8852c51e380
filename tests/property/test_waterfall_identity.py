"""A baseline comparison's waterfall reconciles exactly with the charts at its two ends.

For random command histories (``tests.histories``, run through the real command
bus on the embedded store) and one to three random charts — pipeline or forecast
(month, quarter or year), with or without filters on owner, account, partner and
expected-close dates or periods — two baselines of each chart are taken: one
live during the history or after the fact (``as_of`` a position or an instant),
and a later one after the fact, or "now". Comparing them (either way round)
gives a waterfall for which, exactly, in amount and in count:

    start + new + pulled_in + increased + reopened
          − decreased − pushed_out − won − lost − deleted = end

and ``start`` is the total of the chart's window at the earlier position *a*,
``end`` at the later *b* — both computed independently, from a fresh replay of
the log to that position charted at *b*'s rates: the open stages of a pipeline
chart, the forecast rows of open deals (every category but closed). The rates
used are those in force at *b*'s instant, and an instant as ``as_of`` stands
for the last position recorded by then.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal, TypeVar
from uuid import uuid4

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from adapters.bootstrap import Services, bootstrap
from adapters.clock import ManualClock
from adapters.settings import Settings
from commands.read_model_commands import TakeBaseline
from domain.baseline import Baseline
from domain.ids import account_id_for
from domain.periods import PERIOD_KINDS, PeriodKind, period_of
from projections.runner import Projector
from readmodels import SLICES, TOPICS
from readmodels.deals.analytics import Analytics
from readmodels.deals.baselines import BUCKETS
from readmodels.deals.charts import ForecastChart, PipelineChart
from readmodels.deals.queries import ReadModelQueries, replay_from_start
from readmodels.deals.selection import Filters
from readmodels.deals.specs import ChartSpec
from tests.conftest import T0
from tests.histories import (
    ACCOUNTS,
    OWNERS,
    PARTNER_ID,
    Step,
    World,
    close_date,
    close_days,
    histories,
    weighted,
)

CHECKPOINT_INTERVAL = 5  # as-of views start from checkpoints and replay a few positions
Kind = Literal["live", "position", "instant", "now"]
T = TypeVar("T")


# --- the chart and the two ends ---------------------------------------------------------


def maybe(strategy: st.SearchStrategy[T], tenths: int) -> st.SearchStrategy[T | None]:
    """``strategy`` about ``tenths`` times in ten, else None."""
    return st.sampled_from(range(10)).flatmap(lambda n: strategy if n < tenths else st.none())


days = close_days.map(close_date)
owners = maybe(st.sampled_from(OWNERS), 4)
accounts = maybe(st.sampled_from(ACCOUNTS).map(account_id_for), 2)
partners = maybe(st.just(PARTNER_ID), 2)
# Expected-close windows: from a day, for 30 to 400 days; open on either side now and then.
spans = st.tuples(days, st.integers(30, 400)).map(
    lambda span: (span[0], span[0] + timedelta(days=span[1]))
)
windows = st.one_of(
    st.just((None, None)),
    spans,
    spans.map(lambda span: (span[0], None)),
    spans.map(lambda span: (None, span[1])),
)


def periods(kind: PeriodKind) -> st.SearchStrategy[tuple[str | None, str | None]]:
    def label(day: date | None) -> str | None:
        return None if day is None else period_of(day, kind)

    return windows.map(lambda window: (label(window[0]), label(window[1])))


pipeline_specs = st.builds(
    lambda owner, account, partner, window: ChartSpec(
        chart="pipeline",
        filters=Filters(
            owner=owner,
            account_id=account,
            partner_id=partner,
            close_from=window[0],
            close_to=window[1],
        ),
    ),
    owners,
    accounts,
    partners,
    windows,
)
forecast_specs = st.sampled_from(PERIOD_KINDS).flatmap(
    lambda kind: st.builds(
        lambda owner, account, partner, window: ChartSpec(
            chart="forecast",
            period=kind,
            filters=Filters(owner=owner, account_id=account, partner_id=partner),
            period_from=window[0],
            period_to=window[1],
        ),
        owners,
        accounts,
        partners,
        periods(kind),
    )
)
specs = weighted(
    (1, st.just(ChartSpec(chart="pipeline"))),
    (1, st.sampled_from(PERIOD_KINDS).map(lambda kind: ChartSpec(chart="forecast", period=kind))),
    (3, pipeline_specs),
    (3, forecast_specs),
)


@dataclass(frozen=True)
class End:
    """One end of a comparison: a baseline (or now) and the instant its rates are read at."""

    kind: Kind
    baseline: Baseline | None  # None: now
    position: int
    instant: datetime


# --- running ---------------------------------------------------------------------------------


@contextmanager
def embedded() -> Iterator[tuple[Services, ManualClock]]:
    with tempfile.TemporaryDirectory() as tmp:
        clock = ManualClock(T0)
        services = bootstrap(Settings(home=Path(tmp) / "home"), clock=clock)
        try:
            yield services, clock
        finally:
            services.close()


def project(services: Services) -> None:
    projector = Projector(
        services.event_log,
        services.views,
        SLICES,
        checkpoint_interval=CHECKPOINT_INTERVAL,
        batch_size=3,
    )
    projector.start()
    projector.catch_up()


def take(services: Services, analytics: Analytics, spec: ChartSpec, as_of: str | None) -> Baseline:
    """``POST /baselines`` as the HTTP route does it: the chart document, then the event."""
    position, instant, document = analytics.baseline_document(spec, as_of)
    baseline_id = uuid4()
    services.bus.execute(
        TakeBaseline(
            baseline_id=baseline_id,
            name="plan",
            chart=spec.chart,
            params=spec.params(),
            position=position,
            as_of=instant,
            document=document,
        )
    )
    taken = services.store.load(baseline_id)
    assert isinstance(taken, Baseline)
    return taken


def recorded(services: Services, up_to: int) -> list[tuple[int, datetime]]:
    """Position and recording instant of the events the read model reads, from the log."""
    log, relevant, found = services.event_log, TOPICS, []
    after = 0
    while batch := log.read(after, 500, up_to=up_to, topics=relevant):
        found += [(logged.id, log.decode(logged).recorded_at) for logged in batch]
        after = batch[-1].id
    return found


def assert_stands_for(services: Services, baseline: Baseline, kind: Kind, up_to: int) -> None:
    """A baseline as of an instant is at the log (up to ``up_to``) as it stood then: every
    event the read model reads up to its position was recorded by then, every later one
    after. One as of a position (or taken live) is at the instant of its last event."""
    events = recorded(services, up_to)
    for at, when in events:
        if kind == "instant":
            assert (at <= baseline.position) == (when <= baseline.as_of), (at, when, baseline)
    if kind != "instant":
        last = max(when for at, when in events if at <= baseline.position)
        assert baseline.as_of == last, baseline


def totals(chart: PipelineChart | ForecastChart) -> tuple[Decimal, int]:
    """The amount and count of the open deals a chart shows (its waterfall window)."""
    if isinstance(chart, PipelineChart):
        return sum((s.amount for s in chart.stages), Decimal(0)), sum(s.count for s in chart.stages)
    rows = [r for r in chart.rows if r.category != "closed"]
    return sum((r.amount for r in rows), Decimal(0)), sum(r.count for r in rows)


def balance(figures: dict[str, Any]) -> Any:
    f = figures
    return (
        f["start"] + f["new"] + f["pulled_in"] + f["increased"] + f["reopened"]
        - f["decreased"] - f["pushed_out"] - f["won"] - f["lost"] - f["deleted"]
    )  # fmt: skip


# --- the property --------------------------------------------------------------------------


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    history=histories((3, 8), (15, 40), crossings=True),
    charts=st.lists(specs, min_size=1, max_size=3),
    data=st.data(),
)
def test_the_waterfall_balances_and_starts_and_ends_at_the_charts_of_its_two_positions(
    history: list[tuple[Step, int]], charts: list[ChartSpec], data: st.DataObject
) -> None:
    with embedded() as (services, clock):
        queries = ReadModelQueries(
            services.views,
            services.event_log,
            checkpoint_interval=CHECKPOINT_INTERVAL,
            topics=TOPICS,
            replay_batch=4,
        )
        analytics = Analytics(queries)
        world = World(services, clock)
        world.setup()

        # Given a history, with a baseline of each chart taken live somewhere in it (more
        # often early, so that much happens after it)
        early = st.integers(0, len(history) // 3)
        split = data.draw(early | st.integers(0, len(history)), "live baselines after step")
        world.run(history[:split])
        project(services)
        live = [take(services, analytics, spec, None) for spec in charts]
        world.run(history[split:])
        project(services)
        for spec, taken in zip(charts, live, strict=True):
            assert_compares_exactly(Ends(services, clock, analytics, data), spec, taken)


@dataclass
class Ends:
    """Draws the two ends of a comparison among the history (see ``end``)."""

    services: Services
    clock: ManualClock
    analytics: Analytics
    data: st.DataObject

    def end(self, spec: ChartSpec, kind: Kind, label: str, after: End | None = None) -> End:
        """A baseline taken after the fact, ``as_of`` a position or an instant; the second end
        (``after`` the first) is drawn back from the log's end. Hypothesis favours small
        integers: so the first end tends to come early and the second late."""
        data, last = self.data, self.analytics.queries.tracked()
        if kind == "position":
            if after is None:
                position = data.draw(st.integers(1, last), f"{label} position")
            else:
                back = st.integers(0, last - after.position)
                position = last - data.draw(back, f"{label} positions before the last")
            as_of = str(position)
        else:
            until = self.clock.now() + timedelta(days=1)
            if after is None:
                span = int((until - T0).total_seconds())
                seconds = data.draw(st.integers(0, span), f"{label} seconds after T0")
                moment = T0 + timedelta(seconds=seconds)
            else:
                span = int((until - after.instant).total_seconds())
                seconds = data.draw(st.integers(0, span), f"{label} seconds before the end")
                moment = until - timedelta(seconds=seconds)
            as_of = moment.isoformat()
        taken = take(self.services, self.analytics, spec, as_of)
        assert_stands_for(self.services, taken, kind, last)
        return End(kind, taken, taken.position, taken.as_of)

    def now(self) -> End:
        position = self.analytics.queries.tracked()
        instant = replay_from_start(
            self.services.event_log, position, topics=TOPICS
        ).recorded_instant
        assert instant is not None
        return End("now", None, position, instant)


def assert_compares_exactly(ends: Ends, spec: ChartSpec, live: Baseline) -> None:
    services, analytics, data = ends.services, ends.analytics, ends.data
    label = f"{spec.chart} {spec.params()}"
    # and two ends: the live baseline or one taken after the fact, then one taken after the
    # fact later (at a position or an instant) or now
    firsts: tuple[Kind, ...] = ("live", "position", "instant")
    kind = data.draw(st.sampled_from(firsts), f"{label}: first end")
    if kind == "live":
        first = End("live", live, live.position, live.as_of)
        assert_stands_for(services, live, kind, live.position)
    else:
        first = ends.end(spec, kind, label)
    seconds: tuple[Kind, ...] = ("now", "position", "instant")
    other = data.draw(st.sampled_from(seconds), f"{label}: second end")
    second = None if other == "now" else ends.end(spec, other, label, first)
    project(services)  # the baselines' own events: nothing a chart counts
    second = second or ends.now()
    assert first.baseline is not None

    # When the first is compared with the second (or with now), either way round
    if second.baseline is not None and data.draw(st.booleans(), f"{label}: the other way"):
        answer = analytics.compare(second.baseline, first.baseline)
    else:
        answer = analytics.compare(first.baseline, second.baseline)
    waterfall = answer["waterfall"]
    amounts = {bucket: Decimal(waterfall[bucket]) for bucket in BUCKETS}
    counts = {bucket: waterfall["counts"][bucket] for bucket in BUCKETS}

    # Then it walks from the earlier position to the later, at the later one's rates
    a, b = sorted((first.position, second.position))
    assert (waterfall["from_position"], waterfall["to_position"]) == (a, b)
    rates_at = datetime.fromisoformat(waterfall["rates_at"])
    if first.position != second.position:
        later = first if first.position > second.position else second
        assert rates_at == later.instant
    else:
        assert rates_at in (first.instant, second.instant)

    # and it balances exactly, in amount and in count
    context = f"{label}: {amounts} {counts}"
    assert balance(amounts) == amounts["end"], context
    assert balance(counts) == counts["end"], context
    assert counts["increased"] == counts["decreased"] == 0, context
    assert all(value >= 0 for value in (*amounts.values(), *counts.values())), context

    # and it starts at the chart's window total at a and ends at that at b, both charted
    # from a fresh replay of the log, valued at b's rates (those known at b, in force at
    # b's instant: a rate set between a and b counts for a too)
    rates = replay_from_start(services.event_log, b, topics=TOPICS).rates
    for position, bucket in ((a, "start"), (b, "end")):
        view = replay_from_start(services.event_log, position, topics=TOPICS)
        view.rates = rates
        amount, count = totals(spec.compute(view, rates_at))
        assert (amounts[bucket], counts[bucket]) == (amount, count), f"{bucket}: {context}"

    # and the figures are in the reporting currency, to its minor unit
    assert answer["currency"] == "EUR"
    assert all(value == value.quantize(Decimal("0.01")) for value in amounts.values())
    for bucket in BUCKETS:  # how often each moves: pytest --hypothesis-show-statistics
        if amounts[bucket] or counts[bucket]:
            event(f"{bucket} moved")


def test_the_strategies_reach_every_kind_of_window() -> None:
    """A guard on the generator: pipeline and forecast charts with and without filters."""
    seen: set[tuple[str, bool]] = set()

    @settings(max_examples=200, database=None)
    @given(specs)
    def collect(spec: ChartSpec) -> None:
        filtered = spec.filters != Filters() or bool(spec.period_from or spec.period_to)
        seen.add((spec.chart, filtered))

    collect()
    charts = ("pipeline", "forecast")
    assert seen == {(chart, filtered) for chart in charts for filtered in (False, True)}
