"""Lists, summaries, charts and baselines answer over what the caller may see, as real
users with real tokens: a rep their own records, a manager also their team's, a partner
user their partner's deals, the reading roles everything."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.http.helpers import project, services_of
from tests.http.test_authorization import Team
from tests.identity import bearer, user_token


def _stage_counts(chart: dict[str, Any]) -> dict[str, int]:
    return {row["stage"]: row["count"] for row in chart["stages"] if row["count"]}


def _get(client: TestClient, path: str, who: dict[str, str], **params: Any) -> Any:
    answer = client.get(path, headers=who, params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_each_user_charts_the_deals_they_may_see(client: TestClient) -> None:
    # Given alice's and dave's deals, and bob's deal made private and shared with alice
    team = Team(client)
    made = client.post(
        "/opportunities",
        json={
            "title": "bob's",
            "owner": "bob",
            "expected_close": "2027-06-30",
            "account_name": "ACME",
            "amount": {"amount": "300.00", "currency": "EUR"},
            "private": True,
            "shared_with": ["alice"],
        },
    )
    assert made.status_code == 201, made.text
    project(client)
    analyst = bearer(user_token(services_of(client), "ana", "analyst"))
    # When each asks for the pipeline
    counts = {
        who: sum(_stage_counts(_get(client, "/pipeline", headers)).values())
        for who, headers in (
            ("alice", team.alice),
            ("maria", team.maria),
            ("tom", team.tom),
            ("bob", team.bob),
            ("ana", analyst),
        )
    }
    # Then alice counts hers and the one shared with her; maria her team's (not bob's
    # private one); tom dave's; bob his own; the analyst all three
    assert counts == {"alice": 2, "maria": 1, "tom": 1, "bob": 1, "ana": 3}
    # The forecast is scoped the same way: alice's rows name only her and bob
    forecast = _get(client, "/forecast", team.alice)
    assert {row["owner"] for row in forecast["rows"]} == {"alice", "bob"}
    # and so is the stage history (no visit of dave's deal counts for alice)
    assert _get(client, "/stage-history", team.tom)["won"] == 0


def test_a_rep_lists_their_leads_and_the_free_pool(client: TestClient) -> None:
    team = Team(client)
    project(client)
    ids = {lead["id"] for lead in _get(client, "/leads", team.bob)["items"]}
    assert ids == {team.pool_lead}  # bob owns none: the pool's only
    ids = {lead["id"] for lead in _get(client, "/leads", team.tom)["items"]}
    assert ids == {team.pool_lead, team.daves_lead}  # tom: dave's and the pool's
    summary = _get(client, "/leads/summary", team.bob, by="owner")
    assert summary["rows"] == [{"owner": None, "count": 1}]


def test_a_baseline_keeps_its_takers_scope_and_is_seen_only_within_it(
    client: TestClient,
) -> None:
    team = Team(client)
    project(client)
    taken = client.post(
        "/baselines", json={"name": "mine", "chart": "pipeline"}, headers=team.alice
    )
    assert taken.status_code == 201, taken.text
    baseline = str(taken.json()["id"])
    project(client)
    # Its chart counts alice's deal only, and its parameters say whose scope it keeps
    stored = _get(client, f"/baselines/{baseline}", team.alice)
    assert stored["params"]["scope.login"] == "alice"
    assert sum(row["count"] for row in stored["rows"]["stages"]) == 1
    # It verifies, and compares with now over the same scope
    assert _get(client, f"/baselines/{baseline}/verify", team.alice)["verified"] is True
    compared = _get(client, f"/baselines/{baseline}/compare", team.alice)
    assert compared["waterfall"]["counts"]["start"] == compared["waterfall"]["counts"]["end"] == 1
    # alice's manager sees it, bob does not (not even in the list)
    assert client.get(f"/baselines/{baseline}", headers=team.maria).status_code == 200
    assert client.get(f"/baselines/{baseline}", headers=team.bob).status_code == 404
    listed = _get(client, "/baselines", team.bob)["baselines"]
    assert baseline not in {b["id"] for b in listed}
    # A baseline's parameters cannot be given a scope from outside
    forged = client.post(
        "/baselines",
        json={"name": "forged", "chart": "pipeline", "params": {"scope.login": "tom"}},
        headers=team.bob,
    )
    assert forged.status_code == 422, forged.text


def test_contracts_are_listed_and_summed_for_their_owners_scope(client: TestClient) -> None:
    # Given a deal of alice's and one of dave's, each sold with one item
    team = Team(client)
    for deal in (team.alices, team.daves):
        quote = client.post(f"/opportunities/{deal}/quotes", json={"name": "Q", "currency": "EUR"})
        quote_id = quote.json()["quote_id"]
        item = {"name": "Setup", "quantity": "1", "unit_price": "100.00"}
        assert client.post(f"/quotes/{quote_id}/items", json=item).status_code == 201
        assert client.post(f"/quotes/{quote_id}/activate").is_success
        assert client.post(f"/opportunities/{deal}/sell", json={}).is_success
    services_of(client).contracts_process().catch_up()
    project(client)
    # Then each sees their own contract; a manager their team's; an analyst both
    owners = {
        who: sorted(c["owner"] for c in _get(client, "/contracts", headers)["items"])
        for who, headers in (("alice", team.alice), ("maria", team.maria), ("bob", team.bob))
    }
    assert owners == {"alice": ["alice"], "maria": ["alice"], "bob": []}
    analyst = bearer(user_token(services_of(client), "ana", "analyst"))
    assert len(_get(client, "/contracts", analyst)["items"]) == 2
    summary = _get(client, "/contracts/summary", team.tom, by="category")
    assert sum(row["count"] for row in summary["rows"]) == 1
