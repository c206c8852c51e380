"""Baselines: a frozen copy of one chart as it stood at a log position.

The chart's canonical JSON is kept in the event itself, with its SHA-256, so a
baseline can always be shown and verified against a replay of the log.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime
from typing import ClassVar, Literal

from domain.access import RecordAccess
from domain.aggregate import AggregateState, Event, created, evolve
from domain.errors import InvalidInput, NotFound

Chart = Literal["pipeline", "forecast"]

# A baseline taken by a user who sees part of the records keeps their scope among its
# parameters (``scope.login``, ``scope.role``, ``scope.team``, ``scope.partner``): its
# chart counts, now and when verified, what they could see. The others are unscoped.
SCOPE_PREFIX = "scope."


def taken_for(params: Mapping[str, str]) -> str | None:
    """The login whose scope a baseline's chart counts (None: unscoped, all records)."""
    return params.get(f"{SCOPE_PREFIX}login")


def baseline_access(params: Mapping[str, str]) -> RecordAccess:
    """Who sees a baseline: a scoped one is its taker's (and so their managers'); an
    unscoped one counts every record, so only the roles that see everything see it."""
    taker = taken_for(params)
    return RecordAccess(owners=frozenset({taker} if taker else ()))


class Baseline(AggregateState, frozen=True, kw_only=True):
    kind: ClassVar[str] = "baseline"
    name: str
    chart: Chart
    params: dict[str, str]
    position: int
    as_of: datetime
    sha256: str
    document: str
    taken_at: datetime


class BaselineTaken(Event[Baseline], frozen=True, kw_only=True):
    name: str
    chart: Chart
    params: dict[str, str]
    position: int
    as_of: datetime
    sha256: str
    # The chart's canonical JSON: exactly the bytes the SHA-256 is of.
    document: str

    def apply(self, state: Baseline | None) -> Baseline:
        return created(Baseline, self, taken_at=self.recorded_at)


class BaselineDeleted(Event[Baseline], frozen=True, kw_only=True):
    def apply(self, state: Baseline) -> Baseline:
        return evolve(state, deleted=True)


BaselineEvent = BaselineTaken | BaselineDeleted


def take(
    name: str,
    chart: Chart,
    params: dict[str, str],
    *,
    position: int,
    as_of: datetime,
    document: str,
) -> list[BaselineEvent]:
    if not name.strip():
        raise InvalidInput("a baseline needs a name.")
    digest = hashlib.sha256(document.encode("utf-8")).hexdigest()
    return [
        BaselineTaken(
            name=name.strip(),
            chart=chart,
            params=params,
            position=position,
            as_of=as_of,
            sha256=digest,
            document=document,
        )
    ]


def delete(state: Baseline) -> list[BaselineEvent]:
    if state.deleted:
        raise NotFound(f"baseline {state.id} was deleted.")
    return [BaselineDeleted()]
