"""Webhook routes (admins: ``commands/authorization.py``, ``commands/read_rights.py``):
register (the secret answered once), list, read deliveries, delete, enable again.

The URL is checked before anything is written: http or https, and — unless
``CRMLEDGER_WEBHOOK_ALLOW_PRIVATE=yes`` — a host whose every address is public
(``adapters.webhooks.addresses``); each delivery checks it again.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from adapters.bootstrap import Services
from adapters.event_store.webhook_tables import Delivery
from adapters.http.answers import ReadAnswer
from adapters.http.bodies_webhooks import WebhookBody
from adapters.http.commanding import CommandHeaders, command_headers, run
from adapters.http.paging import CURSOR, LIMIT, envelope, make_cursor, read_cursor
from adapters.http.reading import reads
from adapters.webhooks.addresses import screen
from commands.authorization import ensure_may_run
from commands.webhooks import DeleteWebhook, EnableWebhook, new_secret
from domain.errors import NotFound
from domain.webhook import Webhook
from readmodels.deals.baselines import as_of_view

router = APIRouter(tags=["webhooks"])
Headers = Depends(command_headers)


def _services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def _webhook(services: Services, webhook_id: UUID) -> Webhook:
    state = services.store.load(webhook_id)
    if not isinstance(state, Webhook) or state.deleted:
        raise NotFound(f"there is no webhook with id {webhook_id}.")
    return state


@router.post("/webhooks", status_code=201)
def register_webhook(
    request: Request, body: WebhookBody, h: CommandHeaders = Headers
) -> JSONResponse:
    """Register an endpoint for the event types named; the answer's ``secret`` signs every
    delivery (``X-Crmledger-Signature``) and is shown only here."""
    services = _services(request)
    command = body.to_command(uuid4(), new_secret())
    ensure_may_run(request.state.principal, command)
    screen(command, allow_private=services.settings.webhook_allow_private == "yes")
    response = run(request, h, command)
    answer = json.loads(bytes(response.body))
    # A repeat of the request (same Idempotency-Key) answers the secret stored first.
    answer["secret"] = services.store.secret(UUID(answer["id"])) or command.secret
    kept = ("Location", "Idempotent-Replayed")
    headers = {name: response.headers[name] for name in kept if name in response.headers}
    return JSONResponse(answer, status_code=response.status_code, headers=headers)


@router.get("/webhooks", dependencies=[reads("the webhooks")])
def list_webhooks(request: Request) -> ReadAnswer:
    """Every webhook, without its secret: where it sends, what, and how it fares."""
    services = _services(request)
    failures = services.store.recorder.webhook_failures()
    items = []
    for owner in services.store.recorder.secret_owners():
        state = services.store.load(UUID(owner))
        if isinstance(state, Webhook) and not state.deleted:
            items.append(
                {
                    "id": str(state.id),
                    "url": state.url,
                    "events": list(state.events),
                    "owner": state.owner,
                    "status": "disabled" if state.disabled else "enabled",
                    "disabled_reason": state.disabled_reason,
                    "failures": failures.get(owner, 0),
                    "version": state.version,
                }
            )
    return {"items": items}


@router.get("/webhooks/{webhook_id}/deliveries", dependencies=[reads("a webhook's deliveries")])
def list_deliveries(
    request: Request, webhook_id: UUID, limit: int = LIMIT, cursor: str | None = CURSOR
) -> ReadAnswer:
    """The webhook's deliveries, newest first: each event, its status and its attempts."""
    services = _services(request)
    _webhook(services, webhook_id)
    route = f"deliveries-{webhook_id}"
    before = read_cursor(route, cursor, 1)
    found = services.store.recorder.deliveries(
        str(webhook_id), before[0] if before else None, limit + 1
    )
    page = found[:limit]
    following = make_cursor(route, page[-1].id) if len(found) > limit else None
    return envelope(
        [_delivery_view(d) for d in page],
        following,
        as_of_view(services.store.max_position(), services.clock.now()),
    )


@router.delete("/webhooks/{webhook_id}")
def delete_webhook(request: Request, webhook_id: UUID, h: CommandHeaders = Headers) -> JSONResponse:
    """Delete the webhook: its secret goes, and its deliveries stop."""
    return run(request, h, DeleteWebhook(webhook_id=webhook_id), target=webhook_id)


@router.post("/webhooks/{webhook_id}/enable")
def enable_webhook(request: Request, webhook_id: UUID, h: CommandHeaders = Headers) -> JSONResponse:
    """Enable a disabled webhook again: its waiting deliveries go out as they fall due."""
    return run(request, h, EnableWebhook(webhook_id=webhook_id), target=webhook_id)


def _instant(seconds: float | None) -> str | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC).isoformat()


def _delivery_view(d: Delivery) -> dict[str, Any]:
    return {
        "event_id": d.event_id,
        "event_type": d.event_type,
        "aggregate_id": d.aggregate_id,
        "position": d.position,
        "status": d.status,
        "attempts": d.attempts,
        "last_status_code": d.last_status_code,
        "last_error": d.last_error,
        "next_attempt_at": _instant(d.next_attempt_at if d.status == "pending" else None),
        "delivered_at": _instant(d.delivered_at),
    }
