"""Prices on a quote: items priced from its price book or as given, and repricing in
another currency.

Price-book items exist only in currencies their price book has prices for; manual
items and the rounding item are converted with the exchange rates and keep their
discounts.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from uuid import UUID

import msgspec

from domain.errors import InvalidInput, RuleViolated
from domain.money import (
    check_currency,
    convert_amount,
)
from domain.price_book import MAX_PRICE_PLACES, PriceBook, check_decimal
from domain.product import ItemKind, ProductCategory
from domain.quote.events import QuoteCurrencyChanged, QuoteEvent
from domain.quote.rules import ensure_changeable
from domain.quote.state import (
    Quote,
    QuoteItem,
    SellableProduct,
)

__all__ = ["change_currency", "manual_item", "needs_rates", "price_book_item"]


def needs_rates(quote: Quote) -> bool:
    """Whether changing the quote's currency converts anything with exchange rates: its
    manual items and its rounding item are converted, price-book items repriced."""
    return quote.rounding is not None or any(i.source == "manual" for i in quote.items)


def change_currency(
    quote: Quote,
    currency: str,
    *,
    price_book: PriceBook | None,
    rate_from: Decimal | None,
    rate_to: Decimal | None,
) -> list[QuoteEvent]:
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
    if needs_rates(quote) and (rate_from is None or rate_to is None):
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


def manual_item(
    *,
    item_id: UUID,
    product: SellableProduct | None,
    quantity: Decimal,
    unit_price: Decimal | None,
    name: str | None = None,
    unit: str | None = None,
    discount_pct: Decimal = Decimal(0),
    kind: ItemKind | None = None,
    term_months: int | None = None,
    category: ProductCategory | None = None,
    start: date | None = None,
) -> QuoteItem:
    """An item priced as given (the quote has no price book, or none was used); a
    ``product``, when named, lends its name, kind, term and category."""
    if unit_price is None:
        raise InvalidInput("a manual item needs a unit_price (the quote has no price book).")
    name = name or (product.name if product else None)
    if not name:
        raise InvalidInput("a manual item needs a name.")
    kind = kind or (product.kind if product else "one_off")
    term = term_months
    if term is None and product is not None and kind == product.kind:
        term = product.term_months
    return QuoteItem(
        id=item_id,
        product_id=product.id if product else None,
        name=name,
        quantity=quantity,
        unit=unit or "each",
        unit_price=unit_price,
        discount_pct=discount_pct,
        kind=kind,
        term_months=term,
        category=category or (product.category if product else None),
        components=product.components if product else (),
        source="manual",
        start=start,
    )
