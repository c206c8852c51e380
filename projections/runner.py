"""The projector: follows the log and keeps the read-model tables current.

It reads the notification log in windows of positions (1,000 by default), applies
them to every slice in memory (``Projection``), and writes what changed, the
checkpoints that fell due and the tracking position in one transaction per flush
(every window when following; many windows per transaction in a rebuild). A
crash loses at most the unflushed windows, which the restart reads again from the
tracked position: every event is applied exactly once.

Why not the library's ``ProjectionRunner``: it cannot run on SQLite (no
subscriptions) and commits once per event; a rebuild needs hundreds of events
per transaction to come near the rate of reading the log.

Poison events: an event that cannot be decoded or applied is parked in the
dead-letter table with its error, logged at error level and counted; the
projector continues, so one bad event does not stop every chart. A rebuild
parks the same events, so rebuilt rows equal incremental ones. An event that only
envelope readers read (``Projection.bodies``) is decoded, and so checked, only as far
as its envelope: a body that does not fit its type is not noticed there.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any, Protocol
from uuid import UUID

import structlog

from domain.events import Envelope
from projections.changes import ChangeSet, settings_write
from projections.projection import Projection
from projections.writer import ChangeWriter, DirectWriter
from readmodels.bookkeeping import SETTINGS, UPSTREAM, DeadLetter, dead_letters_write
from readmodels.collector import gc_paused
from readmodels.log import LoggedEvent, NotificationLog, originator_key
from readmodels.slice import Progress, Rows, Slice, Write, every_topic
from readmodels.values import NONE

log = structlog.get_logger("crmledger.projector")

Progressed = Callable[[int, int], None]  # (position reached, target)

# Windows per transaction in a rebuild (``crmledger rebuild``): large enough that each
# deal row is written a few times rather than once per window, small enough that a
# crash midway keeps most of the work and memory stays bounded.
REBUILD_FLUSH_EVERY = 250


class ReadModelStore(Rows, Protocol):
    """The read-model tables, as the projector uses them."""

    def apply(self, changes: ChangeSet) -> None:
        """Write one change set and its tracking position in one transaction."""

    def max_tracking_id(self, application_name: str) -> int | None: ...

    def drop(self) -> None:
        """Drop every table and the tracking position, and create the tables again."""


def stored_progress(rows: Rows) -> Progress:
    """Where the tables stand (their settings rows)."""
    settings = dict(rows.select(f"SELECT key, value FROM {SETTINGS}"))
    return Progress(
        int(settings.get("position", 0)),
        int(settings.get("recorded_at", NONE)),
        int(settings.get("recorded_max", NONE)),
    )


class Projector:
    """Applies the log to the slices in windows of positions, writing every ``flush_every``.

    A window reads only the topics the slices read (the library's topic filter, in
    SQL): two thirds of a sales log are quote and activity events no slice reads.
    Windows end at multiples of ``checkpoint_interval``, so a checkpoint lies exactly
    at each multiple and an as-of query replays less than one interval; every
    ``full_every``-th one is full, those between deltas.
    """

    def __init__(
        self,
        log_: NotificationLog,
        store: ReadModelStore,
        slices: Sequence[Slice[Any]],
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
        self.store = store
        self.slices = tuple(slices)
        self.checkpoint_interval = checkpoint_interval
        self.full_every = full_every
        self.batch_size = batch_size
        self.flush_every = flush_every
        self.projection = Projection.empty(self.slices)
        self._started = False  # the projection is the tables' (start) or a rebuild's
        self._last_checkpoint = 0
        self._writer: ChangeWriter = DirectWriter(store)
        self.parked = 0
        self.applied = 0

    def start(self) -> None:
        """Load the slices the tables hold; they are at the tracked position."""
        self._started = True
        progress = stored_progress(self.store)
        tracked = self.store.max_tracking_id(UPSTREAM) or 0
        if progress.position != tracked:
            raise RuntimeError(
                f"read model tables are at {progress.position} but tracking says {tracked}"
            )
        self.projection = Projection.load(self.slices, self.store, progress)
        self._last_checkpoint = progress.position

    @property
    def position(self) -> int:
        return self.projection.position

    def catch_up(
        self,
        *,
        up_to: int | None = None,
        progress: Progressed | None = None,
        writer: ChangeWriter | None = None,
    ) -> int:
        """Apply every event after the tracked position (up to ``up_to``); return how many
        positions were passed, once all of them are written (by ``writer``: default, this
        thread). A projector not started yet starts first: from empty slices it would
        apply again what the tables hold."""
        if not self._started:
            self.start()
        self._writer = writer or DirectWriter(self.store)
        # Only what is committed: the writers' table lock commits positions in order, so
        # every position up to the last one is final and a window may be skipped past.
        last = self.log.last_position()
        target = last if up_to is None else min(up_to, last)
        projection = self.projection
        begin = projection.position
        interval = self.checkpoint_interval
        pending = 0
        letters: list[DeadLetter] = []
        checkpoints: list[Write] = []
        apply, read = projection.apply, self.log.read
        decoders = self._decoders()
        # Filtered in SQL, unless the slices read every type there is (the audit slice
        # does): then a filter only costs, and a topic no one reads is skipped here.
        topics = () if projection.topics >= every_topic() else projection.topics
        while projection.position < target:
            after = projection.position
            until = min(after + self.batch_size, (after // interval + 1) * interval, target)
            applied = 0
            for logged in read(after, until - after, up_to=until, topics=topics):
                decoder = decoders.get(logged.topic)
                if decoder is None:
                    continue  # a type no slice reads
                try:
                    apply(decoder(logged), logged.id, originator_key(logged))
                    applied += 1
                except Exception as error:  # parked, logged and counted, never skipped silently
                    self._park(logged, error, letters)
            self.applied += applied
            projection.progress.position = until
            if until // interval > self._last_checkpoint // interval:
                checkpoints.extend(self._checkpoints())
                self._last_checkpoint = until
            pending += 1
            if pending >= self.flush_every:
                self._flush(letters, checkpoints)
                pending = 0
            if progress is not None:
                progress(projection.position, target)
        if pending:
            self._flush(letters, checkpoints)
        self._writer.drain()
        return projection.position - begin

    def _decoders(self) -> dict[str, Callable[[LoggedEvent], Envelope]]:
        """How each topic the slices read is decoded: in full, or (when only envelope
        readers read it) its envelope alone, its body skipped."""
        bodies, decoder = self.projection.bodies, self.log.decoder
        return {t: decoder(t, body=t in bodies) for t in self.projection.topics}

    def _checkpoints(self) -> list[Write]:
        projection = self.projection
        return [
            checkpoint(state, projection.progress, self.checkpoint_interval, self.full_every)
            for slice_, state in zip(projection.slices, projection.states, strict=True)
            if (checkpoint := getattr(slice_, "checkpoint", None)) is not None
        ]

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

    def _flush(self, letters: list[DeadLetter], checkpoints: list[Write]) -> None:
        projection = self.projection
        writes = projection.flush()
        writes.append(settings_write(projection.progress))
        if letters:
            writes.append(dead_letters_write(letters))
        writes.extend(checkpoints)
        self._writer.submit(ChangeSet(position=projection.position, writes=writes))
        letters.clear()
        checkpoints.clear()

    def rebuild(
        self, progress: Progressed | None = None, *, writer: ChangeWriter | None = None
    ) -> int:
        """Drop the tables and apply the whole log again (the cyclic garbage collector
        paused: a change set's rows are hundreds of thousands of acyclic objects it would
        traverse again and again, a tenth of the projecting time)."""
        self.store.drop()
        self._started = True
        self.projection = Projection.empty(self.slices)
        self._last_checkpoint = 0
        with gc_paused:
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
