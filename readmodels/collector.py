"""Pausing the cyclic garbage collector while a read model builds a great many objects."""

from __future__ import annotations

import gc
import threading


class _GcPause:
    """Pause the cyclic garbage collector while an as-of view is built and charted, or
    while a rebuild projects the log.

    A view is hundreds of thousands of freshly decoded, acyclic objects (lists of
    strings and ints) freed by reference counting when the query ends; the collector
    would traverse them on every young-generation pass while they are built, which
    measured a seventh of a query's time and its slowest outliers. A rebuild holds a
    change set's rows (a row per event for the audit) the same way. Counted, so
    concurrent users pause it once and the last to finish resumes it.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._depth = 0
        self._resume = False

    def __enter__(self) -> None:
        with self._lock:
            if self._depth == 0:
                self._resume = gc.isenabled()
                gc.disable()
            self._depth += 1

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self._depth -= 1
            if self._depth == 0 and self._resume:
                gc.enable()


gc_paused = _GcPause()
