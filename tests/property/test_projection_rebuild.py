"""Incremental projection, a full rebuild and as-of queries give the same read model.

For random command histories (``tests.histories``: deals in three owners and
three currencies moved, edited, quoted, sold, unlocked, lost, reopened and
deleted; rate changes, stage probability and category changes, targets,
baselines and events the read model skips; campaigns, and leads created,
assigned, split, worked, edited, qualified into deals, disqualified, archived
and anonymized), run through the real command bus
on the embedded store, with a checkpoint interval of 3–7 positions so that
checkpoints and bounded replays happen many times per history:

(a) the tables an incremental projector keeps (catching up after every few
    commands, and restarted from its tables now and then) equal row for row
    those a full rebuild into fresh tables writes; checkpoints lie exactly at
    every multiple of the interval and hold the same state in both; and the
    pipeline and forecast charts (month, quarter, year, with and without
    filters) computed from either set of tables, from the projector's memory
    and from an as-of query at the last position are the same canonical JSON;
    and the leads, campaigns and opportunities per campaign the tables give as
    of every position are those a fresh replay of the log to that position
    holds. Also on PostgreSQL, with fewer examples.
(b) an as-of query at any position (and at any instant) answers exactly what
    a fresh replay of the log from the start to that position answers.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import msgspec
import psycopg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg import sql

from adapters.bootstrap import Services, bootstrap
from adapters.clock import ManualClock
from adapters.event_store.postgres import ensure_postgres_schema
from adapters.readmodel_store import ReadModelStore, open_store
from adapters.settings import Settings
from domain.errors import DomainError
from projections import projection as in_memory
from projections.runner import Projector, stored_progress
from readmodels import SLICES, TOPICS, deals, leads
from readmodels.bookkeeping import DEAD_LETTERS, UPSTREAM
from readmodels.deals.baselines import canonical
from readmodels.deals.queries import AsOf, ReadModelQueries, replay_from_start
from readmodels.deals.selection import Filters
from readmodels.deals.specs import ChartSpec
from readmodels.deals.tables import CHECKPOINTS
from readmodels.deals.view import DealsView
from readmodels.leads import campaigns as campaign_queries
from readmodels.leads import queries as lead_queries
from readmodels.log import NotificationLog, events_between, originator_key
from readmodels.values import EPOCH
from tests.conftest import POSTGRES_URL, T0, require_postgres
from tests.histories import (
    NewCampaign,
    Step,
    World,
    command_steps,
    creates,
    lead_creates,
    lead_steps,
    minutes,
    weighted,
)
from tests.readmodel_tables import ALL_TABLES

Views = ReadModelStore
CHARTS = {
    "pipeline": ChartSpec(chart="pipeline"),
    "pipeline alice 2027": ChartSpec(
        chart="pipeline",
        filters=Filters(owner="alice", close_from=date(2027, 1, 1), close_to=date(2027, 12, 31)),
    ),
    "forecast month": ChartSpec(chart="forecast", period="month"),
    "forecast quarter": ChartSpec(chart="forecast", period="quarter"),
    "forecast year": ChartSpec(chart="forecast", period="year"),
    "forecast bob 2027": ChartSpec(
        chart="forecast",
        period="quarter",
        filters=Filters(owner="bob"),
        period_from="2027-Q1",
        period_to="2027-Q4",
    ),
}


# --- what a history is run with ----------------------------------------------------------


@dataclass(frozen=True)
class CatchUp:
    """The incremental projector applies what the log has so far."""


@dataclass(frozen=True)
class Restart:
    """The incremental projector is replaced by a new one that starts from its tables."""


@dataclass(frozen=True)
class Projection:
    checkpoint_interval: int
    batch_size: int  # positions per window
    flush_every: int  # windows per transaction
    replay_batch: int  # events per read in as-of replays


projections = st.builds(
    Projection,
    checkpoint_interval=st.integers(3, 7),
    batch_size=st.integers(1, 8),
    flush_every=st.integers(1, 3),
    replay_batch=st.integers(1, 5),
)
projector_steps: st.SearchStrategy[CatchUp | Restart] = st.sampled_from([CatchUp(), Restart()])
Run = list[tuple[Step | CatchUp | Restart, int]]
# A few deals and leads, then commands (two fifths of them on leads and campaigns) with the
# projector catching up (or restarting) now and then.
actions: st.SearchStrategy[Step | CatchUp | Restart] = weighted(
    (3, command_steps), (2, lead_steps), (1, projector_steps)
)
runs: st.SearchStrategy[Run] = st.tuples(
    st.lists(st.tuples(creates, minutes), min_size=2, max_size=6),
    # a campaign and a few leads, so that the lead steps after them have leads to act on
    st.lists(st.tuples(lead_creates, minutes), min_size=1, max_size=4),
    st.lists(
        actions.flatmap(
            lambda action: st.tuples(
                st.just(action), st.just(0) if isinstance(action, CatchUp | Restart) else minutes
            )
        ),
        min_size=8,
        max_size=34,
    ),
).map(lambda parts: [*parts[0], (NewCampaign(channel="email"), 0), *parts[1], *parts[2]])
# Whole histories through real tables are slow and large by design: no deadline, no health
# check for either.
long_runs = settings(
    deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)


@dataclass
class Stores:
    services: Services  # the event log and the incrementally kept tables
    clock: ManualClock
    rebuilt: Views  # empty tables beside the same log, for the rebuild


@contextmanager
def sqlite_stores() -> Iterator[Stores]:
    with tempfile.TemporaryDirectory() as tmp:
        clock = ManualClock(T0)
        services = bootstrap(Settings(home=Path(tmp) / "home"), clock=clock)
        rebuilt = open_store(Settings(home=Path(tmp) / "rebuilt"))
        try:
            yield Stores(services, clock, rebuilt)
        finally:
            rebuilt.datastore.close()
            services.close()


@contextmanager
def postgres_stores() -> Iterator[Stores]:
    """A fresh schema per example (and another for the rebuild), dropped afterwards."""
    schema = f"test_{uuid4().hex[:12]}"
    settings_ = Settings(database_url=POSTGRES_URL, database_schema=schema)
    other = settings_.model_copy(update={"database_schema": f"{schema}_r"})
    try:
        clock = ManualClock(T0)
        services = bootstrap(settings_, clock=clock)
        ensure_postgres_schema(other)
        rebuilt = open_store(other)
        try:
            yield Stores(services, clock, rebuilt)
        finally:
            rebuilt.datastore.close()
            services.close()
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            for name in (schema, other.database_schema):
                drop = sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name))
                conn.execute(drop)


def projector(stores: Stores, projection: Projection, views: Views | None = None) -> Projector:
    return Projector(
        stores.services.event_log,
        views if views is not None else stores.services.views,
        SLICES,
        checkpoint_interval=projection.checkpoint_interval,
        batch_size=projection.batch_size,
        flush_every=projection.flush_every,
    )


def queries(stores: Stores, projection: Projection, views: Views | None = None) -> ReadModelQueries:
    return ReadModelQueries(
        views if views is not None else stores.services.views,
        stores.services.event_log,
        checkpoint_interval=projection.checkpoint_interval,
        topics=TOPICS,
        replay_batch=projection.replay_batch,
    )


def run_incrementally(stores: Stores, projection: Projection, run: Run) -> World:
    """Write the history, catching up (and restarting) the projector where the run says."""
    world = World(stores.services, stores.clock)
    world.setup()
    incremental = projector(stores, projection)
    incremental.start()
    for step, minutes_after in run:
        if isinstance(step, CatchUp):
            incremental.catch_up()
        elif isinstance(step, Restart):
            incremental = projector(stores, projection)
            incremental.start()
        else:
            world.step(step)
            stores.clock.advance(timedelta(minutes=minutes_after))
    incremental.catch_up()
    assert incremental.position == stores.services.store.max_position()
    return world


# --- what "the same" means --------------------------------------------------------------


def outcome(compute: Callable[[], Any]) -> str:
    """A chart's canonical JSON, or the refusal it gives (both must agree)."""
    try:
        return canonical(compute())
    except DomainError as error:
        return f"{type(error).__name__}: {error}"


