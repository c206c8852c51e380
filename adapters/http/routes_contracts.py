"""Contract routes: the list (a read model, as of any position), one contract, cancel, fulfil.

``GET /contracts`` answers the list envelope (``paging``): a page in the order ``sort``
names, the ``next_cursor`` a keyset position of that order. Its ``wait_for`` waits for
the sale to have been turned into contracts by the process manager, then for the read
model to show them.
"""

from __future__ import annotations

import time
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from adapters.bootstrap import Services
from adapters.http.answers import ReadAnswer
from adapters.http.bodies import Body, example
from adapters.http.commanding import CommandHeaders, command_headers, run
from adapters.http.fields import Reason
from adapters.http.paging import CURSOR, LIMIT, envelope, make_key_cursor, read_key_cursor
from adapters.http.parameters import WAIT_FOR, AsOf, Day
from adapters.http.reading import reads
from adapters.http.routes_catalogue import load
from adapters.http.routes_readmodels import services_of
from adapters.http.scoping import scope
from commands.contracts import CancelContract, FulfilContract
from domain.contract import Contract
from domain.contract.state import ContractStatus
from domain.product import ItemKind, ProductCategory
from readmodels.contracts.queries import (
    ContractFilters,
    ContractSort,
    Grouping,
    contract_order,
    contract_view,
    list_contracts,
    summary,
)
from readmodels.deals.baselines import as_of_view
from readmodels.deals.queries import NotCaughtUp

router = APIRouter(tags=["contracts"])
Headers = Depends(command_headers)
STATUS = Query(None, description="active, renewal_due, expired, renewed, fulfilled, cancelled")
KIND = Query(None, description="time_based or one_off")
EXPIRES_FROM = Query(None, description="ends on or after this date")
EXPIRES_TO = Query(None, description="ends on or before this date")
SORT = Query(
    "created",
    description="created (the order they were made in), start, end (those without an end "
    "last) or status; `-` first: the reverse order",
)
BY = Query("status", description="status, category, account, expiry_month, owner or kind")


def _wait_for_contracts(services: Services, position: int | None, timeout: float = 5.0) -> None:
    """Until the process manager has processed ``position`` and the read model shows what
    it wrote."""
    if position is None:
        return
    services.queries.ensure_written(position)
    deadline = time.monotonic() + timeout
    delay = 0.01
    while (reached := services.store.tracked_position()) < position:
        if time.monotonic() >= deadline:
            raise NotCaughtUp(position, reached)
        time.sleep(delay)
        delay = min(delay * 2, 0.2)
    services.queries.wait_for(services.store.max_position(), max(deadline - time.monotonic(), 0))


def contract_filters(
    opportunity_id: UUID | None = None,
    account_id: UUID | None = None,
    status: ContractStatus | None = STATUS,
    category: ProductCategory | None = None,
    kind: ItemKind | None = KIND,
    owner: str | None = None,
    expires_from: Day | None = EXPIRES_FROM,
    expires_to: Day | None = EXPIRES_TO,
) -> ContractFilters:
    """The filters both contract queries take, from the query string."""
    return ContractFilters(
        opportunity_id=opportunity_id,
        account_id=account_id,
        status=status,
        category=category,
        kind=kind,
        owner=owner,
        expires_from=expires_from,
        expires_to=expires_to,
    )


Filters = Depends(contract_filters)


def _position(services: Services, as_of: str | None) -> tuple[int | None, dict[str, Any]]:
    point = services.queries.resolve(as_of)
    instant = point.instant or services.queries.recorded_instant(point.position)
    return (None if as_of is None else point.position), as_of_view(point.position, instant)


@router.get("/contracts", dependencies=[reads("contracts")])
def contracts(
    request: Request,
    filters: ContractFilters = Filters,
    sort: ContractSort = SORT,
    limit: int = LIMIT,
    cursor: str | None = CURSOR,
    as_of: AsOf = None,
    wait_for: int | None = WAIT_FOR,
) -> ReadAnswer:
    services = services_of(request)
    # The cursor names the list and its order: one of another order is no page of this.
    after = read_key_cursor(f"contracts:{sort}", cursor, len(contract_order(sort).parts))
    _wait_for_contracts(services, wait_for)
    position, reflected = _position(services, as_of)
    visible = scope(request, "contract", position)
    page = list_contracts(
        services.views, filters, position, visible, sort=sort, after=after, limit=limit
    )
    items = [contract_view(row) for row in page.records]
    following = (
        None if page.next_key is None else make_key_cursor(f"contracts:{sort}", page.next_key)
    )
    return envelope(items, following, reflected)


@router.get("/contracts/summary", dependencies=[reads("the contract summary")])
def contracts_summary(
    request: Request,
    by: Grouping = BY,
    filters: ContractFilters = Filters,
    as_of: AsOf = None,
    wait_for: int | None = WAIT_FOR,
) -> ReadAnswer:
    services = services_of(request)
    _wait_for_contracts(services, wait_for)
    position, reflected = _position(services, as_of)
    visible = scope(request, "contract", position)
    rows = summary(services.views, filters, position, by, visible)
    return {"as_of": reflected, "by": by, "rows": rows}


def contract_state_view(contract: Contract) -> dict[str, Any]:
    return {
        "id": str(contract.id),
        "version": contract.version,
        "opportunity_id": str(contract.opportunity_id),
        "quote_item_id": str(contract.quote_item_id),
        "product_id": None if contract.product_id is None else str(contract.product_id),
        "component_product_id": (
            None if contract.component_product_id is None else str(contract.component_product_id)
        ),
        "account_id": str(contract.account_id),
        "owner": contract.owner,
        "name": contract.name,
        "kind": contract.contract_kind,
        "category": contract.category,
        "value": {"amount": str(contract.value.amount), "currency": contract.value.currency},
        "start": contract.start.isoformat(),
        "end": None if contract.end is None else contract.end.isoformat(),
        "term_months": contract.term_months,
        "status": contract.status,
        "renewal_opportunity_id": (
            None
            if contract.renewal_opportunity_id is None
            else str(contract.renewal_opportunity_id)
        ),
        "renews_contract_id": (
            None if contract.renews_contract_id is None else str(contract.renews_contract_id)
        ),
        "renewed_by": None if contract.renewed_by is None else str(contract.renewed_by),
        "cancel_reason": contract.cancel_reason,
    }


@router.get("/contracts/{contract_id}", dependencies=[reads("a contract")])
def get_contract(request: Request, contract_id: UUID) -> ReadAnswer:
    return contract_state_view(load(request, Contract, contract_id))


class CancelBody(Body):
    model_config = example({"reason": "The customer closed the site"})
    reason: Reason


@router.post("/contracts/{contract_id}/cancel")
def cancel_contract(
    request: Request, contract_id: UUID, body: CancelBody, h: CommandHeaders = Headers
) -> JSONResponse:
    command = CancelContract(contract_id=contract_id, reason=body.reason)
    return run(request, h, command, target=contract_id)


@router.post("/contracts/{contract_id}/fulfil")
def fulfil_contract(
    request: Request, contract_id: UUID, h: CommandHeaders = Headers
) -> JSONResponse:
    return run(request, h, FulfilContract(contract_id=contract_id), target=contract_id)
