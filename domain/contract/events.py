"""What happens to a contract: its events, each knowing how it changes the state."""

from __future__ import annotations

from datetime import date
from typing import Literal
from uuid import UUID

from domain.aggregate import Event, created, evolve, shared_fields
from domain.contract.state import Contract, ContractKind
from domain.money import Money
from domain.product import ProductCategory

__all__ = [
    "ContractAmended",
    "ContractCancelled",
    "ContractCreated",
    "ContractEvent",
    "ContractExpired",
    "ContractFulfilled",
    "ContractRenewalDue",
    "ContractRenewalWithdrawn",
    "ContractRenewed",
]


class ContractCreated(Event[Contract], frozen=True, kw_only=True):
    opportunity_id: UUID
    account_id: UUID
    owner: str
    key: str
    quote_item_id: UUID
    component_product_id: UUID | None
    product_id: UUID | None
    name: str
    contract_kind: ContractKind
    category: ProductCategory | None
    value: Money
    start: date
    end: date | None
    term_months: int | None
    renews_contract_id: UUID | None = None

    def apply(self, state: Contract | None) -> Contract:
        return created(Contract, self)


class ContractAmended(Event[Contract], frozen=True, kw_only=True):
    """The re-sold item changed: the contract takes its new terms (same status)."""

    name: str
    contract_kind: ContractKind
    category: ProductCategory | None
    product_id: UUID | None
    value: Money
    start: date
    end: date | None
    term_months: int | None

    def apply(self, state: Contract) -> Contract:
        return evolve(state, **shared_fields(self, Contract))


class ContractRenewalDue(Event[Contract], frozen=True, kw_only=True):
    due_on: date
    renewal_opportunity_id: UUID

    def apply(self, state: Contract) -> Contract:
        return evolve(
            state, status="renewal_due", renewal_opportunity_id=self.renewal_opportunity_id
        )


class ContractExpired(Event[Contract], frozen=True, kw_only=True):
    expired_on: date

    def apply(self, state: Contract) -> Contract:
        return evolve(state, status="expired")


class ContractRenewed(Event[Contract], frozen=True, kw_only=True):
    renewal_opportunity_id: UUID

    def apply(self, state: Contract) -> Contract:
        return evolve(state, status="renewed", renewed_by=self.renewal_opportunity_id)


class ContractRenewalWithdrawn(Event[Contract], frozen=True, kw_only=True):
    """The renewal opportunity that renewed the contract was closed (lost, disqualified or
    deleted after an unlock): the contract is no longer renewed. ``status`` is where it
    stands now: due for renewal again, or expired when its end has passed."""

    renewal_opportunity_id: UUID
    reason: str
    status: Literal["renewal_due", "expired"]

    def apply(self, state: Contract) -> Contract:
        return evolve(state, status=self.status, renewed_by=None)


class ContractFulfilled(Event[Contract], frozen=True, kw_only=True):
    def apply(self, state: Contract) -> Contract:
        return evolve(state, status="fulfilled")


class ContractCancelled(Event[Contract], frozen=True, kw_only=True):
    reason: str

    def apply(self, state: Contract) -> Contract:
        return evolve(state, status="cancelled", cancel_reason=self.reason)


ContractEvent = (
    ContractCreated
    | ContractAmended
    | ContractRenewalDue
    | ContractExpired
    | ContractRenewed
    | ContractRenewalWithdrawn
    | ContractFulfilled
    | ContractCancelled
)
