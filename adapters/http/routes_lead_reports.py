"""Lead and campaign reports: the leads read model, now or as of any position.

``GET /leads`` and ``GET /campaigns`` answer the list envelope (``paging``): a page in the
order ``sort`` names, the ``next_cursor`` a keyset position (a cursor names its list and
order, so one of another order is no page of this one). ``GET /leads/summary`` and
``GET /campaigns/report`` answer their rows. All say the position they reflect in
``as_of``, and take ``as_of`` and ``wait_for``.

The read model holds a lead's personal data only sealed (the event store's ciphertext).
``GET /leads`` opens it with the lead's key for this answer only; where it cannot be
opened — the lead is anonymized (its key destroyed), even as of a position before
that — the personal fields are null and ``anonymized`` is true. For analysts and auditors
they are null with ``masked`` true; for anyone else, each lead shown with its personal data
is written to the access log before the answer goes out (``personal_reads``): only the
leads of the page, the ones it shows.

Registered before the routes with ``/leads/{lead_id}`` and ``/campaigns/{campaign_id}``
paths, so ``/leads/summary`` and ``/campaigns/report`` are not taken for ids.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request

from adapters.bootstrap import Services
from adapters.http.answers import ReadAnswer
from adapters.http.paging import CURSOR, LIMIT, envelope, make_key_cursor, read_key_cursor
from adapters.http.parameters import WAIT_FOR, AsOf
from adapters.http.personal_reads import log_personal_reads, masked, open_sealed_fields
from adapters.http.reading import reads
from adapters.http.routes_readmodels import services_of
from adapters.http.scoping import scope
from domain.lead import LeadCreated
from domain.lead.state import LeadStatus
from readmodels.deals.analytics import Analytics
from readmodels.deals.baselines import as_of_view
from readmodels.leads.campaigns import (
    CampaignSort,
    campaign_order,
    campaign_report,
    campaign_view,
    list_campaigns,
)
from readmodels.leads.queries import (
    Grouping,
    LeadFilters,
    LeadSort,
    lead_order,
    lead_view,
    list_leads,
    summary,
)
from readmodels.leads.tables import LeadRow

router = APIRouter(tags=["lead reports"])
PERSONAL = ("first_name", "last_name", "email", "phone", "address")
STATUS = Query(None, description="new, working, qualified or disqualified")
POOL = Query(None, description="true: leads with no owner and no partner (the free pool)")
ARCHIVED = Query(None, description="true: archived only; false: not archived")
ANONYMIZED = Query(None, description="true: anonymized (by the position asked for) only")
BY = Query("status", description="status, source, campaign or owner")
LEAD_SORT = Query(
    "created",
    description="created (the order they were made in), created_at (when each took effect), "
    "updated_at or status; `-` first: the reverse order",
)
CAMPAIGN_SORT = Query(
    "created",
    description="created (the order they were made in), name, starts_on or ends_on (those "
    "without the date last); `-` first: the reverse order",
)


def lead_filters(
    status: LeadStatus | None = STATUS,
    source: str | None = None,
    campaign_id: UUID | None = None,
    owner: str | None = None,
    pool: bool | None = POOL,
    archived: bool | None = ARCHIVED,
    anonymized: bool | None = ANONYMIZED,
) -> LeadFilters:
    """The filters both lead queries take, from the query string."""
    return LeadFilters(
        status=status,
        source=source,
        campaign_id=campaign_id,
        owner=owner,
        pool=pool,
        archived=archived,
        anonymized=anonymized,
    )


Filters = Depends(lead_filters)


def _position(
    services: Services, as_of: str | None, wait_for: int | None
) -> tuple[int | None, dict[str, Any]]:
    """The position to read at (None: now) and the ``as_of`` the answer states."""
    services.queries.wait_for(wait_for)
    point = services.queries.resolve(as_of)
    instant = point.instant or services.queries.recorded_instant(point.position)
    return (None if as_of is None else point.position), as_of_view(point.position, instant)


def _personal(services: Services, rows: list[LeadRow]) -> list[dict[str, Any] | None]:
    """Each lead's personal fields, opened from its sealed copy; None where they cannot be
    (anonymized: the key is gone; or nothing sealed)."""
    sealed = [(row.id, row.personal_sealed) for row in rows]
    return open_sealed_fields(services, sealed, LeadCreated, "personal")


def _readable(row: LeadRow, person: dict[str, Any] | None) -> bool:
    return person is not None and not row.anonymized


def _lead_answer(row: LeadRow, person: dict[str, Any] | None, masking: bool) -> dict[str, Any]:
    answer = lead_view(row)
    readable = _readable(row, person)
    shown = readable and not masking
    answer.update({name: person.get(name) if shown and person else None for name in PERSONAL})
    answer["anonymized"] = not readable
    answer["masked"] = masking
    return answer


@router.get("/leads", dependencies=[reads("leads")])
def leads(
    request: Request,
    filters: LeadFilters = Filters,
    sort: LeadSort = LEAD_SORT,
    limit: int = LIMIT,
    cursor: str | None = CURSOR,
    as_of: AsOf = None,
    wait_for: int | None = WAIT_FOR,
) -> ReadAnswer:
    """A page of the leads as they stood, with their personal data where it can be read."""
    services = services_of(request)
    # The cursor names the list and its order: one of another order is no page of this.
    after = read_key_cursor(f"leads:{sort}", cursor, len(lead_order(sort).parts))
    position, reflected = _position(services, as_of, wait_for)
    visible = scope(request, "lead", position)
    page = list_leads(
        services.views, filters, position, visible, sort=sort, after=after, limit=limit
    )
    rows = page.records
    # Opened for a masked caller too: whether a lead's data can still be read is what
    # ``anonymized`` says (the key may be gone since the position asked for).
    people = _personal(services, rows)
    masking = masked(request)
    if not masking:
        shown = [row for row, person in zip(rows, people, strict=True) if _readable(row, person)]
        log_personal_reads(request, [UUID(row.id) for row in shown])
    answers = [_lead_answer(row, p, masking) for row, p in zip(rows, people, strict=True)]
    following = None if page.next_key is None else make_key_cursor(f"leads:{sort}", page.next_key)
    return envelope(answers, following, reflected)


@router.get("/leads/summary", dependencies=[reads("the lead summary")])
def leads_summary(
    request: Request,
    by: Grouping = BY,
    filters: LeadFilters = Filters,
    as_of: AsOf = None,
    wait_for: int | None = WAIT_FOR,
) -> ReadAnswer:
    services = services_of(request)
    position, reflected = _position(services, as_of, wait_for)
    visible = scope(request, "lead", position)
    rows = summary(services.views, filters, position, by, visible)
    return {"as_of": reflected, "by": by, "rows": rows}


@router.get("/campaigns", dependencies=[reads("campaigns")])
def campaigns(
    request: Request,
    archived: bool | None = ARCHIVED,
    sort: CampaignSort = CAMPAIGN_SORT,
    limit: int = LIMIT,
    cursor: str | None = CURSOR,
    as_of: AsOf = None,
    wait_for: int | None = WAIT_FOR,
) -> ReadAnswer:
    services = services_of(request)
    after = read_key_cursor(f"campaigns:{sort}", cursor, len(campaign_order(sort).parts))
    position, reflected = _position(services, as_of, wait_for)
    page = list_campaigns(services.views, position, archived, sort=sort, after=after, limit=limit)
    items = [campaign_view(row) for row in page.records]
    following = (
        None if page.next_key is None else make_key_cursor(f"campaigns:{sort}", page.next_key)
    )
    return envelope(items, following, reflected)


@router.get("/campaigns/report", dependencies=[reads("the campaign report")])
def campaigns_report(
    request: Request,
    archived: bool | None = ARCHIVED,
    as_of: AsOf = None,
    wait_for: int | None = WAIT_FOR,
) -> ReadAnswer:
    """Per campaign: leads, qualified, disqualified, conversion (qualified / leads) and the
    opportunities made for it."""
    services = services_of(request)
    position, reflected = _position(services, as_of, wait_for)
    principal = request.state.principal
    deals = Analytics(services.queries).visible_deals(principal, reflected["position"])
    rows = campaign_report(
        services.views, position, archived, scope=scope(request, "lead", position), deals=deals
    )
    return {"as_of": reflected, "rows": rows}
