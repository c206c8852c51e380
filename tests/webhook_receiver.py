"""A real HTTP receiver on loopback for the webhook tests: it records every POST (body,
headers) and answers what the test tells it to (a status, a delay, or being closed)."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Received:
    def __init__(self, body: bytes, headers: dict[str, str]) -> None:
        self.body = body
        self.headers = headers
        self.envelope: dict[str, Any] = json.loads(body)


class Receiver:
    """``status``: what it answers (2xx delivers); ``delay``: seconds before answering."""

    def __init__(self, port: int = 0) -> None:
        self.status = 200
        self.delay = 0.0
        self.location: str | None = None
        self.received: list[Received] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                delayed = receiver.delay
                if delayed:
                    time.sleep(delayed)  # past the sender's time-out: not received
                status = receiver.status
                if 200 <= status < 300 and not delayed:
                    with receiver.lock:
                        receiver.received.append(Received(body, dict(self.headers.items())))
                self.send_response(status)
                if receiver.location is not None:
                    self.send_header("Location", receiver.location)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def verifies(received: Received, secret: str) -> bool:
    """The receiver's side of the signature: recompute it with the standard library."""
    parts = dict(p.split("=", 1) for p in received.headers["X-Crmledger-Signature"].split(","))
    signed = parts["t"].encode() + b"." + received.body
    expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, parts["v1"])
