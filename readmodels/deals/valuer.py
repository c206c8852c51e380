"""Deal amounts in the reporting currency, at the rates in force at the chart's instant."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from domain.errors import RuleViolated
from domain.money import minor_unit, round_half_up_ratio
from readmodels.deals.view import DealsView
from readmodels.values import from_minor


class Valuer:
    """Deal amounts (minor units of their currency) in reporting-currency minor units.

    The rate of a currency at ``instant`` is the one with the latest
    ``effective_from`` not after it; among equal dates, the one recorded last.
    """

    def __init__(self, view: DealsView, instant: datetime) -> None:
        self.currency = view.reporting_currency
        self.places = minor_unit(self.currency)
        self.instant = instant
        best: dict[str, tuple[datetime, int, Decimal]] = {}
        for rate in view.rates:
            if rate.effective_from <= instant:
                key = (rate.effective_from, rate.position)
                if rate.currency not in best or key >= best[rate.currency][:2]:
                    best[rate.currency] = (*key, rate.rate)
        self.rates = {currency: entry[2] for currency, entry in best.items()}
        # Rates as exact fractions scaled to the minor units, by currency, as they are
        # first asked for (the charts' loops look here before calling ``fraction``).
        self.fractions: dict[str, tuple[int, int]] = {self.currency: (1, 1)}

    def fraction(self, currency: str) -> tuple[int, int]:
        """The rate of ``currency`` as an exact fraction scaled to the minor units."""
        fraction = self.fractions.get(currency)
        if fraction is None:
            rate = self.rates.get(currency)
            if rate is None:
                raise RuleViolated(
                    f"no exchange rate for {currency} is in force at {self.instant.isoformat()}, "
                    f"so amounts in {currency} cannot be reported in {self.currency}; "
                    "set one with POST /exchange-rates."
                )
            numerator, denominator = rate.as_integer_ratio()
            shift = self.places - minor_unit(currency)
            if shift >= 0:
                numerator *= 10**shift
            else:
                denominator *= 10**-shift
            fraction = self.fractions[currency] = (numerator, denominator)
        return fraction

    def value(self, amount: int, currency: str) -> int:
        """``round_half_up(amount × rate)`` in reporting minor units, exactly."""
        numerator, denominator = self.fraction(currency)
        if numerator == denominator:
            return amount
        return round_half_up_ratio(amount * numerator, denominator)

    @staticmethod
    def weighted(value: int, probability: int) -> int:
        """``round_half_up(value × probability / 100)``."""
        return round_half_up_ratio(value * probability, 100)

    def money(self, value: int) -> Decimal:
        return from_minor(value, self.places)
