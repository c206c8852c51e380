"""An event's payload (the Kafka envelope's ``data``, and what history answers) writes each
decimal in full, in the form requests take: never with an exponent."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from uuid import uuid4

from hypothesis import given
from hypothesis import strategies as st

from domain.events import payload
from domain.exchange_rates import ExchangeRateSet


def _rate_set(rate: Decimal) -> ExchangeRateSet:
    return ExchangeRateSet(
        originator_id=uuid4(),
        originator_version=2,
        recorded_at=datetime(2027, 1, 4, tzinfo=UTC),
        currency="JPY",
        rate=rate,
        effective_from=datetime(2027, 1, 4, tzinfo=UTC),
    )


def test_a_tiny_rate_is_written_in_full() -> None:
    # Given a rate Python would write as 5.682E-9, When its event becomes a payload
    data = payload(_rate_set(Decimal("0.000000005682")))
    # Then the rate is the decimal a request would send
    assert data["rate"] == "0.000000005682"


@given(rate=st.decimals(min_value=Decimal("1E-12"), max_value=Decimal("1E+6"), places=12))
def test_every_rate_is_written_without_exponent_and_reads_back_equal(rate: Decimal) -> None:
    written = payload(_rate_set(rate))["rate"]
    assert "E" not in written.upper() and Decimal(written) == rate
