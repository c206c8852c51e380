"""Answers that show a person's data: masked for the roles that may not see it, and
otherwise logged, record by record, before they go out.

Analysts and auditors read every personal field as null and the answer says
``"masked": true`` (``domain.access.masks_personal_data``); a masked answer shows no one's
data, so it is not logged. Any other answer that shows personal data in the clear appends
one access-log entry per record it shows (who, when, the route, the request id — never the
data) first; if the entries cannot be written the answer is not given (503).
"""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from fastapi import Request

from adapters.bootstrap import Services
from adapters.event_store.access_log import AccessEntry
from domain.access import masks_personal_data


def masked(request: Request) -> bool:
    """Whether the caller sees personal data masked (null)."""
    return masks_personal_data(request.state.principal)


def route_of(request: Request) -> str:
    """The route a request took, as its template: ``GET /leads/{lead_id}``."""
    route = request.scope.get("route")
    path = getattr(route, "path", None) or request.url.path
    return f"{request.method} {path}"


def log_personal_reads(request: Request, record_ids: Iterable[UUID]) -> None:
    """Append one access-log entry per record in ``record_ids`` (each once) whose personal
    data this request's answer shows; call it before the answer goes out."""
    shown = list(dict.fromkeys(record_ids))
    if not shown:
        return
    services: Services = request.app.state.services
    login = request.state.principal.login
    at = services.clock.now()
    route = route_of(request)
    request_id = getattr(request.state, "request_id", None)
    services.store.record_accesses(
        [
            AccessEntry(record_id=record, login=login, at=at, route=route, request_id=request_id)
            for record in shown
        ]
    )
