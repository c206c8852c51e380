"""The contracts process manager end to end, on SQLite and on PostgreSQL.

Sales go through the real command bus; the process manager is caught up and ticked by
the test (``services.contracts_process()``), as a worker would on its clock.

The sale used throughout (EUR, price book "Standard", sold effective 2026-12-31 12:00 UTC,
recorded on 2027-01-04):

    item    product                          line                   contracts
    LIC     CRM licence, 12 months           10 × 25.00  =   250.00  250.00
    SUITE   bundle: licence ×2, support ×1    1 × 100.00 =   100.00  licence 66.67, support 33.33
                                                                     (66.666… and 33.333…: the
                                                                     cent left goes to the licence)
    BOX     appliance, one-off                2 × 600.00 = 1,200.00  1,200.00, no end

Time-based contracts run 2026-12-31 → 2027-12-31 (12 months from the sale's effective date).
Renewal notice 30 days (the default): the time-based contracts fall due for renewal on
2027-12-01 00:00 UTC and expire on 2027-12-31 00:00 UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, get_args
from uuid import UUID, uuid4

import pytest

from adapters.bootstrap import Services
from adapters.clock import ManualClock
from commands.bus import Outcome
from commands.contracts import (
    CancelContract,
    CancelContractsOfOpportunity,
    FireContractTimer,
    FulfilContract,
    RecordContractsOfSale,
)
from commands.errors import Contention
from commands.opportunities import (
    DeleteOpportunity,
    LoseOpportunity,
    MarkOpportunityUnqualified,
    ReopenOpportunity,
    SellOpportunity,
    UnlockOpportunity,
)
from commands.quotes import (
    ActivateQuote,
    AddQuoteItem,
    ChangeQuoteItem,
    CreateQuote,
    RemoveQuoteItem,
)
from commands.reference_data import CreateBundle, CreatePriceBook, CreateProduct, SetPrice
from commands.users import DeactivateUser
from domain.contract import (
    NO_LONGER_SOLD,
    Contract,
    ContractCreated,
    ContractEvent,
    ContractExpired,
    ContractRenewalDue,
    ContractRenewalWithdrawn,
    contract_id_for,
    renewal_opportunity_id_for,
)
from domain.events import DomainEvent, topic_of
from domain.money import Money
from domain.opportunity import Opportunity, OpportunitySold
from domain.user import NotAnActiveUser
from processes.contracts import ContractsProcess
from readmodels.contracts.queries import ContractFilters, list_contracts
from readmodels.log import events_between
from tests.builders import CREATE_LICENCE, create_opportunity
from tests.identity import TEAM

pytestmark = pytest.mark.users(*TEAM)

SOLD_AT = datetime(2026, 12, 31, 12, 0, tzinfo=UTC)
START = date(2026, 12, 31)
END = date(2027, 12, 31)
NOTICE_AT = datetime(2027, 12, 1, tzinfo=UTC)
EXPIRY_AT = datetime(2027, 12, 31, tzinfo=UTC)
CONTRACT_TOPICS = frozenset(topic_of(cls) for cls in get_args(ContractEvent))


def eur(amount: str) -> Money:
    return Money(Decimal(amount), "EUR")


def run(services: Services, command: Any) -> Outcome:
    return services.bus.execute(command)


def contract_events(services: Services, after: int = 0) -> list[DomainEvent]:
    """Every contract event in the log after position ``after``, in log order."""
    log = services.event_log
    found = events_between(log, after, log.last_position(), CONTRACT_TOPICS)
    return [log.decode(logged) for logged in found]


def kinds(events: list[DomainEvent]) -> list[str]:
    return sorted(type(e).__name__ for e in events)


def contract(services: Services, contract_id: UUID) -> Contract:
    found = services.store.load(contract_id)
    assert isinstance(found, Contract), f"no contract {contract_id}"
    return found


def timers(services: Services) -> set[tuple[UUID, str, datetime]]:
    return {
        (t.contract_id, t.kind, t.due_at.astimezone(UTC))
        for t in services.store.due_timers(datetime(2100, 1, 1, tzinfo=UTC), 1000)
    }


@dataclass
class Deal:
    """A sold opportunity: its ids, and the contract id each item or component calls for."""

    opportunity_id: UUID
    account_id: UUID
    quote_id: UUID
    licence_item: UUID
    suite_item: UUID
    box_item: UUID
    licence: UUID  # product ids
    support: UUID
    box: UUID
    sold: Outcome  # the answer to SellOpportunity

    def contract_of(self, item_id: UUID, component: UUID | None = None, gen: int = 0) -> UUID:
        key = str(item_id) if component is None else f"{item_id}/{component}"
        return contract_id_for(self.opportunity_id, key, gen)

    @property
    def lic_contract(self) -> UUID:
        return self.contract_of(self.licence_item)

    @property
    def suite_licence_contract(self) -> UUID:
        return self.contract_of(self.suite_item, self.licence)

    @property
    def suite_support_contract(self) -> UUID:
        return self.contract_of(self.suite_item, self.support)

    @property
    def box_contract(self) -> UUID:
        return self.contract_of(self.box_item)

    @property
    def time_based(self) -> list[UUID]:
        return [self.lic_contract, self.suite_licence_contract, self.suite_support_contract]


def catalogue(services: Services) -> tuple[UUID, UUID, UUID, UUID, UUID]:
    """Licence, support, appliance, the Suite bundle and the price book they are priced in."""
    licence = run(services, CREATE_LICENCE).id
    support = run(
        services,
        CreateProduct(
            name="Support", code="SUP", category="support", kind="time_based", term_months=12
        ),
    ).id
    box = run(
        services,
        CreateProduct(name="Appliance", code="BOX", category="implementation", kind="one_off"),
    ).id
    book = run(services, CreatePriceBook(price_book_id=uuid4(), name="Standard")).id
    for product_id, unit, price in [
        (licence, "user", "25.00"),
        (support, "user", "40.00"),
        (box, "each", "600.00"),
    ]:
        run(
            services,
            SetPrice(
                price_book_id=book,
                product_id=product_id,
                unit=unit,
                currency="EUR",
                price=Decimal(price),
            ),
        )
    suite = run(
        services,
        CreateBundle(
            name="Suite",
            code="SUITE",
            price_book_id=book,
            components=((licence, Decimal(2)), (support, Decimal(1))),
        ),
    ).id
    run(
        services,
        SetPrice(
            price_book_id=book, product_id=suite, unit="each", currency="EUR", price=Decimal("100")
        ),
    )
    return licence, support, box, suite, book


def sold_deal(services: Services, *, owner: str = "alice") -> Deal:
    licence, support, box, suite, book = catalogue(services)
    opportunity_id, quote_id = uuid4(), uuid4()
    run(
        services,
        create_opportunity(
            opportunity_id, account="ACME", owner=owner, expected_close=date(2027, 1, 31)
        ),
    )
    run(
        services,
        CreateQuote(
            quote_id=quote_id, opportunity_id=opportunity_id, name="Q1", price_book_id=book
        ),
    )
    items = {"licence": uuid4(), "suite": uuid4(), "box": uuid4()}
    for item_id, product_id, quantity in [
        (items["licence"], licence, 10),
        (items["suite"], suite, 1),
        (items["box"], box, 2),
    ]:
        run(
            services,
            AddQuoteItem(
                quote_id=quote_id,
                item_id=item_id,
                product_id=product_id,
                quantity=Decimal(quantity),
            ),
        )
    run(services, ActivateQuote(quote_id=quote_id))
    sold = run(services, SellOpportunity(opportunity_id=opportunity_id, effective_at=SOLD_AT))
    opportunity = services.store.load(opportunity_id)
    assert isinstance(opportunity, Opportunity)
    return Deal(
        opportunity_id=opportunity_id,
        account_id=opportunity.account_id,
        quote_id=quote_id,
        licence_item=items["licence"],
        suite_item=items["suite"],
        box_item=items["box"],
        licence=licence,
        support=support,
        box=box,
        sold=sold,
    )


def sale_of(services: Services, opportunity_id: UUID) -> OpportunitySold:
    """The opportunity's latest sale, as the process manager reads it from the log."""
    sales = [e for e in services.store.history(opportunity_id) if isinstance(e, OpportunitySold)]
    return sales[-1]


