"""Contracts equal what the sales, the cancellations and the clock say, however the process ran.

For random sequences of commands on the embedded store, through the real command
bus — opportunities created with quotes of time-based items (12, 13 and 1 month
terms, some with their own start), one-off items and bundles (a licence, support
and implementation split 3 : 2 : 2); items added, changed and removed; sales
(some back-dated by up to 500 days, so that their timers are due at once),
unlocks and re-sales, new owners, losses, reopenings and deletions; renewal
opportunities sold (and, like any deal, unlocked, re-sold, lost, reopened, deleted);
contracts cancelled and fulfilled; the clock moved on by
minutes, days or months — the contracts process manager is caught up (fully or part of the way,
by a new instance now and then) and ticked (to now or to an instant a little
before) at random moments in between, so every interleaving of its progress with
the commands and the passing of time is tried.

At the end, after a last catch-up and a tick to the final instant, the contracts
in the store must equal those this test computes on its own (``Model`` of
``tests.contracts_model``: it does not call ``domain.contract``'s decisions; it uses
only its id scheme) from each sale's items as the quote held them, the sale's
effective date, the losses and deletions, the cancellations and fulfilments made,
and the clock, taking every event at the moment it was recorded and every timer at
its due instant:

- which contracts exist per opportunity and item key (and generation), with their
  kind, owner (the opportunity's when it was sold), value, start, end, term,
  status (active, renewal_due, expired, renewed, fulfilled, cancelled) and the
  contract they renew; a contract renewed by a renewal opportunity that is then lost
  or deleted is renewed no more (due again, or expired once its end has passed by the
  loss);
- one ContractCreated per contract, one ContractRenewalDue per contract that fell
  due, one ContractExpired per expiry by its timer, and one
  ContractRenewalWithdrawn per renewal withdrawn (none for the others);
  one renewal opportunity per contract that fell due, none other;
- the timers table holds exactly the timers of the contracts that still run (a
  renewal notice while active, an expiry while active or due), none due by now;
- the process's tracked position is the log's last, and no sale was refused.

Commands on contracts (cancel, fulfil, selling a renewal opportunity) are given,
as a user would, on the contracts as they stand: the process is caught up and
ticked to now first. Ticking twice to the same instant fires nothing the second
time, and replaying the log (a new process catching up, or the process manager's
commands run again with their log positions) writes nothing.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from adapters.bootstrap import bootstrap
from adapters.clock import ManualClock
from adapters.settings import Settings
from commands.contracts import CancelContract, FulfilContract
from commands.opportunities import CreateOpportunity, EditOpportunity, UnlockOpportunity
from commands.quotes import ActivateQuote, ChangeQuoteItem, CreateQuote, RemoveQuoteItem
from domain.contract import renewal_opportunity_id_for
from domain.errors import DomainError
from domain.money import Money
from domain.opportunity import Opportunity
from domain.quote import Quote
from processes.contracts import TOPICS, ContractsProcess, react
from readmodels.log import events_between
from tests.conftest import T0
from tests.contracts_model import (
    ITEM_KINDS,
    NOTICE_DAYS,
    RUNNING,
    Item,
    Sales,
    assert_contracts_as_modelled,
    create_catalogue,
)
from tests.histories import (
    OWNERS,
    Delete,
    Edit,
    Lose,
    OnDeal,
    Reopen,
    Sell,
    Unlock,
    status_change,
    weighted,
)

# --- steps --------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewDeal:
    items: tuple[Item, ...]


@dataclass(frozen=True)
class AddItem(OnDeal):
    item: Item


@dataclass(frozen=True)
class ChangeItem(OnDeal):
    item: int
    change: str  # quantity | price | discount | start
    value: int


@dataclass(frozen=True)
class RemoveItem(OnDeal):
    item: int


@dataclass(frozen=True)
class Resell(OnDeal):
    """Unlock, change the quote, sell again: in one go, so that it happens often."""

    changes: tuple[AddItem | ChangeItem | RemoveItem, ...]
    days_ago: int


@dataclass(frozen=True)
class Cancel:
    contract: int
    running: bool  # pick a running contract (else one that has ended: refused)


@dataclass(frozen=True)
class Fulfil:
    contract: int


@dataclass(frozen=True)
class SellRenewal:
    contract: int
    items: tuple[Item, ...]


@dataclass(frozen=True)
class Advance:
    minutes: int


@dataclass(frozen=True)
class Tick:
    hours_before_now: int


@dataclass(frozen=True)
class CatchUp:
    positions: int | None  # as far as this many positions past the tracked one (None: all)
    new_process: bool


Step = (
    NewDeal
    | AddItem
    | ChangeItem
    | RemoveItem
    | Sell
    | Unlock
    | Resell
    | Edit
    | Lose
    | Reopen
    | Delete
    | Cancel
    | Fulfil
    | SellRenewal
    | Advance
    | Tick
    | CatchUp
)

index = st.integers(0, 7)
items = st.builds(
    Item,
    kind=st.integers(0, len(ITEM_KINDS) - 1),
    quantity=st.integers(1, 5),
    price=st.sampled_from([Decimal("100.00"), Decimal("99.99"), Decimal("1234.5"), Decimal(7)]),
    discount=st.sampled_from([Decimal(0), Decimal(0), Decimal("12.5"), Decimal("33.3333")]),
    start_in_days=st.one_of(st.none(), st.none(), st.integers(-400, 60)),
)
item_lists = st.lists(items, min_size=1, max_size=3).map(tuple)
advances = st.one_of(
    st.integers(1, 600),  # minutes
    st.integers(1, 40).map(lambda days: days * 1440),
    st.integers(25, 200).map(lambda days: days * 1440),
)
days_ago = st.one_of(st.just(0), st.integers(1, 500))  # effective that many days ago (0: now)
item_changes: st.SearchStrategy[AddItem | ChangeItem | RemoveItem] = weighted(
    (1, st.builds(AddItem, index, items)),
    (
        3,
        st.builds(
            ChangeItem,
            index,
            index,
            st.sampled_from(["quantity", "price", "discount", "start"]),
            st.integers(1, 9),
        ),
    ),
    (1, st.builds(RemoveItem, index, index)),
)
steps: st.SearchStrategy[Step] = weighted(
    (2, st.builds(NewDeal, item_lists)),
    (3, item_changes),
    (5, st.builds(Sell, index, days_ago)),
    (3, st.builds(Unlock, index)),
    (4, st.builds(Resell, index, st.lists(item_changes, max_size=3).map(tuple), days_ago)),
    (2, st.builds(Edit, index, st.just("owner"), st.sampled_from(OWNERS))),
    (1, st.builds(Lose, index, st.booleans())),
    (1, st.builds(Reopen, index)),
    (1, st.builds(Delete, index)),
    (2, st.builds(Cancel, index, st.booleans())),
    (1, st.builds(Fulfil, index)),
    (2, st.builds(SellRenewal, index, item_lists)),
    (5, st.builds(Advance, advances)),
    (4, st.builds(Tick, st.one_of(st.just(0), st.integers(1, 72)))),
    (4, st.builds(CatchUp, st.one_of(st.none(), st.integers(1, 12)), st.booleans())),
)
# A few deals first, then anything.
runs = st.tuples(
    st.lists(st.builds(NewDeal, item_lists), min_size=1, max_size=4),
    st.lists(steps, min_size=10, max_size=50),
).map(lambda parts: [*parts[0], *parts[1]])


# --- the run ------------------------------------------------------------------------------


@dataclass
class Deal:
    id: UUID
    quote_id: UUID | None = None


@dataclass
class World(Sales):
    deals: list[Deal] = field(default_factory=list)
    processes: list[ContractsProcess] = field(default_factory=list)
    adopted: set[UUID] = field(default_factory=set)  # renewal opportunities given a quote

    @property
    def process(self) -> ContractsProcess:
        return self.processes[-1]

    def sync(self) -> None:
        """Bring the process up to now, as the contracts a user acts on stand."""
        self.process.catch_up()
        self.process.tick(self.clock.now())

    def pick(self, n: int) -> Deal | None:
        return self.deals[n % len(self.deals)] if self.deals else None

    def quote(self, deal: Deal) -> Quote | None:
        if deal.quote_id is None:
            return None
        found = self.services.store.load(deal.quote_id)
        return found if isinstance(found, Quote) else None

    def quote_for(self, deal: Deal, quoted: tuple[Item, ...]) -> None:
        quote_id = uuid4()
        if not self.run(CreateQuote(quote_id=quote_id, opportunity_id=deal.id, name="offer")):
            return
        deal.quote_id = quote_id
        for item in quoted:
            self.add_item(quote_id, item)
        self.run(ActivateQuote(quote_id=quote_id))

    def step(self, step: Step) -> None:
        if isinstance(step, NewDeal):
            self.new_deal(step)
        elif isinstance(step, AddItem | ChangeItem | RemoveItem):
            self.change_quote(step)
        elif isinstance(step, Sell):
            deal = self.pick(step.deal)
            if deal is not None:
                self.sell(deal.id, deal.quote_id, step.days_ago)
        elif isinstance(step, Resell):
            self.resell(step)
        elif isinstance(step, Unlock | Reopen | Edit | Lose | Delete):
            self.change_deal(step)
        elif isinstance(step, Cancel):
            self.cancel(step)
        elif isinstance(step, Fulfil):
            self.fulfil(step)
        elif isinstance(step, SellRenewal):
            self.sell_renewal(step)
        elif isinstance(step, Advance):
            self.clock.advance(timedelta(minutes=step.minutes))
        elif isinstance(step, Tick):
            self.tick(self.clock.now() - timedelta(hours=step.hours_before_now))
        else:
            self.catch_up(step)

    def new_deal(self, step: NewDeal) -> None:
        deal = Deal(uuid4())
        created = self.run(
            CreateOpportunity(
                opportunity_id=deal.id,
                title=f"deal {len(self.deals)}",
                owner="alice",
                account_name="ACME",
                expected_close=date(2027, 6, 30),
                amount=Money(Decimal(1000), "EUR"),
            )
        )
        assert created
        self.model.owners[deal.id] = "alice"
        self.deals.append(deal)
        self.quote_for(deal, step.items)

    def change_quote(self, step: AddItem | ChangeItem | RemoveItem) -> None:
        deal = self.pick(step.deal)
        quote = self.quote(deal) if deal is not None else None
        if quote is None:
            return
        if isinstance(step, AddItem):
            self.add_item(quote.id, step.item)
            return
        if not quote.items:
            return
        item = quote.items[step.item % len(quote.items)]
        if isinstance(step, RemoveItem):
            self.run(RemoveQuoteItem(quote_id=quote.id, item_id=item.id))
            return
        day = (self.clock.now() - timedelta(days=step.value * 40)).date()
        changes: dict[str, dict[str, Any]] = {
            "quantity": {"quantity": Decimal(step.value)},
            "price": {"unit_price": Decimal(step.value * 150)},
            "discount": {"discount_pct": Decimal(step.value * 5)},
            "start": {"start": day},
        }
        change = changes[step.change]
        self.run(ChangeQuoteItem(quote_id=quote.id, item_id=item.id, **change))

    def resell(self, step: Resell) -> None:
        deal = self.pick(step.deal)
        if deal is None or not self.run(UnlockOpportunity(opportunity_id=deal.id)):
            return
        for change in step.changes:
            self.change_quote(replace(change, deal=step.deal))
        self.sell(deal.id, deal.quote_id, step.days_ago)

    def change_deal(self, step: Unlock | Reopen | Edit | Lose | Delete) -> None:
        deal = self.pick(step.deal)
        if deal is None:
            return
        if isinstance(step, Edit):
            edited = self.run(EditOpportunity(opportunity_id=deal.id, **{step.key: step.value}))
            if edited and step.key == "owner":
                self.model.owners[deal.id] = step.value
        elif self.run(status_change(step, deal.id)) and isinstance(step, Lose | Delete):
            self.model.closed(deal.id, self.clock.now())

    def cancel(self, step: Cancel) -> None:
        self.sync()
        now = self.clock.now()
        self.model.pass_time(now)
        wanted = RUNNING if step.running else {"expired", "renewed", "fulfilled", "cancelled"}
        choices = sorted(
            (c for c in self.model.contracts.values() if c.status in wanted), key=lambda c: c.id
        )
        if not choices:
            return
        chosen = choices[step.contract % len(choices)]
        done = self.run(CancelContract(contract_id=chosen.id, reason="customer left"))
        # Then the store accepts exactly what the model says can be cancelled
        assert done == step.running, (chosen, done)
        if done:
            chosen.status = "cancelled"

    def fulfil(self, step: Fulfil) -> None:
        self.sync()
        self.model.pass_time(self.clock.now())
        choices = sorted(
            (
                c
                for c in self.model.contracts.values()
                if c.kind == "one_off" and c.status == "active"
            ),
            key=lambda c: c.id,
        )
        if not choices:
            return
        chosen = choices[step.contract % len(choices)]
        assert self.run(FulfilContract(contract_id=chosen.id)), chosen
        chosen.status = "fulfilled"

    def sell_renewal(self, step: SellRenewal) -> None:
        self.sync()
        now = self.clock.now()
        self.model.pass_time(now)
        choices = sorted(
            (
                c
                for c in self.model.contracts.values()
                if c.fell_due and renewal_opportunity_id_for(c.id) not in self.adopted
            ),
            key=lambda c: c.id,
        )
        if not choices:
            return
        renewed = choices[step.contract % len(choices)]
        deal = Deal(renewal_opportunity_id_for(renewed.id))
        # Then the renewal opportunity is there, linked to its contract
        found = self.services.store.load(deal.id)
        assert isinstance(found, Opportunity) and found.renews_contract_id == renewed.id
        self.adopted.add(deal.id)
        self.deals.append(deal)
        self.model.renews[deal.id] = renewed.id
        self.model.owners[deal.id] = renewed.owner
        self.quote_for(deal, step.items)
        self.sell(deal.id, deal.quote_id, 0)

    def tick(self, until: datetime) -> None:
        log = self.services.store
        self.process.tick(until)
        # Then ticking again to the same instant fires nothing and writes nothing
        position = log.max_position()
        assert self.process.tick(until) == 0
        assert log.max_position() == position

    def catch_up(self, step: CatchUp) -> None:
        if step.new_process:
            self.processes.append(self.services.contracts_process())
        up_to = None
        if step.positions is not None:
            up_to = self.services.store.tracked_position() + step.positions
        self.process.catch_up(up_to=up_to)


def assert_replays_write_nothing(world: World) -> None:
    services = world.services
    store, log = services.store, services.event_log
    last = store.max_position()
    now = world.clock.now()
    # A new process catching up, and ticking to the same instant again: nothing
    fresh = services.contracts_process()
    assert fresh.catch_up() == 0
    assert fresh.tick(now) == 0
    # The process manager's commands run again with their positions (a replay of the
    # log that did not look at its tracked position): refused by the tracking record, or
    # finding nothing to do
    for logged in events_between(log, 0, last, TOPICS):
        command = react(log.decode(logged), logged.id, notice_days=NOTICE_DAYS)
        assert command is not None
        with suppress(DomainError):
            services.bus.execute(command)
    assert store.max_position() == last
    assert store.tracked_position() == last


@contextmanager
def world() -> Iterator[World]:
    with tempfile.TemporaryDirectory() as tmp:
        clock = ManualClock(T0)
        settings_ = Settings(home=Path(tmp) / "home", renewal_notice_days=NOTICE_DAYS)
        services = bootstrap(settings_, clock=clock)
        try:
            create_catalogue(services.bus)
            yield World(services, clock, processes=[services.contracts_process()])
        finally:
            services.close()


# Interleavings found to matter, always tried. A month of support sold now: it falls due
# for renewal tomorrow at midnight and expires in a month.
SUPPORT_NOW = NewDeal((Item(1, 1, Decimal(100), Decimal(0), None),))
LICENCE_NOW = NewDeal((Item(0, 1, Decimal(100), Decimal(0), None),))
DAYS_40 = Advance(40 * 1440)
ALL = CatchUp(None, new_process=False)
RENEW_0 = SellRenewal(0, SUPPORT_NOW.items)  # the renewal becomes deal 1
LOSE_1 = [Unlock(1), Advance(1440), Lose(1)]
LOSE_AND_RESELL_1 = [*LOSE_1, Reopen(1), Sell(1, 0)]
INTERLEAVINGS = (
    # re-sold after the contract expired, the process down meanwhile (or up and ticking)
    [LICENCE_NOW, Sell(0, 400), ALL, DAYS_40, Resell(0, (), 0)],
    [LICENCE_NOW, Sell(0, 400), ALL, Tick(0), DAYS_40, Resell(0, (), 0)],
    # re-sold before it expired; ticked past the expiry before the re-sale was processed
    [SUPPORT_NOW, Sell(0, 0), ALL, Resell(0, (), 0), DAYS_40, Tick(0)],
    # sold, unlocked and deleted after it fell due, all before the process reacted
    [SUPPORT_NOW, Sell(0, 0), Unlock(0), DAYS_40, Delete(0)],
    # sold, unlocked and given to another owner before the process reacted
    [LICENCE_NOW, Sell(0, 0), Unlock(0), Edit(0, "owner", "bob")],
    # a renewal sold, then unlocked and lost before the old end (due again), sold again
    [SUPPORT_NOW, Sell(0, 0), ALL, Advance(2 * 1440), RENEW_0, Unlock(1), Lose(1)],
    [SUPPORT_NOW, Sell(0, 0), ALL, Advance(2 * 1440), RENEW_0, *LOSE_AND_RESELL_1],
    # … lost after the old end (expired), the process down meanwhile; re-sold in between
    [SUPPORT_NOW, Sell(0, 0), ALL, Advance(2 * 1440), RENEW_0, Unlock(1), DAYS_40, Lose(1)],
    [SUPPORT_NOW, Sell(0, 0), ALL, Advance(2 * 1440), RENEW_0, Resell(1, (), 0), *LOSE_1],
    # re-sold on a later day with one item changed: the other contract does not move
    [
        NewDeal(SUPPORT_NOW.items + LICENCE_NOW.items),
        Sell(0, 0),
        Advance(3 * 1440),
        Resell(0, (ChangeItem(0, 1, "quantity", 2),), 0),
    ],
)


def with_interleavings(test: Any) -> Any:
    for run in INTERLEAVINGS:
        test = example(run=run)(test)
    return test


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@with_interleavings
@given(run=runs)
def test_contracts_equal_those_the_sales_cancellations_and_clock_call_for(
    run: list[Step],
) -> None:
    with world() as w:
        # Given random commands, with the process manager caught up and ticked in between
        for step in run:
            w.step(step)
        # When it catches up and ticks to the final instant at last
        w.process.catch_up()
        w.process.tick(w.clock.now())
        w.process.catch_up()
        w.model.pass_time(w.clock.now())
        # Then the contracts are those the model computed
        now = w.clock.now()
        assert_contracts_as_modelled(w.services, w.model, now=now, renewals_sold=w.adopted)
        # and no sale was refused
        assert sum(p.refused for p in w.processes) == 0
        # and replaying the log, or ticking again, writes nothing
        assert_replays_write_nothing(w)
