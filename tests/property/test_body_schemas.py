"""Every request body against its schema in the OpenAPI document, both ways.

Bodies are drawn from the document itself, by the generator a schema-driven fuzzer uses
(schemathesis), as JSON goes over the wire (a JSON round trip), and judged by a JSON
Schema validator that asserts formats (jsonschema_rs):

- a body the document admits is accepted by the route's body model: nothing the schema
  does not say refuses it for its shape;
- a body drawn to break the document (schemathesis' negative generation: wrong types,
  too long, too many, missing, unknown fields, broken patterns…) is refused by the model
  exactly when the validator refuses it.

Rules across fields and references to records stay the domain's (docs/api.md, "Shapes and
limits"); these tests look at the shape alone.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import cache
from typing import Any, NamedTuple, get_args

import jsonschema_rs
import pytest
import schemathesis
from fastapi.routing import APIRoute
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from schemathesis import GenerationMode

from adapters.http import across
from adapters.http.api_docs import body_models, command_routes, openapi_document
from adapters.http.app import ROUTERS
from adapters.http.bodies import Body

DOCUMENT = openapi_document()
EXAMPLES = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


class BodyRoute(NamedTuple):
    method: str
    path: str
    model: str  # the body model's schema name

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def body_routes() -> list[BodyRoute]:
    """Every command route that takes a JSON body, with the name of its model."""
    routes = []
    for method, path, operation in command_routes(DOCUMENT):
        body = operation.get("requestBody")
        if body is None:
            continue
        schema = body["content"]["application/json"]["schema"]
        ref = next(s["$ref"] for s in schema.get("anyOf", [schema]) if "$ref" in s)
        routes.append(BodyRoute(method, path, ref.rsplit("/", 1)[-1]))
    return routes


ROUTES = body_routes()


@cache
def judge(model: str) -> Any:
    """A validator of the document's schema for ``model`` ($refs resolved in the
    document's components; formats asserted)."""
    schema = {"$ref": f"#/components/schemas/{model}", "components": DOCUMENT["components"]}
    return jsonschema_rs.validator_for(schema, validate_formats=True)


@cache
def loaded() -> Any:
    return schemathesis.openapi.from_dict(DOCUMENT)


@cache
def bodies(route: BodyRoute, mode: GenerationMode) -> st.SearchStrategy[Any]:
    operation = loaded()[route.path][route.method]
    return operation.as_strategy(generation_mode=mode).map(lambda case: case.body)


def over_the_wire(body: Any) -> Any:
    """The body as the server reads it: JSON out and back in (nothing else can be sent)."""
    try:
        return json.loads(json.dumps(body))
    except (TypeError, ValueError):
        assume(False)  # not JSON (a negative case may send raw bytes)


def accepts(model: type[Body], body: Any) -> bool:
    try:
        model.model_validate(body)
    except ValidationError:
        return False
    return True


def _model_of(annotation: Any) -> str:
    """The body model of a route's body parameter (``TokenBody | None`` → TokenBody)."""
    options = get_args(annotation) or (annotation,)
    (model,) = (o for o in options if isinstance(o, type) and issubclass(o, Body))
    return model.__name__


def test_every_route_that_takes_a_body_is_checked() -> None:
    # The routes under test come from the document; the routers say which take a body,
    # so none is left out.
    taking_a_body = {
        (method, route.path, _model_of(route.body_field.field_info.annotation))
        for router in ROUTERS
        for route in router.routes
        if isinstance(route, APIRoute) and route.body_field is not None
        for method in route.methods
    }
    assert {(r.method, r.path, r.model) for r in ROUTES} == taking_a_body


def unbounded(schema: Any, where: str) -> Iterator[str]:
    """Where a schema leaves a value unbounded: text without a length or pattern, a number
    without bounds, a list or map without a count."""
    if isinstance(schema, list):
        for n, one in enumerate(schema):
            yield from unbounded(one, f"{where}[{n}]")
        return
    if not isinstance(schema, dict):
        return
    kind = schema.get("type")
    text = kind == "string" and "enum" not in schema and "const" not in schema
    if text and not {"maxLength", "pattern"} <= set(schema):
        yield f"{where}: text without maxLength and pattern"
    if (
        kind in ("integer", "number")
        and "const" not in schema
        and not {"minimum", "maximum"} <= set(schema)
    ):
        yield f"{where}: a number without minimum and maximum"
    if kind == "array" and "maxItems" not in schema:
        yield f"{where}: a list without maxItems"
    open_map = kind == "object" and schema.get("additionalProperties", False) is not False
    names = schema.get("propertyNames", {})
    if open_map and not ("maxProperties" in schema and "maxLength" in names):
        yield f"{where}: a map without maxProperties and propertyNames' maxLength"
    for key, value in schema.items():
        # A model's rules across its fields name fields (given or not), bounded above.
        rule = "properties" in schema and key in across.RULES
        if key not in ("examples", "default", "enum") and not rule:
            yield from unbounded(value, f"{where}.{key}")


def test_every_value_of_every_body_is_bounded() -> None:
    # Every text has a length and a pattern (at least: no NUL), every number bounds, every
    # list and map a count (docs/api.md, "Shapes and limits").
    schemas = DOCUMENT["components"]["schemas"]
    reached = {route.model for route in ROUTES}
    reached |= {
        ref.rsplit("/", 1)[-1]
        for name in list(reached)
        for ref in re.findall(r'"\$ref": "([^"]+)"', json.dumps(schemas[name]))
    }
    assert "MoneyBody" in reached
    assert [gap for name in sorted(reached) for gap in unbounded(schemas[name], name)] == []


@pytest.mark.parametrize("route", ROUTES, ids=str)
@EXAMPLES
@given(data=st.data())
def test_a_body_the_document_admits_is_accepted(route: BodyRoute, data: st.DataObject) -> None:
    # Given a body drawn from the route's schema in the document
    body = over_the_wire(data.draw(bodies(route, GenerationMode.POSITIVE)))
    assume(body is not None)  # an optional body left out
    assert judge(route.model).is_valid(body), body
    # Then its model accepts it
    body_models()[route.model].model_validate(body)


@pytest.mark.parametrize("route", ROUTES, ids=str)
@EXAMPLES
@given(data=st.data())
def test_a_body_is_refused_exactly_when_the_document_refuses_it(
    route: BodyRoute, data: st.DataObject
) -> None:
    # Given a body drawn to break the route's schema (or a valid one, when the draw broke
    # another part of the request)
    body = over_the_wire(data.draw(bodies(route, GenerationMode.NEGATIVE)))
    assume(body is not None)
    # Then the model refuses it exactly when the document does
    assert accepts(body_models()[route.model], body) == judge(route.model).is_valid(body), body
