"""Commands that record analysts' facts: sales targets and baselines."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec

from commands.bus import Answer, Handlers, change
from commands.owners import ensure_active
from commands.unit_of_work import UnitOfWork
from domain import baseline, targets
from domain.baseline import Baseline, Chart
from domain.money import Money
from domain.targets import SalesTargets, targets_id_for


class SetSalesTarget(msgspec.Struct, frozen=True, kw_only=True):
    owner: str
    period: str
    amount: Money


class TakeBaseline(msgspec.Struct, frozen=True, kw_only=True):
    baseline_id: UUID
    name: str
    chart: Chart
    params: dict[str, str]
    position: int
    as_of: datetime
    document: str


class DeleteBaseline(msgspec.Struct, frozen=True, kw_only=True):
    baseline_id: UUID


def set_sales_target(uow: UnitOfWork, command: SetSalesTarget) -> Answer:
    target_id = targets_id_for(command.owner)
    found = uow.find(target_id)
    current = found if isinstance(found, SalesTargets) else None
    events = targets.set_target(
        current, command.owner, command.period, command.amount, uow.context.reporting_currency
    )
    ensure_active(uow, command.owner, named_as="the target's owner")
    uow.record(target_id, events)
    return Answer(id=target_id, created=current is None)


def take_baseline(uow: UnitOfWork, command: TakeBaseline) -> Answer:
    uow.ensure_new(command.baseline_id)
    events = baseline.take(
        command.name,
        command.chart,
        command.params,
        position=command.position,
        as_of=command.as_of,
        document=command.document,
    )
    uow.record(command.baseline_id, events)
    taken = events[0]
    assert isinstance(taken, baseline.BaselineTaken)
    return Answer(
        id=command.baseline_id,
        created=True,
        extra={"baseline_position": command.position, "sha256": taken.sha256},
    )


def delete_baseline(uow: UnitOfWork, command: DeleteBaseline) -> Answer:
    return change(uow, Baseline, command.baseline_id, baseline.delete)


HANDLERS: Handlers = {
    SetSalesTarget: set_sales_target,
    TakeBaseline: take_baseline,
    DeleteBaseline: delete_baseline,
}
