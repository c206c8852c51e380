"""Who may run which command route: one table of rights (``commands.authorization``),
checked here route by route and role by role, as real users with real tokens.

The matrix covers every command route of the OpenAPI document: a route this table does
not name fails the test, so a new route cannot come without a declared right. The
answer is 403 ``forbidden`` exactly when the role may not run the route's command, and
then nothing is written.
"""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID, uuid4

import pytest
from fastapi.testclient import TestClient

from adapters.bootstrap import Services
from adapters.http.api_docs import body_models, command_routes, example_of
from commands.authorization import RIGHTS
from commands.handlers import all_handlers
from domain.access import Right
from domain.ids import account_id_for
from domain.user import ROLES
from tests.http.helpers import project, services_of
from tests.identity import bearer, user_token

PARTNER = UUID("2f1c7a52-0d4e-4b7a-9c1e-5a6b7c8d9e01")

# Every command route and the right its command needs.
ROUTE_RIGHTS: dict[tuple[str, str], Right] = {
    **dict.fromkeys(
        [
            ("POST", "/users"),
            ("PATCH", "/users/{login}"),
            ("POST", "/users/{login}/deactivate"),
            ("POST", "/products"),
            ("POST", "/products/{product_id}/deactivate"),
            ("POST", "/products/{product_id}/reactivate"),
            ("POST", "/price-books"),
            ("POST", "/price-books/{price_book_id}/prices"),
            ("POST", "/price-books/{price_book_id}/deactivate"),
            ("POST", "/bundles"),
            ("POST", "/exchange-rates"),
            ("POST", "/pipelines"),
            ("POST", "/pipelines/{pipeline}/stages/{stage}"),
            ("POST", "/pipelines/{pipeline}/stages"),
            ("PATCH", "/pipelines/{pipeline}/stages/{stage}"),
            ("DELETE", "/pipelines/{pipeline}/stages/{stage}"),
            ("POST", "/targets"),
            ("POST", "/lead-rules"),
            ("DELETE", "/lead-rules/{rule_id}"),
            ("POST", "/custom-fields"),
            ("PATCH", "/custom-fields/{entity}/{key}"),
            ("DELETE", "/custom-fields/{entity}/{key}"),
            ("POST", "/webhooks"),
            ("DELETE", "/webhooks/{webhook_id}"),
            ("POST", "/webhooks/{webhook_id}/enable"),
            ("POST", "/automations"),
            ("POST", "/automations/{automation_id}/disable"),
            ("POST", "/automations/{automation_id}/enable"),
            ("DELETE", "/automations/{automation_id}"),
        ],
        "settings",
    ),
    **dict.fromkeys(
        [("POST", "/users/{login}/tokens"), ("DELETE", "/users/{login}/tokens")], "own"
    ),
    **dict.fromkeys(
        [
            ("PATCH", "/opportunities/{opportunity_id}"),
            ("POST", "/opportunities/{opportunity_id}/stage"),
            ("POST", "/opportunities/{opportunity_id}/pipeline"),
            ("POST", "/opportunities/{opportunity_id}/activities"),
            ("PATCH", "/opportunities/{opportunity_id}/activities/{activity_id}"),
            ("DELETE", "/opportunities/{opportunity_id}/activities/{activity_id}"),
            ("PATCH", "/leads/{lead_id}"),
            ("POST", "/leads/{lead_id}/activities"),
            ("PATCH", "/leads/{lead_id}/activities/{activity_id}"),
            ("DELETE", "/leads/{lead_id}/activities/{activity_id}"),
        ],
        "partner",
    ),
    **dict.fromkeys(
        [
            ("POST", "/accounts"),
            ("PATCH", "/accounts/{account_id}"),
            ("POST", "/accounts/{account_id}/merge"),
            ("POST", "/opportunities"),
            ("DELETE", "/opportunities/{opportunity_id}"),
            ("POST", "/opportunities/{opportunity_id}/partner"),
            ("POST", "/opportunities/{opportunity_id}/roles"),
            ("DELETE", "/opportunities/{opportunity_id}/roles/{role_id}"),
            ("POST", "/opportunities/{opportunity_id}/quotes"),
            ("POST", "/opportunities/{opportunity_id}/sell"),
            ("POST", "/opportunities/{opportunity_id}/unlock"),
            ("POST", "/opportunities/{opportunity_id}/lose"),
            ("POST", "/opportunities/{opportunity_id}/unqualified"),
            ("POST", "/opportunities/{opportunity_id}/reopen"),
            ("POST", "/opportunities/{opportunity_id}/copy"),
            ("PATCH", "/quotes/{quote_id}"),
            ("DELETE", "/quotes/{quote_id}"),
            ("POST", "/quotes/{quote_id}/items"),
            ("PATCH", "/quotes/{quote_id}/items/{item_id}"),
            ("DELETE", "/quotes/{quote_id}/items/{item_id}"),
            ("PUT", "/quotes/{quote_id}/rounding"),
            ("POST", "/quotes/{quote_id}/activate"),
            ("POST", "/quotes/{quote_id}/deactivate"),
            ("POST", "/quotes/{quote_id}/duplicate"),
            ("POST", "/quotes/{quote_id}/currency"),
            ("POST", "/quotes/{quote_id}/offer"),
            ("POST", "/leads"),
            ("POST", "/campaigns"),
            ("POST", "/campaigns/{campaign_id}/archive"),
            ("POST", "/baselines"),
            ("DELETE", "/baselines/{baseline_id}"),
            ("POST", "/contracts/{contract_id}/cancel"),
            ("POST", "/contracts/{contract_id}/fulfil"),
            ("POST", "/lead-intake"),
            ("POST", "/leads/{lead_id}/assign"),
            ("POST", "/leads/{lead_id}/split"),
            ("POST", "/leads/{lead_id}/account"),
            ("POST", "/leads/{lead_id}/partner"),
            ("POST", "/leads/{lead_id}/qualify"),
            ("POST", "/leads/{lead_id}/disqualify"),
            ("POST", "/leads/{lead_id}/archive"),
            ("POST", "/leads/{lead_id}/unarchive"),
            ("POST", "/leads/{lead_id}/anonymize"),
            ("POST", "/contacts"),
            ("PATCH", "/contacts/{contact_id}"),
            ("POST", "/contacts/{contact_id}/anonymize"),
            ("POST", "/tasks"),
            ("PATCH", "/tasks/{task_id}"),
            ("POST", "/tasks/{task_id}/complete"),
            ("POST", "/tasks/{task_id}/reopen"),
        ],
        "work",
    ),
    ("POST", "/notifications/{notification_id}/read"): "recipient",
}
# Which roles each right lets through (the rules of domain/access.py, written out).
ALLOWED: dict[Right, set[str]] = {
    "settings": {"admin"},
    "work": {"admin", "manager", "rep"},
    "partner": {"admin", "manager", "rep", "partner"},
    "own": {"admin"},  # the routes below are called about the admin's tokens
    "system": set(),
    "recipient": set(ROLES),
}


