"""HTTP: quotes — create, read, edit, items, rounding, activate, duplicate, currency, offer.

Every quote and document route of ``adapters/http/routes_sales.py``: the happy
path with the shapes of docs/api.md (Money as ``{"amount": "1234.50", "currency":
"EUR"}``), and the refusals (404 unknown id, 422 bad input, 409 rule), each of
which writes nothing.
"""

from __future__ import annotations

import hashlib
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient

from tests.http.helpers import (
    JSON,
    activate,
    add_item,
    command_ok,
    get_opportunity,
    get_quote,
    is_uuid,
    log_position,
    lost,
    make_bundle,
    make_opportunity,
    make_price_book,
    make_product,
    make_quote,
    money,
    priced_product,
    quote_with_item,
    ready_to_sell,
    refused,
    set_price,
    set_rate,
    sold,
)
from tests.identity import TEAM

pytestmark = pytest.mark.users(*TEAM)

QUOTE_FIELDS = {
    "id",
    "version",
    "opportunity_id",
    "name",
    "currency",
    "active",
    "locked",
    "items",
    "total",
}
ITEM_FIELDS = {
    "id",
    "product_id",
    "name",
    "quantity",
    "unit",
    "unit_price",
    "discount_pct",
    "kind",
    "term_months",
    "category",
    "line_total",
}

# --- create and read -------------------------------------------------------------------


def test_a_quote_is_created_on_an_opportunity_and_read_back(client: TestClient) -> None:
    # Given an opportunity
    opportunity_id = make_opportunity(client)
    # When a quote is created on it
    body = {
        "name": "Q1",
        "currency": "EUR",
        "valid_from": "2027-01-04",
        "valid_until": "2027-02-28",
    }
    answer = command_ok(client.post(f"/opportunities/{opportunity_id}/quotes", json=body), 201)
    # Then the answer gives the quote id
    assert answer["quote_id"] == answer["id"]
    # And the quote reads as docs/api.md describes it: inactive, unlocked, empty
    quote = get_quote(client, answer["id"])
    assert set(quote) >= QUOTE_FIELDS
    assert (quote["id"], quote["version"], quote["opportunity_id"]) == (
        answer["id"],
        answer["version"],
        opportunity_id,
    )
    assert (quote["name"], quote["currency"], quote["active"], quote["locked"]) == (
        "Q1",
        "EUR",
        False,
        False,
    )
    assert (quote["valid_from"], quote["valid_until"]) == ("2027-01-04", "2027-02-28")
    assert quote["items"] == []
    assert quote["total"] == {"amount": "0.00", "currency": "EUR"}
    # And the opportunity lists it
    assert get_opportunity(client, opportunity_id)["quote_ids"] == [answer["id"]]


def test_a_quote_priced_from_a_book_takes_the_books_brand_and_version(
    client: TestClient,
) -> None:
    opportunity_id = make_opportunity(client)
    book_id = make_price_book(client, brand="Acme", product_version="7")
    quote = get_quote(client, make_quote(client, opportunity_id, price_book_id=book_id))
    assert (quote["price_book_id"], quote["brand"], quote["product_version"]) == (
        book_id,
        "Acme",
        "7",
    )


def test_a_quote_in_a_currency_of_null_takes_the_opportunitys_currency(
    client: TestClient,
) -> None:
    opportunity_id = make_opportunity(client, amount=money("10.00", "USD"))
    assert get_quote(client, make_quote(client, opportunity_id, currency=None))["currency"] == "USD"


@pytest.mark.parametrize(
    "change",
    [
        {"currency": "EURO"},
        {"currency": "XAU"},
        {"currency": "XXX"},
        {"currency": "eur"},
        {"currency": 978},
        {"name": " "},
        {"name": None},
        {"valid_from": "2027-03-01", "valid_until": "2027-02-01"},
        {"valid_from": "March"},
        {"price_book_id": "prices-2027"},
        {"discount": "5"},
    ],
)
def test_a_quote_with_bad_input_is_refused(client: TestClient, change: JSON) -> None:
    opportunity_id = make_opportunity(client)
    body = {"name": "Q1", "currency": "EUR", **change}
    url = f"/opportunities/{opportunity_id}/quotes"
    refused(client, "POST", url, 422, "invalid_input", json=body)


def test_a_quote_on_an_unknown_opportunity_or_price_book_is_not_found(client: TestClient) -> None:
    body = {"name": "Q1", "currency": "EUR"}
    refused(client, "POST", f"/opportunities/{uuid4()}/quotes", 404, "not_found", json=body)
    opportunity_id = make_opportunity(client)
    body["price_book_id"] = str(uuid4())
    url = f"/opportunities/{opportunity_id}/quotes"
    refused(client, "POST", url, 404, "not_found", json=body)


