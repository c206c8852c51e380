"""The timers a contract needs: falling due for renewal, and expiring at its end."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from uuid import UUID

import msgspec

from domain.contract.state import RUNNING, Contract, TimerKind

__all__ = ["Timer", "midnight", "timers_of"]


class Timer(msgspec.Struct, frozen=True, kw_only=True):
    contract_id: UUID
    kind: TimerKind
    due_at: datetime


def midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def timers_of(contract: Contract, *, notice_days: int) -> list[Timer]:
    """The timers a contract in its state needs: none once it has ended or for a one-off."""
    if contract.contract_kind != "time_based" or contract.end is None:
        return []
    if contract.status not in RUNNING:
        return []
    timers = []
    if contract.status == "active":
        notice = contract.end - timedelta(days=notice_days)
        timers.append(Timer(contract_id=contract.id, kind="renewal_due", due_at=midnight(notice)))
    timers.append(Timer(contract_id=contract.id, kind="expiry", due_at=midnight(contract.end)))
    return timers
