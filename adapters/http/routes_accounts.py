"""Account routes: create, read (the accounts read model, as of any position), change,
merge.

``GET /accounts/{id}`` answers the account as it stood at the position asked for, with
the counts of what was filed under it then — its open deals, contracts (but cancelled
ones) and contacts, those of the accounts merged into it by then included — that the
caller may see. A merged account still answers (``merged_into`` says where its links
went) and counts nothing: its links count under the survivor. An account the caller may
not see (as it stood then, with today's rights) answers as an unknown one.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from adapters.http import bodies_accounts as bodies
from adapters.http.answers import ReadAnswer
from adapters.http.commanding import CommandHeaders, command_headers, run
from adapters.http.parameters import WAIT_FOR, AsOf
from adapters.http.reading import reads
from adapters.http.routes_readmodels import services_of
from domain.access import sees
from domain.account import Address
from domain.errors import NotFound
from readmodels.accounts.queries import (
    account_access,
    account_at,
    count_contacts,
    count_contracts,
    count_open_deals,
    family,
    merged_into_it,
)
from readmodels.accounts.tables import AccountRow
from readmodels.deals.baselines import as_of_view
from readmodels.scope import scope_of
from readmodels.values import instant

router = APIRouter(tags=["accounts"])
Headers = Depends(command_headers)
ADDRESS = Address.__struct_fields__


def account_view(row: AccountRow) -> dict[str, Any]:
    address = {name: getattr(row, name) for name in ADDRESS}
    return {
        "id": row.id,
        "version": row.version,
        "name": row.name,
        "partner": row.partner,
        "type": row.type,
        "industry": row.industry,
        "website": row.website,
        "vat_id": row.vat_id,
        "address": None if all(v is None for v in address.values()) else address,
        "parent_id": row.parent_id,
        "owner": row.owner,
        "merged_into": row.merged_into,
        "created_at": instant(row.created_at).isoformat(),
        "updated_at": instant(row.updated_at).isoformat(),
    }


@router.post("/accounts", status_code=201)
def create_account(
    request: Request, body: bodies.AccountBody, h: CommandHeaders = Headers
) -> JSONResponse:
    return run(request, h, body.to_command())


@router.patch("/accounts/{account_id}")
def change_account(
    request: Request, account_id: UUID, body: bodies.AccountPatch, h: CommandHeaders = Headers
) -> JSONResponse:
    """Change an account's details or sharing (its owner, or an admin)."""
    return run(request, h, body.to_command(account_id), target=account_id)


@router.post("/accounts/{account_id}/merge")
def merge_account(
    request: Request, account_id: UUID, body: bodies.MergeAccountBody, h: CommandHeaders = Headers
) -> JSONResponse:
    """Merge the account into ``into`` (the owner of both, or an admin): its deals,
    contacts, leads, contracts and child accounts count and list under ``into`` from
    now on; commands naming it are sent on to ``into``; its history stays its own."""
    return run(request, h, body.to_command(account_id), target=account_id)


@router.get("/accounts/{account_id}", dependencies=[reads("an account")])
def get_account(
    request: Request, account_id: UUID, as_of: AsOf = None, wait_for: int | None = WAIT_FOR
) -> ReadAnswer:
    """The account as the read model has it (now, or ``as_of``), with its sharing and the
    counts of what was filed under it then."""
    services = services_of(request)
    services.queries.wait_for(wait_for)
    point = services.queries.resolve(as_of)
    # One position for the row and every count, now too, so they agree with each other.
    position = point.position
    rows = services.views
    row = account_at(rows, str(account_id), position)
    record = None if row is None else account_access(rows, row, position)
    principal = request.state.principal
    if row is None or record is None or not sees(principal, record):
        raise NotFound(f"there is no account with id {account_id}.")
    counted = [] if row.merged_into is not None else family(rows, row.id, position)
    deals_scope = scope_of(principal, rows, "opportunity", position)
    counts = {
        "open_deals": services.queries.with_view(
            point, lambda view, _: count_open_deals(view, counted, deals_scope)
        )
        if counted
        else 0,
        "contracts": count_contracts(
            rows, counted, position, scope_of(principal, rows, "contract", position)
        )
        if counted
        else 0,
        "contacts": count_contacts(
            rows, counted, position, scope_of(principal, rows, "contact", position)
        )
        if counted
        else 0,
    }
    recorded = point.instant or services.queries.recorded_instant(point.position)
    return {
        **account_view(row),
        "private": record.private,
        "shared_with": sorted(record.shared_with),
        "merged": merged_into_it(rows, row.id, position),
        "counts": counts,
        "as_of": as_of_view(point.position, recorded),
    }
