"""The list of contacts: ``GET /contacts`` through the one keyset engine
(``readmodels.lists``; the shared parts of a list route: ``listing``).

``q`` finds words of the job title through the full-text index, or an exact e-mail
address or phone number through the event store's digests of them (never a part of a
person's data: it is not searched in the clear), each candidate confirmed against its
person as it stood at the position the list answers; not for a caller who sees personal
data masked, who may not learn whose address it is.

Personal fields follow ``GET /contacts/{id}``: opened from their sealed copy for this
answer only (in chunks), null with ``masked`` for analysts and auditors, and every contact
shown in the clear written to the access log before the answer goes out.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Query, Request

from adapters.bootstrap import Services
from adapters.http.answers import ReadAnswer
from adapters.http.listing import (
    OWNER,
    PAGING,
    Paging,
    envelope_of,
    list_page,
    moment,
    owner_of,
    resume,
    sharing_of,
    sort_doc,
    where_of,
)
from adapters.http.personal_reads import log_personal_reads, masked, open_sealed_fields
from adapters.http.reading import reads
from adapters.http.routes_readmodels import services_of
from commands.contacts import PERSON_FIELDS
from domain.contact import ContactCreated
from domain.personal_data import contact_digests
from readmodels.contacts.queries import CONTACTS, contact_at
from readmodels.contacts.tables import ContactRow
from readmodels.lists import Clause, ListSpec, sort_of, words_of
from readmodels.sharing.queries import exceptions
from readmodels.sharing.tables import SharingRow

router = APIRouter(tags=["contacts"])


def _people(services: Services, rows: Sequence[ContactRow]) -> list[dict[str, Any] | None]:
    """Each contact's person, opened from its sealed copy; None where it cannot be
    (anonymized: the key is gone)."""
    sealed = [(row.id, None if row.anonymized else row.personal_sealed) for row in rows]
    return open_sealed_fields(services, sealed, ContactCreated, "person")


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
        **sharing_of(sharing, row.id),
        "created_at": moment(row.created_at),
        "updated_at": moment(row.updated_at),
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
    sort: str | None = sort_doc(CONTACTS),
    paging: Paging = PAGING,
) -> ReadAnswer:
    """The contacts the caller may see, with their personal data as ``GET /contacts/{id}``
    shows it."""
    services = services_of(request)
    where = where_of(
        services,
        CONTACTS,
        owner=owner_of(request, owner),
        anonymized=anonymized,
    )
    if q is not None:
        where.append(_contactsearch_of(request, q, paging.as_of, paging.cursor))
    listing = list_page(
        request,
        CONTACTS,
        where,
        paging,
        sort=sort,
        account_id=account_id,
        custom="contact",
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
    return envelope_of(
        [
            contact_item(row, person, masking, sharing)
            for row, person in zip(listing.rows, people, strict=True)
        ],
        listing,
    )


def _contactsearch_of(request: Request, q: str, as_of: str | None, cursor: str | None) -> Clause:
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
    position, _ = resume(route, cursor)
    return services.queries.resolve(as_of).position if position is None else position
