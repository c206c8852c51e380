"""Money: a Decimal amount in an ISO 4217 currency, never a float.

Amounts are rounded to the currency's minor unit with ROUND_HALF_UP
(``Money.rounded``). Conversion between currencies uses rates quoted as
*reporting-currency units per one unit of the currency*:

    amount_in_B = amount_in_A × rate(A) / rate(B)

computed exactly (50 significant digits) and only then rounded to B's minor
unit. Nothing is rounded twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation
from functools import cache
from itertools import repeat
from operator import add, floordiv

import msgspec
from iso4217 import Currency

from domain import limits
from domain.errors import InvalidInput, RuleViolated

# Wide enough that no product of a quantity, a price and a rate loses a digit
# before the one rounding we do on purpose.
EXACT = Context(prec=50, rounding=ROUND_HALF_UP)
# Amounts, prices and quantities a caller gives stay below this, so that their products
# (with a discount and a rate) keep within EXACT's 50 digits.
MAX_INPUT = Decimal(10) ** limits.INTEGER_DIGITS


@cache
def minor_unit(currency: str) -> int:
    """Digits after the decimal point for ``currency`` (EUR → 2, JPY → 0, KWD → 3)."""
    try:
        exponent = Currency(currency).exponent
    except ValueError:
        raise InvalidInput(f"{currency!r} is not an ISO 4217 currency code.") from None
    if exponent is None:
        raise InvalidInput(f"{currency} has no minor unit and cannot be used for prices.")
    return int(exponent)


def check_currency(currency: str) -> str:
    minor_unit(currency)
    return currency


def round_half_up(value: Decimal, places: int) -> Decimal:
    try:
        rounded = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP, context=EXACT)
    except InvalidOperation:
        # More digits than EXACT holds (or not a number): never a figure we can keep.
        raise InvalidInput(f"{value:.3E} is too large to be an amount.") from None
    # -0.001 rounds to zero, not to "-0.00".
    return rounded.copy_abs() if rounded.is_zero() else rounded


def round_half_up_ratio(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` rounded to a whole number, halves away from zero
    (ROUND_HALF_UP, as ``round_half_up``), exactly: integers only, any signs.

    For figures kept in minor units: ``round_half_up_ratio(amount * rate_numerator,
    rate_denominator)`` converts, ``round_half_up_ratio(value * probability, 100)``
    weights. A zero ``denominator`` raises ``ZeroDivisionError``.
    """
    if denominator < 0:
        numerator, denominator = -numerator, -denominator
    if numerator >= 0:
        return (2 * numerator + denominator) // (2 * denominator)
    return -((-2 * numerator + denominator) // (2 * denominator))


def round_half_up_total(numerators: Sequence[int], denominator: int) -> int:
    """``Σ round_half_up_ratio(n, denominator)`` over ``numerators``, each term rounded on
    its own, exactly: the charts' sums of per-deal figures (tens of thousands of terms a
    query, in one pass without a call per term). ``denominator`` is positive."""
    half = denominator // 2
    if not numerators or min(numerators) >= 0:
        # n ≥ 0: round(n / d) = ⌊(n + ⌊d/2⌋) / d⌋, halves up (an odd d has no halves);
        # mapped with the operator module's functions, so no Python frame per term.
        return sum(map(floordiv, map(add, numerators, repeat(half)), repeat(denominator)))
    return sum(
        (n + half) // denominator if n >= 0 else -((half - n) // denominator) for n in numerators
    )


class Money(msgspec.Struct, frozen=True):
    amount: Decimal
    currency: str

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(round_half_up(Decimal(0), minor_unit(currency)), currency)

    @classmethod
    def of(cls, amount: Decimal | int | str, currency: str) -> Money:
        """Money rounded to the minor unit of ``currency``."""
        try:
            value = Decimal(amount)
        except InvalidOperation:
            raise InvalidInput(f"{amount!r} is not a decimal amount.") from None
        if not value.is_finite():
            raise InvalidInput(f"{amount!r} is not a finite amount.")
        return cls(round_half_up(value, minor_unit(currency)), currency)

    @classmethod
    def exact(cls, amount: Decimal, currency: str) -> Money:
        """Money as given, refused when it has more decimals than ``currency`` allows."""
        places = minor_unit(currency)
        if not amount.is_finite():
            raise InvalidInput(f"{amount} is not a finite amount.")
        if abs(amount) >= MAX_INPUT:
            raise InvalidInput("an amount must be less than 1,000,000,000,000,000.")
        if round_half_up(amount, places) != amount:
            # A rule of the currency, not of the request's shape: 409.
            raise RuleViolated(f"an amount in {currency} has at most {places} decimal places.")
        return cls(amount, currency)

    def rounded(self) -> Money:
        return Money.of(self.amount, self.currency)

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise InvalidInput(
                f"cannot combine {self.currency} and {other.currency} amounts without a rate."
            )

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(EXACT.add(self.amount, other.amount), self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(EXACT.subtract(self.amount, other.amount), self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def times(self, factor: Decimal) -> Money:
        """Exact product, not rounded: round once, when the figure is final."""
        return Money(EXACT.multiply(self.amount, factor), self.currency)

    def is_zero(self) -> bool:
        return self.amount == 0

    def __str__(self) -> str:
        return f"{self.amount:,} {self.currency}"


def total(amounts: Iterable[Money], currency: str) -> Money:
    result = Money.zero(currency)
    for amount in amounts:
        result = result + amount
    return result


def convert(money: Money, to_currency: str, *, rate_from: Decimal, rate_to: Decimal) -> Money:
    """Convert with rates in reporting-currency units per unit, then round once."""
    return Money(
        convert_amount(money.amount, to_currency, rate_from=rate_from, rate_to=rate_to),
        to_currency,
    )


def convert_amount(
    amount: Decimal, to_currency: str, *, rate_from: Decimal, rate_to: Decimal
) -> Decimal:
    """``amount × rate_from / rate_to`` exactly, rounded to ``to_currency``'s minor unit."""
    if rate_from <= 0 or rate_to <= 0:
        raise InvalidInput("exchange rates must be positive.")
    exact = EXACT.divide(EXACT.multiply(amount, rate_from), rate_to)
    return round_half_up(exact, minor_unit(to_currency))
