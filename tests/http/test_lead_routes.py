"""HTTP: leads, the lead processor (POST /lead-intake), lead rules and campaigns.

Every route of ``adapters/http/routes_leads.py``, through HTTP only: the happy paths in
the shapes of docs/api.md, and the refusals (404 unknown id, 422 bad input,
409 a rule of the domain or a conflict), each of which writes nothing.

Most tests run on the embedded store (``client``); the key ones also on PostgreSQL
(``any_client``).

Lead bodies send ``"address": null`` explicitly: docs/api.md makes ``address`` optional, but
the request bodies currently require it. The tests that send no address at all
(``test_a_lead_needs_no_address``, ``test_a_patch_needs_no_address``) pin that down, so
the other tests check the rest of the behaviour whether or not it is fixed.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response

from tests.http.helpers import (
    BAD_ACTIVITIES,
    CLOSE,
    JSON,
    assert_error,
    changes_nothing,
    command_ok,
    edit_then_delete_activity,
    get_opportunity,
    is_uuid,
    key_reused,
    log_position,
    make_account,
    money,
    project,
    query_ok,
    refused,
    refuses_bad_partners,
)
from tests.identity import TEAM

pytestmark = pytest.mark.users(*TEAM, "ann", "cy", "zoe")

# The state fields docs/api.md promises for GET /leads/{id}.
LEAD_FIELDS = {
    "id",
    "version",
    "first_name",
    "last_name",
    "email",
    "phone",
    "address",
    "notes",
    "extra",
    "anonymized",
    "masked",
    "company",
    "source",
    "campaign_id",
    "owner",
    "shares",
    "pool",
    "partner_id",
    "account_id",
    "priority",
    "status",
    "disqualified_as",
    "disqualify_reason",
    "opportunity_id",
    "duplicate_of",
    "routed_by_rule",
    "archived",
    "private",
    "shared_with",
    "activities",
}
PERSONAL_FIELDS = ("first_name", "last_name", "email", "phone", "address", "notes")
# What docs/api.md promises in the answer of POST /lead-intake (beside id, version, position).
INTAKE_FIELDS = {"id", "version", "position", "owner", "duplicate_of", "pool"}
JSON_HEADER = {"content-type": "application/json"}

# A fixed id nothing has: parametrised cases must be the same in every xdist worker.
UNKNOWN = UUID("00000000-0000-4000-8000-00000000dead")


# --- helpers ------------------------------------------------------------------------------


def lead_body(**fields: Any) -> JSON:
    """Jane Roe, no owner, no contact; ``address`` sent as null (see the module docstring)."""
    body: JSON = {"first_name": "Jane", "last_name": "Roe", "address": None}
    body.update(fields)
    return body


def make_lead(client: TestClient, **fields: Any) -> str:
    answer = command_ok(client.post("/leads", json=lead_body(**fields)), 201)
    return str(answer["id"])


def refused_on_a_new_lead(client: TestClient, path: str, body: JSON, method: str = "POST") -> JSON:
    """A new lead's route ``/leads/{id}<path>`` refuses ``body`` as bad input (422) and
    writes nothing."""
    lead_id = make_lead(client)
    return refused(client, method, f"/leads/{lead_id}{path}", 422, "invalid_input", json=body)


def intake(client: TestClient, headers: dict[str, str] | None = None, **fields: Any) -> JSON:
    """An intake through the lead processor; its answer, checked for the shape of docs/api.md."""
    response = client.post("/lead-intake", json=lead_body(**fields), headers=headers)
    answer = command_ok(response, 201)
    assert set(answer) >= INTAKE_FIELDS, answer
    assert isinstance(answer["pool"], bool)
    return answer


def get_lead(client: TestClient, lead_id: str) -> JSON:
    body: JSON = query_ok(client.get(f"/leads/{lead_id}"))
    return body


def patch_lead(
    client: TestClient, lead_id: str, headers: dict[str, str] | None = None, **changes: Any
) -> Response:
    """PATCH /leads/{id}; ``address`` sent as null unless changed (the leads here have none)."""
    body: JSON = {"address": None, **changes}
    return client.patch(f"/leads/{lead_id}", json=body, headers=headers)


def rule_ok(response: Response) -> str:
    """POST /lead-rules answers 201 with the rule's id and the log position."""
    assert response.status_code == 201, response.text
    body = response.json()
    assert is_uuid(body["id"])
    assert isinstance(body["version"], int)
    assert isinstance(body["position"], int) and body["position"] >= 1
    return str(body["id"])


def add_rule(
    client: TestClient, priority: int, action: JSON, *conditions: tuple[str, str, Any]
) -> str:
    body = {
        "priority": priority,
        "conditions": [{"field": f, "op": op, "value": v} for f, op, v in conditions],
        "action": action,
    }
    return rule_ok(client.post("/lead-rules", json=body))


def list_rules(client: TestClient) -> list[JSON]:
    body = query_ok(client.get("/lead-rules"))
    assert isinstance(body, list)
    return body


def qualify_body(**opportunity: Any) -> JSON:
    body: JSON = {"title": "ACME pilot", "expected_close": CLOSE}
    body.update(opportunity)
    return {"opportunity": {k: v for k, v in body.items() if v is not None}}


def qualify(client: TestClient, lead_id: str, **opportunity: Any) -> JSON:
    url = f"/leads/{lead_id}/qualify"
    return command_ok(client.post(url, json=qualify_body(**opportunity)))


def make_campaign(client: TestClient, name: str = "Spring fair", **fields: Any) -> str:
    body = {"name": name, **fields}
    return str(command_ok(client.post("/campaigns", json=body), 201)["id"])