def _url(path: str) -> str:
    url = path.replace("{pipeline}", "sales").replace("{stage}", "proposal")
    url = url.replace("{login}", "admin")
    url = url.replace("{entity}", "opportunity").replace("{key}", "budget")
    return re.sub(r"\{\w+\}", lambda _: str(uuid4()), url)


def _as(services: Services, role: str) -> dict[str, str]:
    extra: dict[str, Any] = {"partner_id": PARTNER} if role == "partner" else {}
    return bearer(user_token(services, f"the.{role}", role, **extra))


def test_every_command_the_bus_runs_has_a_right() -> None:
    assert set(RIGHTS) == set(all_handlers())


def test_the_table_names_every_command_route_of_the_document(client: TestClient) -> None:
    routes = {(m, p) for m, p, _ in command_routes(client.get("/openapi.json").json())}
    assert routes == set(ROUTE_RIGHTS)


@pytest.mark.parametrize("role", ROLES)
def test_a_role_is_refused_exactly_the_routes_its_rights_do_not_cover(
    client: TestClient, role: str
) -> None:
    # Given a user of the role, and the admin's token the client carries (made first)
    services = services_of(client)
    headers = _as(services, role)
    models = body_models()
    document = client.get("/openapi.json").json()
    wrong: list[str] = []
    for method, path, operation in command_routes(document):
        body_ref = operation.get("requestBody")
        example = None
        if body_ref is not None:
            schema = body_ref["content"]["application/json"]["schema"]
            ref = next(s for s in schema.get("anyOf", [schema]) if "$ref" in s)["$ref"]
            example = example_of(models[ref.rsplit("/", 1)[-1]])
            if isinstance(example, dict) and "owner" in example:
                # one makes records for oneself (for others: the test below)
                example = {**example, "owner": f"the.{role}"}
        before = services.store.max_position()
        # When the role calls the route with a valid body (ids in paths made up)
        answer = client.request(method, _url(path), json=example, headers=headers)
        # Then it is forbidden exactly when its rights do not cover the route
        forbidden = role not in ALLOWED[ROUTE_RIGHTS[(method, path)]]
        if (answer.status_code == 403) != forbidden:
            wrong.append(f"{method} {path}: {answer.status_code} {answer.text[:120]}")
        if forbidden:
            assert answer.json()["error"] == "forbidden"
            assert services.store.max_position() == before, (method, path)
    assert wrong == []


