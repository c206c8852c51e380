"""The contracts process manager killed at random moments ends with every contract made once.

docs/design.md ("The contracts process manager"): the process manager saves the contracts a sale
makes, their timers and its tracking position in one transaction, and fires a
timer by deleting its row in the transaction that records the contract's new
event; so a crash at any point and a restart lose nothing and do nothing twice.
Here it is the real ``crmledger worker --role contracts`` process, killed with
SIGKILL (no cleanup, no ``finally``) while it starts, while it works through a
backlog of sales, and while this process keeps selling; then the real
``crmledger tick --until`` process, killed while it fires renewals and expiries.
The sales: opportunities with quotes of time-based items (1, 12 and 13 months,
some with their own start), one-off items and bundles (one contract per
component), a fifth of them back-dated by up to 500 days so that their timers
are due at once (the worker fires those as it goes), a third unlocked and sold
again with items changed, removed or added, and a few unlocked and lost. The
workers tick on the real clock, the sales are recorded on the test's clock from
400 days after today on, and the tick fires what is due by a year after that.

When the last tick has run to its end, the store must hold exactly what the
contracts rules make of those sales (``tests.property.test_contracts_state.Model``,
the test's own account, with every event taken at the moment it was recorded and
every timer at its due instant, up to the tick's instant):

- one ContractCreated per contract, and exactly the contracts the sales call for:
  for each sold item or bundle component of an opportunity's last sale, its
  contract, with its value, dates, status and owner; none made twice;
- one ContractRenewalDue per contract that fell due, one ContractExpired per
  contract that expired, and one renewal opportunity per contract that fell due;
- the timers table holds exactly the timers the contracts' final states need;
- the process's tracked position is the log's last; no worker logged a refusal;
- a second tick to the same instant fires nothing.
"""

from __future__ import annotations

import random
import subprocess
import threading
import time as timing
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from uuid import UUID, uuid4

import pytest

from adapters.bootstrap import Services
from adapters.clock import ManualClock
from commands.opportunities import CreateOpportunity, LoseOpportunity, UnlockOpportunity
from commands.quotes import ActivateQuote, ChangeQuoteItem, CreateQuote, RemoveQuoteItem
from domain.contract import Contract, ContractCreated, contract_id_for
from domain.events import topic_of
from domain.money import Money
from domain.opportunity import Opportunity, OpportunitySold
from domain.quote import Quote
from readmodels.log import events_between
from tests.contracts_model import (
    ITEM_KINDS,
    NOTICE_DAYS,
    Item,
    Sales,
    assert_contracts_as_modelled,
    create_catalogue,
)
from tests.identity import TEAM
from tests.processes import (
    CRMLEDGER,
    PROCESS_TIMEOUT,
    Background,
    Crmledger,
    Kill,
    environment,
    wait_until,
)

pytestmark = pytest.mark.users(*TEAM)

# The workers tick on the real clock. The sales are recorded from START on, a good while
# after today, so that what a worker fires by the real time of day is always due before
# every sale (as the model has it), whatever the day the test runs.
START = datetime.combine(date.today() + timedelta(days=400), time(9), tzinfo=UTC)
# The tick's instant: a year and a fortnight on, the 12-month contracts sold in the first
# fortnight have expired; those sold later, and the 13-month ones, fell due and still run.
UNTIL_AT = datetime.combine(START.date() + timedelta(days=380), time(0), tzinfo=UTC)
UNTIL = UNTIL_AT.date().isoformat()
SEED_DEALS = 100
BACKLOG_DEALS = 60  # about this many deals' sales waiting when a "mid-catch-up" round starts
BACKLOG_POSITIONS = 300
STARTUP_KILLS = 2
MID_RUN_KILLS = 4
CONCURRENT_KILLS = 2
TICK_KILLS = 3
OWNERS = ("alice", "bob", "carol")


# --- a burst of sales, written through the command bus -----------------------------------------