def keys_anywhere(value: object) -> set[str]:
    """Every key of every object nested in a JSON value."""
    if isinstance(value, dict):
        return set(value).union(*(keys_anywhere(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(keys_anywhere(v) for v in value))
    return set()


# --- create and read ----------------------------------------------------------------------


def test_a_lead_is_created_and_read_back_in_the_shape_of_the_api(any_client: TestClient) -> None:
    client = any_client
    # Given an empty log
    before = log_position(client)
    # When a lead is created with personal data and a company, but no owner
    body = lead_body(
        email="jane.roe@example.com",
        phone="+49 30 1234567",
        notes="met at the fair",
        company="ACME",
        source="fair",
    )
    answer = command_ok(client.post("/leads", json=body), 201)
    # Then the answer is {id, version, position} and no duplicate
    assert answer["version"] == 1
    assert answer["position"] > before
    assert answer["duplicate_of"] is None
    # And the lead reads as docs/api.md describes it: new, in the free pool
    lead = get_lead(client, answer["id"])
    assert set(lead) == LEAD_FIELDS
    assert (lead["id"], lead["version"]) == (answer["id"], 1)
    assert (lead["first_name"], lead["last_name"]) == ("Jane", "Roe")
    assert (lead["email"], lead["phone"]) == ("jane.roe@example.com", "+49 30 1234567")
    assert (lead["address"], lead["notes"], lead["extra"]) == (None, "met at the fair", {})
    assert (lead["company"], lead["source"], lead["campaign_id"]) == ("ACME", "fair", None)
    assert (lead["status"], lead["priority"]) == ("new", "normal")
    assert (lead["owner"], lead["shares"], lead["pool"]) == (None, [], True)
    assert (lead["partner_id"], lead["account_id"], lead["opportunity_id"]) == (None, None, None)
    assert (lead["anonymized"], lead["archived"], lead["activities"]) == (False, False, [])
    assert (lead["duplicate_of"], lead["routed_by_rule"]) == (None, None)


def test_a_lead_with_an_owner_is_not_in_the_pool(client: TestClient) -> None:
    lead = get_lead(client, make_lead(client, owner="alice", priority="high"))
    assert (lead["owner"], lead["pool"], lead["priority"]) == ("alice", False, "high")


@pytest.mark.parametrize("route", ["/leads", "/lead-intake"])
def test_a_lead_needs_no_address(client: TestClient, route: str) -> None:
    # docs/api.md: {first_name, last_name, email?, phone?, company?, …}; address is optional too
    # (docs/api.md: address?). Sending only the two names must create the lead.
    body = {"first_name": "Jane", "last_name": "Roe"}
    answer = command_ok(client.post(route, json=body), 201)
    assert get_lead(client, answer["id"])["address"] is None


def test_a_patch_needs_no_address(client: TestClient) -> None:
    # "Send only what changes": a patch of the source alone must not need the address.
    lead_id = make_lead(client)
    command_ok(client.patch(f"/leads/{lead_id}", json={"source": "web"}))
    assert get_lead(client, lead_id)["source"] == "web"


def test_a_second_lead_with_the_same_email_is_a_duplicate_of_the_first(
    client: TestClient,
) -> None:
    # Given a lead with an e-mail address
    first = make_lead(client, email="jane.roe@example.com")
    # When another lead arrives with that address in other case and spacing
    body = lead_body(first_name="J.", email="  Jane.Roe@Example.COM ")
    answer = command_ok(client.post("/leads", json=body), 201)
    # Then it is created, and points at the first
    assert answer["id"] != first
    assert answer["duplicate_of"] == first
    assert get_lead(client, answer["id"])["duplicate_of"] == first
    # And a lead with another address is no duplicate
    other = command_ok(client.post("/leads", json=lead_body(email="john@example.com")), 201)
    assert other["duplicate_of"] is None


@pytest.mark.parametrize(
    "change",
    [
        {"first_name": None},
        {"last_name": None},
        {"last_name": " "},
        {"first_name": 123},
        {"first_name": "x" * 201},
        {"email": "not-an-e-mail"},
        {"email": ["jane@example.com"]},
        {"priority": "mega"},
        {"campaign_id": "spring"},
        {"owner": {"name": "alice"}},
        {"colour": "blue"},  # POST /leads takes no extra fields (the lead processor does)
    ],
)
def test_a_lead_with_bad_input_is_refused_as_unprocessable(
    client: TestClient, change: JSON
) -> None:
    body = lead_body(**change)
    body = {k: v for k, v in body.items() if v is not None or k == "address"}
    refused(client, "POST", "/leads", 422, "invalid_input", json=body)


def test_reading_an_unknown_lead_is_not_found(client: TestClient) -> None:
    refused(client, "GET", f"/leads/{uuid4()}", 404, "not_found")
    campaign_id = make_campaign(client)
    refused(client, "GET", f"/leads/{campaign_id}", 404, "not_found")
    refused(client, "GET", "/leads/not-a-uuid", 422, "invalid_input")


# --- edit -----------------------------------------------------------------------------------


def test_a_lead_is_patched_with_only_the_fields_sent(any_client: TestClient) -> None:
    client = any_client
    # Given a lead
    lead_id = make_lead(client, email="jane@example.com", company="ACME", source="fair")
    # When some fields are patched
    answer = command_ok(
        patch_lead(
            client,
            lead_id,
            last_name="Roe-Smith",
            email="jane.smith@example.com",
            notes="call back in March",
            company="ACME Corp",
            priority="urgent",
        )
    )
    # Then they read changed at the answered version; the others stay
    lead = get_lead(client, lead_id)
    assert lead["version"] == answer["version"] > 1
    assert (lead["first_name"], lead["last_name"]) == ("Jane", "Roe-Smith")
    assert (lead["email"], lead["notes"]) == ("jane.smith@example.com", "call back in March")
    assert (lead["company"], lead["source"], lead["priority"]) == ("ACME Corp", "fair", "urgent")
    # When an optional field is cleared with null
    command_ok(patch_lead(client, lead_id, source=None))
    assert get_lead(client, lead_id)["source"] is None


def test_a_patch_that_changes_nothing_writes_nothing(client: TestClient) -> None:
    lead_id = make_lead(client, company="ACME")
    answer = changes_nothing(
        client, lambda: patch_lead(client, lead_id, company="ACME", first_name="Jane")
    )
    assert answer["version"] == 1


@pytest.mark.parametrize(
    "change",
    [
        {"first_name": None},
        {"last_name": None},
        {"priority": None},
        {"last_name": " "},
        {"email": "nope"},
        {"priority": "mega"},
        {"owner": "bob"},  # assigning is its own route
        {"status": "working"},
    ],
)
def test_a_bad_patch_is_refused_as_unprocessable(client: TestClient, change: JSON) -> None:
    refused_on_a_new_lead(client, "", {"address": None, **change}, method="PATCH")


def test_a_patch_with_a_stale_if_match_is_a_conflict(client: TestClient) -> None:
    # Given a lead edited once (version 2)
    lead_id = make_lead(client)
    command_ok(patch_lead(client, lead_id, source="fair"))
    # When a patch is sent for version 1
    body = {"address": None, "source": "web"}
    url = f"/leads/{lead_id}"
    refused(client, "PATCH", url, 409, "version_conflict", json=body, headers={"If-Match": "1"})
    # Then nothing changed; with the current version it goes through
    assert get_lead(client, lead_id)["source"] == "fair"
    command_ok(patch_lead(client, lead_id, headers={"If-Match": "2"}, source="web"))
    assert get_lead(client, lead_id)["source"] == "web"


def test_patching_an_unknown_lead_is_not_found(client: TestClient) -> None:
    body = {"address": None, "source": "web"}
    refused(client, "PATCH", f"/leads/{uuid4()}", 404, "not_found", json=body)


# --- assign and split ---------------------------------------------------------------------


def test_a_lead_is_assigned_and_returned_to_the_free_pool(client: TestClient) -> None:
    # Given a lead in the pool
    lead_id = make_lead(client)
    url = f"/leads/{lead_id}/assign"
    # When it is assigned to ann
    command_ok(client.post(url, json={"owner": "ann"}))
    lead = get_lead(client, lead_id)
    assert (lead["owner"], lead["pool"]) == ("ann", False)
    # And assigning it to her again is refused
    refused(client, "POST", url, 409, "rule_violated", json={"owner": "ann"})
    # When its owner is set to null it is back in the pool
    command_ok(client.post(url, json={"owner": None}))
    lead = get_lead(client, lead_id)
    assert (lead["owner"], lead["pool"]) == (None, True)
    refused(client, "POST", url, 409, "rule_violated", json={"owner": None})


@pytest.mark.parametrize("body", [{}, {"owner": 5}, {"owner": ["ann"]}, {"user": "ann"}])
def test_an_assignment_without_an_owner_field_is_refused(client: TestClient, body: JSON) -> None:
    refused_on_a_new_lead(client, "/assign", body)


def test_a_lead_is_split_among_salespeople(client: TestClient) -> None:
    # Given a lead in the pool
    lead_id = make_lead(client)
    # When it is split 60/40
    url = f"/leads/{lead_id}/split"
    command_ok(client.post(url, json={"shares": {"ann": 60, "bob": 40}}))
    # Then the shares read in order, the first share's user owns it
    lead = get_lead(client, lead_id)
    assert lead["shares"] == [{"user": "ann", "percent": 60}, {"user": "bob", "percent": 40}]
    assert (lead["owner"], lead["pool"]) == ("ann", False)
    # And the same split again is refused; an assignment replaces the split
    refused(client, "POST", url, 409, "rule_violated", json={"shares": {"ann": 60, "bob": 40}})
    command_ok(client.post(f"/leads/{lead_id}/assign", json={"owner": "cy"}))
    lead = get_lead(client, lead_id)
    assert (lead["owner"], lead["shares"]) == ("cy", [])


@pytest.mark.parametrize(
    "shares",
    [
        {"ann": 100, "bob": 0},
        {"ann": 150, "bob": -50},
        {},
        {" ": 100},
        {"ann": "fifty", "bob": 50},
        {"ann": 50.5, "bob": 49.5},
        [["ann", 100]],
        "ann",
    ],
)
def test_a_split_that_is_not_whole_percentages_is_refused(
    client: TestClient, shares: object
) -> None:
    refused_on_a_new_lead(client, "/split", {"shares": shares})


@pytest.mark.parametrize("shares", [{"ann": 60, "bob": 30}, {"ann": 60, "bob": 50}])
def test_a_split_whose_shares_do_not_sum_to_100_is_refused(
    client: TestClient, shares: dict[str, int]
) -> None:
    # Each share is well formed: together they break the rule of a split (409)
    lead_id = make_lead(client)
    body = {"shares": shares}
    answer = refused(client, "POST", f"/leads/{lead_id}/split", 409, "rule_violated", json=body)
    assert answer["detail"] == f"the shares sum to {sum(shares.values())}, not 100."
    # and so for a lead rule's split
    rule = {"priority": 1, "conditions": [], "action": {"split": shares}}
    refused(client, "POST", "/lead-rules", 409, "rule_violated", json=rule)


def test_a_split_user_name_holding_a_nul_character_is_refused(client: TestClient) -> None:
    # Text may not hold NUL (adapters/http/bodies.py: PostgreSQL text cannot hold it, and it
    # stops the read-model projector): the user names of a split are text too.
    refused_on_a_new_lead(client, "/split", {"shares": {"a\u0000n": 100}})


# --- sales activities -------------------------------------------------------------------


def test_the_first_activity_moves_a_new_lead_to_working(client: TestClient) -> None:
    # Given a new lead
    lead_id = make_lead(client)
    url = f"/leads/{lead_id}/activities"
    # When a call is logged
    body = {"kind": "call", "subject": "Intro", "occurred_at": "2027-01-03T15:00:00+01:00"}
    answer = command_ok(client.post(url, json=body))
    activity_id = answer["activity_id"]
    assert is_uuid(activity_id)
    # Then the lead is being worked, and the activity is listed
    lead = get_lead(client, lead_id)
    assert lead["status"] == "working"
    [activity] = lead["activities"]
    assert (activity["id"], activity["kind"], activity["subject"]) == (activity_id, "call", "Intro")
    occurred_at = datetime.fromisoformat(activity["occurred_at"])
    assert occurred_at == datetime(2027, 1, 3, 14, 0, tzinfo=UTC)
    # When it is edited, then deleted, it reads back so
    edit_then_delete_activity(
        client, url, activity_id, lambda: get_lead(client, lead_id)["activities"]
    )
    # and the lead stays working
    assert get_lead(client, lead_id)["status"] == "working"


@pytest.mark.parametrize("body", BAD_ACTIVITIES)
def test_a_bad_activity_is_refused(client: TestClient, body: JSON) -> None:
    refused_on_a_new_lead(client, "/activities", body)


def test_a_bad_activity_edit_is_refused(client: TestClient) -> None:
    lead_id = make_lead(client)
    url = f"/leads/{lead_id}/activities"
    activity_id = command_ok(client.post(url, json={"kind": "call", "subject": "x"}))["activity_id"]
    for body in ({"kind": "lunch"}, {"subject": " "}, {"occurred_at": "yesterday"}):
        refused(client, "PATCH", f"{url}/{activity_id}", 422, "invalid_input", json=body)


# --- account and partner --------------------------------------------------------------------


def test_a_lead_is_added_to_an_account_by_name_which_creates_the_account(
    client: TestClient,
) -> None:
    # Given a lead, and no account named Initech
    lead_id = make_lead(client)
    # When it is added to the account "Initech"
    command_ok(client.post(f"/leads/{lead_id}/account", json={"account_name": "Initech"}))
    # Then the account exists, and the lead belongs to it
    account_id = get_lead(client, lead_id)["account_id"]
    assert is_uuid(account_id)
    assert (
        query_ok(client.get(f"/accounts/{account_id}", params={"wait_for": project(client)}))[
            "name"
        ]
        == "Initech"
    )
    # When it is moved to an existing account by id
    other = make_account(client, "Globex")
    command_ok(client.post(f"/leads/{lead_id}/account", json={"account_id": other}))
    assert get_lead(client, lead_id)["account_id"] == other
    # And adding it to that account again is refused
    url = f"/leads/{lead_id}/account"
    refused(client, "POST", url, 409, "rule_violated", json={"account_id": other})


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"account_id": None, "account_name": None},
        {"account_name": "Initech", "account_id": "00000000-0000-0000-0000-000000000001"},
        {"account_name": " "},
        {"account_id": "Initech"},
        {"account_name": 5},
    ],
)
def test_a_lead_account_needs_either_an_id_or_a_name(client: TestClient, body: JSON) -> None:
    refused_on_a_new_lead(client, "/account", body)


