"""What every process manager does around its decisions: follow the log from its own
tracking record, fire its timers in time order with the log, and loop until stopped.

A process names its tracking record (``name``), the events it reads (``topics``), and
how to find and fire its due timers (``_due``, ``_timer_key``, ``_fire_one``); what it
decides for each event (``catch_up``) is its own.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Hashable
from datetime import datetime
from typing import Generic, TypeVar

from commands.ports import ConcurrentWrite, EventStore
from readmodels.log import NotificationLog, events_between

TICK_BATCH = 200
T = TypeVar("T")


class FollowsTheLog(Generic[T]):
    name: str
    topics: frozenset[str]
    log: NotificationLog
    store: EventStore

    @property
    def position(self) -> int:
        """The log position this process has processed."""
        return self.store.tracked_position(self.name)

    @property
    def pending_topics(self) -> frozenset[str]:
        """The events whose recording time holds its timers back (``tick``)."""
        return self.topics

    def catch_up(self, *, up_to: int | None = None) -> int:
        raise NotImplementedError

    def _due(self, until: datetime, limit: int) -> list[T]:
        raise NotImplementedError

    def _timer_key(self, timer: T) -> Hashable:
        raise NotImplementedError

    def _fire_one(self, timer: T) -> bool:
        """Fire ``timer``; False when it was not (another worker's, or refused)."""
        raise NotImplementedError

    def _advance(self, target: int) -> None:
        """Record that everything up to ``target`` is processed (events that called for
        nothing save no tracking record of their own)."""
        if self.position >= target:
            return
        with contextlib.suppress(ConcurrentWrite):  # another worker recorded as far or further
            self.store.save([], tracking=target, process=self.name)

    def tick(self, now: datetime) -> int:
        """Fire every timer due by ``now``, earliest first; return how many fired.

        Not past the log: while events wait that the process has not read, only the
        timers due by the first of them fire now; ``catch_up`` fires the others in their
        order with those events.
        """
        pending = self._first_pending()
        return self._fire(now if pending is None else min(now, pending))

    def _first_pending(self) -> datetime | None:
        """When the first event the process has yet to read was recorded, if any."""
        tracked, last = self.position, self.log.last_position()
        for logged in events_between(self.log, tracked, last, self.pending_topics, window=1000):
            return self.log.recorded_at(logged)
        return None

    def _fire(self, until: datetime) -> int:
        fired = 0
        skipped: set[Hashable] = set()
        while True:
            due = [
                t
                for t in self._due(until, TICK_BATCH + len(skipped))
                if self._timer_key(t) not in skipped
            ]
            if not due:
                return fired
            for timer in due:
                if self._fire_one(timer):
                    fired += 1
                else:
                    skipped.add(self._timer_key(timer))

    def run(
        self,
        stop: threading.Event,
        now: Callable[[], datetime],
        *,
        poll_interval: float = 0.2,
        tick_interval: float = 1.0,
        healthy: Callable[[], None] = lambda: None,
    ) -> None:
        """Follow the log and tick on ``now`` until ``stop`` is set; ``healthy()`` after each
        round that worked (its supervisor's backoff starts small again)."""
        last_tick = 0.0
        while not stop.is_set():
            busy = self.catch_up() > 0
            moment = now()
            if moment.timestamp() - last_tick >= tick_interval:
                busy = self.tick(moment) > 0 or busy
                last_tick = moment.timestamp()
            healthy()
            if not busy:
                stop.wait(poll_interval)
