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
name is importable from ``domain.contract`` (each module lists its own in ``__all__``).
"""

from __future__ import annotations

from domain.contract.events import *  # noqa: F403
from domain.contract.reactions import *  # noqa: F403
from domain.contract.rules import *  # noqa: F403
from domain.contract.state import *  # noqa: F403
from domain.contract.terms import *  # noqa: F403
from domain.contract.timers import *  # noqa: F403