def test_a_user_may_make_and_revoke_their_own_tokens_only(client: TestClient) -> None:
    services = services_of(client)
    alice = _as(services, "rep")
    assert client.post("/users/the.rep/tokens", json={}, headers=alice).status_code == 201
    assert client.delete("/users/the.rep/tokens", headers=alice).status_code == 200
    bob = bearer(user_token(services, "bob", "rep"))
    refused = client.post("/users/the.rep/tokens", json={}, headers=bob)
    assert (refused.status_code, refused.json()["error"]) == (403, "forbidden")
    assert refused.json()["detail"] == "a rep may not issue api token."


@pytest.mark.users("alice")
def test_a_partner_works_only_their_partners_records(client: TestClient) -> None:
    # Given an opportunity of the partner and one of nobody's partner (made by the admin)
    def deal(title: str) -> str:
        body = {"title": title, "owner": "alice", "expected_close": "2027-06-30"}
        made = client.post("/opportunities", json={**body, "account_name": "ACME"})
        assert made.status_code == 201, made.text
        return str(made.json()["id"])

    assert client.post("/accounts", json={"name": "Partner Co", "partner": True}).is_success
    ours, other = deal("Ours"), deal("Other")
    partner_id = str(account_id_for("Partner Co"))
    assert client.post(f"/opportunities/{ours}/partner", json={"partner_id": partner_id}).is_success
    partner = bearer(user_token(services_of(client), "pat", "partner", partner_id=UUID(partner_id)))
    # When the partner moves each to another stage
    moved = client.post(f"/opportunities/{ours}/stage", json={"stage": "proposal"}, headers=partner)
    hidden = client.post(
        f"/opportunities/{other}/stage", json={"stage": "proposal"}, headers=partner
    )
    # Then theirs moves, and the other is, for them, not there at all
    assert moved.status_code == 200, moved.text
    assert hidden.status_code == 404
    assert hidden.json() == {
        "error": "not_found",
        "detail": f"there is no opportunity with id {other}.",
    }
    # and selling is not a partner's to do, even on their own deal
    sold = client.post(f"/opportunities/{ours}/sell", headers=partner)
    assert (sold.status_code, sold.json()["error"]) == (403, "forbidden")


class Team:
    """maria manages alice; tom manages dave; bob answers to no one. A deal of alice's and
    one of dave's, a quote on dave's, a lead of dave's and one of the free pool."""

    def __init__(self, client: TestClient) -> None:
        services = services_of(client)
        self.client = client
        for login, role, manager in (
            ("maria", "manager", None),
            ("tom", "manager", None),
            ("alice", "rep", "maria"),
            ("dave", "rep", "tom"),
            ("bob", "rep", None),
        ):
            self.__dict__[login] = bearer(user_token(services, login, role, manager=manager))
        self.alices = self._deal("alice")
        self.daves = self._deal("dave")
        quote = client.post(
            f"/opportunities/{self.daves}/quotes", json={"name": "Q", "currency": "EUR"}
        )
        self.daves_quote = str(quote.json()["quote_id"])
        self.daves_lead = self._lead("dave")
        self.pool_lead = self._lead(None)
        project(client)  # the users read model knows the teams

    def _deal(self, owner: str) -> str:
        body = {"title": f"{owner}'s", "owner": owner, "expected_close": "2027-06-30"}
        made = self.client.post("/opportunities", json={**body, "account_name": "ACME"})
        assert made.status_code == 201, made.text
        return str(made.json()["id"])

    def _lead(self, owner: str | None) -> str:
        made = self.client.post(
            "/leads", json={"first_name": "Ada", "last_name": "L", "owner": owner}
        )
        assert made.status_code == 201, made.text
        return str(made.json()["id"])

    def move(self, who: dict[str, str], deal: str, stage: str = "proposal") -> Any:
        return self.client.post(f"/opportunities/{deal}/stage", json={"stage": stage}, headers=who)


def assert_hidden(answer: Any, kind: str, record_id: str) -> None:
    """Refused exactly as an unknown id would be."""
    assert answer.status_code == 404, answer.text
    assert answer.json() == {
        "error": "not_found",
        "detail": f"there is no {kind} with id {record_id}.",
    }


