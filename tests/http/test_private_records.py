"""Private records and sharing, as real users with real tokens: a private record is seen
only by its owner, those it is shared with, admins, analysts and auditors — not by the
owner's manager; sharing lets a user see and work a record as their own."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from domain.ids import account_id_for
from tests.http.helpers import project, services_of
from tests.http.test_authorization import Team, assert_hidden
from tests.identity import bearer, user_token


def _history_types(client: TestClient, record_id: str) -> list[str]:
    return [entry["type"] for entry in client.get(f"/history/{record_id}").json()]


def _reader(client: TestClient, login: str, role: str) -> dict[str, str]:
    return bearer(user_token(services_of(client), login, role))


def test_a_private_deal_is_hidden_from_the_owners_manager_but_not_from_those_it_is_shared_with(
    client: TestClient,
) -> None:
    team = Team(client)
    # Given alice makes her deal private and shares it with bob (of no team of hers)
    made = client.patch(
        f"/opportunities/{team.alices}",
        json={"private": True, "shared_with": ["bob"]},
        headers=team.alice,
    )
    assert made.status_code == 200, made.text
    # When her manager, bob, an analyst and an auditor read it
    path = f"/opportunities/{team.alices}"
    # Then her manager is told it is not there; bob, the analyst and the auditor see it
    assert_hidden(client.get(path, headers=team.maria), "opportunity", team.alices)
    for who in (
        team.bob,
        _reader(client, "ana", "analyst"),
        _reader(client, "audrey", "auditor"),
        team.alice,
    ):
        answer = client.get(path, headers=who)
        assert answer.status_code == 200, answer.text
        assert (answer.json()["private"], answer.json()["shared_with"]) == (True, ["bob"])
    # and bob works it as his own, while the manager may not change it either
    assert team.move(team.bob, team.alices).status_code == 200
    assert_hidden(team.move(team.maria, team.alices, "negotiation"), "opportunity", team.alices)
    # The change is an event of the deal's history
    assert "OpportunitySharingChanged" in _history_types(client, team.alices)


def test_made_public_again_the_manager_sees_it_again(client: TestClient) -> None:
    team = Team(client)
    private = {"private": True}
    assert client.patch(
        f"/opportunities/{team.alices}", json=private, headers=team.alice
    ).is_success
    assert client.get(f"/opportunities/{team.alices}", headers=team.maria).status_code == 404
    # When alice makes it public again
    public = client.patch(
        f"/opportunities/{team.alices}", json={"private": False}, headers=team.alice
    )
    # Then her manager sees it again
    assert public.status_code == 200, public.text
    assert client.get(f"/opportunities/{team.alices}", headers=team.maria).status_code == 200


def test_a_deal_made_private_at_creation_writes_its_sharing_in_the_same_command(
    client: TestClient,
) -> None:
    team = Team(client)
    body = {
        "title": "Secret",
        "owner": "alice",
        "expected_close": "2027-06-30",
        "account_name": "ACME",
        "private": True,
        "shared_with": ["dave", "bob", "dave"],
    }
    made = client.post("/opportunities", json=body, headers=team.alice)
    assert made.status_code == 201, made.text
    deal = str(made.json()["id"])
    seen = client.get(f"/opportunities/{deal}", headers=team.dave).json()
    # Each login once, sorted
    assert (seen["private"], seen["shared_with"]) == (True, ["bob", "dave"])
    assert _history_types(client, deal) == ["OpportunityCreated", "OpportunitySharingChanged"]
    assert_hidden(client.get(f"/opportunities/{deal}", headers=team.maria), "opportunity", deal)


def test_a_private_lead_is_seen_by_its_owner_and_those_it_is_shared_with(
    client: TestClient,
) -> None:
    team = Team(client)
    changed = client.patch(
        f"/leads/{team.daves_lead}", json={"private": True, "shared_with": ["bob"]}
    )
    assert changed.status_code == 200, changed.text
    assert_hidden(
        client.get(f"/leads/{team.daves_lead}", headers=team.tom), "lead", team.daves_lead
    )
    for who in (team.dave, team.bob):
        lead = client.get(f"/leads/{team.daves_lead}", headers=who)
        assert lead.status_code == 200, lead.text
        assert lead.json()["private"] is True


def test_a_private_account_is_hidden_and_no_deal_may_be_filed_under_it_by_others(
    client: TestClient,
) -> None:
    team = Team(client)
    # Given alice makes a private account (she is its owner: she made it)
    made = client.post(
        "/accounts", json={"name": "Stealth GmbH", "private": True}, headers=team.alice
    )
    assert made.status_code == 201, made.text
    account = str(account_id_for("Stealth GmbH"))
    project(client)
    assert client.get(f"/accounts/{account}", headers=team.alice).json()["owner"] == "alice"
    # Then bob is told it is not there, and cannot file a deal under it (nothing written)
    assert_hidden(client.get(f"/accounts/{account}", headers=team.bob), "account", account)
    before = services_of(client).store.max_position()
    deal = {"title": "Sneaky", "owner": "bob", "expected_close": "2027-06-30"}
    refused = client.post("/opportunities", json={**deal, "account_id": account}, headers=team.bob)
    assert_hidden(refused, "account", account)
    assert services_of(client).store.max_position() == before
    # When alice shares it with bob, he sees it and files his deal
    shared = client.patch(f"/accounts/{account}", json={"shared_with": ["bob"]}, headers=team.alice)
    assert shared.status_code == 200, shared.text
    project(client)
    assert client.get(f"/accounts/{account}", headers=team.bob).status_code == 200
    filed = client.post("/opportunities", json={**deal, "account_id": account}, headers=team.bob)
    assert filed.status_code == 201, filed.text


@pytest.mark.users("alice")
def test_a_partner_may_not_change_who_sees_a_record(client: TestClient) -> None:
    assert client.post("/accounts", json={"name": "Partner Co", "partner": True}).is_success
    partner_id = str(account_id_for("Partner Co"))
    body = {"title": "Ours", "owner": "alice", "expected_close": "2027-06-30"}
    deal = str(client.post("/opportunities", json={**body, "account_name": "ACME"}).json()["id"])
    assert client.post(f"/opportunities/{deal}/partner", json={"partner_id": partner_id}).is_success
    partner = bearer(user_token(services_of(client), "pat", "partner", partner_id=UUID(partner_id)))
    before = services_of(client).store.max_position()
    refused: Any = client.patch(f"/opportunities/{deal}", json={"private": True}, headers=partner)
    assert (refused.status_code, refused.json()["error"]) == (403, "forbidden")
    assert services_of(client).store.max_position() == before
    # while editing the deal itself stays theirs to do
    renamed = client.patch(f"/opportunities/{deal}", json={"title": "Ours!"}, headers=partner)
    assert renamed.status_code == 200, renamed.text


def test_shared_with_names_logins(client: TestClient) -> None:
    team = Team(client)
    refused = client.patch(
        f"/opportunities/{team.alices}", json={"shared_with": ["Not A Login"]}, headers=team.alice
    )
    assert (refused.status_code, refused.json()["error"]) == (422, "invalid_input")
    assert "shared_with.0 must be a login" in refused.json()["detail"]
