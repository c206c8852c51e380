"""The lists of records: ``GET /opportunities``, ``/quotes``, ``/contacts`` and the board of
a pipeline (``GET /pipeline/board``), through the one keyset engine (``readmodels.lists``).

Every list answers ``{items, next_cursor, as_of}`` over the records the caller may see as
they stood at the position it answers (``as_of``, else now). Its ``next_cursor`` holds
that position and the key of its last item: the next pages read the records as they stood
then, so while others write, no record is skipped or repeated. ``q`` finds words in
titles and names (a prefix of a word too) through the stores' full-text indexes; on
contacts, also an exact e-mail address or phone number, looked up by its digest (a
person's data is never searched in the clear).

Contacts' personal fields follow ``GET /contacts/{id}``: opened from their sealed copy for
this answer only (in chunks), null with ``masked`` for analysts and auditors, and every
contact shown in the clear written to the access log before the answer goes out.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import msgspec
from fastapi import APIRouter, Query, Request

from adapters.bootstrap import Services
from adapters.http.answers import ReadAnswer
from adapters.http.paging import CURSOR, LIMIT, make_key_cursor, read_key_cursor
from adapters.http.parameters import WAIT_FOR, AsOf, Day
from adapters.http.personal_reads import log_personal_reads, masked
from adapters.http.reading import reads
from adapters.http.routes_catalogue import pipeline_id
from adapters.http.routes_readmodels import services_of
from adapters.http.scoping import scope
from commands.contacts import PERSON_FIELDS
from domain.contact import ContactCreated
from domain.errors import InvalidInput, NotFound
from domain.opportunity.state import Status
from domain.personal_data import contact_digests
from readmodels.contacts.queries import CONTACTS, contact_at
from readmodels.contacts.tables import ContactRow
from readmodels.deals.baselines import as_of_view
from readmodels.lists import (
    Clause,
    KeyPart,
    ListSpec,
    Page,
    filter_clause,
    page,
    sort_of,
    words_of,
)
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
from readmodels.values import instant

router = APIRouter(tags=["lists"])
# Contacts whose sealed personal data are opened per key-store read.
OPEN_CHUNK = 500
OWNER = Query(None, description="a login, or `me` (the caller)")
Q = Query(None, min_length=1, max_length=200, description="words in titles and names")


def _sort_doc(spec: ListSpec) -> Any:
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


def _owner(request: Request, owner: str | None) -> str | None:
    return request.state.principal.login if owner == "me" else owner


def _where(services: Services, spec: ListSpec, **values: Any) -> list[Clause]:
    """The clauses of the list's filters given a value (None: not filtered)."""
    return [
        filter_clause(services.views, spec, name, value)
        for name, value in values.items()
        if value is not None
    ]


def _search(services: Services, spec: ListSpec, q: str | None) -> list[Clause]:
    if q is None:
        return []
    words = words_of(q)
    if not words:
        raise InvalidInput("q must hold a word (letters or digits).")
    return [services.views.match(spec.table, words)]


def _listing(
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
    position, after = _resume(route, cursor)
    if position is None:
        position = services.queries.resolve(as_of).position
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


def _resume(route: str, cursor: str | None) -> tuple[int | None, Sequence[KeyPart] | None]:
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


def _envelope(items: list[dict[str, Any]], listing: Listing) -> dict[str, Any]:
    return {"items": items, "next_cursor": listing.next_cursor, "as_of": listing.as_of}


def _money(amount: Any, currency: str) -> dict[str, str]:
    return {"amount": str(amount), "currency": currency}


def _moment(micros: int) -> str:
    return instant(micros).isoformat()


def _sharing(sharing: dict[str, SharingRow], record_id: str) -> dict[str, Any]:
    row = sharing.get(record_id)
    if row is None:
        return {"private": False, "shared_with": []}
    return {"private": row.private, "shared_with": sorted(row.shared)}


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
        "amount": _money(row.amount, row.currency),
        "expected_close": row.expected_close.isoformat(),
        "probability": row.probability,
        "forecast_category": row.forecast_category,
        **_sharing(sharing, row.id),
        "created_at": _moment(row.created_at),
        "updated_at": _moment(row.updated_at),
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
    sort: str | None = _sort_doc(OPPORTUNITIES),
    limit: int = LIMIT,
    cursor: str | None = CURSOR,
    as_of: AsOf = None,
    wait_for: int | None = WAIT_FOR,
) -> ReadAnswer:
    """The opportunities the caller may see (deleted ones never), filtered and sorted."""
    services = services_of(request)
    where = [
        *_where(
            services,
            OPPORTUNITIES,
            owner=_owner(request, owner),
            stage=stage,
            status=status,
            pipeline=_pipeline(pipeline),
            account_id=account_id,
            partner_id=partner_id,
            expected_close_from=expected_close_from,
            expected_close_to=expected_close_to,
        ),
        *_search(services, OPPORTUNITIES, q),
    ]
    listing = _listing(
        request,
        OPPORTUNITIES,
        where,
        sort=sort,
        limit=limit,
        cursor=cursor,
        as_of=as_of,
        wait_for=wait_for,
    )
    sharing = exceptions(services.views, "opportunity", listing.position)
    return _envelope([opportunity_item(row, sharing) for row in listing.rows], listing)


