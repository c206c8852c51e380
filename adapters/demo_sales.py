"""The demo's sales: catalogue, price book and exchange rates, then 48 opportunities over
the past 120 days with their quotes, items, stage moves, offers, sales and losses."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import TextIO
from uuid import UUID, uuid4

from adapters.bootstrap import Services
from adapters.clock import ManualClock
from adapters.demo_contacts import seed_contacts
from adapters.demo_leads import seed_leads
from adapters.demo_org import seed_organisation
from commands import opportunities as opp
from commands import quotes as qt
from commands import reference_data as ref
from domain.lead import Lead
from domain.money import Money
from domain.product import ItemKind, ProductCategory

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
    contacts: int = 0  # made by hand (qualifying a lead makes one too)


class _Seeder:
    def __init__(self, services: Services, made: Made) -> None:
        self.services = services
        self.made = made

    def __call__(self, command: object) -> UUID:
        self.made.commands += 1
        return self.services.bus.execute(command).id


def seed(services: Services, clock: ManualClock, end: datetime, out: TextIO) -> Made:
    """The demo's history from the clock's time to ``end``: the organisation, the
    catalogue, deals, contacts at their accounts, leads."""
    made = Made()
    do = _Seeder(services, made)
    seed_organisation(do, out)
    book, products, starter = _seed_catalogue(do, made, out)
    _seed_opportunities(do, made, clock, end, out, book=book, products=products, starter=starter)
    made.contacts = seed_contacts(do, sorted(made.accounts), out)
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
