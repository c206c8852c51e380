"""Every answer a test receives, checked against the OpenAPI document.

``checked(client)`` makes a test client check each response it gets against the schema
the document declares for the request's operation (method and path template) and the
response's status: a field the schema does not list, one missing, one of another type,
a status the operation does not declare, a media type it does not declare — each fails
the test at the request, naming the route, the status and what is wrong.

Requests the document has no operation for (an unknown path, a method the path does not
serve, ``/openapi.json`` and the docs pages) are not checked; ``STATS`` counts both.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

import jsonschema_rs
from fastapi.testclient import TestClient
from httpx2 import Response

from adapters.http.api_docs import openapi_document

Schema = dict[str, Any]


@dataclass
class Stats:
    checked: int = 0  # answers checked against a declared schema
    unmatched: int = 0  # answers to requests the document has no operation for


STATS = Stats()


@cache
def document() -> Schema:
    """The document, built once per process (every test's app builds the same one)."""
    return openapi_document()


@cache
def _templates() -> list[tuple[re.Pattern[str], str]]:
    """Each path template as a pattern, those with fewer parameters first: the app matches
    ``/leads/summary`` before ``/leads/{lead_id}``."""
    paths = sorted(document()["paths"], key=lambda p: p.count("{"))
    return [(re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", p) + "$"), p) for p in paths]


def template_of(path: str) -> str | None:
    """The document's path template ``path`` is an instance of, if any."""
    return next((template for pattern, template in _templates() if pattern.match(path)), None)


@cache
def _validator(schema_key: tuple[str, str, str, str]) -> Any:
    method, template, status, media = schema_key
    schema = _declared(method, template)["responses"][status]["content"][media]["schema"]
    # The response's schema with the document's components beside it, so its $refs
    # (``#/components/schemas/…``) resolve.
    return jsonschema_rs.validator_for(
        {**schema, "components": document()["components"]}, validate_formats=True
    )


def _declared(method: str, template: str) -> Schema:
    operation: Schema = document()["paths"][template][method]
    return operation


def check(response: Response) -> None:
    """Fail (AssertionError) unless ``response`` is what the document declares for its
    request's operation and its status."""
    request = response.request
    method = request.method.lower()
    template = template_of(request.url.path)
    if template is None or method not in document()["paths"][template]:
        STATS.unmatched += 1
        return
    route = f"{request.method} {template}"
    status = str(response.status_code)
    answers = _declared(method, template)["responses"]
    if status not in answers:
        raise AssertionError(
            f"{route} answered {status}, which the document does not declare "
            f"(it declares {', '.join(sorted(answers))}): {response.text[:500]}"
        )
    content = answers[status].get("content", {})
    if not response.content and not content:
        STATS.checked += 1
        return
    media = response.headers.get("content-type", "")
    if media not in content:
        raise AssertionError(
            f"{route} answered {status} as {media!r}; the document declares "
            f"{sorted(content) or 'no body'}"
        )
    if media == "application/json":
        errors = [
            f"{error.message} (at /{'/'.join(map(str, error.instance_path))})"
            for error in _validator((method, template, status, media)).iter_errors(response.json())
        ]
        if errors:
            raise AssertionError(
                f"{route} answered {status} with a body its schema refuses: "
                + "; ".join(errors[:5])
                + f"\nbody: {response.text[:2000]}"
            )
    STATS.checked += 1


def _hook(response: Response) -> None:
    response.read()
    check(response)


def checked(client: TestClient) -> TestClient:
    """``client``, checking every answer it gets against the document."""
    hooks = client.event_hooks
    if _hook not in hooks["response"]:
        client.event_hooks = {**hooks, "response": [*hooks["response"], _hook]}
    return client
