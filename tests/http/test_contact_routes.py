"""Contacts over HTTP, as real users with real tokens: create (201 with Location), read
(the contacts read model, with ``wait_for`` and ``as_of``), change, anonymize; the
person masked for analysts and auditors and logged when shown; visibility as for every
record; a lead's qualification making a contact; business roles naming contacts."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient

from domain.ids import account_id_for
from tests.http.helpers import (
    JSON,
    assert_error,
    changes_nothing,
    command_ok,
    make_opportunity,
    project,
    query_ok,
    refused,
    services_of,
)
from tests.http.test_authorization import Team, assert_hidden
from tests.identity import bearer, user_token

JANE = {
    "first_name": "Jane",
    "last_name": "Doe",
    "email": "jane.doe@example.com",
    "phone": "+49 30 1234567",
    "title": "Head of Purchasing",
}
PERSON = ("first_name", "last_name", "email", "phone")


def _account(client: TestClient, name: str = "ACME") -> str:
    command_ok(client.post("/accounts", json={"name": name}), 201)
    return str(account_id_for(name))


def _create(client: TestClient, headers: dict[str, str] | None = None, **fields: Any) -> JSON:
    return command_ok(client.post("/contacts", json={**JANE, **fields}, headers=headers), 201)


def _read(
    client: TestClient,
    contact_id: str,
    position: int,
    headers: dict[str, str] | None = None,
    **params: Any,
) -> Any:
    """The contact once the read model has processed ``position`` (read your writes)."""
    return client.get(
        f"/contacts/{contact_id}", params={"wait_for": position, **params}, headers=headers
    )


def test_a_created_contact_is_read_back_with_its_person_account_and_owner(
    client: TestClient,
) -> None:
    account = _account(client)
    response = client.post("/contacts", json={**JANE, "account_id": account})
    made = command_ok(response, 201)
    assert response.headers["Location"] == f"/contacts/{made['id']}"
    project(client)

    contact = query_ok(_read(client, made["id"], made["position"]))

    assert {name: contact[name] for name in PERSON} == {name: JANE[name] for name in PERSON}
    assert contact["title"] == "Head of Purchasing"
    assert (contact["account_id"], contact["owner"], contact["lead_id"]) == (account, "admin", None)
    assert (contact["anonymized"], contact["masked"], contact["private"]) == (False, False, False)
    assert (contact["id"], contact["version"]) == (made["id"], made["version"])
    assert contact["as_of"]["position"] >= made["position"]


def test_an_unknown_account_is_refused_as_not_found_and_nothing_is_written(
    client: TestClient,
) -> None:
    missing = str(uuid4())
    body = refused(
        client, "POST", "/contacts", 404, "not_found", json={**JANE, "account_id": missing}
    )
    assert body["detail"] == f"there is no account with id {missing}."


@pytest.mark.parametrize(
    ("body", "names"),
    [
        ({"first_name": "Jane"}, "last_name"),
        ({**JANE, "last_name": "  "}, "last_name"),
        ({**JANE, "email": "jane at example.com"}, "email"),
        ({**JANE, "owner": "Not A Login"}, "owner"),
    ],
)
def test_a_malformed_contact_is_refused_naming_the_field(
    client: TestClient, body: JSON, names: str
) -> None:
    answer = refused(client, "POST", "/contacts", 422, "invalid_input", json=body)
    assert names in answer["detail"]


def test_an_owner_who_is_no_active_user_is_refused(client: TestClient) -> None:
    refused(client, "POST", "/contacts", 409, "invalid_user", json={**JANE, "owner": "nobody"})


def test_a_change_writes_what_differs_and_a_change_of_nothing_writes_nothing(
    client: TestClient,
) -> None:
    made = _create(client)
    account = _account(client, "Globex")
    changed = command_ok(
        client.patch(
            f"/contacts/{made['id']}",
            json={"email": "jane@globex.example", "title": "CPO", "account_id": account},
        )
    )
    assert changed["version"] == made["version"] + 2  # the person, then the details
    changes_nothing(client, lambda: client.patch(f"/contacts/{made['id']}", json={"title": "CPO"}))
    project(client)

    contact = query_ok(_read(client, made["id"], changed["position"]))
    assert (contact["email"], contact["title"], contact["account_id"]) == (
        "jane@globex.example",
        "CPO",
        account,
    )
    assert contact["first_name"] == "Jane"
    # as of the position it was created at, it read as it was then
    then = query_ok(_read(client, made["id"], changed["position"], as_of=made["position"]))
    assert (then["email"], then["title"], then["account_id"]) == (
        JANE["email"],
        JANE["title"],
        None,
    )
    assert then["as_of"]["position"] == made["position"]
    # and before it was made, there was none
    before = _read(client, made["id"], changed["position"], as_of=made["position"] - 1)
    assert_hidden(before, "contact", made["id"])


def test_a_change_to_an_unknown_account_is_refused_and_writes_nothing(client: TestClient) -> None:
    made = _create(client)
    missing = str(uuid4())
    refused(client, "PATCH", f"/contacts/{made['id']}", 404, json={"account_id": missing})


def test_an_unknown_contact_is_not_found(client: TestClient) -> None:
    unknown = str(uuid4())
    project(client)
    assert_hidden(client.get(f"/contacts/{unknown}"), "contact", unknown)
    refused(client, "PATCH", f"/contacts/{unknown}", 404, json={"title": "x"})
    refused(client, "POST", f"/contacts/{unknown}/anonymize", 404)


def test_anonymize_erases_the_person_for_good(client: TestClient) -> None:
    made = _create(client)
    erased = command_ok(client.post(f"/contacts/{made['id']}/anonymize"))
    project(client)

    contact = query_ok(_read(client, made["id"], erased["position"]))
    assert contact["anonymized"] is True
    assert all(contact[name] is None for name in PERSON)
    assert contact["title"] == "Head of Purchasing"  # not personal data
    # as of before the erasure too: the key is gone
    then = query_ok(_read(client, made["id"], erased["position"], as_of=made["position"]))
    assert then["anonymized"] is True and then["last_name"] is None
    history = client.get(f"/history/{made['id']}").text
    assert "Doe" not in history and "jane.doe" not in history
    # every later command is refused and writes nothing
    refused(client, "PATCH", f"/contacts/{made['id']}", 409, "rule_violated", json={"title": "x"})
    refused(client, "POST", f"/contacts/{made['id']}/anonymize", 409, "rule_violated")


def test_analysts_and_auditors_read_the_person_masked_and_others_are_logged(
    client: TestClient,
) -> None:
    made = _create(client)
    project(client)
    services = services_of(client)
    for login, role in (("ana", "analyst"), ("audrey", "auditor")):
        reader = bearer(user_token(services, login, role))
        contact = query_ok(_read(client, made["id"], made["position"], reader))
        assert contact["masked"] is True and contact["anonymized"] is False
        assert all(contact[name] is None for name in PERSON)
    # the admin reads it in the clear: one access-log entry, the masked reads none
    query_ok(_read(client, made["id"], made["position"]))
    log = query_ok(client.get("/audit/access", params={"record": made["id"]}))
    assert [(e["by"], e["route"]) for e in log["items"]] == [
        ("admin", "GET /contacts/{contact_id}")
    ]


def test_a_contact_is_seen_and_changed_by_its_owner_their_managers_and_those_it_is_shared_with(
    client: TestClient,
) -> None:
    team = Team(client)
    made = _create(client, team.alice)
    project(client)
    path = f"/contacts/{made['id']}"
    # alice owns it, maria manages her; bob and dave are of no team of hers
    assert _read(client, made["id"], made["position"], team.alice).status_code == 200
    assert _read(client, made["id"], made["position"], team.maria).status_code == 200
    assert_hidden(_read(client, made["id"], made["position"], team.bob), "contact", made["id"])
    before = services_of(client).store.max_position()
    assert_hidden(client.patch(path, json={"title": "x"}, headers=team.dave), "contact", made["id"])
    assert_hidden(client.post(f"{path}/anonymize", headers=team.bob), "contact", made["id"])
    assert services_of(client).store.max_position() == before
    # made private and shared with bob: bob sees and changes it, her manager no longer sees it
    shared = command_ok(
        client.patch(path, json={"private": True, "shared_with": ["bob"]}, headers=team.alice)
    )
    project(client)
    seen = query_ok(_read(client, made["id"], shared["position"], team.bob))
    assert (seen["private"], seen["shared_with"]) == (True, ["bob"])
    assert client.patch(path, json={"title": "Buyer"}, headers=team.bob).status_code == 200
    assert_hidden(_read(client, made["id"], shared["position"], team.maria), "contact", made["id"])
    # as of before it was private, her manager saw it (today's rights, the record then)
    then = _read(client, made["id"], shared["position"], team.maria, as_of=made["position"])
    assert then.status_code == 200


def test_a_rep_makes_contacts_for_themselves_not_for_others(client: TestClient) -> None:
    team = Team(client)
    mine = _create(client, team.bob)
    project(client)
    assert query_ok(_read(client, mine["id"], mine["position"], team.bob))["owner"] == "bob"
    answer = refused(
        client,
        "POST",
        "/contacts",
        403,
        "forbidden",
        json={**JANE, "owner": "alice"},
        headers=team.bob,
    )
    assert answer["detail"] == "a rep may not make a record for 'alice'."


def test_a_contact_under_an_account_the_caller_may_not_see_is_refused_as_unknown(
    client: TestClient,
) -> None:
    team = Team(client)
    account = _account(client, "Hidden Co")
    command_ok(client.patch(f"/accounts/{account}", json={"private": True}))
    body = {**JANE, "account_id": account}
    assert_hidden(client.post("/contacts", json=body, headers=team.bob), "account", account)
    mine = _create(client, team.bob)
    moved = client.patch(f"/contacts/{mine['id']}", json={"account_id": account}, headers=team.bob)
    assert_hidden(moved, "account", account)


# --- a lead's qualification -----------------------------------------------------------


@pytest.mark.users("alice")
def test_qualifying_a_lead_makes_a_contact_of_its_person_at_the_deals_account(
    client: TestClient,
) -> None:
    lead = command_ok(
        client.post(
            "/leads",
            json={
                "first_name": "Ada",
                "last_name": "Lovelace",
                "email": "ada@example.org",
                "company": "Analytical Engines",
                "owner": "alice",
            },
        ),
        201,
    )
    body = {"opportunity": {"title": "Engines", "expected_close": "2027-06-30"}}
    qualified = command_ok(client.post(f"/leads/{lead['id']}/qualify", json=body))
    project(client)

    contact = query_ok(_read(client, qualified["contact_id"], qualified["position"]))

    assert (contact["first_name"], contact["last_name"], contact["email"]) == (
        "Ada",
        "Lovelace",
        "ada@example.org",
    )
    assert (contact["account_id"], contact["owner"], contact["lead_id"]) == (
        str(account_id_for("Analytical Engines")),
        "alice",
        lead["id"],
    )
    deal = query_ok(client.get(f"/opportunities/{qualified['opportunity_id']}"))
    assert deal["account_id"] == contact["account_id"]


# --- business roles --------------------------------------------------------------------


@pytest.mark.users("alice")
def test_a_business_role_names_a_contact_record_or_a_name(client: TestClient) -> None:
    deal = make_opportunity(client)
    contact = _create(client)
    path = f"/opportunities/{deal}/roles"
    by_record = client.post(path, json={"contact_id": contact["id"], "role": "signer"})
    command_ok(by_record, 201)
    assert by_record.headers["Location"] == f"/opportunities/{deal}"
    command_ok(client.post(path, json={"contact": "John Roe", "role": "champion"}), 201)

    roles = query_ok(client.get(f"/opportunities/{deal}"))["business_roles"]

    assert [(r["contact_id"], r["contact"], r["role"]) for r in roles] == [
        (contact["id"], None, "signer"),
        (None, "John Roe", "champion"),
    ]
    # the same contact may not take the same role twice
    refused(
        client,
        "POST",
        path,
        409,
        "rule_violated",
        json={"contact_id": contact["id"], "role": "signer"},
    )


@pytest.mark.users("alice")
def test_a_business_role_is_refused_for_an_unknown_or_anonymized_contact_or_both_forms(
    client: TestClient,
) -> None:
    deal = make_opportunity(client)
    path = f"/opportunities/{deal}/roles"
    unknown = str(uuid4())
    answer = refused(client, "POST", path, 404, json={"contact_id": unknown, "role": "signer"})
    assert answer["detail"] == f"there is no contact with id {unknown}."
    erased = _create(client)
    command_ok(client.post(f"/contacts/{erased['id']}/anonymize"))
    refused(
        client,
        "POST",
        path,
        409,
        "rule_violated",
        json={"contact_id": erased["id"], "role": "signer"},
    )
    both = {"contact_id": erased["id"], "contact": "Jane", "role": "signer"}
    refused(client, "POST", path, 422, "invalid_input", json=both)
    refused(client, "POST", path, 422, "invalid_input", json={"role": "signer"})


def test_a_business_role_may_not_name_a_contact_the_caller_may_not_see(
    client: TestClient,
) -> None:
    team = Team(client)
    hidden = _create(client, team.dave)
    answer = client.post(
        f"/opportunities/{team.alices}/roles",
        json={"contact_id": hidden["id"], "role": "signer"},
        headers=team.alice,
    )
    assert_hidden(answer, "contact", hidden["id"])
    assert_error(answer, 404, "not_found")
