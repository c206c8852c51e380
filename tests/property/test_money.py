"""Money arithmetic, rounding and conversion, checked against exact fractions.

The rules (docs/domain.md, ``domain.money``):

- an amount is a ``Decimal`` in an ISO 4217 currency, never a float;
- adding amounts of one currency is exact: nothing is rounded;
- ``Money.of`` rounds to the currency's minor unit (EUR 2, JPY 0, KWD 3
  decimals) with ROUND_HALF_UP — a tie goes away from zero — and rounding an
  already rounded amount changes nothing;
- ``Money.exact`` takes an amount as given and refuses one whose value needs
  more decimals than the currency has;
- **conversion then rounding**: converting from currency A to B computes
  ``amount × rate(A) / rate(B)`` exactly and rounds the result *once* to B's
  minor unit. Nothing is rounded before the end, so the result is within half
  a minor unit of the exact value and equals the exact value rounded half up.

The reference for every rounding here is computed with ``fractions.Fraction``,
independently of ``decimal``.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import InvalidInput, RuleViolated
from domain.money import (
    Money,
    convert,
    minor_unit,
    round_half_up,
    round_half_up_ratio,
    round_half_up_total,
    total,
)

CURRENCIES = ("EUR", "USD", "JPY", "KWD", "CHF", "GBP")
LIMIT = 10**12


def half_up(value: Fraction, places: int) -> Fraction:
    """``value`` rounded to ``places`` decimals, ties away from zero (ROUND_HALF_UP)."""
    scale = 10**places
    magnitude = Fraction(math.floor(abs(value) * scale + Fraction(1, 2)), scale)
    return magnitude if value >= 0 else -magnitude


def decimals_of(places: int, limit: int = LIMIT) -> st.SearchStrategy[Decimal]:
    return st.decimals(
        min_value=-limit, max_value=limit, places=places, allow_nan=False, allow_infinity=False
    )


@st.composite
def any_decimals(draw: st.DrawFn, max_places: int = 9) -> Decimal:
    """A finite decimal with 0 to ``max_places`` decimals."""
    return draw(decimals_of(draw(st.integers(0, max_places))))


@st.composite
def money(draw: st.DrawFn, currency: str | None = None) -> Money:
    """An amount at its currency's minor-unit precision."""
    currency = currency or draw(st.sampled_from(CURRENCIES))
    return Money.exact(draw(decimals_of(minor_unit(currency))), currency)


@st.composite
def rates(draw: st.DrawFn) -> Decimal:
    """A positive exchange rate with up to 10 decimals."""
    places = draw(st.integers(0, 10))
    return draw(
        st.decimals(
            min_value=Decimal(1).scaleb(-places),
            max_value=10**6,
            places=places,
            allow_nan=False,
            allow_infinity=False,
        )
    )


def decimal_places(amount: Decimal) -> int:
    exponent = amount.as_tuple().exponent
    assert isinstance(exponent, int)
    return -exponent


# --- addition -------------------------------------------------------------------------


@given(st.sampled_from(CURRENCIES).flatmap(lambda c: st.tuples(money(c), money(c), money(c))))
def test_addition_is_associative_commutative_and_exact(triple: tuple[Money, Money, Money]) -> None:
    """a + b == b + a, (a + b) + c == a + (b + c), and the sum is the exact sum."""
    a, b, c = triple
    assert a + b == b + a
    assert (a + b) + c == a + (b + c)
    assert Fraction((a + b + c).amount) == Fraction(a.amount) + Fraction(b.amount) + Fraction(
        c.amount
    )
    assert (a + b).currency == a.currency


@given(st.sampled_from(CURRENCIES).flatmap(lambda c: st.lists(money(c), max_size=8)))
def test_total_is_the_exact_sum_in_any_order(amounts: list[Money]) -> None:
    """``total`` adds exactly; its result does not depend on the order of the amounts."""
    currency = amounts[0].currency if amounts else "EUR"
    summed = total(amounts, currency)
    assert Fraction(summed.amount) == sum((Fraction(m.amount) for m in amounts), Fraction(0))
    assert total(reversed(amounts), currency) == summed


@given(money(), money())
def test_amounts_of_two_currencies_are_not_added(a: Money, b: Money) -> None:
    """Adding EUR to USD without a rate is refused, never silently done."""
    if a.currency == b.currency:
        assert (a + b).currency == a.currency
    else:
        with pytest.raises(InvalidInput, match="without a rate"):
            a + b


# --- Money.of and Money.exact ------------------------------------------------------------


