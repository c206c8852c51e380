"""The HTTP tests' clients check every answer they get against the OpenAPI document
(``answer_schemas``): a route answering a field, a type or a status its document does
not declare fails the test that met it."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.http.answer_schemas import checked


@pytest.fixture
def client(client: TestClient) -> TestClient:
    """The HTTP API on the embedded store, as an admin; every answer checked."""
    return checked(client)


@pytest.fixture
def any_client(any_client: TestClient) -> TestClient:
    """The HTTP API on SQLite and on PostgreSQL, as an admin; every answer checked."""
    return checked(any_client)
