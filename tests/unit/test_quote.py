"""Quote: Given / When / Then against events (single-aggregate rules; see test_selling).

Money figures are hand-computed in the comments:
``line = round_half_up(quantity × unit_price × (1 − discount/100))`` to the quote
currency's minor unit; ``total = Σ lines + rounding``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

import msgspec
import pytest

from domain import quote, sellable
from domain.errors import InvalidInput, Locked, NotFound, RuleViolated
from domain.events import DomainEvent
from domain.price_book import PriceBook
from domain.product import ProductDeactivated
from domain.quote import (
    OfferGenerated,
    Quote,
    QuoteCreated,
    QuoteCurrencyChanged,
    QuoteDeleted,
    QuoteDetailsChanged,
    QuoteItem,
    QuoteItemAdded,
    QuoteItemChanged,
    QuoteItemRemoved,
    QuoteLocked,
    QuoteRoundingSet,
    QuoteUnlocked,
    SellableProduct,
)
from tests.builders import (
    DOCUMENT,
    NOW,
    OPPORTUNITY_ID,
    QUOTE_ID,
    item,
    money,
    price_book_of,
    product,
    quote_created,
    quote_state,
)
from tests.gwt import given

ITEM = UUID("00000000-0000-4000-8000-0000000001a1")
OTHER_ITEM = UUID("00000000-0000-4000-8000-0000000001a2")

LIC = product("LIC")  # time-based, 12 months
IMPL = product("IMPL", kind="one_off")
BOOK = price_book_of(
    (LIC.id, "user", "EUR", "25.00"),
    (LIC.id, "user", "USD", "27.50"),
    (IMPL.id, "day", "EUR", "1200.00"),
    (IMPL.id, "hour", "EUR", "160.00"),
    brand="Acme",
    product_version="2027.1",
)
Command = Callable[[Quote], list[DomainEvent]]


def _priced(
    q: Quote,
    *,
    unit: str | None = None,
    quantity: str = "10",
    discount: str = "0",
    book: PriceBook = BOOK,
    sells: SellableProduct | None = None,
) -> QuoteItem:
    """What the add-item command builds for a product of the quote's price book."""
    return quote.price_book_item(
        q,
        book,
        item_id=ITEM,
        sellable=sells or sellable.of_product(LIC),
        quantity=Decimal(quantity),
        unit=unit,
        discount_pct=Decimal(discount),
    )


def _add_priced(q: Quote, **options: Any) -> list[DomainEvent]:
    return quote.add_item(q, _priced(q, **options))


def _line(
    quantity: str, unit_price: str, discount: str = "0", *, kind: str = "one_off"
) -> QuoteItem:
    return item(unit_price, quantity, discount, kind=kind)


# --- create -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "given_at_creation", "brand", "product_version"),
    [
        # a quote priced from a book takes its brand and version
        (" Q1 ", {}, "Acme", "2027.1"),
        # a brand and version given at creation win over the book
        ("Q1", {"brand": "Beta", "product_version": "9"}, "Beta", "9"),
    ],
    ids=["from the book", "given at creation"],
)
def test_a_quote_priced_from_a_book_takes_its_brand_and_version_unless_given(
    name: str, given_at_creation: dict[str, str], brand: str, product_version: str
) -> None:
    given().when(
        lambda _: quote.create(OPPORTUNITY_ID, name, "EUR", price_book=BOOK, **given_at_creation)
    ).then(
        QuoteCreated(
            opportunity_id=OPPORTUNITY_ID,
            name="Q1",
            currency="EUR",
            price_book_id=BOOK.id,
            brand=brand,
            product_version=product_version,
        )
    )


def test_a_quote_without_a_price_book_has_no_brand_unless_given() -> None:
    given().when(
        lambda _: quote.create(
            OPPORTUNITY_ID,
            "Q1",
            "JPY",
            valid_from=date(2027, 1, 1),
            valid_until=date(2027, 1, 31),
        )
    ).then(
        QuoteCreated(
            opportunity_id=OPPORTUNITY_ID,
            name="Q1",
            currency="JPY",
            valid_from=date(2027, 1, 1),
            valid_until=date(2027, 1, 31),
        )
    )