@dataclass
class Burst(Sales):
    """Sells, re-sells and loses opportunities; tells the model each sale and loss."""

    rng: random.Random = field(default_factory=random.Random)
    quotes: dict[UUID, UUID] = field(default_factory=dict)  # opportunity → its quote
    won: list[UUID] = field(default_factory=list)  # sold, not lost since
    lock: threading.Lock = field(default_factory=threading.Lock)

    def run(self, command: object) -> bool:
        """A few minutes on, then the command (False when it is refused)."""
        self.clock.advance(timedelta(minutes=self.rng.randint(1, 30)))
        return super().run(command)

    def write(self, deals: int) -> None:
        with self.lock:  # one writer at a time: the model follows the log's order
            for _ in range(deals):
                roll = self.rng.random()
                if roll < 0.30 and self.won:
                    self.resell(self.rng.choice(self.won))
                elif roll < 0.34 and self.won:
                    self.lose(self.rng.choice(self.won))
                else:
                    self.new_deal()

    def random_item(self) -> Item:
        rng = self.rng
        return Item(
            kind=rng.randrange(len(ITEM_KINDS)),
            quantity=rng.randint(1, 9),
            price=Decimal(rng.randint(100, 99_999)) / 100,
            discount=rng.choice([Decimal(0), Decimal("12.5"), Decimal("33.3333")]),
            start_in_days=rng.randint(-200, 60) if rng.random() < 0.15 else None,
        )

    def new_deal(self) -> None:
        deal, quote = uuid4(), uuid4()
        owner = self.rng.choice(OWNERS)
        assert self.run(
            CreateOpportunity(
                opportunity_id=deal,
                title=f"deal {len(self.quotes)}",
                owner=owner,
                account_name=f"account {self.rng.randint(1, 30)}",
                expected_close=date(2027, 6, 30),
                amount=Money(Decimal(1000), "EUR"),
            )
        )
        self.model.owners[deal] = owner
        assert self.run(CreateQuote(quote_id=quote, opportunity_id=deal, name="offer"))
        self.quotes[deal] = quote
        for _ in range(self.rng.randint(1, 3)):
            self.add_item(quote, self.random_item())
        assert self.run(ActivateQuote(quote_id=quote))
        back = self.rng.randint(200, 500) if self.rng.random() < 0.2 else 0
        self.sell_deal(deal, back)

    def sell_deal(self, deal: UUID, days_ago: int) -> None:
        if self.sell(deal, self.quotes[deal], days_ago) and deal not in self.won:
            self.won.append(deal)

    def resell(self, deal: UUID) -> None:
        if not self.run(UnlockOpportunity(opportunity_id=deal)):
            return
        quote = self.services.store.load(self.quotes[deal])
        assert isinstance(quote, Quote)
        for item in self.rng.sample(quote.items, k=min(len(quote.items), 2)):
            change = self.rng.random()
            if change < 0.5:
                quantity = item.quantity + self.rng.randint(1, 3)
                self.run(ChangeQuoteItem(quote_id=quote.id, item_id=item.id, quantity=quantity))
            elif change < 0.8 and len(quote.items) > 1:
                self.run(RemoveQuoteItem(quote_id=quote.id, item_id=item.id))
        if self.rng.random() < 0.4:
            self.add_item(quote.id, self.random_item())
        self.sell_deal(deal, 0)

    def lose(self, deal: UUID) -> None:
        if not self.run(UnlockOpportunity(opportunity_id=deal)):
            return
        if self.run(LoseOpportunity(opportunity_id=deal, reason="budget cut")):
            self.model.closed(deal, self.clock.now())
            self.won.remove(deal)


# --- the processes ---------------------------------------------------------------------------


def _process(services: Services, log_path: Path, *args: str) -> Crmledger:
    env = environment(
        services.settings,
        CRMLEDGER_RENEWAL_NOTICE_DAYS=str(NOTICE_DAYS),
        CRMLEDGER_PROJECTOR_POLL_SECONDS="0.02",
        CRMLEDGER_LOG_LEVEL="warning",
    )
    return Crmledger(list(args), env, log_path)


def worker(services: Services, log_path: Path) -> Crmledger:
    return _process(services, log_path, "worker", "--role", "contracts")


def ticker(services: Services, log_path: Path) -> Crmledger:
    return _process(services, log_path, "tick", "--until", UNTIL)


def due_by_until(services: Services) -> int:
    return len(services.store.due_timers(UNTIL_AT, 1_000_000))


# --- the test ------------------------------------------------------------------------------------


