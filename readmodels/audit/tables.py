"""The audit slice's table: one row per event that names who caused it.

A row belongs to the event's aggregate (as every read-model row belongs to one), so the
Kafka-side projector writes it too; a command's events are gathered at query time."""

from __future__ import annotations

import msgspec

from readmodels.slice import Column, Table, table

AUDIT_EVENTS = table("audit_events")

TABLE = Table(
    AUDIT_EVENTS,
    (
        Column("position", "bigint", True),
        Column("actor", "text", True),  # the event's ``by``
        Column("recorded_at", "stamp", True),
        Column("request_id", "text"),
        Column("causation_id", "text"),
        Column("event_type", "text", True),
        Column("aggregate_id", "id", True),
        Column("aggregate_version", "bigint", True),
    ),
    key=("position",),
    # A user's actions over a span of time, in order, without reading anyone else's.
    indexes=(("actor", "recorded_at", "position"),),
)


class AuditRow(msgspec.Struct, array_like=True, frozen=True):
    """One event as the audit slice keeps it (the table's columns, in order)."""

    position: int
    actor: str
    recorded_at: int  # micros
    request_id: str | None
    causation_id: str | None
    event_type: str
    aggregate_id: str
    aggregate_version: int
