"""``GET /accounts`` and the ``cf.<key>=<value>`` filters of the lists, over HTTP as real
users with real tokens: every account not private and the private ones the caller may see;
a merged account listed no more, but as of before its merge as it stood; filters, ``q``,
sorts and cursors; custom-field filters with the definitions of the position listed."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.http.helpers import (
    JSON,
    assert_error,
    command_ok,
    make_opportunity,
    project,
    query_ok,
    services_of,
)
from tests.http.test_list_routes import every_page
from tests.identity import bearer, user_token

pytestmark = pytest.mark.users("alice", "bob")


def _account(client: TestClient, name: str, headers: Any = None, **fields: Any) -> str:
    made = command_ok(client.post("/accounts", json={"name": name, **fields}, headers=headers), 201)
    return str(made["id"])


def _rep(client: TestClient, login: str) -> dict[str, str]:
    return bearer(user_token(services_of(client), login, "rep"))


def _names(items: list[JSON]) -> list[str]:
    return [item["name"] for item in items]


def test_accounts_are_listed_filtered_searched_and_paged(any_client: TestClient) -> None:
    client = any_client  # on SQLite and on PostgreSQL
    # Given accounts of several kinds, one private to bob
    alice, bob = _rep(client, "alice"), _rep(client, "bob")
    _account(client, "Globex", type="customer", industry="Energy", headers=alice)
    _account(client, "ACME Logistics", type="prospect", industry="Logistics", headers=alice)
    _account(client, "Initech", type="customer", industry="Logistics",
             address={"city": "Austin", "country": "US"}, headers=bob)  # fmt: skip
    _account(client, "Umbrella", private=True, headers=bob)
    project(client)
    # When alice lists them two at a time (by name, the default)
    items, pages = every_page(client, "/accounts", headers=alice, limit=2)
    # Then she sees every account but bob's private one, in order, in one snapshot
    assert _names(items) == ["ACME Logistics", "Globex", "Initech"]
    assert len({p["as_of"]["position"] for p in pages}) == 1
    # and bob sees his private one too, with its sharing said
    mine = query_ok(client.get("/accounts", params={"owner": "me"}, headers=bob))["items"]
    assert [(a["name"], a["private"]) for a in mine] == [("Initech", False), ("Umbrella", True)]
    # Filters, search by a word of the name (its beginning too), sorts
    logistics = {"industry": "Logistics", "type": "customer"}
    found = query_ok(client.get("/accounts", params=logistics, headers=alice))["items"]
    assert _names(found) == ["Initech"]
    assert found[0]["address"]["city"] == "Austin"
    found = query_ok(client.get("/accounts", params={"q": "logis"}, headers=alice))["items"]
    assert _names(found) == ["ACME Logistics"]
    # a search with no word in it (punctuation only) finds nothing, rather than failing
    found = query_ok(client.get("/accounts", params={"q": "-- !"}, headers=alice))["items"]
    assert found == []
    found = query_ok(client.get("/accounts", params={"sort": "-name"}, headers=alice))["items"]
    assert _names(found) == ["Initech", "Globex", "ACME Logistics"]
    found = query_ok(client.get("/accounts", params={"country": "US"}, headers=alice))["items"]
    assert _names(found) == ["Initech"]
    # And a sort it does not take, or a misspelt filter, is refused with a sentence
    assert_error(client.get("/accounts", params={"sort": "vat_id"}, headers=alice), 422)
    assert_error(client.get("/accounts", params={"industri": "x"}, headers=alice), 422)


def test_a_merged_account_is_listed_no_more_but_as_of_before_its_merge(
    client: TestClient,
) -> None:
    # Given ACME and Globex, listed
    acme, globex = _account(client, "ACME"), _account(client, "Globex")
    before = project(client)
    # When ACME is merged into Globex
    command_ok(client.post(f"/accounts/{acme}/merge", json={"into": globex}))
    project(client)
    # Then only Globex is listed now, and both as of before the merge
    assert _names(query_ok(client.get("/accounts"))["items"]) == ["Globex"]
    then = query_ok(client.get("/accounts", params={"as_of": before}))
    assert _names(then["items"]) == ["ACME", "Globex"]
    assert then["as_of"]["position"] == before


def test_an_accounts_records_are_listed_under_the_account_it_was_merged_into(
    client: TestClient,
) -> None:
    # Given a deal and a contact at ACME, and a deal at Globex
    acme, globex = _account(client, "ACME"), _account(client, "Globex")
    make_opportunity(client, title="ACME deal", account_name=None, account_id=acme)
    make_opportunity(client, title="Globex deal", account_name=None, account_id=globex)
    contact = {"first_name": "Jo", "last_name": "Doe", "account_id": acme}
    command_ok(client.post("/contacts", json=contact), 201)
    before = project(client)
    # When ACME is merged into Globex
    command_ok(client.post(f"/accounts/{acme}/merge", json={"into": globex}))
    project(client)
    # Then Globex's lists hold ACME's records too; as of before the merge, they did not
    deals = query_ok(client.get("/opportunities", params={"account_id": globex, "sort": "title"}))
    assert [d["title"] for d in deals["items"]] == ["ACME deal", "Globex deal"]
    contacts = query_ok(client.get("/contacts", params={"account_id": globex}))["items"]
    assert [c["last_name"] for c in contacts] == ["Doe"]
    then = {"account_id": globex, "as_of": before}
    assert [d["title"] for d in query_ok(client.get("/opportunities", params=then))["items"]] == [
        "Globex deal"
    ]
    assert query_ok(client.get("/contacts", params=then))["items"] == []


def test_lists_filter_on_custom_values_with_the_fields_of_their_position(
    client: TestClient,
) -> None:
    # Given a select of accounts, a number and a multiselect of opportunities
    tier = {"entity": "account", "key": "tier", "label": "Tier", "type": "select",
            "options": ["gold", "silver"]}  # fmt: skip
    command_ok(client.post("/custom-fields", json=tier), 201)
    seats = {"entity": "opportunity", "key": "seats", "label": "Seats", "type": "number"}
    command_ok(client.post("/custom-fields", json=seats), 201)
    tags = {"entity": "opportunity", "key": "tags", "label": "Tags", "type": "multiselect",
            "options": ["new", "upsell"]}  # fmt: skip
    command_ok(client.post("/custom-fields", json=tags), 201)
    _account(client, "Gold Co", custom={"tier": "gold"})
    _account(client, "Silver Co", custom={"tier": "silver"})
    _account(client, "Plain Co")
    make_opportunity(client, title="Fifty seats", custom={"seats": "50.0", "tags": ["new"]})
    make_opportunity(client, title="Upsell", custom={"seats": 5, "tags": ["new", "upsell"]})
    make_opportunity(client, title="No values")
    position = project(client)
    # When lists are filtered on custom values
    gold = query_ok(client.get("/accounts", params={"cf.tier": "gold"}))["items"]
    fifty = query_ok(client.get("/opportunities", params={"cf.seats": "50"}))["items"]
    upsell = query_ok(client.get("/opportunities", params={"cf.tags": "upsell"}))["items"]
    both = query_ok(
        client.get("/opportunities", params={"cf.tags": "new", "cf.seats": "5", "sort": "title"})
    )["items"]
    # Then each holds the records with that value (a number by its value; a multiselect
    # holding the option), together with the other filters
    assert _names(gold) == ["Gold Co"]
    assert [d["title"] for d in fifty] == ["Fifty seats"]
    assert [d["title"] for d in upsell] == ["Upsell"]
    assert [d["title"] for d in both] == ["Upsell"]
    # And a key no field has (404), or a value its field could not hold (422), is refused
    # naming it
    unknown = assert_error(client.get("/accounts", params={"cf.size": "1"}), 404)
    assert "size" in unknown["detail"]
    bad = assert_error(client.get("/accounts", params={"cf.tier": "bronze"}), 422)
    assert "tier" in bad["detail"]
    # When the field is deleted, it filters no more; as of before, it still does
    command_ok(client.delete("/custom-fields/account/tier"))
    project(client)
    assert_error(client.get("/accounts", params={"cf.tier": "gold"}), 404)
    then = query_ok(client.get("/accounts", params={"cf.tier": "gold", "as_of": position}))
    assert _names(then["items"]) == ["Gold Co"]


def test_contacts_are_filtered_on_their_custom_values(client: TestClient) -> None:
    field = {"entity": "contact", "key": "vip", "label": "VIP", "type": "bool"}
    command_ok(client.post("/custom-fields", json=field), 201)
    for last, vip in (("Doe", True), ("Roe", False)):
        body = {"first_name": "Jo", "last_name": last, "custom": {"vip": vip}}
        command_ok(client.post("/contacts", json=body), 201)
    project(client)
    found = query_ok(client.get("/contacts", params={"cf.vip": "true"}))["items"]
    assert [c["last_name"] for c in found] == ["Doe"]
    assert_error(client.get("/contacts", params={"cf.vip": "yes"}), 422)