def test_a_quote_from_an_inactive_price_book_is_refused(client: TestClient) -> None:
    opportunity_id = make_opportunity(client)
    book_id = make_price_book(client)
    command_ok(client.post(f"/price-books/{book_id}/deactivate"))
    body = {"name": "Q1", "currency": "EUR", "price_book_id": book_id}
    url = f"/opportunities/{opportunity_id}/quotes"
    refused(client, "POST", url, 409, "rule_violated", json=body)


def test_a_quote_on_a_closed_or_sold_opportunity_is_refused(client: TestClient) -> None:
    body = {"name": "Q2", "currency": "EUR"}
    url = f"/opportunities/{lost(client)}/quotes"
    refused(client, "POST", url, 409, "rule_violated", json=body)
    sold_id, _ = sold(client)
    refused(client, "POST", f"/opportunities/{sold_id}/quotes", 409, "locked", json=body)


@pytest.mark.parametrize(
    ("method", "action"),
    [
        ("GET", ""),
        ("DELETE", ""),
        ("POST", "/activate"),
        ("POST", "/deactivate"),
        ("POST", "/duplicate"),
        ("POST", "/offer"),
    ],
)
def test_reading_deleting_or_acting_on_an_unknown_quote_is_not_found(
    client: TestClient, method: str, action: str
) -> None:
    refused(client, method, f"/quotes/{uuid4()}{action}", 404, "not_found")


# --- edit -----------------------------------------------------------------------------


def test_a_quotes_name_and_validity_are_edited(client: TestClient) -> None:
    quote_id = make_quote(client, make_opportunity(client))
    body = {"name": "Q1 final", "valid_from": "2027-01-10", "valid_until": "2027-03-10"}
    answer = command_ok(client.patch(f"/quotes/{quote_id}", json=body))
    quote = get_quote(client, quote_id)
    assert (quote["name"], quote["valid_from"], quote["valid_until"]) == (
        "Q1 final",
        "2027-01-10",
        "2027-03-10",
    )
    assert quote["version"] == answer["version"]


@pytest.mark.parametrize(
    "body",
    [
        {"name": " "},
        {"valid_from": "2027-05-01", "valid_until": "2027-04-01"},
        {"valid_until": "tomorrow"},
        {"currency": "USD"},  # has its own route
    ],
)
def test_a_bad_quote_edit_is_refused(client: TestClient, body: JSON) -> None:
    quote_id = make_quote(client, make_opportunity(client))
    refused(client, "PATCH", f"/quotes/{quote_id}", 422, "invalid_input", json=body)


def test_a_locked_quote_cannot_be_edited(client: TestClient) -> None:
    _, quote_id = sold(client)
    refused(client, "PATCH", f"/quotes/{quote_id}", 409, "locked", json={"name": "Q9"})


def test_editing_an_unknown_quote_is_not_found(client: TestClient) -> None:
    refused(client, "PATCH", f"/quotes/{uuid4()}", 404, "not_found", json={"name": "Q9"})


# --- items ----------------------------------------------------------------------------


def test_a_manual_item_is_priced_as_given_with_its_discount(client: TestClient) -> None:
    # Given a quote without a price book
    quote_id = make_quote(client, make_opportunity(client))
    # When a manual item is added: 3 × 19.99 less 10 %
    body = {
        "name": "Training",
        "quantity": "3",
        "unit": "day",
        "unit_price": "19.99",
        "discount_pct": "10",
        "category": "implementation",
    }
    answer = command_ok(client.post(f"/quotes/{quote_id}/items", json=body), 201)
    # Then it reads with Money amounts, and line = round(3 × 19.99 × 0.9) = 53.97
    quote = get_quote(client, quote_id)
    [item] = quote["items"]
    assert set(item) >= ITEM_FIELDS
    assert item["id"] == answer["item_id"]
    assert item["product_id"] is None
    assert (item["name"], item["quantity"], item["unit"], item["discount_pct"]) == (
        "Training",
        "3",
        "day",
        "10",
    )
    assert item["unit_price"] == {"amount": "19.99", "currency": "EUR"}
    assert (item["kind"], item["term_months"], item["category"]) == (
        "one_off",
        None,
        "implementation",
    )
    assert item["line_total"] == {"amount": "53.97", "currency": "EUR"}
    assert quote["total"] == {"amount": "53.97", "currency": "EUR"}


def test_line_totals_round_half_up_to_the_minor_unit(client: TestClient) -> None:
    quote_id = make_quote(client, make_opportunity(client))
    add_item(client, quote_id, unit_price="10.005")
    add_item(client, quote_id, name="Other", unit_price="0.004")
    quote = get_quote(client, quote_id)
    assert [i["line_total"]["amount"] for i in quote["items"]] == ["10.01", "0.00"]
    assert quote["total"] == {"amount": "10.01", "currency": "EUR"}


