"""Projecting the log split by aggregate gives the rows of projecting it whole.

What the Kafka-side projector (``adapters.kafka_projector``) rests on: one aggregate's
events stay in one partition, and no handler of ``projections.sales_projection``
reads another aggregate's row. For random histories (``tests.histories``, as in
``test_projection_rebuild``), the log's events are split into 1–6 partitions by
aggregate id, each partition applied on its own to a fresh view (a group member
that sees nothing else); the deals, stage visits, pipeline stages, rates, targets,
baselines, contracts, leads and campaigns of those views together are exactly those
of one view that applied the whole log in order.
"""

from __future__ import annotations

import zlib
from datetime import timedelta
from typing import Any

import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from projections.log import originator_key
from projections.sales_projection import Dirty, apply, topics
from readmodels.rows import SalesView
from tests.histories import World
from tests.property.test_projection_rebuild import CatchUp, Restart, Run, runs, sqlite_stores


def _rows(view: SalesView, dirty: Dirty) -> dict[str, list[Any]]:
    """Every row a view holds, each in a sortable plain form."""
    deals, details = view.deals, view.details
    assert details is not None
    deal_fields = msgspec.structs.fields(type(deals))
    detail_fields = msgspec.structs.fields(type(details))
    assert view.contracts is not None and view.leads is not None and view.campaigns is not None
    return {
        "deals": sorted(
            repr(
                (
                    [getattr(deals, f.name)[i] for f in deal_fields],
                    [getattr(details, f.name)[i] for f in detail_fields],
                )
            )
            for i in range(len(deals.ids))
        ),
        "visits": sorted(repr(row) for row in dirty.entered.values()),
        "stages": sorted(repr(row) for row in view.stages.values()),
        "rates": sorted(repr(row) for row in view.rates),
        "targets": sorted(repr(row) for row in view.targets.values()),
        "baselines": sorted(repr(row) for row in view.baselines.values()),
        "contracts": sorted(repr(row) for row in view.contracts.values()),
        "leads": sorted(repr(row) for row in view.leads.values()),
        "campaigns": sorted(repr(row) for row in view.campaigns.values()),
        "campaign_opportunities": sorted(repr(c) for c in dirty.campaign_opportunities),
    }


def _project(events: list[Any], decode: Any) -> tuple[SalesView, Dirty]:
    view, dirty = SalesView(), Dirty()  # the dirty notes are never written: they keep all
    for logged in events:
        try:
            apply(view, decode(logged), logged.id, dirty, originator_key(logged))
        except Exception:  # parked by both projectors alike
            view.position = logged.id
    return view, dirty


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(run=runs, partitions=st.integers(1, 6))
def test_partitions_projected_apart_give_the_rows_of_the_whole_log(
    run: Run, partitions: int
) -> None:
    with sqlite_stores() as stores:
        # Given a history on the store
        world = World(stores.services, stores.clock)
        world.setup()
        for step, minutes_after in run:
            if not isinstance(step, CatchUp | Restart):  # (no projector runs here)
                world.step(step)
                stores.clock.advance(timedelta(minutes=minutes_after))
        log = stores.services.event_log
        events = list(log.read(0, 1_000_000, topics=topics()))

        # When its events are split by aggregate and each part is projected on its own
        parts: list[list[Any]] = [[] for _ in range(partitions)]
        for logged in events:
            key = originator_key(logged).encode()
            parts[zlib.crc32(key) % partitions].append(logged)
        members = [_project(part, log.decode) for part in parts]

        # Then the parts' rows together are the whole log's rows
        in_order = _project(events, log.decode)
        whole = _rows(*in_order)
        together: dict[str, list[Any]] = {name: [] for name in whole}
        for view, dirty in members:
            for name, rows in _rows(view, dirty).items():
                together[name].extend(rows)
        assert {name: sorted(rows) for name, rows in together.items()} == whole
        # and the reporting currency is the one member's that saw the rates begin
        currencies = {view.reporting_currency for view, _ in members}
        assert in_order[0].reporting_currency in currencies
