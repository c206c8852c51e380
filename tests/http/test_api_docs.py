"""docs/api.md carries every request body: each command route, each field, an example.

The check walks the app's own OpenAPI document, so a new route, or a new field on a
body model, that the page does not mention fails here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient

from adapters.http.api_docs import body_models, example_of, openapi_document, render, section
from tests.identity import TEAM

PAGE = Path(__file__).resolve().parents[2] / "docs" / "api.md"
METHODS = ("post", "put", "patch", "delete")


def _model(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    name = schema["$ref"].rsplit("/", 1)[-1]
    model: dict[str, Any] = doc["components"]["schemas"][name]
    return model


def body_schema(doc: dict[str, Any], operation: dict[str, Any]) -> dict[str, Any] | None:
    """The schema of the model an operation takes as its JSON body (None: it takes none)."""
    body = operation.get("requestBody")
    if body is None:
        return None
    schema = body["content"]["application/json"]["schema"]
    return _model(doc, next(s for s in schema.get("anyOf", [schema]) if "$ref" in s))


def command_routes(doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any] | None]]:
    """Each command route of the document: its method, its path and its body's schema."""
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            if method in METHODS:
                yield method, path, body_schema(doc, operation)


def field_paths(doc: dict[str, Any], schema: dict[str, Any], prefix: str = "") -> list[str]:
    """Every field of a body, nested ones as ``amount.currency`` or ``stages[].key``."""
    paths: list[str] = []
    for name, field in schema.get("properties", {}).items():
        path = prefix + name
        paths.append(path)
        for one in field.get("anyOf", [field]):
            if "$ref" in one:
                paths += field_paths(doc, _model(doc, one), path + ".")
            elif "$ref" in one.get("items", {}):
                paths += field_paths(doc, _model(doc, one["items"]), path + "[].")
    return paths


def route_section(page: str, method: str, path: str) -> str | None:
    """The part of the page under the route's own heading, if it has one."""
    heading = re.search(rf"^#+ `{re.escape(method)} {re.escape(path)}`$", page, re.M)
    if heading is None:
        return None
    after = page[heading.end() :]
    following = re.search(r"^#+ ", after, re.M)
    return after[: following.start()] if following else after


def undocumented(doc: dict[str, Any], page: str) -> list[str]:
    """What the page does not say: command routes, and fields of their bodies."""
    missing: list[str] = []
    for method, path, model in command_routes(doc):
        route = f"{method.upper()} {path}"
        if model is None:
            if f"`{route}`" not in page:
                missing.append(route)
            continue
        text = route_section(page, method.upper(), path)
        if text is None:
            missing.append(f"{route} (no section of its own)")
            continue
        missing += [
            f"{route}: {field}" for field in field_paths(doc, model) if f"`{field}`" not in text
        ]
    return missing


def test_every_command_route_and_every_field_of_its_body_is_on_the_page(
    client: TestClient,
) -> None:
    doc = client.get("/openapi.json").json()
    assert undocumented(doc, PAGE.read_text()) == []


def test_a_field_the_page_leaves_out_is_found() -> None:
    # Given the page without the row of one field of one route
    doc = openapi_document()
    page = PAGE.read_text()
    row = "| `components[].weight` |"
    assert page.count(row) == 1
    # Then the check names exactly that route and field
    assert undocumented(doc, page.replace(row, "| weight |")) == [
        "POST /bundles: components[].weight"
    ]
    # and a route whose section is gone, with all its fields
    gone = undocumented(doc, page.replace("#### `POST /exchange-rates`", "#### rates"))
    assert gone == ["POST /exchange-rates (no section of its own)"]


def test_the_page_says_what_the_body_models_say() -> None:
    # The section is written from the models; rewrite it after changing one.
    assert section(PAGE.read_text()) == render(openapi_document()), (
        "docs/api.md is behind the request models: run `python -m adapters.http.api_docs`"
    )


def test_every_body_a_route_takes_has_an_example_the_model_accepts() -> None:
    models = body_models()
    for _, _, schema in command_routes(openapi_document()):
        if schema is None:
            continue
        model = models[schema["title"]]
        example = example_of(model)
        assert example is not None, f"{model.__name__} has no example"
        model.model_validate(example)


@pytest.mark.users(*TEAM)
def test_every_example_is_accepted_by_its_route(client: TestClient) -> None:
    # Ids in paths are made up (404 is fine); a refusal as bad input (400, 422) is not.
    models = body_models()
    for method, path, schema in command_routes(client.get("/openapi.json").json()):
        if schema is None:
            continue
        example = example_of(models[schema["title"]])
        url = path.replace("{pipeline}", "sales").replace("{stage}", "proposal")
        url = url.replace("{entity}", "opportunity").replace("{key}", "budget")
        url = re.sub(r"\{\w+\}", lambda _: str(uuid4()), url)
        answer = client.request(method.upper(), url, json=example)
        assert answer.status_code in (200, 201, 404), (method, path, answer.text)
