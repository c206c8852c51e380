"""The error model of the API: ``{"error": <code>, "detail": <one human sentence>}``.

Bad input is 400 (malformed JSON, bad headers) or 422 (well-formed but
invalid); unknown ids 404; refused rules and conflicts 409. Nothing the
caller sends produces a 500 or a stack trace. While the store is away
(PostgreSQL restarting, the embedded store locked too long) the answer is 503
``unavailable`` with ``Retry-After``. Such a command was not acknowledged; sent
again with the same ``Idempotency-Key`` it takes effect once either way.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import msgspec
import psycopg
import structlog
from eventsourcing.persistence import PersistenceError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from adapters.http.contract import ErrorAnswer, allowed_methods
from adapters.http.parameters import INSTANT_EXAMPLE
from adapters.http.waiting import waiting_answer
from adapters.identity import Unauthenticated
from adapters.outages import StoreUnavailable, one_line, outage_of
from adapters.unreachable import StoreUnreachable
from commands.refusals import refusal_of
from domain.errors import DomainError
from readmodels.deals.queries import NotCaughtUp

log = structlog.get_logger("crmledger.http")

# Where a store outage can surface: handled by class (Starlette's catch-all handler for
# ``Exception`` re-raises after answering, which would log a traceback for each).
STORE_ERRORS: tuple[type[Exception], ...] = (
    StoreUnavailable,
    StoreUnreachable,
    PersistenceError,
    psycopg.Error,
    sqlite3.Error,
)


# What every route behind a bearer token may answer besides its own, in the OpenAPI
# document.
GUARDED_ANSWERS: dict[int | str, dict[str, Any]] = {
    401: {
        "model": ErrorAnswer,
        "description": "No bearer token, or one that is unknown, expired or revoked "
        "(`unauthenticated`, with `WWW-Authenticate: Bearer`).",
    },
    403: {
        "model": ErrorAnswer,
        "description": "The user's role may not do this (`forbidden`); nothing is written.",
    },
}


class BadRequest(Exception):
    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


def error(status: int, code: str, detail: str) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": code, "detail": detail})


# What a value of each format looks like, for the sentence that refuses one.
# Tried in order: "datetime_parsing" must not be taken for a date.
FORMAT_WANTED = {
    "datetime": f"an instant with offset like {INSTANT_EXAMPLE}",
    "date": "a date like 2027-03-31",
    "timezone": f"an instant with offset like {INSTANT_EXAMPLE} (the offset is missing)",
    "uuid": "a UUID like 0b5c4a8e-2f7d-4c1e-9a3b-6d8e1f2a3b4c",
}
_PLACES = {"query": "query parameter ", "path": "path parameter ", "header": "header "}


def _where(location: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(part) for part in location]
    if parts and parts[0] == "body":
        parts = parts[1:]
    place = ""
    if parts and parts[0] in _PLACES:
        place, parts = _PLACES[parts[0]], parts[1:]
    return place + (".".join(parts) or "the request body")


def _wanted(kind: str) -> str | None:
    for prefix, wanted in FORMAT_WANTED.items():
        if kind.startswith(prefix):
            return wanted
    return None


def _problem(one: dict[str, Any]) -> str:
    kind = str(one.get("type", ""))
    where = _where(one.get("loc", ()))
    if kind == "missing":
        return f"{where} is required"
    if kind == "extra_forbidden":
        return f"{where} is not one this route takes"
    context = one.get("ctx") or {}
    if "discriminator" in context:
        # A body whose shape follows from one field (a condition's op): name that field.
        where = f"{where}.{str(context['discriminator']).strip(chr(39))}"
        if kind == "union_tag_not_found":
            return f"{where} is required"
        if kind == "union_tag_invalid":
            return f"{where} must be one of {context.get('expected_tags')}"
    wanted = _wanted(kind)
    if wanted is not None:
        return f"{where} must be {wanted}"
    message = str(one.get("msg", "is invalid")).rstrip(".").removeprefix("Value error, ")
    return f"{where} {message}" if message.startswith("must ") else f"{where}: {message}"


def _describe(errors: list[Any]) -> tuple[str, str]:
    """The code and one sentence naming every mistake of the request."""
    if any(str(one.get("type", "")) in {"json_invalid", "json_type"} for one in errors):
        return "malformed_json", "the request body is not valid JSON."
    problems = list(dict.fromkeys(_problem(one) for one in errors)) or ["the request is invalid"]
    return "invalid_input", "; ".join(problems) + "."


def too_large(limit: int) -> JSONResponse:
    return error(
        413, "body_too_large", f"the request body is larger than {limit} bytes; send less at once."
    )


def unavailable(exc: Exception) -> JSONResponse | None:
    """The 503 answer for an outage (None when ``exc`` is no outage)."""
    dependency = outage_of(exc)
    if dependency is None:
        return None
    retry = exc.retry_after if isinstance(exc, StoreUnavailable) else 1
    response = error(
        503,
        "unavailable",
        f"{dependency} is not answering right now; try again in {retry} s.",
    )
    response.headers["Retry-After"] = str(retry)
    return response


def internal_error(request: Request) -> JSONResponse:
    log.exception("unexpected_error", path=request.url.path)
    return error(500, "internal_error", "the server failed to handle this request; it was logged.")


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError) -> JSONResponse:
        refusal = refusal_of(exc)
        log.info(
            "command_refused", error=refusal.error, detail=refusal.detail, path=request.url.path
        )
        body = msgspec.to_builtins(refusal)  # existing_id only when there is one
        del body["status"]
        return JSONResponse(status_code=refusal.status, content=body)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        code, detail = _describe(list(exc.errors()))
        return error(400 if code == "malformed_json" else 422, code, detail)

    @app.exception_handler(NotCaughtUp)
    async def not_caught_up(request: Request, exc: NotCaughtUp) -> JSONResponse:
        response = error(503, "not_caught_up", exc.detail)
        response.headers["Retry-After"] = "1"
        return response

    @app.exception_handler(Unauthenticated)
    async def unauthenticated(request: Request, exc: Unauthenticated) -> JSONResponse:
        log.info("request_unauthenticated", path=request.url.path, detail=exc.detail)
        response = error(401, "unauthenticated", exc.detail)
        response.headers["WWW-Authenticate"] = "Bearer"
        return response

    @app.exception_handler(BadRequest)
    async def bad_request(request: Request, exc: BadRequest) -> JSONResponse:
        return error(400, exc.code, exc.detail)

    @app.exception_handler(ValueError)
    async def value_error(request: Request, exc: ValueError) -> JSONResponse:
        # Raised by request bodies turning themselves into commands (e.g. a null title).
        return error(422, "invalid_input", f"{exc}.")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 404:
            return error(
                404, "not_found", f"there is no route {request.method} {request.url.path}."
            )
        if exc.status_code == 405:
            allowed = allowed_methods(request.app.routes, request.url.path)
            response = error(
                405,
                "method_not_allowed",
                f"{request.method} is not allowed on {request.url.path}; "
                f"it takes {', '.join(allowed)}.",
            )
            response.headers["Allow"] = ", ".join(allowed)
            return response
        if exc.status_code == 413:
            return too_large(request.app.state.max_body_bytes)
        if exc.status_code == 400:
            # Starlette could not read the body at all (not UTF-8, a number too long…).
            return error(400, "malformed_json", "the request body is not valid JSON.")
        return error(exc.status_code, "http_error", str(exc.detail))

    async def store_error(request: Request, exc: Exception) -> JSONResponse:
        answer = unavailable(exc)
        if answer is None:
            return internal_error(request)
        log.warning(
            "request_unavailable", path=request.url.path, method=request.method,
            error=one_line(exc),
        )  # fmt: skip
        # Every 503 says what the server waits for (also when the token could not be
        # checked: the user's events are in the store that is away).
        return waiting_answer(answer, request.app.state.services)

    for kind in STORE_ERRORS:
        app.add_exception_handler(kind, store_error)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        return internal_error(request)