def processed_sale(
    services: Services, ticked_to: datetime | None = None
) -> tuple[Deal, ContractsProcess]:
    """A sold deal whose contracts the process manager made, its timers fired up to
    ``ticked_to``; and that process manager."""
    deal = sold_deal(services)
    process = services.contracts_process()
    process.catch_up()
    if ticked_to is not None:
        process.tick(ticked_to)
    return deal, process


def renewal_contract_id(services: Services, renewal_id: UUID, generation: int = 0) -> UUID:
    """The contract of the one item the renewal opportunity ``renewal_id`` was sold with."""
    (item,) = sale_of(services, renewal_id).items
    return contract_id_for(renewal_id, str(item.item.id), generation)


def sell_renewal(services: Services, renewal_id: UUID, product_id: UUID, quantity: int) -> Outcome:
    quote_id = uuid4()
    run(services, CreateQuote(quote_id=quote_id, opportunity_id=renewal_id, name="Renewal"))
    run(
        services,
        AddQuoteItem(
            quote_id=quote_id,
            item_id=uuid4(),
            product_id=product_id,
            name="CRM licence",
            quantity=Decimal(quantity),
            unit_price=Decimal("25.00"),
        ),
    )
    run(services, ActivateQuote(quote_id=quote_id))
    return run(services, SellOpportunity(opportunity_id=renewal_id))