def test_a_lead_added_to_an_unknown_account_is_not_found(client: TestClient) -> None:
    lead_id = make_lead(client)
    body = {"account_id": str(uuid4())}
    refused(client, "POST", f"/leads/{lead_id}/account", 404, "not_found", json=body)


def test_a_lead_is_added_to_a_partner(client: TestClient) -> None:
    # Given a lead in the pool and a partner account
    lead_id = make_lead(client)
    partner_id = make_account(client, "Resell Ltd", partner=True)
    # When the lead is added to the partner
    url = f"/leads/{lead_id}/partner"
    command_ok(client.post(url, json={"partner_id": partner_id}))
    # Then it is with the partner, and no longer in the pool
    lead = get_lead(client, lead_id)
    assert (lead["partner_id"], lead["owner"], lead["pool"]) == (partner_id, None, False)
    refused(client, "POST", url, 409, "rule_violated", json={"partner_id": partner_id})


def test_a_lead_added_to_an_unknown_partner_is_not_found(client: TestClient) -> None:
    lead_id = make_lead(client)
    refuses_bad_partners(client, f"/leads/{lead_id}/partner")


# --- qualify ------------------------------------------------------------------------------


def test_qualifying_a_lead_makes_an_opportunity_for_its_owner_and_company(
    any_client: TestClient,
) -> None:
    client = any_client
    # Given a lead of ann's at ACME (no account of that name yet)
    lead_id = make_lead(client, owner="ann", company="ACME")
    # When it is qualified
    answer = qualify(client, lead_id, amount=money("5000.00"), stage="qualification")
    # Then the answer names the new opportunity
    opportunity_id = answer["opportunity_id"]
    assert is_uuid(opportunity_id)
    assert answer["id"] == lead_id
    # And the opportunity exists, owned by the lead's owner, for the lead's company
    opp = get_opportunity(client, opportunity_id)
    assert (opp["title"], opp["owner"], opp["status"]) == ("ACME pilot", "ann", "open")
    assert (opp["stage"], opp["expected_close"]) == ("qualification", CLOSE)
    assert opp["amount"] == {"amount": "5000.00", "currency": "EUR"}
    assert (
        query_ok(
            client.get(f"/accounts/{opp['account_id']}", params={"wait_for": project(client)})
        )["name"]
        == "ACME"
    )
    # And the lead is qualified, pointing at both
    lead = get_lead(client, lead_id)
    assert (lead["status"], lead["opportunity_id"]) == ("qualified", opportunity_id)
    assert lead["account_id"] == opp["account_id"]
    # And the opportunity's history says which lead it came from
    created = query_ok(client.get(f"/history/{opportunity_id}"))[0]
    assert (created["type"], created["data"]["lead_id"]) == ("OpportunityCreated", lead_id)


