"""Pipelines that change, over HTTP: stages added, renamed, moved and removed (admin only),
a deal moved to another pipeline or given another account; refusals write nothing; and
the charts as of a position before a change answer exactly as before it."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.http.helpers import (
    JSON,
    command_ok,
    get_opportunity,
    log_position,
    make_account,
    make_opportunity,
    money,
    project,
    query_ok,
    refused,
    services_of,
)
from tests.identity import bearer, user_token

pytestmark = pytest.mark.users("alice")
DEMO: JSON = {"key": "demo", "name": "Demo", "probability": 40, "forecast_category": "pipeline"}
PARTNERS: JSON = {
    "name": "partners",
    "stages": [
        {"key": "registered", "name": "Registered", "probability": 20,
         "forecast_category": "pipeline"},
        {"key": "committed", "name": "Committed", "probability": 80,
         "forecast_category": "commit"},
        {"key": "won", "name": "Won", "probability": 100, "forecast_category": "closed",
         "closed": "won"},
        {"key": "lost", "name": "Lost", "probability": 0, "forecast_category": "omitted",
         "closed": "lost"},
        {"key": "unqualified", "name": "Unqualified", "probability": 0,
         "forecast_category": "omitted", "closed": "unqualified"},
    ],
}  # fmt: skip


def stages(client: TestClient, pipeline: str = "sales") -> list[tuple[str, str, int]]:
    answer = query_ok(client.get(f"/pipelines/{pipeline}"))
    return [(s["id"], s["name"], s["position"]) for s in answer["stages"]]


def chart(client: TestClient, **params: Any) -> JSON:
    answer: JSON = query_ok(client.get("/pipeline", params=params))
    return {k: v for k, v in answer.items() if k != "as_of"}


def stage_rows(client: TestClient, **params: Any) -> list[tuple[str, str, int, str]]:
    return [
        (s["stage"], s["name"], s["count"], s["amount"]) for s in chart(client, **params)["stages"]
    ]


def test_a_stage_is_added_renamed_and_moved_and_the_pipeline_answers_its_order(
    client: TestClient,
) -> None:
    # When a stage is added after qualification
    added = command_ok(
        client.post("/pipelines/sales/stages", json={**DEMO, "after": "qualification"})
    )
    # Then the pipeline answers it in its place, with positions from 1
    assert stages(client)[:4] == [
        ("initial_contact", "Initial contact", 1),
        ("qualification", "Qualification", 2),
        ("demo", "Demo", 3),
        ("proposal", "Proposal", 4),
    ]
    assert added["version"] == query_ok(client.get("/pipelines/sales"))["version"]
    # When it is renamed and moved first
    command_ok(
        client.patch("/pipelines/sales/stages/demo", json={"name": "Discovery", "position": 1})
    )
    # Then it is first, under its new name; the closed stages stay last
    order = stages(client)
    assert order[0] == ("demo", "Discovery", 1)
    assert [key for key, _, _ in order[-3:]] == ["won", "lost", "unqualified"]


def test_stage_changes_refused_write_nothing(client: TestClient) -> None:
    command_ok(client.post("/pipelines/sales/stages", json=DEMO))
    refused(client, "POST", "/pipelines/sales/stages", 409, "rule_violated", json=DEMO)
    refused(client, "POST", "/pipelines/nowhere/stages", 404, "not_found", json=DEMO)
    after_won = {**DEMO, "key": "pilot", "after": "won"}
    refused(client, "POST", "/pipelines/sales/stages", 409, "rule_violated", json=after_won)
    closed = {**DEMO, "key": "x", "forecast_category": "closed"}
    refused(client, "POST", "/pipelines/sales/stages", 422, json=closed)
    url = "/pipelines/sales/stages/proposal"
    refused(client, "PATCH", url, 422, json={})
    refused(client, "PATCH", url, 422, json={"position": 0})
    refused(client, "PATCH", url, 422, json={"name": None})
    refused(client, "PATCH", url, 409, "rule_violated", json={"position": 6})
    refused(client, "PATCH", "/pipelines/sales/stages/won", 409, json={"position": 1})
    refused(client, "PATCH", "/pipelines/sales/stages/nope", 404, json={"name": "Nope"})


def test_removing_a_stage_moves_its_deals_each_with_an_event(client: TestClient) -> None:
    # Given two open deals in proposal and one lost from it
    first = make_opportunity(client, stage="proposal", amount=money("1000.00"))
    second = make_opportunity(client, title="Second", stage="proposal", amount=money("500.00"))
    lost = make_opportunity(client, title="Gone", stage="proposal")
    command_ok(client.post(f"/opportunities/{lost}/lose", json={"reason": "budget"}))
    project(client)
    url = "/pipelines/sales/stages/proposal"
    # When it is removed without saying where its deals go, or to a stage that cannot take
    # them, Then it is refused and nothing is written
    refused(client, "DELETE", url, 409, "rule_violated")
    refused(client, "DELETE", url, 409, "rule_violated", params={"move_to": "won"})
    refused(client, "DELETE", url, 409, "rule_violated", params={"move_to": "proposal"})
    refused(client, "DELETE", url, 404, "not_found", params={"move_to": "nowhere"})
    refused(client, "DELETE", url, 422, params={"move_to": "not a key"})
    # When it is removed, its deals going to qualification
    command_ok(client.delete(url, params={"move_to": "qualification"}))
    # Then the open deals are in qualification, each moved by an event that says why
    for deal in (first, second):
        assert get_opportunity(client, deal)["stage"] == "qualification"
        history = query_ok(client.get(f"/history/{deal}"))
        assert history[-1]["type"] == "OpportunityMovedFromRemovedStage"
        assert history[-1]["data"]["previous_stage"] == "proposal"
    assert get_opportunity(client, lost)["status"] == "lost"
    assert "proposal" not in [key for key, _, _ in stages(client)]
    # and the removed stage is refused from now on
    refused(client, "DELETE", url, 404, "not_found", params={"move_to": "qualification"})
    refused(client, "POST", f"/opportunities/{first}/stage", 404, json={"stage": "proposal"})
    # and a lost deal from it reopens in an open stage
    reopened = command_ok(client.post(f"/opportunities/{lost}/reopen"))
    assert reopened and get_opportunity(client, lost)["stage"] == "negotiation"


def test_the_last_open_stage_stays(client: TestClient) -> None:
    body = {**PARTNERS, "stages": [PARTNERS["stages"][0], *PARTNERS["stages"][2:]]}
    command_ok(client.post("/pipelines", json=body), 201)
    project(client)
    refused(client, "DELETE", "/pipelines/partners/stages/registered", 409, "rule_violated")
    refused(client, "DELETE", "/pipelines/partners/stages/won", 409, "rule_violated")


def test_charts_as_of_before_a_change_keep_the_stages_of_their_time(
    any_client: TestClient,
) -> None:
    client = any_client  # on SQLite and on PostgreSQL
    # Given deals in proposal and negotiation, and the charts as they stand
    make_opportunity(client, stage="proposal", amount=money("1000.00"))
    make_opportunity(client, title="Two", stage="negotiation", amount=money("300.00"))
    before = project(client)
    old_pipeline = chart(client)
    old_forecast = query_ok(client.get("/forecast", params={"period": "quarter"}))["rows"]
    old_history = query_ok(client.get("/stage-history"))["stages"]
    # When stages are added, renamed, moved and removed
    command_ok(client.post("/pipelines/sales/stages", json={**DEMO, "after": "initial_contact"}))
    command_ok(client.patch("/pipelines/sales/stages/negotiation", json={"name": "Closing"}))
    command_ok(client.patch("/pipelines/sales/stages/negotiation", json={"position": 1}))
    project(client)
    command_ok(client.delete("/pipelines/sales/stages/proposal", params={"move_to": "demo"}))
    project(client)
    # Then as of the position before, every chart answers exactly as it did
    assert chart(client, as_of=before) == old_pipeline
    forecast = query_ok(client.get("/forecast", params={"period": "quarter", "as_of": before}))
    assert forecast["rows"] == old_forecast
    history = query_ok(client.get("/stage-history", params={"as_of": before}))
    assert history["stages"] == old_history
    # and now they have the new shape
    assert stage_rows(client) == [
        ("negotiation", "Closing", 1, "300.00"),
        ("initial_contact", "Initial contact", 0, "0.00"),
        ("demo", "Demo", 1, "1000.00"),
        ("qualification", "Qualification", 0, "0.00"),
    ]
    assert [s["stage"] for s in query_ok(client.get("/stage-history"))["stages"]] == [
        "negotiation",
        "initial_contact",
        "demo",
        "qualification",
        "won",
        "lost",
        "unqualified",
    ]


def test_a_deal_moves_to_another_pipeline_and_the_charts_follow(client: TestClient) -> None:
    command_ok(client.post("/pipelines", json=PARTNERS), 201)
    deal = make_opportunity(client, stage="proposal", amount=money("1000.00"))
    before = project(client)
    # When it moves to the partners pipeline
    moved = command_ok(
        client.post(f"/opportunities/{deal}/pipeline", json={"pipeline": "partners"})
    )
    project(client)
    # Then it is in its first open stage, with that stage's probability
    state = get_opportunity(client, deal)
    assert (state["stage"], state["probability"]) == ("registered", 20)
    assert query_ok(client.get(f"/history/{deal}"))[-1]["type"] == "OpportunityMovedToPipeline"
    assert moved["version"] == state["version"]
    # and the charts of both pipelines follow; as of before, the sales chart is as it was
    assert [s["count"] for s in chart(client, pipeline="partners")["stages"]] == [1, 0]
    assert sum(s["count"] for s in chart(client)["stages"]) == 0
    assert [s["count"] for s in chart(client, as_of=before)["stages"]] == [0, 0, 1, 0]
    # and a stage it does not have, a closed one, or an unknown pipeline are refused
    url = f"/opportunities/{deal}/pipeline"
    refused(client, "POST", url, 409, json={"pipeline": "sales", "stage": "won"})
    refused(client, "POST", url, 404, json={"pipeline": "sales", "stage": "nope"})
    refused(client, "POST", url, 404, json={"pipeline": "nowhere"})
    refused(client, "POST", url, 409, json={"pipeline": "partners"})
    refused(client, "POST", url, 422, json={"stage": "proposal"})


def test_a_deal_changes_account_and_the_charts_filtered_by_account_follow(
    client: TestClient,
) -> None:
    deal = make_opportunity(client, amount=money("700.00"))
    globex = make_account(client, "Globex")
    before = project(client)
    command_ok(client.patch(f"/opportunities/{deal}", json={"account_id": globex}))
    project(client)
    history = query_ok(client.get(f"/history/{deal}"))
    assert history[-1]["type"] == "OpportunityAccountChanged"
    assert history[-1]["data"]["account_id"] == globex
    assert chart(client, account=globex)["stages"][0]["count"] == 1
    assert chart(client, account=globex, as_of=before)["stages"][0]["count"] == 0
    unknown = "5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d"
    body = refused(
        client, "PATCH", f"/opportunities/{deal}", 404, json={"account_id": unknown, "title": "X"}
    )
    assert unknown in body["detail"]
    refused(client, "PATCH", f"/opportunities/{deal}", 422, json={"account_id": None})


def test_only_an_admin_changes_pipelines(client: TestClient) -> None:
    services = services_of(client)
    manager = bearer(user_token(services, "maria", "manager"))
    for method, url, kwargs in (
        ("POST", "/pipelines/sales/stages", {"json": DEMO}),
        ("PATCH", "/pipelines/sales/stages/proposal", {"json": {"name": "Offer"}}),
        ("DELETE", "/pipelines/sales/stages/proposal", {"params": {"move_to": "qualification"}}),
    ):
        before = log_position(client)
        refused(client, method, url, 403, "forbidden", headers=manager, **kwargs)
        assert log_position(client) == before


def test_a_removal_repeated_with_its_key_is_answered_once_and_another_move_to_is_refused(
    client: TestClient,
) -> None:
    make_opportunity(client, stage="proposal")
    project(client)
    url = "/pipelines/sales/stages/proposal"
    key = {"Idempotency-Key": "remove-proposal"}
    first = command_ok(client.delete(url, params={"move_to": "qualification"}, headers=key))
    again = client.delete(url, params={"move_to": "qualification"}, headers=key)
    assert again.json() == first and again.headers["Idempotent-Replayed"] == "true"
    refused(client, "DELETE", url, 409, "idempotency_key_reused", params={"move_to": "demo"},
            headers=key)  # fmt: skip


def test_a_baseline_compared_after_a_move_to_another_pipeline_counts_it_pushed_out(
    client: TestClient,
) -> None:
    # Given a baseline of the sales pipeline with two deals, and a stage removed since
    command_ok(client.post("/pipelines", json=PARTNERS), 201)
    leaving = make_opportunity(client, stage="proposal", amount=money("1000.00"))
    make_opportunity(client, title="Stays", stage="qualification", amount=money("200.00"))
    project(client)
    body = {"name": "plan", "chart": "pipeline", "params": {"pipeline": "sales"}}
    baseline = command_ok(client.post("/baselines", json=body), 201)
    # When one deal moves to the partners pipeline and proposal is removed
    command_ok(client.post(f"/opportunities/{leaving}/pipeline", json={"pipeline": "partners"}))
    project(client)
    command_ok(client.delete("/pipelines/sales/stages/proposal", params={"move_to": "negotiation"}))
    project(client)
    # Then the comparison counts the move as pushed out, and the rows keep the removed stage
    answer = query_ok(client.get(f"/baselines/{baseline['id']}/compare", params={"with": "now"}))
    waterfall = answer["waterfall"]
    assert (waterfall["start"], waterfall["pushed_out"], waterfall["end"]) == (
        "1200.00",
        "1000.00",
        "200.00",
    )
    assert waterfall["counts"]["pushed_out"] == 1
    rows = {row["stage"]: row for row in answer["rows"]}
    assert (rows["proposal"]["then"]["count"], rows["proposal"]["now"]["count"]) == (1, 0)
    # and the baseline still verifies: a replay to its position gives the stages of then
    verified = query_ok(client.get(f"/baselines/{baseline['id']}/verify"))
    assert verified["verified"] is True
