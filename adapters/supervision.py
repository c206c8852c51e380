"""Keeping a loop alive: the projector, the process manager, the relay, the consumers.

Each runs under a ``Supervisor``: when its loop fails it is closed, waited on
(capped exponential backoff) and made again, and the new one goes on from the
position its predecessor recorded — every loop here keeps its position in the
database, written with what it did. While the failure is an outage (PostgreSQL or
Kafka away) it waits quietly: one warning per attempt naming what it waits for, and
``Health`` shows it (``/health``, ``/read-models/status``). Any other failure is
logged with its traceback and retried the same way, so a transient bug does not stop
the read models for good. Only bad settings end it: ``SettingsProblem``, which the
worker turns into one sentence and exit code 2.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from typing import Any, Generic, Protocol, TypeVar

import structlog

from adapters.outages import Backoff, Health, SettingsProblem, one_line, outage_of, settings_problem

log = structlog.get_logger("crmledger.supervisor")

L = TypeVar("L")


class Pulse(Protocol):
    """What a supervised loop reports as it goes: ``pulse()`` after each round that worked
    (a wait that ended is reported, the backoff starts small again), ``pulse.waiting(…)``
    when it finds itself waiting without failing (kafka-python waits inside its calls)."""

    def __call__(self) -> None: ...

    def waiting(self, dependency: str, error: str) -> None: ...


class NoPulse:
    """For a loop run without a supervisor (tests, tools): reports go nowhere."""

    def __call__(self) -> None:
        return None

    def waiting(self, dependency: str, error: str) -> None:
        return None


# run(loop, stop, pulse): follow until ``stop``, reporting to ``pulse``.
Run = Callable[[L, threading.Event, Pulse], None]


class _SupervisorPulse:
    def __init__(self, supervisor: Supervisor[Any]) -> None:
        self.supervisor = supervisor

    def __call__(self) -> None:
        self.supervisor._last_pulse = time.monotonic()
        self.supervisor.backoff.reset()
        self.supervisor.health.running(self.supervisor.role)

    def waiting(self, dependency: str, error: str) -> None:
        role = self.supervisor.role
        entry = self.supervisor.health.waiting(role, dependency, error, retry_in=0)
        log.warning(
            f"waiting_for_{dependency.split(maxsplit=1)[0].lower()}",
            role=role,
            error=entry.error,
            attempts=entry.attempts,
        )


class Supervisor(Generic[L]):
    def __init__(
        self,
        role: str,
        make: Callable[[], L],
        run: Run[L],
        *,
        health: Health,
        close: Callable[[L], None] | None = None,
        max_backoff: float = 30.0,
        watch: Callable[[], tuple[str, str] | None] | None = None,
        watch_every: float = 5.0,
    ) -> None:
        self.role = role
        # A loop that waits inside a library call reports nothing: after ``watch_every`` s
        # without progress, ``watch()`` says what it waits for (None: nothing is away).
        self._watch = watch
        self._watch_every = watch_every
        self._watched: str | None = None  # what the watchdog last found away
        self._last_pulse = time.monotonic()
        self._backing_off = False
        self._make = make
        self._run = run
        self._close = close
        self.health = health
        self.backoff = Backoff(first=0.5, cap=max_backoff)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.failures = 0  # failures that were not outages
        self.last_error: str | None = None
        self.fatal: str | None = None  # the settings problem that ended it
        self.loop: L | None = None  # the loop running now

    def start(self) -> None:
        """Run in a background thread (``serve`` on the embedded store)."""
        self._thread = threading.Thread(target=self._guarded, name=self.role, daemon=True)
        self._thread.start()

    def _guarded(self) -> None:
        # Bad settings are recorded in ``fatal`` and logged; the thread ends.
        with contextlib.suppress(SettingsProblem):
            self.run(self._stop)

    def run(self, stop: threading.Event | None = None) -> None:
        """Run in this thread until ``stop``; raises ``SettingsProblem`` for bad settings."""
        stop = stop or self._stop
        self._stop = stop
        if self._watch is not None:
            threading.Thread(
                target=self._watchdog, args=(stop,), name=f"{self.role}-watch", daemon=True
            ).start()
        while not stop.is_set():
            loop: L | None = None
            try:
                loop = self.loop = self._make()
                self._run(loop, stop, _SupervisorPulse(self))
                return
            except Exception as error:
                self._failed(error, stop)
            finally:
                if loop is not None and self._close is not None:
                    self._close_quietly(loop)

    def _watchdog(self, stop: threading.Event) -> None:
        assert self._watch is not None
        pulse = _SupervisorPulse(self)
        while not stop.wait(self._watch_every):
            if self._backing_off or time.monotonic() - self._last_pulse < self._watch_every:
                continue  # a failure is being waited out, or the loop made progress lately
            try:
                found = self._watch()
            except Exception as error:  # a watchdog that fails must not take the loop down
                log.debug("watch_failed", role=self.role, error=one_line(error))
                continue
            if found is not None:
                self._watched = found[0]
                pulse.waiting(*found)
                continue
            waiting = self.health.get(self.role)
            if waiting is not None and waiting.dependency == self._watched:
                self.health.running(self.role)  # what it waited for is back

    def _failed(self, error: Exception, stop: threading.Event) -> None:
        self.last_error = one_line(error)
        try:
            delay, outage = report_failure(self.role, error, self.backoff, self.health)
        except SettingsProblem as problem:
            self.fatal = str(problem)
            stop.set()
            raise
        except Exception:  # reading the error failed: still never give up on the loop
            log.exception("failure_not_classified", role=self.role)
            delay, outage = self.backoff.next(), False
        if not outage:
            self.failures += 1
        self._backing_off = True
        try:
            stop.wait(delay)
        finally:
            self._backing_off = False
            self._last_pulse = time.monotonic()  # the new loop gets its own grace period

    def _close_quietly(self, loop: L) -> None:
        assert self._close is not None
        try:
            self._close(loop)
        except Exception as error:  # closing what a dead server left may fail too
            log.debug("close_failed", role=self.role, error=one_line(error))

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def view(self) -> dict[str, Any]:
        waiting = self.health.get(self.role)
        return {
            "running": self.alive,
            "waiting": None if waiting is None else waiting.view(),
            "failures": self.failures,
            "last_error": self.last_error,
        }


def report_failure(
    role: str, error: Exception, backoff: Backoff, health: Health
) -> tuple[float, bool]:
    """Log and record a failure; how long to wait before trying again, and whether it was
    an outage. Raises ``SettingsProblem`` when no retry can mend it."""
    problem = settings_problem(error)
    if problem is not None:
        log.error("bad_settings", role=role, problem=problem)
        raise SettingsProblem(problem) from error
    delay = backoff.next()
    dependency = outage_of(error)
    entry = health.waiting(role, dependency, error, delay)
    if dependency is not None:
        log.warning(
            f"waiting_for_{dependency.split()[0].lower()}",
            role=role,
            error=entry.error,
            retry_in=delay,
            attempts=entry.attempts,
        )
    else:
        log.exception(f"{role.replace('-', '_')}_failed", retry_in=delay, attempts=entry.attempts)
    return delay, dependency is not None


def wait_for_start(
    role: str, open_: Callable[[], L], *, health: Health, stop: threading.Event, max_backoff: float
) -> L | None:
    """``open_()`` once it works, waiting out outages (and retrying other failures); None if
    ``stop`` came first. Bad settings raise ``SettingsProblem``."""
    backoff = Backoff(first=0.5, cap=max_backoff)
    while not stop.is_set():
        try:
            opened = open_()
        except Exception as error:
            delay, _ = report_failure(role, error, backoff, health)
            stop.wait(delay)
            continue
        health.running(role)
        return opened
    return None