@given(any_decimals(), st.sampled_from(CURRENCIES))
def test_of_rounds_half_up_to_the_minor_unit(amount: Decimal, currency: str) -> None:
    """Money.of has exactly the minor unit's decimals and equals the half-up rounding."""
    places = minor_unit(currency)
    rounded = Money.of(amount, currency)
    assert rounded.currency == currency
    assert decimal_places(rounded.amount) == places
    assert Fraction(rounded.amount) == half_up(Fraction(amount), places)
    assert abs(Fraction(rounded.amount) - Fraction(amount)) <= Fraction(1, 2 * 10**places)


@given(any_decimals(), st.sampled_from(CURRENCIES))
def test_of_is_idempotent(amount: Decimal, currency: str) -> None:
    """Rounding a rounded amount again changes nothing, not even its exponent."""
    once = Money.of(amount, currency)
    twice = Money.of(once.amount, currency)
    assert twice == once
    assert twice.amount.as_tuple() == once.amount.as_tuple()
    assert once.rounded() == once


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("0.005", "EUR", "0.01"),
        ("-0.005", "EUR", "-0.01"),
        ("0.0049", "EUR", "0.00"),
        ("2.5", "JPY", "3"),
        ("-2.5", "JPY", "-3"),
        ("1.0005", "KWD", "1.001"),
        ("1.00049", "KWD", "1.000"),
    ],
)
def test_ties_go_away_from_zero(amount: str, currency: str, expected: str) -> None:
    """ROUND_HALF_UP: a half goes up in magnitude, for debits and credits alike."""
    assert Money.of(amount, currency).amount.as_tuple() == Decimal(expected).as_tuple()


def test_rounding_a_tiny_negative_amount_gives_zero_not_minus_zero() -> None:
    assert str(round_half_up(Decimal("-0.001"), 2)) == "0.00"
    assert str(Money.of("-0.004", "EUR")) == "0.00 EUR"


@given(st.sampled_from(CURRENCIES).flatmap(money))
def test_exact_keeps_an_amount_at_the_minor_unit(amount: Money) -> None:
    """An amount with no more decimals than the currency allows is kept as it is."""
    assert Money.exact(amount.amount, amount.currency).amount == amount.amount
    assert Money.of(amount.amount, amount.currency) == amount


@given(
    st.sampled_from(CURRENCIES),
    decimals_of(0, limit=10**9),
    st.integers(1, 3),
    st.integers(1, 9),
)
def test_exact_refuses_extra_decimals(
    currency: str, whole: Decimal, extra: int, digit: int
) -> None:
    """A non-zero digit beyond the minor unit is refused, not rounded away."""
    places = minor_unit(currency)
    amount = whole + Decimal(digit).scaleb(-(places + extra))
    with pytest.raises(RuleViolated, match="decimal places"):
        Money.exact(amount, currency)


@pytest.mark.parametrize("bad", ["abc", "NaN", "Infinity", "-Infinity"])
def test_of_refuses_what_is_not_a_finite_amount(bad: str) -> None:
    """Text that is no number, NaN and infinities are refused with a sentence."""
    with pytest.raises(InvalidInput):
        Money.of(bad, "EUR")


def test_unknown_currencies_are_refused() -> None:
    """Only ISO 4217 codes with a minor unit are currencies for money."""
    with pytest.raises(InvalidInput, match="ISO 4217"):
        Money.of("1", "EURO")
    with pytest.raises(InvalidInput, match="no minor unit"):
        Money.of("1", "XAU")


# --- conversion then rounding ------------------------------------------------------------


@given(money(), st.sampled_from(CURRENCIES), rates(), rates())
def test_conversion_rounds_once_to_the_target_minor_unit(
    amount: Money, to_currency: str, rate_from: Decimal, rate_to: Decimal
) -> None:
    """convert == half_up(amount × rate_from / rate_to), with the target's decimals.

    The result is within half a minor unit of the exact quotient, and it is the
    exact quotient rounded once: no intermediate figure was rounded.
    """
    places = minor_unit(to_currency)
    converted = convert(amount, to_currency, rate_from=rate_from, rate_to=rate_to)
    exact = Fraction(amount.amount) * Fraction(rate_from) / Fraction(rate_to)
    assert converted.currency == to_currency
    assert decimal_places(converted.amount) == places
    assert abs(Fraction(converted.amount) - exact) <= Fraction(1, 2 * 10**places)
    assert Fraction(converted.amount) == half_up(exact, places)


