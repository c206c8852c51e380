"""The lists of deals: ``GET /opportunities``, ``GET /quotes`` and the board of a pipeline
(``GET /pipeline/board``), through the one keyset engine (``readmodels.lists``; the shared
parts of a list route: ``listing``).

Every list answers ``{items, next_cursor, as_of}`` over the records the caller may see as
they stood at the position it answers (``as_of``, else now); its cursor resumes at that
position. ``q`` finds words of titles and names (a word's beginning too) through the
stores' full-text indexes. A quote is listed for whoever sees its opportunity.

The board answers a column per open stage of the pipeline (its current settings), each its
first ``limit`` open deals, soonest expected close first, with its own ``next_cursor``;
``stage`` with that cursor pages that column alone, at the board's position.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Query, Request

from adapters.http.answers import ReadAnswer
from adapters.http.listing import (
    OWNER,
    PAGING,
    Listing,
    Paging,
    Q,
    envelope_of,
    list_page,
    moment,
    money,
    owner_of,
    search_of,
    sharing_of,
    sort_doc,
    where_of,
)
from adapters.http.paging import read_key_cursor
from adapters.http.parameters import Day
from adapters.http.reading import reads
from adapters.http.routes_catalogue import pipeline_id
from adapters.http.routes_readmodels import services_of
from domain.errors import NotFound
from domain.opportunity.state import Status
from readmodels.opportunities.queries import (
    BOARD_SORT,
    OPPORTUNITIES,
    open_stages,
    stage_clauses,
)
from readmodels.opportunities.tables import OpportunityRow
from readmodels.quotes.queries import QUOTES
from readmodels.quotes.tables import QuoteRow
from readmodels.sharing.queries import exceptions
from readmodels.sharing.tables import SharingRow

router = APIRouter(tags=["lists"])


def opportunity_item(row: OpportunityRow, sharing: dict[str, SharingRow]) -> dict[str, Any]:
    return {
        "id": row.id,
        "title": row.title,
        "owner": row.owner,
        "account_id": row.account_id,
        "partner_id": row.partner_id,
        "pipeline_id": row.pipeline_id,
        "stage": row.stage,
        "status": row.status,
        "amount": money(row.amount, row.currency),
        "expected_close": row.expected_close.isoformat(),
        "probability": row.probability,
        "forecast_category": row.forecast_category,
        **sharing_of(sharing, row.id),
        "created_at": moment(row.created_at),
        "updated_at": moment(row.updated_at),
    }


def _pipeline(name_or_id: str | None) -> str | None:
    """A pipeline named by its name or id, as its id (None: not filtered)."""
    return None if name_or_id is None else str(pipeline_id(name_or_id))


@router.get("/opportunities", dependencies=[reads("opportunities")])
def list_opportunities(
    request: Request,
    owner: str | None = OWNER,
    stage: str | None = Query(None, max_length=100, description="a stage's key"),
    status: Status | None = None,
    pipeline: str | None = Query(None, max_length=200, description="a pipeline's name or id"),
    account_id: UUID | None = None,
    partner_id: UUID | None = None,
    expected_close_from: Day | None = None,
    expected_close_to: Day | None = None,
    q: str | None = Q,
    sort: str | None = sort_doc(OPPORTUNITIES),
    paging: Paging = PAGING,
) -> ReadAnswer:
    """The opportunities the caller may see (deleted ones never), filtered and sorted."""
    services = services_of(request)
    where = [
        *where_of(
            services,
            OPPORTUNITIES,
            owner=owner_of(request, owner),
            stage=stage,
            status=status,
            pipeline=_pipeline(pipeline),
            partner_id=partner_id,
            expected_close_from=expected_close_from,
            expected_close_to=expected_close_to,
        ),
        *search_of(services, OPPORTUNITIES, q),
    ]
    listing = list_page(
        request,
        OPPORTUNITIES,
        where,
        paging,
        sort=sort,
        account_id=account_id,
        custom="opportunity",
    )
    sharing = exceptions(services.views, "opportunity", listing.position)
    return envelope_of([opportunity_item(row, sharing) for row in listing.rows], listing)


def quote_item(row: QuoteRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "opportunity_id": row.opportunity_id,
        "name": row.name,
        "currency": row.currency,
        "active": row.active,
        "locked": row.locked,
        "items": row.items,
        "total": money(row.total, row.currency),
        "created_at": moment(row.created_at),
        "updated_at": moment(row.updated_at),
    }


@router.get("/quotes", dependencies=[reads("quotes")])
def list_quotes(
    request: Request,
    opportunity_id: UUID | None = None,
    active: bool | None = None,
    locked: bool | None = None,
    currency: str | None = Query(None, pattern=r"^[A-Z]{3}$"),
    q: str | None = Q,
    sort: str | None = sort_doc(QUOTES),
    paging: Paging = PAGING,
) -> ReadAnswer:
    """The quotes (deleted ones never) of the opportunities the caller may see."""
    services = services_of(request)
    where = [
        *where_of(
            services,
            QUOTES,
            opportunity_id=opportunity_id,
            active=active,
            locked=locked,
            currency=currency,
        ),
        *search_of(services, QUOTES, q),
    ]
    listing = list_page(
        request,
        QUOTES,
        where,
        paging,
        sort=sort,
    )
    return envelope_of([quote_item(row) for row in listing.rows], listing)


# --- the board ---------------------------------------------------------------------------


def _board_route(pipeline_key: str, stage: str) -> str:
    return f"board:{pipeline_key}:{stage}"


def _pages(cursor: str, pipeline_key: str, stage: str) -> bool:
    """Was ``cursor`` made by the column of ``stage``?"""
    try:
        read_key_cursor(_board_route(pipeline_key, stage), cursor, 3)
    except NotFound:
        return False
    return True


@router.get("/pipeline/board", dependencies=[reads("the pipeline board")])
def pipeline_board(
    request: Request,
    pipeline: str = Query("sales", max_length=200, description="a pipeline's name or id"),
    stage: str | None = Query(
        None,
        max_length=100,
        description="only this stage's column (a column's `cursor` names its stage too)",
    ),
    owner: str | None = OWNER,
    account_id: UUID | None = None,
    paging: Paging = PAGING,
) -> ReadAnswer:
    """The open deals of a pipeline the caller may see, a column per open stage in the
    stage order, each its first ``limit`` deals (soonest expected close first) and its own
    ``next_cursor``; ``stage`` with that cursor pages one column on."""
    services = services_of(request)
    services.queries.wait_for(paging.wait_for)
    pipeline_key = str(pipeline_id(pipeline))
    stages = open_stages(services.views, pipeline_key)
    if not stages:
        raise NotFound(f"there is no pipeline {pipeline!r}.")
    if stage is not None:
        stages = [s for s in stages if s.stage == stage]
        if not stages:
            raise NotFound(f"the pipeline {pipeline!r} has no open stage {stage!r}.")
    elif paging.cursor is not None:
        # A column's cursor names its stage: it pages that column (404 if none's).
        stages = [s for s in stages if _pages(paging.cursor, pipeline_key, s.stage)][:1]
        if not stages:
            raise NotFound(f"cursor {paging.cursor!r} is not a next_cursor this board gave.")
    filters = where_of(
        services, OPPORTUNITIES, owner=owner_of(request, owner), account_id=account_id
    )
    columns = []
    listing: Listing | None = None
    position: int | None = None
    sharing: dict[str, SharingRow] = {}
    for s in stages:
        # every column at the position of the first
        at = paging.as_of if position is None else str(position)
        listing = list_page(
            request,
            OPPORTUNITIES,
            [*filters, *stage_clauses(services.views, pipeline_key, s.stage)],
            Paging(paging.limit, paging.cursor, at, paging.wait_for),
            sort=BOARD_SORT,
            route=_board_route(pipeline_key, s.stage),
        )
        if position is None:
            position = listing.position
            sharing = exceptions(services.views, "opportunity", position)
        columns.append(
            {
                "stage": s.stage,
                "name": s.name,
                "probability": s.probability,
                "items": [opportunity_item(row, sharing) for row in listing.rows],
                "next_cursor": listing.next_cursor,
            }
        )
    assert listing is not None
    return {"pipeline_id": pipeline_key, "columns": columns, "as_of": listing.as_of}
