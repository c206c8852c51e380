"""Small helpers for the HTTP tests: send, check an answer's shape, make things to act on.

Every ``make_*`` helper goes through the HTTP API (never the bus), so a broken
route breaks its callers loudly.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID, uuid4

from fastapi.testclient import TestClient
from httpx2 import Response

from adapters.bootstrap import Services

JSON = dict[str, Any]
CLOSE = "2027-03-31"


def log_position(client: TestClient) -> int:
    """The event log's last position, as ``GET /health`` reports it."""
    response = client.get("/health")
    assert response.status_code == 200, response.text
    position = response.json()["position"]
    assert isinstance(position, int)
    return position


def is_uuid(value: object) -> bool:
    try:
        UUID(str(value))
    except ValueError:
        return False
    return True


def command_ok(response: Response, status: int = 200) -> JSON:
    """A command's answer per docs/api.md: ``{id, version, position}`` (plus extras)."""
    assert response.status_code == status, response.text
    body = response.json()
    assert isinstance(body, dict)
    assert is_uuid(body["id"])
    assert isinstance(body["version"], int) and body["version"] >= 1
    assert isinstance(body["position"], int) and body["position"] >= 1
    return body


def query_ok(response: Response) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


def assert_error(response: Response, status: int, error: str | None = None) -> JSON:
    """An error per docs/api.md: ``{"error": <code>, "detail": <one human sentence>}``."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    # already_exists also names the record that exists
    fields = {"error", "detail"} | (
        {"existing_id"} if status == 409 and body.get("error") == "already_exists" else set()
    )
    assert isinstance(body, dict) and set(body) == fields, body
    if error is not None:
        assert body["error"] == error, body
    detail = body["detail"]
    assert isinstance(detail, str) and detail[:1].strip(), body
    assert detail.endswith("."), body
    assert "\n" not in detail and "Traceback" not in detail, body
    return body


def refused(
    client: TestClient,
    method: str,
    url: str,
    status: int,
    error: str | None = None,
    **kwargs: Any,
) -> JSON:
    """Send a request that must be refused, and check that nothing was written."""
    before = log_position(client)
    body = assert_error(client.request(method, url, **kwargs), status, error)
    assert log_position(client) == before, "a refused request wrote to the event log"
    return body


def changes_nothing(client: TestClient, send: Callable[[], Response]) -> JSON:
    """Send a command that changes nothing: it is answered, and nothing is written."""
    before = log_position(client)
    answer = command_ok(send())
    assert log_position(client) == before, "a command that changes nothing wrote to the log"
    return answer


def as_of(client: TestClient, url: str, **params: Any) -> tuple[int, str]:
    """The log position and the recorded time a read route's answer says it reflects
    (its ``as_of``)."""
    response = client.get(url, params=params)
    assert response.status_code == 200, response.text
    reflected = response.json()["as_of"]
    return int(reflected["position"]), reflected["recorded_at"]


def every_page(client: TestClient, url: str, limit: int, **params: Any) -> list[JSON]:
    """Every item of a list route, following its cursors page by page, ``limit`` a page:
    each page but the last is full, and the last says no next cursor."""
    items: list[JSON] = []
    cursor: str | None = None
    while True:
        paging = {"limit": limit} if cursor is None else {"limit": limit, "cursor": cursor}
        body = query_ok(client.get(url, params={**params, **paging}))
        items.extend(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            assert len(body["items"]) <= limit
            return items
        assert len(body["items"]) == limit, body


def key_reused(client: TestClient, method: str, url: str, key: str, body: JSON | None) -> JSON:
    """Send another request under an Idempotency-Key already used: it is refused as a reused
    key (409), and nothing is written."""
    headers = {"Idempotency-Key": key}
    return refused(client, method, url, 409, "idempotency_key_reused", json=body, headers=headers)


# --- the read model ---------------------------------------------------------------------


def services_of(client: TestClient) -> Services:
    """The running application behind the HTTP client (its bus, store and read model)."""
    services: Services = client.app.state.services  # type: ignore[attr-defined]
    return services


def project(client: TestClient) -> int:
    """Bring the read model up to the log's end, as the projector would; its position."""
    services = services_of(client)
    projector = services.projector()
    projector.start()
    projector.catch_up()
    return services.queries.tracked()


