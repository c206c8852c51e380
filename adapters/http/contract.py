"""What the OpenAPI document promises, kept true in one place.

Other services generate clients from ``/openapi.json`` and trust it, so every route's
error answers are declared from what the route is (a command, a query, with a body,
with a path id …) rather than by hand per route; query parameters a route does not
take are refused as unknown body fields are; a method a path does not serve answers
``405`` with ``Allow``; a body larger than the limit answers ``413`` before it is read.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from adapters.http import (
    answers,
    answers_automations,
    answers_leads,
    answers_lists,
    answers_readmodels,
    answers_sales,
    answers_tasks,
    answers_webhooks,
)
from adapters.http.answers_events import HistoryEntries
from adapters.http.command_answers import command_answer

COMMAND_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
DEFAULT_MAX_BODY_BYTES = 1_048_576


class ErrorAnswer(BaseModel):
    """Every error the API answers: a code and one sentence (and, for ``already_exists``,
    the id of the record that exists)."""

    model_config = ConfigDict(extra="forbid")

    error: str = Field(description="A stable code, e.g. `not_found`, `invalid_input`")
    detail: str = Field(description="One sentence saying what is wrong and what to do")
    existing_id: str = answers.absent("`already_exists` only: the id of the record that exists")
    waiting: list[answers.Waiting] = answers.absent(
        "`unavailable` only: what the server waits for, and since when"
    )


# What each read route answers (200), by its path: the one place a GET route's answer is
# declared. Only declared: the route answers its dict as it is, never validated against
# the model at run time (the tests check every answer against the document instead).
READ_ANSWERS: dict[str, Any] = {
    "/health": answers.Health,
    "/me": answers.User,
    "/users": list[answers.UserListed],
    "/users/{login}": answers.User,
    "/products/{product_id}": answers.Product,
    "/price-books/{price_book_id}": answers.PriceBook,
    "/bundles/{bundle_id}": answers.Bundle,
    "/exchange-rates": answers.ExchangeRates,
    "/pipelines/{pipeline}": answers.Pipeline,
    "/accounts/{account_id}": answers.Account,
    "/accounts": answers_lists.Accounts,
    "/opportunities": answers_lists.Opportunities,
    "/opportunities/{opportunity_id}": answers_sales.Opportunity,
    "/quotes": answers_lists.Quotes,
    "/quotes/{quote_id}": answers_sales.Quote,
    "/history/{aggregate_id}": HistoryEntries,
    "/contracts": answers_sales.ContractList,
    "/contracts/summary": answers_sales.ContractSummary,
    "/contracts/{contract_id}": answers_sales.Contract,
    "/leads": answers_leads.LeadList,
    "/leads/summary": answers_leads.LeadSummary,
    "/leads/{lead_id}": answers_leads.Lead,
    "/contacts": answers_lists.Contacts,
    "/contacts/{contact_id}": answers_leads.Contact,
    "/lead-rules": list[answers_leads.LeadRuleAnswer],
    "/campaigns": answers_leads.CampaignList,
    "/campaigns/report": answers_leads.CampaignReport,
    "/campaigns/{campaign_id}": answers_leads.Campaign,
    "/pipeline": answers_readmodels.PipelineChart,
    "/pipeline/board": answers_lists.Board,
    "/forecast": answers_readmodels.ForecastChart,
    "/stage-history": answers_readmodels.StageHistory,
    "/baselines": answers_readmodels.Baselines,
    "/baselines/{baseline_id}": answers_readmodels.Baseline,
    "/baselines/{baseline_id}/compare": answers_readmodels.Comparison,
    "/baselines/{baseline_id}/verify": answers_readmodels.Verification,
    "/read-models/status": answers.ReadModelStatus,
    "/audit/access": answers_readmodels.AccessLog,
    "/audit/actions": answers_readmodels.Actions,
    "/audit/visibility/{record_id}": answers_readmodels.Visibility,
    "/custom-fields": answers.CustomFields,
    "/automations": answers_automations.AutomationList,
    "/tasks": answers_tasks.Tasks,
    "/tasks/{task_id}": answers_tasks.Task,
    "/notifications": answers_tasks.Notifications,
    "/webhooks": answers_webhooks.Webhooks,
    "/webhooks/{webhook_id}/deliveries": answers_webhooks.Deliveries,
}
# Answers that are not JSON: their media type and schema.
READ_CONTENT: dict[str, dict[str, Any]] = {
    "/documents/{document_id}": {
        "description": "The offer's text (its SHA-256 in `X-SHA256`, its quote in `X-Quote-Id`)",
        "content": {"text/plain; charset=utf-8": {"schema": {"type": "string"}}},
    },
}


def read_answer(path: str) -> dict[str, Any]:
    """The 200 a read route at ``path`` declares; KeyError for one with none, so a read
    route added without its answer stops the app from being built."""
    if path in READ_CONTENT:
        return READ_CONTENT[path]
    return {"model": READ_ANSWERS[path], "description": "The answer"}


# Where what a 201 made can be read (``Location``), by the route that makes it: a
# template over the command's answer (``id`` and its extras). A part of a record with
# no route of its own (a business role, an activity, a quote item) points at the record.
LOCATIONS: dict[str, str] = {
    "/webhooks": "/webhooks/{id}/deliveries",
    "/users": "/users/{login}",
    "/users/{login}/tokens": "/users/{login}",
    "/products": "/products/{id}",
    "/price-books": "/price-books/{id}",
    "/bundles": "/bundles/{id}",
    "/pipelines": "/pipelines/{id}",
    "/accounts": "/accounts/{id}",
    "/opportunities": "/opportunities/{id}",
    "/opportunities/{opportunity_id}/roles": "/opportunities/{id}",
    "/opportunities/{opportunity_id}/activities": "/opportunities/{id}",
    "/opportunities/{opportunity_id}/quotes": "/quotes/{quote_id}",
    "/opportunities/{opportunity_id}/copy": "/opportunities/{id}",
    "/quotes/{quote_id}/items": "/quotes/{id}",
    "/quotes/{quote_id}/duplicate": "/quotes/{quote_id}",
    "/quotes/{quote_id}/offer": "/documents/{document_id}",
    "/leads": "/leads/{id}",
    "/lead-intake": "/leads/{id}",
    "/lead-rules": "/lead-rules/{id}",
    "/campaigns": "/campaigns/{id}",
    "/contacts": "/contacts/{id}",
    "/baselines": "/baselines/{id}",
    "/custom-fields": "/custom-fields?entity={entity}",
    "/automations": "/automations",
    "/tasks": "/tasks/{id}",
}
LOCATION_HEADER = {
    "Location": {"description": "Where what was made can be read", "schema": {"type": "string"}}
}


def location_of(request: Request, answer: dict[str, Any]) -> str:
    """The ``Location`` of what the request's 201 made."""
    route = request.scope["route"]
    values = {**request.path_params, **{k: str(v) for k, v in answer.items()}}
    return LOCATIONS[route.path].format(**values)


