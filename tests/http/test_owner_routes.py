"""Over HTTP, ``owner`` (and every login where records go: a split's users, a rule's user,
a target's owner, an account's owner) must name an active user: otherwise ``422
invalid_user``, a sentence naming the login, and nothing written."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.http.helpers import (
    CLOSE,
    command_ok,
    get_opportunity,
    make_opportunity,
    opportunity_body,
    query_ok,
    refused,
)
from tests.identity import TEAM

pytestmark = pytest.mark.users(*TEAM, "lena")

JSON = dict[str, Any]
LEAD = {"first_name": "Ada", "last_name": "Lovelace", "company": "ACME"}


def _made(client: TestClient, url: str, body: JSON) -> str:
    return str(command_ok(client.post(url, json=body), 201)["id"])


def _routes(client: TestClient, login: str) -> list[tuple[str, str, JSON]]:
    """Every route that gives ``login`` something, on records alice made for the purpose."""
    deal = make_opportunity(client)
    lead = _made(client, "/leads", {**LEAD, "owner": "alice"})
    pooled = _made(client, "/leads", LEAD)
    return [
        ("POST", "/opportunities", opportunity_body(owner=login)),
        ("PATCH", f"/opportunities/{deal}", {"owner": login}),
        ("POST", f"/opportunities/{deal}/copy", {"owner": login}),
        ("POST", "/leads", {**LEAD, "owner": login}),
        ("POST", "/lead-intake", {**LEAD, "owner": login}),
        ("POST", f"/leads/{lead}/assign", {"owner": login}),
        ("POST", f"/leads/{lead}/split", {"shares": {"alice": 50, login: 50}}),
        (
            "POST",
            f"/leads/{pooled}/qualify",
            {"opportunity": {"title": "From the lead", "expected_close": CLOSE, "owner": login}},
        ),
        ("POST", "/lead-rules", {"priority": 1, "conditions": [], "action": {"assign": login}}),
        (
            "POST",
            "/lead-rules",
            {"priority": 1, "conditions": [], "action": {"split": {login: 50, "bob": 50}}},
        ),
        ("POST", "/targets", {"owner": login, "period": "2027-Q1", "amount": "1000"}),
        ("POST", "/accounts", {"name": "Globex", "owner": login}),
    ]


@pytest.mark.parametrize("login", ["lena", "zoe"], ids=["deactivated", "no user"])
def test_every_route_naming_no_active_user_is_refused_and_writes_nothing(
    client: TestClient, login: str
) -> None:
    # Given lena, who has left, and zoe, who was never a user
    command_ok(client.post("/users/lena/deactivate"))
    for method, url, body in _routes(client, login):
        # When a route names them: then 409 invalid_user, naming the login, nothing written
        answer = refused(client, method, url, 409, "invalid_user", json=body)
        assert repr(login) in answer["detail"], (method, url, answer)


def test_every_route_naming_an_active_user_is_taken(client: TestClient) -> None:
    for method, url, body in _routes(client, "carol"):
        answer = client.request(method, url, json=body)
        assert answer.status_code in (200, 201), (method, url, answer.text)


def test_an_opportunity_for_someone_who_is_no_user_is_refused_in_one_sentence(
    client: TestClient,
) -> None:
    answer = refused(client, "POST", "/opportunities", 409, json=opportunity_body(owner="zoe"))
    assert answer == {
        "error": "invalid_user",
        "detail": "'zoe' (the owner) is not a user; name an active user.",
    }


def test_a_deal_keeps_an_owner_who_left_and_is_given_to_another(client: TestClient) -> None:
    # Given bob's deal, and bob leaving
    deal = make_opportunity(client, owner="bob")
    command_ok(client.post("/users/bob/deactivate"))
    # Then the deal is still his, and a PATCH naming him again changes the title only
    command_ok(client.patch(f"/opportunities/{deal}", json={"owner": "bob", "title": "Kept"}))
    assert (get_opportunity(client, deal)["owner"], get_opportunity(client, deal)["title"]) == (
        "bob",
        "Kept",
    )
    # When it is given to carol, it is hers
    command_ok(client.patch(f"/opportunities/{deal}", json={"owner": "carol"}))
    assert get_opportunity(client, deal)["owner"] == "carol"


def test_intake_routed_by_a_rule_whose_user_left_goes_to_the_free_pool(
    client: TestClient,
) -> None:
    # Given a rule for bob, and bob leaving
    rule = {"priority": 1, "conditions": [], "action": {"assign": "bob"}}
    assert client.post("/lead-rules", json=rule).status_code == 201
    command_ok(client.post("/users/bob/deactivate"))
    # When a lead comes in: it is taken, into the free pool
    answer = command_ok(client.post("/lead-intake", json=LEAD), 201)
    assert (answer["owner"], answer["pool"]) == (None, True)
    lead = query_ok(client.get(f"/leads/{answer['id']}"))
    assert (lead["owner"], lead["pool"]) == (None, True)
