"""Quote lines and totals, checked against exact fractions.

The rule (docs/domain.md, ``domain.quote``)::

    line  = round_half_up(quantity × unit_price × (1 − discount / 100))
    total = Σ lines + rounding

Each line is rounded once, to the quote currency's minor unit; the total adds
those rounded lines and the rounding item (itself at minor-unit precision)
exactly, so it is at minor-unit precision too and does not depend on the
order of the items. Quotes here are built through the domain's own decisions
(``create``, ``add_item``, ``set_rounding``), so every generated item is one
the domain accepts: quantity > 0 with ≤ 6 decimals, unit price ≥ 0 with ≤ 6
decimals, discount 0–100 % with ≤ 4 decimals.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from uuid import UUID

from hypothesis import given
from hypothesis import strategies as st

from domain import quote as rules
from domain.aggregate import fold
from domain.money import Money, minor_unit
from domain.quote import Quote, QuoteItem

CURRENCIES = ("EUR", "USD", "GBP", "CHF", "JPY", "KWD")
OPPORTUNITY = UUID("00000000-0000-4000-8000-000000000001")


def half_up(value: Fraction, places: int) -> Fraction:
    """``value`` rounded to ``places`` decimals, ties away from zero (ROUND_HALF_UP)."""
    scale = 10**places
    magnitude = Fraction(math.floor(abs(value) * scale + Fraction(1, 2)), scale)
    return magnitude if value >= 0 else -magnitude


def expected_line(item: QuoteItem, currency: str) -> Fraction:
    exact = (
        Fraction(item.quantity)
        * Fraction(item.unit_price)
        * (1 - Fraction(item.discount_pct) / 100)
    )
    return half_up(exact, minor_unit(currency))


@st.composite
def bounded_decimals(
    draw: st.DrawFn, min_value: Decimal, max_value: Decimal, max_places: int
) -> Decimal:
    places = draw(st.integers(0, max_places))
    step = Decimal(1).scaleb(-places)
    return draw(
        st.decimals(
            min_value=max(min_value, step) if min_value > 0 else min_value,
            max_value=max_value,
            places=places,
            allow_nan=False,
            allow_infinity=False,
        )
    )


quantities = bounded_decimals(Decimal("0.000001"), Decimal(10**6), 6)
unit_prices = bounded_decimals(Decimal(0), Decimal(10**7), 6)
discounts = st.one_of(
    st.just(Decimal(0)), st.just(Decimal(100)), bounded_decimals(Decimal(0), Decimal(100), 4)
)


@st.composite
def items(draw: st.DrawFn, discount: st.SearchStrategy[Decimal] = discounts) -> list[QuoteItem]:
    count = draw(st.integers(0, 8))
    return [
        QuoteItem(
            id=UUID(int=n + 1),
            name=f"item {n}",
            quantity=draw(quantities),
            unit="each",
            unit_price=draw(unit_prices),
            discount_pct=draw(discount),
            kind="one_off",
            source="manual",
        )
        for n in range(count)
    ]


@st.composite
def roundings(draw: st.DrawFn, currency: str) -> Decimal | None:
    places = minor_unit(currency)
    return draw(
        st.none() | st.decimals(min_value=-100, max_value=100, places=places, allow_nan=False)
    )


def build_quote(currency: str, quote_items: list[QuoteItem], rounding: Decimal | None) -> Quote:
    """A quote built by the domain's decisions, as a command handler would."""
    quote: Quote = fold(None, rules.create(OPPORTUNITY, "Q", currency))
    for item in quote_items:
        quote = fold(quote, rules.add_item(quote, item))
    if rounding is not None:
        quote = fold(quote, rules.set_rounding(quote, rounding))
    return quote


def decimal_places(amount: Decimal) -> int:
    exponent = amount.as_tuple().exponent
    assert isinstance(exponent, int)
    return -exponent


currency_and_rounding = st.sampled_from(CURRENCIES).flatmap(
    lambda c: st.tuples(st.just(c), roundings(c))
)


@dataclass(frozen=True)
class Drawn:
    """Items, a currency and a rounding as drawn, and the quote built from them."""

    items: list[QuoteItem]
    currency: str
    rounding: Decimal | None

    @property
    def quote(self) -> Quote:
        return build_quote(self.currency, self.items, self.rounding)

    def lines(self) -> list[tuple[QuoteItem, Money]]:
        """Each item of the quote with its line, checked to be in the quote's currency at
        its minor-unit precision."""
        lines = [(item, item.line_total(self.currency)) for item in self.quote.items]
        for _, line in lines:
            assert line.currency == self.currency
            assert decimal_places(line.amount) == minor_unit(self.currency)
        return lines


@st.composite
def drawn_quotes(draw: st.DrawFn, discount: st.SearchStrategy[Decimal] = discounts) -> Drawn:
    quote_items = draw(items(discount))
    currency, rounding = draw(currency_and_rounding)
    return Drawn(quote_items, currency, rounding)


@given(drawn_quotes())
def test_each_line_is_the_exact_product_rounded_once(drawn: Drawn) -> None:
    """line == round_half_up(q × p × (1 − d/100)) to the minor unit, with its decimals."""
    for item, line in drawn.lines():
        assert Fraction(line.amount) == expected_line(item, drawn.currency)


@given(drawn_quotes())
def test_total_is_the_sum_of_lines_plus_rounding(drawn: Drawn) -> None:
    """total == Σ lines + rounding exactly, at the currency's minor-unit precision."""
    currency, rounding, quote = drawn.currency, drawn.rounding, drawn.quote
    expected = sum((expected_line(i, currency) for i in drawn.items), Fraction(0))
    expected += Fraction(rounding or 0)
    assert quote.total.currency == currency
    assert decimal_places(quote.total.amount) == minor_unit(currency)
    assert Fraction(quote.total.amount) == expected
    lines = sum((i.line_total(currency).amount for i in quote.items), Decimal(0))
    assert quote.total.amount == lines + (rounding or 0)


@given(drawn_quotes(), st.data())
def test_total_does_not_depend_on_item_order(drawn: Drawn, data: st.DataObject) -> None:
    """The same items in any order give the same total."""
    shuffled = data.draw(st.permutations(drawn.items))
    assert build_quote(drawn.currency, shuffled, drawn.rounding).total == drawn.quote.total


@given(drawn_quotes(discount=st.just(Decimal(100))))
def test_a_full_discount_gives_a_zero_line(drawn: Drawn) -> None:
    """A 100 % discount makes the line 0 whatever the quantity and price; total == rounding."""
    for _, line in drawn.lines():
        assert line.amount == 0
    assert drawn.quote.total.amount == (drawn.rounding or 0)
