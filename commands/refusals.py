"""What a refused command answers, the same over every transport (HTTP, Kafka).

A refusal is the domain's (or the command layer's) exception turned into an outcome:
a status (the HTTP status code, which Kafka results carry too), the error's code, and
its sentence. By kind: ``NotFound`` → 404, ``InvalidInput`` → 422, ``Forbidden`` → 403,
``RuleViolated``
and its subclasses (locked, already exists, version conflict, idempotency key reused,
contention) → 409; any other ``DomainError`` → 409.
"""

from __future__ import annotations

import msgspec

from domain.access import Forbidden
from domain.errors import AlreadyExists, DomainError, InvalidInput, NotFound

# The first kind an error is an instance of gives its status.
STATUSES: tuple[tuple[type[DomainError], int], ...] = (
    (NotFound, 404),
    (InvalidInput, 422),
    (Forbidden, 403),
)
DEFAULT_STATUS = 409


class Refusal(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    status: int
    error: str
    detail: str
    existing_id: str | None = None  # already_exists: the record that exists


def status_of(error: DomainError) -> int:
    for kind, status in STATUSES:
        if isinstance(error, kind):
            return status
    return DEFAULT_STATUS


def refusal_of(error: DomainError) -> Refusal:
    return Refusal(
        status=status_of(error),
        error=error.code,
        detail=error.detail,
        existing_id=error.existing_id if isinstance(error, AlreadyExists) else None,
    )
