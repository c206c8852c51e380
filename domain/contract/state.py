"""A contract's state, its statuses, and the terms a sale gives it."""

from __future__ import annotations

from datetime import date
from typing import ClassVar, Literal
from uuid import UUID

import msgspec

from domain.aggregate import AggregateState, shared_fields
from domain.money import Money
from domain.product import ProductCategory

__all__ = [
    "CONTRACT_STATUSES",
    "DEFAULT_RENEWAL_NOTICE_DAYS",
    "LIVE",
    "RUNNING",
    "Contract",
    "ContractKind",
    "ContractStatus",
    "ContractTerms",
    "TimerKind",
]

ContractKind = Literal["time_based", "one_off"]
ContractStatus = Literal["active", "renewal_due", "expired", "renewed", "fulfilled", "cancelled"]
TimerKind = Literal["renewal_due", "expiry"]
CONTRACT_STATUSES: tuple[ContractStatus, ...] = (
    "active",
    "renewal_due",
    "expired",
    "renewed",
    "fulfilled",
    "cancelled",
)
# Still standing for its item: a re-sale makes no second contract beside it.
LIVE: frozenset[ContractStatus] = frozenset({"active", "renewal_due", "fulfilled"})
# Not yet ended: can still be amended or cancelled.
RUNNING: frozenset[ContractStatus] = frozenset({"active", "renewal_due"})
DEFAULT_RENEWAL_NOTICE_DAYS = 30


class ContractTerms(msgspec.Struct, frozen=True, kw_only=True):
    """One contract a sold item calls for (a bundle item calls for one per component)."""

    key: str  # the item, or the item and the component: stable across re-sales
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


class Contract(AggregateState, frozen=True, kw_only=True):
    kind: ClassVar[str] = "contract"
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
    status: ContractStatus = "active"
    renews_contract_id: UUID | None = None
    renewal_opportunity_id: UUID | None = None
    renewed_by: UUID | None = None  # the renewal opportunity whose sale renewed it
    cancel_reason: str | None = None

    @property
    def live(self) -> bool:
        return self.status in LIVE

    def terms(self) -> ContractTerms:
        return ContractTerms(**shared_fields(self, ContractTerms))
