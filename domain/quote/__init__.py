"""Quotes: priced items offered on one opportunity.

``state`` holds the aggregate and its items, ``events`` what happens to it, ``rules`` what
may be done to it, ``pricing`` items priced from a price book or as given, and currency
changes; every public name is importable from ``domain.quote``.
"""

from __future__ import annotations

from domain.quote.events import (
    OfferGenerated,
    QuoteActivated,
    QuoteCreated,
    QuoteCurrencyChanged,
    QuoteDeactivated,
    QuoteDeleted,
    QuoteDetailsChanged,
    QuoteEvent,
    QuoteItemAdded,
    QuoteItemChanged,
    QuoteItemRemoved,
    QuoteLocked,
    QuoteRoundingSet,
    QuoteUnlocked,
)
from domain.quote.pricing import (
    change_currency,
    manual_item,
    needs_rates,
    price_book_item,
)
from domain.quote.rules import (
    add_item,
    change_details,
    change_item,
    check_item,
    create,
    ensure_changeable,
    record_offer,
    remove_item,
    set_rounding,
)
from domain.quote.state import (
    HUNDRED,
    MAX_DISCOUNT_PLACES,
    MAX_QUANTITY_PLACES,
    ComponentSnapshot,
    ItemSource,
    OfferRef,
    Quote,
    QuoteItem,
    SellableProduct,
)

__all__ = [
    "HUNDRED",
    "MAX_DISCOUNT_PLACES",
    "MAX_QUANTITY_PLACES",
    "ComponentSnapshot",
    "ItemSource",
    "OfferGenerated",
    "OfferRef",
    "Quote",
    "QuoteActivated",
    "QuoteCreated",
    "QuoteCurrencyChanged",
    "QuoteDeactivated",
    "QuoteDeleted",
    "QuoteDetailsChanged",
    "QuoteEvent",
    "QuoteItem",
    "QuoteItemAdded",
    "QuoteItemChanged",
    "QuoteItemRemoved",
    "QuoteLocked",
    "QuoteRoundingSet",
    "QuoteUnlocked",
    "SellableProduct",
    "add_item",
    "change_currency",
    "change_details",
    "change_item",
    "check_item",
    "create",
    "ensure_changeable",
    "manual_item",
    "needs_rates",
    "price_book_item",
    "record_offer",
    "remove_item",
    "set_rounding",
]