def test_qualifying_uses_the_leads_account_and_partner(client: TestClient) -> None:
    # Given a lead of ann's added to an account and a partner
    lead_id = make_lead(client, owner="ann", company="ACME")
    account_id = make_account(client, "Globex")
    partner_id = make_account(client, "Resell Ltd", partner=True)
    command_ok(client.post(f"/leads/{lead_id}/account", json={"account_id": account_id}))
    command_ok(client.post(f"/leads/{lead_id}/partner", json={"partner_id": partner_id}))
    # When it is qualified, then the opportunity is for that account, with that partner
    opp = get_opportunity(client, qualify(client, lead_id)["opportunity_id"])
    assert (opp["account_id"], opp["partner_id"], opp["owner"]) == (account_id, partner_id, "ann")


def test_qualifying_a_pooled_lead_without_an_owner_is_refused(client: TestClient) -> None:
    # Given a lead in the free pool
    lead_id = make_lead(client, company="ACME")
    # When it is qualified without naming an owner, it is refused and nothing is written
    url = f"/leads/{lead_id}/qualify"
    refused(client, "POST", url, 409, "rule_violated", json=qualify_body())
    lead = get_lead(client, lead_id)
    assert (lead["status"], lead["opportunity_id"], lead["pool"]) == ("new", None, True)


def test_qualifying_a_pooled_lead_for_an_owner_assigns_it_to_them(client: TestClient) -> None:
    lead_id = make_lead(client, company="ACME")
    opportunity_id = qualify(client, lead_id, owner="bob")["opportunity_id"]
    assert get_lead(client, lead_id)["owner"] == "bob"
    assert get_opportunity(client, opportunity_id)["owner"] == "bob"


def test_qualifying_twice_is_refused(client: TestClient) -> None:
    lead_id = make_lead(client, owner="ann", company="ACME")
    qualify(client, lead_id)
    url = f"/leads/{lead_id}/qualify"
    refused(client, "POST", url, 409, "rule_violated", json=qualify_body(title="Again"))


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ({}, 422, "invalid_input"),
        ({"opportunity": "ACME pilot"}, 422, "invalid_input"),
        (qualify_body(title=" "), 422, "invalid_input"),
        (qualify_body(expected_close="31.03.2027"), 422, "invalid_input"),
        (qualify_body(amount="5000"), 422, "invalid_input"),
        (qualify_body(amount=money("-1.00")), 422, "invalid_input"),
        (qualify_body(probability=500), 422, "invalid_input"),
        (qualify_body(account_name="X", account_id=str(UNKNOWN)), 422, "invalid_input"),
        (qualify_body(account_id=str(UNKNOWN)), 404, "not_found"),
        (qualify_body(stage="nope"), 404, "not_found"),
        (qualify_body(pipeline="nope"), 404, "not_found"),
        (qualify_body(stage="won"), 409, "rule_violated"),
    ],
)
def test_a_bad_qualification_is_refused_and_writes_nothing(
    client: TestClient, body: JSON, status: int, error: str
) -> None:
    # A pooled lead qualified for bob: even the assignment is undone when the rest fails.
    lead_id = make_lead(client, company="ACME")
    body = copy.deepcopy(body)
    if isinstance(body.get("opportunity"), dict):
        body["opportunity"]["owner"] = "bob"
    refused(client, "POST", f"/leads/{lead_id}/qualify", status, error, json=body)
    assert get_lead(client, lead_id)["owner"] is None


def test_qualifying_a_lead_without_company_or_account_needs_an_account(
    client: TestClient,
) -> None:
    lead_id = make_lead(client, owner="ann")
    url = f"/leads/{lead_id}/qualify"
    refused(client, "POST", url, 422, "invalid_input", json=qualify_body())
    opp = get_opportunity(
        client, qualify(client, lead_id, account_name="Initech")["opportunity_id"]
    )
    assert (
        query_ok(
            client.get(f"/accounts/{opp['account_id']}", params={"wait_for": project(client)})
        )["name"]
        == "Initech"
    )


# --- disqualify ---------------------------------------------------------------------------


def test_a_disqualified_lead_is_closed(client: TestClient) -> None:
    # Given a lead of ann's
    lead_id = make_lead(client, owner="ann", company="ACME")
    # When it is disqualified as junk
    body = {"status": "junk", "reason": "a bot filled the form"}
    command_ok(client.post(f"/leads/{lead_id}/disqualify", json=body))
    # Then it reads disqualified with its status and reason
    lead = get_lead(client, lead_id)
    assert (lead["status"], lead["disqualified_as"], lead["disqualify_reason"]) == (
        "disqualified",
        "junk",
        "a bot filled the form",
    )
    # And it is closed: qualifying, assigning, logging work or disqualifying again is refused
    base = f"/leads/{lead_id}"
    refused(client, "POST", f"{base}/qualify", 409, "rule_violated", json=qualify_body())
    refused(client, "POST", f"{base}/assign", 409, "rule_violated", json={"owner": "bob"})
    activity = {"kind": "call", "subject": "x"}
    refused(client, "POST", f"{base}/activities", 409, "rule_violated", json=activity)
    refused(client, "POST", f"{base}/disqualify", 409, "rule_violated", json=body)


@pytest.mark.parametrize(
    "body",
    [
        {"status": "qualified", "reason": "x"},
        {"status": "bad", "reason": "x"},
        {"status": "", "reason": "x"},
        {"status": "junk", "reason": " "},
        {"status": "junk"},
        {"reason": "x"},
        {"status": 1, "reason": "x"},
    ],
)
def test_a_disqualification_with_a_bad_status_or_no_reason_is_refused(
    client: TestClient, body: JSON
) -> None:
    lead_id = make_lead(client, owner="ann", company="ACME")
    refused(client, "POST", f"/leads/{lead_id}/disqualify", 422, "invalid_input", json=body)
    # And the lead can still be qualified
    qualify(client, lead_id)