def test_a_new_quote_is_inactive_unlocked_and_empty() -> None:
    state = quote_state()
    assert (state.active, state.locked, state.items, state.total) == (
        False,
        False,
        (),
        money("0.00", "EUR"),
    )


def test_a_quote_cannot_be_priced_from_an_inactive_book() -> None:
    inactive = price_book_of(name="Old", active=False)
    given().when(
        lambda _: quote.create(OPPORTUNITY_ID, "Q1", "EUR", price_book=inactive)
    ).then_raises(RuleViolated, "price book 'Old' is inactive.")


def test_a_quote_needs_a_name() -> None:
    given().when(lambda _: quote.create(OPPORTUNITY_ID, "  ", "EUR")).then_raises(
        InvalidInput, "a quote needs a name."
    )


def test_an_unknown_currency_is_refused() -> None:
    given().when(lambda _: quote.create(OPPORTUNITY_ID, "Q1", "XYZ")).then_raises(
        InvalidInput, "'XYZ' is not an ISO 4217 currency code."
    )


def test_a_currency_without_a_minor_unit_is_refused() -> None:
    given().when(lambda _: quote.create(OPPORTUNITY_ID, "Q1", "XAU")).then_raises(
        InvalidInput, "XAU has no minor unit and cannot be used for prices."
    )


def test_a_quote_cannot_end_before_it_starts() -> None:
    given().when(
        lambda _: quote.create(
            OPPORTUNITY_ID, "Q1", "EUR", valid_from=date(2027, 2, 1), valid_until=date(2027, 1, 31)
        )
    ).then_raises(InvalidInput, "a quote cannot be valid until a date before it is valid from.")


# --- details ----------------------------------------------------------------------


def test_changing_details_keeps_what_is_not_given() -> None:
    given(quote_created(valid_from=date(2027, 1, 1), valid_until=date(2027, 1, 31))).when(
        lambda q: quote.change_details(q, name=" Q1 final ", valid_from=None, valid_until=None)
    ).then(
        QuoteDetailsChanged(
            name="Q1 final", valid_from=date(2027, 1, 1), valid_until=date(2027, 1, 31)
        )
    )


def test_a_new_validity_end_is_checked_against_the_kept_start() -> None:
    given(quote_created(valid_from=date(2027, 1, 1))).when(
        lambda q: quote.change_details(q, name=None, valid_from=None, valid_until=date(2026, 12, 1))
    ).then_raises(InvalidInput, "a quote cannot be valid until a date before it is valid from.")


def test_details_cannot_blank_the_name() -> None:
    given(quote_created()).when(
        lambda q: quote.change_details(q, name=" ", valid_from=None, valid_until=None)
    ).then_raises(InvalidInput, "a quote needs a name.")


# --- add item -----------------------------------------------------------------------


def test_adding_a_manual_item_records_it() -> None:
    manual = item("25.00", "10", item_id=ITEM)
    when = given(quote_created()).when(lambda q: quote.add_item(q, manual))
    when.then(QuoteItemAdded(item=manual))
    # 10 × 25.00 = 250.00
    assert when.then_state().total == money("250.00", "EUR")


def test_an_item_id_is_unique_within_a_quote() -> None:
    given(quote_created(), QuoteItemAdded(item=item(item_id=ITEM))).when(
        lambda q: quote.add_item(q, item(item_id=ITEM))
    ).then_raises(RuleViolated, f"quote 'Q1' already has an item {ITEM}.")


@pytest.mark.parametrize(
    ("bad", "sentence"),
    [
        (item(quantity="0"), "a quantity must be positive."),
        (item(quantity="-1"), "a quantity must be positive."),
        (item(quantity="1.0000001"), "a quantity has more than 6 decimal places."),
        (item(unit_price="-0.01"), "a unit price must be zero or more."),
        (item(unit_price="0.0000001"), "a unit price has more than 6 decimal places."),
        (item(discount="100.01"), "a discount is a percentage from 0 to 100."),
        (item(discount="-5"), "a discount must be zero or more."),
        (item(discount="10.00001"), "a discount has more than 4 decimal places."),
        (item(name=" "), "a quote item needs a name."),
        (item(term_months=None), "a time-based item needs a term of 1 to 240 months."),
        (item(term_months=241), "a time-based item needs a term of 1 to 240 months."),
        (item(quantity="NaN"), "a quantity must be a finite decimal number."),
    ],
)
def test_an_invalid_item_is_refused_with_a_sentence(bad: QuoteItem, sentence: str) -> None:
    given(quote_created()).when(lambda q: quote.add_item(q, bad)).then_raises(
        InvalidInput, sentence
    )