def _answer(description: str) -> dict[str, Any]:
    return {"model": ErrorAnswer, "description": description}


MALFORMED = _answer(
    "The body is not JSON (`malformed_json`), or a header is malformed "
    "(`invalid_idempotency_key`, `invalid_if_match`, `if_match_not_applicable`)."
)
NOT_FOUND = _answer(
    "No record with that id, or one the user may not see (`not_found`): the two answer "
    "alike. On a command, also a record its body names."
)
CONFLICT = _answer(
    "A rule of the domain refused the command, nothing written: `rule_violated`, `locked`, "
    "`already_exists` (with `existing_id`), `version_conflict` (a stale `If-Match`), "
    "`idempotency_key_reused` (the key came with another body)."
)
AHEAD = _answer(
    "`as_of` names a position the read model has not processed yet, or `wait_for` one past "
    "the log's end (`rule_violated`), answered at once."
)
# Query parameters naming one record (a pipeline, a baseline, a page): 404 when none is.
NAMING_RECORDS = frozenset({"pipeline", "with", "cursor"})
TOO_LARGE = _answer("The body is larger than the server's limit (`body_too_large`).")
INVALID = _answer(
    "A parameter or the body is not what the document says, or a query parameter the "
    "route does not take (`invalid_input`): every mistake is named in the sentence; "
    "nothing is written."
)
UNAVAILABLE = _answer(
    "The store is away (`unavailable`), or the read model did not reach `wait_for` in "
    "time (`not_caught_up`); try again after `Retry-After` seconds."
)


# Routes live as long as the app: their parameter names are worked out once, not on
# every request (routes define __eq__, so they are keyed by identity).
_NAMES: dict[tuple[int, str], frozenset[str]] = {}


def _param_names(route: APIRoute, kind: str) -> frozenset[str]:
    """The names of the route's ``kind`` parameters (``query_params`` …), its
    dependencies' included."""
    known = _NAMES.get((id(route), kind))
    if known is None:
        known = _NAMES[(id(route), kind)] = _walk_param_names(route, kind)
    return known


