"""What every list route shares: its parameters, a page of a list spec at the position
it answers (``readmodels.lists``), the cursor that resumes it, and the envelope.

A ``next_cursor`` holds the position the first page answered at and the key of its last
item, named by the list and its order (``paging.make_key_cursor``): the next pages read
the records as they stood then, so while others write no record is skipped or repeated.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec
from fastapi import Query, Request

from adapters.bootstrap import Services
from adapters.http.paging import make_key_cursor, read_key_cursor
from adapters.http.routes_readmodels import services_of
from adapters.http.scoping import scope
from domain.errors import InvalidInput, NotFound
from readmodels.deals.baselines import as_of_view
from readmodels.lists import Clause, KeyPart, ListSpec, Page, filter_clause, page, sort_of, words_of
from readmodels.sharing.tables import SharingRow
from readmodels.values import instant

OWNER = Query(None, description="a login, or `me` (the caller)")
Q = Query(None, min_length=1, max_length=200, description="words in titles and names")


def sort_doc(spec: ListSpec) -> Any:
    return Query(
        None,
        pattern=r"^-?[a-z_]{1,40}$",
        description=f"one of {', '.join(spec.sorts)}; `-field` descending; "
        f"default `{spec.default_sort}`",
    )


class Listing(msgspec.Struct, kw_only=True):
    """One page of a list, and what its answer states."""

    rows: list[Any]
    next_cursor: str | None
    position: int
    as_of: dict[str, Any]


def owner_of(request: Request, owner: str | None) -> str | None:
    return request.state.principal.login if owner == "me" else owner


def where_of(services: Services, spec: ListSpec, **values: Any) -> list[Clause]:
    """The clauses of the list's filters given a value (None: not filtered)."""
    return [
        filter_clause(services.views, spec, name, value)
        for name, value in values.items()
        if value is not None
    ]


def search_of(services: Services, spec: ListSpec, q: str | None) -> list[Clause]:
    if q is None:
        return []
    words = words_of(q)
    if not words:
        raise InvalidInput("q must hold a word (letters or digits).")
    return [services.views.match(spec.table, words)]


def list_page(
    request: Request,
    spec: ListSpec,
    where: Sequence[Clause],
    *,
    sort: str | None,
    limit: int,
    cursor: str | None,
    as_of: str | None,
    wait_for: int | None,
    route: str | None = None,
) -> Listing:
    """A page of ``spec``: the first (at ``as_of``, else now) or the one ``cursor`` names
    (at the position of the first)."""
    services = services_of(request)
    order = sort_of(spec, sort)
    route = route or f"{spec.name}:{order.text}"
    services.queries.wait_for(wait_for)
    position, after = resume(route, cursor)
    if position is None:
        position = services.queries.resolve(as_of).position
    elif position > services.queries.tracked():  # no page was ever answered there
        raise NotFound(f"cursor {cursor!r} is not a next_cursor this list gave.")
    visible = scope(request, spec.scope_kind, position)
    found = page(
        services.views,
        spec,
        position,
        sort=order,
        limit=limit,
        where=where,
        scope=visible,
        after=after,
    )
    return Listing(
        rows=found.rows,
        next_cursor=_next(route, position, found),
        position=position,
        as_of=as_of_view(position, services.queries.recorded_instant(position)),
    )


def resume(route: str, cursor: str | None) -> tuple[int | None, Sequence[KeyPart] | None]:
    """The position and key a cursor resumes at; (None, None) for a first page."""
    key = read_key_cursor(route, cursor, 3)
    if key is None:
        return None, None
    position, *after = key
    if not isinstance(position, int) or position < 0:
        raise NotFound(f"cursor {cursor!r} is not a next_cursor this list gave.")
    return position, after


def _next(route: str, position: int, found: Page) -> str | None:
    if found.next_key is None:
        return None
    return make_key_cursor(route, [position, *found.next_key])


def envelope_of(items: list[dict[str, Any]], listing: Listing) -> dict[str, Any]:
    return {"items": items, "next_cursor": listing.next_cursor, "as_of": listing.as_of}


def money(amount: Any, currency: str) -> dict[str, str]:
    return {"amount": str(amount), "currency": currency}


def moment(micros: int) -> str:
    return instant(micros).isoformat()


def sharing_of(sharing: dict[str, SharingRow], record_id: str) -> dict[str, Any]:
    row = sharing.get(record_id)
    if row is None:
        return {"private": False, "shared_with": []}
    return {"private": row.private, "shared_with": sorted(row.shared)}