def test_a_price_book_item_takes_its_price_unit_and_kind_from_the_book(
    client: TestClient,
) -> None:
    # Given a licence priced at 100.00 EUR per user, and a quote priced from that book
    product_id, book_id = priced_product(client)
    quote_id = make_quote(client, make_opportunity(client), price_book_id=book_id)
    # When 10 licences are added at 5 % discount
    body = {"product_id": product_id, "quantity": "10", "discount_pct": "5"}
    command_ok(client.post(f"/quotes/{quote_id}/items", json=body), 201)
    # Then the item has the book's price and the product's kind and term
    [item] = get_quote(client, quote_id)["items"]
    assert item["product_id"] == product_id
    assert (item["name"], item["unit"], item["source"]) == ("Licence", "user", "price_book")
    assert (item["kind"], item["term_months"], item["category"]) == ("time_based", 12, "software")
    assert item["unit_price"] == {"amount": "100.00", "currency": "EUR"}
    assert item["line_total"] == {"amount": "950.00", "currency": "EUR"}


def test_a_bundle_item_carries_its_components(client: TestClient) -> None:
    # Given a bundle of two products priced in a book
    licence = make_product(client, "LIC")
    support = make_product(client, "SUP", name="Support", category="support")
    book_id = make_price_book(client)
    bundle_id = make_bundle(client, book_id, (licence, "3"), (support, "1"))
    set_price(client, book_id, bundle_id, price="400.00", unit="seat")
    quote_id = make_quote(client, make_opportunity(client), price_book_id=book_id)
    # When the bundle is quoted
    command_ok(
        client.post(f"/quotes/{quote_id}/items", json={"product_id": bundle_id, "quantity": "2"}),
        201,
    )
    # Then the item is the bundle, with its components
    [item] = get_quote(client, quote_id)["items"]
    assert (item["name"], item["unit"], item["line_total"]["amount"]) == ("Suite", "seat", "800.00")
    assert [(c["product_id"], c["weight"]) for c in item["components"]] == [
        (licence, "3"),
        (support, "1"),
    ]


def test_a_price_book_item_in_a_currency_the_book_lacks_is_refused(client: TestClient) -> None:
    # Given a book pricing the licence in EUR only, and a USD quote priced from it
    product_id, book_id = priced_product(client, currencies=("EUR",))
    quote_id = make_quote(client, make_opportunity(client), currency="USD", price_book_id=book_id)
    # When the licence is added / Then it is refused with the currencies the book has
    body = {"product_id": product_id, "quantity": "1"}
    detail = refused(client, "POST", f"/quotes/{quote_id}/items", 409, "rule_violated", json=body)
    assert "USD" in detail["detail"] and "EUR" in detail["detail"]


@pytest.mark.parametrize(
    ("setup", "status", "error"),
    [
        ("unit_price", 422, "invalid_input"),  # a book item's price comes from the book
        ("unpriced", 409, "rule_violated"),  # the book has no price for it
        ("unit", 409, "rule_violated"),  # not priced in that unit
        ("inactive_product", 409, "rule_violated"),
        ("inactive_book", 409, "rule_violated"),
        ("unknown_product", 404, "not_found"),
    ],
)
def test_a_price_book_item_that_the_book_cannot_price_is_refused(
    client: TestClient, setup: str, status: int, error: str
) -> None:
    # Given a quote priced from a book holding a licence per user in EUR
    product_id, book_id = priced_product(client)
    quote_id = make_quote(client, make_opportunity(client), price_book_id=book_id)
    body: JSON = {"product_id": product_id, "quantity": "1"}
    if setup == "unit_price":
        body["unit_price"] = "1.00"
    elif setup == "unpriced":
        body["product_id"] = make_product(client, "SUP", category="support")
    elif setup == "unit":
        body["unit"] = "server"
    elif setup == "inactive_product":
        command_ok(client.post(f"/products/{product_id}/deactivate"))
    elif setup == "inactive_book":
        command_ok(client.post(f"/price-books/{book_id}/deactivate"))
    elif setup == "unknown_product":
        body["product_id"] = str(uuid4())
    # When / Then the item is refused and nothing is written
    refused(client, "POST", f"/quotes/{quote_id}/items", status, error, json=body)


