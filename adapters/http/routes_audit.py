"""``/audit/*``: who read a record's personal data, the commands a user ran, and who could
see a record at an instant (admins and auditors: ``commands/read_rights.py``). The first
two answer the list envelope (``paging``).

``/audit/access`` reads the access log beside the events (``adapters/event_store/
access_log.py``) as it is now; ``/audit/actions`` reads the audit read model
(``readmodels/audit/``), now or as of a position or instant, like every other query.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Query, Request

from adapters.event_store.access_log import AccessEntry
from adapters.http.answers import ReadAnswer
from adapters.http.paging import CURSOR, LIMIT, envelope, make_cursor, read_cursor
from adapters.http.parameters import WAIT_FOR, AsOf
from adapters.http.parameters import instant as rfc3339_instant
from adapters.http.reading import reads
from adapters.http.routes_readmodels import services_of
from adapters.visibility_audit import who_could_see
from domain.errors import InvalidInput
from readmodels.audit.queries import Action, Span, actions
from readmodels.deals.baselines import as_of_view
from readmodels.values import instant, micros

router = APIRouter(tags=["audit"])
RECORD = Query(description="the id of the record (a lead) whose personal data was read")
BY = Query(
    min_length=1,
    max_length=255,
    description="who: a login, `cli:<os user>` or `system:<process>`",
)
FROM = Query(
    None,
    alias="from",
    description="recorded at or after this instant (with offset)",
    json_schema_extra={"format": "date-time"},
)
TO = Query(
    None,
    alias="to",
    description="recorded before this instant (with offset)",
    json_schema_extra={"format": "date-time"},
)
# A `+` of an offset arrives as a space when the client did not encode it.
_SPACED_OFFSET = re.compile(r"(T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) (\d{2}:?\d{2})$")


@router.get("/audit/access", dependencies=[reads("the access log")])
def access_log(
    request: Request, record: UUID = RECORD, limit: int = LIMIT, cursor: str | None = CURSOR
) -> ReadAnswer:
    """Who read the record's personal data in the clear, when and through which route
    (oldest first). The log is read as it is now: ``as_of`` says the event log's position
    and the instant of the read."""
    services = services_of(request)
    after = read_cursor("access", cursor, 1)
    found = services.store.accesses(record, after[0] if after else 0, limit + 1)
    page = found[:limit]
    following = make_cursor("access", page[-1].sequence) if len(found) > limit else None
    read_at = services.clock.now()
    return envelope(
        [_access_view(entry) for entry in page],
        following,
        as_of_view(services.store.max_position(), read_at),
    )


@router.get("/audit/actions", dependencies=[reads("the actions of a user")])
def user_actions(
    request: Request,
    by: str = BY,
    since: str | None = FROM,
    until: str | None = TO,
    limit: int = LIMIT,
    cursor: str | None = CURSOR,
    as_of: AsOf = None,
    wait_for: int | None = WAIT_FOR,
) -> ReadAnswer:
    """The commands ``by`` ran (oldest first), each with its request and cause, the events
    it wrote and when; ``from`` inclusive, ``to`` exclusive."""
    # `to` before `from` is an empty span: it answers no action.
    start, end = _instant("from", since), _instant("to", until)
    after = read_cursor("actions", cursor, 2)
    services = services_of(request)
    services.queries.wait_for(wait_for)
    point = services.queries.resolve(as_of)
    span = Span(
        since=None if start is None else micros(start),
        until=None if end is None else micros(end),
        position=None if as_of is None else point.position,
    )
    found, more = actions(
        services.views, by, span, after=(after[0], after[1]) if after else None, limit=limit
    )
    following = make_cursor("actions", *found[-1].key) if more else None
    reflected = point.instant or services.queries.recorded_instant(point.position)
    return envelope(
        [_action_view(action) for action in found],
        following,
        as_of_view(point.position, reflected),
    )


@router.get("/audit/visibility/{record_id}", dependencies=[reads("who could see a record")])
def record_visibility(
    request: Request,
    record_id: UUID,
    as_of: str | None = Query(
        None,
        description="An instant with offset, e.g. 2027-03-31T17:00:00Z; default: now",
        json_schema_extra={"format": "date-time"},
    ),
) -> ReadAnswer:
    """The users who could see the record at ``as_of``: the organisation as in effect then
    (a move between teams counts from when it took effect), the record's owner, privacy
    and sharing then, and the one visibility rule. 404 for an id no record has."""
    moment = _instant("as_of", as_of) or services_of(request).clock.now()
    return who_could_see(services_of(request), record_id, moment)


def _instant(name: str, text: str | None) -> datetime | None:
    """An RFC 3339 instant with offset from the query string; 422 otherwise."""
    if text is None:
        return None
    try:
        return rfc3339_instant(_SPACED_OFFSET.sub(r"\1+\2", text))
    except ValueError as problem:
        raise InvalidInput(f"{name} {problem}.") from None


def _access_view(entry: AccessEntry) -> dict[str, Any]:
    return {
        "record_id": str(entry.record_id),
        "by": entry.login,
        "at": entry.at.isoformat(),
        "route": entry.route,
        "request_id": entry.request_id,
    }


def _action_view(action: Action) -> dict[str, Any]:
    first = action.events[0]
    return {
        "by": first.actor,
        "recorded_at": instant(first.recorded_at).isoformat(),
        "request_id": first.request_id,
        "causation_id": first.causation_id,
        "position": action.events[-1].position,
        "events": [
            {
                "type": row.event_type,
                "aggregate_id": row.aggregate_id,
                "aggregate_version": row.aggregate_version,
                "position": row.position,
            }
            for row in action.events
        ],
    }