def charts(view: DealsView, instant: datetime) -> dict[str, str]:
    return {
        name: outcome(lambda spec=spec: spec.compute(view, instant))  # type: ignore[misc]
        for name, spec in CHARTS.items()
    }


def charts_now(view: DealsView) -> dict[str, str]:
    return charts(view, view.recorded_instant or EPOCH)


def normalised(view: DealsView) -> dict[str, Any]:
    """A view's chart state, as plain values (deals in creation order)."""
    return {
        "position": view.position,
        "recorded_at": view.progress.recorded_at,
        "reporting_currency": view.reporting_currency,
        "deals": msgspec.to_builtins(view.deals),
        "stages": sorted(msgspec.to_builtins(list(view.stages.values()))),
        "rates": msgspec.to_builtins(view.rates),
        "targets": sorted(msgspec.to_builtins(list(view.targets.values()))),
        "baselines": sorted(msgspec.to_builtins(list(view.baselines.values()))),
    }


class LeadReplay:
    """The leads, campaigns and opportunities per campaign of a fresh projection replayed
    from the start of the log (moved forward position by position)."""

    def __init__(self, log: NotificationLog) -> None:
        self.log = log
        self.projection = in_memory.Projection.empty(SLICES)
        self.opportunities: Counter[str] = Counter()

    def at(self, position: int) -> dict[str, Any]:
        projection, log = self.projection, self.log
        state = projection.state(leads.SLICE)
        for logged in events_between(log, projection.position, position, TOPICS):
            try:
                projection.apply(log.decode(logged), logged.id, originator_key(logged))
            except Exception:
                projection.progress.position = logged.id  # parked: skipped the same way
            self.opportunities.update(c for _, c, _, _ in state.campaign_opportunities)
            state.campaign_opportunities.clear()
        projection.progress.position = max(projection.position, position)
        return {
            "leads": sorted(state.leads.current.values(), key=lambda row: row.id),
            "campaigns": sorted(state.campaigns.current.values(), key=lambda row: row.id),
            "opportunities": dict(self.opportunities),
        }


