"""The FastAPI application."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Literal
from uuid import uuid4

import structlog
from fastapi import Depends, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from fastapi_offline import FastAPIOffline
from pydantic import BaseModel, ConfigDict, Field

from adapters.bootstrap import Services
from adapters.http import (
    errors,
    routes_account_list,
    routes_accounts,
    routes_audit,
    routes_automations,
    routes_catalogue,
    routes_contact_list,
    routes_contacts,
    routes_contracts,
    routes_custom_fields,
    routes_lead_reports,
    routes_leads,
    routes_lists,
    routes_notifications,
    routes_pipelines,
    routes_readmodels,
    routes_sales,
    routes_tasks,
    routes_users,
    routes_webhooks,
)
from adapters.http.answers import Waiting, absent
from adapters.http.answers_events import event_components
from adapters.http.authentication import Authenticated
from adapters.http.contract import (
    DEFAULT_MAX_BODY_BYTES,
    INVALID,
    RefuseLargeBodies,
    declare_answers,
    read_answer,
    refuse_unknown_query,
)
from adapters.http.reading import undeclared_reads
from adapters.http.waiting import waiting_answer, waiting_for


class HealthWaiting(BaseModel):
    """``/health`` while the store is away (``unavailable``) or a loop of the process waits
    (``waiting``): what for, since when."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["waiting"] = absent("While a loop waits")
    error: Literal["unavailable"] = absent("While the store is away")
    detail: str = absent("While the store is away: one sentence")
    position: int = absent("While a loop waits")
    read_model_position: int = absent("While a loop waits")
    waiting: list[Waiting] = Field(description="What the process waits for")


# Every router behind a bearer token, in the order their routes are matched.
ROUTERS = (
    routes_users.router,
    routes_catalogue.router,
    routes_pipelines.router,
    routes_accounts.router,
    routes_sales.router,
    routes_lead_reports.router,
    routes_readmodels.router,
    routes_contracts.router,
    routes_leads.router,
    routes_contacts.router,
    routes_audit.router,
    routes_custom_fields.router,
    routes_automations.router,
    routes_tasks.router,
    routes_notifications.router,
    # after every other: the order of the document's paths stays that of the commands
    routes_lists.router,
    routes_contact_list.router,
    routes_account_list.router,
    routes_webhooks.router,
)


def create_app(services: Services) -> FastAPI:
    # /docs (Swagger UI) and /redoc load their scripts and styles from files installed
    # with fastapi-offline, served under /static-offline-docs: FastAPI's default pages
    # fetch them from a CDN and stay blank without internet access.
    # A larger body answers 413 before it is read: nothing is parsed or written.
    limit = services.settings.max_body_bytes if services else DEFAULT_MAX_BODY_BYTES
    app = FastAPIOffline(
        title="crmledger",
        version="0.1.0",
        description="Event-sourced CQRS backend for B2B sales. The routes, their bodies "
        "and the conventions are described in docs/api.md.",
    )
    app.state.services = services
    app.state.max_body_bytes = limit
    app.add_middleware(RefuseLargeBodies, limit=limit)
    errors.install(app)
    # Every route but /health and the documents needs a bearer token.
    for router in ROUTERS:
        app.include_router(
            router,
            dependencies=[Authenticated, Depends(refuse_unknown_query)],
            responses=errors.GUARDED_ANSWERS,
        )
    # Every read names its right (commands/read_rights.py): a GET route without one is a
    # mistake found here, before the app answers anything.
    missing = [path for router in ROUTERS for path in undeclared_reads(router.routes)]
    if missing:
        raise TypeError(f"these routes declare no read right: {', '.join(missing)}")

    @app.middleware("http")
    async def request_context(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        request_id = request.headers.get("X-Request-ID") or uuid4().hex
        request.state.request_id = request_id  # stamped on the events the request writes
        structlog.contextvars.bind_contextvars(request_id=request_id)
        try:
            response = await call_next(request)
        finally:
            structlog.contextvars.unbind_contextvars("request_id")
        response.headers["X-Request-ID"] = request_id
        return response

    @app.get(
        "/health",
        tags=["operations"],
        response_model=None,
        dependencies=[Depends(refuse_unknown_query)],
        # Declared here, not only by declare_answers: a route of the app itself (not of an
        # included router) has its answers' models read when it is made.
        responses={
            200: read_answer("/health"),
            422: INVALID,
            503: {"model": HealthWaiting, "description": "The store is away or a loop waits"},
        },
    )
    def health() -> dict[str, object] | JSONResponse:
        """``ok`` with the log's and the read model's positions; 503 ``waiting`` (with what
        for, since when) while the store is away or a loop of this process waits."""
        waiting = waiting_for(services)
        try:
            positions = {
                "position": services.store.max_position(),
                "read_model_position": services.queries.tracked(),
            }
        except errors.STORE_ERRORS as exc:
            answer = errors.unavailable(exc)
            if answer is None:
                raise
            return waiting_answer(answer, services)
        if waiting:
            return JSONResponse(
                status_code=503, content={"status": "waiting", **positions, "waiting": waiting}
            )
        return {"status": "ok", **positions}

    # Every route's error answers, from what it is (after every route is in).
    declare_answers(app.routes)
    _with_event_components(app)
    return app


def _with_event_components(app: FastAPI) -> None:
    """The document, with the components the history's entries refer to: written from
    the event classes (``answers_events``), not from pydantic models."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = generate()  # FastAPI keeps it as app.openapi_schema
            document.setdefault("components", {}).setdefault("schemas", {}).update(
                event_components()
            )
        return app.openapi_schema or generate()

    app.openapi = openapi  # type: ignore[method-assign]