def test_a_one_off_item_has_no_term() -> None:
    one_off = msgspec.structs.replace(item(kind="one_off"), term_months=6)
    given(quote_created()).when(lambda q: quote.add_item(q, one_off)).then_raises(
        InvalidInput, "a one-off item has no term; leave term_months out."
    )


def test_a_unit_is_a_short_name() -> None:
    bad = msgspec.structs.replace(item(), unit=" ")
    given(quote_created()).when(lambda q: quote.add_item(q, bad)).then_raises(
        InvalidInput, "a unit is a name of 1 to 32 characters"
    )


def test_a_free_item_and_a_full_discount_are_allowed() -> None:
    free = item("0", "1", item_id=ITEM)
    given(quote_created()).when(lambda q: quote.add_item(q, free)).then(QuoteItemAdded(item=free))
    gift = item("25.00", "1", "100", item_id=OTHER_ITEM)
    assert gift.line_total("EUR") == money("0.00", "EUR")


# --- price-book items -------------------------------------------------------------


def test_a_price_book_item_takes_its_price_kind_term_and_only_unit_from_the_book() -> None:
    priced = _priced(quote_state(price_book_id=BOOK.id), discount="10")
    assert priced == QuoteItem(
        id=ITEM,
        product_id=LIC.id,
        name="Product LIC",
        quantity=Decimal(10),
        unit="user",  # the only unit the book prices LIC in
        unit_price=Decimal("25.00"),
        discount_pct=Decimal(10),
        kind="time_based",
        term_months=12,
        category="software",
        source="price_book",
    )
    given(quote_created(price_book_id=BOOK.id)).when(lambda q: quote.add_item(q, priced)).then(
        QuoteItemAdded(item=priced)
    )


def test_a_price_book_item_is_priced_in_the_quote_currency() -> None:
    priced = _priced(quote_state(price_book_id=BOOK.id, currency="USD"))
    assert (priced.unit, priced.unit_price) == ("user", Decimal("27.50"))


def test_a_given_unit_is_trimmed() -> None:
    book = price_book_of((LIC.id, "user", "EUR", "25.00"))
    priced = _priced(quote_state(price_book_id=book.id), unit="  user ", quantity="1", book=book)
    assert priced.unit == "user"


def test_the_default_unit_is_the_one_priced_in_the_quote_currency() -> None:
    # Priced per user in EUR and per seat only in USD: an EUR quote needs no unit.
    book = price_book_of((LIC.id, "user", "EUR", "25.00"), (LIC.id, "seat", "USD", "27.00"))
    priced = _priced(quote_state(price_book_id=book.id), quantity="2", book=book)
    assert (priced.unit, priced.unit_price) == ("user", Decimal("25.00"))


def test_a_free_item_priced_zero_still_defaults_its_unit() -> None:
    book = price_book_of((LIC.id, "user", "EUR", "0"), (LIC.id, "seat", "USD", "1"))
    priced = _priced(quote_state(price_book_id=book.id), quantity="1", book=book)
    assert priced.line_total("EUR") == money("0.00", "EUR")


def test_a_product_priced_in_several_units_needs_the_unit_named() -> None:
    given(quote_created(price_book_id=BOOK.id)).when(
        lambda q: _add_priced(q, sells=sellable.of_product(IMPL))
    ).then_raises(InvalidInput, "'Product IMPL' is priced per day, hour; say which unit.")


def test_a_named_unit_picks_its_price() -> None:
    priced = _priced(
        quote_state(price_book_id=BOOK.id), unit="hour", sells=sellable.of_product(IMPL)
    )
    assert (priced.unit, priced.unit_price, priced.kind, priced.term_months) == (
        "hour",
        Decimal("160.00"),
        "one_off",
        None,
    )