def test_a_contracts_process_killed_at_random_moments_makes_every_contract_once(
    services: Services, clock: ManualClock, tmp_path: Path
) -> None:
    rng = random.Random()
    seed = rng.randrange(2**32)
    rng.seed(seed)
    store = services.store
    clock.set(START)
    burst = Burst(services, clock, rng=rng)
    log_path = tmp_path / "processes.log"
    kills: list[Kill] = []
    create_catalogue(services.bus)

    def processed_past(position: int) -> Callable[[], bool]:
        return lambda: store.tracked_position() > position

    def fewer_due_than(due: int) -> Callable[[], bool]:
        return lambda: due_by_until(services) < due

    def kill(process: Crmledger, kind: str, before: int, progress: Callable[[], int]) -> None:
        assert process.running(), f"{kind}: the process exited:\n{process.output()}"
        end = store.max_position()
        process.kill()
        kills.append(Kill(kind, before, progress(), end))

    # Given a burst of sales
    burst.write(SEED_DEALS)

    # When a worker is killed while it starts (opening the store, its first catch-up)
    for _ in range(STARTUP_KILLS):
        before = store.tracked_position()
        process = worker(services, log_path)
        timing.sleep(rng.uniform(0.05, 0.6))
        kill(process, "startup", before, store.tracked_position)

    # and while it works through a backlog of sales, right after a sale's save
    for _ in range(MID_RUN_KILLS):
        if store.max_position() - store.tracked_position() < BACKLOG_POSITIONS:
            burst.write(BACKLOG_DEALS)
        before = store.tracked_position()
        process = worker(services, log_path)
        wait_until(processed_past(before), "a sale was processed", process=process)
        timing.sleep(rng.uniform(0.0, 0.03))
        kill(process, "mid-catch-up", before, store.tracked_position)

    # and while this process keeps selling
    for _ in range(CONCURRENT_KILLS):
        with Background(lambda: burst.write(3), "selling"):
            before = store.tracked_position()
            process = worker(services, log_path)
            wait_until(processed_past(before), "a sale was processed", process=process)
            timing.sleep(rng.uniform(0.05, 0.4))
            kill(process, "concurrent", before, store.tracked_position)

    # and a last worker catches up with every sale and is stopped cleanly
    burst.write(BACKLOG_DEALS // 2)
    process = worker(services, log_path)
    last = store.max_position()
    wait_until(processed_past(last - 1), f"the worker reached {last}", process=process)
    assert process.terminate() == 0, process.output()

    # When `crmledger tick --until` is killed while it fires renewals and expiries
    for _ in range(TICK_KILLS):
        due = due_by_until(services)
        process = ticker(services, log_path)
        wait_until(fewer_due_than(due), "a timer fired", process=process)
        timing.sleep(rng.uniform(0.0, 0.05))
        assert process.running(), f"the tick finished before its kill:\n{process.output()}"
        process.kill()
        # (counted down: how many of the timers due at its start had fired)
        kills.append(Kill("mid-tick", 0, due - due_by_until(services), due))

    # and a last tick runs to its end
    process = ticker(services, log_path)
    assert process.wait() == 0, process.output()

    # Then the kills really landed mid-run, not only on idle processes
    context = f"seed {seed}, kills {kills}"
    assert sum(k.mid_run for k in kills if k.kind in {"mid-catch-up", "concurrent"}) >= 4, context
    assert sum(k.mid_run for k in kills if k.kind == "mid-tick") >= 2, context

    # and the contracts, their events, the renewal opportunities and the timers are exactly
    # what the sales call for: each contract made once, each due and expiry fired once
    burst.model.pass_time(UNTIL_AT)
    assert_contracts_as_modelled(services, burst.model, now=UNTIL_AT, renewals_sold=set())
    # (directly: each contract made once; for every item or bundle component of a sold
    # opportunity's last sale, generations 0, 1, … each made once, the last standing)
    created = Counter(e.originator_id for e in contract_created_events(services))
    assert set(created.values()) == {1}, context
    made = Counter((e.opportunity_id, e.key) for e in contract_created_events(services))
    for deal in burst.quotes:
        opportunity = store.load(deal)
        assert isinstance(opportunity, Opportunity)
        if opportunity.status != "won":
            continue
        sale = [e for e in store.history(deal) if isinstance(e, OpportunitySold)][-1]
        for key in keys_of(sale):
            generations = made[(deal, key)]
            ids = [contract_id_for(deal, key, g) for g in range(generations)]
            assert generations >= 1 and all(i in created for i in ids), (key, context)
            latest = store.load(ids[-1])
            assert isinstance(latest, Contract) and latest.status != "cancelled", context
    # (a burst big enough to matter; how many the concurrent seller adds depends on load)
    assert len(burst.model.contracts) > 250, context
    assert sum(c.expired for c in burst.model.contracts.values()) > 60, context
    assert any(c.status == "renewal_due" for c in burst.model.contracts.values()), context

    # and nothing was refused along the way; a second tick to the same instant fires nothing
    output = log_path.read_text(errors="replace")
    assert "contracts_event_refused" not in output and "Traceback" not in output, context
    again = subprocess.run(
        [str(CRMLEDGER), "tick", "--until", UNTIL],
        env=environment(services.settings, CRMLEDGER_RENEWAL_NOTICE_DAYS=str(NOTICE_DAYS)),
        capture_output=True,
        text=True,
        timeout=PROCESS_TIMEOUT,
        check=False,
    )
    assert again.returncode == 0 and "nothing was written" in again.stdout, again
    assert store.tracked_position() == store.max_position()


def keys_of(sale: OpportunitySold) -> list[str]:
    """The contract keys a sale's items call for: the item, or the item and a component."""
    return [
        f"{sold.item.id}/{component.product_id}" if component else str(sold.item.id)
        for sold in sale.items
        for component in (sold.item.components or (None,))
    ]


def contract_created_events(services: Services) -> list[ContractCreated]:
    log = services.event_log
    logged = events_between(log, 0, log.last_position(), {topic_of(ContractCreated)})
    found = [log.decode(row) for row in logged]
    assert all(isinstance(e, ContractCreated) for e in found)
    return found  # type: ignore[return-value]
