"""Quotes: priced items offered on one opportunity.

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

from domain.aggregate import AggregateState, evolve
from domain.errors import InvalidInput, Locked, NotFound, RuleViolated
from domain.events import DomainEvent
from domain.money import (
    EXACT,
    MAX_INPUT,
    Money,
    check_currency,
    convert_amount,
    minor_unit,
    round_half_up,
)
from domain.price_book import MAX_PRICE_PLACES, PriceBook, check_decimal, check_unit
from domain.product import ItemKind, ProductCategory, check_term

ItemSource = Literal["price_book", "manual"]
MAX_QUANTITY_PLACES = 6
MAX_DISCOUNT_PLACES = 4
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


# --- events -----------------------------------------------------------------


class QuoteCreated(DomainEvent, frozen=True, kw_only=True):
    opportunity_id: UUID
    name: str
    currency: str
    price_book_id: UUID | None = None
    brand: str | None = None
    product_version: str | None = None
    valid_from: date | None = None
    valid_until: date | None = None
    # A duplicate starts with the items of its original.
    items: tuple[QuoteItem, ...] = ()
    rounding: Decimal | None = None
    copied_from: UUID | None = None

    def apply(self, state: None) -> Quote:
        return Quote(
            id=self.originator_id,
            opportunity_id=self.opportunity_id,
            name=self.name,
            currency=self.currency,
            price_book_id=self.price_book_id,
            brand=self.brand,
            product_version=self.product_version,
            valid_from=self.valid_from,
            valid_until=self.valid_until,
            items=self.items,
            rounding=self.rounding,
            copied_from=self.copied_from,
        )


class QuoteDetailsChanged(DomainEvent, frozen=True, kw_only=True):
    name: str
    valid_from: date | None
    valid_until: date | None

    def apply(self, state: Quote) -> Quote:
        return evolve(
            state, name=self.name, valid_from=self.valid_from, valid_until=self.valid_until
        )


class QuoteItemAdded(DomainEvent, frozen=True, kw_only=True):
    item: QuoteItem

    def apply(self, state: Quote) -> Quote:
        return evolve(state, items=(*state.items, self.item))


class QuoteItemChanged(DomainEvent, frozen=True, kw_only=True):
    item: QuoteItem

    def apply(self, state: Quote) -> Quote:
        return evolve(
            state, items=tuple(self.item if i.id == self.item.id else i for i in state.items)
        )


class QuoteItemRemoved(DomainEvent, frozen=True, kw_only=True):
    item_id: UUID

    def apply(self, state: Quote) -> Quote:
        return evolve(state, items=tuple(i for i in state.items if i.id != self.item_id))


class QuoteRoundingSet(DomainEvent, frozen=True, kw_only=True):
    rounding: Decimal | None

    def apply(self, state: Quote) -> Quote:
        return evolve(state, rounding=self.rounding)


class QuoteCurrencyChanged(DomainEvent, frozen=True, kw_only=True):
    """The new currency with every item repriced: replay needs no rates."""

    currency: str
    items: tuple[QuoteItem, ...]
    rounding: Decimal | None

    def apply(self, state: Quote) -> Quote:
        return evolve(state, currency=self.currency, items=self.items, rounding=self.rounding)


class QuoteActivated(DomainEvent, frozen=True, kw_only=True):
    def apply(self, state: Quote) -> Quote:
        return evolve(state, active=True)


class QuoteDeactivated(DomainEvent, frozen=True, kw_only=True):
    def apply(self, state: Quote) -> Quote:
        return evolve(state, active=False)


class QuoteLocked(DomainEvent, frozen=True, kw_only=True):
    def apply(self, state: Quote) -> Quote:
        return evolve(state, locked=True)


class QuoteUnlocked(DomainEvent, frozen=True, kw_only=True):
    def apply(self, state: Quote) -> Quote:
        return evolve(state, locked=False)


class QuoteDeleted(DomainEvent, frozen=True, kw_only=True):
    def apply(self, state: Quote) -> Quote:
        return evolve(state, deleted=True, active=False)


class OfferGenerated(DomainEvent, frozen=True, kw_only=True):
    document_id: UUID
    sha256: str
    generated_at: datetime

    def apply(self, state: Quote) -> Quote:
        ref = OfferRef(
            document_id=self.document_id, sha256=self.sha256, generated_at=self.generated_at
        )
        return evolve(state, offers=(*state.offers, ref))


# --- behaviour ------------------------------------------------------------------


def ensure_changeable(quote: Quote) -> None:
    if quote.deleted:
        raise NotFound(f"quote {quote.id} was deleted.")
    if quote.locked:
        raise Locked(f"quote {quote.name!r} is locked because its opportunity was sold.")


def _check_validity(valid_from: date | None, valid_until: date | None) -> None:
    if valid_from and valid_until and valid_until < valid_from:
        raise InvalidInput("a quote cannot be valid until a date before it is valid from.")


def create(
    opportunity_id: UUID,
    name: str,
    currency: str,
    *,
    price_book: PriceBook | None = None,
    brand: str | None = None,
    product_version: str | None = None,
    valid_from: date | None = None,
    valid_until: date | None = None,
) -> list[DomainEvent]:
    if not name.strip():
        raise InvalidInput("a quote needs a name.")
    check_currency(currency)
    _check_validity(valid_from, valid_until)
    if price_book is not None and not price_book.active:
        raise RuleViolated(f"price book {price_book.name!r} is inactive.")
    return [
        QuoteCreated(
            opportunity_id=opportunity_id,
            name=name.strip(),
            currency=currency,
            price_book_id=price_book.id if price_book else None,
            # A quote priced from a book carries its brand and version unless told otherwise.
            brand=brand if brand is not None else (price_book.brand if price_book else None),
            product_version=(
                product_version
                if product_version is not None
                else (price_book.product_version if price_book else None)
            ),
            valid_from=valid_from,
            valid_until=valid_until,
        )
    ]


def change_details(
    quote: Quote, *, name: str | None, valid_from: date | None, valid_until: date | None
) -> list[DomainEvent]:
    ensure_changeable(quote)
    new_name = quote.name if name is None else name.strip()
    if not new_name:
        raise InvalidInput("a quote needs a name.")
    new_from = valid_from if valid_from is not None else quote.valid_from
    new_until = valid_until if valid_until is not None else quote.valid_until
    _check_validity(new_from, new_until)
    return [QuoteDetailsChanged(name=new_name, valid_from=new_from, valid_until=new_until)]


def check_item(item: QuoteItem) -> None:
    if not item.name.strip():
        raise InvalidInput("a quote item needs a name.")
    check_decimal(item.quantity, "a quantity", places=MAX_QUANTITY_PLACES, positive=True)
    check_decimal(item.unit_price, "a unit price", places=MAX_PRICE_PLACES)
    check_decimal(item.discount_pct, "a discount", places=MAX_DISCOUNT_PLACES)
    if item.discount_pct > HUNDRED:
        raise InvalidInput("a discount is a percentage from 0 to 100.")
    check_unit(item.unit)
    check_term(item.kind, item.term_months)


def add_item(quote: Quote, item: QuoteItem) -> list[DomainEvent]:
    ensure_changeable(quote)
    check_item(item)
    if any(existing.id == item.id for existing in quote.items):
        raise RuleViolated(f"quote {quote.name!r} already has an item {item.id}.")
    return [QuoteItemAdded(item=item)]


def change_item(
    quote: Quote,
    item_id: UUID,
    *,
    quantity: Decimal | None = None,
    discount_pct: Decimal | None = None,
    unit_price: Decimal | None = None,
    name: str | None = None,
    start: date | None = None,
) -> list[DomainEvent]:
    ensure_changeable(quote)
    item = quote.item(item_id)
    if unit_price is not None and item.source == "price_book" and unit_price != item.unit_price:
        raise RuleViolated(
            "the unit price of a price-book item comes from its price book; "
            "give a discount or add a manual item instead."
        )
    changed = msgspec.structs.replace(
        item,
        quantity=item.quantity if quantity is None else quantity,
        discount_pct=item.discount_pct if discount_pct is None else discount_pct,
        unit_price=item.unit_price if unit_price is None else unit_price,
        name=item.name if name is None else name.strip(),
        start=item.start if start is None else start,
    )
    check_item(changed)
    if changed == item:
        raise RuleViolated("the change leaves the item as it is; nothing to record.")
    return [QuoteItemChanged(item=changed)]


def remove_item(quote: Quote, item_id: UUID) -> list[DomainEvent]:
    ensure_changeable(quote)
    quote.item(item_id)
    return [QuoteItemRemoved(item_id=item_id)]


def set_rounding(quote: Quote, rounding: Decimal | None) -> list[DomainEvent]:
    ensure_changeable(quote)
    if rounding is not None:
        if not rounding.is_finite():
            raise InvalidInput("a rounding amount must be a finite decimal number.")
        if abs(rounding) >= MAX_INPUT:
            raise InvalidInput("a rounding amount must be less than 1,000,000,000,000,000.")
        places = minor_unit(quote.currency)
        if round_half_up(rounding, places) != rounding:
            raise InvalidInput(
                f"a rounding amount in {quote.currency} has at most {places} decimal places."
            )
    return [QuoteRoundingSet(rounding=rounding)]


def change_currency(
    quote: Quote,
    currency: str,
    *,
    price_book: PriceBook | None,
    rate_from: Decimal | None,
    rate_to: Decimal | None,
) -> list[DomainEvent]:
    """Reprice every item in ``currency``.

    Price-book items take the book's price in the new currency (refused when
    the book has none). Manual items and the rounding item are converted:
    ``amount × rate_from / rate_to`` rounded to the new currency's minor unit.
    Discounts, quantities and terms stay as they are.
    """
    ensure_changeable(quote)
    check_currency(currency)
    if currency == quote.currency:
        raise RuleViolated(f"the quote is already in {currency}.")
    needs_rates = quote.rounding is not None or any(i.source == "manual" for i in quote.items)
    if needs_rates and (rate_from is None or rate_to is None):
        raise RuleViolated(
            f"converting manual items from {quote.currency} to {currency} needs exchange rates "
            "for both currencies."
        )
    items: list[QuoteItem] = []
    for item in quote.items:
        if item.source == "price_book":
            assert item.product_id is not None
            price = (
                price_book.price_of(item.product_id, item.unit, currency) if price_book else None
            )
            if price is None:
                raise RuleViolated(
                    f"the price book has no {currency} price for {item.name!r} per {item.unit}; "
                    "add one to the price book or keep the quote in "
                    f"{quote.currency}."
                )
            items.append(msgspec.structs.replace(item, unit_price=price))
        else:
            assert rate_from is not None and rate_to is not None
            converted = convert_amount(
                item.unit_price, currency, rate_from=rate_from, rate_to=rate_to
            )
            check_decimal(
                converted, f"the {currency} unit price of {item.name!r}", places=MAX_PRICE_PLACES
            )
            items.append(msgspec.structs.replace(item, unit_price=converted))
    rounding = None
    if quote.rounding is not None:
        assert rate_from is not None and rate_to is not None
        rounding = convert_amount(quote.rounding, currency, rate_from=rate_from, rate_to=rate_to)
    return [QuoteCurrencyChanged(currency=currency, items=tuple(items), rounding=rounding)]


def record_offer(
    quote: Quote, document_id: UUID, sha256: str, generated_at: datetime
) -> list[DomainEvent]:
    ensure_changeable(quote)
    if not quote.items:
        raise RuleViolated(f"quote {quote.name!r} has no items to offer.")
    return [OfferGenerated(document_id=document_id, sha256=sha256, generated_at=generated_at)]


def price_book_item(
    quote: Quote,
    price_book: PriceBook,
    *,
    item_id: UUID,
    sellable: SellableProduct,
    quantity: Decimal,
    unit: str | None,
    discount_pct: Decimal,
    start: date | None = None,
) -> QuoteItem:
    """An item priced from the quote's price book in the quote's currency."""
    if quote.price_book_id != price_book.id:
        raise RuleViolated(
            f"quote {quote.name!r} is not priced from price book {price_book.name!r}."
        )
    if not price_book.active:
        raise RuleViolated(f"price book {price_book.name!r} is inactive.")
    if not sellable.active:
        raise RuleViolated(f"{sellable.name!r} is inactive and cannot be quoted.")
    units = price_book.units_of(sellable.id)
    if not units:
        raise RuleViolated(f"price book {price_book.name!r} has no price for {sellable.name!r}.")
    if unit is not None:
        unit = unit.strip()
    else:
        # Prefer the units priced in the quote's currency when choosing for the caller.
        in_currency = [
            u for u in units if price_book.price_of(sellable.id, u, quote.currency) is not None
        ]
        units = in_currency or units
        if len(units) > 1:
            raise InvalidInput(
                f"{sellable.name!r} is priced per {', '.join(units)}; say which unit."
            )
        unit = units[0]
    price = price_book.price_of(sellable.id, unit, quote.currency)
    if price is None:
        currencies = price_book.currencies_of(sellable.id, unit)
        if currencies:
            raise RuleViolated(
                f"price book {price_book.name!r} has no {quote.currency} price for "
                f"{sellable.name!r} per {unit} (it has {', '.join(currencies)})."
            )
        raise RuleViolated(
            f"price book {price_book.name!r} prices {sellable.name!r} per "
            f"{', '.join(units)}, not per {unit}."
        )
    return QuoteItem(
        id=item_id,
        product_id=sellable.id,
        name=sellable.name,
        quantity=quantity,
        unit=unit,
        unit_price=price,
        discount_pct=discount_pct,
        kind=sellable.kind,
        term_months=sellable.term_months,
        category=sellable.category,
        components=sellable.components,
        source="price_book",
        start=start,
    )
