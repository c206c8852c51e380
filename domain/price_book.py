"""Price books: prices per product (or bundle), unit and currency.

A price book may carry a brand and a product version, and may be the update
of an earlier price book. A quote priced from a book can only hold the book's
items in currencies the book has prices for.
"""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar
from uuid import UUID

import msgspec

from domain import limits
from domain.aggregate import AggregateState, Event, created, evolve
from domain.errors import InvalidInput, RuleViolated
from domain.money import MAX_INPUT, check_currency

MAX_PRICE_PLACES = limits.PRICE_PLACES


class Price(msgspec.Struct, frozen=True):
    product_id: UUID
    unit: str
    currency: str
    price: Decimal


class PriceBook(AggregateState, frozen=True, kw_only=True):
    kind: ClassVar[str] = "price_book"
    name: str
    brand: str | None = None
    product_version: str | None = None
    update_of: UUID | None = None
    active: bool = True
    prices: tuple[Price, ...] = ()

    def price_of(self, product_id: UUID, unit: str, currency: str) -> Decimal | None:
        for price in reversed(self.prices):
            if (price.product_id, price.unit, price.currency) == (product_id, unit, currency):
                return price.price
        return None

    def units_of(self, product_id: UUID) -> list[str]:
        return sorted({p.unit for p in self.prices if p.product_id == product_id})

    def currencies_of(self, product_id: UUID, unit: str) -> list[str]:
        return sorted(
            {p.currency for p in self.prices if (p.product_id, p.unit) == (product_id, unit)}
        )


class PriceBookCreated(Event[PriceBook], frozen=True, kw_only=True):
    name: str
    brand: str | None = None
    product_version: str | None = None
    update_of: UUID | None = None

    def apply(self, state: PriceBook | None) -> PriceBook:
        return created(PriceBook, self)


class PriceSet(Event[PriceBook], frozen=True, kw_only=True):
    product_id: UUID
    unit: str
    currency: str
    price: Decimal

    def apply(self, state: PriceBook) -> PriceBook:
        key = (self.product_id, self.unit, self.currency)
        kept = tuple(p for p in state.prices if (p.product_id, p.unit, p.currency) != key)
        return evolve(state, prices=(*kept, Price(*key, self.price)))


class PriceBookDeactivated(Event[PriceBook], frozen=True, kw_only=True):
    def apply(self, state: PriceBook) -> PriceBook:
        return evolve(state, active=False)


PriceBookEvent = PriceBookCreated | PriceSet | PriceBookDeactivated


def check_decimal(value: Decimal, what: str, *, places: int, positive: bool = False) -> None:
    if not value.is_finite():
        raise InvalidInput(f"{what} must be a finite decimal number.")
    if value < 0 or (positive and value == 0):
        raise InvalidInput(f"{what} must be {'positive' if positive else 'zero or more'}.")
    if value >= MAX_INPUT:
        raise InvalidInput(f"{what} must be less than 1,000,000,000,000,000.")
    # 1.000 is 1: trailing zeros are not decimal places.
    exponent = value.normalize().as_tuple().exponent
    if isinstance(exponent, int) and -exponent > places:
        raise InvalidInput(f"{what} has more than {places} decimal places.")


def check_unit(unit: str) -> str:
    unit = unit.strip()
    if not unit or len(unit) > limits.UNIT:
        raise InvalidInput(
            f"a unit is a name of 1 to {limits.UNIT} characters, such as 'each' or 'user'."
        )
    return unit


def create(
    name: str,
    *,
    brand: str | None = None,
    product_version: str | None = None,
    update_of: PriceBook | None = None,
) -> list[PriceBookEvent]:
    if not name.strip():
        raise InvalidInput("a price book needs a name.")
    return [
        PriceBookCreated(
            name=name.strip(),
            brand=brand,
            product_version=product_version,
            update_of=update_of.id if update_of else None,
        )
    ]


def set_price(
    state: PriceBook, product_id: UUID, unit: str, currency: str, price: Decimal
) -> list[PriceBookEvent]:
    if not state.active:
        raise RuleViolated(f"price book {state.name!r} is inactive and cannot change.")
    check_currency(currency)
    check_decimal(price, "a price", places=MAX_PRICE_PLACES)
    return [PriceSet(product_id=product_id, unit=check_unit(unit), currency=currency, price=price)]


def deactivate(state: PriceBook) -> list[PriceBookEvent]:
    if not state.active:
        raise RuleViolated(f"price book {state.name!r} is already inactive.")
    return [PriceBookDeactivated()]