def test_a_rep_changes_their_own_deals_and_a_manager_their_teams(client: TestClient) -> None:
    team = Team(client)
    before = services_of(client).store.max_position()
    # A rep: their own deal, not another's (for them it is not there)
    assert team.move(team.alice, team.alices).status_code == 200
    assert_hidden(team.move(team.alice, team.daves), "opportunity", team.daves)
    # A manager: their team's deal, not another team's
    assert team.move(team.maria, team.alices, "negotiation").status_code == 200
    assert_hidden(team.move(team.maria, team.daves), "opportunity", team.daves)
    assert team.move(team.tom, team.daves).status_code == 200
    # A quote is its deal's: hidden with it, refused as the quote
    item = {"name": "Support", "quantity": "1", "unit_price": "10.00", "kind": "one_off"}
    hidden = client.post(f"/quotes/{team.daves_quote}/items", json=item, headers=team.alice)
    assert_hidden(hidden, "quote", team.daves_quote)
    # and the refusals wrote nothing (only the three moves that were allowed)
    assert services_of(client).store.max_position() == before + 3


def test_a_rep_works_the_leads_of_the_free_pool_and_their_own(client: TestClient) -> None:
    team = Team(client)
    activity = {"kind": "call", "subject": "First call", "occurred_at": "2027-01-04T10:00:00Z"}
    pool = client.post(f"/leads/{team.pool_lead}/activities", json=activity, headers=team.bob)
    assert pool.status_code == 200, pool.text
    hidden = client.post(f"/leads/{team.daves_lead}/activities", json=activity, headers=team.bob)
    assert_hidden(hidden, "lead", team.daves_lead)
    own = client.post(f"/leads/{team.daves_lead}/activities", json=activity, headers=team.dave)
    assert own.status_code == 200, own.text


def test_a_record_one_may_not_see_reads_as_an_unknown_one(client: TestClient) -> None:
    team = Team(client)
    analyst = bearer(user_token(services_of(client), "ana", "analyst"))

    def read(who: dict[str, str], path: str) -> Any:
        return client.get(path, headers=who)

    # A rep reads their own deal, not another's; a manager their team's
    assert read(team.alice, f"/opportunities/{team.alices}").status_code == 200
    assert_hidden(read(team.alice, f"/opportunities/{team.daves}"), "opportunity", team.daves)
    assert read(team.maria, f"/opportunities/{team.alices}").status_code == 200
    assert_hidden(read(team.maria, f"/opportunities/{team.daves}"), "opportunity", team.daves)
    # a quote goes with its deal; leads: their own and the free pool's
    assert_hidden(read(team.alice, f"/quotes/{team.daves_quote}"), "quote", team.daves_quote)
    assert read(team.dave, f"/quotes/{team.daves_quote}").status_code == 200
    # and so does an offer made of that quote
    item = {"name": "Setup", "quantity": "1", "unit_price": "100.00"}
    assert client.post(f"/quotes/{team.daves_quote}/items", json=item).status_code == 201
    offer = client.post(f"/quotes/{team.daves_quote}/offer", json={})
    assert offer.status_code in (200, 201), offer.text
    document = str(offer.json()["document_id"])
    assert read(team.dave, f"/documents/{document}").status_code == 200
    assert_hidden(read(team.alice, f"/documents/{document}"), "document", document)
    assert_hidden(read(team.bob, f"/leads/{team.daves_lead}"), "lead", team.daves_lead)
    assert read(team.bob, f"/leads/{team.pool_lead}").status_code == 200
    # and a hidden record has no history, as an unknown id has none
    hidden = read(team.alice, f"/history/{team.daves}")
    unknown_id = uuid4()
    unknown = read(team.alice, f"/history/{unknown_id}")
    assert hidden.status_code == unknown.status_code == 404
    assert hidden.json()["detail"] == unknown.json()["detail"].replace(str(unknown_id), team.daves)
    # An analyst reads every record
    for path in (
        f"/opportunities/{team.daves}",
        f"/leads/{team.daves_lead}",
        f"/quotes/{team.daves_quote}",
    ):
        assert read(analyst, path).status_code == 200, path


def test_a_rep_makes_records_for_themselves_and_a_manager_for_their_team(
    client: TestClient,
) -> None:
    team = Team(client)
    before = services_of(client).store.max_position()

    def deal(who: dict[str, str], owner: str) -> Any:
        body = {"title": "New", "owner": owner, "expected_close": "2027-06-30"}
        return client.post("/opportunities", json={**body, "account_name": "ACME"}, headers=who)

    # A rep may not make a deal for someone else (and nothing is written)
    refused = deal(team.alice, "dave")
    assert (refused.status_code, refused.json()["error"]) == (403, "forbidden")
    assert refused.json()["detail"] == "a rep may not make a record for 'dave'."
    assert services_of(client).store.max_position() == before
    # for themselves, yes; a manager for their team, not for another team
    assert deal(team.alice, "alice").status_code == 201
    assert deal(team.maria, "alice").status_code == 201
    assert deal(team.maria, "dave").status_code == 403
    # and a rep may put a lead in the free pool
    pool = client.post("/leads", json={"first_name": "A", "last_name": "B"}, headers=team.bob)
    assert pool.status_code == 201, pool.text