def test_a_unit_the_book_does_not_price_is_refused_with_the_units_it_has() -> None:
    given(quote_created(price_book_id=BOOK.id)).when(
        lambda q: _add_priced(q, unit="seat")
    ).then_raises(
        RuleViolated, "price book 'Standard' prices 'Product LIC' per user, not per seat."
    )


def test_a_currency_the_book_does_not_price_is_refused_with_the_currencies_it_has() -> None:
    given(quote_created(price_book_id=BOOK.id, currency="CHF")).when(_add_priced).then_raises(
        RuleViolated,
        "price book 'Standard' has no CHF price for 'Product LIC' per user (it has EUR, USD).",
    )


def test_a_product_missing_from_the_book_is_refused() -> None:
    unpriced = product("NEW")
    given(quote_created(price_book_id=BOOK.id)).when(
        lambda q: _add_priced(q, sells=sellable.of_product(unpriced))
    ).then_raises(RuleViolated, "price book 'Standard' has no price for 'Product NEW'.")


def test_an_inactive_product_cannot_be_quoted() -> None:
    retired = ProductDeactivated().apply(LIC)
    given(quote_created(price_book_id=BOOK.id)).when(
        lambda q: _add_priced(q, sells=sellable.of_product(retired))
    ).then_raises(RuleViolated, "'Product LIC' is inactive and cannot be quoted.")


def test_a_price_book_item_needs_the_quote_to_be_priced_from_that_book() -> None:
    given(quote_created()).when(_add_priced).then_raises(
        RuleViolated, "quote 'Q1' is not priced from price book 'Standard'."
    )


def test_a_price_book_item_cannot_come_from_an_inactive_book() -> None:
    old = price_book_of((LIC.id, "user", "EUR", "25.00"), name="Old", active=False)
    given(quote_created(price_book_id=old.id)).when(lambda q: _add_priced(q, book=old)).then_raises(
        RuleViolated, "price book 'Old' is inactive."
    )


# --- change and remove items --------------------------------------------------------

MANUAL = item("100.00", "2", item_id=ITEM)
FROM_BOOK = item("25.00", "10", source="price_book", product_id=LIC.id, item_id=OTHER_ITEM)


def test_changing_an_item_records_the_whole_changed_item() -> None:
    when = given(quote_created(), QuoteItemAdded(item=MANUAL)).when(
        lambda q: quote.change_item(q, ITEM, quantity=Decimal(3), discount_pct=Decimal("12.5"))
    )
    when.then(
        QuoteItemChanged(
            item=msgspec.structs.replace(MANUAL, quantity=Decimal(3), discount_pct=Decimal("12.5"))
        )
    )
    # 3 × 100.00 × (1 − 0.125) = 262.50
    assert when.then_state().total == money("262.50", "EUR")


def test_the_unit_price_of_a_manual_item_can_change() -> None:
    given(quote_created(), QuoteItemAdded(item=MANUAL)).when(
        lambda q: quote.change_item(q, ITEM, unit_price=Decimal("90.00"))
    ).then(QuoteItemChanged(item=msgspec.structs.replace(MANUAL, unit_price=Decimal("90.00"))))


def test_the_unit_price_of_a_price_book_item_cannot_change() -> None:
    given(quote_created(price_book_id=BOOK.id), QuoteItemAdded(item=FROM_BOOK)).when(
        lambda q: quote.change_item(q, OTHER_ITEM, unit_price=Decimal("20.00"))
    ).then_raises(
        RuleViolated,
        "the unit price of a price-book item comes from its price book; "
        "give a discount or add a manual item instead.",
    )


def test_a_price_book_item_can_change_its_quantity_and_discount() -> None:
    given(quote_created(price_book_id=BOOK.id), QuoteItemAdded(item=FROM_BOOK)).when(
        # Repeating its own unit price is not a price change.
        lambda q: quote.change_item(
            q,
            OTHER_ITEM,
            quantity=Decimal(12),
            discount_pct=Decimal(5),
            unit_price=Decimal("25.00"),
        )
    ).then(
        QuoteItemChanged(
            item=msgspec.structs.replace(FROM_BOOK, quantity=Decimal(12), discount_pct=Decimal(5))
        )
    )


