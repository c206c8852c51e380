"""Bundles: products sold together at one price, each component a weighted share of it.

A bundle is priced in a price book like a product. When it is sold, each
component becomes its own contract with the bundle value split by weight.
"""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar
from uuid import UUID

import msgspec

from domain import limits
from domain.aggregate import AggregateState, Event, created
from domain.errors import InvalidInput
from domain.price_book import PriceBook, check_decimal
from domain.product import Product


class BundleComponent(msgspec.Struct, frozen=True, kw_only=True):
    product_id: UUID
    weight: Decimal


class Bundle(AggregateState, frozen=True, kw_only=True):
    kind: ClassVar[str] = "bundle"
    name: str
    code: str
    price_book_id: UUID
    components: tuple[BundleComponent, ...]


class BundleCreated(Event[Bundle], frozen=True, kw_only=True):
    name: str
    code: str
    price_book_id: UUID
    components: tuple[BundleComponent, ...]

    def apply(self, state: Bundle | None) -> Bundle:
        return created(Bundle, self)


BundleEvent = BundleCreated


def create(
    name: str,
    code: str,
    price_book: PriceBook,
    components: list[tuple[Product, Decimal]],
) -> list[BundleEvent]:
    if not name.strip() or not code.strip():
        raise InvalidInput("a bundle needs a name and a code.")
    if not components:
        raise InvalidInput("a bundle needs at least one component.")
    ids = [product.id for product, _ in components]
    if len(set(ids)) != len(ids):
        raise InvalidInput("a product can appear only once in a bundle; raise its weight instead.")
    for product, weight in components:
        check_decimal(
            weight, f"the weight of {product.code}", places=limits.WEIGHT_PLACES, positive=True
        )
    return [
        BundleCreated(
            name=name.strip(),
            code=code.strip(),
            price_book_id=price_book.id,
            components=tuple(BundleComponent(product_id=p.id, weight=w) for p, w in components),
        )
    ]