def summary_rows(client: TestClient, url: str, by: str, **params: Any) -> list[JSON]:
    """The rows of the summary route ``url`` grouped ``by``; the answer says its grouping and
    the position it reflects (``as_of`` when asked, else the read model's)."""
    answer = query_ok(client.get(url, params={"by": by, **params}))
    assert answer["by"] == by
    position = int(params.get("as_of", services_of(client).queries.tracked()))
    assert answer["as_of"]["position"] == position
    rows: list[JSON] = answer["rows"]
    return rows


def money(amount: str, currency: str = "EUR") -> JSON:
    return {"amount": amount, "currency": currency}


# --- makers --------------------------------------------------------------------------


def make_product(
    client: TestClient,
    code: str = "LIC",
    *,
    name: str = "Licence",
    category: str = "software",
    kind: str = "time_based",
    term_months: int | None = 12,
) -> str:
    body: JSON = {"name": name, "code": code, "category": category, "kind": kind}
    if term_months is not None:
        body["term_months"] = term_months
    return str(command_ok(client.post("/products", json=body), 201)["id"])


def make_price_book(client: TestClient, name: str = "Prices 2027", **fields: Any) -> str:
    body = {"name": name, **fields}
    return str(command_ok(client.post("/price-books", json=body), 201)["id"])


def set_price(
    client: TestClient,
    price_book_id: str,
    product_id: str,
    *,
    price: str = "100.00",
    currency: str = "EUR",
    unit: str = "user",
) -> JSON:
    body = {"product_id": product_id, "unit": unit, "currency": currency, "price": price}
    return command_ok(client.post(f"/price-books/{price_book_id}/prices", json=body))


def priced_product(
    client: TestClient, *, currencies: tuple[str, ...] = ("EUR",), price: str = "100.00"
) -> tuple[str, str]:
    """A licence priced per user in a new price book, in each of ``currencies``."""
    product_id = make_product(client)
    book_id = make_price_book(client)
    for currency in currencies:
        set_price(client, book_id, product_id, price=price, currency=currency)
    return product_id, book_id


def bundle_body(price_book_id: str, *components: tuple[str, str]) -> JSON:
    """The Suite bundle (code SUITE) of ``(product_id, weight)`` components."""
    return {
        "name": "Suite",
        "code": "SUITE",
        "price_book_id": price_book_id,
        "components": [{"product_id": p, "weight": w} for p, w in components],
    }


def make_bundle(client: TestClient, price_book_id: str, *components: tuple[str, str]) -> str:
    body = bundle_body(price_book_id, *components)
    return str(command_ok(client.post("/bundles", json=body), 201)["id"])


def set_rate(client: TestClient, currency: str, rate: str) -> JSON:
    return command_ok(client.post("/exchange-rates", json={"currency": currency, "rate": rate}))


def make_account(client: TestClient, name: str = "Globex", *, partner: bool = False) -> str:
    body = {"name": name, "partner": partner}
    return str(command_ok(client.post("/accounts", json=body), 201)["id"])


