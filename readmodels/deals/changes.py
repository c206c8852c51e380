"""What changed in the deals view since its last write, so the write holds only that."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

from readmodels.values import NONE


class VisitLeft(NamedTuple):
    """A stage visit begun in an earlier write ends (an UPDATE of its row)."""

    deal_id: str
    seq: int
    left_at: int
    left_position: int
    next_stage: str | None


# A visit row begun since the last write:
# [deal_id, seq, stage, entered_at, entered_position, left_at, left_position, next_stage]
VisitRow = list[Any]


@dataclass
class DealChanges:
    """What changed since the last write.

    A visit that begins and ends between two writes is one INSERT with both
    ends filled in, not an INSERT and an UPDATE: a rebuild writes each visit once.
    """

    deals: set[int] = field(default_factory=set)
    stages: set[str] = field(default_factory=set)
    rates: list[Any] = field(default_factory=list)  # RateRow
    targets: set[str] = field(default_factory=set)
    baselines: set[str] = field(default_factory=set)
    entered: dict[tuple[str, int], VisitRow] = field(default_factory=dict)
    left: list[VisitLeft] = field(default_factory=list)
    reporting_currency: bool = False  # set by an event since the last write
    # Deals created or changed since the last full checkpoint (what a delta holds); kept
    # across writes, emptied when a full checkpoint is written.
    since_full: set[int] = field(default_factory=set)

    def enter(self, deal_id: str, seq: int, stage: str, at: int, position: int) -> None:
        self.entered[(deal_id, seq)] = [deal_id, seq, stage, at, position, NONE, None, None]

    def leave(self, deal_id: str, seq: int, at: int, position: int, next_stage: str | None) -> None:
        row = self.entered.get((deal_id, seq))
        if row is None:
            self.left.append(VisitLeft(deal_id, seq, at, position, next_stage))
        else:
            row[5], row[6], row[7] = at, position, next_stage

    def clear(self) -> None:
        """Forget what was written (``since_full`` stays: the checkpoints keep it)."""
        self.deals.clear()
        self.stages.clear()
        self.rates.clear()
        self.targets.clear()
        self.baselines.clear()
        self.entered.clear()
        self.left.clear()
        self.reporting_currency = False