# --- a sale becomes contracts -------------------------------------------------------------------


def test_a_sale_makes_one_contract_per_sold_item_and_bundle_component(services: Services) -> None:
    # Given an opportunity sold with a licence, a bundle and a one-off appliance
    deal = sold_deal(services)
    assert contract_events(services) == []
    process = services.contracts_process()

    # When the process manager catches up
    assert process.catch_up() == 1

    # Then exactly one contract per item, and per component of the bundle
    created = contract_events(services)
    assert kinds(created) == ["ContractCreated"] * 4
    assert {e.originator_id for e in created} == {*deal.time_based, deal.box_contract}
    expected = {
        deal.lic_contract: ("CRM licence", "time_based", "software", "250.00", END, deal.licence),
        deal.suite_licence_contract: (
            "Suite: CRM licence",
            "time_based",
            "software",
            "66.67",
            END,
            deal.licence,
        ),
        deal.suite_support_contract: (
            "Suite: Support",
            "time_based",
            "support",
            "33.33",
            END,
            deal.support,
        ),
        deal.box_contract: ("Appliance", "one_off", "implementation", "1200.00", None, deal.box),
    }
    for contract_id, (name, kind, category, value, end, product) in expected.items():
        made = contract(services, contract_id)
        assert (made.name, made.contract_kind, made.category) == (name, kind, category)
        assert (made.value, made.start, made.end, made.status) == (eur(value), START, end, "active")
        assert (made.opportunity_id, made.account_id, made.owner) == (
            deal.opportunity_id,
            deal.account_id,
            "alice",
        )
        assert made.product_id == product
    # the bundle's shares add up to its line exactly
    suite_values = [contract(services, c).value.amount for c in deal.time_based[1:]]
    assert sum(suite_values) == Decimal("100.00")
    # And the time-based ones have their renewal notice and expiry timers, the one-off none
    assert timers(services) == {
        (c, kind, at)
        for c in deal.time_based
        for kind, at in (("renewal_due", NOTICE_AT), ("expiry", EXPIRY_AT))
    }
    # And the process recorded how far it read: the log's end when it started (the sale)
    assert process.position == services.store.tracked_position() == deal.sold.position


def test_the_contracts_and_the_tracking_position_are_one_save(services: Services) -> None:
    # Given a sold opportunity and a process manager that has not read it
    deal = sold_deal(services)
    position = deal.sold.position
    assert services.store.tracked_position() == 0

    # When the command the process manager sends for that sale runs
    before = services.store.max_position()
    run(
        services,
        RecordContractsOfSale(sale=sale_of(services, deal.opportunity_id), position=position),
    )

    # Then the four contracts were written and the sale's position recorded with them
    assert len(contract_events(services, before)) == 4
    assert services.store.tracked_position() == position
    # And a process manager started now does not process the sale again
    process = services.contracts_process()
    process.catch_up()
    assert len(contract_events(services)) == 4
    assert services.store.tracked_position() == services.store.max_position()


def test_catching_up_again_or_replaying_the_sale_makes_nothing_twice(services: Services) -> None:
    # Given a sale turned into contracts
    deal = sold_deal(services)
    services.contracts_process().catch_up()
    log_end = services.store.max_position()
    timers_before = timers(services)

    # When the same process catches up again, a fresh one catches up, and the command for
    # the sale is executed once more (a redelivery)
    process = services.contracts_process()
    assert process.catch_up() == 0
    assert services.contracts_process().catch_up() == 0
    again = run(
        services,
        RecordContractsOfSale(
            sale=sale_of(services, deal.opportunity_id), position=deal.sold.position
        ),
    )

    # Then nothing was written: no second contract, the same timers
    assert again.extra == {"contracts": 0}
    assert services.store.max_position() == log_end
    assert len(contract_events(services)) == 4
    assert timers(services) == timers_before
    assert all(contract(services, c).version == 1 for c in [*deal.time_based, deal.box_contract])


# --- unlock and re-sell ---------------------------------------------------------------------------


