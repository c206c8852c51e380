"""Sales targets: an amount an owner should win in a period (month, quarter or year)."""

from __future__ import annotations

from typing import ClassVar
from uuid import UUID, uuid5

from domain.aggregate import AggregateState, Event, evolve
from domain.errors import InvalidInput, RuleViolated
from domain.money import Money
from domain.periods import kind_of

_NAMESPACE = UUID("1d0b8c7e-3a51-4c55-8f0e-2b7f9b4c6a21")


def targets_id_for(owner: str) -> UUID:
    return uuid5(_NAMESPACE, owner.strip())


class SalesTargets(AggregateState, frozen=True, kw_only=True):
    kind: ClassVar[str] = "sales_targets"
    owner: str
    targets: tuple[tuple[str, Money], ...] = ()


class SalesTargetSet(Event[SalesTargets], frozen=True, kw_only=True):
    owner: str
    period: str
    amount: Money

    def apply(self, state: SalesTargets | None) -> SalesTargets:
        if state is None:
            state = SalesTargets(id=self.originator_id, owner=self.owner)
        kept = tuple((p, a) for p, a in state.targets if p != self.period)
        return evolve(state, targets=(*kept, (self.period, self.amount)))


SalesTargetsEvent = SalesTargetSet


def set_target(
    state: SalesTargets | None, owner: str, period: str, amount: Money, reporting_currency: str
) -> list[SalesTargetsEvent]:
    owner = owner.strip()
    if not owner:
        raise InvalidInput("a sales target needs an owner.")
    kind_of(period)
    if amount.currency != reporting_currency:
        raise RuleViolated(
            f"sales targets are in the reporting currency, {reporting_currency}, "
            f"not {amount.currency}."
        )
    if amount.amount <= 0:
        raise InvalidInput("a sales target must be a positive amount.")
    return [SalesTargetSet(owner=owner, period=period, amount=amount)]
