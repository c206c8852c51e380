"""What a refused command answers (commands/refusals.py), the same over HTTP and Kafka."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from commands.errors import Contention, IdempotencyKeyReused, VersionConflict
from commands.refusals import Refusal, refusal_of
from domain.errors import AlreadyExists, DomainError, InvalidInput, Locked, NotFound, RuleViolated

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (NotFound("gone."), 404, "not_found"),
        (InvalidInput("bad."), 422, "invalid_input"),
        (RuleViolated("no."), 409, "rule_violated"),
        (Locked("sold."), 409, "locked"),
        (AlreadyExists("taken."), 409, "already_exists"),
        (VersionConflict("moved."), 409, "version_conflict"),
        (IdempotencyKeyReused("reused."), 409, "idempotency_key_reused"),
        (Contention("raced."), 409, "contention"),
        (DomainError("other."), 409, "domain_error"),
    ],
)
def test_each_kind_of_refusal_has_its_status_and_code(
    error: DomainError, status: int, code: str
) -> None:
    assert refusal_of(error) == Refusal(status=status, error=code, detail=error.detail)


def test_no_kafka_adapter_imports_the_http_adapter() -> None:
    for path in sorted((ROOT / "adapters").glob("kafka*.py")):
        tree = ast.parse(path.read_text())
        imported = [
            node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
        ] + [
            alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.Import)
            for alias in node.names
        ]
        assert not [m for m in imported if m.startswith("adapters.http")], path.name
