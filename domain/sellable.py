"""Turning catalogue entries (products, bundles) into what a quote item records."""

from __future__ import annotations

from collections.abc import Mapping
from uuid import UUID

from domain.bundle import Bundle
from domain.errors import NotFound
from domain.product import Product
from domain.quote import ComponentSnapshot, SellableProduct


def of_product(product: Product) -> SellableProduct:
    return SellableProduct(
        id=product.id,
        name=product.name,
        kind=product.item_kind,
        term_months=product.term_months,
        category=product.category,
        active=product.active,
    )


def of_bundle(bundle: Bundle, products: Mapping[UUID, Product]) -> SellableProduct:
    """A bundle item: time-based when any component is (with the longest term).

    Each component keeps its own kind, term and category in the snapshot, so the
    contracts made from a sold bundle do not depend on this summary.
    """
    snapshots = []
    for component in bundle.components:
        product = products.get(component.product_id)
        if product is None:
            raise NotFound(
                f"bundle {bundle.code} names a product {component.product_id} that does not exist."
            )
        snapshots.append(
            ComponentSnapshot(
                product_id=product.id,
                name=product.name,
                code=product.code,
                weight=component.weight,
                kind=product.item_kind,
                term_months=product.term_months,
                category=product.category,
            )
        )
    terms = [s.term_months for s in snapshots if s.kind == "time_based" and s.term_months]
    categories = {s.category for s in snapshots}
    return SellableProduct(
        id=bundle.id,
        name=bundle.name,
        kind="time_based" if terms else "one_off",
        term_months=max(terms) if terms else None,
        category=categories.pop() if len(categories) == 1 else None,
        active=all(products[c.product_id].active for c in bundle.components),
        components=tuple(snapshots),
    )
