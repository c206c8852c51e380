"""The lists over HTTP, as real users with real tokens: ``GET /opportunities``, ``/quotes``,
``/contacts`` and ``/pipeline/board`` — one envelope, filters, ``q``, sorts, keyset
cursors (a cursor of one order refused by another), ``as_of``, visibility, and contacts'
personal data masked or logged as ``GET /contacts/{id}`` shows it."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from adapters.http.paging import make_key_cursor
from tests.http.helpers import (
    JSON,
    add_item,
    assert_error,
    command_ok,
    make_opportunity,
    make_quote,
    project,
    query_ok,
    services_of,
)
from tests.identity import bearer, user_token

pytestmark = pytest.mark.users("alice", "bob")


def every_page(
    client: TestClient, url: str, headers: dict[str, str] | None = None, **params: Any
) -> tuple[list[JSON], list[JSON]]:
    """Every item of a list, page by page through its cursors; and the pages."""
    pages = [query_ok(client.get(url, params=params, headers=headers))]
    while pages[-1]["next_cursor"] is not None:
        more = {**params, "cursor": pages[-1]["next_cursor"]}
        pages.append(query_ok(client.get(url, params=more, headers=headers)))
    return [item for p in pages for item in p["items"]], pages


def _titles(items: list[JSON]) -> list[str]:
    return [item["title"] for item in items]


def test_opportunities_are_filtered_sorted_searched_and_paged(any_client: TestClient) -> None:
    client = any_client  # on SQLite and on PostgreSQL
    # Given five deals of alice and bob, in stages, closing on different days
    for title, owner, close, stage in (
        ("Globex renewal", "alice", "2027-05-01", "proposal"),
        ("ACME licences", "alice", "2027-03-01", "initial_contact"),
        ("Initech rollout", "bob", "2027-04-01", "proposal"),
        ("ACME support", "bob", "2027-02-01", "proposal"),
        ("Umbrella pilot", "alice", "2027-06-01", "proposal"),
    ):
        make_opportunity(client, title=title, owner=owner, expected_close=close, stage=stage)
    project(client)
    # When they are listed two at a time by expected close
    items, pages = every_page(client, "/opportunities", sort="expected_close", limit=2)
    # Then every deal comes once, in order, over three pages whose as_of is the first's
    assert _titles(items) == [
        "ACME support",
        "ACME licences",
        "Initech rollout",
        "Globex renewal",
        "Umbrella pilot",
    ]
    assert [len(p["items"]) for p in pages] == [2, 2, 1]
    assert len({p["as_of"]["position"] for p in pages}) == 1
    # descending, and filtered by owner, stage and expected close
    listed = query_ok(
        client.get(
            "/opportunities",
            params={
                "owner": "alice",
                "stage": "proposal",
                "expected_close_to": "2027-05-31",
                "sort": "-expected_close",
            },
        )
    )
    assert _titles(listed["items"]) == ["Globex renewal"]
    assert _titles(every_page(client, "/opportunities", sort="-title")[0])[:2] == [
        "Umbrella pilot",
        "Initech rollout",
    ]
    # q finds words of the title, case and prefix alike
    found = every_page(client, "/opportunities", q="acme", sort="title")[0]
    assert _titles(found) == ["ACME licences", "ACME support"]
    assert _titles(every_page(client, "/opportunities", q="ACM SUPP")[0]) == ["ACME support"]
    assert every_page(client, "/opportunities", q="nothing")[0] == []


def test_a_cursor_is_refused_by_another_order_or_list_and_a_bad_sort_named(
    client: TestClient,
) -> None:
    for title in ("A", "B", "C"):
        make_opportunity(client, title=title)
    project(client)
    first = query_ok(client.get("/opportunities", params={"sort": "title", "limit": 1}))
    cursor = first["next_cursor"]
    assert cursor is not None
    other = client.get("/opportunities", params={"sort": "-title", "cursor": cursor})
    assert_error(other, 404, "not_found")
    assert_error(client.get("/quotes", params={"cursor": cursor}), 404, "not_found")
    assert_error(client.get("/opportunities", params={"cursor": "bm90LWEtY3Vyc29y"}), 404)
    # one made up: a position no page answered at, a key of the wrong kind
    for key in ([10**9, "A", first["items"][0]["id"]], [1, 5, 7]):
        forged = make_key_cursor("opportunities:title", key)
        assert_error(client.get("/opportunities", params={"sort": "title", "cursor": forged}), 404)
    bad = assert_error(client.get("/opportunities", params={"sort": "colour"}), 422)
    assert "title" in bad["detail"]


def test_later_pages_read_the_list_as_it_stood_at_the_first(any_client: TestClient) -> None:
    client = any_client  # on SQLite and on PostgreSQL
    # Given three deals and the first page of them by title
    ids = {t: make_opportunity(client, title=t) for t in ("B deal", "D deal", "F deal")}
    project(client)
    first = query_ok(client.get("/opportunities", params={"sort": "title", "limit": 1}))
    # When, between pages, one is renamed to sort first, another to sort later, and a
    # new one is made
    command_ok(client.patch(f"/opportunities/{ids['D deal']}", json={"title": "A deal"}))
    command_ok(client.patch(f"/opportunities/{ids['B deal']}", json={"title": "Z deal"}))
    make_opportunity(client, title="C deal")
    project(client)
    rest = every_page(client, "/opportunities", sort="title", limit=1, cursor=first["next_cursor"])
    # Then the pages are the list as it stood: none skipped, none repeated
    assert _titles(first["items"] + rest[0]) == ["B deal", "D deal", "F deal"]
    # and a new first page sees the changes
    assert _titles(every_page(client, "/opportunities", sort="title")[0]) == [
        "A deal",
        "C deal",
        "F deal",
        "Z deal",
    ]


def test_every_list_answers_only_what_the_caller_may_see(client: TestClient) -> None:
    services = services_of(client)
    alice = bearer(user_token(services, "alice", "rep"))
    maria = bearer(user_token(services, "maria", "manager"))
    command_ok(client.patch("/users/alice", json={"manager": "maria"}))
    mine = make_opportunity(client, title="Alice public", owner="alice")
    secret = make_opportunity(client, title="Alice private", owner="alice")
    command_ok(client.patch(f"/opportunities/{secret}", json={"private": True}))
    bobs = make_opportunity(client, title="Bob deal", owner="bob")
    make_quote(client, mine, name="Alice quote")
    make_quote(client, bobs, name="Bob quote")
    project(client)
    # a rep: their own deals (the private one too) and the quotes of those
    assert sorted(_titles(every_page(client, "/opportunities", alice)[0])) == [
        "Alice private",
        "Alice public",
    ]
    assert [q["name"] for q in every_page(client, "/quotes", alice)[0]] == ["Alice quote"]
    # `me` is the caller
    assert len(every_page(client, "/opportunities", alice, owner="me")[0]) == 2
    assert every_page(client, "/opportunities", owner="me")[0] == []
    # a manager: the team's public deals, not a private one
    assert _titles(every_page(client, "/opportunities", maria)[0]) == ["Alice public"]
    # an admin: everything, with its sharing
    listed = {o["title"]: o for o in every_page(client, "/opportunities")[0]}
    assert set(listed) == {"Alice public", "Alice private", "Bob deal"}
    assert listed["Alice private"]["private"] is True


def test_quotes_list_their_totals_and_opportunity_and_as_of_a_position(client: TestClient) -> None:
    deal = make_opportunity(client)
    quote = make_quote(client, deal, name="Main offer")
    add_item(client, quote, quantity="2", unit_price="150.00")
    before = project(client)
    add_item(client, quote, name="Training", quantity="1", unit_price="99.99")
    project(client)
    (now,) = every_page(client, "/quotes", opportunity_id=deal)[0]
    assert (now["name"], now["items"], now["total"]) == (
        "Main offer",
        2,
        {"amount": "399.99", "currency": "EUR"},
    )
    (then,) = every_page(client, "/quotes", as_of=str(before))[0]
    assert (then["items"], then["total"]["amount"]) == (1, "300.00")
    assert every_page(client, "/quotes", q="main")[0][0]["id"] == quote
    assert every_page(client, "/quotes", active=True)[0] == []


def test_contacts_are_found_by_title_words_and_exact_email_or_phone_masked_or_logged(
    any_client: TestClient,
) -> None:
    client = any_client  # on SQLite and on PostgreSQL
    jane = command_ok(
        client.post(
            "/contacts",
            json={
                "first_name": "Jane",
                "last_name": "Doe",
                "email": "Jane.Doe@Example.com",
                "phone": "+49 30 1234567",
                "title": "Head of Purchasing",
                "owner": "alice",
            },
        ),
        201,
    )
    command_ok(
        client.post(
            "/contacts",
            json={"first_name": "John", "last_name": "Roe", "title": "CTO", "owner": "bob"},
        ),
        201,
    )
    project(client)
    # words of the job title, an exact e-mail (any case), an exact phone number
    for q in ("purchas", "jane.doe@example.com", "+49 30 1234567"):
        found = every_page(client, "/contacts", q=q)[0]
        assert [(c["id"], c["last_name"]) for c in found] == [(jane["id"], "Doe")], q
    # no part of an address or name is searched
    assert every_page(client, "/contacts", q="Doe")[0] == []
    assert every_page(client, "/contacts", q="jane.doe@example")[0] == []
    # filtered by owner
    assert [c["last_name"] for c in every_page(client, "/contacts", owner="bob")[0]] == ["Roe"]

    # the admin read Jane in the clear three times: an access-log entry each
    def entries() -> list[tuple[str, str]]:
        log = query_ok(client.get("/audit/access", params={"record": jane["id"]}))
        return [(e["by"], e["route"]) for e in log["items"]]

    assert entries() == [("admin", "GET /contacts")] * 3
    # an analyst reads them masked, and nothing is logged for it
    analyst = bearer(user_token(services_of(client), "ana", "analyst"))
    masked = every_page(client, "/contacts", analyst, q="purchasing")[0]
    assert masked[0]["masked"] is True and masked[0]["email"] is None
    assert masked[0]["title"] == "Head of Purchasing"
    # and may not learn whose address it is
    assert every_page(client, "/contacts", analyst, q="jane.doe@example.com")[0] == []
    assert entries() == [("admin", "GET /contacts")] * 3


def test_the_board_shows_open_deals_per_stage_each_paged_on_its_own(client: TestClient) -> None:
    for title, stage, close in (
        ("P1", "proposal", "2027-05-01"),
        ("P2", "proposal", "2027-04-01"),
        ("P3", "proposal", "2027-06-01"),
        ("Q1", "qualification", "2027-04-01"),
    ):
        make_opportunity(client, title=title, stage=stage, expected_close=close)
    lost = make_opportunity(client, title="Gone", stage="proposal")
    command_ok(client.post(f"/opportunities/{lost}/lose", json={"reason": "price"}))
    project(client)
    board = query_ok(client.get("/pipeline/board", params={"pipeline": "sales", "limit": 2}))
    columns = {c["stage"]: c for c in board["columns"]}
    assert list(columns) == ["initial_contact", "qualification", "proposal", "negotiation"]
    assert _titles(columns["proposal"]["items"]) == ["P2", "P1"]
    assert _titles(columns["qualification"]["items"]) == ["Q1"]
    assert columns["qualification"]["next_cursor"] is None
    cursor = columns["proposal"]["next_cursor"]
    more = query_ok(
        client.get("/pipeline/board", params={"stage": "proposal", "cursor": cursor, "limit": 2})
    )
    assert [c["stage"] for c in more["columns"]] == ["proposal"]
    assert _titles(more["columns"][0]["items"]) == ["P3"]
    assert more["as_of"] == board["as_of"]
    # a column's cursor pages only its column
    wrong = client.get("/pipeline/board", params={"stage": "qualification", "cursor": cursor})
    assert_error(wrong, 404, "not_found")
    # the cursor names its column: without `stage` it pages that column alone
    alone = query_ok(client.get("/pipeline/board", params={"cursor": cursor, "limit": 2}))
    assert alone == more
    made_up = make_key_cursor("board:elsewhere:proposal", [1, "x", "y"])
    assert_error(client.get("/pipeline/board", params={"cursor": made_up}), 404, "not_found")
    assert_error(client.get("/pipeline/board", params={"pipeline": "nope"}), 404, "not_found")


def test_nulls_sort_after_the_values_ascending_and_before_them_descending(
    any_client: TestClient,
) -> None:
    client = any_client  # on SQLite and on PostgreSQL
    # Given contacts with job titles and without, more than a page of each
    for title in ("CTO", None, "Buyer", None, "Analyst"):
        body = {"first_name": "A", "last_name": "B", "title": title}
        command_ok(client.post("/contacts", json={k: v for k, v in body.items() if v}), 201)
    project(client)
    # When listed by title two at a time, each way
    up = [c["title"] for c in every_page(client, "/contacts", sort="title", limit=2)[0]]
    down = [c["title"] for c in every_page(client, "/contacts", sort="-title", limit=2)[0]]
    # Then every contact comes once, the nulls last ascending and first descending
    assert up == ["Analyst", "Buyer", "CTO", None, None]
    assert down == [None, None, "CTO", "Buyer", "Analyst"]
