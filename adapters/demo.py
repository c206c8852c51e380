"""``crmledger demo``: a realistic, reproducible sales history in the embedded store.

The history is simulated over the past 120 days on a manual clock, so events
carry plausible recorded times. The data set is the same on every run (a
seeded random generator), only its dates move with today.
"""

from __future__ import annotations

import hashlib
import random
import shutil
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import TextIO
from uuid import UUID, uuid4

import msgspec

from adapters.bootstrap import Services, bootstrap
from adapters.clock import ManualClock
from adapters.demo_leads import seed_leads
from adapters.event_store.log import EventLog
from adapters.settings import Settings
from adapters.store_lock import StoreLock
from adapters.tables import render_pipeline, table
from commands import opportunities as opp
from commands import quotes as qt
from commands import reference_data as ref
from domain.contract import ContractExpired, ContractRenewalDue, renewal_opportunity_id_for
from domain.events import DomainEvent, parse_topic
from domain.lead import Lead
from domain.money import Money
from domain.opportunity import Opportunity, OpportunityCreated
from domain.product import ItemKind, ProductCategory
from readmodels.contracts.queries import ContractFilters, summary
from readmodels.deals.analytics import Analytics
from readmodels.deals.specs import spec_from_params
from readmodels.leads.queries import LeadFilters, campaign_report
from readmodels.leads.queries import summary as lead_summary
from readmodels.log import LogRow

MARKER = ".demo-store"
OWNERS = ("alice", "bob", "carol", "dave", "erin")
ACCOUNTS = (
    "Acme Logistics GmbH",
    "Borealis Energy AS",
    "Cobalt Insurance plc",
    "Delta Freight BV",
    "Evergreen Foods SA",
    "Fjord Maritime AB",
    "Granite Bank AG",
    "Helios Solar SRL",
    "Ionic Pharma Ltd",
    "Juniper Retail Oy",
    "Kestrel Aviation SpA",
    "Lumen Telecom SA",
    "Meridian Health NV",
    "Nordic Timber A/S",
    "Orion Media GmbH",
    "Polar Analytics Inc",
)
# code, name, category, kind, term, unit, EUR price
PRODUCTS: tuple[tuple[str, str, ProductCategory, ItemKind, int | None, str, str], ...] = (
    ("CRM-LIC", "CRM licence", "software", "time_based", 12, "user", "25.00"),
    ("CRM-PRO", "CRM Professional licence", "software", "time_based", 12, "user", "42.00"),
    ("ANALYTICS", "Sales analytics add-on", "software", "time_based", 12, "user", "9.50"),
    ("SUP-STD", "Standard support", "support", "time_based", 12, "contract", "4800.00"),
    ("SUP-PREM", "Premium support", "support", "time_based", 24, "contract", "12500.00"),
    ("IMPL-DAY", "Implementation day", "implementation", "one_off", None, "day", "1150.00"),
    ("TRAINING", "Training workshop", "implementation", "one_off", None, "session", "2400.00"),
)
DEAL_KINDS = ("CRM rollout", "expansion", "renewal", "analytics", "support upgrade")
USD_PER_EUR = Decimal("1.087")
RATES = {"USD": Decimal("0.92"), "GBP": Decimal("1.17"), "CHF": Decimal("1.05")}


@dataclass
class Made:
    products: int = 0
    accounts: set[str] = field(default_factory=set)
    opportunities: list[UUID] = field(default_factory=list)
    quotes: int = 0
    items: int = 0
    offers: int = 0
    commands: int = 0
    leads: list[UUID] = field(default_factory=list)


class DemoStoreInUse(Exception):
    pass


class DemoRecord(msgspec.Struct, frozen=True, kw_only=True):
    """What the demo wrote, kept beside the store (``MARKER``): a rerun compares the log
    with it to know that the store holds nothing but an earlier demo."""

    made_by: str = "crmledger demo"
    last_position: int
    sha256: str  # of the log's rows up to ``last_position``


# What time alone does to the demo's contracts once it has ended (``serve`` ticks on the
# real clock): renewals fall due, each opening its renewal opportunity, and contracts
# expire. Anything else after the demo's last event was written by someone.
_BY_TIME = frozenset({ContractRenewalDue.type_name, ContractExpired.type_name})


