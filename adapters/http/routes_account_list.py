"""``GET /accounts``: the accounts the caller may see (every one not private, and the
private ones they may), through the one keyset engine (``readmodels.lists``; the shared
parts of a list route: ``listing``).

An account merged into another is not listed (its survivor is, with its links); as of a
position before the merge it is, as it stood. ``q`` finds words of account names through
the stores' full-text indexes; ``cf.<key>=<value>`` filters on account custom fields.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Query, Request

from adapters.http.answers import ReadAnswer
from adapters.http.listing import (
    OWNER,
    PAGING,
    Paging,
    Q,
    envelope_of,
    list_page,
    owner_of,
    search_of,
    sharing_of,
    sort_doc,
    where_of,
)
from adapters.http.reading import reads
from adapters.http.routes_accounts import account_view
from adapters.http.routes_readmodels import services_of
from domain.account import AccountType
from readmodels.accounts.queries import ACCOUNTS
from readmodels.accounts.tables import AccountRow
from readmodels.sharing.queries import exceptions
from readmodels.sharing.tables import SharingRow

router = APIRouter(tags=["lists"])


def _text(description: str) -> Any:
    # One Query per parameter: FastAPI names a shared one after the last that uses it.
    return Query(None, min_length=1, max_length=200, description=description)


def account_item(row: AccountRow, sharing: dict[str, SharingRow]) -> dict[str, Any]:
    item = account_view(row)
    del item["version"], item["merged_into"]
    return {**item, **sharing_of(sharing, row.id)}


@router.get("/accounts", dependencies=[reads("accounts")])
def list_accounts(
    request: Request,
    owner: str | None = OWNER,
    type: AccountType | None = None,
    industry: str | None = _text("the industry, as written"),
    partner: bool | None = None,
    parent_id: UUID | None = None,
    country: str | None = Query(None, pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2"),
    city: str | None = _text("the city of its address, as written"),
    q: str | None = Q,
    sort: str | None = sort_doc(ACCOUNTS),
    paging: Paging = PAGING,
) -> ReadAnswer:
    """The accounts the caller may see (merged ones not), filtered and sorted."""
    services = services_of(request)
    where = [
        *where_of(
            services,
            ACCOUNTS,
            owner=owner_of(request, owner),
            type=type,
            industry=industry,
            partner=partner,
            parent_id=parent_id,
            country=country,
            city=city,
        ),
        *search_of(services, ACCOUNTS, q),
    ]
    listing = list_page(
        request,
        ACCOUNTS,
        where,
        paging,
        sort=sort,
        custom="account",
    )
    sharing = exceptions(services.views, "account", listing.position)
    return envelope_of([account_item(row, sharing) for row in listing.rows], listing)
