"""What may be done to a quote: each function checks the rules and decides the events.

A locked quote (its opportunity was sold) cannot change; a deleted one is gone.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

import msgspec

from domain.errors import InvalidInput, Locked, NotFound, RuleViolated
from domain.money import (
    MAX_INPUT,
    check_currency,
    minor_unit,
    round_half_up,
)
from domain.price_book import MAX_PRICE_PLACES, PriceBook, check_decimal, check_unit
from domain.product import check_term
from domain.quote.events import (
    OfferGenerated,
    QuoteCreated,
    QuoteDetailsChanged,
    QuoteEvent,
    QuoteItemAdded,
    QuoteItemChanged,
    QuoteItemRemoved,
    QuoteRoundingSet,
)
from domain.quote.state import (
    HUNDRED,
    MAX_DISCOUNT_PLACES,
    MAX_QUANTITY_PLACES,
    Quote,
    QuoteItem,
)

__all__ = [
    "add_item",
    "change_details",
    "change_item",
    "check_item",
    "create",
    "ensure_changeable",
    "record_offer",
    "remove_item",
    "set_rounding",
]


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
) -> list[QuoteEvent]:
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
) -> list[QuoteEvent]:
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


def add_item(quote: Quote, item: QuoteItem) -> list[QuoteEvent]:
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
) -> list[QuoteEvent]:
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


def remove_item(quote: Quote, item_id: UUID) -> list[QuoteEvent]:
    ensure_changeable(quote)
    quote.item(item_id)
    return [QuoteItemRemoved(item_id=item_id)]


def set_rounding(quote: Quote, rounding: Decimal | None) -> list[QuoteEvent]:
    ensure_changeable(quote)
    if rounding is not None:
        if not rounding.is_finite():
            raise InvalidInput("a rounding amount must be a finite decimal number.")
        if abs(rounding) >= MAX_INPUT:
            raise InvalidInput("a rounding amount must be less than 1,000,000,000,000,000.")
        places = minor_unit(quote.currency)
        if round_half_up(rounding, places) != rounding:
            raise RuleViolated(
                f"a rounding amount in {quote.currency} has at most {places} decimal places."
            )
    return [QuoteRoundingSet(rounding=rounding)]


def record_offer(
    quote: Quote, document_id: UUID, sha256: str, generated_at: datetime
) -> list[QuoteEvent]:
    ensure_changeable(quote)
    if not quote.items:
        raise RuleViolated(f"quote {quote.name!r} has no items to offer.")
    return [OfferGenerated(document_id=document_id, sha256=sha256, generated_at=generated_at)]