def test_a_resale_amends_changed_items_creates_new_ones_cancels_removed_ones_only(
    services: Services, clock: ManualClock
) -> None:
    # Given a sale turned into contracts
    deal, process = processed_sale(services)
    # When, a week later, it is unlocked, the licences go from 10 to 12, the appliance is
    # removed, a support item is added, and it is sold again (the bundle is unchanged)
    clock.advance(timedelta(days=7))
    run(services, UnlockOpportunity(opportunity_id=deal.opportunity_id))
    run(
        services,
        ChangeQuoteItem(quote_id=deal.quote_id, item_id=deal.licence_item, quantity=Decimal(12)),
    )
    run(services, RemoveQuoteItem(quote_id=deal.quote_id, item_id=deal.box_item))
    support_item = uuid4()
    run(
        services,
        AddQuoteItem(
            quote_id=deal.quote_id,
            item_id=support_item,
            product_id=deal.support,
            quantity=Decimal(5),
        ),
    )
    resold = run(services, SellOpportunity(opportunity_id=deal.opportunity_id))
    before = services.store.max_position()
    process.catch_up()

    # Then the changed licence is amended (same start: it still stands), the new item gets a
    # contract from the re-sale's date, the removed appliance is cancelled; the bundle's
    # contracts are left alone
    changed = contract_events(services, before)
    assert kinds(changed) == ["ContractAmended", "ContractCancelled", "ContractCreated"]
    licence = contract(services, deal.lic_contract)
    assert (licence.value, licence.start, licence.end, licence.status) == (
        eur("300.00"),
        START,
        END,
        "active",
    )
    box = contract(services, deal.box_contract)
    assert (box.status, box.cancel_reason) == ("cancelled", NO_LONGER_SOLD)
    support = contract(services, deal.contract_of(support_item))
    resold_on = clock.now().date()
    assert (support.value, support.start, support.end) == (
        eur("200.00"),
        resold_on,
        date(2028, 1, 11),
    )
    assert all(contract(services, c).version == 1 for c in deal.time_based[1:])
    # And the new contract has its timers; the tracking position is the re-sale's or later
    assert (support.id, "expiry", datetime(2028, 1, 11, tzinfo=UTC)) in timers(services)
    assert services.store.tracked_position() >= resold.position


def test_a_resold_item_whose_contract_was_cancelled_gets_a_new_contract(
    services: Services,
) -> None:
    # Given a sale turned into contracts, and the licence contract cancelled by hand
    deal, process = processed_sale(services)
    run(services, CancelContract(contract_id=deal.lic_contract, reason="signed in error"))
    assert deal.lic_contract not in {c for c, _, _ in timers(services)}  # it fires no more
    # When the opportunity is unlocked and sold again unchanged
    run(services, UnlockOpportunity(opportunity_id=deal.opportunity_id))
    run(services, SellOpportunity(opportunity_id=deal.opportunity_id, effective_at=SOLD_AT))
    before = services.store.max_position()
    process.catch_up()
    # Then only the licence gets a contract again: the next generation, the old one stays cancelled
    (created,) = contract_events(services, before)
    assert isinstance(created, ContractCreated)
    assert created.originator_id == deal.contract_of(deal.licence_item, gen=1)
    assert contract(services, deal.lic_contract).status == "cancelled"
    assert contract(services, created.originator_id).value == eur("250.00")


@pytest.mark.parametrize(
    ("close", "reason"),
    [
        (
            lambda opp: LoseOpportunity(opportunity_id=opp, reason="budget cut"),
            "the opportunity was lost",
        ),
        (
            lambda opp: MarkOpportunityUnqualified(opportunity_id=opp, reason="no budget"),
            "the opportunity was disqualified",
        ),
        (lambda opp: DeleteOpportunity(opportunity_id=opp), "the opportunity was deleted"),
    ],
    ids=["lost", "disqualified", "deleted"],
)
def test_closing_an_unlocked_sold_opportunity_cancels_its_running_contracts(
    services: Services, close: Any, reason: str
) -> None:
    # Given a sale turned into contracts, the appliance delivered (fulfilled)
    deal, process = processed_sale(services)
    run(services, FulfilContract(contract_id=deal.box_contract))
    # When the opportunity is unlocked and then lost (disqualified, deleted)
    run(services, UnlockOpportunity(opportunity_id=deal.opportunity_id))
    closed = run(services, close(deal.opportunity_id))
    before = services.store.max_position()
    process.catch_up()
    # Then its running contracts are cancelled with the reason; the delivered one stays
    assert kinds(contract_events(services, before)) == ["ContractCancelled"] * 3
    for contract_id in deal.time_based:
        cancelled = contract(services, contract_id)
        assert (cancelled.status, cancelled.cancel_reason) == ("cancelled", reason)
    assert contract(services, deal.box_contract).status == "fulfilled"
    # And their timers are gone; the position is recorded
    assert timers(services) == set()
    assert services.store.tracked_position() >= closed.position
    # And catching up again cancels nothing twice
    assert services.contracts_process().catch_up() == 0
    assert services.store.max_position() == before + 3


# --- time: renewal due, expiry --------------------------------------------------------------------


