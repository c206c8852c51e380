"""A bundle's value split by weight (``domain.contract.split_by_weight``), against exact fractions.

The rules (docs/domain.md, "Bundle"; domain/contract/terms.py):

- the shares sum to the total exactly, each in the total's currency at its minor unit;
- each share is within one minor unit of its exact share ``total × weight / Σ weights``;
- the remainder is deterministic: each share is its exact share rounded down, and the
  minor units left over go one each to the components that lost most to that rounding
  (ties: the earlier component) — so the same split always gives the same shares, and a
  heavier component never gets less than a lighter one.

Totals range over what a quote item can total: quantity and unit price are each below
10^15, so a line total is below 10^30. Weights are positive with at most 6 decimals,
below 10^15, as a bundle accepts them. The reference is computed with
``fractions.Fraction``, independently of ``decimal``.
"""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from domain.contract import split_by_weight
from domain.money import EXACT, Money, minor_unit

CURRENCIES = ("EUR", "JPY", "KWD", "USD")
LARGEST_LINE_TOTAL = 10**30  # quantity < 10^15 times unit price < 10^15
LARGEST_WEIGHT = 10**15


@st.composite
def totals(draw: st.DrawFn, *, negative: bool = True) -> Money:
    currency = draw(st.sampled_from(CURRENCIES))
    places = minor_unit(currency)
    limit = LARGEST_LINE_TOTAL * 10**places - 1
    units = draw(
        st.one_of(
            st.integers(min_value=0, max_value=10**6),  # everyday amounts
            st.integers(min_value=0, max_value=limit),  # anything a line can total
            st.integers(min_value=10**26, max_value=limit),  # beyond 28 significant digits
        )
    )
    if negative and draw(st.booleans()):
        units = -units
    # scaleb in a context as wide as the figure: the default 28 digits would round it
    return Money(Decimal(units).scaleb(-places, EXACT), currency)


weights = st.decimals(
    min_value=Decimal("0.000001"),
    max_value=Decimal(LARGEST_WEIGHT) - Decimal("0.000001"),
    places=6,
    allow_nan=False,
    allow_infinity=False,
)
small_weights = st.integers(min_value=1, max_value=10).map(Decimal)
weight_lists = st.lists(st.one_of(small_weights, weights), min_size=1, max_size=8)


def units_of(money: Money) -> int:
    """The amount in minor units, exactly (``Fraction`` does not round)."""
    value = Fraction(money.amount) * Fraction(10 ** minor_unit(money.currency))
    assert value.denominator == 1, f"{money} is not at its currency's minor unit"
    return int(value)


def exact_units(total: Money, parts: list[Decimal]) -> list[Fraction]:
    whole = sum((Fraction(w) for w in parts), Fraction(0))
    return [units_of(total) * Fraction(w) / whole for w in parts]


def reference_split(total: Money, parts: list[Decimal]) -> list[int]:
    """The documented rule, in minor units, computed with fractions."""
    units = units_of(total)
    sign, magnitude = (-1 if units < 0 else 1), abs(units)
    exact = [abs(e) for e in exact_units(total, parts)]
    shares = [math.floor(e) for e in exact]
    left = magnitude - sum(shares)
    for i in sorted(range(len(parts)), key=lambda i: (-(exact[i] - shares[i]), i))[:left]:
        shares[i] += 1
    return [sign * s for s in shares]


@given(totals(), weight_lists)
def test_the_shares_sum_exactly_to_the_total_in_its_currency(
    total: Money, parts: list[Decimal]
) -> None:
    shares = split_by_weight(total, parts)
    assert len(shares) == len(parts)
    assert {s.currency for s in shares} == {total.currency}
    assert sum(units_of(s) for s in shares) == units_of(total)
    assert sum((Fraction(s.amount) for s in shares), Fraction(0)) == Fraction(total.amount)


@given(totals(), weight_lists)
def test_each_share_is_within_one_minor_unit_of_its_exact_share(
    total: Money, parts: list[Decimal]
) -> None:
    shares = split_by_weight(total, parts)
    for share, exact in zip(shares, exact_units(total, parts), strict=True):
        assert abs(units_of(share) - exact) < 1, (share, exact)


@given(totals(), weight_lists)
def test_the_split_is_deterministic_and_follows_the_remainder_rule(
    total: Money, parts: list[Decimal]
) -> None:
    shares = split_by_weight(total, parts)
    assert split_by_weight(total, list(parts)) == shares
    assert [units_of(s) for s in shares] == reference_split(total, parts)


@given(totals(negative=False), weight_lists)
def test_a_heavier_component_never_gets_less_than_a_lighter_one(
    total: Money, parts: list[Decimal]
) -> None:
    shares = [units_of(s) for s in split_by_weight(total, parts)]
    for i, wi in enumerate(parts):
        for j, wj in enumerate(parts):
            if wi < wj:
                assert shares[i] <= shares[j], (parts, shares)
