"""Telling when a Kafka loop waits on its broker, which kafka-python does not surface.

kafka-python rides out a broker outage inside its calls: a consumer's ``poll`` just
returns nothing, a producer's ``flush`` blocks until its timeout. So the loops ask
themselves: a consumer that polled nothing for a while checks that a bootstrap server
accepts a connection, and a producer flushes in short steps; either one that finds
the broker away says so (``Pulse.waiting``: a ``waiting_for_kafka`` log line, and the
worker's health), and says so again every few seconds until it is back.
"""

from __future__ import annotations

import socket
import time
from typing import Any

from adapters.outages import KAFKA, one_line
from adapters.supervision import Pulse

CHECK_EVERY = 5.0  # seconds between two checks of an idle consumer's broker


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


class BrokerWatch:
    """For a consumer loop: after each poll, whether the broker is there (checked when idle)."""

    def __init__(self, bootstrap_servers: str, pulse: Pulse) -> None:
        self.servers = bootstrap_servers
        self.pulse = pulse
        self._checked = time.monotonic()

    def after_poll(self, records: int) -> None:
        if records:
            self._checked = time.monotonic()
            self.pulse()
            return
        if time.monotonic() - self._checked < CHECK_EVERY:
            return
        self._checked = time.monotonic()
        reason = kafka_unreachable(self.servers)
        if reason is None:
            self.pulse()
        else:
            self.pulse.waiting(f"{KAFKA} at {self.servers}", reason)


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
