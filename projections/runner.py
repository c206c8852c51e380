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
from collections.abc import Callable
from typing import Protocol
from uuid import UUID

import structlog

from projections.changes import ChangeSet, Checkpointed, DeadLetter, changes_of
from projections.log import LoggedEvent, NotificationLog, originator_key
from projections.sales_projection import Dirty, apply, topics
from readmodels.rows import SalesView, encode_checkpoint, encode_identities

log = structlog.get_logger("crmledger.projector")

# The application whose log the read model follows (its tracking records carry this name).
UPSTREAM = "Sales"


class ViewStorage(Protocol):
    def load_view(self) -> SalesView: ...

    def apply(self, changes: ChangeSet) -> None:
        """Write one change set and its tracking position in one transaction."""

    def max_tracking_id(self, application_name: str) -> int | None: ...

    def checkpointed_deals(self) -> int: ...

    def last_full_checkpoint(self) -> int: ...

    def drop(self) -> None: ...


Progress = Callable[[int, int], None]


class ChangeWriter(Protocol):
    """Where the projector's change sets go: written in order, each in one transaction."""

    def submit(self, changes: ChangeSet) -> None:
        """Write ``changes`` (or hand them on to be written; ``drain`` waits for that)."""

    def drain(self) -> None:
        """Return once everything submitted is written; raise if a write failed."""


class DirectWriter:
    """Writes each change set as it is submitted, in this thread."""

    def __init__(self, storage: ViewStorage) -> None:
        self.storage = storage

    def submit(self, changes: ChangeSet) -> None:
        self.storage.apply(changes)

    def drain(self) -> None:
        return None


# Windows per transaction in a rebuild (``crmledger rebuild``): large enough that each
# deal row is written a few times rather than once per window, small enough that a
# crash midway keeps most of the work and memory stays bounded.
REBUILD_FLUSH_EVERY = 250


class SalesProjector:
    """Applies the log to the view in windows of positions, writing every ``flush_every``.

    A window reads only the topics this projection applies (the library's topic
    filter, in SQL): two thirds of a sales log are quote and activity events the
    charts never look at. Windows end at multiples of ``checkpoint_interval``,
    so a checkpoint lies exactly at each multiple and an as-of query replays
    less than one interval. Every ``full_every``-th multiple the checkpoint is
    full; between them it is a delta of the deals changed since that full one.
    """

    def __init__(
        self,
        log_: NotificationLog,
        storage: ViewStorage,
        *,
        checkpoint_interval: int = 2500,
        full_every: int = 8,
        batch_size: int = 1000,
        flush_every: int = 1,
    ) -> None:
        if min(checkpoint_interval, full_every, batch_size, flush_every) < 1:
            raise ValueError(
                "checkpoint_interval, full_every, batch_size and flush_every must be positive"
            )
        self.log = log_
        self.storage = storage
        self.checkpoint_interval = checkpoint_interval
        self.full_every = full_every
        self.batch_size = batch_size
        self.flush_every = flush_every
        self._topics = topics()
        self._last_checkpoint = 0
        self._last_full = 0  # position of the last full checkpoint (0: none yet)
        self._identified = 0  # deals whose identities the stored checkpoints hold
        self._dirty = Dirty()
        self._writer: ChangeWriter = DirectWriter(storage)
        self.view = SalesView()
        self._started = False  # the view is the tables' (start) or a rebuild's
        self.parked = 0
        self.applied = 0

    def start(self) -> None:
        """Load the view the tables hold; it is at the tracked position."""
        self._started = True
        self.view = self.storage.load_view()
        tracked = self.storage.max_tracking_id(UPSTREAM) or 0
        if self.view.position != tracked:
            raise RuntimeError(
                f"read model tables are at {self.view.position} but tracking says {tracked}"
            )
        self._last_checkpoint = self.view.position
        self._identified = self.storage.checkpointed_deals()
        self._last_full = self.storage.last_full_checkpoint()
        # What the next delta must hold: the deals changed since the last full checkpoint.
        details = self.view.details
        assert details is not None, "the tables hold a full view"
        self._dirty = Dirty()
        self._dirty.since_full.update(
            i for i, at in enumerate(details.updated_position) if at > self._last_full
        )

    @property
    def position(self) -> int:
        return self.view.position

    def catch_up(
        self,
        *,
        up_to: int | None = None,
        progress: Progress | None = None,
        writer: ChangeWriter | None = None,
    ) -> int:
        """Apply every event after the tracked position (up to ``up_to``); return how many
        positions were passed, once all of them are written (by ``writer``: default, this
        thread). A projector not started yet starts first: from an empty view it would
        apply again what the tables hold."""
        if not self._started:
            self.start()
        self._writer = writer or DirectWriter(self.storage)
        # Only what is committed: the writers' table lock commits positions in order, so
        # every position up to the last one is final and a window may be skipped past.
        last = self.log.last_position()
        target = last if up_to is None else min(up_to, last)
        begin = self.view.position
        interval = self.checkpoint_interval
        pending = 0
        dirty = self._dirty
        letters: list[DeadLetter] = []
        checkpoints: list[Checkpointed] = []
        view, read, decode = self.view, self.log.read, self.log.decode
        while view.position < target:
            after = view.position
            until = min(after + self.batch_size, (after // interval + 1) * interval, target)
            applied = 0
            for logged in read(after, until - after, up_to=until, topics=self._topics):
                try:
                    apply(view, decode(logged), logged.id, dirty, originator_key(logged))
                    applied += 1
                except Exception as error:  # parked, logged and counted, never skipped silently
                    self._park(logged, error, letters)
            self.applied += applied
            view.position = until
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
        self._writer.drain()
        return self.view.position - begin

    def _checkpoint(self) -> Checkpointed:
        view, deals = self.view, len(self.view.deals.ids)
        new_deals = encode_identities(view, self._identified)
        self._identified = deals
        span = self.checkpoint_interval * self.full_every
        base: int | None
        if view.position // span > self._last_full // span:
            base, state = None, encode_checkpoint(view)
            self._last_full = view.position
            self._dirty.since_full.clear()
        else:
            base = self._last_full
            state = encode_checkpoint(view, sorted(self._dirty.since_full))
        return Checkpointed(
            position=view.position,
            recorded_at=view.recorded_at,
            recorded_max=view.recorded_max,
            deals=deals,
            base=base,
            new_deals=new_deals,
            state=state,
        )

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
        self._writer.submit(
            changes_of(self.view, dirty, checkpoints=checkpoints, dead_letters=letters)
        )
        dirty.clear()
        letters.clear()
        checkpoints.clear()

    def rebuild(
        self, progress: Progress | None = None, *, writer: ChangeWriter | None = None
    ) -> int:
        """Drop the tables and apply the whole log again."""
        self.storage.drop()
        self._started = True
        self.view = SalesView()
        self._last_checkpoint = 0
        self._last_full = 0
        self._identified = 0
        self._dirty = Dirty()
        return self.catch_up(progress=progress, writer=writer)

    def run(
        self,
        stop: threading.Event,
        *,
        poll_interval: float = 0.2,
        healthy: Callable[[], None] = lambda: None,
    ) -> None:
        """Follow the log until ``stop`` is set; ``healthy()`` after each round that worked.
        A failure propagates: its supervisor makes a new projector, which starts from the
        tables (the tracked position), so nothing unwritten is lost or applied twice."""
        self.start()
        while not stop.is_set():
            caught_up = self.catch_up() == 0
            healthy()
            if caught_up:
                stop.wait(poll_interval)
