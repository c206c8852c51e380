"""PostgreSQL writes large batches through COPY and staging tables: same rows as row by row.

A rebuild (and a projector catching up a backlog) hands the storage thousands
of rows per statement; ``PostgresReadModelStore`` then copies them into a staging
table and upserts or updates from it. These tests force that path for every
batch and compare every table with the row-by-row path, so a wrong column
order or a lost conflict clause would show.
"""

from __future__ import annotations

import random

import pytest

from adapters.bootstrap import Services
from adapters.clock import ManualClock
from adapters.readmodel_store.postgres import PostgresReadModelStore
from readmodels.deals.tables import VISITS
from tests.histories import History
from tests.readmodel_tables import deals_rows

# PostgreSQL only: the COPY path is its own.
pytestmark = pytest.mark.parametrize("backend", ["postgres"], indirect=True)


def test_bulk_and_row_by_row_writes_give_the_same_tables(
    services: Services, clock: ManualClock
) -> None:
    # Given a varied history of a few hundred commands
    History(services.bus, clock, random.Random(7)).write(400)
    views = services.views
    assert isinstance(views, PostgresReadModelStore)
    # When it is rebuilt row by row
    views.bulk_rows = 10**9
    services.projector(flush_every=1000).rebuild()
    row_by_row = deals_rows(services)
    # And rebuilt again with every batch copied through a staging table
    views.bulk_rows = 1
    services.projector(flush_every=1000).rebuild()
    # Then every table holds the same rows
    assert deals_rows(services) == row_by_row
    assert len(row_by_row[VISITS]) > 100


def test_bulk_updates_of_visits_begun_in_earlier_writes_match_a_rebuild(
    services: Services, clock: ManualClock
) -> None:
    # Given a history followed write by write (visits end in later writes: UPDATEs)
    history = History(services.bus, clock, random.Random(11))
    views = services.views
    assert isinstance(views, PostgresReadModelStore)
    views.bulk_rows = 1
    projector = services.projector()
    projector.start()
    for _ in range(8):
        history.write(40)
        projector.catch_up()
    followed = deals_rows(services)
    # When the same log is rebuilt row by row
    views.bulk_rows = 10**9
    services.projector().rebuild()
    # Then the tables agree, ended visits included
    assert deals_rows(services) == followed
    assert any(row[5] is not None for row in followed[VISITS])