@pytest.mark.parametrize(
    "change",
    [
        {"quantity": "-1"},
        {"quantity": "0"},
        {"quantity": "NaN"},
        {"quantity": "1e999"},
        {"quantity": "1e15"},
        {"quantity": "0.0000001"},
        {"quantity": None},
        {"unit_price": "-0.01"},
        {"unit_price": "Infinity"},
        {"unit_price": 1e308},
        {"unit_price": "1e15"},
        {"unit_price": "1,00"},
        {"unit_price": None},  # a manual item needs a price
        {"name": None},  # a manual item needs a name
        {"discount_pct": "101"},
        {"discount_pct": "-5"},
        {"discount_pct": "12.34567"},
        {"kind": "subscription"},
        {"kind": "time_based"},  # without a term
        {"kind": "one_off", "term_months": 12},
        {"term_months": 12},  # a one-off item has no term
        {"category": "hardware"},
        {"start": "next week"},
        {"price": "5"},
    ],
)
def test_a_bad_item_is_refused(client: TestClient, change: JSON) -> None:
    quote_id = make_quote(client, make_opportunity(client))
    body: JSON = {"name": "Setup", "quantity": "1", "unit_price": "100.00", **change}
    body = {k: v for k, v in body.items() if v is not None}
    refused(client, "POST", f"/quotes/{quote_id}/items", 422, "invalid_input", json=body)


def test_an_item_named_with_100000_characters_is_refused_and_nothing_is_kept(
    client: TestClient,
) -> None:
    # Given a quote without items
    quote_id = make_quote(client, make_opportunity(client))
    # When an item named with 100,000 characters is added
    body = {"name": "x" * 100_000, "quantity": "1", "unit_price": "100.00"}
    answer = refused(client, "POST", f"/quotes/{quote_id}/items", 422, "invalid_input", json=body)
    # Then the refusal names the field and its limit, the log holds nothing new (refused
    # checks), and the quote has no item
    assert answer["detail"] == "name must have at most 200 characters (it has 100000)."
    assert get_quote(client, quote_id)["items"] == []


def test_an_item_on_an_unknown_quote_is_not_found(client: TestClient) -> None:
    body = {"name": "Setup", "quantity": "1", "unit_price": "1.00"}
    refused(client, "POST", f"/quotes/{uuid4()}/items", 404, "not_found", json=body)


def test_an_item_is_changed_and_the_active_quotes_opportunity_follows(
    client: TestClient,
) -> None:
    # Given an active quote with one item of 100.00
    opportunity_id, quote_id = ready_to_sell(client)
    [item] = get_quote(client, quote_id)["items"]
    # When its quantity and discount change
    body = {"quantity": "3", "discount_pct": "50", "name": "Setup (3 days)"}
    command_ok(client.patch(f"/quotes/{quote_id}/items/{item['id']}", json=body))
    # Then the line, the total and the opportunity's amount follow
    [item] = get_quote(client, quote_id)["items"]
    assert (item["name"], item["quantity"], item["discount_pct"]) == ("Setup (3 days)", "3", "50")
    assert item["line_total"] == {"amount": "150.00", "currency": "EUR"}
    assert get_opportunity(client, opportunity_id)["amount"] == {
        "amount": "150.00",
        "currency": "EUR",
    }


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ({"quantity": "1"}, 409, "rule_violated"),  # no change
        ({}, 409, "rule_violated"),
        ({"quantity": "-2"}, 422, "invalid_input"),
        ({"discount_pct": "101"}, 422, "invalid_input"),
        ({"unit_price": "NaN"}, 422, "invalid_input"),
        ({"kind": "time_based"}, 422, "invalid_input"),  # not changeable here
    ],
)
def test_a_bad_item_change_is_refused(
    client: TestClient, body: JSON, status: int, error: str
) -> None:
    _, quote_id = quote_with_item(client)
    [item] = get_quote(client, quote_id)["items"]
    url = f"/quotes/{quote_id}/items/{item['id']}"
    refused(client, "PATCH", url, status, error, json=body)


def test_the_price_of_a_price_book_item_cannot_be_changed(client: TestClient) -> None:
    product_id, book_id = priced_product(client)
    quote_id = make_quote(client, make_opportunity(client), price_book_id=book_id)
    item_id = add_item(
        client, quote_id, product_id=product_id, name=None, unit_price=None, quantity="2"
    )
    url = f"/quotes/{quote_id}/items/{item_id}"
    refused(client, "PATCH", url, 409, "rule_violated", json={"unit_price": "1.00"})


def test_an_item_is_removed(client: TestClient) -> None:
    _, quote_id = quote_with_item(client)
    [item] = get_quote(client, quote_id)["items"]
    command_ok(client.delete(f"/quotes/{quote_id}/items/{item['id']}"))
    quote = get_quote(client, quote_id)
    assert (quote["items"], quote["total"]["amount"]) == ([], "0.00")


