"""Idempotency-Key and If-Match on every command route (docs/api.md, "Conventions").

Each case below builds what its command acts on through the API, then names
one request of that route. For every route:

- a repeat with the same key and body answers the first answer again (same
  status, same body, ``Idempotent-Replayed: true``) and writes nothing;
- the same key with another request is ``409 idempotency_key_reused`` and
  writes nothing;
- on a command to an existing aggregate, a stale ``If-Match`` is
  ``409 version_conflict`` and writes nothing, and the current one is accepted;
- on a command that names no existing aggregate, ``If-Match`` is bad input
  (400), not ignored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient

from tests.http.helpers import (
    CLOSE,
    JSON,
    activate,
    add_item,
    assert_error,
    bundle_body,
    command_ok,
    key_reused,
    log_position,
    make_account,
    make_opportunity,
    make_price_book,
    make_product,
    make_quote,
    money,
    priced_product,
    query_ok,
    quote_with_item,
    ready_to_sell,
    refused,
    sold,
)
from tests.identity import TEAM

pytestmark = pytest.mark.users(*TEAM)


@dataclass(frozen=True)
class Call:
    method: str
    url: str
    body: JSON | None
    # Another valid body for the same route; None: the route takes no body.
    other: JSON | None = None
    # The aggregate If-Match applies to; None: the command creates one.
    target: str | None = None

    def send(self, client: TestClient, body: JSON | None = None, **headers: str) -> Any:
        payload = self.body if body is None else body
        return client.request(self.method, self.url, json=payload, headers=headers)


def version_of(client: TestClient, aggregate_id: str) -> int:
    history = query_ok(client.get(f"/history/{aggregate_id}"))
    return int(history[-1]["version"])


# --- one request per command route ---------------------------------------------------


def _new_quote(c: TestClient) -> str:
    """An inactive quote with one manual item."""
    _, q = quote_with_item(c)
    return q


def _requests_on(
    new: Callable[[TestClient], str], route: str
) -> Callable[..., Callable[[TestClient], Call]]:
    """Cases of one request ``method <route>/{id}<path>`` on an aggregate ``new`` makes;
    If-Match applies to it, unless the route writes a new aggregate (``targeted=False``)."""

    def request(
        method: str,
        path: str = "",
        body: JSON | None = None,
        other: JSON | None = None,
        *,
        targeted: bool = True,
    ) -> Callable[[TestClient], Call]:
        def case(c: TestClient) -> Call:
            aggregate = new(c)
            target = aggregate if targeted else None
            return Call(method, f"{route}/{aggregate}{path}", body, other, target)

        return case

    return request


# On a new open opportunity, and on an inactive quote with one manual item.
_on_opportunity = _requests_on(make_opportunity, "/opportunities")
_on_quote = _requests_on(_new_quote, "/quotes")


def _product(c: TestClient) -> Call:
    body = {"name": "Licence", "code": "LIC", "category": "software", "kind": "one_off"}
    return Call("POST", "/products", body, {**body, "code": "LIC2"})


def _deactivate_product(c: TestClient) -> Call:
    product_id = make_product(c)
    return Call("POST", f"/products/{product_id}/deactivate", None, target=product_id)


def _reactivate_product(c: TestClient) -> Call:
    product_id = make_product(c)
    command_ok(c.post(f"/products/{product_id}/deactivate"))
    return Call("POST", f"/products/{product_id}/reactivate", None, target=product_id)


def _price_book(c: TestClient) -> Call:
    return Call("POST", "/price-books", {"name": "Prices"}, {"name": "Other prices"})


def _price(c: TestClient) -> Call:
    product_id, book_id = make_product(c), make_price_book(c)
    body = {"product_id": product_id, "unit": "user", "currency": "EUR", "price": "10.00"}
    url = f"/price-books/{book_id}/prices"
    return Call("POST", url, body, {**body, "price": "11.00"}, target=book_id)


def _deactivate_price_book(c: TestClient) -> Call:
    book_id = make_price_book(c)
    return Call("POST", f"/price-books/{book_id}/deactivate", None, target=book_id)


def _bundle(c: TestClient) -> Call:
    product_id, book_id = priced_product(c)
    body = bundle_body(book_id, (product_id, "1"))
    return Call("POST", "/bundles", body, {**body, "code": "SUITE2"})


def _exchange_rate(c: TestClient) -> Call:
    return Call(
        "POST",
        "/exchange-rates",
        {"currency": "USD", "rate": "0.9"},
        {"currency": "USD", "rate": "0.8"},
    )


def _pipeline(c: TestClient) -> Call:
    def stage(key: str, probability: int, category: str, closed: str | None = None) -> JSON:
        made = {"key": key, "name": key.title(), "probability": probability}
        return {**made, "forecast_category": category, "closed": closed}

    stages = [
        stage("open", 50, "pipeline"),
        stage("won", 100, "closed", "won"),
        stage("lost", 0, "omitted", "lost"),
        stage("unqualified", 0, "omitted", "unqualified"),
    ]
    body = {"name": "partners", "stages": stages}
    return Call("POST", "/pipelines", body, {**body, "name": "renewals"})


def _stage_settings(c: TestClient) -> Call:
    pipeline = query_ok(c.get("/pipelines/sales"))
    target = str(pipeline["id"])
    url = "/pipelines/sales/stages/proposal"
    return Call("POST", url, {"probability": 55}, {"probability": 65}, target=target)


def _account(c: TestClient) -> Call:
    return Call("POST", "/accounts", {"name": "Initech"}, {"name": "Umbrella"})


def _opportunity(c: TestClient) -> Call:
    body = {"title": "Deal", "account_name": "ACME", "owner": "alice", "expected_close": CLOSE}
    return Call("POST", "/opportunities", body, {**body, "title": "Other deal"})


_edit_opportunity = _on_opportunity("PATCH", "", {"title": "Renamed"}, {"title": "Else"})
_delete_opportunity = _on_opportunity("DELETE")
_stage = _on_opportunity("POST", "/stage", {"stage": "proposal"}, {"stage": "negotiation"})


def _partner(c: TestClient) -> Call:
    o = make_opportunity(c)
    partner, other = make_account(c, "Reseller", partner=True), make_account(c, "VAR", partner=True)
    url = f"/opportunities/{o}/partner"
    return Call("POST", url, {"partner_id": partner}, {"partner_id": other}, o)


ROLE = {"contact": "Ann", "role": "decision maker"}
_role = _on_opportunity("POST", "/roles", ROLE, {**ROLE, "contact": "Bob"})


def _remove_role(c: TestClient) -> Call:
    o = make_opportunity(c)
    role_id = command_ok(c.post(f"/opportunities/{o}/roles", json=ROLE), 201)["role_id"]
    return Call("DELETE", f"/opportunities/{o}/roles/{role_id}", None, target=o)


CALL = {"kind": "call", "subject": "Intro"}
_activity = _on_opportunity("POST", "/activities", CALL, {**CALL, "subject": "Demo"})


def _logged_activity(c: TestClient) -> tuple[str, str]:
    o = make_opportunity(c)
    return o, command_ok(c.post(f"/opportunities/{o}/activities", json=CALL), 201)["activity_id"]


def _edit_activity(c: TestClient) -> Call:
    o, a = _logged_activity(c)
    url = f"/opportunities/{o}/activities/{a}"
    return Call("PATCH", url, {"subject": "Call back"}, {"subject": "Meeting"}, o)


def _delete_activity(c: TestClient) -> Call:
    o, a = _logged_activity(c)
    return Call("DELETE", f"/opportunities/{o}/activities/{a}", None, target=o)


QUOTE = {"name": "Q1", "currency": "EUR"}
_quote = _on_opportunity("POST", "/quotes", QUOTE, {**QUOTE, "name": "Q2"})


def _sell(c: TestClient) -> Call:
    o, _ = ready_to_sell(c)
    return Call("POST", f"/opportunities/{o}/sell", {}, {"effective_at": "2026-01-02T10:00:00Z"}, o)


def _unlock(c: TestClient) -> Call:
    o, _ = sold(c)
    return Call("POST", f"/opportunities/{o}/unlock", None, target=o)


_lose = _on_opportunity("POST", "/lose", {"reason": "price"}, {"reason": "timing"})
_unqualified = _on_opportunity(
    "POST", "/unqualified", {"reason": "no budget"}, {"reason": "no need"}
)


def _reopen(c: TestClient) -> Call:
    o = make_opportunity(c)
    command_ok(c.post(f"/opportunities/{o}/lose", json={"reason": "price"}))
    return Call("POST", f"/opportunities/{o}/reopen", None, target=o)


_copy = _on_opportunity("POST", "/copy", {"title": "Copy"}, {"title": "Twin"}, targeted=False)
_edit_quote = _on_quote("PATCH", "", {"name": "Renamed"}, {"name": "Else"})
_delete_quote = _on_quote("DELETE")
ITEM = {"name": "Training", "quantity": "2", "unit_price": "50.00"}
_item = _on_quote("POST", "/items", ITEM, {**ITEM, "quantity": "3"})


def _quote_and_item(c: TestClient) -> tuple[str, str]:
    """An inactive quote with one manual item, and that item."""
    q = make_quote(c, make_opportunity(c))
    return q, add_item(c, q)


def _edit_item(c: TestClient) -> Call:
    q, i = _quote_and_item(c)
    return Call("PATCH", f"/quotes/{q}/items/{i}", {"quantity": "2"}, {"quantity": "5"}, q)


def _remove_item(c: TestClient) -> Call:
    q, i = _quote_and_item(c)
    return Call("DELETE", f"/quotes/{q}/items/{i}", None, target=q)


_rounding = _on_quote("PUT", "/rounding", {"amount": "-0.50"}, {"amount": "1.00"})
_activate = _on_quote("POST", "/activate")


def _deactivate(c: TestClient) -> Call:
    _, q = quote_with_item(c)
    activate(c, q)
    return Call("POST", f"/quotes/{q}/deactivate", None, target=q)


_duplicate = _on_quote("POST", "/duplicate", {"name": "Copy"}, {"name": "Twin"}, targeted=False)


def _currency(c: TestClient) -> Call:
    command_ok(c.post("/exchange-rates", json={"currency": "USD", "rate": "0.9"}))
    command_ok(c.post("/exchange-rates", json={"currency": "GBP", "rate": "1.2"}))
    _, q = quote_with_item(c)
    url = f"/quotes/{q}/currency"
    return Call("POST", url, {"currency": "USD"}, {"currency": "GBP"}, q)


_offer = _on_quote("POST", "/offer", {}, {"template": "Offer for $account"})


def _target(c: TestClient) -> Call:
    body = {"owner": "alice", "period": "2027-Q1", "amount": money("100000.00")}
    return Call("POST", "/targets", body, {**body, "amount": money("90000.00")})


CASES: dict[str, Callable[[TestClient], Call]] = {
    "create product": _product,
    "deactivate product": _deactivate_product,
    "reactivate product": _reactivate_product,
    "create price book": _price_book,
    "set price": _price,
    "deactivate price book": _deactivate_price_book,
    "create bundle": _bundle,
    "set exchange rate": _exchange_rate,
    "create pipeline": _pipeline,
    "change stage settings": _stage_settings,
    "create account": _account,
    "create opportunity": _opportunity,
    "edit opportunity": _edit_opportunity,
    "delete opportunity": _delete_opportunity,
    "move to stage": _stage,
    "assign partner": _partner,
    "add business role": _role,
    "remove business role": _remove_role,
    "log activity": _activity,
    "edit activity": _edit_activity,
    "delete activity": _delete_activity,
    "create quote": _quote,
    "sell": _sell,
    "unlock": _unlock,
    "lose": _lose,
    "unqualified": _unqualified,
    "reopen": _reopen,
    "copy opportunity": _copy,
    "edit quote": _edit_quote,
    "delete quote": _delete_quote,
    "add item": _item,
    "change item": _edit_item,
    "remove item": _remove_item,
    "set rounding": _rounding,
    "activate quote": _activate,
    "deactivate quote": _deactivate,
    "duplicate quote": _duplicate,
    "change currency": _currency,
    "generate offer": _offer,
    "set sales target": _target,
}
# Commands that name no existing aggregate in their route (they create one, or set a value).
UNTARGETED = {
    "create product",
    "create price book",
    "create bundle",
    "set exchange rate",
    "create pipeline",
    "create account",
    "create opportunity",
    "set sales target",
    # they read their source and write a new aggregate
    "copy opportunity",
    "duplicate quote",
}
ON_EXISTING = sorted(set(CASES) - UNTARGETED)


@pytest.fixture(params=sorted(CASES))
def call(request: pytest.FixtureRequest, client: TestClient) -> Call:
    return CASES[request.param](client)


# --- Idempotency-Key -----------------------------------------------------------------


def test_a_repeat_with_the_same_key_and_body_answers_the_first_answer_and_writes_nothing(
    client: TestClient, call: Call
) -> None:
    # Given a keyed command that went through
    key = str(uuid4())
    first = call.send(client, **{"Idempotency-Key": key})
    assert first.status_code in (200, 201), first.text
    assert "Idempotent-Replayed" not in first.headers
    position = log_position(client)
    # When the same key and body come again
    again = call.send(client, **{"Idempotency-Key": key})
    # Then the first answer comes back, marked as replayed, and nothing was written
    assert (again.status_code, again.json()) == (first.status_code, first.json())
    assert again.headers["Idempotent-Replayed"] == "true"
    assert log_position(client) == position


def test_the_same_key_with_another_request_is_refused_and_writes_nothing(
    client: TestClient, call: Call
) -> None:
    # Given a key used once on this route
    key = str(uuid4())
    assert call.send(client, **{"Idempotency-Key": key}).status_code in (200, 201)
    # When the key comes with another body (or, for a route without one, another request)
    if call.other is not None:
        other = Call(call.method, call.url, call.other)
    else:
        other = Call("POST", "/accounts", {"name": "Someone else"})
    # Then it is refused as a reused key and nothing is written
    key_reused(client, other.method, other.url, key, other.body)


def test_the_same_body_with_other_spacing_and_key_order_is_the_same_request(
    client: TestClient,
) -> None:
    # Given a keyed opportunity creation
    body = {"title": "Deal", "account_name": "ACME", "owner": "alice", "expected_close": CLOSE}
    first = client.post("/opportunities", json=body, headers={"Idempotency-Key": "k"})
    assert first.status_code == 201
    # When the same JSON is sent in another order with other spacing
    text = '{ "owner" : "alice", "expected_close": "%s",\n"account_name":"ACME","title":"Deal"}'
    again = client.post(
        "/opportunities",
        content=text % CLOSE,
        headers={"Idempotency-Key": "k", "Content-Type": "application/json"},
    )
    # Then it is the first answer again
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"


@pytest.mark.parametrize("key", ["", "x" * 256, "tab\there"])
def test_an_unusable_idempotency_key_is_bad_input(client: TestClient, key: str) -> None:
    body = {"title": "Deal", "account_name": "ACME", "owner": "alice", "expected_close": CLOSE}
    refused(
        client,
        "POST",
        "/opportunities",
        400,
        "invalid_idempotency_key",
        json=body,
        headers={"Idempotency-Key": key},
    )


# --- If-Match ------------------------------------------------------------------------


@pytest.fixture(params=ON_EXISTING)
def existing(request: pytest.FixtureRequest, client: TestClient) -> Call:
    made = CASES[request.param](client)
    assert made.target is not None, f"{request.param} names no aggregate for If-Match"
    return made


def test_a_stale_if_match_is_a_conflict_and_writes_nothing(
    client: TestClient, existing: Call
) -> None:
    # Given the aggregate at its current version
    assert existing.target is not None
    current = version_of(client, existing.target)
    # When a command expects an older one (or one it never reached)
    for stale in {max(current - 1, 0), current + 1}:
        body = refused(
            client,
            existing.method,
            existing.url,
            409,
            "version_conflict",
            json=existing.body,
            headers={"If-Match": str(stale)},
        )
        # Then the answer says which version the aggregate is at
        assert str(current) in body["detail"]


def test_the_current_version_in_if_match_is_accepted(client: TestClient, existing: Call) -> None:
    assert existing.target is not None
    current = version_of(client, existing.target)
    answer = existing.send(client, **{"If-Match": f'"{current}"'})
    assert answer.status_code in (200, 201), answer.text


@pytest.mark.parametrize("value", ["abc", "-1", "1.5", ""])
def test_a_malformed_if_match_is_bad_input(client: TestClient, value: str) -> None:
    opportunity_id = make_opportunity(client)
    refused(
        client,
        "POST",
        f"/opportunities/{opportunity_id}/stage",
        400,
        "invalid_if_match",
        json={"stage": "proposal"},
        headers={"If-Match": value},
    )


@pytest.mark.parametrize("name", sorted(UNTARGETED))
def test_if_match_on_a_command_without_an_aggregate_to_match_is_bad_input(
    client: TestClient, name: str
) -> None:
    made = CASES[name](client)
    assert made.target is None
    body = assert_error(made.send(client, **{"If-Match": "1"}), 400, "if_match_not_applicable")
    assert "existing aggregate" in body["detail"]
