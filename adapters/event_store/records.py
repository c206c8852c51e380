"""Rows of the tables beside the events, as the commands' ports see them: the same on
both databases (SQLite keeps ids and instants as text, PostgreSQL as uuid and
timestamptz)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

from commands.ports import Document, IdempotencyRecord


def _uuid(value: UUID | str) -> UUID:
    return value if isinstance(value, UUID) else UUID(value)


def _moment(value: datetime | str) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def idempotency_record(row: Mapping[str, Any]) -> IdempotencyRecord:
    return IdempotencyRecord(
        key=row["key"],
        fingerprint=row["fingerprint"],
        status_code=row["status_code"],
        body=bytes(row["body"]),
        aggregate_id=_uuid(row["aggregate_id"]),
        aggregate_version=row["aggregate_version"],
        created_at=_moment(row["created_at"]),
    )


def document(row: Mapping[str, Any]) -> Document:
    return Document(
        id=_uuid(row["id"]),
        quote_id=_uuid(row["quote_id"]),
        media_type=row["media_type"],
        content=bytes(row["content"]),
        sha256=row["sha256"],
        created_at=_moment(row["created_at"]),
    )
