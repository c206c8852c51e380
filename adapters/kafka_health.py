"""Telling when a Kafka loop waits on its broker, which kafka-python does not surface.

kafka-python rides out a broker outage inside its calls: a consumer's ``poll`` just
returns nothing, a client being made waits to bootstrap, a producer's ``flush`` blocks
until its timeout. So a Kafka loop's supervisor keeps a watchdog (``broker_watch``):
when the loop has reported no progress for a few seconds, it checks that a bootstrap
server accepts a connection, and says what the loop waits for when none does. A
producer flushes in short steps too (``flush_patiently``), which also catches a
broker that accepts connections but answers nothing. Either way: a
``waiting_for_kafka`` log line, and the worker's health, every few seconds until
the broker is back.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from typing import Any

from adapters.outages import KAFKA, one_line
from adapters.supervision import Pulse

CHECK_EVERY = 5.0  # seconds of silence before a loop's broker is checked


def kafka_unreachable(bootstrap_servers: str, timeout: float = 2.0) -> str | None:
    """Why no bootstrap server accepts a TCP connection now; None when one does."""
    reasons = []
    for server in (s.strip() for s in bootstrap_servers.split(",") if s.strip()):
        host, _, port = server.rpartition(":")
        try:
            with socket.create_connection((host.strip("[]") or server, int(port)), timeout):
                return None
        except (OSError, ValueError) as error:
            reasons.append(f"{server}: {one_line(error)}")
    return "; ".join(reasons) or "no bootstrap server configured"


def broker_watch(bootstrap_servers: str) -> Callable[[], tuple[str, str] | None]:
    """For a supervisor's watchdog: what a silent Kafka loop waits for, if the broker is away."""

    def watch() -> tuple[str, str] | None:
        reason = kafka_unreachable(bootstrap_servers)
        return None if reason is None else (f"{KAFKA} at {bootstrap_servers}", reason)

    return watch


def flush_patiently(producer: Any, timeout: float, pulse: Pulse, servers: str = "") -> None:
    """``producer.flush`` within ``timeout`` s, in steps of a few seconds, saying after each
    step that found the broker silent that the loop waits for Kafka. Raises kafka-python's
    ``KafkaTimeoutError`` when the whole ``timeout`` passed."""
    from kafka.errors import KafkaTimeoutError  # noqa: PLC0415

    deadline = time.monotonic() + timeout
    while True:
        step = min(CHECK_EVERY, max(deadline - time.monotonic(), 0.0))
        try:
            producer.flush(timeout=step)
            return
        except KafkaTimeoutError as error:
            if time.monotonic() >= deadline:
                raise
            where = f"{KAFKA} at {servers}" if servers else KAFKA
            pulse.waiting(
                where,
                f"the broker acknowledged nothing for {CHECK_EVERY:.0f} s ({one_line(error)})",
            )
