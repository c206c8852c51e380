"""What every list route shares: its parameters, a page of a list spec at the position
it answers (``readmodels.lists``), the cursor that resumes it, and the envelope.

A ``next_cursor`` holds the position the first page answered at and the key of its last
item, named by the list and its order (``paging.make_key_cursor``): the next pages read
the records as they stood then, so while others write no record is skipped or repeated.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import msgspec
from fastapi import Depends, Query, Request

from adapters.bootstrap import Services
from adapters.http.contract import CUSTOM_PREFIX
from adapters.http.paging import CURSOR, LIMIT, make_key_cursor, read_key_cursor
from adapters.http.parameters import WAIT_FOR, AsOf
from adapters.http.routes_readmodels import services_of
from adapters.http.scoping import scope
from domain.custom_fields import Entity
from domain.custom_values import query_text
from domain.errors import InvalidInput, NotFound
from readmodels.accounts.queries import family
from readmodels.custom_fields.queries import entity_of
from readmodels.custom_values import custom_filter
from readmodels.deals.baselines import as_of_view
from readmodels.lists import Clause, KeyPart, ListSpec, Page, filter_clause, page, sort_of, words_of
from readmodels.sharing.tables import SharingRow
from readmodels.values import instant

# ``cf.<key>=<value>`` (``contract.CUSTOM_PREFIX``): a filter on a custom field's value,
# not declared one by one (the keys are the admins' to define).
MAX_CUSTOM_FILTERS = 10
MAX_CUSTOM_TEXT = 1000
OWNER = Query(None, description="a login, or `me` (the caller)")
Q = Query(None, min_length=1, max_length=200, description="words in titles and names")


def sort_doc(spec: ListSpec) -> Any:
    return Query(
        None,
        pattern=rf"^-?({'|'.join(spec.sorts)})$",
        description=f"one of {', '.join(spec.sorts)}; `-field` descending; "
        f"default `{spec.default_sort}`",
    )


class Paging:
    """What every list takes beside its filters and sort: how many (``limit``), from
    where (``cursor``), as of when (``as_of``, ``wait_for``)."""

    def __init__(
        self,
        limit: int = LIMIT,
        cursor: str | None = CURSOR,
        as_of: AsOf = None,
        wait_for: int | None = WAIT_FOR,
    ) -> None:
        self.limit = limit
        self.cursor = cursor
        self.as_of = as_of
        self.wait_for = wait_for


PAGING = Depends(Paging)


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
        # Nothing a word could match (punctuation only): no record has it.
        return [("1 = 0", [])]
    return [services.views.match(spec.table, words)]


def list_page(
    request: Request,
    spec: ListSpec,
    where: Sequence[Clause],
    paging: Paging,
    *,
    sort: str | None,
    route: str | None = None,
    custom: Entity | None = None,
    account_id: UUID | None = None,
) -> Listing:
    """A page of ``spec``: the first (at ``as_of``, else now) or the one ``cursor`` names
    (at the position of the first). ``custom``: the entity whose custom fields the
    request's ``cf.<key>=<value>`` parameters filter on. ``account_id``: the records filed
    under the account or under one merged into it by then (its links follow it)."""
    services = services_of(request)
    order = sort_of(spec, sort)
    route = route or f"{spec.name}:{order.text}"
    services.queries.wait_for(paging.wait_for)
    position, after = resume(route, paging.cursor)
    if position is None:
        position = services.queries.resolve(paging.as_of).position
    elif position > services.queries.tracked():  # no page was ever answered there
        raise NotFound(f"cursor {paging.cursor!r} is not a next_cursor this list gave.")
    if custom is not None:
        where = [*where, *custom_where(request, services, custom, position)]
    if account_id is not None:
        accounts = family(services.views, str(account_id), position)
        where = [*where, filter_clause(services.views, spec, "account_id", accounts)]
    visible = scope(request, spec.scope_kind, position)
    found = page(
        services.views,
        spec,
        position,
        sort=order,
        limit=paging.limit,
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


def custom_where(
    request: Request, services: Services, entity: Entity, position: int
) -> list[Clause]:
    """The clauses of the request's ``cf.<key>=<value>`` parameters: records of ``entity``
    whose custom value of ``key`` is ``value`` (a multiselect's: holds it), with the fields
    as they were defined at ``position`` (404 for a key not defined then, 422 for a value the
    field could not hold)."""
    asked = [
        (name.removeprefix(CUSTOM_PREFIX), raw)
        for name, raw in request.query_params.multi_items()
        if name.startswith(CUSTOM_PREFIX)
    ]
    if len(asked) > MAX_CUSTOM_FILTERS:
        raise InvalidInput(f"a list takes at most {MAX_CUSTOM_FILTERS} cf.<key> filters.")
    defined = entity_of(services.views, entity, position) if asked else {}
    clauses: list[Clause] = []
    for key, raw in asked:
        field = defined.get(key)
        if field is None:
            raise NotFound(f"cf.{key[:40]}: there is no {entity} custom field {key[:40]!r}.")
        if len(raw) > MAX_CUSTOM_TEXT:
            raise InvalidInput(f"cf.{key}: a value is at most {MAX_CUSTOM_TEXT} characters.")
        text = query_text(field, raw)
        clauses.append(custom_filter(services.views, key, field.type, text))
    return clauses


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
