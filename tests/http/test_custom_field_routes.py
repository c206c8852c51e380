"""Custom fields over HTTP, as real users with real tokens: an admin defines, changes and
deletes fields (a rep may not: 403, nothing written); everyone reads the definitions
(now or as of a position, paged); a rep sets values on the records they make and change
(opportunities, leads, contacts, accounts), refused with a 422 naming the field when a
value does not fit; answers show the values of the fields defined at the position asked
for; history keeps every value; lead-intake fields named like a lead field are stored as
that field."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from domain.ids import account_id_for
from tests.http.helpers import (
    JSON,
    changes_nothing,
    command_ok,
    opportunity_body,
    project,
    query_ok,
    refused,
    services_of,
)
from tests.identity import bearer, user_token

BUDGET = {"entity": "opportunity", "key": "budget", "label": "Budget", "type": "number"}


def define(client: TestClient, **fields: Any) -> JSON:
    return command_ok(client.post("/custom-fields", json=fields), 201)


def rep(client: TestClient, login: str = "alice") -> dict[str, str]:
    return bearer(user_token(services_of(client), login, "rep"))


def test_an_admin_defines_fields_and_everyone_reads_them(client: TestClient) -> None:
    # Given an admin who defines two fields of opportunities and one of contacts
    made = define(client, **BUDGET)
    assert (made["entity"], made["key"]) == ("opportunity", "budget")
    define(client, entity="opportunity", key="tier", label="Tier", type="select",
           options=["gold", "silver"], required=True)  # fmt: skip
    contact = define(client, entity="contact", key="vip", label="VIP", type="bool")
    # When a rep reads them, a page of two at a time, after the last definition
    alice = rep(client)
    project(client)
    first = query_ok(
        client.get(
            "/custom-fields", params={"limit": 2, "wait_for": contact["position"]}, headers=alice
        )
    )
    # Then they come by entity and key, each as defined
    assert first["items"] == [
        {"entity": "contact", "key": "vip", "label": "VIP", "type": "bool", "options": [],
         "required": False},
        {"entity": "opportunity", "key": "budget", "label": "Budget", "type": "number",
         "options": [], "required": False},
    ]  # fmt: skip
    second = query_ok(
        client.get("/custom-fields", params={"limit": 2, "cursor": first["next_cursor"]})
    )
    assert [(i["key"], i["options"], i["required"]) for i in second["items"]] == [
        ("tier", ["gold", "silver"], True)
    ]
    assert second["next_cursor"] is None
    # and one entity's alone, or as they stood before the contact field was defined
    only = query_ok(client.get("/custom-fields", params={"entity": "contact"}))
    assert [i["key"] for i in only["items"]] == ["vip"]
    before = query_ok(client.get("/custom-fields", params={"as_of": contact["position"] - 1}))
    assert [i["key"] for i in before["items"]] == ["budget", "tier"]
    assert before["as_of"]["position"] == contact["position"] - 1


@pytest.mark.users("alice")
def test_a_rep_may_not_define_change_or_delete_a_field(client: TestClient) -> None:
    define(client, **BUDGET)
    alice = rep(client)
    for method, url, body in (
        ("POST", "/custom-fields", {**BUDGET, "key": "other"}),
        ("PATCH", "/custom-fields/opportunity/budget", {"label": "Mine"}),
        ("DELETE", "/custom-fields/opportunity/budget", None),
    ):
        answer = refused(client, method, url, 403, "forbidden", json=body, headers=alice)
        assert answer["detail"].startswith("a rep may not")


def test_a_definition_is_refused_when_malformed_or_taken(client: TestClient) -> None:
    refused(client, "POST", "/custom-fields", 422, json={**BUDGET, "key": "Budget"})
    refused(client, "POST", "/custom-fields", 422, json={**BUDGET, "type": "colour"})
    # options only for a select or multiselect: by the body's own shape
    says = refused(client, "POST", "/custom-fields", 422, json={**BUDGET, "options": ["a"]})
    assert "options" in says["detail"]
    define(client, **BUDGET)
    taken = refused(client, "POST", "/custom-fields", 409, json=BUDGET)
    assert taken["detail"] == "the opportunity field 'budget' is defined already."
    refused(client, "PATCH", "/custom-fields/lead/budget", 404, json={"label": "B"})


@pytest.mark.users("alice", "bob")
def test_a_rep_sets_values_on_an_opportunity_and_reads_them_canonical(
    client: TestClient,
) -> None:
    # Given fields of opportunities: a number, money, a multiselect and a user
    define(client, **BUDGET)
    define(client, entity="opportunity", key="fee", label="Fee", type="money")
    define(client, entity="opportunity", key="tags", label="Tags", type="multiselect",
           options=["new", "upsell", "renewal"])  # fmt: skip
    define(client, entity="opportunity", key="expert", label="Expert", type="user")
    alice = rep(client)
    # When alice makes a deal with values in them
    custom = {
        "budget": "12000.50",
        "fee": {"amount": "99.5", "currency": "EUR"},
        "tags": ["upsell", "new"],
        "expert": "bob",
    }
    body = opportunity_body(owner="alice", custom=custom)
    made = command_ok(client.post("/opportunities", json=body, headers=alice), 201)
    # Then her deal answers them in their canonical form
    deal = query_ok(client.get(f"/opportunities/{made['id']}", headers=alice))
    assert deal["custom"] == {
        "budget": "12000.5",
        "expert": "bob",
        "fee": {"amount": "99.50", "currency": "EUR"},
        "tags": ["new", "upsell"],
    }
    # When she changes one and clears another; then only those change
    patch = {"custom": {"budget": 13000, "expert": None}}
    command_ok(client.patch(f"/opportunities/{made['id']}", json=patch, headers=alice))
    deal = query_ok(client.get(f"/opportunities/{made['id']}", headers=alice))
    assert deal["custom"]["budget"] == "13000"
    assert "expert" not in deal["custom"]
    # and the same values again write nothing
    url = f"/opportunities/{made['id']}"
    changes_nothing(client, lambda: client.patch(url, json=patch, headers=alice))
    # and history keeps each value as it was set
    history = query_ok(client.get(f"/history/{made['id']}"))
    assert history[0]["data"]["custom"]["budget"] == "12000.5"
    assert history[-1]["type"] == "OpportunityCustomFieldsChanged"
    assert history[-1]["data"]["custom"] == {"budget": "13000", "expert": None}


@pytest.mark.users("alice")
def test_a_value_that_does_not_fit_is_refused_naming_the_field(client: TestClient) -> None:
    define(client, **BUDGET)
    define(client, entity="opportunity", key="region", label="Region", type="text",
           required=True)  # fmt: skip
    alice = rep(client)
    bad = opportunity_body(owner="alice", custom={"budget": "abc", "region": "EMEA"})
    answer = refused(client, "POST", "/opportunities", 422, "invalid_input", json=bad,
                     headers=alice)  # fmt: skip
    assert answer["detail"] == (
        "custom field 'budget' takes a number (a decimal below 10^15 with at most 6 places), "
        "not 'abc'."
    )
    unknown = opportunity_body(owner="alice", custom={"colour": "red", "region": "EMEA"})
    answer = refused(client, "POST", "/opportunities", 404, json=unknown, headers=alice)
    assert answer["detail"] == "there is no opportunity custom field 'colour'."
    missing = opportunity_body(owner="alice", custom={"budget": "1"})
    answer = refused(client, "POST", "/opportunities", 422, json=missing, headers=alice)
    assert answer["detail"] == "custom field 'region' is required for a new opportunity."
    made = command_ok(
        client.post(
            "/opportunities",
            json=opportunity_body(owner="alice", custom={"region": "EMEA"}),
            headers=alice,
        ),
        201,
    )
    cleared = {"custom": {"region": None}}
    answer = refused(client, "PATCH", f"/opportunities/{made['id']}", 422, json=cleared,
                     headers=alice)  # fmt: skip
    assert answer["detail"] == "custom field 'region' is required; it cannot be empty."


@pytest.mark.users("alice")
def test_a_contacts_values_as_of_before_their_fields_deletion_still_show(
    client: TestClient,
) -> None:
    # Given a contact field, a contact of alice's with a value in it, and the field deleted
    define(client, entity="contact", key="vip", label="VIP", type="bool")
    alice = rep(client)
    jane = {"first_name": "Jane", "last_name": "Doe", "custom": {"vip": True}}
    made = command_ok(client.post("/contacts", json=jane, headers=alice), 201)
    deleted = command_ok(client.delete("/custom-fields/contact/vip"))
    project(client)
    url = f"/contacts/{made['id']}"
    # When she reads the contact now, and as of before the deletion
    now = query_ok(client.get(url, params={"wait_for": deleted["position"]}, headers=alice))
    then = query_ok(client.get(url, params={"as_of": deleted["position"] - 1}, headers=alice))
    # Then now the value is not shown, and then it is: the definitions of then answer
    assert now["custom"] == {}
    assert then["custom"] == {"vip": True}
    # and the definitions list as of then has the field, now not
    listed = query_ok(client.get("/custom-fields", params={"as_of": deleted["position"] - 1}))
    assert [i["key"] for i in listed["items"]] == ["vip"]
    assert query_ok(client.get("/custom-fields"))["items"] == []
    # and a deleted field's key is not defined again
    field = {"entity": "contact", "key": "vip", "label": "V", "type": "text"}
    again = refused(client, "POST", "/custom-fields", 409, json=field)
    assert "belonged to a deleted contact field" in again["detail"]


@pytest.mark.users("alice")
def test_a_contacts_values_change_with_a_patch_and_keep_their_history(
    client: TestClient,
) -> None:
    define(client, entity="contact", key="since", label="Customer since", type="date")
    alice = rep(client)
    made = command_ok(
        client.post("/contacts", json={"first_name": "J", "last_name": "Doe"}, headers=alice), 201
    )
    url = f"/contacts/{made['id']}"
    changed = command_ok(client.patch(url, json={"custom": {"since": "2020-02-29"}}, headers=alice))
    project(client)
    now = query_ok(client.get(url, params={"wait_for": changed["position"]}, headers=alice))
    assert now["custom"] == {"since": "2020-02-29"}
    before = query_ok(client.get(url, params={"as_of": made["position"]}, headers=alice))
    assert before["custom"] == {}
    bad = refused(client, "PATCH", url, 422, json={"custom": {"since": "2021-02-29"}},
                  headers=alice)  # fmt: skip
    assert bad["detail"] == "custom field 'since' takes a date like 2027-03-31, not '2021-02-29'."


@pytest.mark.users("alice")
def test_a_leads_values_are_set_by_hand_and_by_the_intake(client: TestClient) -> None:
    # Given lead fields: employees (a number) and newsletter (a bool)
    define(client, entity="lead", key="employees", label="Employees", type="number")
    define(client, entity="lead", key="newsletter", label="Newsletter", type="bool")
    alice = rep(client)
    # When alice makes a lead with a value and changes it
    lead = {"first_name": "Jane", "last_name": "Doe", "owner": "alice"}
    made = command_ok(
        client.post("/leads", json={**lead, "custom": {"employees": 10}}, headers=alice), 201
    )
    url = f"/leads/{made['id']}"
    command_ok(client.patch(url, json={"custom": {"newsletter": False}}, headers=alice))
    # Then both are answered
    assert query_ok(client.get(url, headers=alice))["custom"] == {
        "employees": "10",
        "newsletter": False,
    }
    # When a marketing tool sends a lead whose further fields are named like lead fields
    taken = command_ok(
        client.post(
            "/lead-intake",
            json={"first_name": "Joe", "last_name": "Roe", "employees": 250,
                  "newsletter": True, "shoe_size": 44},
        ),
        201,
    )  # fmt: skip
    # Then those are stored as the fields, the others stay further fields
    answer = query_ok(client.get(f"/leads/{taken['id']}"))
    assert answer["custom"] == {"employees": "250", "newsletter": True}
    assert answer["extra"] == {"shoe_size": "44"}
    # and a value the field cannot hold refuses the intake, naming the field
    says = refused(client, "POST", "/lead-intake", 422,
                   json={"first_name": "A", "last_name": "B", "newsletter": "maybe"})  # fmt: skip
    assert says["detail"] == "custom field 'newsletter' takes true or false, not 'maybe'."


@pytest.mark.users("alice")
def test_an_accounts_values_are_set_when_made_and_by_a_patch(client: TestClient) -> None:
    define(client, entity="account", key="website", label="Website", type="url")
    alice = rep(client)
    body = {"name": "ACME", "custom": {"website": "https://acme.example"}}
    made = command_ok(client.post("/accounts", json=body, headers=alice), 201)
    url = f"/accounts/{account_id_for('ACME')}"
    project(client)
    assert query_ok(client.get(url, headers=alice))["custom"] == {"website": "https://acme.example"}
    command_ok(client.patch(url, json={"custom": {"website": None}}, headers=alice))
    project(client)
    assert query_ok(client.get(url, headers=alice))["custom"] == {}
    # as of before the change, the value it had then
    then = query_ok(client.get(url, params={"as_of": made["position"]}, headers=alice))
    assert then["custom"] == {"website": "https://acme.example"}
    bad = refused(client, "PATCH", url, 422, json={"custom": {"website": "acme.example"}},
                  headers=alice)  # fmt: skip
    assert bad["detail"] == "custom field 'website' takes an http or https URL, not 'acme.example'."


@pytest.mark.users("alice")
def test_a_definitions_change_keeps_the_values_set_and_its_deletion_hides_them(
    client: TestClient,
) -> None:
    define(client, entity="opportunity", key="tier", label="Tier", type="select",
           options=["gold", "silver"])  # fmt: skip
    made = command_ok(
        client.post("/opportunities", json=opportunity_body(custom={"tier": "silver"})), 201
    )
    url = f"/opportunities/{made['id']}"
    # When the admin takes the option away and makes the field required
    changed = command_ok(
        client.patch(
            "/custom-fields/opportunity/tier", json={"options": ["gold"], "required": True}
        )
    )
    project(client)
    listed = query_ok(client.get("/custom-fields", params={"wait_for": changed["position"]}))
    assert listed["items"][0]["options"] == ["gold"] and listed["items"][0]["required"]
    # Then the deal keeps its value, but a new value must be one of the options now
    assert query_ok(client.get(url))["custom"] == {"tier": "silver"}
    refused(client, "PATCH", url, 422, json={"custom": {"tier": "silver"}})
    # and once the field is deleted, the deal answers without it (history keeps it)
    command_ok(client.delete("/custom-fields/opportunity/tier"))
    assert query_ok(client.get(url))["custom"] == {}
    assert query_ok(client.get(f"/history/{made['id']}"))[0]["data"]["custom"] == {"tier": "silver"}
