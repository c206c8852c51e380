"""Answering read-model queries, now or as of any past instant or position.

As of a position: start from the latest checkpoint at or before it and replay
at most one checkpoint interval of events into a view (never from the start).
The current position is kept warm: the last view built is moved forward by
replaying only what came after it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Protocol, TypeVar

from domain.errors import InvalidInput, RuleViolated
from projections.log import NotificationLog
from projections.runner import UPSTREAM
from projections.sales_projection import Dirty, apply, topics
from readmodels.rows import EPOCH, DealIdentities, SalesView, decode_identities, decode_state

T = TypeVar("T")


class ReadStorage(Protocol):
    def max_tracking_id(self, application_name: str) -> int | None: ...

    def checkpoint_state(self, position: int) -> tuple[int, int, bytes] | None: ...

    def identity_chunks(self, after: int, up_to: int) -> list[tuple[int, int, bytes]]: ...

    def position_at(self, moment: datetime) -> int | None: ...

    def recorded_at(self, position: int) -> datetime | None: ...


class NotCaughtUp(Exception):
    """The read model has not processed the position asked for, within the wait allowed."""

    def __init__(self, wanted: int, reached: int) -> None:
        super().__init__(
            f"the read model has processed the log up to position {reached}, not yet {wanted}; "
            "try again shortly."
        )
        self.detail = str(self)


class AsOf:
    """The point a query answers for: a log position and the instant used for rates."""

    def __init__(self, position: int, instant: datetime | None, *, explicit_instant: bool) -> None:
        self.position = position
        self.instant = instant
        self.explicit_instant = explicit_instant


class ReadModelQueries:
    def __init__(
        self,
        storage: ReadStorage,
        log: NotificationLog,
        *,
        checkpoint_interval: int,
        replay_batch: int = 2000,
    ) -> None:
        self.storage = storage
        self.log = log
        self.checkpoint_interval = checkpoint_interval
        self.replay_batch = replay_batch
        self._lock = threading.Lock()
        self._live: SalesView | None = None
        self._identities = _IdentityCache(storage)

    # --- positions --------------------------------------------------------------------

    def tracked(self) -> int:
        return self.storage.max_tracking_id(UPSTREAM) or 0

    def wait_for(self, position: int | None, timeout: float = 5.0) -> None:
        """Return once the read model has processed ``position`` (read your writes)."""
        if position is None:
            return
        deadline = time.monotonic() + timeout
        delay = 0.01
        while (reached := self.tracked()) < position:
            if time.monotonic() >= deadline:
                raise NotCaughtUp(position, reached)
            time.sleep(delay)
            delay = min(delay * 2, 0.2)

    def resolve(self, as_of: str | None) -> AsOf:
        """``as_of`` is absent (now), a log position (digits) or an ISO 8601 instant."""
        tracked = self.tracked()
        if as_of is None or not as_of.strip():
            return AsOf(tracked, None, explicit_instant=False)
        text = as_of.strip()
        if text.isdigit():
            position = int(text)
            if position > tracked:
                raise RuleViolated(
                    f"position {position} is beyond what the read model has processed ({tracked}); "
                    "use wait_for to wait for it."
                )
            return AsOf(position, None, explicit_instant=False)
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise InvalidInput(
                f"as_of {as_of!r} is neither a log position nor an ISO 8601 instant."
            ) from None
        if moment.tzinfo is None:
            raise InvalidInput("an as_of instant needs a UTC offset, e.g. 2027-03-31T18:00:00Z.")
        position = self.storage.position_at(moment) or 0
        return AsOf(min(position, tracked), moment, explicit_instant=True)

    # --- views ------------------------------------------------------------------

    def with_view(self, point: AsOf, use: Callable[[SalesView, datetime], T]) -> T:
        """Call ``use(view, instant)`` with the chart view at ``point.position``."""
        with self._lock:
            live = self._live
            if (
                live is not None
                and live.position <= point.position
                and point.position - live.position <= self.checkpoint_interval
            ):
                view = live
            else:
                view = self._from_checkpoint(point.position)
            self._replay(view, point.position)
            if self._live is None or view.position >= self._live.position:
                self._live = view
            instant = point.instant or view.recorded_instant or EPOCH
            if view is self._live:
                return use(view, instant)
        return use(view, instant)

    def view_at(self, position: int) -> SalesView:
        """A fresh chart view at ``position`` (not shared with the cache)."""
        view = self._from_checkpoint(position)
        self._replay(view, position)
        return view

    def _from_checkpoint(self, position: int) -> SalesView:
        found = self.storage.checkpoint_state(position)
        if found is None:
            return SalesView(full=False)
        at, deals, state = found
        identities, index = self._identities.up_to(at, deals)
        return SalesView.from_checkpoint(decode_state(state), identities, index=index)

    def _replay(self, view: SalesView, position: int) -> None:
        replay(view, self.log, position, batch=self.replay_batch)


class _IdentityCache:
    """Deal identities (id, account, pipeline) decoded once and shared by as-of views.

    They are append-only and in creation order, the same in every checkpoint and
    every rebuild of the same log: a view at a checkpoint takes the first
    ``deals`` of them. Only chunks of checkpoints not seen yet are read.
    """

    def __init__(self, storage: ReadStorage) -> None:
        self.storage = storage
        self._lock = threading.Lock()
        self._joined = DealIdentities([], [], [])
        self._index: dict[str, int] = {}
        self._position = 0

    def up_to(self, position: int, deals: int) -> tuple[DealIdentities, dict[str, int]]:
        with self._lock:
            if position > self._position:
                chunks = self.storage.identity_chunks(self._position, position)
                start = len(self._joined.ids)
                decode_identities((chunk for _, _, chunk in chunks), into=self._joined)
                ids = self._joined.ids
                self._index.update(zip(ids[start:], range(start, len(ids)), strict=True))
                self._position = chunks[-1][0] if chunks else position
            joined = self._joined
            if len(joined.ids) < deals:
                raise RuntimeError(
                    f"the checkpoint at {position} has {deals} deals but its identity chunks "
                    f"name {len(joined.ids)}: the read-model tables are inconsistent"
                )
            return (
                DealIdentities(
                    joined.ids[:deals], joined.account_ids[:deals], joined.pipeline_ids[:deals]
                ),
                self._index,
            )


def replay(view: SalesView, log: NotificationLog, position: int, *, batch: int = 2000) -> None:
    """Apply the events after ``view.position`` up to ``position`` to ``view``."""
    relevant = topics()
    dirty = Dirty()
    while view.position < position:
        events = log.read(view.position, batch, up_to=position, topics=relevant)
        if not events:
            break
        for logged in events:
            try:
                apply(view, log.decode(logged), logged.id, dirty)
            except Exception:
                # The projector parked this event; skip it the same way.
                view.position = logged.id
        dirty.clear()
    view.position = max(view.position, position)


def replay_from_start(log: NotificationLog, position: int) -> SalesView:
    """A fresh projection of the log up to ``position``, ignoring every checkpoint (verify)."""
    view = SalesView(full=False)
    replay(view, log, position)
    return view