def _digest(rows: Iterable[LogRow]) -> str:
    digest = hashlib.sha256()
    for row in rows:
        digest.update(
            f"{row.id}|{row.originator_id}|{row.originator_version}|{row.topic}|".encode()
        )
        digest.update(hashlib.sha256(row.state).digest())
    return digest.hexdigest()


def _rows(events: EventLog, after: int, up_to: int) -> Iterator[LogRow]:
    while after < up_to:
        window = events.read(after, min(1000, up_to - after), up_to=up_to)
        if not window:
            return
        yield from window
        after = window[-1].id


def _written_by_someone(settings: Settings, lock: StoreLock) -> str | None:
    """Why the store is not only an earlier demo, decided from its events; None if it is."""
    store = settings.event_store_path
    marker = settings.home / MARKER
    try:
        record = msgspec.json.decode(marker.read_bytes(), type=DemoRecord)
    except (OSError, msgspec.DecodeError, msgspec.ValidationError):
        return (
            f"{store} holds data that the demo did not make (or a demo that was interrupted "
            "and may have been written to since)"
        )
    services = bootstrap(settings, lock=lock)
    try:
        events = services.event_log
        last = events.last_position()
        if (
            last < record.last_position
            or _digest(_rows(events, 0, record.last_position)) != record.sha256
        ):
            return f"{store} no longer holds the events the demo wrote there"
        for row in _rows(events, record.last_position, last):
            cls, _ = parse_topic(row.topic)
            if cls.type_name in _BY_TIME or (
                cls is OpportunityCreated and _opened_by_a_renewal(events.decode(row))
            ):
                continue
            return (
                f"{store} holds events written after the demo (the first: {cls.type_name} "
                f"at position {row.id})"
            )
        return None
    finally:
        services.close()


def _opened_by_a_renewal(event: DomainEvent) -> bool:
    """The renewal opportunity the contracts process opens when a contract falls due: its
    id derives from the contract it renews."""
    renews = getattr(event, "renews_contract_id", None)
    return renews is not None and event.originator_id == renewal_opportunity_id_for(renews)


def prepare_home(settings: Settings, lock: StoreLock, out: TextIO) -> None:
    """Start clean: remove a previous demo store, refuse to touch anything else."""
    home = settings.home
    store = settings.event_store_path
    if not store.exists():
        return
    reason = _written_by_someone(settings, lock)
    if reason is not None:
        raise DemoStoreInUse(
            f"{reason}; the demo replaces only a store it made. Run it elsewhere with "
            "CRMLEDGER_HOME=<another directory>, or remove the store yourself."
        )
    # The read models go too: they followed the log being replaced.
    (home / MARKER).unlink()
    for path in [*home.glob("events.sqlite*"), *home.glob("readmodels*.sqlite*")]:
        path.unlink()
    shutil.rmtree(home / "documents", ignore_errors=True)
    print(f"Removed the previous demo store at {store}; starting clean.", file=out)


def run_demo(settings: Settings, out: TextIO, *, today: datetime | None = None) -> Made:
    embedded = settings.model_copy(update={"database_url": None})
    home = embedded.home
    # Held until the demo is done: no other process may open the store meanwhile, and the
    # demo deletes nothing another process has open.
    with StoreLock(home, "exclusive", "the demo") as lock:
        prepare_home(embedded, lock, out)
        now = today or datetime.now(UTC)
        clock = ManualClock(now - timedelta(days=120))
        services = bootstrap(embedded, clock=clock, lock=lock)
        try:
            made = seed(services, clock, now, out)
            _summary(services, made, out)
            events = services.event_log
            last = events.last_position()
            record = DemoRecord(last_position=last, sha256=_digest(_rows(events, 0, last)))
            (home / MARKER).write_bytes(msgspec.json.encode(record))
        finally:
            services.close()
    return made


class _Seeder:
    def __init__(self, services: Services, made: Made) -> None:
        self.services = services
        self.made = made

    def __call__(self, command: object) -> UUID:
        self.made.commands += 1
        return self.services.bus.execute(command).id


def seed(services: Services, clock: ManualClock, end: datetime, out: TextIO) -> Made:
    """The demo's history from the clock's time to ``end``: catalogue, deals, leads."""
    made = Made()
    do = _Seeder(services, made)
    book, products, starter = _seed_catalogue(do, made, out)
    _seed_opportunities(do, made, clock, end, out, book=book, products=products, starter=starter)
    made.leads = seed_leads(do, partial(_lead_owner, services), clock, end, out)
    return made


