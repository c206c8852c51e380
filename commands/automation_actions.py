"""An automation's actions, run through the ordinary handlers on the caller's unit of work.

- ``create_task``: a task due ``due_in_days`` after the trigger, about the record, for its
  owner, the owner's manager or a login;
- ``notify``: a notification of kind ``automation`` about the record;
- ``assign``: an opportunity's owner (as an edit does), a lead's (as assigning does);
- ``set_field``: an opportunity's ``stage`` (moved as by hand), ``title``, ``probability``,
  ``forecast_category``; a lead's ``priority``, ``source``, ``company``; or a custom field
  of the record's entity.
- For a contract falling due, ``assign`` and ``set_field`` act on the renewal opportunity
  it opened (``Record.changed``).

The ids of the tasks and notifications derive from the cause, the automation and the
action's index: the same trigger never makes two.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid5

import msgspec

from commands import leads, notifications, opportunities, tasks
from commands.unit_of_work import UnitOfWork
from domain.automation import (
    Action,
    AssignAction,
    Automation,
    CreateTaskAction,
    NotifyAction,
    RecordKind,
    SetFieldAction,
)
from domain.contract import Contract, ContractRenewalDue
from domain.errors import RuleViolated
from domain.events import DomainEvent
from domain.ids import user_id_for
from domain.lead import Lead, LeadCreated
from domain.opportunity import Opportunity
from domain.user import User

_NAMESPACE = UUID("c6a1d8f2-7b3e-4e55-a0c9-2d81f5e6b930")
NOTIFICATION_KIND = "automation"


class Record(msgspec.Struct, frozen=True, kw_only=True):
    """The record a trigger is about, which the actions act on."""

    kind: RecordKind
    id: UUID
    # A contract falling due: the renewal opportunity it opened.
    renewal_id: UUID | None = None

    @classmethod
    def of(cls, event: DomainEvent) -> Record:
        if isinstance(event, LeadCreated):
            return cls(kind="lead", id=event.originator_id)
        if isinstance(event, ContractRenewalDue):
            return cls(
                kind="contract", id=event.originator_id, renewal_id=event.renewal_opportunity_id
            )
        return cls(kind="opportunity", id=event.originator_id)

    def changed(self) -> Record:
        """The record ``assign`` and ``set_field`` change."""
        if self.renewal_id is None:
            return self
        return Record(kind="opportunity", id=self.renewal_id)


def action_id(cause: str, automation_id: UUID, index: int) -> UUID:
    """What an action creates for a cause: the same id however often it is tried."""
    return uuid5(_NAMESPACE, f"{cause}:{automation_id}:{index}")


def run_actions(
    uow: UnitOfWork, automation: Automation, record: Record, cause: str, at: datetime
) -> None:
    for index, action in enumerate(automation.actions):
        _run_action(uow, action, record, action_id(cause, automation.id, index), at)


def _run_action(
    uow: UnitOfWork, action: Action, record: Record, new_id: UUID, at: datetime
) -> None:
    if isinstance(action, CreateTaskAction):
        task = tasks.CreateTask(
            task_id=new_id,
            title=action.title,
            due=at + timedelta(days=action.due_in_days),
            assignee=_who(uow, action.assignee, record),
            about_type=record.kind,
            about_id=record.id,
        )
        tasks.HANDLERS[tasks.CreateTask](uow, task)
    elif isinstance(action, NotifyAction):
        notice = notifications.SendNotification(
            notification_id=new_id,
            recipient=_who(uow, action.recipient, record),
            kind=NOTIFICATION_KIND,
            text=action.text,
            about_type=record.kind,
            about_id=record.id,
        )
        notifications.HANDLERS[notifications.SendNotification](uow, notice)
    elif isinstance(action, AssignAction):
        record = record.changed()
        if record.kind == "opportunity":
            edit = opportunities.EditOpportunity(opportunity_id=record.id, owner=action.login)
            opportunities.edit_opportunity(uow, edit)
        else:
            leads.assign_lead(uow, leads.AssignLead(lead_id=record.id, owner=action.login))
    else:
        _set_field(uow, action, record.changed())


def _set_field(uow: UnitOfWork, action: SetFieldAction, record: Record) -> None:
    field, value = action.field, action.value
    plain: dict[str, Any]
    if record.kind == "opportunity":
        if field == "stage":
            assert isinstance(value, str)
            move = opportunities.MoveOpportunityToStage(opportunity_id=record.id, stage=value)
            opportunities.move_to_stage(uow, move)
            return
        plain = {field: value} if field in ("title", "probability", "forecast_category") else {}
        edit = opportunities.EditOpportunity(
            opportunity_id=record.id, custom={} if plain else {field: value}, **plain
        )
        opportunities.edit_opportunity(uow, edit)
    else:
        plain = {field: value} if field in ("priority", "source", "company") else {}
        lead_edit = leads.EditLead(
            lead_id=record.id, custom={} if plain else {field: value}, **plain
        )
        leads.edit_lead(uow, lead_edit)


def _who(uow: UnitOfWork, named: str, record: Record) -> str:
    """The login an action names: the record's owner, the owner's manager, or itself."""
    if named not in ("owner", "manager"):
        return named
    owner = _owner(uow, record)
    if named == "owner":
        return owner
    user = uow.find(user_id_for(owner))
    if not isinstance(user, User) or user.manager is None:
        raise RuleViolated(f"{owner!r}, the owner of {record.kind} {record.id}, has no manager.")
    return user.manager


def _owner(uow: UnitOfWork, record: Record) -> str:
    state: Opportunity | Lead | Contract
    if record.kind == "opportunity":
        state = uow.get(Opportunity, record.id)
    elif record.kind == "lead":
        state = uow.get(Lead, record.id)
    else:
        state = uow.get(Contract, record.id)
    if state.owner is None:
        raise RuleViolated(f"{record.kind} {record.id} is in the free pool: it has no owner.")
    return state.owner
