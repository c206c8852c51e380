"""Private records and sharing: the rule of who sees a record (``domain.access.sees``) and
the events a change of sharing writes, Given / When / Then."""

from __future__ import annotations

from datetime import date
from uuid import uuid4

import pytest

from commands.bus import CommandBus
from commands.handlers import all_handlers
from commands.opportunities import CreateOpportunity, EditOpportunity
from commands.reference_data import EnsureDefaults
from commands.sharing import ShareAccount
from domain.access import Principal, RecordAccess, sees
from domain.errors import InvalidInput, NotFound
from domain.opportunity import OpportunitySharingChanged
from domain.sharing import Sharing, changed_sharing
from tests.conftest import T0
from tests.fakes import FixedClock, InMemoryEventStore
from tests.identity import add_users


def bus_and_store() -> tuple[CommandBus, InMemoryEventStore]:
    store = InMemoryEventStore()
    bus = CommandBus(store, FixedClock(T0), handlers=all_handlers(), reporting_currency="EUR")
    return bus, store


ALICE = Principal(login="alice", role="rep")
MARIA = Principal(login="maria", role="manager", team=frozenset({"alice"}))
BOB = Principal(login="bob", role="rep")


def test_a_managers_team_record_is_seen_unless_it_is_private() -> None:
    alices = RecordAccess(owners=frozenset({"alice"}))
    assert sees(MARIA, alices)
    assert not sees(MARIA, RecordAccess(owners=frozenset({"alice"}), private=True))


def test_the_owner_and_those_it_is_shared_with_see_a_private_record() -> None:
    private = RecordAccess(
        owners=frozenset({"alice"}), private=True, shared_with=frozenset({"bob"})
    )
    assert sees(ALICE, private) and sees(BOB, private)
    assert not sees(Principal(login="carol", role="rep"), private)


@pytest.mark.parametrize("role", ["admin", "analyst", "auditor"])
def test_the_reading_roles_see_private_records(role: str) -> None:
    private = RecordAccess(owners=frozenset({"alice"}), private=True)
    assert sees(Principal(login="x", role=role), private)  # type: ignore[arg-type]


def test_a_private_lead_of_the_pool_is_not_the_pools() -> None:
    assert sees(BOB, RecordAccess(owners=frozenset({""}), pool=True))
    assert not sees(BOB, RecordAccess(owners=frozenset({""}), pool=True, private=True))


def test_sharing_that_does_not_change_writes_nothing() -> None:
    current = Sharing(private=True, shared_with=("bob",))
    assert changed_sharing(current, private=True, shared_with=[" bob "]) is None
    assert changed_sharing(current) is None
    assert changed_sharing(current, shared_with=["dave", "bob"]) == Sharing(
        private=True, shared_with=("bob", "dave")
    )


def test_shared_with_refuses_what_is_not_a_login() -> None:
    with pytest.raises(InvalidInput, match="is not a login"):
        changed_sharing(Sharing(), shared_with=["Bob Smith"])
    with pytest.raises(InvalidInput, match="at most 50"):
        changed_sharing(Sharing(), shared_with=[f"user{i}" for i in range(51)])


def test_making_a_deal_private_records_one_event_and_repeating_it_none() -> None:
    bus, store = bus_and_store()
    bus.execute(EnsureDefaults())
    add_users(bus, "alice")
    deal = uuid4()
    bus.execute(
        CreateOpportunity(
            opportunity_id=deal,
            title="T",
            owner="alice",
            expected_close=date(2027, 6, 30),
            account_name="ACME",
        )
    )
    # When it is made private twice
    bus.execute(EditOpportunity(opportunity_id=deal, private=True, shared_with=("bob",)))
    bus.execute(EditOpportunity(opportunity_id=deal, private=True))
    # Then one sharing event was written, with what it says
    changes = [e for e in store.history(deal) if isinstance(e, OpportunitySharingChanged)]
    assert [(e.private, e.shared_with) for e in changes] == [(True, ("bob",))]


def test_an_unknown_account_cannot_be_shared() -> None:
    bus, _ = bus_and_store()
    with pytest.raises(NotFound):
        bus.execute(ShareAccount(account_id=uuid4(), private=True))