def test_an_item_name_and_start_can_change() -> None:
    given(quote_created(), QuoteItemAdded(item=MANUAL)).when(
        lambda q: quote.change_item(q, ITEM, name=" CRM licence EU ", start=date(2027, 2, 1))
    ).then(
        QuoteItemChanged(
            item=msgspec.structs.replace(MANUAL, name="CRM licence EU", start=date(2027, 2, 1))
        )
    )


def test_a_change_that_changes_nothing_is_refused() -> None:
    given(quote_created(), QuoteItemAdded(item=MANUAL)).when(
        lambda q: quote.change_item(q, ITEM, quantity=Decimal("2.0"))
    ).then_raises(RuleViolated, "the change leaves the item as it is; nothing to record.")


def test_a_changed_item_is_validated_like_a_new_one() -> None:
    given(quote_created(), QuoteItemAdded(item=MANUAL)).when(
        lambda q: quote.change_item(q, ITEM, discount_pct=Decimal(101))
    ).then_raises(InvalidInput, "a discount is a percentage from 0 to 100.")


def test_changing_an_unknown_item_is_refused() -> None:
    given(quote_created()).when(
        lambda q: quote.change_item(q, ITEM, quantity=Decimal(1))
    ).then_raises(NotFound, f"quote 'Q1' has no item {ITEM}.")


def test_removing_an_item_drops_it_from_the_total() -> None:
    when = given(quote_created(), QuoteItemAdded(item=MANUAL), QuoteItemAdded(item=FROM_BOOK)).when(
        lambda q: quote.remove_item(q, ITEM)
    )
    when.then(QuoteItemRemoved(item_id=ITEM))
    state = when.then_state()
    # 10 × 25.00 = 250.00 left
    assert ([i.id for i in state.items], state.total) == ([OTHER_ITEM], money("250.00", "EUR"))


def test_removing_an_unknown_item_is_refused() -> None:
    given(quote_created()).when(lambda q: quote.remove_item(q, ITEM)).then_raises(
        NotFound, "has no item"
    )


# --- rounding item ----------------------------------------------------------------


def test_a_rounding_amount_is_added_to_the_total() -> None:
    when = given(quote_created(), QuoteItemAdded(item=MANUAL)).when(
        lambda q: quote.set_rounding(q, Decimal("-0.50"))
    )
    when.then(QuoteRoundingSet(rounding=Decimal("-0.50")))
    # 2 × 100.00 − 0.50 = 199.50
    assert when.then_state().total == money("199.50", "EUR")


def test_clearing_the_rounding_amount() -> None:
    when = given(
        quote_created(), QuoteItemAdded(item=MANUAL), QuoteRoundingSet(rounding=Decimal("-0.50"))
    ).when(lambda q: quote.set_rounding(q, None))
    when.then(QuoteRoundingSet(rounding=None))
    assert when.then_state().total == money("200.00", "EUR")


@pytest.mark.parametrize(
    ("currency", "rounding", "places"),
    [("EUR", "0.001", 2), ("JPY", "0.5", 0), ("KWD", "0.0005", 3)],
)
def test_a_rounding_amount_has_at_most_the_currency_decimals(
    currency: str, rounding: str, places: int
) -> None:
    given(quote_created(currency=currency)).when(
        lambda q: quote.set_rounding(q, Decimal(rounding))
    ).then_raises(
        RuleViolated, f"a rounding amount in {currency} has at most {places} decimal places."
    )


@pytest.mark.parametrize(
    ("currency", "rounding"), [("EUR", "-0.01"), ("JPY", "-3"), ("KWD", "0.005")]
)
def test_a_rounding_amount_within_the_currency_decimals_is_accepted(
    currency: str, rounding: str
) -> None:
    given(quote_created(currency=currency)).when(
        lambda q: quote.set_rounding(q, Decimal(rounding))
    ).then(QuoteRoundingSet(rounding=Decimal(rounding)))


def test_a_rounding_amount_must_be_finite() -> None:
    given(quote_created()).when(lambda q: quote.set_rounding(q, Decimal("Infinity"))).then_raises(
        InvalidInput, "a rounding amount must be a finite decimal number."
    )


# --- line totals and totals, hand-computed ------------------------------------------------


