"""HTTP: products, price books, bundles, exchange rates, pipelines and accounts.

Every route of ``adapters/http/routes_catalogue.py``: its happy path with the
shapes of docs/api.md, and its refusals (404 unknown id, 422 bad input, 409 rule)
each of which writes nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient

from tests.http.helpers import (
    JSON,
    bundle_body,
    command_ok,
    log_position,
    make_account,
    make_bundle,
    make_price_book,
    make_product,
    project,
    query_ok,
    refused,
    set_price,
    set_rate,
)

# --- products ------------------------------------------------------------------------


def test_a_product_is_created_and_read_back_with_its_kind_and_term(client: TestClient) -> None:
    # Given an empty catalogue
    before = log_position(client)
    # When a time-based product is created
    body = {
        "name": "Licence",
        "code": "LIC",
        "category": "software",
        "kind": "time_based",
        "term_months": 12,
    }
    answer = command_ok(client.post("/products", json=body), 201)
    # Then the answer is a command answer that wrote one event
    assert answer["version"] == 1
    assert answer["position"] > before
    assert log_position(client) == answer["position"]
    # And the product reads back as created
    product = query_ok(client.get(f"/products/{answer['id']}"))
    assert product["id"] == answer["id"]
    assert product["version"] == 1
    assert (product["name"], product["code"]) == ("Licence", "LIC")
    assert (product["category"], product["kind"], product["term_months"]) == (
        "software",
        "time_based",
        12,
    )
    assert product["active"] is True


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"name": "N", "code": "C", "category": "software"}, 422),  # kind missing
        ({"name": "N", "code": "C", "category": "hardware", "kind": "one_off"}, 422),
        ({"name": "N", "code": "C", "category": "software", "kind": "rental"}, 422),
        ({"name": "N", "code": "C", "category": "software", "kind": "time_based"}, 422),
        (
            {"name": "N", "code": "C", "category": "software", "kind": "one_off", "term_months": 3},
            422,
        ),
        (
            {
                "name": "N",
                "code": "C",
                "category": "support",
                "kind": "time_based",
                "term_months": 0,
            },
            422,
        ),
        (
            {"name": " ", "code": "C", "category": "software", "kind": "one_off"},
            422,
        ),
        (
            {"name": "N", "code": "", "category": "software", "kind": "one_off"},
            422,
        ),
        (
            {"name": "N", "code": "C", "category": "software", "kind": "one_off", "price": "1"},
            422,
        ),
    ],
)
def test_a_product_with_bad_input_is_refused_as_unprocessable(
    client: TestClient, body: JSON, status: int
) -> None:
    # Given / When a product body that is missing, unknown or inconsistent / Then 422
    refused(client, "POST", "/products", status, "invalid_input", json=body)


def test_a_second_product_with_the_same_code_is_refused_as_a_conflict(
    client: TestClient,
) -> None:
    # Given a product with code LIC
    first = make_product(client, "LIC")
    # When another product takes the same code (differently cased)
    body = {"name": "Other", "code": "lic", "category": "support", "kind": "one_off"}
    # Then it is refused, naming the product that has it, and nothing is written
    answer = refused(client, "POST", "/products", 409, "already_exists", json=body)
    assert answer["existing_id"] == str(first) and str(first) in answer["detail"]


def test_reading_an_unknown_product_is_not_found(client: TestClient) -> None:
    refused(client, "GET", f"/products/{uuid4()}", 404, "not_found")


def test_reading_a_price_book_as_a_product_is_not_found(client: TestClient) -> None:
    # Given a price book
    book_id = make_price_book(client)
    # When its id is read as a product / Then there is no such product
    body = refused(client, "GET", f"/products/{book_id}", 404, "not_found")
    assert "product" in body["detail"]


def test_a_product_is_deactivated_and_reactivated(client: TestClient) -> None:
    # Given an active product
    product_id = make_product(client)
    # When it is deactivated
    answer = command_ok(client.post(f"/products/{product_id}/deactivate"))
    # Then it reads inactive at the answered version
    product = query_ok(client.get(f"/products/{product_id}"))
    assert (product["active"], product["version"]) == (False, answer["version"])
    # When it is reactivated
    command_ok(client.post(f"/products/{product_id}/reactivate"))
    # Then it reads active again
    assert query_ok(client.get(f"/products/{product_id}"))["active"] is True


def test_deactivating_an_inactive_product_is_refused(client: TestClient) -> None:
    product_id = make_product(client)
    command_ok(client.post(f"/products/{product_id}/deactivate"))
    refused(client, "POST", f"/products/{product_id}/deactivate", 409, "rule_violated")


def test_reactivating_an_active_product_is_refused(client: TestClient) -> None:
    product_id = make_product(client)
    refused(client, "POST", f"/products/{product_id}/reactivate", 409, "rule_violated")


@pytest.mark.parametrize("action", ["deactivate", "reactivate"])
def test_activating_or_deactivating_an_unknown_product_is_not_found(
    client: TestClient, action: str
) -> None:
    refused(client, "POST", f"/products/{uuid4()}/{action}", 404, "not_found")


# --- price books ---------------------------------------------------------------------


def test_a_price_book_is_created_with_its_brand_and_version(client: TestClient) -> None:
    # When a price book is created with a brand and a product version
    body = {"name": "Prices 2027", "brand": "Acme", "product_version": "7"}
    answer = command_ok(client.post("/price-books", json=body), 201)
    # Then it reads back active, without prices
    book = query_ok(client.get(f"/price-books/{answer['id']}"))
    assert book["id"] == answer["id"]
    assert (book["name"], book["brand"], book["product_version"]) == ("Prices 2027", "Acme", "7")
    assert book["active"] is True
    assert book["prices"] == []


def test_a_price_book_can_be_the_update_of_another(client: TestClient) -> None:
    previous = make_price_book(client, "Prices 2026")
    answer = command_ok(
        client.post("/price-books", json={"name": "Prices 2027", "update_of": previous}), 201
    )
    assert query_ok(client.get(f"/price-books/{answer['id']}"))["update_of"] == previous


def test_a_price_book_updating_an_unknown_book_is_refused(client: TestClient) -> None:
    body = {"name": "Prices 2027", "update_of": str(uuid4())}
    refused(client, "POST", "/price-books", 404, "not_found", json=body)


@pytest.mark.parametrize("body", [{}, {"name": ""}, {"name": None}, {"name": 7}, {"name": ["a"]}])
def test_a_price_book_without_a_usable_name_is_refused(client: TestClient, body: JSON) -> None:
    refused(client, "POST", "/price-books", 422, "invalid_input", json=body)


def test_reading_an_unknown_price_book_is_not_found(client: TestClient) -> None:
    refused(client, "GET", f"/price-books/{uuid4()}", 404, "not_found")


def test_a_price_is_set_per_product_unit_and_currency(client: TestClient) -> None:
    # Given a product and a price book
    product_id = make_product(client)
    book_id = make_price_book(client)
    # When prices are set in two currencies
    set_price(client, book_id, product_id, price="100.00", currency="EUR")
    answer = set_price(client, book_id, product_id, price="110.00", currency="USD")
    # Then the answer names the book, and the book holds both prices
    assert answer["id"] == book_id
    book = query_ok(client.get(f"/price-books/{book_id}"))
    prices = {(p["currency"], p["unit"]): p["price"] for p in book["prices"]}
    assert prices == {("EUR", "user"): "100.00", ("USD", "user"): "110.00"}
    assert all(p["product_id"] == product_id for p in book["prices"])


def test_setting_a_price_again_replaces_it(client: TestClient) -> None:
    product_id = make_product(client)
    book_id = make_price_book(client)
    set_price(client, book_id, product_id, price="100.00")
    set_price(client, book_id, product_id, price="90.00")
    book = query_ok(client.get(f"/price-books/{book_id}"))
    assert [p["price"] for p in book["prices"]] == ["90.00"]


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"currency": "EURO"}, 422),
        ({"currency": "eur"}, 422),
        ({"currency": "XAU"}, 422),
        ({"currency": "ZZZ"}, 422),
        ({"price": "-1"}, 422),
        ({"price": "NaN"}, 422),
        ({"price": "Infinity"}, 422),
        ({"price": "1.1234567"}, 422),
        ({"price": "1e999"}, 422),
        ({"price": "abc"}, 422),
        ({"unit": " "}, 422),
        ({"unit": "u" * 33}, 422),
        ({"product_id": "not-a-uuid"}, 422),
    ],
)
def test_a_bad_price_is_refused(client: TestClient, change: JSON, status: int) -> None:
    # Given a product and a price book
    product_id = make_product(client)
    book_id = make_price_book(client)
    body = {"product_id": product_id, "unit": "user", "currency": "EUR", "price": "1.00", **change}
    # When / Then a bad price is refused and nothing is written
    refused(client, "POST", f"/price-books/{book_id}/prices", status, "invalid_input", json=body)


def test_a_price_for_an_unknown_product_is_not_found(client: TestClient) -> None:
    book_id = make_price_book(client)
    body = {"product_id": str(uuid4()), "unit": "user", "currency": "EUR", "price": "1.00"}
    refused(client, "POST", f"/price-books/{book_id}/prices", 404, "not_found", json=body)


def test_a_price_in_an_unknown_price_book_is_not_found(client: TestClient) -> None:
    product_id = make_product(client)
    body = {"product_id": product_id, "unit": "user", "currency": "EUR", "price": "1.00"}
    refused(client, "POST", f"/price-books/{uuid4()}/prices", 404, "not_found", json=body)


def test_a_price_book_is_deactivated_and_then_refuses_prices(client: TestClient) -> None:
    # Given a price book and a product
    product_id = make_product(client)
    book_id = make_price_book(client)
    # When the book is deactivated
    command_ok(client.post(f"/price-books/{book_id}/deactivate"))
    # Then it reads inactive
    assert query_ok(client.get(f"/price-books/{book_id}"))["active"] is False
    # And it refuses a new price, and a second deactivation
    body = {"product_id": product_id, "unit": "user", "currency": "EUR", "price": "1.00"}
    refused(client, "POST", f"/price-books/{book_id}/prices", 409, "rule_violated", json=body)
    refused(client, "POST", f"/price-books/{book_id}/deactivate", 409, "rule_violated")


def test_deactivating_an_unknown_price_book_is_not_found(client: TestClient) -> None:
    refused(client, "POST", f"/price-books/{uuid4()}/deactivate", 404, "not_found")


# --- bundles -------------------------------------------------------------------------


def test_a_bundle_is_created_from_weighted_products(client: TestClient) -> None:
    # Given two products and a price book
    licence = make_product(client, "LIC")
    support = make_product(client, "SUP", name="Support", category="support")
    book_id = make_price_book(client)
    # When a bundle of both is created
    bundle_id = make_bundle(client, book_id, (licence, "3"), (support, "1"))
    # Then it reads back with its components and weights
    bundle = query_ok(client.get(f"/bundles/{bundle_id}"))
    assert (bundle["name"], bundle["code"], bundle["price_book_id"]) == ("Suite", "SUITE", book_id)
    assert bundle["components"] == [
        {"product_id": licence, "weight": "3"},
        {"product_id": support, "weight": "1"},
    ]


def _bundle_body(client: TestClient, **change: object) -> JSON:
    product_id = make_product(client)
    body = bundle_body(make_price_book(client), (product_id, "1"))
    body.update(change)
    return body


@pytest.mark.parametrize(
    "change",
    [
        {"components": []},
        {"components": None},
        {"components": [{"product_id": "x", "weight": "1"}]},
        {"components": [{"weight": "1"}]},
        {"name": " "},
        {"code": ""},
    ],
)
def test_a_bundle_with_bad_input_is_refused(client: TestClient, change: JSON) -> None:
    body = _bundle_body(client, **change)
    refused(client, "POST", "/bundles", 422, "invalid_input", json=body)


@pytest.mark.parametrize("weight", ["0", "-1", "NaN", "1e999", "0.0000001"])
def test_a_bundle_component_needs_a_positive_reasonable_weight(
    client: TestClient, weight: str
) -> None:
    body = _bundle_body(client)
    body["components"][0]["weight"] = weight
    refused(client, "POST", "/bundles", 422, "invalid_input", json=body)


def test_a_product_appears_only_once_in_a_bundle(client: TestClient) -> None:
    body = _bundle_body(client)
    body["components"] = body["components"] * 2
    refused(client, "POST", "/bundles", 422, "invalid_input", json=body)


def test_a_bundle_of_an_unknown_product_is_not_found(client: TestClient) -> None:
    body = _bundle_body(client)
    body["components"] = [{"product_id": str(uuid4()), "weight": "1"}]
    refused(client, "POST", "/bundles", 404, "not_found", json=body)


def test_a_bundle_in_an_unknown_price_book_is_not_found(client: TestClient) -> None:
    body = _bundle_body(client, price_book_id=str(uuid4()))
    refused(client, "POST", "/bundles", 404, "not_found", json=body)


def test_a_bundle_cannot_take_a_products_code(client: TestClient) -> None:
    body = _bundle_body(client, code="LIC")
    refused(client, "POST", "/bundles", 409, "already_exists", json=body)


def test_reading_an_unknown_bundle_is_not_found(client: TestClient) -> None:
    refused(client, "GET", f"/bundles/{uuid4()}", 404, "not_found")


# --- exchange rates ------------------------------------------------------------------


def test_an_exchange_rate_is_set_and_listed(client: TestClient) -> None:
    # Given the rate table of a store reporting in EUR
    table = query_ok(client.get("/exchange-rates"))
    assert table["reporting_currency"] == "EUR"
    assert table["rates"] == []
    # When a USD rate is set, and one from a given instant
    answer = set_rate(client, "USD", "0.9")
    body = {"currency": "GBP", "rate": "1.17", "effective_at": "2026-12-01T00:00:00+00:00"}
    command_ok(client.post("/exchange-rates", json=body))
    # Then the table lists both, the first in force from now
    table = query_ok(client.get("/exchange-rates"))
    assert table["id"] == answer["id"]
    rates = {
        r["currency"]: (r["rate"], datetime.fromisoformat(r["effective_from"]))
        for r in table["rates"]
    }
    assert rates == {
        "USD": ("0.9", datetime(2027, 1, 4, 9, 0, tzinfo=UTC)),
        "GBP": ("1.17", datetime(2026, 12, 1, tzinfo=UTC)),
    }


@pytest.mark.parametrize(
    "body",
    [
        {"currency": "USD", "rate": "0"},
        {"currency": "USD", "rate": "-0.9"},
        {"currency": "USD", "rate": "NaN"},
        {"currency": "USD", "rate": "Infinity"},
        {"currency": "USD", "rate": "ninety"},
        {"currency": "EURO", "rate": "1"},
        {"currency": "XAU", "rate": "1800"},
        {"currency": "usd", "rate": "1"},
        {"currency": "USD"},
        {"currency": "USD", "rate": "1", "effective_at": "2027-01-01T00:00:00"},  # naive
        {"currency": "USD", "rate": "1", "effective_at": "yesterday"},
    ],
)
def test_a_bad_exchange_rate_is_refused(client: TestClient, body: JSON) -> None:
    refused(client, "POST", "/exchange-rates", 422, "invalid_input", json=body)


def test_the_reporting_currencys_rate_is_refused_by_its_rule(client: TestClient) -> None:
    body = {"currency": "EUR", "rate": "2"}  # the store reports in EUR: its rate is 1
    refused(client, "POST", "/exchange-rates", 409, "rule_violated", json=body)


# --- pipelines -----------------------------------------------------------------------

SALES_STAGES = [
    ("initial_contact", 10, None),
    ("qualification", 25, None),
    ("proposal", 50, None),
    ("negotiation", 75, None),
    ("won", 100, "won"),
    ("lost", 0, "lost"),
    ("unqualified", 0, "unqualified"),
]


def test_the_default_sales_pipeline_lists_its_stages_in_order(client: TestClient) -> None:
    # When the default pipeline is read by name
    pipeline = query_ok(client.get("/pipelines/sales"))
    # Then its stages are those of docs/api.md, in order
    assert pipeline["name"] == "sales"
    assert [(s["id"], s["probability"], s["closed"]) for s in pipeline["stages"]] == SALES_STAGES
    assert all(isinstance(s["name"], str) and s["name"] for s in pipeline["stages"])
    # And it reads the same by id
    assert query_ok(client.get(f"/pipelines/{pipeline['id']}")) == pipeline


def _pipeline_body(name: str = "renewals") -> JSON:
    return {
        "name": name,
        "stages": [
            {"key": "due", "name": "Due", "probability": 60, "forecast_category": "best_case"},
            {"key": "agreed", "name": "Agreed", "probability": 90, "forecast_category": "commit"},
            {
                "key": "renewed",
                "name": "Renewed",
                "probability": 100,
                "forecast_category": "closed",
                "closed": "won",
            },
            {
                "key": "churned",
                "name": "Churned",
                "probability": 0,
                "forecast_category": "omitted",
                "closed": "lost",
            },
            {
                "key": "void",
                "name": "Void",
                "probability": 0,
                "forecast_category": "omitted",
                "closed": "unqualified",
            },
        ],
    }


def test_a_pipeline_is_created_and_read_by_name(client: TestClient) -> None:
    answer = command_ok(client.post("/pipelines", json=_pipeline_body()), 201)
    pipeline = query_ok(client.get("/pipelines/renewals"))
    assert pipeline["id"] == answer["id"]
    assert [(s["id"], s["probability"], s["closed"]) for s in pipeline["stages"]] == [
        ("due", 60, None),
        ("agreed", 90, None),
        ("renewed", 100, "won"),
        ("churned", 0, "lost"),
        ("void", 0, "unqualified"),
    ]


def test_a_second_pipeline_of_the_same_name_is_refused(client: TestClient) -> None:
    refused(client, "POST", "/pipelines", 409, "already_exists", json=_pipeline_body("sales"))


def test_a_pipeline_without_a_lost_stage_is_refused(client: TestClient) -> None:
    body = _pipeline_body()
    body["stages"] = [s for s in body["stages"] if s.get("closed") != "lost"]
    refused(client, "POST", "/pipelines", 409, "rule_violated", json=body)


@pytest.mark.parametrize(
    "stage_change",
    [
        {"probability": 150},
        {"probability": -1},
        {"key": "has space"},
        {"forecast_category": "certain"},
        {"closed": "maybe"},
    ],
)
def test_a_pipeline_with_a_bad_stage_is_refused(client: TestClient, stage_change: JSON) -> None:
    body = _pipeline_body()
    body["stages"][0].update(stage_change)
    refused(client, "POST", "/pipelines", 422, "invalid_input", json=body)


def test_reading_an_unknown_pipeline_is_not_found(client: TestClient) -> None:
    refused(client, "GET", "/pipelines/nope", 404, "not_found")
    refused(client, "GET", f"/pipelines/{uuid4()}", 404, "not_found")


def test_a_stages_probability_and_category_are_changed(client: TestClient) -> None:
    # When the proposal stage of the sales pipeline gets new settings
    body = {"probability": 40, "forecast_category": "commit"}
    answer = command_ok(client.post("/pipelines/sales/stages/proposal", json=body))
    # Then the pipeline reads them, at the answered version
    pipeline = query_ok(client.get("/pipelines/sales"))
    proposal = next(s for s in pipeline["stages"] if s["id"] == "proposal")
    assert (proposal["probability"], proposal["forecast_category"]) == (40, "commit")
    assert pipeline["version"] == answer["version"]


@pytest.mark.parametrize(
    ("stage", "body", "status", "error"),
    [
        # A closed stage is fixed: what the store holds refuses it, not the body's shape.
        ("won", {"probability": 50}, 409, "rule_violated"),
        ("lost", {"forecast_category": "commit"}, 409, "rule_violated"),
        ("proposal", {}, 422, "invalid_input"),  # nothing to change
        ("proposal", {"probability": 150}, 422, "invalid_input"),
        ("proposal", {"probability": "high"}, 422, "invalid_input"),
        ("proposal", {"forecast_category": "closed"}, 422, "invalid_input"),
        ("nope", {"probability": 50}, 404, "not_found"),
    ],
)
def test_a_bad_stage_change_is_refused(
    client: TestClient, stage: str, body: JSON, status: int, error: str
) -> None:
    refused(client, "POST", f"/pipelines/sales/stages/{stage}", status, error, json=body)


def test_a_stage_change_in_an_unknown_pipeline_is_not_found(client: TestClient) -> None:
    body = {"probability": 50}
    refused(client, "POST", "/pipelines/nope/stages/proposal", 404, "not_found", json=body)


# --- accounts ------------------------------------------------------------------------


def test_an_account_is_created_and_read_back(client: TestClient) -> None:
    answer = command_ok(client.post("/accounts", json={"name": "Globex", "partner": True}), 201)
    project(client)
    account = query_ok(client.get(f"/accounts/{answer['id']}"))
    assert (account["id"], account["name"], account["partner"]) == (answer["id"], "Globex", True)


def test_a_second_account_of_the_same_name_is_refused(client: TestClient) -> None:
    make_account(client, "Globex")
    refused(client, "POST", "/accounts", 409, "already_exists", json={"name": "globex"})


@pytest.mark.parametrize("body", [{}, {"name": None}, {"name": "A", "partner": "perhaps"}])
def test_an_account_with_bad_input_is_refused(client: TestClient, body: JSON) -> None:
    refused(client, "POST", "/accounts", 422, "invalid_input", json=body)


def test_reading_an_unknown_account_is_not_found(client: TestClient) -> None:
    refused(client, "GET", f"/accounts/{uuid4()}", 404, "not_found")