# --- archive, unarchive ---------------------------------------------------------------------


def test_an_archived_lead_refuses_changes_until_it_is_unarchived(client: TestClient) -> None:
    # Given an archived lead
    lead_id = make_lead(client)
    base = f"/leads/{lead_id}"
    command_ok(client.post(f"{base}/archive"))
    assert get_lead(client, lead_id)["archived"] is True
    # Then it cannot be patched, assigned, worked, or archived again
    body = {"address": None, "source": "web"}
    refused(client, "PATCH", base, 409, "rule_violated", json=body)
    refused(client, "POST", f"{base}/assign", 409, "rule_violated", json={"owner": "ann"})
    activity = {"kind": "call", "subject": "x"}
    refused(client, "POST", f"{base}/activities", 409, "rule_violated", json=activity)
    refused(client, "POST", f"{base}/archive", 409, "rule_violated")
    # When it is unarchived it can be patched again; unarchiving again is refused
    command_ok(client.post(f"{base}/unarchive"))
    assert get_lead(client, lead_id)["archived"] is False
    command_ok(patch_lead(client, lead_id, source="web"))
    assert get_lead(client, lead_id)["source"] == "web"
    refused(client, "POST", f"{base}/unarchive", 409, "rule_violated")


def test_a_qualified_lead_can_still_be_archived(client: TestClient) -> None:
    lead_id = make_lead(client, owner="ann", company="ACME")
    qualify(client, lead_id)
    command_ok(client.post(f"/leads/{lead_id}/archive"))
    assert get_lead(client, lead_id)["archived"] is True


# --- anonymize ------------------------------------------------------------------------------


def test_anonymizing_erases_the_person_everywhere(any_client: TestClient) -> None:
    client = any_client
    # Given a lead with personal data in its creation, an edit and a sales activity
    lead_id = intake(
        client,
        email="jane.roe@example.com",
        phone="+49 30 7654321",
        notes="plays golf",
        company="ACME",
        shoe_size="Fortytwo",
    )["id"]
    command_ok(patch_lead(client, lead_id, address="Hidden Lane 5", last_name="Roe-Smith"))
    activity = {"kind": "call", "subject": "Asked Jane about golf", "notes": "a secret note"}
    command_ok(client.post(f"/leads/{lead_id}/activities", json=activity))
    plaintext = [
        "Jane",
        "Roe",
        "jane.roe@example.com",
        "7654321",
        "golf",
        "Fortytwo",
        "Hidden Lane",
        "secret note",
    ]
    before = json.dumps(query_ok(client.get(f"/history/{lead_id}")))
    assert [t for t in plaintext if t not in before] == []
    # When the lead is anonymized
    command_ok(client.post(f"/leads/{lead_id}/anonymize"))
    # Then its personal fields read null, and it says it is anonymized
    lead = get_lead(client, lead_id)
    assert all(lead[name] is None for name in PERSONAL_FIELDS), lead
    assert (lead["extra"], lead["anonymized"]) == (None, True)
    [logged] = lead["activities"]
    assert (logged["subject"], logged["notes"]) == (None, None)
    # And what is not personal stays
    assert (lead["company"], lead["status"]) == ("ACME", "working")
    # And its history holds no plaintext and no ciphertext
    history = query_ok(client.get(f"/history/{lead_id}"))
    assert history[-1]["type"] == "LeadAnonymized"
    text = json.dumps(history)
    assert [t for t in plaintext if t in text] == []
    assert "sealed" not in keys_anywhere([event["data"] for event in history])


# A valid request to each command route of a lead that names nothing but the lead.
LEAD_COMMANDS: list[tuple[str, str, JSON | None]] = [
    ("PATCH", "", {"address": None, "source": "web"}),
    ("POST", "/assign", {"owner": "ann"}),
    ("POST", "/split", {"shares": {"ann": 50, "bob": 50}}),
    ("POST", "/activities", {"kind": "call", "subject": "x"}),
    ("POST", "/account", {"account_name": "Initech"}),
    ("POST", "/qualify", qualify_body(owner="ann", account_name="Initech")),
    ("POST", "/disqualify", {"status": "junk", "reason": "spam"}),
    ("POST", "/archive", None),
    ("POST", "/unarchive", None),
    ("POST", "/anonymize", None),
]


@pytest.mark.parametrize(("method", "path", "body"), LEAD_COMMANDS)
def test_every_command_on_an_anonymized_lead_is_refused(
    client: TestClient, method: str, path: str, body: JSON | None
) -> None:
    lead_id = make_lead(client)
    command_ok(client.post(f"/leads/{lead_id}/anonymize"))
    refused(client, method, f"/leads/{lead_id}{path}", 409, "rule_violated", json=body)


def test_an_anonymized_lead_is_no_longer_found_as_a_duplicate(client: TestClient) -> None:
    # Given an anonymized lead that had an e-mail address and a phone number
    lead_id = make_lead(client, email="jane@example.com", phone="+49 30 1234567")
    command_ok(client.post(f"/leads/{lead_id}/anonymize"))
    # When a lead with the same contacts arrives, it is no duplicate: the contacts are gone
    answer = intake(client, email="jane@example.com", phone="030 1234567")
    assert answer["duplicate_of"] is None


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        *LEAD_COMMANDS,
        # and those that name an activity or a partner too
        ("PATCH", f"/activities/{UNKNOWN}", {"subject": "x"}),
        ("DELETE", f"/activities/{UNKNOWN}", None),
        ("POST", "/partner", {"partner_id": str(UNKNOWN)}),
    ],
)
def test_every_command_on_an_unknown_lead_is_not_found(
    client: TestClient, method: str, path: str, body: JSON | None
) -> None:
    refused(client, method, f"/leads/{uuid4()}{path}", 404, "not_found", json=body)


# --- the lead processor: POST /lead-intake ------------------------------------------------


def test_an_intake_without_rules_goes_to_the_free_pool(any_client: TestClient) -> None:
    client = any_client
    # Given no lead rules
    assert list_rules(client) == []
    # When a lead arrives through intake
    answer = intake(client, email="jane@example.com", company="ACME")
    # Then it is in the pool, with no owner and no duplicate
    assert (answer["owner"], answer["pool"], answer["duplicate_of"]) == (None, True, None)
    assert answer["version"] == 1
    lead = get_lead(client, answer["id"])
    assert (lead["owner"], lead["pool"], lead["status"]) == (None, True, "new")
    assert (lead["email"], lead["company"]) == ("jane@example.com", "ACME")


