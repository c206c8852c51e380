"""A quote's state: priced items offered on one opportunity, and how they total.

    line  = round(quantity × unit_price × (1 − discount_pct / 100))
    total = Σ lines + rounding

Rounding is to the quote currency's minor unit, ROUND_HALF_UP, once per line.
A locked quote (its opportunity was sold) cannot change. Price-book items
exist only in currencies their price book has prices for; manual items are
converted with the exchange rates and keep their discounts.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import ClassVar, Literal
from uuid import UUID

import msgspec

from domain import limits
from domain.aggregate import AggregateState
from domain.errors import NotFound
from domain.money import (
    EXACT,
    Money,
    minor_unit,
    round_half_up,
)
from domain.product import ItemKind, ProductCategory

__all__ = [
    "HUNDRED",
    "MAX_DISCOUNT_PLACES",
    "MAX_QUANTITY_PLACES",
    "ComponentSnapshot",
    "ItemSource",
    "OfferRef",
    "Quote",
    "QuoteItem",
    "SellableProduct",
]

ItemSource = Literal["price_book", "manual"]
MAX_QUANTITY_PLACES = limits.QUANTITY_PLACES
MAX_DISCOUNT_PLACES = limits.DISCOUNT_PLACES
HUNDRED = Decimal(100)


class ComponentSnapshot(msgspec.Struct, frozen=True, kw_only=True):
    """A bundle component as it was when the item was quoted."""

    product_id: UUID
    name: str
    code: str
    weight: Decimal
    kind: ItemKind
    term_months: int | None
    category: ProductCategory


class QuoteItem(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    name: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    kind: ItemKind
    source: ItemSource
    product_id: UUID | None = None
    discount_pct: Decimal = Decimal(0)
    term_months: int | None = None
    category: ProductCategory | None = None
    # Non-empty when the item is a bundle: its components and their weights.
    components: tuple[ComponentSnapshot, ...] = ()
    # The item's own contract start, when it differs from the sale date.
    start: date | None = None

    def line_total(self, currency: str) -> Money:
        factor = EXACT.subtract(Decimal(1), EXACT.divide(self.discount_pct, HUNDRED))
        exact = EXACT.multiply(EXACT.multiply(self.quantity, self.unit_price), factor)
        return Money(round_half_up(exact, minor_unit(currency)), currency)


class SellableProduct(msgspec.Struct, frozen=True, kw_only=True):
    """What a quote needs to know of a product or a bundle to quote it."""

    id: UUID
    name: str
    kind: ItemKind
    term_months: int | None
    category: ProductCategory | None
    active: bool = True
    components: tuple[ComponentSnapshot, ...] = ()


class OfferRef(msgspec.Struct, frozen=True, kw_only=True):
    document_id: UUID
    sha256: str
    generated_at: datetime


class Quote(AggregateState, frozen=True, kw_only=True):
    kind: ClassVar[str] = "quote"
    opportunity_id: UUID
    name: str
    currency: str
    price_book_id: UUID | None = None
    brand: str | None = None
    product_version: str | None = None
    valid_from: date | None = None
    valid_until: date | None = None
    items: tuple[QuoteItem, ...] = ()
    rounding: Decimal | None = None
    active: bool = False
    locked: bool = False
    offers: tuple[OfferRef, ...] = ()
    copied_from: UUID | None = None

    @property
    def total(self) -> Money:
        amount = sum(
            (item.line_total(self.currency).amount for item in self.items), start=Decimal(0)
        )
        if self.rounding is not None:
            amount += self.rounding
        return Money(round_half_up(amount, minor_unit(self.currency)), self.currency)

    def item(self, item_id: UUID) -> QuoteItem:
        for item in self.items:
            if item.id == item_id:
                return item
        raise NotFound(f"quote {self.name!r} has no item {item_id}.")
