"""Who may make which read: every GET route names its read, one table gives each read its
right (``commands/read_rights.py``), checked route by route and role by role with real
tokens.

With ``ROUTE_RIGHTS`` (the command routes, ``test_authorization.py``) the tables below name
every route of the OpenAPI document: a new route without a declared right fails here, and
a GET route that names no read keeps the app from being built at all.
"""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID, uuid4

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient

from adapters.bootstrap import Services
from adapters.http import app as app_module
from adapters.http.app import ROUTERS, create_app
from adapters.http.reading import declared_read, reads
from commands.authorization import READS
from domain.access import ReadRight
from domain.ids import account_id_for
from domain.user import ROLES
from tests.http.helpers import services_of
from tests.http.test_authorization import ROUTE_RIGHTS, Team, assert_hidden
from tests.identity import bearer, user_token

PARTNER = UUID("2f1c7a52-0d4e-4b7a-9c1e-5a6b7c8d9e01")
# Answered without a token.
PUBLIC = {("GET", "/health")}

# Every read route and the right its read needs.
READ_ROUTES: dict[tuple[str, str], ReadRight] = {
    ("GET", "/automations"): "settings",
    **dict.fromkeys(
        [
            ("GET", "/me"),
            ("GET", "/users"),
            ("GET", "/users/{login}"),
            ("GET", "/products/{product_id}"),
            ("GET", "/price-books/{price_book_id}"),
            ("GET", "/bundles/{bundle_id}"),
            ("GET", "/exchange-rates"),
            ("GET", "/pipelines/{pipeline}"),
            ("GET", "/accounts"),
            ("GET", "/accounts/{account_id}"),
            ("GET", "/opportunities"),
            ("GET", "/opportunities/{opportunity_id}"),
            ("GET", "/quotes"),
            ("GET", "/quotes/{quote_id}"),
            ("GET", "/documents/{document_id}"),
            ("GET", "/leads"),
            ("GET", "/leads/summary"),
            ("GET", "/leads/{lead_id}"),
            ("GET", "/contacts"),
            ("GET", "/contacts/{contact_id}"),
            ("GET", "/custom-fields"),
            ("GET", "/lead-rules"),
            ("GET", "/campaigns"),
            ("GET", "/campaigns/report"),
            ("GET", "/campaigns/{campaign_id}"),
            ("GET", "/pipeline"),
            ("GET", "/pipeline/board"),
            ("GET", "/forecast"),
            ("GET", "/stage-history"),
            ("GET", "/baselines"),
            ("GET", "/baselines/{baseline_id}"),
            ("GET", "/baselines/{baseline_id}/compare"),
            ("GET", "/baselines/{baseline_id}/verify"),
            ("GET", "/read-models/status"),
            ("GET", "/contracts"),
            ("GET", "/contracts/summary"),
            ("GET", "/contracts/{contract_id}"),
            ("GET", "/tasks"),
            ("GET", "/tasks/{task_id}"),
            ("GET", "/notifications"),
        ],
        "read",
    ),
    ("GET", "/history/{aggregate_id}"): "history",
    ("GET", "/audit/access"): "audit",
    ("GET", "/audit/actions"): "audit",
    ("GET", "/audit/visibility/{record_id}"): "audit",
    ("GET", "/webhooks"): "settings",
    ("GET", "/webhooks/{webhook_id}/deliveries"): "settings",
}
# Which roles each right lets through (the rules of domain/access.py, written out).
ALLOWED: dict[ReadRight, set[str]] = {
    "read": set(ROLES),
    "history": set(ROLES) - {"analyst"},
    "audit": {"admin", "auditor"},
    "settings": {"admin"},
}
# Query parameters a route needs to be answered at all.
QUERIES: dict[str, dict[str, str]] = {
    "/audit/access": {"record": str(uuid4())},
    "/audit/actions": {"by": "admin"},
}


def _url(path: str) -> str:
    url = path.replace("{pipeline}", "sales").replace("{login}", "admin")
    return re.sub(r"\{\w+\}", lambda _: str(uuid4()), url)


def _as(services: Services, role: str) -> dict[str, str]:
    extra: dict[str, Any] = {"partner_id": PARTNER} if role == "partner" else {}
    return bearer(user_token(services, f"the.{role}", role, **extra))


def _read_routes(client: TestClient) -> list[str]:
    document = client.get("/openapi.json").json()
    return [path for path, operations in document["paths"].items() if "get" in operations]