def test_ticking_fires_renewal_due_then_expiry_each_once(services: Services) -> None:
    # Given a sale turned into contracts
    deal, process = processed_sale(services)
    start = services.store.max_position()

    # When time reaches a moment before the renewal notice, nothing fires
    assert process.tick(NOTICE_AT - timedelta(microseconds=1)) == 0
    assert services.store.max_position() == start

    # When it reaches the notice (30 days before the end)
    assert process.tick(NOTICE_AT) == 3

    # Then each time-based contract falls due for renewal, with a renewal opportunity linked
    due_events = contract_events(services, start)
    assert kinds(due_events) == ["ContractRenewalDue"] * 3
    for contract_id in deal.time_based:
        due = contract(services, contract_id)
        renewal_id = renewal_opportunity_id_for(contract_id)
        assert (due.status, due.renewal_opportunity_id) == ("renewal_due", renewal_id)
        renewal = services.store.load(renewal_id)
        assert isinstance(renewal, Opportunity)
        assert (renewal.account_id, renewal.owner) == (deal.account_id, "alice")
        assert (renewal.amount, renewal.expected_close) == (due.value, END)
        assert (renewal.renews_contract_id, renewal.status) == (contract_id, "open")
    (lic_due,) = [e for e in due_events if e.originator_id == deal.lic_contract]
    assert isinstance(lic_due, ContractRenewalDue) and lic_due.due_on == date(2027, 12, 1)
    # And only the expiry timers are left
    assert timers(services) == {(c, "expiry", EXPIRY_AT) for c in deal.time_based}

    # When it ticks to the same instant again, by this process or a fresh one
    fired = services.store.max_position()
    assert process.tick(NOTICE_AT) == 0
    assert services.contracts_process().tick(NOTICE_AT) == 0
    # Then nothing fires twice
    assert services.store.max_position() == fired

    # When time reaches the end
    assert process.tick(EXPIRY_AT + timedelta(hours=1)) == 3
    # Then each expires on its end date, once, and no timer is left
    expired = contract_events(services, fired)
    assert kinds(expired) == ["ContractExpired"] * 3
    assert {e.expired_on for e in expired if isinstance(e, ContractExpired)} == {END}
    assert all(contract(services, c).status == "expired" for c in deal.time_based)
    assert contract(services, deal.box_contract).status == "active"
    assert timers(services) == set()
    end = services.store.max_position()
    assert process.tick(EXPIRY_AT + timedelta(days=400)) == 0
    assert services.store.max_position() == end


def test_a_tick_far_past_both_timers_fires_renewal_due_before_expiry(services: Services) -> None:
    # Given a sale turned into contracts and no tick for over a year
    deal, process = processed_sale(services)
    start = services.store.max_position()
    # When the first tick is after the end
    assert process.tick(EXPIRY_AT + timedelta(days=30)) == 6
    # Then each contract fell due (its renewal opportunity opened) and then expired
    for contract_id in deal.time_based:
        assert [type(e).__name__ for e in services.store.history(contract_id)] == [
            "ContractCreated",
            "ContractRenewalDue",
            "ContractExpired",
        ]
        assert services.store.load(renewal_opportunity_id_for(contract_id)) is not None
    assert len(contract_events(services, start)) == 6


def test_firing_a_timer_again_is_refused_and_writes_nothing(services: Services) -> None:
    # Given the renewal notice of the licence fired
    deal, _ = processed_sale(services, ticked_to=NOTICE_AT)
    end = services.store.max_position()
    # When the same timer's command is delivered again (a second worker, a retry)
    with pytest.raises(Contention):
        run(services, FireContractTimer(contract_id=deal.lic_contract, kind="renewal_due"))
    # Then nothing is written: no second renewal due, no second renewal opportunity
    assert services.store.max_position() == end
    assert contract(services, deal.lic_contract).version == 2


def test_the_process_keeps_the_owner_of_the_sale_even_when_they_have_left_since(
    services: Services,
) -> None:
    # Given alice's deal sold, and alice deactivated before the process reacted
    deal = sold_deal(services)
    run(services, DeactivateUser(login="alice"))
    process = services.contracts_process()
    # When the process makes the contracts and, later, the renewal opportunities
    process.catch_up()
    process.tick(NOTICE_AT)
    # Then nothing was refused: every contract and every renewal is hers, as the sale was
    assert process.refused == 0
    for contract_id in deal.time_based:
        assert contract(services, contract_id).owner == "alice"
        renewal = services.store.load(renewal_opportunity_id_for(contract_id))
        assert isinstance(renewal, Opportunity) and renewal.owner == "alice"
    # while a user may no longer give her a deal
    with pytest.raises(NotAnActiveUser):
        run(services, create_opportunity(owner="alice"))


# --- renewal ------------------------------------------------------------------------------------


