"""The contracts a history of sales calls for, worked out on their own, and the check that a
store holds exactly them; shared by the contracts property test and the contracts crash test.

``Model`` does not call ``domain.contract``'s decisions (it uses only its id scheme): from
each sale's items as the quote held them, the sale's effective date, the losses and
deletions, the cancellations and fulfilments made, and the clock, taking every event at the
moment it was recorded and every timer at its due instant, it keeps which contracts exist per
opportunity and item key (and generation), their kind, owner, value, start, end, term,
status and the contract they renew. ``assert_contracts_as_modelled`` compares a store with
it. ``Sales`` writes through the command bus and tells the model each sale.

The catalogue (``create_catalogue``): a 12-month licence, 1-month support, a one-off
service, and the Suite bundle of the three, weighted 3 : 2 : 2.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any
from uuid import UUID, uuid4

from adapters.bootstrap import Services
from adapters.clock import ManualClock
from commands.bus import CommandBus
from commands.opportunities import SellOpportunity
from commands.quotes import AddQuoteItem
from commands.reference_data import CreateBundle, CreatePriceBook, CreateProduct
from domain.contract import (
    Contract,
    ContractCreated,
    ContractExpired,
    ContractRenewalDue,
    ContractRenewalWithdrawn,
    contract_id_for,
    renewal_opportunity_id_for,
)
from domain.errors import DomainError
from domain.events import DomainEvent, topic_of
from domain.ids import bundle_id_for, product_id_for
from domain.money import Money
from domain.opportunity import OpportunityCreated
from domain.quote import Quote, QuoteItem
from processes.contracts import TOPICS
from readmodels.log import events_between
from tests.identity import TEAM, add_users

NOTICE_DAYS = 30
FAR = datetime(2200, 1, 1, tzinfo=UTC)
LIVE = {"active", "renewal_due", "fulfilled"}
RUNNING = {"active", "renewal_due"}
RENEWABLE = {"active", "renewal_due", "expired"}

# The catalogue: a bundle of a 12-month licence, 1-month support and a one-off service.
LICENCE = product_id_for("LIC")
SUPPORT = product_id_for("SUP")
SERVICE = product_id_for("IMP")
SUITE = bundle_id_for("SUITE")
PRICE_BOOK = UUID("5e0f8d4a-7f7c-4d3e-9a51-1c2b3d4e5f60")
WEIGHTS = ((LICENCE, Decimal(3)), (SUPPORT, Decimal(2)), (SERVICE, Decimal(2)))


@dataclass(frozen=True)
class Item:
    """An item to quote: ``kind`` picks one of ``ITEM_KINDS``."""

    kind: int
    quantity: int
    price: Decimal
    discount: Decimal
    start_in_days: int | None  # its own start, days from now (None: the sale's date)


ITEM_KINDS: tuple[dict[str, Any], ...] = (
    {"name": "licence", "kind": "time_based", "term_months": 12, "category": "software"},
    {"name": "support", "kind": "time_based", "term_months": 1, "category": "support"},
    {"name": "service", "kind": "one_off", "category": "implementation"},
    {"name": "suite", "product_id": SUITE},
    {"name": "warranty", "kind": "time_based", "term_months": 13, "category": "support"},
)


# --- the catalogue -------------------------------------------------------------------------


def create_catalogue(bus: CommandBus) -> None:
    """The licence, the support, the service, the price book and the Suite bundle."""
    for code, name, category, kind, term in (
        ("LIC", "CRM licence", "software", "time_based", 12),
        ("SUP", "Support", "support", "time_based", 1),
        ("IMP", "Implementation", "implementation", "one_off", None),
    ):
        bus.execute(
            CreateProduct(
                name=name,
                code=code,
                category=category,  # type: ignore[arg-type]
                kind=kind,  # type: ignore[arg-type]
                term_months=term,
            )
        )
    bus.execute(CreatePriceBook(price_book_id=PRICE_BOOK, name="Standard"))
    bus.execute(
        CreateBundle(name="Suite", code="SUITE", price_book_id=PRICE_BOOK, components=WEIGHTS)
    )


# --- the test's own account of what the contracts must be --------------------------------


def add_months(start: date, months: int) -> date:
    year, month = divmod(start.month - 1 + months, 12)
    year += start.year
    month += 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def at_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def cents(amount: Fraction) -> int:
    """Round half up to whole cents (amounts here are never negative)."""
    scaled = amount * 100
    whole = scaled.numerator // scaled.denominator
    return whole + 1 if scaled - whole >= Fraction(1, 2) else whole


def line_cents(item: QuoteItem) -> int:
    factor = 1 - Fraction(item.discount_pct) / 100
    return cents(Fraction(item.quantity) * Fraction(item.unit_price) * factor)


def split(total: int, weights: list[Decimal]) -> list[int]:
    """Largest remainder: shares rounded down, the cents left to the largest losses."""
    whole = sum(Fraction(w) for w in weights)
    exact = [Fraction(total) * Fraction(w) / whole for w in weights]
    shares = [e.numerator // e.denominator for e in exact]
    order = sorted(range(len(weights)), key=lambda i: (shares[i] - exact[i], i))
    for i in order[: total - sum(shares)]:
        shares[i] += 1
    return shares


@dataclass
class Expected:
    """One contract as the sales, the clock and the cancellations make it."""

    id: UUID
    opportunity_id: UUID
    key: str
    generation: int
    kind: str
    owner: str
    value: int  # cents
    start: date
    end: date | None
    term_months: int | None
    renews: UUID | None
    status: str = "active"
    fell_due: bool = False
    expired: bool = False  # by its timer
    renewed_by: UUID | None = None
    withdrawals: int = 0  # renewals withdrawn

    def timers(self) -> list[tuple[str, datetime]]:
        if self.end is None or self.status not in RUNNING:
            return []
        due = [("expiry", at_midnight(self.end))]
        if self.status == "active":
            due.append(("renewal_due", at_midnight(self.end - timedelta(days=NOTICE_DAYS))))
        return due


@dataclass
class Model:
    contracts: dict[UUID, Expected] = field(default_factory=dict)
    renews: dict[UUID, UUID] = field(default_factory=dict)  # opportunity → contract it renews
    owners: dict[UUID, str] = field(default_factory=dict)  # opportunity → its owner now

    def latest(self, opportunity_id: UUID) -> dict[str, Expected]:
        found: dict[str, Expected] = {}
        for c in self.contracts.values():
            newer = c.key not in found or found[c.key].generation < c.generation
            if c.opportunity_id == opportunity_id and newer:
                found[c.key] = c
        return found

    def pass_time(self, now: datetime) -> None:
        """Every timer due by ``now`` fires, earliest first."""
        while True:
            due = sorted(
                (at, c.id.hex, kind)
                for c in self.contracts.values()
                for kind, at in c.timers()
                if at <= now
            )
            if not due:
                return
            _, contract_hex, kind = due[0]
            contract = self.contracts[UUID(contract_hex)]
            if kind == "renewal_due":
                contract.status, contract.fell_due = "renewal_due", True
            else:
                contract.status, contract.expired = "expired", True

    def sale(
        self, opportunity_id: UUID, items: tuple[QuoteItem, ...], sold_on: date, now: datetime
    ) -> None:
        self.pass_time(now)
        latest = self.latest(opportunity_id)
        renews = self.renews.get(opportunity_id)
        renewed = self.contracts.get(renews) if renews is not None else None
        sold_keys = set()
        for item in items:
            total = line_cents(item)
            if item.components:
                shares = split(total, [c.weight for c in item.components])
                parts = [
                    (
                        f"{item.id}/{c.product_id}",
                        c.kind,
                        c.term_months or item.term_months,
                        share,
                    )
                    for c, share in zip(item.components, shares, strict=True)
                ]
            else:
                parts = [(str(item.id), item.kind, item.term_months, total)]
            for key, kind, term, value in parts:
                sold_keys.add(key)
                timed = kind == "time_based" and bool(term)
                found = latest.get(key)
                standing = found is not None and found.status in LIVE
                start = (
                    item.start
                    or (found.start if standing and found is not None else None)
                    or (renewed.end if renewed is not None else None)
                    or sold_on
                )
                end = add_months(start, term) if timed and term else None
                if found is not None and standing:
                    if found.status in RUNNING:  # amended; a fulfilled one stays as delivered
                        found.value, found.start, found.end = value, start, end
                        found.term_months = term if timed else None
                    continue
                generation = 0 if found is None else found.generation + 1
                contract_id = contract_id_for(opportunity_id, key, generation)
                self.contracts[contract_id] = Expected(
                    id=contract_id,
                    opportunity_id=opportunity_id,
                    key=key,
                    generation=generation,
                    owner=self.owners[opportunity_id],
                    kind="time_based" if timed else "one_off",
                    value=value,
                    start=start,
                    end=end,
                    term_months=term if timed else None,
                    renews=renewed.id if renewed is not None else None,
                )
        for key, found in latest.items():
            if key not in sold_keys and found.status in RUNNING:
                found.status = "cancelled"
        if renewed is not None and renewed.status in RENEWABLE:
            renewed.status, renewed.renewed_by = "renewed", opportunity_id

    def closed(self, opportunity_id: UUID, now: datetime) -> None:
        self.pass_time(now)
        for found in self.latest(opportunity_id).values():
            if found.status in RUNNING:
                found.status = "cancelled"
        # A renewal it made is withdrawn: due again, or expired if its end has passed.
        renews = self.renews.get(opportunity_id)
        renewed = self.contracts.get(renews) if renews is not None else None
        if renewed is not None and renewed.renewed_by == opportunity_id:
            ended = renewed.end is not None and now >= at_midnight(renewed.end)
            renewed.status = "expired" if ended else "renewal_due"
            renewed.renewed_by = None
            renewed.withdrawals += 1


# --- sales written through the command bus ---------------------------------------------------


@dataclass
class Sales:
    """Writes through the command bus of ``services`` and tells ``model`` each sale."""

    services: Services
    clock: ManualClock
    model: Model = field(default_factory=Model)

    def __post_init__(self) -> None:
        add_users(self.services.bus, *TEAM)  # the owners of the deals sold

    def run(self, command: Any) -> bool:
        try:
            self.services.bus.execute(command)
        except DomainError:  # refused: wrote nothing, which is fine for a history
            return False
        return True

    def add_item(self, quote_id: UUID, item: Item) -> bool:
        spec = ITEM_KINDS[item.kind]
        start = None
        if item.start_in_days is not None:
            start = (self.clock.now() + timedelta(days=item.start_in_days)).date()
        return self.run(
            AddQuoteItem(
                quote_id=quote_id,
                item_id=uuid4(),
                quantity=Decimal(item.quantity),
                unit_price=item.price,
                discount_pct=item.discount,
                start=start,
                **spec,
            )
        )

    def sell(self, deal: UUID, quote_id: UUID | None, days_ago: int) -> bool:
        """Sell ``deal``, effective ``days_ago`` (0: now), its active quote ``quote_id``."""
        effective = self.clock.now() - timedelta(days=days_ago) if days_ago else None
        if not self.run(SellOpportunity(opportunity_id=deal, effective_at=effective)):
            return False
        now = self.clock.now()
        quote = self.services.store.load(quote_id) if quote_id is not None else None
        assert isinstance(quote, Quote) and quote.locked and quote.active
        self.model.sale(deal, quote.items, (effective or now).astimezone(UTC).date(), now)
        return True


# --- what the store must hold ---------------------------------------------------------------


def counts(services: Services, event_type: type[DomainEvent]) -> dict[UUID, int]:
    log = services.event_log
    found: dict[UUID, int] = {}
    for logged in events_between(log, 0, log.last_position(), {topic_of(event_type)}):
        event = log.decode(logged)
        found[event.originator_id] = found.get(event.originator_id, 0) + 1
    return found


def contract_topic_counts(services: Services) -> dict[str, dict[UUID, int]]:
    return {
        cls.__name__: counts(services, cls)
        for cls in (ContractCreated, ContractRenewalDue, ContractExpired, ContractRenewalWithdrawn)
    }


def assert_contracts_as_modelled(
    services: Services, model: Model, *, now: datetime, renewals_sold: set[UUID]
) -> None:
    """The store holds the contracts, their events, the renewal opportunities and the
    timers ``model`` says, the process ticked to ``now``; ``renewals_sold`` are the
    renewal opportunities the history gave a quote and sold."""
    store = services.store
    expected = model.contracts

    # Every contract the model expects, as it expects it
    for c in expected.values():
        found = store.load(c.id)
        assert isinstance(found, Contract), f"missing {c}"
        actual = (
            found.opportunity_id,
            found.key,
            found.owner,
            found.contract_kind,
            found.value,
            found.start,
            found.end,
            found.term_months,
            found.status,
            found.renews_contract_id,
        )
        wanted = (
            c.opportunity_id,
            c.key,
            c.owner,
            c.kind,
            Money(Decimal(c.value).scaleb(-2), "EUR"),
            c.start,
            c.end,
            c.term_months,
            c.status,
            c.renews,
        )
        assert actual == wanted, f"{c.key} generation {c.generation}"
        # and no generation after the last the model knows of
        if c.generation == max(
            e.generation
            for e in expected.values()
            if (e.opportunity_id, e.key) == (c.opportunity_id, c.key)
        ):
            assert store.load(contract_id_for(c.opportunity_id, c.key, c.generation + 1)) is None

    # and each made once, no other contract made; due and expired exactly when the model says
    seen = contract_topic_counts(services)
    assert seen["ContractCreated"] == dict.fromkeys(expected, 1)
    assert seen["ContractRenewalDue"] == {c.id: 1 for c in expected.values() if c.fell_due}
    assert seen["ContractExpired"] == {c.id: 1 for c in expected.values() if c.expired}
    assert seen["ContractRenewalWithdrawn"] == {
        c.id: c.withdrawals for c in expected.values() if c.withdrawals
    }

    # and one renewal opportunity per contract that fell due, none other
    created = counts(services, OpportunityCreated)
    made_here = set(model.owners) - renewals_sold  # the opportunities the history created
    renewals = {opp for opp in created if opp not in made_here}
    assert renewals == {renewal_opportunity_id_for(c.id) for c in expected.values() if c.fell_due}
    assert all(created[opp] == 1 for opp in renewals)

    # and the timers are exactly those the contracts' states need, none due by now
    timers = {
        (t.contract_id, t.kind, t.due_at.astimezone(UTC)) for t in store.due_timers(FAR, 10_000)
    }
    assert timers == {(c.id, kind, at) for c in expected.values() for kind, at in c.timers()}
    assert all(at > now for _, _, at in timers)

    # and the process has processed the whole log: nothing it reacts to lies past its
    # position (the other processes, run by the same tick, may write after it)
    waiting = events_between(
        services.event_log, store.tracked_position(), store.max_position(), TOPICS
    )
    assert list(waiting) == []