def _lead_owner(services: Services, lead_id: UUID) -> str | None:
    lead = services.store.load(lead_id)
    assert isinstance(lead, Lead)
    return lead.owner


def _seed_catalogue(
    do: _Seeder, made: Made, out: TextIO
) -> tuple[UUID, dict[str, tuple[UUID, str]], UUID]:
    print("Seeding catalogue, price book and exchange rates…", file=out)
    for currency, rate in RATES.items():
        do(ref.SetExchangeRate(currency=currency, rate=rate))
    book = do(
        ref.CreatePriceBook(
            price_book_id=uuid4(),
            name="Standard 2027",
            brand="crmledger",
            product_version="2027.1",
        )
    )
    products: dict[str, tuple[UUID, str]] = {}
    for code, name, category, kind, term, unit, eur in PRODUCTS:
        pid = do(
            ref.CreateProduct(name=name, code=code, category=category, kind=kind, term_months=term)
        )
        products[code] = (pid, unit)
        do(
            ref.SetPrice(
                price_book_id=book, product_id=pid, unit=unit, currency="EUR", price=Decimal(eur)
            )
        )
        usd = (Decimal(eur) * USD_PER_EUR).quantize(Decimal("0.01"))
        do(ref.SetPrice(price_book_id=book, product_id=pid, unit=unit, currency="USD", price=usd))
        made.products += 1
    starter = do(
        ref.CreateBundle(
            name="Starter pack",
            code="STARTER",
            price_book_id=book,
            components=(
                (products["CRM-LIC"][0], Decimal(60)),
                (products["SUP-STD"][0], Decimal(25)),
                (products["IMPL-DAY"][0], Decimal(15)),
            ),
        )
    )
    do(
        ref.SetPrice(
            price_book_id=book,
            product_id=starter,
            unit="pack",
            currency="EUR",
            price=Decimal("18900.00"),
        )
    )
    do(
        ref.SetPrice(
            price_book_id=book,
            product_id=starter,
            unit="pack",
            currency="USD",
            price=Decimal("20500.00"),
        )
    )
    made.products += 1
    return book, products, starter


def _seed_opportunities(
    do: _Seeder,
    made: Made,
    clock: ManualClock,
    end: datetime,
    out: TextIO,
    *,
    book: UUID,
    products: dict[str, tuple[UUID, str]],
    starter: UUID,
) -> None:
    rng = random.Random(2027)
    count = 48
    print(f"Seeding {count} opportunities over the past 120 days…", file=out)
    step = (end - clock.now()) / (count * 4)
    for n in range(count):
        clock.advance(step)
        account = rng.choice(ACCOUNTS)
        made.accounts.add(account)
        owner = OWNERS[n % len(OWNERS)]
        currency = "USD" if rng.random() < 0.2 else "EUR"
        close = (clock.now() + timedelta(days=rng.randint(20, 200))).date()
        oid = do(
            opp.CreateOpportunity(
                opportunity_id=uuid4(),
                title=f"{account.split()[0]} {rng.choice(DEAL_KINDS)}",
                owner=owner,
                expected_close=close,
                account_name=account,
                amount=Money.zero(currency),
            )
        )
        made.opportunities.append(oid)
        quote = do(
            qt.CreateQuote(
                quote_id=uuid4(),
                opportunity_id=oid,
                name=f"Q-{n + 1:03d}",
                currency=currency,
                price_book_id=book,
                valid_until=close + timedelta(days=30),
            )
        )
        made.quotes += 1
        codes = rng.sample([c for c, *_ in PRODUCTS], k=rng.randint(1, 4))
        if rng.random() < 0.15:
            do(
                qt.AddQuoteItem(
                    quote_id=quote, item_id=uuid4(), product_id=starter, quantity=Decimal(1)
                )
            )
            made.items += 1
        for code in codes:
            pid, unit = products[code]
            quantity = (
                Decimal(rng.choice((1, 2, 5, 10, 25, 50, 120)))
                if unit == "user"
                else Decimal(rng.randint(1, 8))
            )
            discount = Decimal(rng.choice((0, 0, 0, 5, 10, 12.5, 15)))
            do(
                qt.AddQuoteItem(
                    quote_id=quote,
                    item_id=uuid4(),
                    product_id=pid,
                    quantity=quantity,
                    discount_pct=discount,
                )
            )
            made.items += 1
        do(qt.ActivateQuote(quote_id=quote))
        do(
            opp.LogSalesActivity(
                opportunity_id=oid,
                activity_id=uuid4(),
                kind="call",
                subject=f"Discovery call with {account.split()[0]}",
            )
        )
        do(
            opp.AddBusinessRole(
                opportunity_id=oid,
                role_id=uuid4(),
                contact=f"buyer@{account.split()[0].lower()}.example",
                role="decision_maker",
            )
        )
        # Move through the pipeline; later opportunities are further behind.
        depth = rng.choices((0, 1, 2, 3), weights=(3, 3, 3, 2))[0]
        for stage in ("qualification", "proposal", "negotiation")[:depth]:
            clock.advance(step)
            do(opp.MoveOpportunityToStage(opportunity_id=oid, stage=stage))
        if depth >= 2 and rng.random() < 0.5:
            do(qt.GenerateOffer(quote_id=quote, document_id=uuid4()))
            made.offers += 1
        if depth >= 2 and rng.random() < 0.3:
            do(opp.EditOpportunity(opportunity_id=oid, forecast_category="commit"))
        fate = rng.random()
        if depth == 3 and fate < 0.6:
            clock.advance(step)
            do(opp.SellOpportunity(opportunity_id=oid))
        elif fate < 0.12:
            do(
                opp.LoseOpportunity(
                    opportunity_id=oid, reason=rng.choice(("price", "competitor", "no budget"))
                )
            )
        elif fate < 0.16:
            do(opp.MarkOpportunityUnqualified(opportunity_id=oid, reason="no project this year"))
        if (n + 1) % 12 == 0:
            print(f"  {n + 1}/{count} opportunities", file=out)


