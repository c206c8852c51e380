"""The read model in memory: every slice's state at one log position.

An event goes to each slice that reads its type (``Slice.handlers``), and moves the
shared progress on (position, recording time). A flush collects what every slice
changed since the last one, as writes. The projector, a rebuild, the Kafka-side
projector and the tests that compare them all hold their state this way; none of
them knows a slice by name.

An event whose type only envelope readers read (``readmodels.slice.EnvelopeReader``:
the audit slice, for the quote and activity events no chart reads) may be applied as
its envelope alone (``domain.events.envelope_of``): the projector decodes the bodies of
``bodies`` only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from domain.events import DomainEvent, Envelope, envelope_of
from readmodels.slice import Progress, Rows, Slice, Write, reads_bodies, topics
from readmodels.values import micros


class Projection:
    def __init__(
        self, slices: Sequence[Slice[Any]], states: Sequence[Any], progress: Progress
    ) -> None:
        self.slices = tuple(slices)
        self.states = list(states)
        self.progress = progress
        # event type -> what to call with it: (handler, state) of each slice that reads it
        routes: dict[type[Envelope], list[tuple[Callable[..., None], Any]]] = {}
        read: dict[type[DomainEvent], bool] = {}  # type -> does a slice read its body
        for slice_, state in zip(self.slices, self.states, strict=True):
            body = reads_bodies(slice_)
            for event_type, handler in slice_.handlers.items():
                routes.setdefault(event_type, []).append((handler, state))
                read[event_type] = read.get(event_type, False) or body
        # A type whose body no slice reads is routed by its envelope too.
        for event_type, body in read.items():
            if not body:
                routes[envelope_of(event_type)] = routes[event_type]
        # Most types have one reader: called directly, without a loop (a rebuild applies
        # hundreds of thousands of events).
        self._one = {t: calls[0] for t, calls in routes.items() if len(calls) == 1}
        self._many = {t: tuple(calls) for t, calls in routes.items() if len(calls) > 1}
        self.topics = topics(read)
        # The topics to decode in full; of the others, the envelope is all any slice reads.
        self.bodies = topics(t for t, body in read.items() if body)

    @classmethod
    def empty(cls, slices: Sequence[Slice[Any]]) -> Projection:
        """Every slice before any event (a rebuild)."""
        progress = Progress()
        return cls(slices, [s.empty(progress) for s in slices], progress)

    @classmethod
    def load(cls, slices: Sequence[Slice[Any]], rows: Rows, progress: Progress) -> Projection:
        """Every slice as its tables hold it, at ``progress``."""
        return cls(slices, [s.load(rows, progress) for s in slices], progress)

    @property
    def position(self) -> int:
        return self.progress.position

    def state(self, slice_: Slice[Any]) -> Any:
        return self.states[self.slices.index(slice_)]

    def apply(self, event: Envelope, position: int, key: str | None = None) -> None:
        """Apply ``event`` (or its envelope alone, when its topic is not among ``bodies``)
        at ``position``; ``key`` is ``str(event.originator_id)`` when the caller has it
        already (a ``LogRow``), sparing the conversion."""
        one = self._one.get(type(event))
        if one is not None:
            one[0](one[1], event, position, key or str(event.originator_id))
        else:
            calls = self._many.get(type(event))
            if calls is not None:
                originator = key or str(event.originator_id)
                for handler, state in calls:
                    handler(state, event, position, originator)
        progress = self.progress
        progress.position = position
        recorded = progress.recorded_at = micros(event.recorded_at)
        progress.recorded_max = max(progress.recorded_max, recorded)

    def flush(self) -> list[Write]:
        """What every slice changed since the last flush, as writes (and forget it)."""
        return [
            write
            for slice_, state in zip(self.slices, self.states, strict=True)
            for write in slice_.flush(state)
        ]
