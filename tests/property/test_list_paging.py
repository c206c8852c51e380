"""Keyset paging, for any campaigns (names and dates with ties, dates missing), any page
size and any order of ``GET /campaigns``: following the cursors gives the whole list in
its order, a field's order being the field's (those without it last, ties in the order
made) and ``-field`` exactly its reverse; campaigns made between two pages never make
one repeat or one that stood before go missing, and in the order made they all come.

The campaigns' order is the one of the three lists with text, nullable dates and the
order made among its keys, so it covers what the leads' and the contracts' orders use.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any, cast, get_args
from uuid import uuid4

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.bootstrap import Services, bootstrap
from adapters.clock import ManualClock
from adapters.settings import Settings
from commands.campaigns import CreateCampaign
from readmodels.leads.queries import CampaignSort, list_campaigns
from readmodels.leads.tables import CampaignRow
from readmodels.versions import KeyPart
from tests.conftest import T0

SORTS: tuple[CampaignSort, ...] = get_args(CampaignSort)
FIELDS = {"name": "name", "starts_on": "starts_on", "ends_on": "ends_on"}

# A campaign ends on or after it starts: ends from the day the latest start is.
starts = st.none() | st.sampled_from([date(2027, 1, 1), date(2027, 6, 1)])
ends = st.none() | st.sampled_from([date(2027, 6, 1), date(2027, 12, 31)])
campaign = st.tuples(st.sampled_from(["A", "B", "Bb", "c"]), starts, ends)
# Campaigns made before the first page, and those made after each page (a page's index).
made = st.lists(campaign, min_size=0, max_size=9)
later = st.lists(st.tuples(st.integers(0, 4), campaign), max_size=4)


@contextmanager
def embedded() -> Iterator[Services]:
    with tempfile.TemporaryDirectory() as tmp:
        services = bootstrap(Settings(home=Path(tmp) / "home"), clock=ManualClock(T0))
        try:
            yield services
        finally:
            services.close()


class Campaigns:
    """The campaigns made, in the order made, and the read model caught up with them."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.projector = services.projector()
        self.projector.start()
        self.order: list[str] = []

    def make(self, name: str, starts_on: date | None, ends_on: date | None) -> None:
        campaign_id = uuid4()
        command = CreateCampaign(
            campaign_id=campaign_id, name=name, starts_on=starts_on, ends_on=ends_on
        )
        self.services.bus.execute(command)
        self.order.append(str(campaign_id))
        self.projector.catch_up()

    def page(
        self, sort: CampaignSort, after: tuple[KeyPart, ...] | None, limit: int | None
    ) -> tuple[list[CampaignRow], tuple[KeyPart, ...] | None]:
        found = list_campaigns(self.services.views, None, sort=sort, after=after, limit=limit)
        return found.records, found.next_key

    def expected(self, sort: CampaignSort, rows: list[CampaignRow]) -> list[str]:
        """The campaigns' ids in ``sort`` order, worked out on their own."""
        field = sort.removeprefix("-")

        def key(row: CampaignRow) -> tuple[Any, ...]:
            made = self.order.index(row.id)
            if field == "created":
                return (made,)
            value = getattr(row, FIELDS[field])
            return (value is None, "" if value is None else str(value), made)

        ordered = sorted(rows, key=key, reverse=sort.startswith("-"))
        return [row.id for row in ordered]


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(before=made, meanwhile=later, sort=st.sampled_from(SORTS), limit=st.integers(1, 4))
def test_following_the_cursors_gives_each_order_whole_and_nothing_twice(
    before: list[tuple[str, date | None, date | None]],
    meanwhile: list[tuple[int, tuple[str, date | None, date | None]]],
    sort: CampaignSort,
    limit: int,
) -> None:
    with embedded() as services:
        # Given campaigns
        campaigns = Campaigns(services)
        for fields in before:
            campaigns.make(*fields)
        whole, none_after = campaigns.page(sort, None, None)
        # Then read in one page, they come in the order's own terms, `-` the reverse
        assert none_after is None
        assert [row.id for row in whole] == campaigns.expected(sort, whole)
        reverse = cast(CampaignSort, sort[1:] if sort.startswith("-") else f"-{sort}")
        assert [r.id for r in campaigns.page(reverse, None, None)[0]] == [
            r.id for r in reversed(whole)
        ]
        # When read page by page, more campaigns made after some pages
        seen: list[CampaignRow] = []
        after: tuple[KeyPart, ...] | None = None
        # (each page but the last is full: a page past every campaign there can be fails)
        for index in range(len(before) + len(meanwhile) + 1):
            rows, after = campaigns.page(sort, after, limit)
            seen.extend(rows)
            if after is None:
                break
            assert len(rows) == limit
            for at, fields in meanwhile:
                if at == index:
                    campaigns.make(*fields)
        assert after is None, "the pages did not end"
        ids = [row.id for row in seen]
        # Then no campaign comes twice, each one that stood before comes, all in order
        assert len(ids) == len(set(ids))
        assert set(campaigns.order[: len(before)]) <= set(ids)
        assert ids == campaigns.expected(sort, seen)
        if not meanwhile:
            assert ids == [row.id for row in whole]
        # And in the order made, what was made meanwhile comes too, last
        if sort == "created":
            assert ids == campaigns.order