def lead_tables(views: Views, position: int | None) -> dict[str, Any]:
    """What the lead and campaign tables answer as of ``position`` (None: now)."""
    return {
        "leads": sorted(lead_queries.leads(views, position), key=lambda row: row.id),
        "campaigns": sorted(campaign_queries.campaigns(views, position), key=lambda row: row.id),
        "opportunities": campaign_queries.campaign_opportunities(views, position),
    }


def loaded(views: Views) -> in_memory.Projection:
    """The projection a projector starting from ``views`` holds."""
    return in_memory.Projection.load(SLICES, views, stored_progress(views))


def checkpoint_positions(views: Views) -> list[int]:
    return [int(row[0]) for row in views.rows(CHECKPOINTS)]


# --- (a) incremental == rebuild == as of the last position ---------------------------------


def assert_incremental_equals_rebuild_and_as_of(
    stores: Stores, projection: Projection, run: Run
) -> None:
    services = stores.services
    interval = projection.checkpoint_interval

    # Given a history written through the command bus, projected incrementally as it came
    world = run_incrementally(stores, projection, run)
    last = services.store.max_position()
    context = f"{world.written} steps wrote, {world.refused} refused; log at {last}"

    # When the same log is rebuilt into other tables (which held a half-projected log before)
    rebuilder = projector(stores, projection, stores.rebuilt)
    rebuilder.start()
    rebuilder.catch_up(up_to=last // 2)
    rebuilder.rebuild()

    # Then both are at the log's last position
    views, rebuilt = services.views, stores.rebuilt
    assert views.max_tracking_id(UPSTREAM) == rebuilt.max_tracking_id(UPSTREAM) == last, context
    # and their tables are equal row for row, byte for byte (checkpoints included)
    for name in ALL_TABLES:
        assert views.rows(name) == rebuilt.rows(name), f"{name}: {context}"
    assert not views.rows(DEAD_LETTERS), context
    # and the checkpoints lie exactly at every multiple of the interval
    positions = checkpoint_positions(views)
    assert positions == list(range(interval, last + 1, interval)), context
    # and each holds the state a replay from the start to its position gives
    for position in positions:
        fresh = normalised(replay_from_start(services.event_log, position, topics=TOPICS))
        for kept in (views, rebuilt):
            at = queries(stores, projection, kept).view_at(position)
            assert normalised(at) == fresh, f"checkpoint at {position}: {context}"

    # and the charts from either set of tables, from the projector's memory and as of the
    # last position (a checkpoint plus a replay of less than one interval) are the same
    expected = charts_now(loaded(views).state(deals.SLICE))
    assert charts_now(loaded(rebuilt).state(deals.SLICE)) == expected, context
    assert charts_now(rebuilder.projection.state(deals.SLICE)) == expected, context
    at_last = AsOf(last, None, explicit_instant=False)
    assert queries(stores, projection).with_view(at_last, charts) == expected, context
    assert charts_now(queries(stores, projection, rebuilt).view_at(last)) == expected, context
    assert charts_now(replay_from_start(services.event_log, last, topics=TOPICS)) == expected, (
        context
    )

    # and the leads, campaigns and campaign opportunities as of every position (versions in
    # the tables, equal in both) are those of a replay from the start to that position
    replayed = LeadReplay(services.event_log)
    for position in range(last + 1):
        assert lead_tables(views, position) == replayed.at(position), f"at {position}: {context}"
    # and now is the last position, and a projector starting from either set of tables
    # loads the current leads and campaigns
    current = replayed.at(last)
    assert lead_tables(views, None) == current, context
    for kept in (views, rebuilt):
        state = loaded(kept).state(leads.SLICE)
        assert sorted(state.leads.current.values(), key=lambda row: row.id) == current["leads"]
        assert (
            sorted(state.campaigns.current.values(), key=lambda row: row.id) == current["campaigns"]
        )


@settings(long_runs, max_examples=40)
@given(projection=projections, run=runs)
def test_incremental_projection_equals_a_full_rebuild_and_as_of_the_last_position(
    projection: Projection, run: Run
) -> None:
    with sqlite_stores() as stores:
        assert_incremental_equals_rebuild_and_as_of(stores, projection, run)


@settings(long_runs, max_examples=8)
@given(projection=projections, run=runs)
def test_on_postgresql_incremental_projection_equals_a_full_rebuild_and_as_of(
    projection: Projection, run: Run
) -> None:
    require_postgres()
    with postgres_stores() as stores:
        assert_incremental_equals_rebuild_and_as_of(stores, projection, run)


# --- (b) as of any position == a fresh replay from the start -------------------------------


@settings(long_runs, max_examples=40)
@given(projection=projections, run=runs, data=st.data())
def test_as_of_any_position_or_instant_equals_a_fresh_replay_from_the_start(
    projection: Projection, run: Run, data: st.DataObject
) -> None:
    with sqlite_stores() as stores:
        # Given a history projected incrementally, with checkpoints every few positions
        run_incrementally(stores, projection, run)
        log, last = stores.services.event_log, stores.services.store.max_position()
        as_of = queries(stores, projection)

        # When the charts are asked as of positions drawn at random (in that order, which
        # starts from checkpoints, then in increasing order, which moves the warm view on)
        positions = data.draw(st.lists(st.integers(1, last), min_size=1, max_size=8), "positions")
        for position in [*positions, *sorted(positions)]:
            fresh = replay_from_start(log, position, topics=TOPICS)
            point = as_of.resolve(str(position))
            # Then each answer is the one a replay from the start to that position gives
            assert as_of.with_view(point, charts) == charts_now(fresh), f"as of {position}"
            # and a fresh as-of view holds the same state as the replay
            assert normalised(as_of.view_at(position)) == normalised(fresh), f"as of {position}"

        # When they are asked as of instants, Then the answer is the replay's to the last
        # position recorded by then, valued at the rates in force at that instant
        end = stores.clock.now() + timedelta(days=1)
        offsets = st.integers(0, int((end - T0).total_seconds()))
        for seconds in data.draw(st.lists(offsets, min_size=1, max_size=3), "instants"):
            moment = T0 + timedelta(seconds=seconds)
            point = as_of.resolve(moment.isoformat())
            assert point.instant == moment
            fresh = replay_from_start(log, point.position, topics=TOPICS)
            assert fresh.recorded_instant is None or fresh.recorded_instant <= moment
            assert as_of.with_view(point, charts) == charts(fresh, moment), f"as of {moment}"