def _summary(services: Services, made: Made, out: TextIO) -> None:
    states = [services.store.load(oid) for oid in made.opportunities]
    opps = [s for s in states if isinstance(s, Opportunity)]
    print("", file=out)
    print(
        f"Made {made.products} products and bundles, {len(made.accounts)} accounts, "
        f"{len(opps)} opportunities, {made.quotes} quotes with {made.items} items, "
        f"{made.offers} offers, {len(made.leads)} leads "
        f"({made.commands} commands, {services.store.max_position()} events).",
        file=out,
    )
    print(f"Store: {services.settings.event_store_path}", file=out)
    # The sales become contracts; timers due by today fire (renewals of early sales).
    contracts = services.contracts_process()
    contracts.catch_up()
    contracts.tick(services.clock.now())
    contracts.catch_up()
    projector = services.projector()
    projector.start()
    projector.catch_up()
    analytics = Analytics(services.queries)
    pipeline = analytics.answer(spec_from_params("pipeline", {}), as_of=None, wait_for=None)
    forecast = analytics.answer(
        spec_from_params("forecast", {"period": "quarter"}), as_of=None, wait_for=None
    )
    print("\nPipeline " + render_pipeline(pipeline), file=out)
    print("\nForecast by quarter and owner", file=out)
    print(
        table(
            forecast["rollups"],
            ("period", "owner", "commit", "best_case", "open_pipeline", "won"),
        ),
        file=out,
    )
    by_status = summary(services.views, ContractFilters(), None, "status")
    print("\nContracts by status (from the sales, by the contracts process manager)", file=out)
    print(table(by_status, ("status", "currency", "count", "value")), file=out)
    by_lead_status = lead_summary(services.views, LeadFilters(), None, "status")
    print("\nLeads by status (from the lead processor's intake)", file=out)
    print(table(by_lead_status, ("status", "count")), file=out)
    print("\nCampaigns: conversion = qualified / leads", file=out)
    print(
        table(
            campaign_report(services.views, None),
            ("name", "leads", "qualified", "disqualified", "conversion", "opportunities"),
        ),
        file=out,
    )
    sold = [o for o in opps if o.status == "won"]
    print("\nSold:", file=out)
    for o in sold:
        print(f"  {o.title:<34} {o.owner:<6} {o.amount}  (id {o.id})", file=out)
    print(
        "\nNext: `crmledger serve`, then GET /pipeline, GET /forecast, GET /contracts, "
        "GET /opportunities/<id>, GET /leads or GET /campaigns/report; "
        "`crmledger tick --until 2028-01-01 --dry-run` lists the renewals and expiries due "
        "by then (without --dry-run, tick writes them for good); "
        "`crmledger history <id>`.",
        file=out,
    )
