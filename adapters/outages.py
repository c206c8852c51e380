"""Outages: telling a server that is away for now from a mistake a retry cannot mend.

PostgreSQL restarting, a Kafka broker going away, a lock held too long: these end
by themselves, so the API answers ``503`` with ``Retry-After`` and every worker waits
(capped exponential backoff) and goes on from its recorded position. Bad settings
(a database or role that does not exist, a wrong password, an unreadable address)
do not: a worker stops with one sentence and a non-zero exit code.

``outage_of`` and ``settings_problem`` read an error (and the errors it was raised
from) without importing Kafka: a process without Kafka never loads it for this.
"""

from __future__ import annotations

import re
import sqlite3
import threading
import time
from dataclasses import dataclass
from typing import Any

import psycopg
import structlog

from adapters.unreachable import SettingsProblem, StoreUnreachable

__all__ = ["SettingsProblem", "StoreUnavailable", "outage_of", "settings_problem"]

log = structlog.get_logger("crmledger.outages")

POSTGRESQL = "PostgreSQL"
KAFKA = "Kafka"
EMBEDDED = "the embedded store"

# What a PostgreSQL server answers to a connection it will never accept as configured
# (starting up, shutting down and recovery are FATAL too, but they end by themselves).
_PG_SETTINGS = re.compile(
    r"does not exist|password authentication failed|authentication failed|"
    r"no pg_hba\.conf entry|permission denied|invalid (?:connection option|dsn|integer)|"
    r"missing \"=\"",
    re.IGNORECASE,
)


class StoreUnavailable(Exception):
    """The store is known to be away: answered at once, without waiting on the pool."""

    def __init__(self, dependency: str, detail: str, retry_after: float) -> None:
        super().__init__(detail)
        self.dependency = dependency
        self.detail = detail
        self.retry_after = retry_after


def _chain(error: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def _kafka_outage(error: BaseException) -> bool:
    if not type(error).__module__.startswith("kafka"):
        return False
    from kafka import errors  # noqa: PLC0415 - loaded only when the error is Kafka's

    if not isinstance(error, errors.KafkaError) or isinstance(
        error, errors.KafkaConfigurationError | errors.SaslAuthenticationFailedError
    ):
        return False
    # "Unable to bootstrap", a lost connection, a request or a flush that timed out.
    return bool(error.retriable) or isinstance(
        error, errors.KafkaConnectionError | errors.CommitFailedError
    )


def settings_problem(error: BaseException) -> str | None:
    """The sentence to stop with when ``error`` says the settings are wrong; else None."""
    for cause in _chain(error):
        if isinstance(cause, SettingsProblem):
            return str(cause)
        if isinstance(cause, psycopg.OperationalError | StoreUnreachable) and _PG_SETTINGS.search(
            str(cause)
        ):
            last = (str(cause).strip().splitlines() or [""])[-1]
            return f"PostgreSQL refuses the configured connection ({last.strip()})"
        if type(cause).__module__.startswith("kafka"):
            from kafka import errors  # noqa: PLC0415

            if isinstance(cause, errors.KafkaConfigurationError):
                return f"the Kafka settings are not usable ({cause})"
            if isinstance(cause, errors.SaslAuthenticationFailedError):
                return f"Kafka refuses the configured credentials ({cause})"
    return None


def outage_of(error: BaseException) -> str | None:
    """Which dependency ``error`` says is away for now (a retry may succeed), or None."""
    if settings_problem(error) is not None:
        return None
    chain = _chain(error)
    for cause in chain:
        if isinstance(cause, StoreUnavailable):
            return cause.dependency
        if isinstance(cause, StoreUnreachable | psycopg.OperationalError | psycopg.InterfaceError):
            return POSTGRESQL
        if isinstance(cause, sqlite3.Error):
            # "database is locked": another writer held it longer than the busy timeout.
            text = str(cause).lower()
            return EMBEDDED if "locked" in text or "busy" in text else None
        if _kafka_outage(cause):
            return KAFKA
    return None


def one_line(error: BaseException) -> str:
    """An error as one short line for logs and answers (a driver's text may span several)."""
    text = " ".join(str(error).split()) or type(error).__name__
    return text if len(text) <= 300 else text[:299] + "…"


class Backoff:
    """Capped exponential backoff: ``first``, doubling, never more than ``cap`` seconds."""

    def __init__(self, first: float = 0.5, cap: float = 30.0) -> None:
        self.first = min(first, cap)
        self.cap = cap
        self._next = self.first

    def next(self) -> float:
        delay = self._next
        self._next = min(self._next * 2, self.cap)
        return delay

    def reset(self) -> None:
        self._next = self.first


@dataclass
class Waiting:
    """One part of this process waiting for a dependency (or failing, retried)."""

    role: str
    dependency: str | None  # None: failing for a reason that is not an outage
    error: str
    since: float  # time.time()
    attempts: int
    retry_in: float

    def view(self) -> dict[str, Any]:
        return {
            "role": self.role,
            "waiting_for": self.dependency,
            "error": self.error,
            "since": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.since)),
            "attempts": self.attempts,
            "retry_in_seconds": round(self.retry_in, 1),
        }


class Health:
    """What each part of a process (the API, each worker role) is waiting for, if anything:
    what ``/health``, ``/read-models/status`` and the logs say."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiting: dict[str, Waiting] = {}

    def waiting(
        self, role: str, dependency: str | None, error: BaseException | str, retry_in: float
    ) -> Waiting:
        with self._lock:
            before = self._waiting.get(role)
            now = time.time()
            entry = Waiting(
                role=role,
                dependency=dependency,
                error=error if isinstance(error, str) else one_line(error),
                since=before.since if before and before.dependency == dependency else now,
                attempts=(before.attempts if before else 0) + 1,
                retry_in=retry_in,
            )
            self._waiting[role] = entry
            return entry

    def running(self, role: str) -> None:
        if role not in self._waiting:  # the common case, every poll: no lock taken
            return
        with self._lock:
            entry = self._waiting.pop(role, None)
        if entry is not None:
            log.info(
                "resumed",
                role=role,
                waited_for=entry.dependency,
                seconds=round(time.time() - entry.since, 1),
                attempts=entry.attempts,
            )

    def get(self, role: str) -> Waiting | None:
        return self._waiting.get(role)

    def snapshot(self) -> list[dict[str, Any]]:
        with self._lock:
            return [entry.view() for entry in self._waiting.values()]