@pytest.mark.parametrize(
    ("quantity", "unit_price", "discount", "currency", "expected"),
    [
        # 3 × 19.99 = 59.97; × 0.85 = 50.9745 → 50.97
        ("3", "19.99", "15", "EUR", "50.97"),
        # 1 × 0.125 = 0.125 → 0.13 (half up; banker's would give 0.12)
        ("1", "0.125", "0", "EUR", "0.13"),
        # 1 × 10.45 × 0.5 = 5.225 → 5.23 (half up; banker's 5.22)
        ("1", "10.45", "50", "EUR", "5.23"),
        # 2.5 × 19.99 = 49.975 → 49.98
        ("2.5", "19.99", "0", "EUR", "49.98"),
        # 2 × 10.005 × 0.9 = 18.009 → 18.01
        ("2", "10.005", "10", "EUR", "18.01"),
        # 10 × 25 × 0 = 0 → 0.00
        ("10", "25", "100", "EUR", "0.00"),
        # JPY has no decimals: 3 × 333.5 = 1000.5 → 1001 (banker's 1000)
        ("3", "333.5", "0", "JPY", "1001"),
        # 7 × 1499 = 10493; × 0.875 = 9181.375 → 9181
        ("7", "1499", "12.5", "JPY", "9181"),
        # 1 × 1499.49 → 1499
        ("1", "1499.49", "0", "JPY", "1499"),
        # KWD has 3 decimals: 1 × 1.2345 → 1.235 (half up; banker's 1.234)
        ("1", "1.2345", "0", "KWD", "1.235"),
        # 3 × 4.1235 = 12.3705; × 0.9 = 11.13345 → 11.133
        ("3", "4.1235", "10", "KWD", "11.133"),
        # 4 × 2.5 = 10 → 10.000
        ("4", "2.5", "0", "KWD", "10.000"),
    ],
)
def test_a_line_is_rounded_half_up_to_the_currency_minor_unit(
    quantity: str, unit_price: str, discount: str, currency: str, expected: str
) -> None:
    line = _line(quantity, unit_price, discount).line_total(currency)
    assert line.currency == currency
    assert str(line.amount) == expected


def test_each_line_is_rounded_before_the_lines_are_summed() -> None:
    state = quote_state(
        QuoteItemAdded(item=_line("1", "0.125")), QuoteItemAdded(item=_line("1", "0.125"))
    )
    # 0.13 + 0.13 = 0.26, not round(0.125 + 0.125) = 0.25
    assert state.total == money("0.26", "EUR")


def test_the_total_is_the_sum_of_lines_plus_rounding_in_eur() -> None:
    state = quote_state(
        QuoteItemAdded(item=_line("3", "19.99", "15")),  # 50.97
        QuoteItemAdded(item=_line("1", "10.45", "50")),  # 5.23
        QuoteRoundingSet(rounding=Decimal("-0.20")),
    )
    # 50.97 + 5.23 − 0.20 = 56.00
    assert str(state.total.amount) == "56.00"
    assert state.total == money("56.00", "EUR")


def test_the_total_in_jpy_has_no_decimals() -> None:
    state = quote_state(
        QuoteItemAdded(item=_line("3", "333.5")),  # 1001
        QuoteItemAdded(item=_line("7", "1499", "12.5")),  # 9181
        QuoteRoundingSet(rounding=Decimal("-2")),
        currency="JPY",
    )
    # 1001 + 9181 − 2 = 10180
    assert (str(state.total.amount), state.total.currency) == ("10180", "JPY")


def test_the_total_in_kwd_has_three_decimals() -> None:
    state = quote_state(
        QuoteItemAdded(item=_line("1", "1.2345")),  # 1.235
        QuoteItemAdded(item=_line("3", "4.1235", "10")),  # 11.133
        currency="KWD",
    )
    # 1.235 + 11.133 = 12.368
    assert (str(state.total.amount), state.total.currency) == ("12.368", "KWD")


def test_an_empty_quote_totals_zero_in_its_currency() -> None:
    assert str(quote_state(currency="JPY").total.amount) == "0"
    assert str(quote_state(currency="KWD").total.amount) == "0.000"


# --- currency change ------------------------------------------------------------------