def quote_item(row: QuoteRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "opportunity_id": row.opportunity_id,
        "name": row.name,
        "currency": row.currency,
        "active": row.active,
        "locked": row.locked,
        "items": row.items,
        "total": _money(row.total, row.currency),
        "created_at": _moment(row.created_at),
        "updated_at": _moment(row.updated_at),
    }


@router.get("/quotes", dependencies=[reads("quotes")])
def list_quotes(
    request: Request,
    opportunity_id: UUID | None = None,
    active: bool | None = None,
    locked: bool | None = None,
    currency: str | None = Query(None, pattern=r"^[A-Z]{3}$"),
    q: str | None = Q,
    sort: str | None = _sort_doc(QUOTES),
    limit: int = LIMIT,
    cursor: str | None = CURSOR,
    as_of: AsOf = None,
    wait_for: int | None = WAIT_FOR,
) -> ReadAnswer:
    """The quotes (deleted ones never) of the opportunities the caller may see."""
    services = services_of(request)
    where = [
        *_where(
            services,
            QUOTES,
            opportunity_id=opportunity_id,
            active=active,
            locked=locked,
            currency=currency,
        ),
        *_search(services, QUOTES, q),
    ]
    listing = _listing(
        request,
        QUOTES,
        where,
        sort=sort,
        limit=limit,
        cursor=cursor,
        as_of=as_of,
        wait_for=wait_for,
    )
    return _envelope([quote_item(row) for row in listing.rows], listing)


# --- contacts ----------------------------------------------------------------------------


def _people(services: Services, rows: Sequence[ContactRow]) -> list[dict[str, Any] | None]:
    """Each contact's person, opened from its sealed copy; None where it cannot be
    (anonymized: the key is gone)."""
    opened: list[dict[str, Any] | None] = [None] * len(rows)
    sealed = [
        (i, row)
        for i, row in enumerate(rows)
        if row.personal_sealed is not None and not row.anonymized
    ]
    for start in range(0, len(sealed), OPEN_CHUNK):
        chunk = sealed[start : start + OPEN_CHUNK]
        values = services.store.open_sealed(
            [(UUID(row.id), row.personal_sealed or "", ContactCreated) for _, row in chunk]
        )
        for (i, _), value in zip(chunk, values, strict=True):
            person = None if value is None else value.get("person")
            if person is not None:
                found: dict[str, Any] = msgspec.to_builtins(person)
                opened[i] = found
    return opened


def _digested(services: Services, q: str, position: int | None) -> list[str]:
    """The contacts whose e-mail or phone, as they stood at ``position``, is exactly ``q``.

    The event store's digest index holds each contact's current digests: it proposes
    the candidates, and each one's person as it stood then (opened, never shown)
    confirms them, so a contact whose address changed since is not found by its new one.
    """
    region = services.settings.phone_region
    wanted = set(contact_digests(q if "@" in q else None, None if "@" in q else q, region))
    candidates = {str(c) for digest in wanted for c in services.store.contacts_with_digest(digest)}
    rows = [
        row
        for c in sorted(candidates)
        if (row := contact_at(services.views, c, position)) is not None
    ]
    confirmed = []
    for row, person in zip(rows, _people(services, rows), strict=True):
        if person is None:
            continue
        digests = contact_digests(person.get("email"), person.get("phone"), region)
        if wanted & set(digests):
            confirmed.append(row.id)
    return confirmed


def contact_item(
    row: ContactRow,
    person: dict[str, Any] | None,
    masking: bool,
    sharing: dict[str, SharingRow],
) -> dict[str, Any]:
    shown = None if masking else person
    return {
        "id": row.id,
        "version": row.version,
        **{name: None if shown is None else shown.get(name) for name in PERSON_FIELDS},
        "anonymized": row.anonymized or person is None,
        "masked": masking,
        "title": row.title,
        "account_id": row.account_id,
        "owner": row.owner,
        "lead_id": row.lead_id,
        **_sharing(sharing, row.id),
        "created_at": _moment(row.created_at),
        "updated_at": _moment(row.updated_at),
    }