def opportunity_body(**overrides: Any) -> JSON:
    body: JSON = {
        "title": "ACME licences",
        "account_name": "ACME",
        "owner": "alice",
        "expected_close": CLOSE,
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


def make_opportunity(client: TestClient, **overrides: Any) -> str:
    answer = command_ok(client.post("/opportunities", json=opportunity_body(**overrides)), 201)
    return str(answer["id"])


def make_quote(client: TestClient, opportunity_id: str, **fields: Any) -> str:
    body = {"name": "Q1", "currency": "EUR", **fields}
    answer = command_ok(client.post(f"/opportunities/{opportunity_id}/quotes", json=body), 201)
    return str(answer["id"])


def add_item(client: TestClient, quote_id: str, **fields: Any) -> str:
    """A manual item (Setup, 1 × 100.00) unless told otherwise."""
    body: JSON = {"name": "Setup", "quantity": "1", "unit_price": "100.00"}
    body.update(fields)
    body = {k: v for k, v in body.items() if v is not None}
    answer = command_ok(client.post(f"/quotes/{quote_id}/items", json=body), 201)
    return str(answer["item_id"])


def activate(client: TestClient, quote_id: str) -> JSON:
    return command_ok(client.post(f"/quotes/{quote_id}/activate"))


def quote_with_item(client: TestClient, **opportunity: Any) -> tuple[str, str]:
    """An open opportunity with an inactive quote holding one manual item."""
    opportunity_id = make_opportunity(client, **opportunity)
    quote_id = make_quote(client, opportunity_id)
    add_item(client, quote_id)
    return opportunity_id, quote_id


def ready_to_sell(client: TestClient) -> tuple[str, str]:
    """An open opportunity whose active quote has one item."""
    opportunity_id, quote_id = quote_with_item(client)
    activate(client, quote_id)
    return opportunity_id, quote_id


def sold(client: TestClient) -> tuple[str, str]:
    """A sold (won, locked) opportunity and its active quote."""
    opportunity_id, quote_id = ready_to_sell(client)
    command_ok(client.post(f"/opportunities/{opportunity_id}/sell"))
    return opportunity_id, quote_id


def lost(client: TestClient) -> str:
    opportunity_id = make_opportunity(client)
    body = {"reason": "price"}
    command_ok(client.post(f"/opportunities/{opportunity_id}/lose", json=body))
    return opportunity_id


def get_opportunity(client: TestClient, opportunity_id: str) -> JSON:
    body: JSON = query_ok(client.get(f"/opportunities/{opportunity_id}"))
    return body


def get_quote(client: TestClient, quote_id: str) -> JSON:
    body: JSON = query_ok(client.get(f"/quotes/{quote_id}"))
    return body


# --- activities (a lead's and an opportunity's routes alike) ------------------------------

# Activity bodies every activity route refuses.
BAD_ACTIVITIES: list[JSON] = [
    {"kind": "lunch", "subject": "x"},
    {"kind": "call", "subject": " "},
    {"kind": "call"},
    {"subject": "x"},
    {"kind": "call", "subject": "x", "occurred_at": "2027-01-03T15:00:00"},
    {"kind": "call", "subject": 42},
]


def edit_then_delete_activity(
    client: TestClient, url: str, activity_id: str, listed: Callable[[], list[JSON]]
) -> None:
    """The call "Intro" logged at ``url`` is edited into a meeting with notes, then deleted:
    ``listed`` (the activities as read back) shows each; once it is gone, editing or
    deleting it again is not found."""
    # When it is edited
    command_ok(client.patch(f"{url}/{activity_id}", json={"kind": "meeting", "notes": "went well"}))
    # Then it reads back changed
    [activity] = listed()
    assert (activity["kind"], activity["subject"], activity["notes"]) == (
        "meeting",
        "Intro",
        "went well",
    )
    # When it is deleted
    command_ok(client.delete(f"{url}/{activity_id}"))
    # Then it is gone, and editing or deleting it again is not found
    assert listed() == []
    refused(client, "PATCH", f"{url}/{activity_id}", 404, "not_found", json={"subject": "x"})
    refused(client, "DELETE", f"{url}/{activity_id}", 404, "not_found")


# --- partners (a lead's and an opportunity's routes alike) ---------------------------------


def refuses_bad_partners(client: TestClient, url: str) -> None:
    """The partner route ``url`` refuses an unknown partner (not found), a name for an id
    and no partner at all, and writes nothing."""
    refused(client, "POST", url, 404, "not_found", json={"partner_id": str(uuid4())})
    refused(client, "POST", url, 422, "invalid_input", json={"partner_id": "Resell Ltd"})
    refused(client, "POST", url, 422, "invalid_input", json={})
