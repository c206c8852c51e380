"""Accounts over HTTP, as real users with real tokens: create with details (201 with
Location), read (the accounts read model, with ``wait_for`` and ``as_of``, and the counts
of open deals, contracts and contacts), change (the owner or an admin; others 403; 404 for
an account they may not see), merge (links follow the survivor, both histories kept, as
of before the merge both accounts as they were)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from domain.ids import account_id_for
from tests.http.helpers import (
    JSON,
    activate,
    add_item,
    command_ok,
    make_opportunity,
    make_quote,
    project,
    query_ok,
    refused,
    services_of,
)
from tests.http.test_authorization import Team, assert_hidden
from tests.identity import bearer, user_token

DETAILS: JSON = {
    "type": "customer",
    "industry": "Manufacturing",
    "website": "https://acme.example",
    "vat_id": " DE123456789 ",
    "address": {"street": "Hauptstr. 1", "city": "Berlin", "country": "de"},
}
ADDRESS = {
    "street": "Hauptstr. 1",
    "city": "Berlin",
    "postal_code": None,
    "region": None,
    "country": "DE",
}
NO_COUNTS = {"open_deals": 0, "contracts": 0, "contacts": 0}


def _create(client: TestClient, name: str, headers: Any = None, **fields: Any) -> str:
    made = command_ok(client.post("/accounts", json={"name": name, **fields}, headers=headers), 201)
    return str(made["id"])


def _read(client: TestClient, account_id: str, headers: Any = None, **params: Any) -> Any:
    """The account once the read model has processed the log (read your writes)."""
    return client.get(
        f"/accounts/{account_id}", params={"wait_for": project(client), **params}, headers=headers
    )


def _contact(client: TestClient, account_id: str, last_name: str = "Doe") -> str:
    body = {"first_name": "Jo", "last_name": last_name, "account_id": account_id}
    return str(command_ok(client.post("/contacts", json=body), 201)["id"])


def _sold_deal(client: TestClient, account_id: str) -> str:
    """A deal of the account sold, and its contract made by the process manager."""
    deal = make_opportunity(client, account_name=None, account_id=account_id)
    quote = make_quote(client, deal)
    add_item(client, quote)
    activate(client, quote)
    command_ok(client.post(f"/opportunities/{deal}/sell"))
    services_of(client).contracts_process().catch_up()
    return deal


def test_an_account_is_created_with_its_details_and_read_back(client: TestClient) -> None:
    holding = _create(client, "ACME Holding")
    response = client.post("/accounts", json={"name": "ACME", **DETAILS, "parent_id": holding})
    made = command_ok(response, 201)
    assert response.headers["Location"] == f"/accounts/{made['id']}"

    account = query_ok(_read(client, made["id"]))

    assert account == {
        "id": made["id"],
        "version": 1,
        "name": "ACME",
        "partner": False,
        "type": "customer",
        "industry": "Manufacturing",
        "website": "https://acme.example",
        "vat_id": "DE123456789",
        "address": ADDRESS,
        "parent_id": holding,
        "owner": "admin",
        "private": False,
        "shared_with": [],
        "merged_into": None,
        "merged": [],
        "counts": NO_COUNTS,
        "created_at": account["created_at"],
        "updated_at": account["updated_at"],
        "as_of": account["as_of"],
    }


@pytest.mark.parametrize(
    "body",
    [
        {"name": "A", "website": "acme.example"},
        {"name": "A", "website": "ftp://acme.example"},
        {"name": "A", "type": "reseller"},
        {"name": "A", "address": {"country": "Germany"}},
        {"name": "A", "address": {"town": "Berlin"}},
        {"name": "A", "vat_id": "X" * 33},
        {"name": "A", "industry": "x" * 101},
        {"name": "A", "address": {"postal_code": "1" * 21}},
    ],
)
def test_details_out_of_shape_are_refused_and_nothing_is_written(
    client: TestClient, body: JSON
) -> None:
    refused(client, "POST", "/accounts", 422, "invalid_input", json=body)


def test_an_unknown_parent_is_not_found_and_a_cycle_of_parents_is_a_conflict(
    client: TestClient,
) -> None:
    refused(
        client,
        "POST",
        "/accounts",
        404,
        "not_found",
        json={"name": "A", "parent_id": str(account_id_for("Nowhere"))},
    )
    top = _create(client, "Top")
    below = _create(client, "Below", parent_id=top)
    refused(client, "PATCH", f"/accounts/{top}", 409, "rule_violated", json={"parent_id": below})
    refused(client, "PATCH", f"/accounts/{top}", 409, "rule_violated", json={"parent_id": top})


def test_a_change_is_read_now_and_the_account_as_it_was_before_it(client: TestClient) -> None:
    acme = _create(client, "ACME", **DETAILS)
    before = project(client)
    changed = command_ok(
        client.patch(
            f"/accounts/{acme}",
            json={"type": "prospect", "website": None, "address": {"city": "Paris"}},
        )
    )
    assert changed["version"] == 2
    now = query_ok(_read(client, acme))
    assert (now["type"], now["website"], now["industry"]) == ("prospect", None, "Manufacturing")
    assert now["address"] == {**dict.fromkeys(ADDRESS), "city": "Paris"}
    then = query_ok(_read(client, acme, as_of=str(before)))
    assert (then["type"], then["website"], then["address"]) == (
        "customer",
        "https://acme.example",
        ADDRESS,
    )
    assert then["as_of"]["position"] == before
    # the name does not change by PATCH (the id derives from it)
    refused(client, "PATCH", f"/accounts/{acme}", 422, "invalid_input", json={"name": "B"})


def test_the_owner_or_an_admin_changes_an_account_others_are_forbidden(
    client: TestClient,
) -> None:
    team = Team(client)
    alices = _create(client, "Alices", headers=team.alice)
    # bob sees it (it is not private) but may not change or merge it
    assert query_ok(_read(client, alices, headers=team.bob))["owner"] == "alice"
    bobs = _create(client, "Bobs", headers=team.bob)
    for method, url, body in (
        ("PATCH", f"/accounts/{alices}", {"industry": "x"}),
        ("POST", f"/accounts/{alices}/merge", {"into": bobs}),
        ("POST", f"/accounts/{bobs}/merge", {"into": alices}),
    ):
        refused(client, method, url, 403, "forbidden", json=body, headers=team.bob)
    # alice, her manager and an admin may
    for who in (team.alice, team.maria, None):
        command_ok(client.patch(f"/accounts/{alices}", json={"industry": "Retail"}, headers=who))
    analyst = bearer(user_token(services_of(client), "ana", "analyst"))
    answer = client.patch(f"/accounts/{alices}", json={"industry": "x"}, headers=analyst)
    assert (answer.status_code, answer.json()["error"]) == (403, "forbidden")


def test_a_private_account_is_not_there_for_who_may_not_see_it(client: TestClient) -> None:
    team = Team(client)
    hidden = _create(client, "Hidden", headers=team.alice, private=True)
    position = project(client)
    for answer in (
        client.get(f"/accounts/{hidden}", params={"wait_for": position}, headers=team.bob),
        client.patch(f"/accounts/{hidden}", json={"industry": "x"}, headers=team.bob),
        client.post(f"/accounts/{hidden}/merge", json={"into": hidden}, headers=team.bob),
    ):
        assert_hidden(answer, "account", hidden)
    # the reading roles see it; as of before it was made, nobody does
    analyst = bearer(user_token(services_of(client), "ana", "analyst"))
    assert query_ok(_read(client, hidden, headers=analyst))["private"] is True
    assert_hidden(_read(client, hidden, as_of="1"), "account", hidden)


def test_the_counts_are_of_what_the_caller_may_see(client: TestClient) -> None:
    team = Team(client)  # alice's deal and dave's deal are both under ACME
    acme = str(account_id_for("ACME"))
    assert query_ok(_read(client, acme))["counts"]["open_deals"] == 2
    assert query_ok(_read(client, acme, headers=team.alice))["counts"]["open_deals"] == 1
    assert query_ok(_read(client, acme, headers=team.bob))["counts"]["open_deals"] == 0


@pytest.mark.users("alice")
def test_a_merge_sends_the_links_to_the_survivor_and_keeps_both_histories(
    any_client: TestClient,
) -> None:
    client = any_client
    # Given ACME with a contact, a sold deal (its contract) and an open deal; Globex with one
    # contact; and a child account of ACME
    acme, globex = _create(client, "ACME", **DETAILS), _create(client, "Globex")
    _contact(client, acme, "Acme")
    _contact(client, globex, "Globex")
    _sold_deal(client, acme)
    make_opportunity(client, account_name="ACME")
    child = _create(client, "ACME Child", parent_id=acme)
    before = project(client)
    assert query_ok(_read(client, acme))["counts"] == {
        "open_deals": 1,
        "contracts": 1,
        "contacts": 1,
    }

    # When ACME is merged into Globex
    merged = command_ok(client.post(f"/accounts/{acme}/merge", json={"into": globex}))
    assert (merged["id"], merged["version"]) == (acme, 2)

    # Then Globex counts ACME's links with its own, and ACME counts nothing
    survivor = query_ok(_read(client, globex))
    assert survivor["counts"] == {"open_deals": 1, "contracts": 1, "contacts": 2}
    assert survivor["merged"] == [acme]
    gone = query_ok(_read(client, acme))
    assert (gone["merged_into"], gone["counts"]) == (globex, NO_COUNTS)
    # And new records filed under ACME, by id or by name, land under Globex
    _contact(client, acme, "Later")
    make_opportunity(client, account_name="acme")
    assert query_ok(_read(client, globex))["counts"] == {
        "open_deals": 2,
        "contracts": 1,
        "contacts": 3,
    }
    # And ACME changes no more, nor merges again, nor takes a merge
    for method, url, body in (
        ("PATCH", f"/accounts/{acme}", {"industry": "x"}),
        ("POST", f"/accounts/{acme}/merge", {"into": child}),
        ("POST", f"/accounts/{child}/merge", {"into": acme}),
        ("POST", f"/accounts/{globex}/merge", {"into": globex}),
    ):
        refused(client, method, url, 409, "rule_violated", json=body)
    # And each history keeps its side of the merge
    ours = query_ok(client.get(f"/history/{acme}"))
    theirs = query_ok(client.get(f"/history/{globex}"))
    assert [e["type"] for e in ours] == ["AccountCreated", "AccountMerged"]
    assert ours[-1]["data"]["into"] == globex
    assert [e["type"] for e in theirs] == ["AccountCreated", "AccountAbsorbed"]
    assert theirs[-1]["data"]["merged"] == acme
    # And as of before the merge, both accounts are as they were
    then_acme = query_ok(_read(client, acme, as_of=str(before)))
    then_globex = query_ok(_read(client, globex, as_of=str(before)))
    assert (then_acme["merged_into"], then_acme["industry"]) == (None, "Manufacturing")
    assert then_acme["counts"] == {"open_deals": 1, "contracts": 1, "contacts": 1}
    assert (then_globex["merged"], then_globex["counts"]) == (
        [],
        {"open_deals": 0, "contracts": 0, "contacts": 1},
    )


def test_a_chain_of_merges_counts_under_the_last_survivor_as_it_stood(
    client: TestClient,
) -> None:
    # Given three accounts with a contact each
    first, second, third = (_create(client, name) for name in ("First", "Second", "Third"))
    for account_id in (first, second, third):
        _contact(client, account_id)
    # When First goes into Second, then Second into Third
    command_ok(client.post(f"/accounts/{first}/merge", json={"into": second}))
    between = project(client)
    command_ok(client.post(f"/accounts/{second}/merge", json={"into": third}))
    # Then Third counts all three contacts, and lists Second as merged into it
    last = query_ok(_read(client, third))
    assert (last["counts"]["contacts"], last["merged"]) == (3, [second])
    # And between the merges, Second counted First's with its own, and Third only its own
    assert query_ok(_read(client, second, as_of=str(between)))["counts"]["contacts"] == 2
    assert query_ok(_read(client, third, as_of=str(between)))["counts"]["contacts"] == 1
    # And a contact filed under First now lands under Third
    _contact(client, first, "Late")
    assert query_ok(_read(client, third))["counts"]["contacts"] == 4