@given(st.sampled_from(CURRENCIES).flatmap(money), st.sampled_from(CURRENCIES), rates())
def test_conversion_at_equal_rates_is_the_identity(
    amount: Money, to_currency: str, rate: Decimal
) -> None:
    """With rate_from == rate_to, an amount already at the target's precision is unchanged."""
    places = minor_unit(to_currency)
    if decimal_places(amount.amount) > places:
        amount = Money.of(amount.amount, to_currency)
    converted = convert(amount, to_currency, rate_from=rate, rate_to=rate)
    assert converted.amount == amount.amount
    assert decimal_places(converted.amount) == places


def test_conversion_does_not_round_the_intermediate_product() -> None:
    """1.00 × 1.004 / 0.5 = 2.008 → 2.01; rounding 1.004 to 1.00 first would give 2.00."""
    converted = convert(
        Money.of("1.00", "EUR"), "USD", rate_from=Decimal("1.004"), rate_to=Decimal("0.5")
    )
    assert converted == Money(Decimal("2.01"), "USD")


@given(money(), st.sampled_from(CURRENCIES), st.decimals(max_value=0, allow_nan=False))
def test_conversion_refuses_rates_that_are_not_positive(
    amount: Money, to_currency: str, bad: Decimal
) -> None:
    """A zero or negative rate is refused on either side."""
    with pytest.raises(InvalidInput, match="positive"):
        convert(amount, to_currency, rate_from=bad, rate_to=Decimal(1))
    with pytest.raises(InvalidInput, match="positive"):
        convert(amount, to_currency, rate_from=Decimal(1), rate_to=bad)


# --- round_half_up_ratio: whole minor units from an integer ratio ----------------------


@given(
    st.integers(min_value=-(10**40), max_value=10**40),
    st.integers(min_value=-(10**15), max_value=10**15).filter(lambda d: d != 0),
)
def test_round_half_up_ratio_rounds_as_decimal_round_half_up(
    numerator: int, denominator: int
) -> None:
    """Equal to Decimal's ROUND_HALF_UP of the exact quotient, whatever the signs."""
    with localcontext() as context:
        # Enough digits that the quotient is exact where it matters: a true half is a
        # finite decimal, and anything else is at least 1/(2|d|) away from one.
        context.prec = 200
        expected = (Decimal(numerator) / Decimal(denominator)).quantize(
            Decimal(1), rounding=ROUND_HALF_UP
        )
    assert round_half_up_ratio(numerator, denominator) == int(expected)


@given(st.integers(min_value=-(10**20), max_value=10**20), st.integers(1, 10**6))
def test_round_half_up_ratio_sends_a_tie_away_from_zero(whole: int, denominator: int) -> None:
    """(whole + ½) rounds away from zero: up when positive, down when negative."""
    twice = 2 * denominator
    numerator = (2 * whole + (1 if whole >= 0 else -1)) * denominator
    expected = whole + (1 if whole >= 0 else -1)
    assert round_half_up_ratio(numerator, twice) == expected
    assert round_half_up_ratio(-numerator, -twice) == expected


def test_round_half_up_ratio_examples() -> None:
    assert [round_half_up_ratio(n, d) for n, d in ((5, 2), (-5, 2), (5, -2), (-5, -2))] == [
        3,
        -3,
        -3,
        3,
    ]
    assert round_half_up_ratio(2499, 100) == 25  # 24.99 → 25
    assert round_half_up_ratio(2449, 100) == 24  # 24.49 → 24
    assert round_half_up_ratio(0, 7) == 0
    with pytest.raises(ZeroDivisionError):
        round_half_up_ratio(1, 0)


@given(
    st.lists(st.integers(min_value=-(10**25), max_value=10**25), max_size=40),
    st.integers(min_value=1, max_value=10**9),
)
def test_round_half_up_total_sums_each_term_rounded_on_its_own(
    numerators: list[int], denominator: int
) -> None:
    """The charts' per-deal sum: each term rounded as ``round_half_up_ratio`` rounds it."""
    expected = sum(round_half_up_ratio(n, denominator) for n in numerators)
    assert round_half_up_total(numerators, denominator) == expected


@given(
    st.lists(st.integers(min_value=0, max_value=10**25), max_size=40),
    st.integers(min_value=1, max_value=10**9),
)
def test_round_half_up_total_of_non_negative_terms_sums_each_term_rounded_on_its_own(
    numerators: list[int], denominator: int
) -> None:
    """The usual case (no negative amount), which takes a faster path."""
    expected = sum(round_half_up_ratio(n, denominator) for n in numerators)
    assert round_half_up_total(numerators, denominator) == expected
