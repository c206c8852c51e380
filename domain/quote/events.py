"""What happens to a quote: its events, each knowing how it changes the state."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

from domain.aggregate import Event, created, evolve
from domain.quote.state import (
    OfferRef,
    Quote,
    QuoteItem,
)

__all__ = [
    "OfferGenerated",
    "QuoteActivated",
    "QuoteCreated",
    "QuoteCurrencyChanged",
    "QuoteDeactivated",
    "QuoteDeleted",
    "QuoteDetailsChanged",
    "QuoteEvent",
    "QuoteItemAdded",
    "QuoteItemChanged",
    "QuoteItemRemoved",
    "QuoteLocked",
    "QuoteRoundingSet",
    "QuoteUnlocked",
]


class QuoteCreated(Event[Quote], frozen=True, kw_only=True):
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

    def apply(self, state: Quote | None) -> Quote:
        return created(Quote, self)


class QuoteDetailsChanged(Event[Quote], frozen=True, kw_only=True):
    name: str
    valid_from: date | None
    valid_until: date | None

    def apply(self, state: Quote) -> Quote:
        return evolve(
            state, name=self.name, valid_from=self.valid_from, valid_until=self.valid_until
        )


class QuoteItemAdded(Event[Quote], frozen=True, kw_only=True):
    item: QuoteItem

    def apply(self, state: Quote) -> Quote:
        return evolve(state, items=(*state.items, self.item))


class QuoteItemChanged(Event[Quote], frozen=True, kw_only=True):
    item: QuoteItem

    def apply(self, state: Quote) -> Quote:
        return evolve(
            state, items=tuple(self.item if i.id == self.item.id else i for i in state.items)
        )


class QuoteItemRemoved(Event[Quote], frozen=True, kw_only=True):
    item_id: UUID

    def apply(self, state: Quote) -> Quote:
        return evolve(state, items=tuple(i for i in state.items if i.id != self.item_id))


class QuoteRoundingSet(Event[Quote], frozen=True, kw_only=True):
    rounding: Decimal | None

    def apply(self, state: Quote) -> Quote:
        return evolve(state, rounding=self.rounding)


class QuoteCurrencyChanged(Event[Quote], frozen=True, kw_only=True):
    """The new currency with every item repriced: replay needs no rates."""

    currency: str
    items: tuple[QuoteItem, ...]
    rounding: Decimal | None

    def apply(self, state: Quote) -> Quote:
        return evolve(state, currency=self.currency, items=self.items, rounding=self.rounding)


class QuoteActivated(Event[Quote], frozen=True, kw_only=True):
    def apply(self, state: Quote) -> Quote:
        return evolve(state, active=True)


class QuoteDeactivated(Event[Quote], frozen=True, kw_only=True):
    def apply(self, state: Quote) -> Quote:
        return evolve(state, active=False)


class QuoteLocked(Event[Quote], frozen=True, kw_only=True):
    def apply(self, state: Quote) -> Quote:
        return evolve(state, locked=True)


class QuoteUnlocked(Event[Quote], frozen=True, kw_only=True):
    def apply(self, state: Quote) -> Quote:
        return evolve(state, locked=False)


class QuoteDeleted(Event[Quote], frozen=True, kw_only=True):
    def apply(self, state: Quote) -> Quote:
        return evolve(state, deleted=True, active=False)


class OfferGenerated(Event[Quote], frozen=True, kw_only=True):
    document_id: UUID
    sha256: str
    generated_at: datetime

    def apply(self, state: Quote) -> Quote:
        ref = OfferRef(
            document_id=self.document_id, sha256=self.sha256, generated_at=self.generated_at
        )
        return evolve(state, offers=(*state.offers, ref))


QuoteEvent = (
    QuoteCreated
    | QuoteDetailsChanged
    | QuoteItemAdded
    | QuoteItemChanged
    | QuoteItemRemoved
    | QuoteRoundingSet
    | QuoteCurrencyChanged
    | QuoteActivated
    | QuoteDeactivated
    | QuoteLocked
    | QuoteUnlocked
    | QuoteDeleted
    | OfferGenerated
)
