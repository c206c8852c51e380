"""Answering read-model queries, now or as of any past instant or position.

As of a position: start from the latest checkpoint at or before it and replay
at most one checkpoint interval of events into a view (never from the start).
The current position is kept warm: the last view built is moved forward by
replaying only what came after it.

The deals' checkpoints also index instants for every slice: they note the latest
recording time of any event the read model applied by their position, so an
instant maps to a log position through them (``position_at``); the contracts and
leads slices answer as of that position with their versioned rows.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection
from datetime import datetime
from typing import Protocol, TypeVar

from domain.errors import InvalidInput, RuleViolated
from readmodels.bookkeeping import UPSTREAM
from readmodels.collector import gc_paused
from readmodels.deals import stored
from readmodels.deals.checkpoints import (
    DealIdentities,
    decode_identities,
    decode_state,
    view_of,
)
from readmodels.deals.evolve import TOPICS, apply
from readmodels.deals.view import DealsView
from readmodels.log import NotificationLog, events_between, originator_key
from readmodels.slice import Rows
from readmodels.values import EPOCH, micros

T = TypeVar("T")


class ReadStorage(Rows, Protocol):
    """The read-model tables, and how far the projector has written them."""

    def max_tracking_id(self, application_name: str) -> int | None: ...


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
    """The read model's position, and the deals view as of any position or instant.

    ``topics``: every topic the read model reads (all its slices', ``readmodels.TOPICS``).
    A replay reads them all so that a view's recording time is the read model's, not
    only the deals'.
    """

    def __init__(
        self,
        storage: ReadStorage,
        log: NotificationLog,
        *,
        checkpoint_interval: int,
        topics: Collection[str],
        replay_batch: int = 2000,
    ) -> None:
        self.storage = storage
        self.log = log
        self.checkpoint_interval = checkpoint_interval
        self.topics = topics
        self.replay_batch = replay_batch
        self._lock = threading.Lock()
        self._live: DealsView | None = None
        self._identities = _IdentityCache(storage)

    # --- positions --------------------------------------------------------------------

    def tracked(self) -> int:
        return self.storage.max_tracking_id(UPSTREAM) or 0

    def wait_for(self, position: int | None, timeout: float = 5.0) -> None:
        """Return once the read model has processed ``position`` (read your writes)."""
        if position is None:
            return
        self.ensure_written(position)
        deadline = time.monotonic() + timeout
        delay = 0.01
        while (reached := self.tracked()) < position:
            if time.monotonic() >= deadline:
                raise NotCaughtUp(position, reached)
            time.sleep(delay)
            delay = min(delay * 2, 0.2)

    def ensure_written(self, position: int) -> None:
        """Refuse at once a position no write has reached yet: waiting for it could only
        time out."""
        if self.tracked() < position and position > (end := self.log.last_position()):
            raise RuleViolated(
                f"wait_for {position} is past the log's end (position {end}); "
                "pass a position a command answered."
            )

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
        return AsOf(self.position_at(moment, tracked), moment, explicit_instant=True)

    def position_at(self, moment: datetime, tracked: int | None = None) -> int:
        """The log as it stood at ``moment``: every position before the first event this
        read model applies that was recorded after ``moment`` (docs/readmodels.md), so the
        answer's position does not depend on events the read model does not read.

        Checkpoints note the latest recording time applied by their position, which
        only grows: the last checkpoint whose latest is not after ``moment`` is found by
        index, and from it the log is scanned (recording times only, at most about one
        checkpoint interval) up to the first event recorded later.
        """
        tracked = self.tracked() if tracked is None else tracked
        cutoff = micros(moment)
        position = min(stored.checkpoint_before_instant(self.storage, moment), tracked)
        for logged in events_between(
            self.log, position, tracked, self.topics, window=self.replay_batch
        ):
            try:
                recorded = micros(self.log.recorded_at(logged))
            except Exception:  # parked by the projector: it applied nothing there
                continue
            if recorded > cutoff:
                return logged.id - 1
            position = logged.id
        return tracked

    # --- views ------------------------------------------------------------------

    def with_view(self, point: AsOf, use: Callable[[DealsView, datetime], T]) -> T:
        """Call ``use(view, instant)`` with the chart view at ``point.position``."""
        with gc_paused:
            return self._with_view(point, use)

    def _with_view(self, point: AsOf, use: Callable[[DealsView, datetime], T]) -> T:
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

    def recorded_instant(self, position: int) -> datetime | None:
        """When the last event the read model applied by ``position`` was recorded."""
        point = AsOf(position, None, explicit_instant=False)
        return self.with_view(point, lambda view, _: view.recorded_instant)

    def view_at(self, position: int) -> DealsView:
        """A fresh chart view at ``position`` (not shared with the cache)."""
        with gc_paused:
            view = self._from_checkpoint(position)
            self._replay(view, position)
        return view

    def _from_checkpoint(self, position: int) -> DealsView:
        found = stored.checkpoint_state(self.storage, position)
        if found is None:
            return DealsView(full=False)
        at, deals, state, base = found
        identities, index = self._identities.up_to(at, deals)
        return view_of(decode_state(state, base), identities, index=index)

    def _replay(self, view: DealsView, position: int) -> None:
        replay(view, self.log, position, topics=self.topics, batch=self.replay_batch)


class _IdentityCache:
    """Deal identities (their ids) decoded once and shared by as-of views.

    They are append-only and in creation order, the same in every checkpoint and
    every rebuild of the same log: a view at a checkpoint takes the first
    ``deals`` of them. Only chunks of checkpoints not seen yet are read.
    """

    def __init__(self, storage: ReadStorage) -> None:
        self.storage = storage
        self._lock = threading.Lock()
        self._joined = DealIdentities([])
        self._index: dict[str, int] = {}
        self._position = 0

    def up_to(self, position: int, deals: int) -> tuple[DealIdentities, dict[str, int]]:
        with self._lock:
            if position > self._position:
                chunks = stored.identity_chunks(self.storage, self._position, position)
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
            return DealIdentities(joined.ids[:deals]), self._index


def replay(
    view: DealsView,
    log: NotificationLog,
    position: int,
    *,
    topics: Collection[str],
    batch: int = 2000,
) -> None:
    """Apply the events after ``view.position`` up to ``position`` to ``view``: the deals'
    events change it; every one of ``topics`` moves its progress on (and of those only
    the envelope is decoded: its recording time)."""
    changes = view.changes
    decoders = {t: log.decoder(t, body=t in TOPICS) for t in topics}
    for logged in events_between(log, view.position, position, topics, window=batch):
        try:
            apply(view, decoders[logged.topic](logged), logged.id, originator_key(logged))
        except Exception:
            # The projector parked this event; skip it the same way.
            view.progress.position = logged.id
        if len(changes.deals) > batch:
            changes.clear()  # a chart view keeps no change notes; bound their memory
    view.progress.position = max(view.position, position)


def replay_from_start(log: NotificationLog, position: int, *, topics: Collection[str]) -> DealsView:
    """A fresh projection of the log up to ``position``, ignoring every checkpoint (verify)."""
    view = DealsView(full=False)
    replay(view, log, position, topics=topics)
    return view
