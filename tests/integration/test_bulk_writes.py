"""PostgreSQL writes large batches through COPY and staging tables: same rows as row by row.

A rebuild (and a projector catching up a backlog) hands the storage thousands
of rows per statement; ``PostgresReadModelStore`` then copies them into a staging
table and upserts or updates from it. These tests force that path for every
batch and compare every table with the row-by-row path, so a wrong column
order or a lost conflict clause would show.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.bootstrap import Services, bootstrap
from adapters.clock import ManualClock
from adapters.readmodel_store.postgres import PostgresReadModelStore
from readmodels.deals.tables import VISITS
from tests.conftest import settings_for
from tests.histories import History
from tests.readmodel_tables import DEALS_TABLES


@pytest.fixture
def pg_services(tmp_path: Path, postgres_schema: str, clock: ManualClock) -> Iterator[Services]:
    running = bootstrap(settings_for("postgres", tmp_path, postgres_schema), clock=clock)
    yield running
    running.close()


def tables(services: Services) -> dict[str, list[tuple[object, ...]]]:
    return {name: services.views.rows(name) for name in DEALS_TABLES}


def test_bulk_and_row_by_row_writes_give_the_same_tables(
    pg_services: Services, clock: ManualClock
) -> None:
    # Given a varied history of a few hundred commands
    History(pg_services.bus, clock, random.Random(7)).write(400)
    views = pg_services.views
    assert isinstance(views, PostgresReadModelStore)
    # When it is rebuilt row by row
    views.bulk_rows = 10**9
    pg_services.projector(flush_every=1000).rebuild()
    row_by_row = tables(pg_services)
    # And rebuilt again with every batch copied through a staging table
    views.bulk_rows = 1
    pg_services.projector(flush_every=1000).rebuild()
    # Then every table holds the same rows
    assert tables(pg_services) == row_by_row
    assert len(row_by_row[VISITS]) > 100


def test_bulk_updates_of_visits_begun_in_earlier_writes_match_a_rebuild(
    pg_services: Services, clock: ManualClock
) -> None:
    # Given a history followed write by write (visits end in later writes: UPDATEs)
    history = History(pg_services.bus, clock, random.Random(11))
    views = pg_services.views
    assert isinstance(views, PostgresReadModelStore)
    views.bulk_rows = 1
    projector = pg_services.projector()
    projector.start()
    for _ in range(8):
        history.write(40)
        projector.catch_up()
    followed = tables(pg_services)
    # When the same log is rebuilt row by row
    views.bulk_rows = 10**9
    pg_services.projector().rebuild()
    # Then the tables agree, ended visits included
    assert tables(pg_services) == followed
    assert any(row[5] is not None for row in followed[VISITS])
