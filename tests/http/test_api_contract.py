"""The OpenAPI document is exact, and the conventions of docs/api.md hold on every route.

Each class of mismatch a schema-driven fuzzer found once has its own test here: an
answer with a status the document does not declare, an error breaking its declared
schema, a query parameter silently ignored, a 405 without ``Allow``, a body without a
size limit, ``wait_for`` past the log's end waiting instead of answering, a 201 without
``Location``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import jsonschema_rs
import pytest
from fastapi.testclient import TestClient

from adapters.http.api_docs import openapi_document
from adapters.http.contract import LOCATIONS
from tests.http.helpers import (
    assert_error,
    log_position,
    make_opportunity,
    project,
    query_ok,
    refused,
)
from tests.http.test_command_headers import CASES
from tests.identity import TEAM

pytestmark = pytest.mark.users(*TEAM)

DOC = openapi_document()
METHODS = ("get", "post", "put", "patch", "delete")


def operations() -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in DOC["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield method.upper(), path, operation


def filled(path: str) -> str:
    """The path with every parameter given a value of the right shape."""
    return re.sub(r"\{[^}]+\}", lambda m: "alice" if m.group() == "{login}" else str(uuid4()), path)


def query_names(operation: dict[str, Any]) -> set[str]:
    return {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}


# --- the document ----------------------------------------------------------------------


def test_every_error_answer_of_the_document_is_the_one_error_model() -> None:
    # Given every answer the document declares
    for method, path, operation in operations():
        answers = operation["responses"]
        # Then every route may say the store is away, and refuse its input (a query
        # parameter it does not take, if nothing else)
        assert "503" in answers, (method, path)
        assert "422" in answers, (method, path)
        for status, answer in answers.items():
            if int(status) >= 400 and path != "/health":
                schema = answer["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorAnswer"}, (path, status)
    # And FastAPI's own validation-error shape, which the server never answers, is gone
    assert "HTTPValidationError" not in DOC["components"]["schemas"]


def test_every_route_that_creates_says_where_to_read_what_it_made() -> None:
    for method, path, operation in operations():
        if "201" in operation["responses"]:
            assert path in LOCATIONS, f"{method} {path} has no Location template"
            assert "Location" in operation["responses"]["201"]["headers"], path


# --- 201 Location ----------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_created_answer_carries_the_location_of_what_it_made(
    client: TestClient, name: str
) -> None:
    # Given a command of each route
    call = CASES[name](client)
    # When it is sent
    answer = call.send(client)
    assert answer.status_code in (200, 201), answer.text
    if answer.status_code == 200:
        assert "Location" not in answer.headers
        return
    # Then a 201 says where what it made is, and that answers
    location = answer.headers["Location"]
    assert any(str(value) in location for value in answer.json().values())
    project(client)  # some records are read from the read model
    assert client.get(location).status_code == 200, location


def test_a_new_user_a_token_a_lead_and_a_campaign_say_where_they_are(client: TestClient) -> None:
    made = client.post("/users", json={"login": "zoe", "role": "rep"})
    assert made.headers["Location"] == "/users/zoe"
    assert query_ok(client.get(made.headers["Location"]))["login"] == "zoe"
    token = client.post("/users/zoe/tokens", json={})
    assert token.status_code == 201 and token.headers["Location"] == "/users/zoe"
    lead = client.post(
        "/leads",
        json={"first_name": "Jane", "last_name": "Doe", "company": "ACME", "source": "webinar"},
    )
    assert lead.status_code == 201, lead.text
    assert lead.headers["Location"] == f"/leads/{lead.json()['id']}"
    assert client.get(lead.headers["Location"]).status_code == 200
    campaign = client.post("/campaigns", json={"name": "Spring"})
    assert client.get(campaign.headers["Location"]).status_code == 200


# --- unknown query parameters -----------------------------------------------------------


@pytest.mark.parametrize(("method", "path"), [(m, p) for m, p, _ in operations() if m == "GET"])
def test_a_query_parameter_the_route_does_not_take_is_refused(
    client: TestClient, method: str, path: str
) -> None:
    # When a read gets a parameter it does not take (a misspelt filter)
    response = client.get(filled(path), params={"ownr": "alice"})
    # Then it is refused, naming it, rather than answered as if unfiltered
    body = assert_error(response, 422, "invalid_input")
    assert "query parameter ownr is not one this route takes" in body["detail"]


# --- 405 Allow ----------------------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(DOC["paths"]))
def test_a_method_the_path_does_not_serve_answers_405_with_the_methods_it_does(
    client: TestClient, path: str
) -> None:
    response = client.request("TRACE", filled(path))
    body = assert_error(response, 405, "method_not_allowed")
    allowed = {m.strip() for m in response.headers["Allow"].split(",")}
    declared = {m.upper() for m in DOC["paths"][path] if m in METHODS}
    assert allowed - {"HEAD"} == declared
    assert "TRACE is not allowed" in body["detail"]


# --- body size -----------------------------------------------------------------------------


def test_a_body_over_the_limit_is_refused_before_it_is_read(client: TestClient) -> None:
    limit = client.app.state.max_body_bytes  # type: ignore[attr-defined]
    big = (
        b'{"name": "' + b"x" * limit + b'", "code": "X", "category": "software", "kind": "one_off"}'
    )
    before = log_position(client)
    # When it comes with its length
    sized = client.post("/products", content=big, headers={"Content-Type": "application/json"})
    assert_error(sized, 413, "body_too_large")

    # And when it streams in without one
    def chunks() -> Iterator[bytes]:
        for start in range(0, len(big), 65536):
            yield big[start : start + 65536]

    streamed = client.post(
        "/products", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert_error(streamed, 413, "body_too_large")
    # Then nothing was written
    assert log_position(client) == before


# --- wait_for ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", [p for m, p, o in operations() if m == "GET" and "wait_for" in query_names(o)]
)
def test_waiting_for_a_position_past_the_logs_end_is_refused_at_once(
    client: TestClient, path: str
) -> None:
    params: dict[str, Any] = {"wait_for": log_position(client) + 1000}
    if path == "/audit/actions":
        params["by"] = "alice"
    body = assert_error(client.get(filled(path), params=params), 409, "rule_violated")
    # (not 503 not_caught_up after the wait: no write has that position yet)
    assert "past the log's end" in body["detail"]


# --- errors that teach ------------------------------------------------------------------


def test_every_mistake_of_a_body_is_named_at_once(client: TestClient) -> None:
    body = {"name": "Licence", "category": "hardware", "kind": "forever", "colour": "red"}
    detail = refused(client, "POST", "/products", 422, "invalid_input", json=body)["detail"]
    for field in ("code is required", "category", "kind", "colour is not one this route takes"):
        assert field in detail, detail


@pytest.mark.parametrize(
    ("url", "wanted"),
    [
        ("/pipeline?from=31.03.2027", "query parameter from must be a date like 2027-03-31."),
        ("/pipeline?as_of=yesterday", "as_of must be a log position (e.g. 1200) or an instant"),
        ("/audit/actions?by=alice&to=2027-01-04T09:00:00", "to must be an instant with offset"),
        ("/forecast?from=2027-13", "query parameter from"),
    ],
)
def test_a_wrong_date_or_instant_names_the_format_it_wants(
    client: TestClient, url: str, wanted: str
) -> None:
    assert wanted in assert_error(client.get(url), 422, "invalid_input")["detail"]


def test_already_exists_names_the_record_that_exists(client: TestClient) -> None:
    opportunity = make_opportunity(client)
    account = query_ok(client.get(f"/opportunities/{opportunity}"))["account_id"]
    project(client)
    name = query_ok(client.get(f"/accounts/{account}"))["name"]
    answer = refused(client, "POST", "/accounts", 409, "already_exists", json={"name": name})
    assert answer["existing_id"] == account


def test_a_forecast_bound_of_another_kind_counts_by_its_days(client: TestClient) -> None:
    months = query_ok(client.get("/forecast", params={"period": "month", "from": "2027-Q1"}))
    assert months["params"]["from"] == "2027-01"
    until = query_ok(client.get("/forecast", params={"period": "month", "to": "2027"}))
    assert until["params"]["to"] == "2027-12"


def test_a_path_of_its_own_that_a_template_also_matches_answers_405_for_other_methods(
    client: TestClient,
) -> None:
    # /leads/summary is a route of its own (GET); /leads/{lead_id} also takes PATCH
    response = client.patch("/leads/summary?by=status", json={})
    assert_error(response, 405, "method_not_allowed")
    assert response.headers["Allow"] == "GET"


def test_an_instant_in_a_body_that_is_none_says_an_instant_is_wanted(client: TestClient) -> None:
    body = {"currency": "USD", "rate": "0.9", "effective_at": "not an instant"}
    detail = refused(client, "POST", "/exchange-rates", 422, "invalid_input", json=body)["detail"]
    assert "effective_at must be an instant with offset" in detail, detail


# --- shapes that follow from one field ----------------------------------------------------


def refused_by_document(model: str, body: dict[str, Any]) -> bool:
    schema = {"$ref": f"#/components/schemas/{model}", "components": DOC["components"]}
    return not jsonschema_rs.validator_for(schema).is_valid(body)


RULE = {"priority": 10, "action": {"assign": "alice"}}
STAGES_BUT_OPEN = [
    {
        "key": "won",
        "name": "Won",
        "probability": 100,
        "forecast_category": "closed",
        "closed": "won",
    },
    {
        "key": "lost",
        "name": "Lost",
        "probability": 0,
        "forecast_category": "omitted",
        "closed": "lost",
    },
    {
        "key": "unqualified",
        "name": "Unqualified",
        "probability": 0,
        "forecast_category": "omitted",
        "closed": "unqualified",
    },
]


@pytest.mark.parametrize(
    ("condition", "named"),
    [
        ({"field": "source", "op": "eq", "value": ["webinar"]}, "conditions.0"),
        ({"field": "source", "op": "in", "value": "webinar"}, "conditions.0"),
        ({"field": "source", "op": "like", "value": "webinar"}, "conditions.0.op must be one of"),
        ({"field": "source", "value": "webinar"}, "conditions.0.op is required"),
    ],
)
def test_a_condition_takes_the_value_its_op_says_in_the_document_as_on_the_server(
    client: TestClient, condition: dict[str, Any], named: str
) -> None:
    # Given a lead rule whose condition's value is not of the kind its op takes
    body = {**RULE, "conditions": [condition]}
    # Then the document refuses it, and so does the server, naming the condition
    assert refused_by_document("LeadRuleBody", body)
    detail = refused(client, "POST", "/lead-rules", 422, "invalid_input", json=body)["detail"]
    assert detail.startswith(named), detail


def test_conditions_of_the_kinds_the_document_takes_are_accepted(client: TestClient) -> None:
    body = {
        **RULE,
        "conditions": [
            {"field": "source", "op": "eq", "value": "webinar"},
            {"field": "country", "op": "in", "value": ["DE", "AT"]},
        ],
    }
    assert not refused_by_document("LeadRuleBody", body)
    assert client.post("/lead-rules", json=body).status_code == 201


@pytest.mark.parametrize(
    ("stage", "named"),
    [
        # An open stage is never in the closed category (the fuzzer's finding)
        (
            {"key": "open", "name": "Open", "probability": 99, "forecast_category": "closed"},
            "stages.0",
        ),
        ({**STAGES_BUT_OPEN[0], "key": "won2", "probability": 90}, "stages.0"),
        ({**STAGES_BUT_OPEN[1], "key": "lost2", "forecast_category": "pipeline"}, "stages.0"),
        (
            {
                "key": "open",
                "name": "Open",
                "probability": 9,
                "forecast_category": "commit",
                "closed": "paused",
            },
            "stages.0.closed must be 'won', 'lost', 'unqualified' or null",
        ),
    ],
)
def test_a_stage_has_the_probability_and_category_its_closing_says(
    client: TestClient, stage: dict[str, Any], named: str
) -> None:
    body = {"name": "partners", "stages": [stage, *STAGES_BUT_OPEN]}
    assert refused_by_document("PipelineBody", body)
    detail = refused(client, "POST", "/pipelines", 422, "invalid_input", json=body)["detail"]
    assert detail.startswith(named), detail


def test_a_pipeline_the_document_takes_is_created(client: TestClient) -> None:
    stage = {"key": "open", "name": "Open", "probability": 40, "forecast_category": "commit"}
    body = {"name": "partners", "stages": [{**stage, "closed": None}, *STAGES_BUT_OPEN]}
    assert not refused_by_document("PipelineBody", body)
    assert client.post("/pipelines", json=body).status_code == 201


# --- answers the fuzzer found breaking their schema ----------------------------------------


def test_a_tiny_rate_reads_as_it_was_written(client: TestClient) -> None:
    # Given a rate with more leading zeros than Python writes out in full
    body = {"currency": "USD", "rate": "0.000000005682"}
    assert client.post("/exchange-rates", json=body).status_code == 200
    # When the rates and their history are read (the client checks each answer against
    # the document, whose decimals have no exponent)
    rates = client.get("/exchange-rates").json()["rates"]
    history = client.get(f"/history/{client.get('/exchange-rates').json()['id']}").json()
    # Then it reads in full, as a request may send it back
    assert [rate["rate"] for rate in rates] == ["0.000000005682"]
    assert history[-1]["data"]["rate"] == "0.000000005682"


def test_a_closed_stages_settings_are_refused_as_a_rule_not_as_input(client: TestClient) -> None:
    # The body is one the document admits: the stage's being closed is what refuses it
    body = {"forecast_category": "omitted", "probability": 95}
    refused(client, "POST", "/pipelines/sales/stages/lost", 409, "rule_violated", json=body)
