"""The error model of API.md: ``{"error": <code>, "detail": <one human sentence>}``.

Bad input is 400 (malformed JSON, bad headers) or 422 (well-formed but
invalid); unknown ids 404; refused rules and conflicts 409. Nothing the
caller sends produces a 500 or a stack trace.
"""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from domain.errors import DomainError, InvalidInput, NotFound
from readmodels.queries import NotCaughtUp

log = structlog.get_logger("crmledger.http")


class BadRequest(Exception):
    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


def error(status: int, code: str, detail: str) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": code, "detail": detail})


def status_of(exc: DomainError) -> int:
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, InvalidInput):
        return 422
    return 409


def _describe(errors: list[Any]) -> tuple[str, str]:
    first = errors[0] if errors else {}
    kind = str(first.get("type", ""))
    if kind in {"json_invalid", "json_type"}:
        return "malformed_json", "the request body is not valid JSON."
    location = [str(part) for part in first.get("loc", ()) if part not in ("body",)]
    where = ".".join(location) or "the request"
    message = str(first.get("msg", "is invalid")).rstrip(".")
    if kind == "missing":
        return "invalid_input", f"{where} is required."
    if kind == "extra_forbidden":
        return "invalid_input", f"{where} is not a field this route accepts."
    more = (
        f" ({len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
        if len(errors) > 1
        else ""
    )
    return "invalid_input", f"{where}: {message}{more}."


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError) -> JSONResponse:
        log.info("command_refused", error=exc.code, detail=exc.detail, path=request.url.path)
        return error(status_of(exc), exc.code, exc.detail)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        code, detail = _describe(list(exc.errors()))
        return error(400 if code == "malformed_json" else 422, code, detail)

    @app.exception_handler(NotCaughtUp)
    async def not_caught_up(request: Request, exc: NotCaughtUp) -> JSONResponse:
        response = error(503, "not_caught_up", exc.detail)
        response.headers["Retry-After"] = "1"
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
            return error(
                405, "method_not_allowed", f"{request.method} is not allowed on {request.url.path}."
            )
        if exc.status_code == 400:
            # Starlette could not read the body at all (not UTF-8, a number too long…).
            return error(400, "malformed_json", "the request body is not valid JSON.")
        return error(exc.status_code, "http_error", str(exc.detail))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected_error", path=request.url.path)
        return error(
            500, "internal_error", "the server failed to handle this request; it was logged."
        )