def test_the_tables_name_every_route_of_the_document(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    routes = {(m.upper(), p) for p, operations in document["paths"].items() for m in operations}
    assert routes - PUBLIC == set(ROUTE_RIGHTS) | set(READ_ROUTES)


def test_every_read_route_names_a_read_whose_right_is_the_tables() -> None:
    declared = {
        ("GET", route.path): declared_read(route)
        for router in ROUTERS
        for route in router.routes
        if "GET" in getattr(route, "methods", ())
    }
    assert {route: READS[read or ""] for route, read in declared.items()} == READ_ROUTES
    # and no read of the table is left without a route
    assert set(declared.values()) == set(READS)


def test_a_get_route_naming_no_read_keeps_the_app_from_being_built(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a router with a read route that names no read
    extra = APIRouter()

    @extra.get("/secrets")
    def secrets() -> dict[str, str]:
        return {}

    monkeypatch.setattr(app_module, "ROUTERS", (*ROUTERS, extra))
    # When the app is built, then it is refused, naming the route
    with pytest.raises(TypeError, match="GET /secrets"):
        create_app(None)  # type: ignore[arg-type]
    # and naming a read the table does not know fails as early
    with pytest.raises(TypeError, match="no right"):
        reads("the secrets")


@pytest.mark.parametrize("role", ROLES)
def test_a_role_is_refused_exactly_the_reads_its_rights_do_not_cover(
    client: TestClient, role: str
) -> None:
    # Given a user of the role
    headers = _as(services_of(client), role)
    wrong: list[str] = []
    for path in _read_routes(client):
        if ("GET", path) in PUBLIC:
            continue
        # When the role reads the route (ids in paths made up)
        answer = client.get(_url(path), params=QUERIES.get(path), headers=headers)
        # Then it is forbidden exactly when its rights do not cover the read
        forbidden = role not in ALLOWED[READ_ROUTES[("GET", path)]]
        if (answer.status_code == 403) != forbidden or answer.status_code >= 500:
            wrong.append(f"GET {path}: {answer.status_code} {answer.text[:120]}")
        if forbidden and answer.status_code == 403:
            assert answer.json() == {
                "error": "forbidden",
                "detail": answer.json()["detail"],
            }
            assert answer.json()["detail"].endswith(" may not read " + _read_of(path) + ".")
    assert wrong == []


def _read_of(path: str) -> str:
    for router in ROUTERS:
        for route in router.routes:
            if getattr(route, "path", None) == path and "GET" in getattr(route, "methods", ()):
                return declared_read(route) or ""
    raise AssertionError(path)


def test_an_analyst_may_not_read_history_even_of_a_record_they_see(client: TestClient) -> None:
    # Given a deal, which an analyst reads
    team = Team(client)
    analyst = bearer(user_token(services_of(client), "ana", "analyst"))
    assert client.get(f"/opportunities/{team.alices}", headers=analyst).status_code == 200
    # When they ask for its history, then it is forbidden, in a sentence
    refused = client.get(f"/history/{team.alices}", headers=analyst)
    assert refused.status_code == 403
    assert refused.json() == {
        "error": "forbidden",
        "detail": "an analyst may not read the history of a record.",
    }


def test_history_is_read_by_auditors_and_by_the_sales_roles_on_what_they_see(
    client: TestClient,
) -> None:
    # Given a team's deals and a deal worked by a partner
    team = Team(client)
    services = services_of(client)
    auditor = bearer(user_token(services, "audrey", "auditor"))
    assert client.post("/accounts", json={"name": "Partner Co", "partner": True}).is_success
    partner_id = account_id_for("Partner Co")
    body = {"partner_id": str(partner_id)}
    assert client.post(f"/opportunities/{team.alices}/partner", json=body).is_success
    partner = bearer(user_token(services, "pat", "partner", partner_id=partner_id))

    def history(who: dict[str, str], record: str) -> Any:
        return client.get(f"/history/{record}", headers=who)

    # Then an auditor reads every record's history
    for record in (team.alices, team.daves, team.daves_quote, team.daves_lead):
        assert history(auditor, record).status_code == 200, record
    # a rep their own records', a manager their team's; anyone else's is not there for them
    assert history(team.alice, team.alices).status_code == 200
    assert_hidden(history(team.alice, team.daves), "aggregate", team.daves)
    assert history(team.maria, team.alices).status_code == 200
    assert_hidden(history(team.maria, team.daves), "aggregate", team.daves)
    assert history(team.bob, team.pool_lead).status_code == 200
    # and a partner user the records of their partner only
    assert history(partner, team.alices).status_code == 200
    assert_hidden(history(partner, team.daves), "aggregate", team.daves)