def test_selling_the_renewal_opportunity_renews_the_contract_and_the_new_one_starts_at_its_end(
    services: Services, clock: ManualClock
) -> None:
    # Given the licence contract due for renewal, its renewal opportunity open
    deal, process = processed_sale(services, ticked_to=NOTICE_AT)
    renewal_id = renewal_opportunity_id_for(deal.lic_contract)

    # When the renewal opportunity is sold on 2027-12-10 (12 licences) and the process catches up
    clock.set(datetime(2027, 12, 10, 9, 0, tzinfo=UTC))
    sold = sell_renewal(services, renewal_id, deal.licence, 12)
    before = services.store.max_position()
    process.catch_up()

    # Then the old contract is renewed, and the renewal's contract starts at the old end
    assert kinds(contract_events(services, before)) == ["ContractCreated", "ContractRenewed"]
    old = contract(services, deal.lic_contract)
    assert (old.status, old.renewed_by) == ("renewed", renewal_id)
    renewal = services.store.load(renewal_id)
    assert isinstance(renewal, Opportunity)
    new = contract(services, renewal_contract_id(services, renewal_id))
    assert (new.start, new.end, new.value, new.status) == (
        END,
        date(2028, 12, 31),
        eur("300.00"),
        "active",
    )
    assert (new.renews_contract_id, new.opportunity_id, new.account_id, new.owner) == (
        deal.lic_contract,
        renewal_id,
        deal.account_id,
        "alice",
    )
    assert services.store.tracked_position() >= sold.position
    # And the old one no longer expires; the new one has its own timers
    assert {(c, k) for c, k, _ in timers(services)} == {
        (deal.suite_licence_contract, "expiry"),
        (deal.suite_support_contract, "expiry"),
        (new.id, "renewal_due"),
        (new.id, "expiry"),
    }
    assert process.tick(EXPIRY_AT) == 2
    assert contract(services, deal.lic_contract).status == "renewed"
    # And catching up or replaying the renewal's sale renews nothing twice
    end = services.store.max_position()
    assert services.contracts_process().catch_up() == 0
    run(services, RecordContractsOfSale(sale=sale_of(services, renewal_id), position=sold.position))
    assert services.store.max_position() == end


def test_a_renewal_sold_after_the_contract_expired_renews_it_late(
    services: Services, clock: ManualClock
) -> None:
    # Given the licence contract expired while its renewal opportunity was still open
    deal, process = processed_sale(services, ticked_to=EXPIRY_AT)
    assert contract(services, deal.lic_contract).status == "expired"
    renewal_id = renewal_opportunity_id_for(deal.lic_contract)

    # When the renewal is sold in January
    clock.set(datetime(2028, 1, 15, 9, 0, tzinfo=UTC))
    sell_renewal(services, renewal_id, deal.licence, 10)
    process.catch_up()

    # Then the expired contract is renewed, and the new one still starts at the old end
    assert contract(services, deal.lic_contract).status == "renewed"
    new = contract(services, renewal_contract_id(services, renewal_id))
    assert (new.start, new.end, new.renews_contract_id) == (
        END,
        date(2028, 12, 31),
        deal.lic_contract,
    )


# --- a sold renewal closed after an unlock -------------------------------------------------------

CLOSE_RENEWAL = [
    (
        lambda opp: LoseOpportunity(opportunity_id=opp, reason="budget cut"),
        "the opportunity was lost",
    ),
    (
        lambda opp: MarkOpportunityUnqualified(opportunity_id=opp, reason="no budget"),
        "the opportunity was disqualified",
    ),
    (lambda opp: DeleteOpportunity(opportunity_id=opp), "the opportunity was deleted"),
]
CLOSE_IDS = ["lost", "disqualified", "deleted"]


def renewed_licence(services: Services, clock: ManualClock) -> tuple[Deal, UUID, UUID]:
    """The licence contract renewed by its renewal opportunity sold on 2027-12-10; returns
    the deal, the renewal opportunity and the renewal's own contract."""
    deal, process = processed_sale(services, ticked_to=NOTICE_AT)
    renewal_id = renewal_opportunity_id_for(deal.lic_contract)
    clock.set(datetime(2027, 12, 10, 9, 0, tzinfo=UTC))
    sell_renewal(services, renewal_id, deal.licence, 12)
    process.catch_up()
    assert contract(services, deal.lic_contract).status == "renewed"
    return deal, renewal_id, renewal_contract_id(services, renewal_id)


def unlock_and_lose(services: Services, renewal_id: UUID) -> None:
    """The sold renewal opportunity unlocked and lost."""
    run(services, UnlockOpportunity(opportunity_id=renewal_id))
    run(services, LoseOpportunity(opportunity_id=renewal_id, reason="budget cut"))


