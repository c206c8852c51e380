"""Every constraint a request body's schema declares is one its route enforces.

For each command route, its example body (docs/api.md) is broken one field at a time, in
every way the field's schema forbids: too long, blank, holding NUL, not matching its
pattern or format, a JSON number for a decimal string, an unknown currency or enum value,
out of bounds, too many or too few items or entries, null where null is not allowed, a
required field left out, an unknown field. Each broken body is one the document refuses,
and the route answers ``422 invalid_input`` naming the field, writing nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from typing import Any, NamedTuple
from uuid import uuid4

import jsonschema_rs
import pytest
from fastapi.testclient import TestClient

from adapters.http import patterns, shapes
from adapters.http.api_docs import body_models, command_routes, example_of, openapi_document
from tests.http.helpers import services_of
from tests.identity import TEAM

DOCUMENT = openapi_document()
SCHEMAS: dict[str, Any] = DOCUMENT["components"]["schemas"]
# A string no pattern of the API takes (not a login, a key, a date, an id, a decimal…).
UNSPELLABLE = "Not Valid!"


class Broken(NamedTuple):
    field: str  # as the refusal names it: "components.0.weight"
    why: str
    body: Any


class BodyRoute(NamedTuple):
    method: str
    path: str
    model: str

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def body_routes() -> list[BodyRoute]:
    routes = []
    for method, path, operation in command_routes(DOCUMENT):
        if (body := operation.get("requestBody")) is not None:
            schema = body["content"]["application/json"]["schema"]
            ref = next(s["$ref"] for s in schema.get("anyOf", [schema]) if "$ref" in s)
            routes.append(BodyRoute(method, path, ref.rsplit("/", 1)[-1]))
    return routes


def _options(schema: dict[str, Any]) -> tuple[list[dict[str, Any]], bool]:
    """The alternatives a schema takes (nested anyOf/oneOf flattened, $refs to shared
    values kept), and whether null is one of them."""
    found: list[dict[str, Any]] = []
    nullable = False
    for one in schema.get("anyOf") or schema.get("oneOf") or [schema]:
        if one.get("type") == "null":
            nullable = True
        elif "anyOf" in one or "oneOf" in one:
            more, null = _options(one)
            found += more
            nullable = nullable or null
        else:
            found.append(one)
    return found, nullable


def _referenced(one: dict[str, Any]) -> dict[str, Any] | None:
    return SCHEMAS[one["$ref"].rsplit("/", 1)[-1]] if "$ref" in one else None


def _valid(one: dict[str, Any]) -> Any:
    """A value an item or entry schema takes (for lists and maps made too long)."""
    if "anyOf" in one:  # one of several shapes (a custom value): the first one's
        return _valid(one["anyOf"][0])
    if one.get("pattern") == patterns.LOGIN_PATTERN:
        return "alice"
    if one.get("pattern") in (patterns.NOT_BLANK, patterns.NO_NUL):
        return "x"
    if one.get("type") == "integer":
        return one["minimum"]
    raise AssertionError(f"no valid value known for {one}")


def _broken_text(one: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    pattern = one.get("pattern", "")
    if "maxLength" in one:
        yield "too long", "1" * (one["maxLength"] + 1)
    if pattern in shapes.DECIMAL_PATTERNS:
        yield "a JSON number for a decimal", 5
        yield "an exponent", "1e3"
        yield "a leading zero", "01"
        return
    yield "a number for text", 5
    yield "NUL", "a\u0000b"
    if pattern == patterns.NOT_BLANK:
        yield "blank", " \t\u00a0"
    elif pattern != patterns.NO_NUL:
        yield "not its pattern", UNSPELLABLE
    if one.get("format") == "date":
        yield "no such day", "2027-02-30"
    if one.get("format") == "date-time":
        yield "no such instant", "2027-02-30T00:00:00Z"
        yield "no offset", "2027-03-31T17:00:00"
    if one.get("format") == "uuid":
        yield "not hyphenated", uuid4().hex


def _fits(model: dict[str, Any], current: dict[str, Any]) -> bool:
    """Whether ``current`` is of the shape ``model`` is among several (one field, such as a
    condition's ``op``, says which): its fixed values agree."""
    for name, field in model.get("properties", {}).items():
        if name not in current:
            if name in model.get("required", []):
                return False
            continue
        value = current[name]
        if value != field.get("const", value) or value not in field.get("enum", [value]):
            return False
        if field.get("type") == "null" and value is not None:
            return False
    return True


def broken_values(schema: dict[str, Any], current: Any) -> Iterator[tuple[str, str, Any]]:
    """(path below the field, why, value) for each way ``schema`` refuses a value; of
    several object shapes, the one ``current`` is of."""
    alternatives, nullable = _options(schema)
    models = [(one, _referenced(one)) for one in alternatives if "$ref" in one]
    if len(models) > 1 and isinstance(current, dict):
        alternatives = [one for one, model in models if model and _fits(model, current)]
    if not nullable:
        yield "", "null", None
    for one in alternatives:
        shared = _referenced(one)
        if shared is not None and "enum" in shared:
            yield "", "an unknown code", "XAU"
            yield "", "lower case", "eur"
        elif shared is not None:
            yield "", "not an object", "object"
            if isinstance(current, dict):
                yield from broken_fields(shared, current)
        elif "enum" in one:
            yield "", "not one of the values", "no-such-value"
        elif "const" in one:
            other = one["const"] + 1 if isinstance(one["const"], int) else "no-such-value"
            yield "", "not its one value", other
        elif one.get("type") == "string":
            for why, value in _broken_text(one):
                yield "", why, value
        elif one.get("type") == "integer":
            yield "", "below its minimum", one["minimum"] - 1
            yield "", "above its maximum", one["maximum"] + 1
            yield "", "text for a number", str(one["minimum"])
            yield "", "a boolean for a number", True
            yield "", "a fraction", one["minimum"] + 0.5
        elif one.get("type") == "boolean":
            yield "", "text for a boolean", "true"
            yield "", "a number for a boolean", 1
        elif one.get("type") == "array":
            yield from _broken_list(one, current)
        elif one.get("type") == "object" and "properties" in one:  # an inline object
            valid = {name: _valid(field) for name, field in one["properties"].items()}
            yield from broken_fields(one, current if isinstance(current, dict) else valid)
        elif one.get("type") == "object":
            yield from _broken_map(one)


def _broken_list(one: dict[str, Any], current: Any) -> Iterator[tuple[str, str, Any]]:
    items = one["items"]
    model = _referenced(items)
    item = current[0] if isinstance(current, list) and current else None
    if item is None:
        item = _valid(items)
    if "maxItems" in one:
        yield "", "too many items", [item] * (one["maxItems"] + 1)
    if "minItems" in one:
        yield "", "too few items", []
    yield "", "not a list", "list"
    if model is not None:
        for path, why, bad in broken_fields(model, item):
            yield f".0{path}", why, [bad]
    else:
        for path, why, bad in broken_values(items, item):
            yield f".0{path}", f"an item: {why}", [bad]


def _broken_map(one: dict[str, Any]) -> Iterator[tuple[str, str, Any]]:
    values = one["additionalProperties"]
    value = _valid(values)
    if "maxProperties" in one:
        yield "", "too many entries", {f"user{i}": value for i in range(one["maxProperties"] + 1)}
    if "minProperties" in one:
        yield "", "too few entries", {}
    if "pattern" in one.get("propertyNames", {}):
        yield "", "a key not matching its pattern", {UNSPELLABLE: value}
    # Of several shapes a value may take (a custom value), a break of one shape may be
    # another (a number for text): only what every shape refuses is broken.
    # Such a value is checked whole: its refusal names the value, not a part of it.
    shapes = "anyOf" in values
    refuses = jsonschema_rs.validator_for({**values, "components": DOCUMENT["components"]})
    for path, why, bad in broken_values(values, value):
        if not refuses.is_valid(bad):
            yield f".alice{'' if shapes else path}", f"a value: {why}", {"alice": bad}


def broken_fields(model: dict[str, Any], body: dict[str, Any]) -> Iterator[tuple[str, str, Any]]:
    """(path, why, body) for each way a field of ``body`` can be broken."""
    required = set(model.get("required", []))
    for name, schema in model.get("properties", {}).items():
        if name in required:
            yield f".{name}", "left out", {k: v for k, v in body.items() if k != name}
        for path, why, bad in broken_values(schema, body.get(name)):
            yield f".{name}{path}", why, {**body, name: bad}
    further = model.get("additionalProperties")
    if further is False:
        yield ".no_such_field", "an unknown field", {**body, "no_such_field": 1}
    elif isinstance(further, dict):
        for path, why, bad in broken_values(further, None):
            if why != "null":  # null is a value a further field may have
                yield f".employees{path}", f"a further field: {why}", {**body, "employees": bad}
        name = "x" * (model["propertyNames"]["maxLength"] + 1)
        yield "", "a further field's name too long", {**body, name: 1}
        many = {f"field{i}": 1 for i in range(model["maxProperties"])}
        yield "", "too many fields", {**body, **many}


@cache
def judge(model: str) -> Any:
    schema = {"$ref": f"#/components/schemas/{model}", "components": DOCUMENT["components"]}
    return jsonschema_rs.validator_for(schema, validate_formats=True)


def broken_bodies(route: BodyRoute) -> list[Broken]:
    """The example broken in each way, kept where the document refuses the result (a value
    that breaks one alternative of a field may be another's: ``"list"`` is text)."""
    example = example_of(body_models()[route.model])
    assert isinstance(example, dict)
    return [
        Broken(path.lstrip("."), why, body)
        for path, why, body in broken_fields(SCHEMAS[route.model], example)
        if not judge(route.model).is_valid(body)
    ]


def names(detail: str, field: str) -> bool:
    """Whether a refusal's detail names ``field`` first: its path, perhaps with the name of
    the alternative it was read as (``amount.money.currency`` for ``amount.currency``)."""
    if not field:
        return detail.startswith("the request")
    where = re.split(r":| is | must | has ", detail, maxsplit=1)[0].split(".")
    parts = field.split(".")
    wanted = iter(where)
    return where[0] == parts[0] and all(part in wanted for part in parts)


def url_of(path: str) -> str:
    path = path.replace("{pipeline}", "sales").replace("{stage}", "proposal")
    path = path.replace("{entity}", "opportunity").replace("{key}", "budget")
    return re.sub(r"\{\w+\}", lambda _: str(uuid4()), path.replace("{login}", "alice"))


def test_breaking_the_example_of_an_item_finds_the_limits_of_its_fields() -> None:
    # The breaking above reaches nested fields and each kind of limit (so a route's test
    # cannot pass by breaking nothing).
    broken = {(b.field, b.why) for b in broken_bodies(BodyRoute("POST", "/", "ItemBody"))}
    assert {
        ("name", "too long"),
        ("name", "blank"),
        ("name", "NUL"),
        ("quantity", "a JSON number for a decimal"),
        ("quantity", "left out"),
        ("term_months", "above its maximum"),
        ("start", "no such day"),
        ("no_such_field", "an unknown field"),
    } <= broken
    bundle = {(b.field, b.why) for b in broken_bodies(BodyRoute("POST", "/", "BundleBody"))}
    assert {
        ("components", "too many items"),
        ("components.0.weight", "a JSON number for a decimal"),
    } <= bundle


@pytest.mark.users(*TEAM)
@pytest.mark.parametrize("route", body_routes(), ids=str)
def test_a_body_broken_as_its_schema_forbids_is_refused_naming_the_field(
    client: TestClient, route: BodyRoute
) -> None:
    store = services_of(client).store
    before = store.max_position()
    wrong: list[str] = []
    broken_ones = broken_bodies(route)
    assert len(broken_ones) >= 3
    for broken in broken_ones:
        # Given a body the document refuses, when it is sent
        answer = client.request(route.method, url_of(route.path), json=broken.body)
        # Then it is refused as invalid input naming the field
        detail = answer.json().get("detail", "")
        named = names(detail, broken.field)
        if (answer.status_code, answer.json().get("error"), named) != (
            422,
            "invalid_input",
            True,
        ):
            wrong.append(f"{broken.field} ({broken.why}): {answer.status_code} {detail}")
        elif broken.why == "a JSON number for a decimal":
            assert 'must be a decimal string like "1234.50", not a JSON number' in detail
    assert wrong == []
    # And nothing was written
    assert store.max_position() == before