def test_changing_or_removing_an_unknown_item_is_not_found(client: TestClient) -> None:
    _, quote_id = quote_with_item(client)
    url = f"/quotes/{quote_id}/items/{uuid4()}"
    refused(client, "PATCH", url, 404, "not_found", json={"quantity": "2"})
    refused(client, "DELETE", url, 404, "not_found")
    url = f"/quotes/{uuid4()}/items/{uuid4()}"
    refused(client, "PATCH", url, 404, "not_found", json={"quantity": "2"})
    refused(client, "DELETE", url, 404, "not_found")


def test_the_items_of_a_locked_quote_cannot_change(client: TestClient) -> None:
    _, quote_id = sold(client)
    [item] = get_quote(client, quote_id)["items"]
    url = f"/quotes/{quote_id}/items/{item['id']}"
    refused(client, "PATCH", url, 409, "locked", json={"quantity": "2"})
    refused(client, "DELETE", url, 409, "locked")


# --- rounding -------------------------------------------------------------------------


def test_a_rounding_item_adjusts_the_total_and_can_be_removed(client: TestClient) -> None:
    # Given a quote worth 100.00
    _, quote_id = quote_with_item(client)
    # When a rounding of -0.40 is set
    command_ok(client.put(f"/quotes/{quote_id}/rounding", json={"amount": "-0.40"}))
    # Then the total includes it
    quote = get_quote(client, quote_id)
    assert quote["rounding"] == {"amount": "-0.40", "currency": "EUR"}
    assert quote["total"] == {"amount": "99.60", "currency": "EUR"}
    # When it is removed with null / Then the total is the items' again
    command_ok(client.put(f"/quotes/{quote_id}/rounding", json={"amount": None}))
    quote = get_quote(client, quote_id)
    assert (quote["rounding"], quote["total"]["amount"]) == (None, "100.00")


def test_a_rounding_finer_than_the_currency_is_refused_by_its_rule(client: TestClient) -> None:
    _, quote_id = quote_with_item(client)
    body = {"amount": "0.001"}
    refused(client, "PUT", f"/quotes/{quote_id}/rounding", 409, "rule_violated", json=body)


@pytest.mark.parametrize(
    "body",
    [
        {"amount": "NaN"},
        {"amount": "1e999"},
        {"amount": "-1e999"},
        {"amount": 1e308},
        {"amount": "1e15"},
        {"amount": "-1e15"},
        {"amount": "ten"},
        {},
    ],
)
def test_a_bad_rounding_is_refused(client: TestClient, body: JSON) -> None:
    _, quote_id = quote_with_item(client)
    refused(client, "PUT", f"/quotes/{quote_id}/rounding", 422, "invalid_input", json=body)
    assert get_quote(client, quote_id)["total"]["amount"] == "100.00"


def test_rounding_an_unknown_or_locked_quote_is_refused(client: TestClient) -> None:
    refused(client, "PUT", f"/quotes/{uuid4()}/rounding", 404, "not_found", json={"amount": "1"})
    _, quote_id = sold(client)
    url = f"/quotes/{quote_id}/rounding"
    refused(client, "PUT", url, 409, "locked", json={"amount": "1"})


# --- activate, deactivate -----------------------------------------------------------------


def test_activating_a_quote_makes_its_total_the_opportunitys_amount(client: TestClient) -> None:
    # Given an opportunity worth 5.00 by hand, with a quote worth 100.00
    opportunity_id, quote_id = quote_with_item(client, amount=money("5.00"))
    # When the quote is activated
    answer = activate(client, quote_id)
    # Then it is the active quote and the opportunity's amount is its total
    assert answer["id"] == quote_id
    assert get_quote(client, quote_id)["active"] is True
    opp = get_opportunity(client, opportunity_id)
    assert opp["active_quote_id"] == quote_id
    assert opp["amount"] == {"amount": "100.00", "currency": "EUR"}


def test_activating_another_quote_deactivates_the_first(client: TestClient) -> None:
    # Given an active quote and a second quote worth 250.00
    opportunity_id, first = ready_to_sell(client)
    second = make_quote(client, opportunity_id, name="Q2")
    add_item(client, second, unit_price="250.00")
    # When the second is activated
    activate(client, second)
    # Then only it is active, and the amount is its total
    assert get_quote(client, first)["active"] is False
    assert get_quote(client, second)["active"] is True
    opp = get_opportunity(client, opportunity_id)
    assert (opp["active_quote_id"], opp["amount"]["amount"]) == (second, "250.00")


def test_activating_the_active_quote_again_is_refused(client: TestClient) -> None:
    _, quote_id = ready_to_sell(client)
    refused(client, "POST", f"/quotes/{quote_id}/activate", 409, "rule_violated")


