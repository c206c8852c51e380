"""Automations over HTTP, as real users with real tokens: an admin defines, lists,
disables, enables and deletes them (anyone else: 403, nothing written); a definition the
schema or the domain refuses is a 422 with a sentence; what the process did shows in the
list (runs, the last chain stop)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from adapters.automations_runner import automations_process
from tests.http.helpers import (
    JSON,
    command_ok,
    log_position,
    opportunity_body,
    query_ok,
    refused,
    services_of,
)
from tests.identity import bearer, user_token

pytestmark = pytest.mark.users("alice", "bob")

PROPOSAL = {
    "name": "Proposal follow-up",
    "trigger": {"on": "opportunity.stage_entered", "stage": "proposal", "pipeline": "sales"},
    "actions": [
        {"create_task": {"title": "Call", "due_in_days": 3, "assignee": "owner"}},
        {"notify": "bob", "text": "A proposal went out."},
        {"set_field": {"field": "probability", "value": 60}},
        {"assign": "bob"},
    ],
}


def listed(client: TestClient) -> list[JSON]:
    items = query_ok(client.get("/automations"))["items"]
    assert isinstance(items, list)
    return items


def test_an_admin_defines_lists_disables_enables_and_deletes(client: TestClient) -> None:
    # When an admin defines one
    made = command_ok(client.post("/automations", json=PROPOSAL), 201)
    # Then it is listed, enabled, as defined (its pipeline by id), not run yet
    [shown] = listed(client)
    assert shown["id"] == made["id"] and shown["status"] == "enabled"
    assert shown["trigger"]["stage"] == "proposal" and shown["trigger"]["pipeline"]
    assert shown["actions"] == PROPOSAL["actions"]
    assert (shown["runs"], shown["last_run"], shown["last_chain_stop"]) == (0, None, None)
    # And disabled, enabled, deleted: each once
    url = f"/automations/{made['id']}"
    command_ok(client.post(f"{url}/disable"))
    assert listed(client)[0]["status"] == "disabled"
    refused(client, "POST", f"{url}/disable", 409, "rule_violated")
    command_ok(client.post(f"{url}/enable"))
    assert listed(client)[0]["status"] == "enabled"
    command_ok(client.delete(url))
    assert listed(client) == []
    refused(client, "POST", f"{url}/enable", 404, "not_found")


def test_what_the_process_did_shows_in_the_list(client: TestClient) -> None:
    command_ok(client.post("/automations", json=PROPOSAL), 201)
    deal = command_ok(client.post("/opportunities", json=opportunity_body(owner="alice")), 201)
    command_ok(client.post(f"/opportunities/{deal['id']}/stage", json={"stage": "proposal"}))
    automations_process(services_of(client)).catch_up()
    [shown] = listed(client)
    assert shown["runs"] == 1 and shown["last_run"]["refused"] is None
    assert shown["last_run"]["depth"] == 0


@pytest.mark.parametrize(
    ("change", "sentence"),
    [
        ({"trigger": {"on": "opportunity.idle", "days": 0}}, "days"),
        ({"trigger": {"on": "opportunity.soon"}}, "trigger"),
        ({"actions": []}, "actions"),
        ({"actions": [{"assign": "bob", "notify": "bob"}]}, "actions"),
        ({"actions": [{"set_field": {"field": "probability", "value": 101}}]}, "probability"),
        (
            {"trigger": {"on": "lead.created", "conditions": [{"field": "email", "equals": "x"}]}},
            "field",
        ),
    ],
)
def test_a_bad_definition_is_refused_with_a_sentence_writing_nothing(
    client: TestClient, change: dict[str, Any], sentence: str
) -> None:
    before = log_position(client)
    body = refused(client, "POST", "/automations", 422, json={**PROPOSAL, **change})
    assert sentence in body["detail"]
    assert log_position(client) == before


@pytest.mark.parametrize(
    ("change", "sentence"),
    [
        (
            {
                "trigger": {
                    "on": "opportunity.stage_entered",
                    "stage": "nowhere",
                    "pipeline": "sales",
                }
            },
            "no stage 'nowhere'",
        ),
        ({"actions": [{"set_field": {"field": "budget", "value": 1}}]}, "no field 'budget'"),
    ],
)
def test_a_stage_or_field_no_definition_has_is_unknown_writing_nothing(
    client: TestClient, change: dict[str, Any], sentence: str
) -> None:
    # (a stage's or a custom field's key names a definition, as an id names a record)
    before = log_position(client)
    body = refused(client, "POST", "/automations", 404, "not_found", json={**PROPOSAL, **change})
    assert sentence in body["detail"]
    assert log_position(client) == before


def test_a_login_that_is_no_active_user_is_refused_as_the_user_rules_say(
    client: TestClient,
) -> None:
    for action in ({"assign": "nobody"}, {"notify": "ghost", "text": "x"}):
        body = refused(
            client,
            "POST",
            "/automations",
            409,
            "invalid_user",
            json={**PROPOSAL, "actions": [action]},
        )
        assert "is not a user" in body["detail"]


@pytest.mark.parametrize("role", ["rep", "manager", "analyst", "auditor"])
def test_only_an_admin_may(client: TestClient, role: str) -> None:
    made = command_ok(client.post("/automations", json=PROPOSAL), 201)
    headers = bearer(user_token(services_of(client), f"someone-{role}", role))
    before = log_position(client)
    refused(client, "POST", "/automations", 403, "forbidden", json=PROPOSAL, headers=headers)
    refused(client, "GET", "/automations", 403, "forbidden", headers=headers)
    refused(client, "POST", f"/automations/{made['id']}/disable", 403, "forbidden", headers=headers)
    refused(client, "DELETE", f"/automations/{made['id']}", 403, "forbidden", headers=headers)
    assert log_position(client) == before
