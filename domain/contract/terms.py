"""What a sale says each contract is: its terms, a bundle's value split by weight, and the
ids contracts and renewal opportunities get (derived, so nothing needs a lookup table)."""

from __future__ import annotations

import calendar
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from fractions import Fraction
from uuid import UUID, uuid5

from domain.contract.state import ContractKind, ContractTerms
from domain.errors import InvalidInput
from domain.money import EXACT, Money, minor_unit
from domain.opportunity import SoldItem
from domain.product import ProductCategory

__all__ = [
    "add_months",
    "contract_id_for",
    "item_key",
    "keys_of_sale",
    "renewal_opportunity_id_for",
    "split_by_weight",
    "terms_of_sale",
]

_NAMESPACE = UUID("0b6f9e4e-3f7c-4a53-9f1e-5d2b8f0c7a61")


def add_months(start: date, months: int) -> date:
    """``start`` plus ``months`` calendar months; the 31st of January plus one is the 28th
    (or 29th) of February."""
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def split_by_weight(total: Money, weights: Sequence[Decimal]) -> list[Money]:
    """``total`` in shares proportional to ``weights``, in minor units, summing exactly.

    Each share is the exact share rounded down; the minor units left over go one
    each to the shares that lost most to that rounding (ties: the earlier one).
    """
    if not weights or any(w <= 0 for w in weights):
        raise InvalidInput("a bundle needs components of positive weight to split its value.")
    places = minor_unit(total.currency)
    # Exact fractions: Decimal's default 28 digits would round a large total (a line may
    # total up to 10^30) and its shares, and they would no longer add up.
    units = int(Fraction(total.amount) * 10**places)
    sign, units = (-1 if units < 0 else 1), abs(units)
    whole = sum((Fraction(w) for w in weights), Fraction(0))
    exact = [units * Fraction(w) / whole for w in weights]
    shares = [int(e) for e in exact]  # rounded down (non-negative)
    left = units - sum(shares)
    by_loss = sorted(range(len(weights)), key=lambda i: (-(exact[i] - shares[i]), i))
    for i in by_loss[:left]:
        shares[i] += 1
    return [Money(Decimal(sign * s).scaleb(-places, EXACT), total.currency) for s in shares]


def item_key(item_id: UUID, component_product_id: UUID | None = None) -> str:
    """A contract's key among its opportunity's: the item, or the item and a component."""
    return str(item_id) if component_product_id is None else f"{item_id}/{component_product_id}"


def keys_of_sale(items: Sequence[SoldItem]) -> list[str]:
    """The keys of the contracts a sale of ``items`` calls for, in order."""
    return [
        item_key(sold.item.id, component.product_id if component else None)
        for sold in items
        for component in (sold.item.components or (None,))
    ]


def terms_of_sale(
    items: Sequence[SoldItem],
    *,
    starts_on: date,
    start_of_renewal: date | None = None,
    kept_starts: Mapping[str, date] | None = None,
) -> list[ContractTerms]:
    """The contracts a sale of ``items`` calls for, in item (then component) order.

    A contract starts on the item's own start, else where the live contract of a
    re-sold item started (``kept_starts``, by key: a re-sale on a later day moves
    no running contract), else at the end of the contract a renewal renews
    (``start_of_renewal``), else on the sale's effective date.
    """
    kept = kept_starts or {}
    terms: list[ContractTerms] = []
    for sold in items:
        item = sold.item
        if item.components:
            shares = split_by_weight(sold.line_total, [c.weight for c in item.components])
            for component, share in zip(item.components, shares, strict=True):
                key = item_key(item.id, component.product_id)
                start = item.start or kept.get(key) or start_of_renewal or starts_on
                terms.append(
                    _terms(
                        key=key,
                        quote_item_id=item.id,
                        component_product_id=component.product_id,
                        product_id=component.product_id,
                        name=f"{item.name}: {component.name}",
                        kind=component.kind,
                        category=component.category,
                        value=share,
                        start=start,
                        term_months=component.term_months or item.term_months,
                    )
                )
        else:
            key = item_key(item.id)
            start = item.start or kept.get(key) or start_of_renewal or starts_on
            terms.append(
                _terms(
                    key=key,
                    quote_item_id=item.id,
                    component_product_id=None,
                    product_id=item.product_id,
                    name=item.name,
                    kind=item.kind,
                    category=item.category,
                    value=sold.line_total,
                    start=start,
                    term_months=item.term_months,
                )
            )
    return terms


def _terms(
    *,
    key: str,
    quote_item_id: UUID,
    component_product_id: UUID | None,
    product_id: UUID | None,
    name: str,
    kind: ContractKind,
    category: ProductCategory | None,
    value: Money,
    start: date,
    term_months: int | None,
) -> ContractTerms:
    time_based = kind == "time_based" and bool(term_months)
    return ContractTerms(
        key=key,
        quote_item_id=quote_item_id,
        component_product_id=component_product_id,
        product_id=product_id,
        name=name,
        # A time-based item without a term has no end to renew or expire at.
        contract_kind="time_based" if time_based else "one_off",
        category=category,
        value=value,
        start=start,
        end=add_months(start, term_months) if time_based and term_months else None,
        term_months=term_months if time_based else None,
    )


def contract_id_for(opportunity_id: UUID, key: str, generation: int) -> UUID:
    """The id of the ``generation``-th contract (0, 1, …) for one item of one opportunity.

    Deterministic, so a sale processed twice finds the contracts it made and makes
    none again; a later generation follows a cancelled one when the item is re-sold.
    """
    return uuid5(_NAMESPACE, f"contract:{opportunity_id}:{key}:{generation}")


def renewal_opportunity_id_for(contract_id: UUID) -> UUID:
    return uuid5(_NAMESPACE, f"renewal:{contract_id}")
