"""Running a command from a request: headers, fingerprint, answer."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from fastapi import Request
from fastapi.responses import JSONResponse

from adapters.bootstrap import Services
from adapters.http.authentication import actor_of
from adapters.http.contract import location_of
from adapters.http.errors import BadRequest

MAX_KEY_LENGTH = 255


@dataclass(frozen=True)
class CommandHeaders:
    idempotency_key: str | None
    if_match: int | None
    fingerprint: str


def _if_match(value: str | None) -> int | None:
    if value is None:
        return None
    text = value.strip().removeprefix("W/").strip('"')
    if not text.isdigit():
        raise BadRequest("invalid_if_match", "If-Match must be the aggregate's version, e.g. 3.")
    return int(text)


def _canonical(body: bytes) -> bytes:
    # The same JSON sent with other spacing or key order is the same request.
    try:
        return json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except ValueError:
        return body


def request_fingerprint(method: str, path: str, body: bytes) -> str:
    """The SHA-256 (hex) of the method, the path and the canonical JSON body. The store
    keeps it keyed by a data key when the command wrote to a data subject (the body may
    hold their personal data), so this plain one is never written for those."""
    digest = hashlib.sha256()
    digest.update(f"{method} {path}\n".encode())
    digest.update(_canonical(body))
    return digest.hexdigest()


def _path_and_query(request: Request) -> str:
    query = request.url.query
    return f"{request.url.path}?{query}" if query else request.url.path


async def command_headers(request: Request) -> CommandHeaders:
    key = request.headers.get("Idempotency-Key")
    if key is not None and not (0 < len(key) <= MAX_KEY_LENGTH and key.isprintable()):
        raise BadRequest(
            "invalid_idempotency_key",
            f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable characters.",
        )
    body = await request.body()
    return CommandHeaders(
        idempotency_key=key,
        if_match=_if_match(request.headers.get("If-Match")),
        # The query is part of the request (``DELETE …/stages/{key}?move_to=``).
        fingerprint=request_fingerprint(request.method, _path_and_query(request), body),
    )


def run(
    request: Request, headers: CommandHeaders, command: Any, *, target: UUID | None = None
) -> JSONResponse:
    services: Services = request.app.state.services
    expected = None
    if headers.if_match is not None:
        if target is None:
            raise BadRequest(
                "if_match_not_applicable",
                "If-Match applies only to commands on an existing aggregate.",
            )
        expected = (target, headers.if_match)
    outcome = services.bus.execute(
        command,
        expected_version=expected,
        idempotency_key=headers.idempotency_key,
        fingerprint=headers.fingerprint,
        actor=actor_of(request),
    )
    answer = outcome.body()
    # 201 where the route makes a record (as its document says); a route that sets a
    # value (a target, a rate) answers 200 also when that value is new.
    created = outcome.created and request.scope["route"].status_code == 201
    response = JSONResponse(status_code=201 if created else 200, content=answer)
    if created:
        response.headers["Location"] = location_of(request, answer)
    if outcome.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response
