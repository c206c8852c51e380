"""Projecting the log split by aggregate gives the rows of projecting it whole.

What the Kafka-side projector (``adapters.kafka_projector``) rests on: one
aggregate's events stay in one partition, and no slice's evolve reads another
aggregate's row. For random histories (``tests.histories``, as in
``test_projection_rebuild``), the log's events are split into 1–6 partitions by
aggregate id, each partition applied on its own to a fresh projection (a group member
that sees nothing else); the rows those projections would write — deals, stage
visits, pipeline stages, rates, targets, baselines, contracts, leads, campaigns —
together are exactly those of one projection that applied the whole log in order.
"""

from __future__ import annotations

import zlib
from collections import defaultdict
from datetime import timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from projections.projection import Projection
from readmodels import SLICES, TOPICS, deals
from readmodels.bookkeeping import SETTINGS
from readmodels.log import originator_key
from tests.histories import World
from tests.property.test_projection_rebuild import CatchUp, Restart, Run, runs, sqlite_stores


def _rows(projection: Projection) -> dict[str, list[str]]:
    """Every row the projection would write (nothing was written yet, so all it holds),
    per table and kind of write, each in a sortable plain form; the settings apart."""
    rows: dict[str, list[str]] = defaultdict(list)
    for write in projection.flush():
        if write.table != SETTINGS:
            rows[f"{write.operation} {write.table}"].extend(repr(row) for row in write.rows)
    return {name: sorted(found) for name, found in rows.items()}


def _project(events: list[Any], decode: Any) -> Projection:
    projection = Projection.empty(SLICES)
    for logged in events:
        try:
            projection.apply(decode(logged), logged.id, originator_key(logged))
        except Exception:  # parked by both projectors alike
            projection.progress.position = logged.id
    return projection


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
        events = list(log.read(0, 1_000_000, topics=TOPICS))

        # When its events are split by aggregate and each part is projected on its own
        parts: list[list[Any]] = [[] for _ in range(partitions)]
        for logged in events:
            key = originator_key(logged).encode()
            parts[zlib.crc32(key) % partitions].append(logged)
        members = [_project(part, log.decode) for part in parts]

        # Then the parts' rows together are the whole log's rows
        in_order = _project(events, log.decode)
        whole = _rows(in_order)
        together: dict[str, list[str]] = defaultdict(list)
        for member in members:
            for name, rows in _rows(member).items():
                together[name].extend(rows)
        assert {name: sorted(rows) for name, rows in together.items()} == whole
        # and the reporting currency is the one member's that saw the rates begin
        currencies = {member.state(deals.SLICE).reporting_currency for member in members}
        assert in_order.state(deals.SLICE).reporting_currency in currencies
