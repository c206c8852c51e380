"""What the deals' tables answer: checkpoints (for as-of queries) and stage visits."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from readmodels.deals.tables import CHECKPOINTS, VISITS
from readmodels.slice import Rows
from readmodels.values import micros


def checkpoint_state(rows: Rows, position: int) -> tuple[int, int, bytes, bytes | None] | None:
    """Position, deal count and state of the last checkpoint at or before ``position``,
    and for a delta the state of its base (None for a full one, or a delta of the
    empty state)."""
    found = rows.select(
        f"SELECT c.position, c.deals, c.state, b.state AS base_state FROM {CHECKPOINTS} c "
        f"LEFT JOIN {CHECKPOINTS} b ON b.position = c.base "
        "WHERE c.position <= ? ORDER BY c.position DESC LIMIT 1",
        (position,),
    )
    if not found:
        return None
    at, deals, state, base = found[0]
    return at, deals, bytes(state), None if base is None else bytes(base)


def checkpoint_at_or_before(
    rows: Rows, position: int
) -> tuple[bytes, list[bytes], bytes | None] | None:
    """The state of the last checkpoint at or before ``position``, the deal identity
    chunks of every checkpoint up to it, and its base's state for a delta
    (``checkpoints.decode_checkpoint`` joins them)."""
    found = checkpoint_state(rows, position)
    if found is None:
        return None
    at, _, state, base = found
    chunks = rows.select(
        f"SELECT new_deals FROM {CHECKPOINTS} WHERE position <= ? ORDER BY position", (at,)
    )
    return state, [bytes(chunk[0]) for chunk in chunks], base


def identity_chunks(rows: Rows, after: int, up_to: int) -> list[tuple[int, int, bytes]]:
    """Position, deal count and new-deal identities of the checkpoints in (after, up_to]."""
    found = rows.select(
        f"SELECT position, deals, new_deals FROM {CHECKPOINTS} "
        "WHERE position > ? AND position <= ? ORDER BY position",
        (after, up_to),
    )
    return [(r[0], r[1], bytes(r[2])) for r in found]


def checkpoint_before_instant(rows: Rows, moment: datetime) -> int:
    """The position of the last checkpoint by which no applied event had been recorded
    after ``moment`` (0: none). Every event recorded by ``moment`` that comes first in
    the log lies after it, within one checkpoint interval."""
    found = rows.select(
        f"SELECT MAX(position) FROM {CHECKPOINTS} WHERE recorded_max <= ?",
        (rows.param("stamp", micros(moment)),),
    )
    return int(found[0][0]) if found and found[0][0] is not None else 0


def visits_up_to(rows: Rows, position: int) -> list[tuple[Any, ...]]:
    """Visits begun by ``position``: deal, seq, stage, entered, left, left position, next."""
    return rows.select(
        "SELECT opportunity_id, seq, stage, entered_at, left_at, left_position, next_stage "
        f"FROM {VISITS} WHERE entered_position <= ? ORDER BY opportunity_id, seq",
        (position,),
        ("id", "int", "text", "moment", "moment", "bigint", "text"),
    )
