"""Exchange rates: reporting-currency units per one unit of a currency, over time.

One aggregate holds every rate. A rate is in force from its ``effective_from``
until the next rate of the same currency; the reporting currency's rate is 1.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import ClassVar

import msgspec

from domain import limits
from domain.aggregate import AggregateState, Event, evolve
from domain.errors import InvalidInput, RuleViolated
from domain.ids import EXCHANGE_RATES_ID
from domain.money import Money, check_currency, convert
from domain.price_book import check_decimal


class RateEntry(msgspec.Struct, frozen=True):
    currency: str
    rate: Decimal
    effective_from: datetime


class ExchangeRates(AggregateState, frozen=True, kw_only=True):
    kind: ClassVar[str] = "exchange_rates"
    reporting_currency: str
    rates: tuple[RateEntry, ...] = ()

    def rate_at(self, currency: str, at: datetime) -> Decimal:
        """The rate in force at ``at``; refused when there is none."""
        if currency == self.reporting_currency:
            return Decimal(1)
        in_force = [
            entry
            for entry in self.rates
            if entry.currency == currency and entry.effective_from <= at
        ]
        if not in_force:
            raise RuleViolated(
                f"no exchange rate for {currency} is in force at {at.isoformat()}; "
                f"set one with POST /exchange-rates."
            )
        # Latest effective date wins; among equal dates, the one recorded last.
        return max(enumerate(in_force), key=lambda pair: (pair[1].effective_from, pair[0]))[1].rate

    def convert(self, money: Money, to_currency: str, at: datetime) -> Money:
        if money.currency == to_currency:
            return money.rounded()
        return convert(
            money,
            to_currency,
            rate_from=self.rate_at(money.currency, at),
            rate_to=self.rate_at(to_currency, at),
        )


class ExchangeRatesStarted(Event[ExchangeRates], frozen=True, kw_only=True):
    reporting_currency: str

    def apply(self, state: ExchangeRates | None) -> ExchangeRates:
        return ExchangeRates(id=self.originator_id, reporting_currency=self.reporting_currency)


class ExchangeRateSet(Event[ExchangeRates], frozen=True, kw_only=True):
    currency: str
    rate: Decimal
    effective_from: datetime

    def apply(self, state: ExchangeRates) -> ExchangeRates:
        entry = RateEntry(self.currency, self.rate, self.effective_from)
        return evolve(state, rates=(*state.rates, entry))


ExchangeRatesEvent = ExchangeRatesStarted | ExchangeRateSet


def start(reporting_currency: str) -> list[ExchangeRatesEvent]:
    check_currency(reporting_currency)
    return [ExchangeRatesStarted(reporting_currency=reporting_currency)]


def set_rate(
    state: ExchangeRates, currency: str, rate: Decimal, effective_from: datetime
) -> list[ExchangeRatesEvent]:
    check_currency(currency)
    if currency == state.reporting_currency:
        raise RuleViolated(
            f"{currency} is the reporting currency; its rate is always 1 and cannot be set."
        )
    if not rate.is_finite() or rate <= 0:
        raise InvalidInput("an exchange rate must be a positive decimal number.")
    check_decimal(rate, "an exchange rate", places=limits.RATE_PLACES)
    return [ExchangeRateSet(currency=currency, rate=rate, effective_from=effective_from)]


__all__ = ["EXCHANGE_RATES_ID", "ExchangeRateSet", "ExchangeRates", "ExchangeRatesStarted"]