@pytest.mark.parametrize(("close", "reason"), CLOSE_RENEWAL, ids=CLOSE_IDS)
def test_a_sold_renewal_unlocked_and_closed_before_the_end_makes_the_contract_due_again(
    services: Services, clock: ManualClock, close: Any, reason: str
) -> None:
    # Given the licence contract renewed by its renewal opportunity
    deal, renewal_id, renewal_contract = renewed_licence(services, clock)
    process = services.contracts_process()

    # When, on 2027-12-20 (before the old end), the renewal is unlocked and lost (disqualified,
    # deleted), and the process catches up
    clock.set(datetime(2027, 12, 20, 15, 0, tzinfo=UTC))
    run(services, UnlockOpportunity(opportunity_id=renewal_id))
    closed = run(services, close(renewal_id))
    before = services.store.max_position()
    process.catch_up()

    # Then the renewal's own contract is cancelled and the old one is no longer renewed: it
    # is due for renewal again, with its expiry timer back
    changed = contract_events(services, before)
    assert kinds(changed) == ["ContractCancelled", "ContractRenewalWithdrawn"]
    (withdrawal,) = [e for e in changed if isinstance(e, ContractRenewalWithdrawn)]
    assert (withdrawal.originator_id, withdrawal.renewal_opportunity_id) == (
        deal.lic_contract,
        renewal_id,
    )
    assert (withdrawal.status, withdrawal.reason) == ("renewal_due", reason)
    old = contract(services, deal.lic_contract)
    assert (old.status, old.renewed_by, old.renewal_opportunity_id) == (
        "renewal_due",
        None,
        renewal_id,
    )
    assert contract(services, renewal_contract).status == "cancelled"
    assert {(c, k) for c, k, _ in timers(services)} == {
        (deal.lic_contract, "expiry"),
        (deal.suite_licence_contract, "expiry"),
        (deal.suite_support_contract, "expiry"),
    }
    # And in the same save as the process's position: the withdrawal is the save's last event
    assert services.store.tracked_position() == closed.position
    assert services.store.max_position() == before + 2

    # When it catches up again, a fresh process catches up, or the command is redelivered
    assert process.catch_up() == 0
    assert services.contracts_process().catch_up() == 0
    again = run(
        services,
        CancelContractsOfOpportunity(
            opportunity_id=renewal_id,
            position=closed.position,
            reason=reason,
            closed_at=clock.now(),
        ),
    )
    # Then nothing is withdrawn (or cancelled) twice
    assert again.extra == {"contracts": 0}
    assert services.store.max_position() == before + 2

    # And the old contract expires at its end as it would have without the renewal
    assert process.tick(EXPIRY_AT) == 3
    assert contract(services, deal.lic_contract).status == "expired"


@pytest.mark.parametrize(("close", "reason"), CLOSE_RENEWAL, ids=CLOSE_IDS)
def test_a_sold_renewal_closed_after_the_old_end_leaves_the_contract_expired(
    services: Services, clock: ManualClock, close: Any, reason: str
) -> None:
    # Given the licence contract renewed by its renewal opportunity
    deal, renewal_id, renewal_contract = renewed_licence(services, clock)
    process = services.contracts_process()

    # When the renewal is unlocked in December and lost on 2028-01-10, after the old end
    # (2027-12-31), the process catching up only then
    run(services, UnlockOpportunity(opportunity_id=renewal_id))
    clock.set(datetime(2028, 1, 10, 9, 0, tzinfo=UTC))
    closed = run(services, close(renewal_id))
    before = services.store.max_position()
    process.catch_up()

    # Then the old contract is expired, without a timer; the renewal's contract is cancelled
    # (and the bundle's two contracts expired at their end, before the loss)
    changed = contract_events(services, before)
    assert kinds(changed) == [
        "ContractCancelled",
        "ContractExpired",
        "ContractExpired",
        "ContractRenewalWithdrawn",
    ]
    (withdrawal,) = [e for e in changed if isinstance(e, ContractRenewalWithdrawn)]
    assert (withdrawal.originator_id, withdrawal.status) == (deal.lic_contract, "expired")
    assert contract(services, deal.lic_contract).status == "expired"
    assert contract(services, renewal_contract).status == "cancelled"
    assert deal.lic_contract not in {c for c, _, _ in timers(services)}
    assert services.store.tracked_position() == closed.position
    # And catching up again, or ticking, withdraws or expires nothing twice
    end = services.store.max_position()
    assert services.contracts_process().catch_up() == 0
    assert process.tick(clock.now()) == 0
    assert services.store.max_position() == end
    assert [type(e).__name__ for e in services.store.history(deal.lic_contract)] == [
        "ContractCreated",
        "ContractRenewalDue",
        "ContractRenewed",
        "ContractRenewalWithdrawn",
    ]


