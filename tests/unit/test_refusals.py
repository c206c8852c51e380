"""What a refused command answers (commands/refusals.py), the same over HTTP and Kafka."""

from __future__ import annotations

import pytest

from commands.errors import Contention, IdempotencyKeyReused, VersionConflict
from commands.refusals import Refusal, refusal_of
from domain.errors import AlreadyExists, DomainError, InvalidInput, Locked, NotFound, RuleViolated
from domain.user import NotAnActiveUser


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (NotFound("gone."), 404, "not_found"),
        (InvalidInput("bad."), 422, "invalid_input"),
        (NotAnActiveUser("'zoe' (the owner) is not a user."), 409, "invalid_user"),
        (RuleViolated("no."), 409, "rule_violated"),
        (Locked("sold."), 409, "locked"),
        (AlreadyExists("taken.", "x"), 409, "already_exists"),
        (VersionConflict("moved."), 409, "version_conflict"),
        (IdempotencyKeyReused("reused."), 409, "idempotency_key_reused"),
        (Contention("raced."), 409, "contention"),
        (DomainError("other."), 409, "domain_error"),
    ],
)
def test_each_kind_of_refusal_has_its_status_and_code(
    error: DomainError, status: int, code: str
) -> None:
    existing = "x" if code == "already_exists" else None
    assert refusal_of(error) == Refusal(
        status=status, error=code, detail=error.detail, existing_id=existing
    )