def _walk_param_names(route: APIRoute, kind: str) -> frozenset[str]:
    names: set[str] = set()
    pending = [route.dependant]
    while pending:
        dependant = pending.pop()
        names |= {param.alias for param in getattr(dependant, kind)}
        pending.extend(dependant.dependencies)
    return frozenset(names)


def _query_names(route: APIRoute) -> frozenset[str]:
    return _param_names(route, "query_params")


def declare_answers(routes: Iterable[BaseRoute]) -> None:
    """Declare every error answer each route can give, with the one error model."""
    for route in api_routes(routes):
        command = bool((route.methods or set()) & COMMAND_METHODS)
        answers = route.responses
        if command:
            answers.setdefault(400, MALFORMED)
            answers.setdefault(404, NOT_FOUND)
            answers.setdefault(409, CONFLICT)
            if route.body_field is not None:
                answers.setdefault(413, TOO_LARGE)
            created = route.status_code == 201
            model = command_answer(min(route.methods or {""}), route.path)
            answers.setdefault(
                route.status_code or 200,
                {"model": model, "description": "Created" if created else "Done"},
            )
            if created:
                answers[201]["headers"] = LOCATION_HEADER
                answers.setdefault(
                    200,
                    {
                        "model": model,
                        "description": "Nothing new was made: what the request names exists "
                        "(a lead intake's duplicate, a repeat of an idempotent command)",
                    },
                )
        else:
            if route.include_in_schema:  # not /docs and the like: no part of the API
                answers.setdefault(200, read_answer(route.path))
            queries = _query_names(route)
            if "{" in route.path or queries & NAMING_RECORDS:
                answers.setdefault(404, NOT_FOUND)
            if queries & {"as_of", "wait_for"}:
                answers.setdefault(409, AHEAD)
        # Every route refuses a query parameter it does not take: 422 even with none.
        answers.setdefault(422, INVALID)
        answers.setdefault(503, UNAVAILABLE)


# The lists that take ``cf.<key>=<value>`` filters on custom fields: parameters named by
# a pattern, as the admins define the keys (``adapters.http.listing.custom_where``).
CUSTOM_FILTERED = frozenset({"/opportunities", "/contacts", "/accounts"})
CUSTOM_PREFIX = "cf."


async def refuse_unknown_query(request: Request) -> None:
    """A query parameter the route does not take is refused, as an unknown body field is
    (a misspelt filter would otherwise answer as if no filter had been given)."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    if "{" in route.path and request.url.path in _static_paths(request):
        # `PATCH /leads/summary` matched `/leads/{lead_id}`: the path is a route of its
        # own that does not take the method, as the document says.
        raise HTTPException(405)
    unknown = sorted(set(request.query_params) - _query_names(route))
    if route.path in CUSTOM_FILTERED:
        unknown = [name for name in unknown if not name.startswith(CUSTOM_PREFIX)]
    if unknown:
        raise RequestValidationError(
            [
                {"type": "extra_forbidden", "loc": ("query", name), "msg": "unknown", "input": None}
                for name in unknown
            ]
        )


def _static_paths(request: Request) -> frozenset[str]:
    """The paths routes are written as exactly (no parameter in them)."""
    known: frozenset[str] | None = getattr(request.app.state, "static_paths", None)
    if known is None:
        known = frozenset(r.path for r in api_routes(request.app.routes) if "{" not in r.path)
        request.app.state.static_paths = known
    return known


def api_routes(routes: Iterable[BaseRoute]) -> Iterator[APIRoute]:
    """Every API route, those of included routers too."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        included = getattr(route, "original_router", None)  # an included router
        if included is not None:
            yield from api_routes(included.routes)


def allowed_methods(routes: Iterable[BaseRoute], path: str) -> list[str]:
    """The methods the document gives the path (for ``Allow``): those of the routes
    written as exactly ``path`` if there are (``/leads/summary``), else those of the
    templates it matches (``/leads/{lead_id}``)."""
    matching = [route for route in api_routes(routes) if route.path_regex.match(path)]
    exact = [route for route in matching if route.path == path] or matching
    return sorted({method for route in exact for method in route.methods or ()})


class RefuseLargeBodies:
    """``413`` JSON for a body over the limit, before the route reads it: at once by its
    ``Content-Length``, or as it streams in without one (the error handlers answer)."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.limit:
            from adapters.http.errors import too_large  # noqa: PLC0415 (a cycle)

            await too_large(self.limit)(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.limit:
                raise HTTPException(413)
            return message

        await self.app(scope, counted, send)