def inactive_quote_of_a_sold_opportunity(client: TestClient) -> str:
    """A second quote (Q2) of an opportunity then sold on its first: inactive, and locked."""
    opportunity_id, _ = ready_to_sell(client)
    other = make_quote(client, opportunity_id, name="Q2")
    command_ok(client.post(f"/opportunities/{opportunity_id}/sell"))
    return other


def test_activating_a_quote_of_a_sold_opportunity_is_refused(client: TestClient) -> None:
    other = inactive_quote_of_a_sold_opportunity(client)
    refused(client, "POST", f"/quotes/{other}/activate", 409, "locked")


def test_a_quote_is_deactivated_and_the_opportunity_keeps_its_amount(client: TestClient) -> None:
    opportunity_id, quote_id = ready_to_sell(client)
    command_ok(client.post(f"/quotes/{quote_id}/deactivate"))
    assert get_quote(client, quote_id)["active"] is False
    opp = get_opportunity(client, opportunity_id)
    assert (opp["active_quote_id"], opp["amount"]["amount"]) == (None, "100.00")
    refused(client, "POST", f"/quotes/{quote_id}/deactivate", 409, "rule_violated")


# --- delete ---------------------------------------------------------------------------


def test_an_inactive_quote_is_deleted(client: TestClient) -> None:
    opportunity_id, quote_id = quote_with_item(client)
    command_ok(client.delete(f"/quotes/{quote_id}"))
    refused(client, "GET", f"/quotes/{quote_id}", 404, "not_found")
    assert get_opportunity(client, opportunity_id)["quote_ids"] == []
    refused(client, "DELETE", f"/quotes/{quote_id}", 404, "not_found")


def test_the_active_quote_cannot_be_deleted(client: TestClient) -> None:
    _, quote_id = ready_to_sell(client)
    body = refused(client, "DELETE", f"/quotes/{quote_id}", 409, "rule_violated")
    assert "active" in body["detail"]
    assert get_quote(client, quote_id)["active"] is True


def test_a_locked_quote_cannot_be_deleted(client: TestClient) -> None:
    inactive = inactive_quote_of_a_sold_opportunity(client)
    refused(client, "DELETE", f"/quotes/{inactive}", 409, "locked")


# --- duplicate ------------------------------------------------------------------------


def test_duplicating_a_quote_makes_an_inactive_copy_with_its_items(client: TestClient) -> None:
    # Given an active quote with an item and a rounding
    opportunity_id, quote_id = ready_to_sell(client)
    command_ok(client.put(f"/quotes/{quote_id}/rounding", json={"amount": "0.50"}))
    # When it is duplicated
    answer = command_ok(client.post(f"/quotes/{quote_id}/duplicate"), 201)
    # Then the copy is a new, inactive quote with the same items and total
    copy_id = answer["id"]
    assert answer["quote_id"] == copy_id != quote_id
    original, copy = get_quote(client, quote_id), get_quote(client, copy_id)
    assert (copy["name"], copy["active"], copy["copied_from"]) == ("Q1 (copy)", False, quote_id)
    assert copy["total"] == original["total"] == {"amount": "100.50", "currency": "EUR"}
    assert [i["name"] for i in copy["items"]] == [i["name"] for i in original["items"]]
    assert {i["id"] for i in copy["items"]}.isdisjoint({i["id"] for i in original["items"]})
    # And the opportunity lists it, keeping the original active
    opp = get_opportunity(client, opportunity_id)
    assert (opp["quote_ids"], opp["active_quote_id"]) == ([quote_id, copy_id], quote_id)


def test_a_duplicate_can_be_named(client: TestClient) -> None:
    _, quote_id = quote_with_item(client)
    answer = command_ok(client.post(f"/quotes/{quote_id}/duplicate", json={"name": "Q1b"}), 201)
    assert get_quote(client, answer["id"])["name"] == "Q1b"


def test_a_deleted_quote_cannot_be_duplicated(client: TestClient) -> None:
    _, quote_id = quote_with_item(client)
    command_ok(client.delete(f"/quotes/{quote_id}"))
    refused(client, "POST", f"/quotes/{quote_id}/duplicate", 404, "not_found")


def test_a_quote_of_a_sold_opportunity_cannot_be_duplicated(client: TestClient) -> None:
    _, quote_id = sold(client)
    refused(client, "POST", f"/quotes/{quote_id}/duplicate", 409, "locked")


def test_a_duplicate_with_an_unknown_field_is_refused(client: TestClient) -> None:
    _, quote_id = quote_with_item(client)
    url = f"/quotes/{quote_id}/duplicate"
    refused(client, "POST", url, 422, "invalid_input", json={"currency": "USD"})


# --- currency -------------------------------------------------------------------------


