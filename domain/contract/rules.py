"""What may be done to a contract: each function checks the rules and decides the events."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from domain.aggregate import shared_fields
from domain.contract.events import (
    ContractAmended,
    ContractCancelled,
    ContractCreated,
    ContractEvent,
    ContractExpired,
    ContractFulfilled,
    ContractRenewalDue,
    ContractRenewalWithdrawn,
    ContractRenewed,
)
from domain.contract.state import RUNNING, Contract, ContractStatus, ContractTerms
from domain.contract.terms import renewal_opportunity_id_for
from domain.contract.timers import midnight
from domain.errors import InvalidInput, RuleViolated

__all__ = [
    "amend",
    "cancel",
    "create",
    "expire",
    "fall_due_for_renewal",
    "fulfil",
    "renew",
    "withdraw_renewal",
]


def create(
    terms: ContractTerms,
    *,
    opportunity_id: UUID,
    account_id: UUID,
    owner: str,
    renews_contract_id: UUID | None = None,
) -> list[ContractEvent]:
    if terms.contract_kind == "time_based" and terms.end is None:
        raise InvalidInput(f"the time-based contract for {terms.name!r} needs a term.")
    return [
        ContractCreated(
            opportunity_id=opportunity_id,
            account_id=account_id,
            owner=owner,
            renews_contract_id=renews_contract_id,
            **shared_fields(terms, ContractCreated),
        )
    ]


def amend(contract: Contract, terms: ContractTerms) -> list[ContractEvent]:
    """The events that bring a live contract to ``terms``: none when nothing changed, or
    when it was fulfilled already (what was delivered stays as it was)."""
    if contract.status not in RUNNING or contract.terms() == terms:
        return []
    return [ContractAmended(**shared_fields(terms, ContractAmended))]


def fall_due_for_renewal(contract: Contract, *, on: date) -> list[ContractEvent]:
    if contract.contract_kind != "time_based" or contract.status != "active":
        return []
    return [
        ContractRenewalDue(
            due_on=on, renewal_opportunity_id=renewal_opportunity_id_for(contract.id)
        )
    ]


def expire(contract: Contract, *, on: date) -> list[ContractEvent]:
    if contract.contract_kind != "time_based" or contract.status not in RUNNING:
        return []
    return [ContractExpired(expired_on=on)]


def renew(contract: Contract, *, by: UUID) -> list[ContractEvent]:
    """The renewal opportunity ``by`` was sold. A contract that expired meanwhile is renewed
    late; one that ended otherwise (cancelled, renewed) stays as it is."""
    if contract.status not in {"active", "renewal_due", "expired"}:
        return []
    return [ContractRenewed(renewal_opportunity_id=by)]


def withdraw_renewal(
    contract: Contract, *, by: UUID, reason: str, at: datetime
) -> list[ContractEvent]:
    """The renewal opportunity ``by`` was closed at ``at`` (when its closing was recorded)
    after it had been sold: the contract it renewed is due for renewal again, or expired if
    its end (midnight UTC, as the expiry timer) has passed by ``at``. Only a contract that
    ``by`` renewed: one renewed by another opportunity, or not renewed, stays as it is."""
    if contract.status != "renewed" or contract.renewed_by != by:
        return []
    ended = contract.end is not None and at >= midnight(contract.end)
    return [
        ContractRenewalWithdrawn(
            renewal_opportunity_id=by,
            reason=reason,
            status="expired" if ended else "renewal_due",
        )
    ]


def fulfil(contract: Contract) -> list[ContractEvent]:
    if contract.contract_kind != "one_off":
        raise RuleViolated(
            f"contract {contract.name!r} runs for a term; only one-off contracts are fulfilled."
        )
    if contract.status != "active":
        raise RuleViolated(f"contract {contract.name!r} is {_said(contract.status)}, not active.")
    return [ContractFulfilled()]


def cancel(contract: Contract, reason: str) -> list[ContractEvent]:
    if not reason.strip():
        raise InvalidInput("cancelling a contract needs a reason.")
    if contract.status not in RUNNING:
        raise RuleViolated(
            f"contract {contract.name!r} is {_said(contract.status)} and cannot be cancelled."
        )
    return [ContractCancelled(reason=reason.strip())]


def _said(status: ContractStatus) -> str:
    return status.replace("_", " ")
