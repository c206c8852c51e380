"""The read model's own tables, beside its slices': where it stands, and what it parked.

``read_model_settings``: the log position the tables hold (``position``), when the
last event applied was recorded and the latest of those (``recorded_at``,
``recorded_max``, micros), and settings of the slices (the deals' reporting
currency). ``read_model_dead_letters``: events the projector could not decode or
apply, with the error, so none is skipped silently.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from readmodels.slice import Column, Rows, Table, Write, table

SETTINGS = table("read_model_settings")
DEAD_LETTERS = table("read_model_dead_letters")
# The tracking name of the read model's position: the application whose log it follows.
UPSTREAM = "Sales"

TABLES = (
    Table(
        SETTINGS,
        (Column("key", "text", True), Column("value", "text", True)),
        key=("key",),
    ),
    Table(
        DEAD_LETTERS,
        (
            Column("position", "bigint", True),
            Column("topic", "text", True),
            Column("aggregate_id", "id", True),
            Column("aggregate_version", "bigint", True),
            Column("error", "text", True),
        ),
        key=("position",),
    ),
)


@dataclass(frozen=True)
class DeadLetter:
    """An event the projector could not decode or apply, parked with its error."""

    position: int
    topic: str
    aggregate_id: UUID
    aggregate_version: int
    error: str


def dead_letters_write(letters: list[DeadLetter]) -> Write:
    return Write(
        DEAD_LETTERS,
        "upsert",
        [(d.position, d.topic, str(d.aggregate_id), d.aggregate_version, d.error) for d in letters],
    )


def dead_letters(rows: Rows) -> list[DeadLetter]:
    """The events parked so far, by position."""
    return [
        DeadLetter(position, topic, UUID(aggregate_id), version, error)
        for position, topic, aggregate_id, version, error in rows.select(
            f"SELECT * FROM {DEAD_LETTERS} ORDER BY position", kinds=TABLES[1].kinds()
        )
    ]