def test_changing_the_currency_converts_manual_items_and_keeps_discounts(
    client: TestClient,
) -> None:
    # Given 1 USD = 0.90 EUR, and an active EUR quote: 1 × 100.00 less 10 %
    set_rate(client, "USD", "0.90")
    opportunity_id = make_opportunity(client)
    quote_id = make_quote(client, opportunity_id)
    add_item(client, quote_id, discount_pct="10")
    activate(client, quote_id)
    # When the quote changes to USD
    command_ok(client.post(f"/quotes/{quote_id}/currency", json={"currency": "USD"}))
    # Then the unit price is converted (100 / 0.9 = 111.11) and the discount stays
    quote = get_quote(client, quote_id)
    [item] = quote["items"]
    assert quote["currency"] == "USD"
    assert item["unit_price"] == {"amount": "111.11", "currency": "USD"}
    assert item["discount_pct"] == "10"
    assert item["line_total"] == {"amount": "100.00", "currency": "USD"}
    # And the opportunity's amount follows its active quote
    assert get_opportunity(client, opportunity_id)["amount"] == {
        "amount": "100.00",
        "currency": "USD",
    }


def test_changing_the_currency_reprices_book_items_from_the_book(client: TestClient) -> None:
    # Given a book pricing the licence at 100.00 EUR and 120.00 USD, and an EUR quote
    product_id, book_id = priced_product(client, currencies=("EUR",))
    set_price(client, book_id, product_id, price="120.00", currency="USD")
    quote_id = make_quote(client, make_opportunity(client), price_book_id=book_id)
    add_item(client, quote_id, product_id=product_id, name=None, unit_price=None, quantity="2")
    # When the quote changes to USD
    command_ok(client.post(f"/quotes/{quote_id}/currency", json={"currency": "USD"}))
    # Then the item takes the book's USD price
    [item] = get_quote(client, quote_id)["items"]
    assert item["unit_price"] == {"amount": "120.00", "currency": "USD"}
    assert item["line_total"] == {"amount": "240.00", "currency": "USD"}


def test_changing_to_a_currency_the_price_book_lacks_is_refused(client: TestClient) -> None:
    # Given a quote holding a licence from a book that prices it in EUR only
    product_id, book_id = priced_product(client, currencies=("EUR",))
    quote_id = make_quote(client, make_opportunity(client), price_book_id=book_id)
    add_item(client, quote_id, product_id=product_id, name=None, unit_price=None)
    # When / Then a change to USD is refused, saying what is missing
    url = f"/quotes/{quote_id}/currency"
    body = refused(client, "POST", url, 409, "rule_violated", json={"currency": "USD"})
    assert "USD" in body["detail"]
    assert get_quote(client, quote_id)["currency"] == "EUR"


def test_changing_the_currency_of_manual_items_needs_a_rate(client: TestClient) -> None:
    _, quote_id = quote_with_item(client)
    url = f"/quotes/{quote_id}/currency"
    body = refused(client, "POST", url, 409, "rule_violated", json={"currency": "GBP"})
    assert "GBP" in body["detail"]


def test_changing_to_the_same_currency_is_refused(client: TestClient) -> None:
    _, quote_id = quote_with_item(client)
    url = f"/quotes/{quote_id}/currency"
    refused(client, "POST", url, 409, "rule_violated", json={"currency": "EUR"})


@pytest.mark.parametrize("rate", ["0.000000001", "0.000000000001"])
def test_a_conversion_that_would_overflow_a_price_is_refused(client: TestClient, rate: str) -> None:
    # Given an absurdly small USD rate, and a manual EUR item of 999,999,999.00
    set_rate(client, "USD", rate)
    _, quote_id = quote_with_item(client)
    add_item(client, quote_id, name="Big", unit_price="999999999.00", quantity="1000")
    # When / Then converting to USD (10^18 and more per unit) is refused, not a server error
    url = f"/quotes/{quote_id}/currency"
    refused(client, "POST", url, 422, "invalid_input", json={"currency": "USD"})
    quote = get_quote(client, quote_id)
    assert (quote["currency"], quote["total"]["amount"]) == ("EUR", "999999999100.00")


@pytest.mark.parametrize(
    "body",
    [{"currency": "EURO"}, {"currency": "XAU"}, {"currency": "usd"}, {"currency": None}, {}],
)
def test_a_bad_currency_is_refused(client: TestClient, body: JSON) -> None:
    _, quote_id = quote_with_item(client)
    refused(client, "POST", f"/quotes/{quote_id}/currency", 422, "invalid_input", json=body)


def test_changing_the_currency_of_an_unknown_or_locked_quote_is_refused(
    client: TestClient,
) -> None:
    body = {"currency": "USD"}
    refused(client, "POST", f"/quotes/{uuid4()}/currency", 404, "not_found", json=body)
    _, quote_id = sold(client)
    refused(client, "POST", f"/quotes/{quote_id}/currency", 409, "locked", json=body)