@pytest.mark.users("banker", "enterprise", "newsletter")
def test_extra_fields_are_kept_as_text_and_usable_by_rules(any_client: TestClient) -> None:
    client = any_client
    # Given rules on an extra text, number and boolean field
    add_rule(client, 1, {"assign": "banker"}, ("industry", "eq", "Banking"))
    add_rule(client, 2, {"assign": "enterprise"}, ("employees", "eq", "500"))
    add_rule(client, 3, {"assign": "newsletter"}, ("newsletter", "eq", "true"))
    # When leads arrive with such extra fields (the field names in any case)
    banking = intake(client, Industry="banking", employees=500, newsletter=True)
    big = intake(client, industry="Retail", employees=500)
    reader = intake(client, industry="Retail", newsletter=True, score=7.5)
    other = intake(client, industry="Retail", employees=10, newsletter=False)
    # Then each goes where its fields say; a lead no rule matches goes to the pool
    assert (banking["owner"], banking["pool"]) == ("banker", False)
    assert big["owner"] == "enterprise"
    assert reader["owner"] == "newsletter"
    assert (other["owner"], other["pool"]) == (None, True)
    # And the extra fields are stored as text with the lead
    lead = get_lead(client, banking["id"])
    assert lead["extra"] == {"Industry": "banking", "employees": "500", "newsletter": "true"}
    assert get_lead(client, reader["id"])["extra"]["score"] == "7.5"


@pytest.mark.parametrize(
    "extra",
    [{"profile": {"industry": "Banking"}}, {"tags": ["a", "b"]}, {"tags": []}, {"profile": {}}],
)
def test_an_extra_field_holding_an_object_or_a_list_is_refused(
    client: TestClient, extra: JSON
) -> None:
    body = lead_body(**extra)
    refused(client, "POST", "/lead-intake", 422, "invalid_input", json=body)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ({"email": "jane.roe@example.com"}, {"email": "JANE.ROE@Example.com"}),
        ({"phone": "+49 30 1234567"}, {"phone": "030 1234567"}),
        ({"phone": "030 1234567"}, {"phone": "+49 (30) 123-4567"}),
        ({"email": "jane@example.com", "phone": "030 1234567"}, {"phone": "+49301234567"}),
    ],
)
def test_a_duplicate_intake_goes_to_the_first_leads_owner(
    client: TestClient, first: JSON, second: JSON
) -> None:
    # Given a rule giving every lead to bob, and a first lead ann owns
    rule_id = add_rule(client, 1, {"assign": "bob"})
    first_id = intake(client, owner="ann", **first)["id"]
    # When the same person arrives again, the contact written another way
    answer = intake(client, first_name="J.", **second)
    # Then it is a duplicate of the first, and goes to the first's owner, not by the rule
    assert (answer["duplicate_of"], answer["owner"], answer["pool"]) == (first_id, "ann", False)
    lead = get_lead(client, answer["id"])
    assert (lead["duplicate_of"], lead["owner"], lead["routed_by_rule"]) == (first_id, "ann", None)
    # And someone else still goes by the rule
    other = intake(client, email="john@example.com")
    assert (other["owner"], other["duplicate_of"]) == ("bob", None)
    assert get_lead(client, other["id"])["routed_by_rule"] == rule_id


def test_a_duplicate_of_a_pooled_lead_is_pooled_too(client: TestClient) -> None:
    first_id = intake(client, email="jane@example.com")["id"]
    add_rule(client, 1, {"assign": "bob"})
    answer = intake(client, email="jane@example.com")
    assert (answer["duplicate_of"], answer["owner"], answer["pool"]) == (first_id, None, True)


def test_a_split_rule_shares_100_intakes_exactly_50_30_20(client: TestClient) -> None:
    # Given a split rule for every lead
    split = {"ann": 50, "bob": 30, "cy": 20}
    rule_id = add_rule(client, 1, {"split": split})
    # When 100 leads arrive
    counts = dict.fromkeys(split, 0)
    for n in range(1, 101):
        answer = intake(client, last_name=f"Roe {n}")
        assert answer["pool"] is False
        counts[answer["owner"]] += 1
        # Then at every point each user's count is within one lead of their share
        assert all(abs(counts[u] - n * p / 100) < 1 for u, p in split.items()), (n, counts)
    # And after 100 the split is exact, as GET /lead-rules counts it
    assert counts == split
    [rule] = list_rules(client)
    assert (rule["id"], rule["counts"]) == (rule_id, split)


@pytest.mark.users("dach")
def test_an_assign_rule_routes_the_leads_its_conditions_match(client: TestClient) -> None:
    # Given a rule with two conditions: the source contains "web" and the country is DE or AT
    rule_id = add_rule(
        client,
        1,
        {"assign": "dach"},
        ("source", "contains", "web"),
        ("country", "in", ["DE", "AT"]),
    )
    # When leads arrive
    matched = intake(client, source="Webinar March", country=" at ")
    wrong_country = intake(client, source="webinar", country="FR")
    wrong_source = intake(client, source="fair", country="DE")
    no_country = intake(client, source="webinar")
    # Then only the one matching every condition is routed, by that rule
    assert (matched["owner"], matched["pool"]) == ("dach", False)
    assert get_lead(client, matched["id"])["routed_by_rule"] == rule_id
    for answer in (wrong_country, wrong_source, no_country):
        assert (answer["owner"], answer["pool"]) == (None, True)


def test_a_partner_rule_routes_the_lead_to_the_partner(client: TestClient) -> None:
    # Given a partner account and a rule routing partner-portal leads to it
    partner_id = make_account(client, "Resell Ltd", partner=True)
    add_rule(client, 1, {"partner": partner_id}, ("source", "eq", "partner portal"))
    # When such a lead arrives
    answer = intake(client, source="Partner Portal")
    # Then it is with the partner: no owner, not in the pool
    assert (answer["owner"], answer["pool"]) == (None, False)
    lead = get_lead(client, answer["id"])
    assert (lead["partner_id"], lead["owner"], lead["pool"]) == (partner_id, None, False)


def test_a_partner_rule_naming_an_unknown_account_is_not_found(client: TestClient) -> None:
    body = {"priority": 1, "conditions": [], "action": {"partner": str(uuid4())}}
    refused(client, "POST", "/lead-rules", 404, "not_found", json=body)


def test_a_priority_rule_sets_the_priority_and_evaluation_goes_on(client: TestClient) -> None:
    # Given a priority rule tried first, and an assign rule after it
    add_rule(client, 1, {"priority": "urgent"}, ("industry", "eq", "Banking"))
    add_rule(client, 2, {"assign": "ann"})
    # When a banking lead arrives
    answer = intake(client, industry="Banking")
    # Then it is urgent, and the assign rule still gave it to ann
    assert (answer["owner"], answer["priority"]) == ("ann", "urgent")
    lead = get_lead(client, answer["id"])
    assert (lead["owner"], lead["priority"]) == ("ann", "urgent")
    # And a lead the priority rule does not match keeps its own priority
    other = intake(client, industry="Retail", priority="low")
    assert get_lead(client, other["id"])["priority"] == "low"
    # And a priority rule alone does not take a lead out of the pool
    deleted = client.delete(f"/lead-rules/{list_rules(client)[1]['id']}")
    assert deleted.status_code == 200, deleted.text
    pooled = intake(client, industry="Banking")
    assert (pooled["pool"], pooled["priority"]) == (True, "urgent")


