"""One signed POST of an envelope to a checked target, connecting to the checked address.

The signature: ``X-Crmledger-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret,
"<t>.<body>")>``. A receiver recomputes it over the raw body and compares in constant
time (``hmac.compare_digest``), and refuses a ``t`` too far from its clock (replays).

Redirects are not followed: a 3xx answer is a failed attempt like any other non-2xx
(a redirect could point anywhere, a private address included).
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import socket
import ssl
import time

import msgspec

from adapters.webhooks.addresses import Target


class Outcome(msgspec.Struct, frozen=True, kw_only=True):
    status_code: int | None
    error: str | None
    duration_ms: float

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def signature(secret: str, timestamp: int, body: bytes) -> str:
    signed = f"{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


class _PinnedHTTPS(http.client.HTTPSConnection):
    """HTTPS to the checked address, the certificate checked for the URL's host."""

    def __init__(self, target: Target, timeout: float, context: ssl.SSLContext) -> None:
        super().__init__(target.address, target.port, timeout=timeout, context=context)
        self._server_name = target.host
        self._tls = context

    def connect(self) -> None:
        sock = socket.create_connection((self.host, self.port), self.timeout)
        self.sock = self._tls.wrap_socket(sock, server_hostname=self._server_name)


def post(target: Target, body: bytes, headers: dict[str, str], timeout: float) -> Outcome:
    """POST ``body``; the outcome: the status code, or the error that kept it from one."""
    started = time.perf_counter()
    connection: http.client.HTTPConnection
    if target.scheme == "https":
        connection = _PinnedHTTPS(target, timeout, ssl.create_default_context())
    else:
        connection = http.client.HTTPConnection(target.address, target.port, timeout=timeout)
    host = target.host if ":" not in target.host else f"[{target.host}]"
    default = 443 if target.scheme == "https" else 80
    try:
        connection.request(
            "POST",
            target.path,
            body=body,
            headers={
                **headers,
                "Host": host if target.port == default else f"{host}:{target.port}",
            },
        )
        response = connection.getresponse()
        response.read(65536)  # the answer's body is not kept
        code: int | None = response.status
        error = None if 200 <= response.status < 300 else f"HTTP {response.status}"
    except (OSError, http.client.HTTPException) as failure:
        code, error = None, f"{type(failure).__name__}: {failure}"[:500]
    finally:
        connection.close()
    return Outcome(
        status_code=code, error=error, duration_ms=(time.perf_counter() - started) * 1000
    )
