"""Builders for events and states used by Given/When/Then tests."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

from commands.opportunities import CreateOpportunity
from commands.reference_data import CreateProduct
from domain.aggregate import fold
from domain.events import DomainEvent
from domain.exchange_rates import ExchangeRates, ExchangeRateSet, ExchangeRatesStarted
from domain.ids import EXCHANGE_RATES_ID, pipeline_id_for
from domain.money import Money
from domain.opportunity import (
    ActivityKind,
    Opportunity,
    OpportunityCreated,
    OpportunitySold,
    SalesActivity,
)
from domain.pipeline import DEFAULT_STAGES, Pipeline, PipelineCreated
from domain.price_book import PriceBook, PriceBookCreated, PriceBookDeactivated, PriceSet
from domain.product import Product, ProductCreated
from domain.quote import Quote, QuoteCreated, QuoteItem

SALES: Pipeline = fold(
    None,
    [PipelineCreated(originator_id=pipeline_id_for("sales"), name="sales", stages=DEFAULT_STAGES)],
)
ACCOUNT = UUID("00000000-0000-4000-8000-00000000acc1")
PARTNER = UUID("00000000-0000-4000-8000-0000000000b1")
ACTIVITY = UUID("00000000-0000-4000-8000-0000000000d1")


def eur(amount: str | int) -> Money:
    return Money(Decimal(amount), "EUR")


def opportunity_created(**overrides: Any) -> OpportunityCreated:
    fields: dict[str, Any] = {
        "originator_id": UUID("00000000-0000-4000-8000-000000000001"),
        "title": "ACME rollout",
        "account_id": ACCOUNT,
        "owner": "alice",
        "pipeline_id": SALES.id,
        "stage": "initial_contact",
        "amount": eur("0.00"),
        "expected_close": date(2027, 3, 31),
    }
    fields.update(overrides)
    return OpportunityCreated(**fields)


def quote_created(opportunity_id: UUID | None = None, **overrides: Any) -> QuoteCreated:
    fields: dict[str, Any] = {
        "originator_id": UUID("00000000-0000-4000-8000-0000000000a1"),
        "opportunity_id": opportunity_id or UUID("00000000-0000-4000-8000-000000000001"),
        "name": "Q1",
        "currency": "EUR",
    }
    fields.update(overrides)
    return QuoteCreated(**fields)


def item(
    unit_price: str = "25.00",
    quantity: str = "1",
    discount: str = "0",
    *,
    name: str = "CRM licence",
    kind: str = "time_based",
    term_months: int | None = 12,
    source: str = "manual",
    product_id: UUID | None = None,
    item_id: UUID | None = None,
) -> QuoteItem:
    return QuoteItem(
        id=item_id or uuid4(),
        name=name,
        quantity=Decimal(quantity),
        unit="user",
        unit_price=Decimal(unit_price),
        discount_pct=Decimal(discount),
        kind=kind,  # type: ignore[arg-type]
        term_months=term_months if kind == "time_based" else None,
        category="software",
        source=source,  # type: ignore[arg-type]
        product_id=product_id,
    )


def product(code: str = "LIC", *, kind: str = "time_based", term: int | None = 12) -> Product:
    state: Product = fold(
        None,
        [
            ProductCreated(
                originator_id=uuid4(),
                name=f"Product {code}",
                code=code,
                category="software",
                kind=kind,  # type: ignore[arg-type]
                term_months=term if kind == "time_based" else None,
            )
        ],
    )
    return state


def price_book(*prices: tuple[UUID, str, str, str]) -> PriceBook:
    """A price book with (product_id, unit, currency, price) entries."""
    book_id = uuid4()
    events: list[DomainEvent] = [PriceBookCreated(originator_id=book_id, name="Standard")]
    events += [
        PriceSet(originator_id=book_id, product_id=p, unit=u, currency=c, price=Decimal(v))
        for p, u, c, v in prices
    ]
    state: PriceBook = fold(None, events)
    return state


# --- states and events for the unit tests ------------------------------------------

OPPORTUNITY_ID = UUID("00000000-0000-4000-8000-000000000001")
QUOTE_ID = UUID("00000000-0000-4000-8000-0000000000a1")
DOCUMENT = UUID("00000000-0000-4000-8000-0000000002a1")
NOW = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)


def money(amount: str | int, currency: str) -> Money:
    """Money exactly as written (not rounded), e.g. ``money("1001", "JPY")``."""
    return Money(Decimal(amount), currency)


def state_of(*events: DomainEvent) -> Any:
    """The aggregate state the events fold into."""
    return fold(None, events)


def opportunity_state(*events: DomainEvent, **overrides: Any) -> Opportunity:
    """``opportunity_created(**overrides)`` followed by ``events``."""
    state: Opportunity = fold(None, [opportunity_created(**overrides), *events])
    return state


def quote_state(*events: DomainEvent, **overrides: Any) -> Quote:
    """``quote_created(**overrides)`` followed by ``events``."""
    state: Quote = fold(None, [quote_created(**overrides), *events])
    return state


def opportunity_sold(**overrides: Any) -> OpportunitySold:
    fields: dict[str, Any] = {
        "sold_at": NOW,
        "quote_id": QUOTE_ID,
        "stage": "won",
        "previous_stage": "negotiation",
        "amount": eur("25.00"),
        "items": (),
    }
    fields.update(overrides)
    return OpportunitySold(**fields)


def sales_activity(
    subject: str = "Discovery call",
    *,
    kind: ActivityKind = "call",
    activity_id: UUID | None = None,
    occurred_at: datetime = NOW,
    notes: str | None = None,
) -> SalesActivity:
    return SalesActivity(
        id=activity_id or uuid4(),
        kind=kind,
        subject=subject,
        occurred_at=occurred_at,
        notes=notes,
    )


def price_book_of(
    *prices: tuple[UUID, str, str, str],
    name: str = "Standard",
    brand: str | None = None,
    product_version: str | None = None,
    active: bool = True,
) -> PriceBook:
    """Like ``price_book`` with a brand, a product version, and possibly inactive."""
    book_id = uuid4()
    events: list[DomainEvent] = [
        PriceBookCreated(
            originator_id=book_id, name=name, brand=brand, product_version=product_version
        )
    ]
    events += [
        PriceSet(originator_id=book_id, product_id=p, unit=u, currency=c, price=Decimal(v))
        for p, u, c, v in prices
    ]
    if not active:
        events.append(PriceBookDeactivated(originator_id=book_id))
    state: PriceBook = fold(None, events)
    return state


def exchange_rates(
    *rates: tuple[str, str, datetime], reporting_currency: str = "EUR"
) -> ExchangeRates:
    """Rates as (currency, reporting-currency units per unit, effective from), in record order."""
    events: list[DomainEvent] = [
        ExchangeRatesStarted(originator_id=EXCHANGE_RATES_ID, reporting_currency=reporting_currency)
    ]
    events += [
        ExchangeRateSet(
            originator_id=EXCHANGE_RATES_ID,
            currency=currency,
            rate=Decimal(rate),
            effective_from=effective_from,
        )
        for currency, rate, effective_from in rates
    ]
    state: ExchangeRates = fold(None, events)
    return state


# --- commands ----------------------------------------------------------------------

# The 12-month CRM licence (code LIC) that the command-level tests sell.
CREATE_LICENCE = CreateProduct(
    name="CRM licence", code="LIC", category="software", kind="time_based", term_months=12
)


def create_opportunity(
    opportunity_id: UUID | None = None,
    *,
    account: str = "ACME GmbH",
    title: str = "ACME rollout",
    owner: str = "alice",
    expected_close: date = date(2027, 3, 31),
    **fields: Any,
) -> CreateOpportunity:
    """An opportunity for an account named ``account`` (made with it when new); a new id
    unless one is given."""
    return CreateOpportunity(
        opportunity_id=opportunity_id or uuid4(),
        title=title,
        owner=owner,
        expected_close=expected_close,
        account_name=account,
        **fields,
    )
