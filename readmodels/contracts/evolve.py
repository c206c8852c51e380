"""How each contract event changes the contracts read model: a new version of its row."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from domain import contract
from domain.events import DomainEvent
from readmodels.contracts.tables import TABLE, ContractRow
from readmodels.values import micros, text
from readmodels.versions import Versions


class Contracts(Versions[ContractRow]):
    """The contracts read model's state: the current version of each contract."""

    def __init__(self) -> None:
        super().__init__(TABLE, ContractRow)


def _created(state: Contracts, e: contract.ContractCreated, position: int, key: str) -> None:
    state.begin(
        ContractRow(
            id=key,
            valid_from=position,
            opportunity_id=str(e.opportunity_id),
            account_id=str(e.account_id),
            owner=e.owner,
            quote_item_id=str(e.quote_item_id),
            product_id=text(e.product_id),
            component_product_id=text(e.component_product_id),
            name=e.name,
            kind=e.contract_kind,
            category=e.category,
            value=e.value.amount,
            currency=e.value.currency,
            start=e.start,
            end=e.end,
            status="active",
            renewal_opportunity_id=None,
            renews_contract_id=text(e.renews_contract_id),
            updated_at=micros(e.recorded_at),
        )
    )


def _amended(state: Contracts, e: contract.ContractAmended, position: int, key: str) -> None:
    state.change(
        key,
        position,
        e.recorded_at,
        name=e.name,
        kind=e.contract_kind,
        category=e.category,
        product_id=text(e.product_id),
        value=e.value.amount,
        currency=e.value.currency,
        start=e.start,
        end=e.end,
    )


def _renewal_due(state: Contracts, e: contract.ContractRenewalDue, position: int, key: str) -> None:
    state.change(
        key,
        position,
        e.recorded_at,
        status="renewal_due",
        renewal_opportunity_id=str(e.renewal_opportunity_id),
    )


def _withdrawn(
    state: Contracts, e: contract.ContractRenewalWithdrawn, position: int, key: str
) -> None:
    state.change(key, position, e.recorded_at, status=e.status)


def _status(status: str) -> Callable[[Contracts, DomainEvent, int, str], None]:
    """An event that only moves the contract to ``status``."""

    def moved(state: Contracts, e: DomainEvent, position: int, key: str) -> None:
        state.change(key, position, e.recorded_at, status=status)

    return moved


HANDLERS: Mapping[type[DomainEvent], Callable[[Contracts, Any, int, str], None]] = {
    contract.ContractCreated: _created,
    contract.ContractAmended: _amended,
    contract.ContractRenewalDue: _renewal_due,
    contract.ContractExpired: _status("expired"),
    contract.ContractRenewed: _status("renewed"),
    contract.ContractRenewalWithdrawn: _withdrawn,
    contract.ContractFulfilled: _status("fulfilled"),
    contract.ContractCancelled: _status("cancelled"),
}