def test_price_book_items_are_repriced_from_the_book_in_the_new_currency() -> None:
    when = given(quote_created(price_book_id=BOOK.id), QuoteItemAdded(item=FROM_BOOK)).when(
        lambda q: quote.change_currency(q, "USD", price_book=BOOK, rate_from=None, rate_to=None)
    )
    when.then(
        QuoteCurrencyChanged(
            currency="USD",
            items=(msgspec.structs.replace(FROM_BOOK, unit_price=Decimal("27.50")),),
            rounding=None,
        )
    )
    # 10 × 27.50 = 275.00 USD
    assert when.then_state().total == money("275.00", "USD")


def test_a_currency_the_book_lacks_is_refused_for_price_book_items() -> None:
    given(quote_created(price_book_id=BOOK.id), QuoteItemAdded(item=FROM_BOOK)).when(
        lambda q: quote.change_currency(
            q, "GBP", price_book=BOOK, rate_from=Decimal(1), rate_to=Decimal("1.17")
        )
    ).then_raises(
        RuleViolated,
        "the price book has no GBP price for 'CRM licence' per user; "
        "add one to the price book or keep the quote in EUR.",
    )


def test_manual_items_are_converted_with_the_rates_and_keep_their_discount() -> None:
    manual = item("100.00", "2", "10", item_id=ITEM)
    when = given(quote_created(), QuoteItemAdded(item=manual)).when(
        # EUR is the reporting currency (rate 1); 1 USD = 0.9 EUR
        lambda q: quote.change_currency(
            q, "USD", price_book=None, rate_from=Decimal(1), rate_to=Decimal("0.9")
        )
    )
    # 100.00 × 1 / 0.9 = 111.111… → 111.11 USD
    converted = msgspec.structs.replace(manual, unit_price=Decimal("111.11"))
    when.then(QuoteCurrencyChanged(currency="USD", items=(converted,), rounding=None))
    state = when.then_state()
    assert state.items[0].discount_pct == Decimal(10)
    # 2 × 111.11 × 0.9 = 199.998 → 200.00 USD (the discount still applies)
    assert state.total == money("200.00", "USD")


def test_a_converted_unit_price_is_rounded_half_up_to_the_new_minor_unit() -> None:
    manual = item("10.00", "1", item_id=ITEM)
    # 1 JPY = 0.0064 EUR: 10.00 × 1 / 0.0064 = 1562.5 → 1563 JPY (banker's 1562)
    [changed] = quote.change_currency(
        quote_state(QuoteItemAdded(item=manual)),
        "JPY",
        price_book=None,
        rate_from=Decimal(1),
        rate_to=Decimal("0.0064"),
    )
    assert isinstance(changed, QuoteCurrencyChanged)
    assert str(changed.items[0].unit_price) == "1563"


def test_a_conversion_to_kwd_keeps_three_decimals() -> None:
    manual = item("12.33", "1", item_id=ITEM)
    # USD 0.8 and KWD 3.2 reporting units: 12.33 × 0.8 / 3.2 = 3.0825 → 3.083 (banker's 3.082)
    [changed] = quote.change_currency(
        quote_state(QuoteItemAdded(item=manual), currency="USD"),
        "KWD",
        price_book=None,
        rate_from=Decimal("0.8"),
        rate_to=Decimal("3.2"),
    )
    assert isinstance(changed, QuoteCurrencyChanged)
    assert str(changed.items[0].unit_price) == "3.083"


def test_the_rounding_item_is_converted_too() -> None:
    given(quote_created(), QuoteRoundingSet(rounding=Decimal("-0.50"))).when(
        # −0.50 × 1 / 0.9 = −0.5555… → −0.56 USD
        lambda q: quote.change_currency(
            q, "USD", price_book=None, rate_from=Decimal(1), rate_to=Decimal("0.9")
        )
    ).then(QuoteCurrencyChanged(currency="USD", items=(), rounding=Decimal("-0.56")))


def test_a_mixed_quote_reprices_book_items_and_converts_manual_ones() -> None:
    manual = item("100.00", "2", "10", item_id=ITEM)
    state = (
        given(
            quote_created(price_book_id=BOOK.id),
            QuoteItemAdded(item=FROM_BOOK),
            QuoteItemAdded(item=manual),
        )
        .when(
            lambda q: quote.change_currency(
                q, "USD", price_book=BOOK, rate_from=Decimal(1), rate_to=Decimal("0.9")
            )
        )
        .then_state()
    )
    assert [i.unit_price for i in state.items] == [Decimal("27.50"), Decimal("111.11")]
    # 275.00 + 200.00 = 475.00 USD
    assert (state.currency, state.total) == ("USD", money("475.00", "USD"))


