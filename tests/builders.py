"""Builders for events and states used by Given/When/Then tests."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

from domain.aggregate import fold
from domain.events import DomainEvent
from domain.ids import pipeline_id_for
from domain.money import Money
from domain.opportunity import OpportunityCreated
from domain.pipeline import DEFAULT_STAGES, Pipeline, PipelineCreated
from domain.price_book import PriceBook, PriceBookCreated, PriceSet
from domain.product import Product, ProductCreated
from domain.quote import QuoteCreated, QuoteItem

SALES: Pipeline = fold(
    None,
    [PipelineCreated(originator_id=pipeline_id_for("sales"), name="sales", stages=DEFAULT_STAGES)],
)
ACCOUNT = UUID("00000000-0000-4000-8000-00000000acc1")


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
