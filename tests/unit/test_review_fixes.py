"""Rules tightened after review: each test pins one of them."""

from __future__ import annotations

from decimal import Decimal
from uuid import uuid4

import msgspec
import pytest

from domain import opportunity, pipeline, quote, selling
from domain.errors import InvalidInput, Locked, RuleViolated
from domain.money import Money, round_half_up
from domain.pipeline import DEFAULT_STAGES
from domain.price_book import check_decimal
from domain.quote import QuoteActivated, QuoteLocked
from domain.sellable import of_product
from tests.builders import (
    opportunity_created,
    opportunity_state,
    price_book,
    product,
    quote_state,
)
from tests.gwt import given


def test_removing_a_partner_when_there_is_none_says_so() -> None:
    given(opportunity_created()).when(
        lambda opp: opportunity.assign_partner(opp, None)
    ).then_raises(RuleViolated, "has no partner to remove")


@pytest.mark.parametrize("written", ["1.0000000", "2.50000000", "100"])
def test_trailing_zeros_are_not_decimal_places(written: str) -> None:
    # 1.0000000 is 1: a quantity of at most 6 decimals is accepted as written.
    check_decimal(Decimal(written), "a quantity", places=6, positive=True)


def test_a_seventh_significant_decimal_is_still_refused() -> None:
    with pytest.raises(InvalidInput, match="more than 6 decimal places"):
        check_decimal(Decimal("1.0000001"), "a quantity", places=6, positive=True)


def test_rounding_a_tiny_negative_amount_gives_zero_not_minus_zero() -> None:
    assert str(round_half_up(Decimal("-0.001"), 2)) == "0.00"
    assert str(Money.of("-0.004", "EUR")) == "0.00 EUR"


def test_deleting_a_locked_active_quote_names_the_lock() -> None:
    opp = opportunity_state()
    locked_active = quote_state(QuoteActivated(), QuoteLocked())
    with pytest.raises(Locked, match="locked because its opportunity was sold"):
        selling.delete_quote(opp, locked_active)


@pytest.mark.parametrize(
    ("closed_as", "probability", "category"),
    [("won", 90, "closed"), ("lost", 10, "omitted"), ("unqualified", 0, "pipeline")],
)
def test_closed_stages_have_fixed_settings(closed_as: str, probability: int, category: str) -> None:
    stages = tuple(
        msgspec.structs.replace(s, probability=probability, forecast_category=category)
        if s.closed == closed_as
        else s
        for s in DEFAULT_STAGES
    )
    with pytest.raises(InvalidInput, match=f"the {closed_as} stage"):
        pipeline.create("custom", stages)


def test_a_given_unit_is_trimmed() -> None:
    licence = product("LIC")
    book = price_book((licence.id, "user", "EUR", "25.00"))
    q = quote_state(price_book_id=book.id)
    priced = quote.price_book_item(
        q,
        book,
        item_id=uuid4(),
        sellable=of_product(licence),
        quantity=Decimal(1),
        unit="  user ",
        discount_pct=Decimal(0),
    )
    assert priced.unit == "user"


def test_the_default_unit_is_the_one_priced_in_the_quote_currency() -> None:
    # Priced per user in EUR and per seat only in USD: an EUR quote needs no unit.
    licence = product("LIC")
    book = price_book((licence.id, "user", "EUR", "25.00"), (licence.id, "seat", "USD", "27.00"))
    q = quote_state(price_book_id=book.id)
    priced = quote.price_book_item(
        q,
        book,
        item_id=uuid4(),
        sellable=of_product(licence),
        quantity=Decimal(2),
        unit=None,
        discount_pct=Decimal(0),
    )
    assert (priced.unit, priced.unit_price) == ("user", Decimal("25.00"))


def test_a_free_item_priced_zero_still_defaults_its_unit() -> None:
    licence = product("LIC")
    book = price_book((licence.id, "user", "EUR", "0"), (licence.id, "seat", "USD", "1"))
    q = quote_state(price_book_id=book.id)
    priced = quote.price_book_item(
        q,
        book,
        item_id=uuid4(),
        sellable=of_product(licence),
        quantity=Decimal(1),
        unit=None,
        discount_pct=Decimal(0),
    )
    assert priced.line_total("EUR") == Money(Decimal("0.00"), "EUR")