@pytest.mark.users("late", "early", "second", "narrow")
def test_rules_are_tried_by_priority_number_ascending(client: TestClient) -> None:
    # Given rules added out of order: 20 (late), 10 (early), 10 (second early), 0 (narrow)
    late = add_rule(client, 20, {"assign": "late"})
    early = add_rule(client, 10, {"assign": "early"})
    second = add_rule(client, 10, {"assign": "second"})
    narrow = add_rule(client, 0, {"assign": "narrow"}, ("industry", "eq", "Mining"))
    # Then GET /lead-rules lists them in that order, equal numbers in the order added
    listed = list_rules(client)
    assert [r["id"] for r in listed] == [narrow, early, second, late]
    assert [r["priority"] for r in listed] == [0, 10, 10, 20]
    # And the lowest number that matches wins
    assert intake(client, industry="Mining")["owner"] == "narrow"
    assert intake(client, industry="Retail")["owner"] == "early"


def test_an_owner_given_to_intake_wins_over_the_rules(client: TestClient) -> None:
    add_rule(client, 1, {"split": {"ann": 50, "bob": 50}})
    answer = intake(client, owner="zoe")
    assert (answer["owner"], answer["pool"]) == ("zoe", False)
    assert get_lead(client, answer["id"])["routed_by_rule"] is None
    # And the split counted nothing for it
    assert list_rules(client)[0]["counts"] == {"ann": 0, "bob": 0}


# --- lead rules ---------------------------------------------------------------------------


def test_a_lead_rule_is_added_and_listed(any_client: TestClient) -> None:
    client = any_client
    # When an assign rule and a split rule are added
    before = log_position(client)
    assign = add_rule(client, 5, {"assign": "ann"}, ("country", "in", ["DE", "AT"]))
    split = add_rule(client, 1, {"split": {"bob": 70, "cy": 30}}, ("industry", "eq", "Banking"))
    assert log_position(client) > before
    # Then GET /lead-rules lists both in evaluation order, a split with its counts
    assert list_rules(client) == [
        {
            "id": split,
            "priority": 1,
            "conditions": [{"field": "industry", "op": "eq", "value": "Banking"}],
            "action": {"split": {"bob": 70, "cy": 30}},
            "counts": {"bob": 0, "cy": 0},
        },
        {
            "id": assign,
            "priority": 5,
            "conditions": [{"field": "country", "op": "in", "value": ["DE", "AT"]}],
            "action": {"assign": "ann"},
            "counts": None,
        },
    ]
    # And routing a lead by the split counts it
    assert intake(client, industry="banking")["owner"] == "bob"
    assert list_rules(client)[0]["counts"] == {"bob": 1, "cy": 0}


@pytest.mark.parametrize(
    "body",
    [
        {"priority": 1, "conditions": [{"field": "x", "op": "regex", "value": "a"}]},
        {"priority": 1, "conditions": [{"field": "x", "op": "in", "value": []}]},
        {"priority": 1, "conditions": [{"field": "x", "op": "in", "value": "DE"}]},
        {"priority": 1, "conditions": [{"field": "x", "op": "eq", "value": ["a"]}]},
        {"priority": 1, "conditions": [{"field": "x", "op": "eq", "value": " "}]},
        {"priority": 1, "conditions": [{"field": " ", "op": "eq", "value": "a"}]},
        {"priority": 1, "conditions": [{"field": "x", "op": "eq"}]},
        {"priority": 1, "conditions": [{"field": "x", "op": "in", "value": [1, 2]}]},
        {"priority": 1, "conditions": "industry"},
        {"priority": 1, "action": {"assign": "ann", "priority": "high"}},
        {"priority": 1, "action": {"assign": "ann", "split": {"bob": 100}}},
        {"priority": 1, "action": {}},
        {"priority": 1, "action": {"assign": " "}},
        {"priority": 1, "action": {"priority": "mega"}},
        {"priority": 1, "action": {"split": {}}},
        {"priority": 1, "action": {"route": "ann"}},
        {"priority": -1},
        {"priority": "first"},
        {"priority": None},
        {"action": None},
    ],
)
def test_a_bad_lead_rule_is_refused(client: TestClient, body: JSON) -> None:
    full: JSON = {"priority": 1, "conditions": [], "action": {"assign": "ann"}}
    full.update(body)
    full = {k: v for k, v in full.items() if v is not None}
    refused(client, "POST", "/lead-rules", 422, "invalid_input", json=full)
    assert list_rules(client) == []


@pytest.mark.parametrize(
    "body",
    [
        {"priority": 1, "conditions": [], "action": {"split": {"a\u0000n": 100}}},
        {"priority": 1, "conditions": [{"field": "x", "op": "in", "value": ["D\u0000E"]}]},
    ],
)
def test_a_lead_rule_holding_a_nul_character_is_refused(client: TestClient, body: JSON) -> None:
    # As every other text of the API (adapters/http/bodies.py): NUL is refused.
    full: JSON = {"priority": 1, "conditions": [], "action": {"assign": "ann"}, **body}
    refused(client, "POST", "/lead-rules", 422, "invalid_input", json=full)


def test_a_deleted_rule_no_longer_applies(client: TestClient) -> None:
    # Given a rule giving every lead to ann, and another one after it
    rule_id = add_rule(client, 1, {"assign": "ann"})
    kept = add_rule(client, 2, {"assign": "bob"}, ("industry", "eq", "Banking"))
    assert intake(client)["owner"] == "ann"
    # When it is deleted
    answer = client.delete(f"/lead-rules/{rule_id}")
    assert answer.status_code == 200, answer.text
    assert (answer.json()["id"], answer.json()["position"] > 0) == (rule_id, True)
    # Then it is no longer listed nor applied
    assert [r["id"] for r in list_rules(client)] == [kept]
    assert intake(client)["pool"] is True
    assert intake(client, industry="Banking")["owner"] == "bob"
    # And deleting it again is not found
    refused(client, "DELETE", f"/lead-rules/{rule_id}", 404, "not_found")


def test_deleting_an_unknown_rule_is_not_found(client: TestClient) -> None:
    refused(client, "DELETE", f"/lead-rules/{uuid4()}", 404, "not_found")
    add_rule(client, 1, {"assign": "ann"})
    refused(client, "DELETE", f"/lead-rules/{uuid4()}", 404, "not_found")
    refused(client, "DELETE", "/lead-rules/not-a-uuid", 422, "invalid_input")


# --- campaigns ------------------------------------------------------------------------------


def test_a_campaign_is_created_read_and_archived(any_client: TestClient) -> None:
    client = any_client
    # When a campaign is created
    body = {"name": "Spring fair", "channel": "event", "starts_on": "2027-03-01"}
    answer = command_ok(client.post("/campaigns", json={**body, "ends_on": "2027-03-31"}), 201)
    campaign_id = answer["id"]
    # Then it reads back
    assert query_ok(client.get(f"/campaigns/{campaign_id}")) == {
        "id": campaign_id,
        "version": 1,
        "name": "Spring fair",
        "channel": "event",
        "starts_on": "2027-03-01",
        "ends_on": "2027-03-31",
        "archived": False,
    }
    # And leads can come from it
    lead_id = make_lead(client, campaign_id=campaign_id)
    assert get_lead(client, lead_id)["campaign_id"] == campaign_id
    # When it is archived
    command_ok(client.post(f"/campaigns/{campaign_id}/archive"))
    campaign = query_ok(client.get(f"/campaigns/{campaign_id}"))
    assert (campaign["archived"], campaign["version"]) == (True, 2)
    # Then it takes no new leads: neither created, nor through intake, nor by a patch
    refused(client, "POST", "/leads", 409, "rule_violated", json=lead_body(campaign_id=campaign_id))
    body = lead_body(campaign_id=campaign_id)
    refused(client, "POST", "/lead-intake", 409, "rule_violated", json=body)
    other = make_lead(client)
    patch = {"address": None, "campaign_id": campaign_id}
    refused(client, "PATCH", f"/leads/{other}", 409, "rule_violated", json=patch)
    # And the lead it brought stays, and can still be edited
    command_ok(patch_lead(client, lead_id, source="fair"))
    assert get_lead(client, lead_id)["campaign_id"] == campaign_id
    # And archiving it again is refused
    refused(client, "POST", f"/campaigns/{campaign_id}/archive", 409, "rule_violated")


