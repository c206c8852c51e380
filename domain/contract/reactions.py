"""What a sale or a closing of an opportunity does to its contracts (the process manager's
decisions)."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

import msgspec

from domain.contract.events import ContractEvent
from domain.contract.rules import amend, cancel, create
from domain.contract.state import RUNNING, Contract, ContractTerms
from domain.contract.terms import contract_id_for

__all__ = ["NO_LONGER_SOLD", "Changes", "Current", "on_opportunity_closed", "on_sale"]

# The events a reaction makes, per contract.
Changes = dict[UUID, list[ContractEvent]]
NO_LONGER_SOLD = "its item is no longer sold on the opportunity"


class Current(msgspec.Struct, frozen=True):
    """The latest contract made for one item key, and its generation."""

    generation: int
    contract: Contract


def on_sale(
    terms: Sequence[ContractTerms],
    current: dict[str, Current],
    *,
    opportunity_id: UUID,
    account_id: UUID,
    owner: str,
    renews_contract_id: UUID | None = None,
) -> Changes:
    """What a sale (or a re-sale) of an opportunity does to its contracts.

    ``current`` holds, per item key the opportunity was ever sold with, its latest
    contract. Items without a live contract get a new one (the next generation);
    live ones whose item changed are amended; running ones whose item is no longer
    sold are cancelled; the rest are left alone.
    """
    changes: Changes = {}
    for term in terms:
        found = current.get(term.key)
        if found is not None and found.contract.live:
            amended = amend(found.contract, term)
            if amended:
                changes[found.contract.id] = amended
            continue
        generation = 0 if found is None else found.generation + 1
        changes[contract_id_for(opportunity_id, term.key, generation)] = create(
            term,
            opportunity_id=opportunity_id,
            account_id=account_id,
            owner=owner,
            renews_contract_id=renews_contract_id,
        )
    sold = {term.key for term in terms}
    for key, found in current.items():
        if key not in sold and found.contract.status in RUNNING:
            changes[found.contract.id] = cancel(found.contract, NO_LONGER_SOLD)
    return changes


def on_opportunity_closed(current: dict[str, Current], reason: str) -> Changes:
    """A sold opportunity was unlocked and then lost, disqualified or deleted: its running
    contracts are cancelled."""
    return {
        found.contract.id: cancel(found.contract, reason)
        for found in current.values()
        if found.contract.status in RUNNING
    }
