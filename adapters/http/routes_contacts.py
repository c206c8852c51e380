"""Contact routes: create, read (the contacts read model, as of any position), change,
anonymize.

A contact's personal fields (names, e-mail, phone) are kept in the read model only
sealed; ``GET /contacts/{id}`` opens them with the contact's key for this answer only.
Once the contact is anonymized they are null and ``anonymized`` is true — as of a
position before that too, since the key is gone. For analysts and auditors they are null
with ``masked`` true; anyone else's read of them is written to the access log first
(``personal_reads``). A contact the caller may not see (as it stood at the position
asked for, with today's rights) answers as an unknown one.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from adapters.bootstrap import Services
from adapters.http import bodies_contacts as bodies
from adapters.http.answers import ReadAnswer
from adapters.http.commanding import CommandHeaders, command_headers, run
from adapters.http.parameters import WAIT_FOR, AsOf
from adapters.http.personal_reads import log_personal_reads, masked
from adapters.http.reading import reads
from adapters.http.routes_custom_fields import answered
from adapters.http.routes_readmodels import services_of
from commands import contacts as contact_cmd
from domain.access import sees
from domain.contact import ContactCreated
from domain.errors import NotFound
from readmodels.contacts.queries import contact_access, contact_at
from readmodels.contacts.tables import ContactRow
from readmodels.custom_fields.queries import entity_of
from readmodels.custom_values import shown
from readmodels.deals.baselines import as_of_view
from readmodels.values import instant

router = APIRouter(tags=["contacts"])
Headers = Depends(command_headers)
PERSONAL = contact_cmd.PERSON_FIELDS


def _person(services: Services, row: ContactRow) -> dict[str, Any] | None:
    """The contact's person, opened from its sealed copy; None when it cannot be
    (anonymized: the key is gone)."""
    if row.personal_sealed is None or row.anonymized:
        return None
    (opened,) = services.store.open_sealed([(UUID(row.id), row.personal_sealed, ContactCreated)])
    person = None if opened is None else opened.get("person")
    return None if person is None else dict(msgspec.to_builtins(person))


def contact_view(row: ContactRow, person: dict[str, Any] | None, masking: bool) -> dict[str, Any]:
    shown = None if masking else person
    return {
        "id": row.id,
        "version": row.version,
        **{name: None if shown is None else shown.get(name) for name in PERSONAL},
        "anonymized": row.anonymized or person is None,
        "masked": masking,
        "title": row.title,
        "account_id": row.account_id,
        "owner": row.owner,
        "lead_id": row.lead_id,
        "created_at": instant(row.created_at).isoformat(),
        "updated_at": instant(row.updated_at).isoformat(),
    }


@router.post("/contacts", status_code=201)
def create_contact(
    request: Request, body: bodies.ContactBody, h: CommandHeaders = Headers
) -> JSONResponse:
    return run(request, h, body.to_command())


@router.get("/contacts/{contact_id}", dependencies=[reads("a contact")])
def get_contact(
    request: Request, contact_id: UUID, as_of: AsOf = None, wait_for: int | None = WAIT_FOR
) -> ReadAnswer:
    """The contact as the read model has it (now, or ``as_of``), with its sharing."""
    services = services_of(request)
    services.queries.wait_for(wait_for)
    point = services.queries.resolve(as_of)
    position = None if as_of is None else point.position
    row = contact_at(services.views, str(contact_id), position)
    record = None if row is None else contact_access(services.views, row, position)

    if row is None or record is None or not sees(request.state.principal, record):
        raise NotFound(f"there is no contact with id {contact_id}.")
    masking = masked(request)
    person = _person(services, row)
    if person is not None and not masking:
        log_personal_reads(request, [contact_id])
    recorded = point.instant or services.queries.recorded_instant(point.position)
    # The fields defined then: a field deleted since still shows as of before it.
    defined = entity_of(services.views, "contact", position)
    return {
        **contact_view(row, person, masking),
        "private": record.private,
        "shared_with": sorted(record.shared_with),
        "custom": {key: answered(value) for key, value in shown(row.custom, defined).items()},
        "as_of": as_of_view(point.position, recorded),
    }


@router.patch("/contacts/{contact_id}")
def change_contact(
    request: Request, contact_id: UUID, body: bodies.ContactPatch, h: CommandHeaders = Headers
) -> JSONResponse:
    return run(request, h, body.to_command(contact_id), target=contact_id)


@router.post("/contacts/{contact_id}/anonymize")
def anonymize_contact(
    request: Request, contact_id: UUID, h: CommandHeaders = Headers
) -> JSONResponse:
    """Destroys the contact's key: its personal data is unreadable everywhere, for good."""
    command = contact_cmd.AnonymizeContact(contact_id=contact_id)
    return run(request, h, command, target=contact_id)
