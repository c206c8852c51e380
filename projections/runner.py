"""The sales projector: follows the log and keeps the read-model tables current.

It reads the notification log in windows of positions (1,000 by default),
applies them to the in-memory view, and writes the changed rows, the
checkpoints that fell due and the tracking position in one transaction per
flush (every window when following; many windows per transaction in a
rebuild). A crash loses at most the unflushed windows, which the restart reads
again from the tracked position: every event is applied exactly once.

Why not the library's ``ProjectionRunner``: it cannot run on SQLite (no
subscriptions) and commits once per event; a rebuild needs hundreds of events
per transaction to come near the rate of reading the log.

Poison events: an event that cannot be decoded or applied is parked in the
dead-letter table with its error, logged at error level and counted; the
projector continues, so one bad event does not stop every chart. A rebuild
parks the same events, so rebuilt rows equal incremental ones.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

import structlog

from projections.log import LoggedEvent, NotificationLog
from projections.sales_projection import Dirty, apply, topics
from readmodels.rows import SalesView, encode_checkpoint, encode_identities

log = structlog.get_logger("crmledger.projector")

# The application whose log the read model follows (its tracking records carry this name).
UPSTREAM = "Sales"


@dataclass(frozen=True)
class DeadLetter:
    position: int
    topic: str
    aggregate_id: UUID
    aggregate_version: int
    error: str


# One checkpoint: position, recorded_at (micros), deals, the identities of the deals
# created since the previous checkpoint, and the encoded state (readmodels.rows).
Checkpointed = tuple[int, int, int, bytes, bytes]


class ViewStorage(Protocol):
    def load_view(self) -> SalesView: ...

    def write(
        self,
        view: SalesView,
        dirty: Dirty,
        *,
        checkpoints: Sequence[Checkpointed] = (),
        dead_letters: Sequence[DeadLetter] = (),
    ) -> None: ...

    def max_tracking_id(self, application_name: str) -> int | None: ...

    def checkpointed_deals(self) -> int: ...

    def drop(self) -> None: ...


Progress = Callable[[int, int], None]


class SalesProjector:
    """Applies the log to the view in windows of positions, writing every ``flush_every``.

    A window reads only the topics this projection applies (the library's topic
    filter, in SQL): two thirds of a sales log are quote and activity events the
    charts never look at. Windows end at multiples of ``checkpoint_interval``,
    so a checkpoint lies exactly at each multiple and an as-of query replays
    less than one interval.
    """

    def __init__(
        self,
        log_: NotificationLog,
        storage: ViewStorage,
        *,
        checkpoint_interval: int = 5000,
        batch_size: int = 1000,
        flush_every: int = 1,
    ) -> None:
        if checkpoint_interval < 1 or batch_size < 1 or flush_every < 1:
            raise ValueError("checkpoint_interval, batch_size and flush_every must be positive")
        self.log = log_
        self.storage = storage
        self.checkpoint_interval = checkpoint_interval
        self.batch_size = batch_size
        self.flush_every = flush_every
        self._topics = topics()
        self._last_checkpoint = 0
        self._identified = 0  # deals whose identities the stored checkpoints hold
        self.view = SalesView()
        self.parked = 0
        self.applied = 0

    def start(self) -> None:
        """Load the view the tables hold; it is at the tracked position."""
        self.view = self.storage.load_view()
        tracked = self.storage.max_tracking_id(UPSTREAM) or 0
        if self.view.position != tracked:
            raise RuntimeError(
                f"read model tables are at {self.view.position} but tracking says {tracked}"
            )
        self._last_checkpoint = self.view.position
        self._identified = self.storage.checkpointed_deals()

    @property
    def position(self) -> int:
        return self.view.position

    def catch_up(self, *, up_to: int | None = None, progress: Progress | None = None) -> int:
        """Apply every event after the tracked position (up to ``up_to``); return how many
        positions were passed."""
        # Only what is committed: the writers' table lock commits positions in order, so
        # every position up to the last one is final and a window may be skipped past.
        last = self.log.last_position()
        target = last if up_to is None else min(up_to, last)
        begin = self.view.position
        interval = self.checkpoint_interval
        pending = 0
        dirty = Dirty()
        letters: list[DeadLetter] = []
        checkpoints: list[Checkpointed] = []
        while self.view.position < target:
            after = self.view.position
            until = min(after + self.batch_size, (after // interval + 1) * interval, target)
            for logged in self.log.read(after, until - after, up_to=until, topics=self._topics):
                try:
                    event = self.log.decode(logged)
                    apply(self.view, event, logged.id, dirty)
                    dirty.log.append((logged.id, self.view.recorded_at))
                    self.applied += 1
                except Exception as error:  # parked, logged and counted, never skipped silently
                    self._park(logged, error, letters)
            self.view.position = until
            if until // interval > self._last_checkpoint // interval:
                checkpoints.append(self._checkpoint())
                self._last_checkpoint = until
            pending += 1
            if pending >= self.flush_every:
                self._flush(dirty, letters, checkpoints)
                pending = 0
            if progress is not None:
                progress(self.view.position, target)
        if pending:
            self._flush(dirty, letters, checkpoints)
        return self.view.position - begin

    def _checkpoint(self) -> Checkpointed:
        view, deals = self.view, len(self.view.deals.ids)
        new_deals = encode_identities(view, self._identified)
        self._identified = deals
        return (view.position, view.recorded_at, deals, new_deals, encode_checkpoint(view))

    def _park(self, logged: LoggedEvent, error: Exception, letters: list[DeadLetter]) -> None:
        self.parked += 1
        originator = logged.originator_id
        letter = DeadLetter(
            position=logged.id,
            topic=logged.topic,
            aggregate_id=originator if isinstance(originator, UUID) else UUID(originator),
            aggregate_version=logged.originator_version,
            error=f"{type(error).__name__}: {error}",
        )
        letters.append(letter)
        log.error(
            "event_parked",
            position=letter.position,
            topic=letter.topic,
            aggregate_id=str(letter.aggregate_id),
            error=letter.error,
        )

    def _flush(
        self, dirty: Dirty, letters: list[DeadLetter], checkpoints: list[Checkpointed]
    ) -> None:
        self.storage.write(self.view, dirty, checkpoints=checkpoints, dead_letters=letters)
        dirty.clear()
        letters.clear()
        checkpoints.clear()

    def rebuild(self, progress: Progress | None = None) -> int:
        """Drop the tables and apply the whole log again."""
        self.storage.drop()
        self.view = SalesView()
        self._last_checkpoint = 0
        self._identified = 0
        return self.catch_up(progress=progress)

    def run(self, stop: threading.Event, *, poll_interval: float = 0.2) -> None:
        """Follow the log until ``stop`` is set."""
        self.start()
        while not stop.is_set():
            if self.catch_up() == 0:
                stop.wait(poll_interval)


class Supervisor:
    """Runs a projector in a thread; restarts it with backoff and says so loudly."""

    def __init__(self, make: Callable[[], SalesProjector], *, poll_interval: float = 0.2) -> None:
        self._make = make
        self._poll = poll_interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.failures = 0
        self.last_error: str | None = None
        self.projector: SalesProjector | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="sales-projector", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        backoff = 0.5
        while not self._stop.is_set():
            try:
                self.projector = self._make()
                self.projector.run(self._stop, poll_interval=self._poll)
                return
            except Exception as error:  # supervised: logged, counted, restarted
                self.failures += 1
                self.last_error = f"{type(error).__name__}: {error}"
                log.exception("projector_failed", failures=self.failures)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 30.0)

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()
