"""The document says exactly what every read route answers, and the tests hold every
answer they receive to it (``answer_schemas``).

Each GET route declares its 200 answer: a JSON object or list whose every object lists
its fields and admits no other (``additionalProperties: false``), or is a map whose
values have one schema; and the checker every HTTP test's client carries refuses an
answer its route's schema does not admit.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient
from httpx2 import Request, Response

from adapters.http.command_answers import EXTRAS
from adapters.http.contract import READ_ANSWERS, READ_CONTENT
from tests.http.answer_schemas import STATS, check, checked, document, template_of

Schema = dict[str, Any]


def _resolve(schema: Schema) -> tuple[str | None, Schema]:
    ref = schema.get("$ref")
    if ref is None:
        return None, schema
    name = ref.rsplit("/", 1)[-1]
    resolved: Schema = document()["components"]["schemas"][name]
    return name, resolved


def loose_objects(schema: Schema, where: str = "", seen: set[str] | None = None) -> Iterator[str]:
    """Where ``schema`` (and every schema within it, $refs followed) admits an object
    that is neither a record (``properties`` listed, ``additionalProperties: false``)
    nor a map (``additionalProperties`` a schema, no ``properties``); and where it
    admits anything at all (``{}``)."""
    seen = set() if seen is None else seen
    name, schema = _resolve(schema)
    if name is not None:
        if name in seen:
            return
        seen.add(name)
        where = f"{where}→{name}"
    kinds = {"$ref", "anyOf", "oneOf", "allOf", "type", "const", "enum", "properties"}
    if not kinds & set(schema):
        yield f"{where or '/'}: admits any value"
    further = schema.get("additionalProperties")
    if schema.get("type") == "object" or "properties" in schema:
        record = "properties" in schema and further is False
        a_map = isinstance(further, dict) and "properties" not in schema
        if not (record or a_map):
            yield f"{where or '/'}: an object that does not list exactly its fields"
    for field, inner in schema.get("properties", {}).items():
        yield from loose_objects(inner, f"{where}.{field}", seen)
    if isinstance(further, dict):
        yield from loose_objects(further, f"{where}.*", seen)
    if "items" in schema:
        yield from loose_objects(schema["items"], f"{where}[]", seen)
    for key in ("anyOf", "oneOf", "allOf"):
        for i, inner in enumerate(schema.get(key, [])):
            yield from loose_objects(inner, f"{where}|{key}{i}", seen)


def read_operations() -> list[tuple[str, Schema]]:
    return [
        (path, operations["get"])
        for path, operations in document()["paths"].items()
        if "get" in operations
    ]


def test_every_read_route_has_its_answer_in_the_one_table() -> None:
    paths = {path for path, _ in read_operations()}
    assert paths == set(READ_ANSWERS) | set(READ_CONTENT)
    assert len(paths) == 48  # every read route, /health and /me among them


@pytest.mark.parametrize(("path", "operation"), read_operations(), ids=lambda v: str(v)[:60])
def test_every_read_route_declares_exactly_what_it_answers(path: str, operation: Schema) -> None:
    content = operation["responses"]["200"]["content"]
    if path in READ_CONTENT:
        assert content == READ_CONTENT[path]["content"]
        return
    assert list(content) == ["application/json"]
    schema = content["application/json"]["schema"]
    _, top = _resolve(schema)
    shapes = [_resolve(one)[1] for one in top.get("oneOf", [top])]
    assert all(shape.get("type") in ("object", "array") for shape in shapes), schema
    assert list(loose_objects(schema)) == []


def test_the_exactness_test_finds_a_loose_object() -> None:
    """What the test above refuses: an object open to further fields, an object of no
    listed fields, a value of any kind — also within lists, maps and alternatives."""
    loose = {
        "type": "object",
        "properties": {
            "open": {"type": "object", "properties": {"a": {"type": "string"}}},
            "bare": {"type": "object"},
            "anything": {},
            "listed": {"type": "array", "items": {"type": "object", "additionalProperties": True}},
            "either": {"anyOf": [{"type": "null"}, {"properties": {}}]},
            "fine": {"$ref": "#/components/schemas/AsOf"},
        },
        "additionalProperties": False,
    }
    assert list(loose_objects(loose)) == [
        ".open: an object that does not list exactly its fields",
        ".bare: an object that does not list exactly its fields",
        ".anything: admits any value",
        ".listed[]: an object that does not list exactly its fields",
        ".either|anyOf1: an object that does not list exactly its fields",
    ]


def test_the_history_says_each_event_types_data() -> None:
    """Each entry's ``data`` has its event type's fields, and the entry's ``type`` says
    which: one entry shape per event type."""
    schemas = document()["components"]["schemas"]
    entry = schemas["HistoryEntry"]
    mapping = entry["discriminator"]["mapping"]
    assert len(entry["oneOf"]) == len(mapping) > 80
    lead_created = schemas["LeadCreatedEntry"]["properties"]
    assert lead_created["type"]["const"] == "LeadCreated"
    data = lead_created["data"]
    assert "sealed" not in data["properties"] and "originator_id" not in data["properties"]
    # Masked or erased, a lead's personal data reads null.
    assert {"type": "null"} in data["properties"]["personal"]["anyOf"]


# --- the checker every HTTP test's client carries ---------------------------------------


def answer(method: str, path: str, status: int, **body: Any) -> Response:
    return Response(status, request=Request(method, f"http://testserver{path}"), **body)


def test_every_answer_a_client_gets_is_checked(client: TestClient) -> None:
    before = STATS.checked
    client.get("/health")
    client.get("/me")
    client.get(f"/products/{uuid4()}")  # 404: the error answer is checked too
    client.post("/accounts", json={"name": "Globex"})
    assert STATS.checked == before + 4


def test_the_document_path_a_request_takes_is_found() -> None:
    assert template_of("/leads/summary") == "/leads/summary"
    assert template_of(f"/leads/{uuid4()}") == "/leads/{lead_id}"
    assert template_of("/pipelines/sales") == "/pipelines/{pipeline}"
    assert template_of("/nowhere") is None


def test_a_field_the_schema_does_not_list_is_caught() -> None:
    health = {"status": "ok", "position": 3, "read_model_position": 3, "uptime": 12}
    with pytest.raises(AssertionError, match=r"GET /health answered 200.*uptime"):
        check(answer("GET", "/health", 200, json=health))


def test_a_missing_field_or_a_wrong_type_is_caught() -> None:
    with pytest.raises(AssertionError, match=r"GET /health answered 200.*read_model_position"):
        check(answer("GET", "/health", 200, json={"status": "ok", "position": 3}))
    as_of = {"position": "3", "recorded_at": None}
    with pytest.raises(AssertionError, match=r"GET /baselines answered 200.*as_of/position"):
        check(answer("GET", "/baselines", 200, json={"as_of": as_of, "baselines": []}))


def test_a_masked_lead_reads_null_where_the_schema_allows_it() -> None:
    person = dict.fromkeys(["first_name", "last_name", "email", "phone", "address"])
    lead = {
        "id": str(uuid4()),
        "status": "new",
        "disqualified_as": None,
        "source": None,
        "campaign_id": None,
        "owner": "alice",
        "partner_id": None,
        "pool": False,
        "account_id": None,
        "company": None,
        "priority": "normal",
        "opportunity_id": None,
        "duplicate_of": None,
        "channel": "manual",
        "archived": False,
        "anonymized": False,
        "activities": 0,
        "created_at": "2027-01-04T09:00:00.000000+00:00",
        "updated_at": "2027-01-04T09:00:00.000000+00:00",
        **person,
        "masked": True,
    }
    as_of = {"position": 7, "recorded_at": "2027-01-04T09:00:00.000000+00:00"}
    page = {"items": [lead], "next_cursor": None, "as_of": as_of}
    check(answer("GET", "/leads", 200, json=page))
    with pytest.raises(AssertionError, match="GET /leads answered 200"):
        check(answer("GET", "/leads", 200, json={**page, "items": [{**lead, "priority": None}]}))
    with pytest.raises(AssertionError, match="GET /leads answered 200"):
        check(answer("GET", "/leads", 200, json=[lead]))  # the bare list it answered before


def test_an_undeclared_status_or_media_type_is_caught() -> None:
    with pytest.raises(AssertionError, match="GET /health answered 418, which the document"):
        check(answer("GET", "/health", 418, json={}))
    with pytest.raises(AssertionError, match=r"GET /health answered 200 as 'text/plain"):
        check(answer("GET", "/health", 200, text="ok"))


def test_a_request_the_document_has_no_operation_for_is_only_counted() -> None:
    before = STATS.unmatched
    check(answer("GET", "/nowhere", 404, json={"error": "not_found", "detail": "None."}))
    check(answer("DELETE", "/health", 405, json={}))
    assert STATS.unmatched == before + 2


def test_the_clients_of_the_http_tests_check_their_answers(
    client: TestClient, any_client: TestClient
) -> None:
    for each in (client, any_client):
        assert checked(each) is each
        hooks = each.event_hooks["response"]
        assert len(hooks) == 1 and hooks[0].__module__ == "tests.http.answer_schemas"


def test_every_command_answer_with_extras_is_of_a_command_route_and_exact() -> None:
    # Each entry names a command route of the document, whose answers (201, and 200 for a
    # repeat) are its model: the aggregate, version, position and the extras, nothing more.
    paths = document()["paths"]
    for (method, path), model in EXTRAS.items():
        operation = paths[path][method.lower()]
        name = model.__name__
        for status in ("200", "201"):
            if status in operation["responses"]:
                content = operation["responses"][status]["content"]["application/json"]
                assert content["schema"] == {"$ref": f"#/components/schemas/{name}"}, path
        schema = document()["components"]["schemas"][name]
        assert schema["additionalProperties"] is False
        assert {"id", "version", "position"} < set(schema["properties"]), name
    # and a command route without extras answers the plain model
    plain = paths["/opportunities/{opportunity_id}/sell"]["post"]["responses"]["200"]
    assert plain["content"]["application/json"]["schema"]["$ref"].endswith("/CommandAnswer")
