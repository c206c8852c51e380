"""What a request body's schema admits, the domain accepts (adapters/http/shapes.py).

The schema's patterns and enums are written from what the domain does: whitespace is
what Python's ``str.isspace`` (the domain's ``strip``) takes, currencies are the codes
``domain.money`` computes in, and every decimal, key, period, login or e-mail address a
pattern admits is one the domain's own checks pass — so a body the document admits is
never refused for its shape further in. Decimals match their pattern exactly when they
are canonical and within the domain's bounds.
"""

from __future__ import annotations

import re
import sys
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from iso4217 import Currency

from adapters.http import patterns, shapes
from domain import limits, offer, pipeline
from domain.account import Address, check_address, check_website
from domain.aggregate import fold
from domain.errors import InvalidInput
from domain.lead.rules import check_personal
from domain.money import Money, minor_unit
from domain.offer import TOKENS
from domain.periods import first_day, kind_of
from domain.personal_data import PersonalData
from domain.price_book import check_decimal
from domain.user import valid_login
from tests.builders import quote_created

TODAY = date(2027, 1, 4)
WHITESPACE = "".join(chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace())
ANY_TEXT = st.text(st.sampled_from([*WHITESPACE, "\x00", "a", "é", "😀", "_"]) | st.characters())


def matches(pattern: str, text: str) -> bool:
    return re.fullmatch(pattern, text) is not None


def test_the_whitespace_of_the_patterns_is_what_the_domain_strips() -> None:
    one = re.compile(f"[{patterns.WHITESPACE}]")
    assert "".join(c for c in map(chr, range(sys.maxunicode + 1)) if one.fullmatch(c)) == (
        WHITESPACE
    )


@given(ANY_TEXT)
def test_not_blank_is_text_that_strips_to_something_without_nul(text: str) -> None:
    assert matches(patterns.NOT_BLANK, text) == ("\x00" not in text and text.strip() != "")
    assert matches(patterns.NO_NUL, text) == ("\x00" not in text)


def test_the_currency_codes_are_those_the_domain_computes_in() -> None:
    for currency in Currency:
        if currency.code in patterns.CURRENCY_CODES:
            assert minor_unit(currency.code) in (0, 2, 3, 4)
        else:
            with pytest.raises(InvalidInput):
                minor_unit(currency.code)