def test_an_unknown_campaign_is_not_found(client: TestClient) -> None:
    unknown = str(uuid4())
    refused(client, "GET", f"/campaigns/{unknown}", 404, "not_found")
    refused(client, "POST", f"/campaigns/{unknown}/archive", 404, "not_found")
    refused(client, "POST", "/leads", 404, "not_found", json=lead_body(campaign_id=unknown))
    refused(client, "POST", "/lead-intake", 404, "not_found", json=lead_body(campaign_id=unknown))
    lead_id = make_lead(client)
    patch = {"address": None, "campaign_id": unknown}
    refused(client, "PATCH", f"/leads/{lead_id}", 404, "not_found", json=patch)
    # A lead's id is no campaign
    refused(client, "GET", f"/campaigns/{lead_id}", 404, "not_found")


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"name": " "},
        {"name": None},
        {"name": 5},
        {"name": "x", "starts_on": "2027-03-01", "ends_on": "2027-02-28"},
        {"name": "x", "starts_on": "spring"},
        {"name": "x", "budget": "1000"},
    ],
)
def test_a_bad_campaign_is_refused(client: TestClient, body: JSON) -> None:
    refused(client, "POST", "/campaigns", 422, "invalid_input", json=body)


# --- Idempotency-Key on the lead processor ------------------------------------------------


def test_an_intake_repeated_with_the_same_key_is_replayed(any_client: TestClient) -> None:
    client = any_client
    # Given a split rule, and a lead taken in with an Idempotency-Key
    add_rule(client, 1, {"split": {"ann": 50, "bob": 50}})
    key = {"Idempotency-Key": "intake-0001"}
    body = lead_body(email="jane@example.com", industry="Banking", employees=500)
    first = client.post("/lead-intake", json=body, headers=key)
    answer = command_ok(first, 201)
    assert "Idempotent-Replayed" not in first.headers
    before = log_position(client)
    # When the same request is sent again with the same key (its keys in another order)
    again = client.post("/lead-intake", json=dict(reversed(list(body.items()))), headers=key)
    # Then the first answer comes back, marked as replayed, and nothing is written
    assert again.status_code == 201, again.text
    assert again.json() == answer
    assert again.headers["Idempotent-Replayed"] == "true"
    assert log_position(client) == before
    # And there is still one lead only: the split counted one, a new one is its duplicate
    assert list_rules(client)[0]["counts"] == {"ann": 1, "bob": 0}
    assert intake(client, email="jane@example.com")["duplicate_of"] == answer["id"]


def test_the_same_key_with_another_body_is_a_conflict(client: TestClient) -> None:
    key = {"Idempotency-Key": "intake-0002"}
    answer = command_ok(client.post("/lead-intake", json=lead_body(), headers=key), 201)
    key_reused(client, "POST", "/lead-intake", "intake-0002", lead_body(first_name="John"))
    assert get_lead(client, answer["id"])["first_name"] == "Jane"


# --- malformed requests ---------------------------------------------------------------------


def _lead_routes(client: TestClient) -> dict[str, tuple[str, str]]:
    lead_id = make_lead(client)
    base = f"/leads/{lead_id}"
    return {
        "create": ("POST", "/leads"),
        "intake": ("POST", "/lead-intake"),
        "patch": ("PATCH", base),
        "assign": ("POST", f"{base}/assign"),
        "split": ("POST", f"{base}/split"),
        "activity": ("POST", f"{base}/activities"),
        "account": ("POST", f"{base}/account"),
        "partner": ("POST", f"{base}/partner"),
        "qualify": ("POST", f"{base}/qualify"),
        "disqualify": ("POST", f"{base}/disqualify"),
        "rule": ("POST", "/lead-rules"),
        "campaign": ("POST", "/campaigns"),
    }


def test_malformed_json_is_bad_input_on_every_lead_route(client: TestClient) -> None:
    for name, (method, url) in _lead_routes(client).items():
        for raw in (b"{not json", b'{"first_name": "Jane",}', b"[1, 2"):
            body = refused(
                client, method, url, 400, "malformed_json", content=raw, headers=JSON_HEADER
            )
            assert "JSON" in body["detail"], (name, body)


WRONG_TYPES: list[tuple[str, object]] = [
    ("create", []),
    ("create", "Jane Roe"),
    ("create", {"first_name": ["Jane"], "last_name": "Roe", "address": None}),
    ("intake", 42),
    ("intake", {"first_name": "Jane", "last_name": {"x": 1}, "address": None}),
    ("patch", ["source"]),
    ("patch", {"address": None, "priority": 3}),
    ("assign", {"owner": True}),
    ("split", {"shares": {"ann": [100]}}),
    ("activity", {"kind": ["call"], "subject": "x"}),
    ("account", {"account_id": 5}),
    ("partner", {"partner_id": ["x"]}),
    ("qualify", {"opportunity": []}),
    ("qualify", {"opportunity": {"title": "T", "expected_close": [2027, 3, 31]}}),
    ("disqualify", {"status": ["junk"], "reason": "x"}),
    ("rule", {"priority": [1], "conditions": [], "action": {"assign": "ann"}}),
    ("rule", {"priority": 1, "conditions": [5], "action": {"assign": "ann"}}),
    ("campaign", {"name": {"en": "Spring"}}),
]


@pytest.mark.parametrize(("route", "body"), WRONG_TYPES)
def test_wrong_types_are_unprocessable_never_500(
    client: TestClient, route: str, body: object
) -> None:
    method, url = _lead_routes(client)[route]
    refused(client, method, url, 422, "invalid_input", json=body)


@pytest.mark.parametrize(
    "raw",
    [
        b'{"first_name": "J\xffne", "last_name": "Roe", "address": null}',  # not UTF-8
        b'{"first_name": "Jane", "last_name": "Roe", "address": null, "n": '
        + b"9" * 5000
        + b"}",  # a number Python will not read
    ],
)
def test_a_body_that_cannot_be_read_is_malformed_json_in_the_error_model(
    client: TestClient, raw: bytes
) -> None:
    # docs/api.md: {"error": <code>, "detail": <one human sentence>} for every refusal.
    refused(client, "POST", "/lead-intake", 400, "malformed_json", content=raw, headers=JSON_HEADER)


def test_a_refusal_answers_json_in_the_error_model(client: TestClient) -> None:
    # One representative check of the error body itself, beside the status code.
    response = client.post("/lead-rules", json={"priority": 1, "action": {}})
    body = assert_error(response, 422, "invalid_input")
    assert "action" in body["detail"]