# --- offer and documents -------------------------------------------------------------------


def test_an_offer_is_rendered_stored_and_served_with_its_sha256(client: TestClient) -> None:
    # Given a quote with an item
    _, quote_id = quote_with_item(client)
    # When an offer is generated from a template
    body = {"template": "Offer $quote for $account: $total"}
    answer = command_ok(client.post(f"/quotes/{quote_id}/offer", json=body), 201)
    # Then the answer names the document and its hash
    assert is_uuid(answer["document_id"])
    assert len(answer["sha256"]) == 64
    # And the document is served with that hash
    response = client.get(f"/documents/{answer['document_id']}")
    assert response.status_code == 200
    assert response.text == "Offer Q1 for ACME: 100.00 EUR"
    assert hashlib.sha256(response.content).hexdigest() == answer["sha256"]
    assert response.headers["X-SHA256"] == answer["sha256"]
    assert response.headers["X-Quote-Id"] == quote_id
    # And the quote lists the offer
    [offer] = get_quote(client, quote_id)["offers"]
    assert (offer["document_id"], offer["sha256"]) == (answer["document_id"], answer["sha256"])


def test_an_offer_without_a_template_uses_the_default_one(client: TestClient) -> None:
    _, quote_id = quote_with_item(client)
    answer = command_ok(client.post(f"/quotes/{quote_id}/offer"), 201)
    text = client.get(f"/documents/{answer['document_id']}").text
    assert "OFFER  Q1" in text and "TOTAL  100.00 EUR" in text


@pytest.mark.parametrize(
    "body",
    [
        {"template": "Dear $customer"},  # unknown token
        {"template": "costs $"},  # malformed
        {"template": "x" * 100_001},
        {"template": 42},
        {"format": "pdf"},
    ],
)
def test_a_bad_offer_template_is_refused(client: TestClient, body: JSON) -> None:
    _, quote_id = quote_with_item(client)
    refused(client, "POST", f"/quotes/{quote_id}/offer", 422, "invalid_input", json=body)


def test_an_offer_for_an_empty_quote_is_refused(client: TestClient) -> None:
    quote_id = make_quote(client, make_opportunity(client))
    refused(client, "POST", f"/quotes/{quote_id}/offer", 409, "rule_violated")


def test_an_offer_for_a_locked_quote_is_refused(client: TestClient) -> None:
    _, quote_id = sold(client)
    refused(client, "POST", f"/quotes/{quote_id}/offer", 409, "locked")


def test_reading_an_unknown_document_is_not_found(client: TestClient) -> None:
    refused(client, "GET", f"/documents/{uuid4()}", 404, "not_found")
    refused(client, "GET", "/documents/offer-1", 422, "invalid_input")


# --- the whole flow, on SQLite and PostgreSQL ---------------------------------------------


def test_create_quote_item_activate_sell_on_both_stores(any_client: TestClient) -> None:
    client = any_client
    # Given a licence priced at 100.00 EUR per user
    product_id, book_id = priced_product(client)
    # When an opportunity is created, quoted from the book, activated and sold
    start = log_position(client)
    opportunity_id = make_opportunity(client, amount=money("1.00"))
    quote_id = make_quote(client, opportunity_id, price_book_id=book_id)
    body = {"product_id": product_id, "quantity": "12", "discount_pct": "12.5"}
    command_ok(client.post(f"/quotes/{quote_id}/items", json=body), 201)
    activate(client, quote_id)
    # And refusals along the way write nothing
    refused(client, "DELETE", f"/quotes/{quote_id}", 409, "rule_violated")
    empty = make_quote(client, opportunity_id, name="Empty")
    answer = command_ok(client.post(f"/opportunities/{opportunity_id}/sell"))
    # Then every answer moved the log forward and the opportunity is won at the quote's total
    assert answer["position"] == log_position(client) > start
    opp = get_opportunity(client, opportunity_id)
    assert (opp["status"], opp["locked"], opp["active_quote_id"]) == ("won", True, quote_id)
    assert opp["amount"] == {"amount": "1050.00", "currency": "EUR"}  # 12 × 100 × 0.875
    assert opp["version"] == answer["version"]
    assert get_quote(client, quote_id)["locked"] is True
    assert get_quote(client, empty)["locked"] is True
    # And a sold opportunity refuses edits until unlocked
    url = f"/opportunities/{opportunity_id}"
    refused(client, "PATCH", url, 409, "locked", json={"title": "x"})
    command_ok(client.post(f"{url}/unlock"))
    command_ok(client.patch(url, json={"title": "x"}))
