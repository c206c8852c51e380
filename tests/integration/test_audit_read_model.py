"""The audit read model kept by the projector on SQLite and on PostgreSQL: every event a
user's commands wrote, under their login, gathered back into one action per command,
within a span of time, in keyset pages, the same after a restart and a rebuild."""

from __future__ import annotations

from datetime import date, timedelta
from uuid import UUID, uuid4

import pytest

from adapters.bootstrap import Services
from adapters.clock import ManualClock
from commands.opportunities import CreateOpportunity, MoveOpportunityToStage
from commands.unit_of_work import Actor
from domain.money import Money
from readmodels.audit.queries import Action, Span, actions
from readmodels.audit.tables import AUDIT_EVENTS
from readmodels.values import micros
from tests.conftest import T0


def _deal(services: Services, clock: ManualClock, who: str, request: str) -> UUID:
    """``who`` creates a deal (and its account: one save) in request ``request``."""
    clock.advance(timedelta(minutes=10))
    deal = uuid4()
    services.bus.execute(
        CreateOpportunity(
            opportunity_id=deal,
            title=f"{who}'s deal",
            account_name=f"{request} GmbH",
            owner=who,
            expected_close=date(2027, 6, 30),
            amount=Money.of("1000.00", "EUR"),
        ),
        actor=Actor(by=who, request_id=request),
    )
    return deal


def _requests(found: list[Action]) -> list[str | None]:
    return [action.events[0].request_id for action in found]


@pytest.mark.users("alice", "bob")
def test_a_users_commands_come_back_as_actions_on_both_stores(
    services: Services, clock: ManualClock
) -> None:
    # Given alice's three commands (the first writes an account and a deal) and bob's one
    first = _deal(services, clock, "alice", "a-1")
    _deal(services, clock, "bob", "b-1")
    _deal(services, clock, "alice", "a-2")
    clock.advance(timedelta(minutes=10))
    services.bus.execute(
        MoveOpportunityToStage(opportunity_id=first, stage="proposal"),
        actor=Actor(by="alice", request_id="a-3"),
    )
    projector = services.projector()
    projector.start()
    projector.catch_up()
    views = services.views
    # When her actions are read
    found, more = actions(views, "alice", Span(), after=None, limit=10)
    # Then each command is one action, oldest first, with all its events
    assert _requests(found) == ["a-1", "a-2", "a-3"]
    assert not more
    assert [sorted(e.event_type for e in a.events) for a in found] == [
        ["AccountCreated", "OpportunityCreated"],
        ["AccountCreated", "OpportunityCreated"],
        ["OpportunityMovedToStage"],
    ]
    assert all(len({e.causation_id for e in a.events}) == 1 for a in found)
    assert found[2].events[0].aggregate_id == str(first)
    # within a span of time: from inclusive, to exclusive
    since = micros(T0 + timedelta(minutes=30))
    assert _requests(actions(views, "alice", Span(since=since), after=None, limit=9)[0]) == [
        "a-2",
        "a-3",
    ]
    assert _requests(actions(views, "alice", Span(until=since), after=None, limit=9)[0]) == ["a-1"]
    # in pages of one, each going on after the last
    page, more = actions(views, "alice", Span(), after=None, limit=1)
    pages = [page]
    while more:
        page, more = actions(views, "alice", Span(), after=pages[-1][-1].key, limit=1)
        pages.append(page)
    assert [_requests(p) for p in pages] == [["a-1"], ["a-2"], ["a-3"]]
    # and as of a position: what had been done by then
    by_then = found[1].events[-1].position
    assert _requests(actions(views, "alice", Span(position=by_then), after=None, limit=9)[0]) == [
        "a-1",
        "a-2",
    ]
    # A rebuild writes the same rows
    rows = views.rows(AUDIT_EVENTS)
    assert (
        sorted(row[1] for row in rows if row[1] in {"alice", "bob"}) == ["alice"] * 5 + ["bob"] * 2
    )
    services.rebuild(writer="inline")
    assert services.views.rows(AUDIT_EVENTS) == rows
