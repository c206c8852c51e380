"""Commands on contracts: those of the contracts process manager, and cancel / fulfil.

The process manager's commands carry the log position they answer
(``position``): the unit of work records it as the tracking position, so the
contracts a sale makes, their timers and "this sale is processed" are one
atomic save. A command that finds nothing to do still saves its position.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from uuid import UUID

import msgspec

from commands.bus import Answer, Handlers, change
from commands.unit_of_work import UnitOfWork
from domain import contract as rules
from domain import opportunity as opp_rules
from domain.aggregate import replay
from domain.contract import Contract, Current, TimerKind
from domain.errors import NotFound
from domain.events import DomainEvent
from domain.opportunity import Opportunity, OpportunitySold
from domain.pipeline import Pipeline


class RecordContractsOfSale(msgspec.Struct, frozen=True, kw_only=True):
    """An opportunity was sold (``sale``, at log ``position``): make, amend or cancel its
    contracts; if it renews a contract, that one is renewed."""

    sale: OpportunitySold
    position: int
    notice_days: int = rules.DEFAULT_RENEWAL_NOTICE_DAYS


class CancelContractsOfOpportunity(msgspec.Struct, frozen=True, kw_only=True):
    """An opportunity was lost, disqualified or deleted (at ``position``, recorded at
    ``closed_at``): its running contracts are cancelled; if it was a renewal that had been
    sold, the contract it renewed is renewed no more."""

    opportunity_id: UUID
    position: int
    reason: str
    closed_at: datetime
    notice_days: int = rules.DEFAULT_RENEWAL_NOTICE_DAYS


class FireContractTimer(msgspec.Struct, frozen=True, kw_only=True):
    contract_id: UUID
    kind: TimerKind
    notice_days: int = rules.DEFAULT_RENEWAL_NOTICE_DAYS


class CancelContract(msgspec.Struct, frozen=True, kw_only=True):
    contract_id: UUID
    reason: str


class FulfilContract(msgspec.Struct, frozen=True, kw_only=True):
    contract_id: UUID


def current_contracts(
    uow: UnitOfWork, opportunity_id: UUID, history: Sequence[DomainEvent] | None = None
) -> dict[str, Current]:
    """The latest contract per item key the opportunity was ever sold with.

    The keys come from the opportunity's own sales (its ``history``, read here unless
    given); the contracts have ids derived from opportunity, key and generation, so
    they are found, not looked up in a read model.
    """
    if history is None:
        history = uow.store.history(opportunity_id)
    keys = list(
        dict.fromkeys(
            key
            for event in history
            if isinstance(event, OpportunitySold)
            for key in rules.keys_of_sale(event.items)
        )
    )
    current: dict[str, Current] = {}
    for key in keys:
        generation = 0
        while True:
            found = uow.find(rules.contract_id_for(opportunity_id, key, generation))
            if not isinstance(found, Contract):
                break
            current[key] = Current(generation, found)
            generation += 1
    return current


def _save_with_position(
    uow: UnitOfWork, changes: rules.Changes, position: int, notice_days: int
) -> None:
    """The changes, their contracts' timers and the process's position, in one save. With
    no changes nothing is saved: processing that event again changes nothing either, and
    the process records its position past such events when it has caught up."""
    if not changes:
        return
    uow.record_all(changes)
    _keep_timers(uow, list(changes), notice_days)
    uow.tracking = position


def _keep_timers(uow: UnitOfWork, contract_ids: list[UUID], notice_days: int) -> None:
    for contract_id in contract_ids:
        state = uow.find(contract_id)
        assert isinstance(state, Contract)
        uow.set_timers(contract_id, rules.timers_of(state, notice_days=notice_days))


def record_contracts_of_sale(uow: UnitOfWork, command: RecordContractsOfSale) -> Answer:
    sale = command.sale
    history = uow.store.history(sale.originator_id)
    opportunity = _as_sold(history, sale)
    renewed: Contract | None = None
    if opportunity.renews_contract_id is not None:
        found = uow.find(opportunity.renews_contract_id)
        renewed = found if isinstance(found, Contract) else None
    current = current_contracts(uow, opportunity.id, history)
    terms = rules.terms_of_sale(
        sale.items,
        starts_on=sale.sold_at.astimezone(UTC).date(),
        start_of_renewal=renewed.end if renewed is not None else None,
        # A re-sale (after an unlock, on a later day) moves no contract that still stands.
        kept_starts={k: c.contract.start for k, c in current.items() if c.contract.live},
    )
    changes = rules.on_sale(
        terms,
        current,
        opportunity_id=opportunity.id,
        account_id=opportunity.account_id,
        owner=opportunity.owner,
        renews_contract_id=renewed.id if renewed is not None else None,
    )
    if renewed is not None:
        renewing = rules.renew(renewed, by=opportunity.id)
        if renewing:
            changes[renewed.id] = renewing
    _save_with_position(uow, changes, command.position, command.notice_days)
    return Answer(id=opportunity.id, extra={"contracts": len(changes)})


def _as_sold(history: Sequence[DomainEvent], sale: OpportunitySold) -> Opportunity:
    """The opportunity as it stood when it was sold. A process that reacts late (it was
    down, or behind) must not see what changed since: a new owner, or a deletion (which
    would refuse the sale, and no contract would ever be made for it)."""
    state = replay(None, [e for e in history if e.originator_version <= sale.originator_version])
    if not isinstance(state, Opportunity):
        raise NotFound(f"there is no opportunity with id {sale.originator_id}.")
    return state


def cancel_contracts_of_opportunity(
    uow: UnitOfWork, command: CancelContractsOfOpportunity
) -> Answer:
    changes = rules.on_opportunity_closed(
        current_contracts(uow, command.opportunity_id), command.reason
    )
    renewed = _contract_renewed_by(uow, command.opportunity_id)
    if renewed is not None:
        withdrawn = rules.withdraw_renewal(
            renewed, by=command.opportunity_id, reason=command.reason, at=command.closed_at
        )
        if withdrawn:
            changes[renewed.id] = withdrawn
    _save_with_position(uow, changes, command.position, command.notice_days)
    return Answer(id=command.opportunity_id, extra={"contracts": len(changes)})


def _contract_renewed_by(uow: UnitOfWork, opportunity_id: UUID) -> Contract | None:
    """The contract a renewal opportunity renews, if it is one (deleted ones included: the
    link is set when it is opened and never changes)."""
    opportunity = uow.find(opportunity_id)
    if not isinstance(opportunity, Opportunity) or opportunity.renews_contract_id is None:
        return None
    found = uow.find(opportunity.renews_contract_id)
    return found if isinstance(found, Contract) else None


def fire_contract_timer(uow: UnitOfWork, command: FireContractTimer) -> Answer:
    contract = uow.get(Contract, command.contract_id)
    uow.fire_timer(contract.id, command.kind)
    due = contract.end
    assert due is not None, "only time-based contracts have timers"
    if command.kind == "renewal_due":
        on = due - timedelta(days=command.notice_days)
        events = rules.fall_due_for_renewal(contract, on=on)
        if events:
            _open_renewal_opportunity(uow, contract)
    else:
        events = rules.expire(contract, on=due)
    uow.record(contract.id, events)
    _keep_timers(uow, [contract.id], command.notice_days)
    return Answer(id=contract.id)


def _open_renewal_opportunity(uow: UnitOfWork, contract: Contract) -> None:
    """Same account and owner, amount = the contract's value, expected close = its end."""
    renewal_id = rules.renewal_opportunity_id_for(contract.id)
    if uow.find(renewal_id) is not None:
        return  # opened already (the id is derived from the contract)
    # Deleted since is fine: a process behind the log fires what fell due before that.
    sold = uow.find(contract.opportunity_id)
    if not isinstance(sold, Opportunity):
        return  # nothing to renew from
    try:
        pipeline = uow.get(Pipeline, sold.pipeline_id)
    except NotFound:
        return
    assert contract.end is not None
    uow.record(
        renewal_id,
        opp_rules.create(
            title=f"Renewal: {contract.name}",
            account_id=contract.account_id,
            owner=contract.owner,
            pipeline=pipeline,
            expected_close=contract.end,
            amount=contract.value,
            renews_contract_id=contract.id,
        ),
    )


def cancel_contract(uow: UnitOfWork, command: CancelContract) -> Answer:
    contract = uow.get(Contract, command.contract_id)
    uow.record(contract.id, rules.cancel(contract, command.reason))
    _keep_timers(uow, [contract.id], 0)
    return Answer(id=contract.id)


def fulfil_contract(uow: UnitOfWork, command: FulfilContract) -> Answer:
    return change(uow, Contract, command.contract_id, rules.fulfil)


HANDLERS: Handlers = {
    RecordContractsOfSale: record_contracts_of_sale,
    CancelContractsOfOpportunity: cancel_contracts_of_opportunity,
    FireContractTimer: fire_contract_timer,
    CancelContract: cancel_contract,
    FulfilContract: fulfil_contract,
}