@router.get("/contacts", dependencies=[reads("contacts")])
def list_contacts(
    request: Request,
    owner: str | None = OWNER,
    account_id: UUID | None = None,
    anonymized: bool | None = None,
    q: str | None = Query(
        None,
        min_length=1,
        max_length=200,
        description="words of the job title, or an exact e-mail address or phone number",
    ),
    sort: str | None = _sort_doc(CONTACTS),
    limit: int = LIMIT,
    cursor: str | None = CURSOR,
    as_of: AsOf = None,
    wait_for: int | None = WAIT_FOR,
) -> ReadAnswer:
    """The contacts the caller may see, with their personal data as ``GET /contacts/{id}``
    shows it."""
    services = services_of(request)
    where = _where(
        services,
        CONTACTS,
        owner=_owner(request, owner),
        account_id=account_id,
        anonymized=anonymized,
    )
    if q is not None:
        where.append(_contact_search(request, q, as_of, cursor))
    listing = _listing(
        request,
        CONTACTS,
        where,
        sort=sort,
        limit=limit,
        cursor=cursor,
        as_of=as_of,
        wait_for=wait_for,
    )
    # Opened for a masked caller too: whether a contact's data can still be read is what
    # ``anonymized`` says (the key may be gone since the position asked for).
    people = _people(services, listing.rows)
    masking = masked(request)
    if not masking:
        log_personal_reads(
            request, [UUID(r.id) for r, p in zip(listing.rows, people, strict=True) if p]
        )
    sharing = exceptions(services.views, "contact", listing.position)
    return _envelope(
        [
            contact_item(row, person, masking, sharing)
            for row, person in zip(listing.rows, people, strict=True)
        ],
        listing,
    )


def _contact_search(request: Request, q: str, as_of: str | None, cursor: str | None) -> Clause:
    """Contacts whose job title holds the words of ``q``, or whose e-mail or phone is
    exactly ``q`` (through the digests) at the position the list answers — not for a
    caller who sees personal data masked."""
    services = services_of(request)
    rows = services.views
    clauses: list[str] = []
    params: list[Any] = []
    words = words_of(q)
    if words:
        clause, more = rows.match(CONTACTS.table, words)
        clauses.append(clause)
        params.extend(more)
    # A masked caller may not learn whose e-mail or phone it is: words only.
    found = []
    if not masked(request):
        position = _position_of(request, CONTACTS, cursor, as_of)
        found = _digested(services, q.strip(), position)
    if found:
        clauses.append(f"id IN ({', '.join('?' for _ in found)})")
        params.extend(rows.param("id", i) for i in found)
    if not clauses:
        return "1 = 0", []
    return f"({' OR '.join(clauses)})", params


def _position_of(request: Request, spec: ListSpec, cursor: str | None, as_of: str | None) -> int:
    """The position a list's page answers at: its cursor's, else ``as_of``'s, else now."""
    services = services_of(request)
    sort = request.query_params.get("sort")
    route = f"{spec.name}:{sort_of(spec, sort).text}"
    position, _ = _resume(route, cursor)
    return services.queries.resolve(as_of).position if position is None else position


# --- the board ---------------------------------------------------------------------------


@router.get("/pipeline/board", dependencies=[reads("the pipeline board")])
def pipeline_board(
    request: Request,
    pipeline: str = Query("sales", max_length=200, description="a pipeline's name or id"),
    stage: str | None = Query(
        None, max_length=100, description="only this stage's column (with its `cursor`)"
    ),
    owner: str | None = OWNER,
    account_id: UUID | None = None,
    limit: int = LIMIT,
    cursor: str | None = CURSOR,
    as_of: AsOf = None,
    wait_for: int | None = WAIT_FOR,
) -> ReadAnswer:
    """The open deals of a pipeline the caller may see, a column per open stage in the
    stage order, each its first ``limit`` deals (soonest expected close first) and its own
    ``next_cursor``; ``stage`` with that cursor pages one column on."""
    services = services_of(request)
    pipeline_key = str(pipeline_id(pipeline))
    stages = open_stages(services.views, pipeline_key)
    if not stages:
        raise NotFound(f"there is no pipeline {pipeline!r}.")
    if stage is not None:
        stages = [s for s in stages if s.stage == stage]
        if not stages:
            raise NotFound(f"the pipeline {pipeline!r} has no open stage {stage!r}.")
    elif cursor is not None:
        raise InvalidInput("a cursor pages one column: give its stage too.")
    filters = _where(services, OPPORTUNITIES, owner=_owner(request, owner), account_id=account_id)
    columns = []
    listing: Listing | None = None
    position: int | None = None
    sharing: dict[str, SharingRow] = {}
    for s in stages:
        listing = _listing(
            request,
            OPPORTUNITIES,
            [*filters, *stage_clauses(services.views, pipeline_key, s.stage)],
            sort=BOARD_SORT,
            limit=limit,
            cursor=cursor,
            # every column at the position of the first
            as_of=as_of if position is None else str(position),
            wait_for=wait_for,
            route=f"board:{pipeline_key}:{s.stage}",
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
