"""Contracts: what a sold opportunity obliges, one per sold item or bundle component.

Rules this package keeps (docs/domain.md, "Contract"):

- a contract is made only from a sale: every sold item becomes one, a bundle one
  per component, the bundle's value split by weight so the shares add up to the
  item's total exactly (the remainder goes, a minor unit each, to the components
  whose exact shares lost most to rounding; ties to the earlier component);
- a time-based contract (licence, warranty, support) runs from the sale's
  effective date, or the item's own start, for its term: ``end = start + term
  months`` (the last day of a shorter month when the day does not exist); a
  re-sold item whose contract still stands keeps that contract's start; a
  one-off contract (a delivered product) has no end and is fulfilled once;
- a time-based contract falls due for renewal N days before its end, which opens
  a renewal opportunity linked to it, and expires at its end unless that renewal
  was sold first; then it is renewed and the new contracts start at its end;
- re-selling an unlocked opportunity makes contracts only for items without a
  live contract (active, renewal due, or fulfilled: one that still stands), amends
  those whose item changed, cancels those whose item is no longer sold, and
  leaves the rest alone; a lost, disqualified or deleted opportunity cancels its
  live contracts (fulfilled ones were delivered and stay);
- a renewal opportunity that renewed a contract and is then unlocked and lost,
  disqualified or deleted withdraws that renewal: the contract it renewed is due
  for renewal again, or expired when its end has passed by the time the renewal
  was closed (a contract is never left renewed by nothing); a contract renewed
  by another opportunity stays renewed;
- any contract not yet ended can be cancelled.

Nothing here reads a clock: callers pass the dates and instants. ``state`` holds the
aggregate, ``terms`` what a sale says each contract is, ``events`` what happens to a
contract, ``rules`` what may be done to it, ``timers`` when time moves it on, and
``reactions`` what a sale or a closing does to an opportunity's contracts; every public
name is importable from ``domain.contract``.
"""

from __future__ import annotations

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
from domain.contract.reactions import (
    NO_LONGER_SOLD,
    Changes,
    Current,
    on_opportunity_closed,
    on_sale,
)
from domain.contract.rules import (
    amend,
    cancel,
    create,
    expire,
    fall_due_for_renewal,
    fulfil,
    renew,
    withdraw_renewal,
)
from domain.contract.state import (
    CONTRACT_STATUSES,
    DEFAULT_RENEWAL_NOTICE_DAYS,
    LIVE,
    RUNNING,
    Contract,
    ContractKind,
    ContractStatus,
    ContractTerms,
    TimerKind,
)
from domain.contract.terms import (
    add_months,
    contract_id_for,
    item_key,
    keys_of_sale,
    renewal_opportunity_id_for,
    split_by_weight,
    terms_of_sale,
)
from domain.contract.timers import (
    Timer,
    midnight,
    timers_of,
)

__all__ = [
    "CONTRACT_STATUSES",
    "DEFAULT_RENEWAL_NOTICE_DAYS",
    "LIVE",
    "NO_LONGER_SOLD",
    "RUNNING",
    "Changes",
    "Contract",
    "ContractAmended",
    "ContractCancelled",
    "ContractCreated",
    "ContractEvent",
    "ContractExpired",
    "ContractFulfilled",
    "ContractKind",
    "ContractRenewalDue",
    "ContractRenewalWithdrawn",
    "ContractRenewed",
    "ContractStatus",
    "ContractTerms",
    "Current",
    "Timer",
    "TimerKind",
    "add_months",
    "amend",
    "cancel",
    "contract_id_for",
    "create",
    "expire",
    "fall_due_for_renewal",
    "fulfil",
    "item_key",
    "keys_of_sale",
    "midnight",
    "on_opportunity_closed",
    "on_sale",
    "renew",
    "renewal_opportunity_id_for",
    "split_by_weight",
    "terms_of_sale",
    "timers_of",
    "withdraw_renewal",
]