def test_the_contracts_read_model_shows_the_withdrawn_renewal_and_what_stood_before(
    services: Services, clock: ManualClock
) -> None:
    # Given the licence contract renewed, and its renewal then unlocked and lost
    deal, renewal_id, _ = renewed_licence(services, clock)
    unlock_and_lose(services, renewal_id)
    renewed_until = services.store.max_position()
    services.contracts_process().catch_up()

    # When the projector catches up
    projector = services.projector()
    projector.start()
    projector.catch_up()

    # Then the read model lists the old contract due for renewal again, as of now, and
    # renewed as of the moment before the process withdrew the renewal
    def status_of(position: int | None) -> str:
        filters = ContractFilters(opportunity_id=deal.opportunity_id)
        rows = list_contracts(services.views, filters, position).records
        (licence,) = [row for row in rows if row.id == str(deal.lic_contract)]
        return licence.status

    assert status_of(None) == "renewal_due"
    assert status_of(renewed_until) == "renewed"
    # And a rebuild from the log gives the same rows
    now_rows = list_contracts(services.views, ContractFilters(), None).records
    services.rebuild()
    assert list_contracts(services.views, ContractFilters(), None).records == now_rows


def test_a_renewal_resold_after_an_unlock_renews_once_and_a_later_loss_still_withdraws(
    services: Services, clock: ManualClock
) -> None:
    # Given the licence contract renewed by its renewal opportunity
    deal, renewal_id, _ = renewed_licence(services, clock)
    process = services.contracts_process()

    # When the renewal is unlocked and sold again unchanged
    run(services, UnlockOpportunity(opportunity_id=renewal_id))
    run(services, SellOpportunity(opportunity_id=renewal_id))
    before = services.store.max_position()
    process.catch_up()
    # Then the old contract is not renewed a second time, and nothing else changes
    assert contract_events(services, before) == []
    assert [type(e).__name__ for e in services.store.history(deal.lic_contract)].count(
        "ContractRenewed"
    ) == 1

    # When it is unlocked and lost after all
    clock.advance(timedelta(days=1))
    unlock_and_lose(services, renewal_id)
    process.catch_up()
    # Then the renewal is withdrawn
    assert contract(services, deal.lic_contract).status == "renewal_due"


def test_a_renewal_withdrawn_then_sold_again_renews_the_contract_again(
    services: Services, clock: ManualClock
) -> None:
    # Given a renewal sold, unlocked and lost, the old contract due for renewal again
    deal, renewal_id, renewal_contract = renewed_licence(services, clock)
    process = services.contracts_process()
    unlock_and_lose(services, renewal_id)
    process.catch_up()
    assert contract(services, deal.lic_contract).status == "renewal_due"

    # When the renewal is reopened and sold again before the old end
    clock.set(datetime(2027, 12, 22, 9, 0, tzinfo=UTC))
    run(services, ReopenOpportunity(opportunity_id=renewal_id))
    run(services, SellOpportunity(opportunity_id=renewal_id))
    before = services.store.max_position()
    process.catch_up()

    # Then the old contract is renewed again, its expiry timer gone, and the renewal's item
    # gets a new contract (the next generation), starting at the old end
    assert kinds(contract_events(services, before)) == ["ContractCreated", "ContractRenewed"]
    old = contract(services, deal.lic_contract)
    assert (old.status, old.renewed_by) == ("renewed", renewal_id)
    new = contract(services, renewal_contract_id(services, renewal_id, generation=1))
    assert (new.start, new.status, new.renews_contract_id) == (END, "active", deal.lic_contract)
    assert contract(services, renewal_contract).status == "cancelled"
    assert deal.lic_contract not in {c for c, _, _ in timers(services)}


def test_a_sale_that_keeps_losing_races_stops_the_process_and_is_not_skipped(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a sold opportunity, and a bus whose saves for it lose every race
    deal = sold_deal(services)
    process = services.contracts_process()
    real = services.bus.execute

    def contended(command: Any, **kwargs: Any) -> Outcome:
        if isinstance(command, RecordContractsOfSale):
            raise Contention("RecordContractsOfSale lost 5 races with concurrent writers.")
        return real(command, **kwargs)

    monkeypatch.setattr(services.bus, "execute", contended)
    # When the process catches up, then it stops with the contention
    with pytest.raises(Contention):
        process.catch_up()
    # and has not recorded a position past the sale
    assert services.store.tracked_position() < deal.sold.position
    # And once the races stop, a restart makes the sale's contracts
    monkeypatch.setattr(services.bus, "execute", real)
    services.contracts_process().catch_up()
    assert len(contract_events(services)) == 4