def test_converting_manual_items_needs_both_rates() -> None:
    given(quote_created(), QuoteItemAdded(item=MANUAL)).when(
        lambda q: quote.change_currency(
            q, "USD", price_book=None, rate_from=Decimal(1), rate_to=None
        )
    ).then_raises(
        RuleViolated,
        "converting manual items from EUR to USD needs exchange rates for both currencies.",
    )


def test_changing_to_the_currency_it_has_is_refused() -> None:
    given(quote_created()).when(
        lambda q: quote.change_currency(q, "EUR", price_book=None, rate_from=None, rate_to=None)
    ).then_raises(RuleViolated, "the quote is already in EUR.")


def test_changing_to_an_unknown_currency_is_refused() -> None:
    given(quote_created()).when(
        lambda q: quote.change_currency(q, "EURO", price_book=None, rate_from=None, rate_to=None)
    ).then_raises(InvalidInput, "'EURO' is not an ISO 4217 currency code.")


def test_non_positive_rates_are_refused() -> None:
    given(quote_created(), QuoteItemAdded(item=MANUAL)).when(
        lambda q: quote.change_currency(
            q, "USD", price_book=None, rate_from=Decimal(1), rate_to=Decimal(0)
        )
    ).then_raises(InvalidInput, "exchange rates must be positive.")


# --- offers -----------------------------------------------------------------------


def test_recording_an_offer_keeps_its_document_and_hash() -> None:
    digest = "ab" * 32
    when = given(quote_created(), QuoteItemAdded(item=MANUAL)).when(
        lambda q: quote.record_offer(q, DOCUMENT, digest, NOW)
    )
    when.then(OfferGenerated(document_id=DOCUMENT, sha256=digest, generated_at=NOW))
    [offer] = when.then_state().offers
    assert (offer.document_id, offer.sha256, offer.generated_at) == (DOCUMENT, digest, NOW)


def test_an_offer_needs_at_least_one_item() -> None:
    given(quote_created()).when(
        lambda q: quote.record_offer(q, DOCUMENT, "ab" * 32, NOW)
    ).then_raises(RuleViolated, "quote 'Q1' has no items to offer.")


# --- locked and deleted quotes ----------------------------------------------------------

CHANGES: dict[str, Command] = {
    "change_details": lambda q: quote.change_details(
        q, name="Q2", valid_from=None, valid_until=None
    ),
    "add_item": lambda q: quote.add_item(q, item()),
    "change_item": lambda q: quote.change_item(q, ITEM, quantity=Decimal(5)),
    "remove_item": lambda q: quote.remove_item(q, ITEM),
    "set_rounding": lambda q: quote.set_rounding(q, Decimal("0.10")),
    "change_currency": lambda q: quote.change_currency(
        q, "USD", price_book=None, rate_from=Decimal(1), rate_to=Decimal("0.9")
    ),
    "record_offer": lambda q: quote.record_offer(q, DOCUMENT, "ab" * 32, NOW),
}


@pytest.mark.parametrize("command", CHANGES.values(), ids=CHANGES.keys())
def test_a_locked_quote_cannot_change(command: Command) -> None:
    given(quote_created(), QuoteItemAdded(item=MANUAL), QuoteLocked()).when(command).then_raises(
        Locked, "quote 'Q1' is locked because its opportunity was sold."
    )


@pytest.mark.parametrize("command", CHANGES.values(), ids=CHANGES.keys())
def test_an_unlocked_quote_can_change_again(command: Command) -> None:
    decided = command(quote_state(QuoteItemAdded(item=MANUAL), QuoteLocked(), QuoteUnlocked()))
    assert len(decided) == 1


@pytest.mark.parametrize("command", CHANGES.values(), ids=CHANGES.keys())
def test_a_deleted_quote_cannot_change(command: Command) -> None:
    given(quote_created(), QuoteItemAdded(item=MANUAL), QuoteDeleted()).when(command).then_raises(
        NotFound, f"quote {QUOTE_ID} was deleted."
    )
