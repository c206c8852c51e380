"""Answers that show a person's data: masked for the roles that may not see it, and
otherwise logged, record by record, before they go out.

Analysts and auditors read every personal field as null and the answer says
``"masked": true`` (``domain.access.masks_personal_data``); a masked answer shows no one's
data, so it is not logged. Any other answer that shows personal data in the clear appends
one access-log entry per record it shows (who, when, the route, the request id — never the
data) first; if the entries cannot be written the answer is not given (503).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any
from uuid import UUID

import msgspec
from fastapi import Request

from adapters.bootstrap import Services
from adapters.event_store.access_log import AccessEntry
from domain.access import masks_personal_data
from domain.events import DomainEvent


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


# Records whose sealed personal data are opened per key-store read.
OPEN_CHUNK = 500


def open_sealed_fields(
    services: Services,
    sealed: Sequence[tuple[str, str | None]],
    event_type: type[DomainEvent],
    field: str,
) -> list[dict[str, Any] | None]:
    """For each (record id, its sealed copy of an ``event_type``), the event's personal
    ``field`` opened with the record's key, in chunks; None where there is nothing sealed
    or it cannot be opened (the key is gone)."""
    opened: list[dict[str, Any] | None] = [None] * len(sealed)
    present = [(i, record, text) for i, (record, text) in enumerate(sealed) if text is not None]
    for start in range(0, len(present), OPEN_CHUNK):
        chunk = present[start : start + OPEN_CHUNK]
        values = services.store.open_sealed(
            [(UUID(record), text, event_type) for _, record, text in chunk]
        )
        for (i, _, _), value in zip(chunk, values, strict=True):
            found = None if value is None else value.get(field)
            if found is not None:
                opened[i] = msgspec.to_builtins(found)
    return opened