@given(st.text(st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZeu"), min_size=2, max_size=4))
def test_a_code_outside_the_enum_is_no_currency_to_the_domain(code: str) -> None:
    accepted = True
    try:
        minor_unit(code)
    except InvalidInput:
        accepted = False
    assert accepted == (code in patterns.CURRENCY_CODES)


DECIMALS = [
    # (shape, decimal places, lowest value)
    (shapes.decimal(limits.PRICE_PLACES), limits.PRICE_PLACES, Decimal(0)),
    (shapes.positive_decimal(limits.QUANTITY_PLACES), limits.QUANTITY_PLACES, Decimal("1e-6")),
    (shapes.positive_decimal(limits.RATE_PLACES), limits.RATE_PLACES, Decimal("1e-12")),
    (shapes.decimal(limits.MONEY_PLACES), limits.MONEY_PLACES, Decimal(0)),
    (shapes.signed_decimal(limits.MONEY_PLACES), limits.MONEY_PLACES, -Decimal("1e15") + 1),
]


@pytest.mark.parametrize(("shape", "places", "lowest"), DECIMALS, ids=lambda s: str(s)[:30])
@given(data=st.data())
def test_a_decimal_string_is_a_canonical_decimal_within_the_domains_bounds(
    shape: shapes.DecimalText, places: int, lowest: Decimal, data: st.DataObject
) -> None:
    # A string the pattern admits is a decimal from the lowest value up, below 10^15,
    # with at most ``places`` decimals: the domain takes it as a price, quantity or rate
    text = data.draw(st.from_regex(shape.pattern, fullmatch=True))
    value = Decimal(text)
    assert lowest <= value < Decimal(10) ** limits.INTEGER_DIGITS
    check_decimal(abs(value), "it", places=places, positive=lowest > 0)
    # and such a decimal, written plainly, is a string the pattern admits
    written = data.draw(
        st.decimals(lowest, Decimal(10) ** limits.INTEGER_DIGITS - 1, places=places)
    )
    plain = f"{written:f}"
    assert matches(shape.pattern, plain), plain


@given(st.from_regex(shapes.percentage(limits.DISCOUNT_PLACES).pattern, fullmatch=True))
def test_a_discount_string_is_a_percentage_the_domain_takes(text: str) -> None:
    check_decimal(Decimal(text), "a discount", places=limits.DISCOUNT_PLACES)
    assert Decimal(text) <= 100


@given(st.from_regex(shapes.decimal(limits.MONEY_PLACES).pattern, fullmatch=True))
def test_an_amount_string_is_money_in_a_currency_with_four_places(text: str) -> None:
    assert Money.exact(Decimal(text), "CLF").amount == Decimal(text)


@given(st.from_regex(patterns.STAGE_KEY, fullmatch=True).filter(lambda k: len(k) <= limits.CODE))
def test_a_stage_key_the_pattern_admits_makes_a_pipeline(key: str) -> None:
    closed = tuple(s for s in pipeline.DEFAULT_STAGES if s.closed)
    assume(key not in {s.key for s in closed})
    open_stage = pipeline.Stage(key=key, name="Open", probability=10, forecast_category="pipeline")
    assert pipeline.create("partners", (open_stage, *closed))


@given(st.from_regex(patterns.PERIOD, fullmatch=True))
def test_a_period_the_pattern_admits_is_one_to_the_domain(label: str) -> None:
    kind_of(label)
    assert isinstance(first_day(label), date)


@given(st.from_regex(patterns.LOGIN_PATTERN, fullmatch=True))
def test_a_login_the_pattern_admits_is_a_login_to_the_domain(login: str) -> None:
    assert valid_login(login) == login


@given(st.from_regex(patterns.EMAIL, fullmatch=True).filter(lambda e: len(e) <= limits.EMAIL))
def test_an_email_address_the_pattern_admits_is_one_to_the_domain(email: str) -> None:
    lead = check_personal(PersonalData(first_name="", last_name="Doe", email=email))
    assert lead.email == email.strip()


@given(st.from_regex(patterns.WEBSITE, fullmatch=True).filter(lambda w: len(w) <= limits.URL))
def test_a_website_the_pattern_admits_is_one_to_the_domain(website: str) -> None:
    assert check_website(website) == website.strip()


@given(st.from_regex(patterns.COUNTRY, fullmatch=True))
def test_a_country_the_pattern_admits_is_one_to_the_domain(country: str) -> None:
    address = check_address(Address(country=country))
    assert address is not None
    assert address.country == country.upper()


@given(ANY_TEXT)
def test_text_that_is_no_website_to_the_domain_is_refused_by_the_pattern(text: str) -> None:
    try:
        check_website(text)
    except InvalidInput:
        assert not matches(patterns.WEBSITE, text)


TEMPLATE_PIECES = st.sampled_from(
    ["$", "$$", "{", "}", "_", "x", "é", " ", "\x00", *(f"${t}" for t in TOKENS), "${quote}"]
)


@given(st.lists(TEMPLATE_PIECES | st.sampled_from(TOKENS), max_size=8).map("".join))
def test_a_template_the_pattern_admits_is_exactly_one_the_domain_renders(text: str) -> None:
    quote = fold(None, (quote_created(),))
    try:
        offer.render(text, quote=quote, account="A", opportunity="O", owner="o", today=TODAY)
        rendered = "\x00" not in text  # NUL renders, but no text may hold it
    except InvalidInput:
        rendered = False
    assert matches(patterns.TEMPLATE, text) == rendered
