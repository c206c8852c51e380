"""A page of a list whose visibility is not an owner column (tasks: assignee or creator;
notifications: the recipient alone): ``listing.list_page`` with the route's own clause of
what the caller sees in place of the owner scope."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from fastapi import Request

from adapters.http.listing import Listing, Paging, resume
from adapters.http.paging import make_key_cursor
from adapters.http.routes_readmodels import services_of
from domain.errors import NotFound
from readmodels.deals.baselines import as_of_view
from readmodels.lists import Clause, ListSpec, page, sort_of


def keyset_listing(
    request: Request,
    spec: ListSpec,
    where: Sequence[Clause],
    paging: Paging,
    *,
    sort: str | None,
    visible: Callable[[int], list[Clause]],
) -> Listing:
    """A page of ``spec``: the first (at ``as_of``, else now) or the one ``cursor`` names
    (at the position of the first), of the records ``visible(position)`` admits."""
    services = services_of(request)
    order = sort_of(spec, sort)
    route = f"{spec.name}:{order.text}"
    services.queries.wait_for(paging.wait_for)
    position, after = resume(route, paging.cursor)
    if position is None:
        position = services.queries.resolve(paging.as_of).position
    elif position > services.queries.tracked():  # no page was ever answered there
        raise NotFound(f"cursor {paging.cursor!r} is not a next_cursor this list gave.")
    found = page(
        services.views,
        spec,
        position,
        sort=order,
        limit=paging.limit,
        where=[*where, *visible(position)],
        after=after,
    )
    following = None
    if found.next_key is not None:
        following = make_key_cursor(route, [position, *found.next_key])
    return Listing(
        rows=found.rows,
        next_cursor=following,
        position=position,
        as_of=as_of_view(position, services.queries.recorded_instant(position)),
    )
