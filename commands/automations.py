"""Commands on automations (an admin's settings): define, disable, enable, delete.

Defining one checks what needs the store: the pipeline a stage trigger names (by name or
id, and the stage is one of it), the users actions name (active ones), and the custom
field a ``set_field`` sets (defined for the record's entity; the value canonical). The
process's own commands are in ``commands.automation_runs``.
"""

from __future__ import annotations

from uuid import UUID

import msgspec

from commands.bus import Answer, Handlers
from commands.custom_fields import definitions
from commands.opportunities import resolve_pipeline
from commands.owners import ensure_active, is_active
from commands.unit_of_work import UnitOfWork
from domain import automation as rules
from domain.automation import (
    CATALOGUE_ID,
    PLAIN_FIELDS,
    Action,
    AssignAction,
    Automation,
    AutomationCatalogue,
    CreateTaskAction,
    NotifyAction,
    SetFieldAction,
    StageEnteredTrigger,
    Trigger,
    changed_entity,
)
from domain.custom_values import check_value
from domain.errors import InvalidInput, NotFound

# Who an action names other than a login.
RELATIVE = ("owner", "manager")


class DefineAutomation(msgspec.Struct, frozen=True, kw_only=True):
    automation_id: UUID
    name: str
    trigger: Trigger
    actions: tuple[Action, ...]
    # A stage trigger's pipeline, by name or id (the trigger then holds its id).
    pipeline: str | None = None


class DisableAutomation(msgspec.Struct, frozen=True, kw_only=True):
    automation_id: UUID


class EnableAutomation(msgspec.Struct, frozen=True, kw_only=True):
    automation_id: UUID


class DeleteAutomation(msgspec.Struct, frozen=True, kw_only=True):
    automation_id: UUID


def define_automation(uow: UnitOfWork, command: DefineAutomation) -> Answer:
    uow.ensure_new(command.automation_id)
    trigger = _with_pipeline(uow, command.trigger, command.pipeline)
    events = rules.define(command.name, trigger, command.actions)
    defined = events[0]
    assert isinstance(defined, rules.AutomationDefined)
    actions = tuple(
        _checked_action(uow, trigger, number, action)
        for number, action in enumerate(defined.actions, start=1)
    )
    uow.record(command.automation_id, [msgspec.structs.replace(defined, actions=actions)])
    uow.find(CATALOGUE_ID)  # loaded: its events follow its version
    uow.record(CATALOGUE_ID, rules.catalogue(command.automation_id))
    return Answer(id=command.automation_id, created=True)


def _with_pipeline(uow: UnitOfWork, trigger: Trigger, pipeline: str | None) -> Trigger:
    if pipeline is None:
        return trigger
    if not isinstance(trigger, StageEnteredTrigger):
        raise InvalidInput("only an opportunity.stage_entered trigger names a pipeline.")
    found = resolve_pipeline(uow, pipeline)
    if trigger.stage.strip() not in {stage.key for stage in found.stages}:
        # As everywhere a stage is named: a key the pipeline has not is unknown (404).
        raise NotFound(f"pipeline {found.name!r} has no stage {trigger.stage.strip()!r}.")
    return msgspec.structs.replace(trigger, pipeline_id=found.id)


def _checked_action(uow: UnitOfWork, trigger: Trigger, number: int, action: Action) -> Action:
    """Logins named are active users; a custom field set is defined, its value canonical."""
    where = f"action {number}"
    if isinstance(action, AssignAction):
        ensure_active(uow, action.login, named_as=f"{where}'s user")
    if isinstance(action, CreateTaskAction) and action.assignee not in RELATIVE:
        ensure_active(uow, action.assignee, named_as=f"{where}'s assignee")
    if isinstance(action, NotifyAction) and action.recipient not in RELATIVE:
        ensure_active(uow, action.recipient, named_as=f"{where}'s recipient")
    if isinstance(action, SetFieldAction):
        entity = changed_entity(trigger)
        if action.field in PLAIN_FIELDS[entity]:
            return action
        defined = definitions(uow, entity)  # type: ignore[arg-type]
        field = defined.field(action.field) if defined is not None else None
        if field is None:
            # A custom field's key names a definition, as an id names a record: unknown, 404.
            raise NotFound(
                f"{where}: {entity} has no field {action.field!r} (plain ones: "
                f"{', '.join(PLAIN_FIELDS[entity])}; or one of its custom fields)."
            )
        if action.value is None:
            return action  # clears the field, as null does in a PATCH
        value = check_value(field, action.value, lambda login: is_active(uow, login))
        return msgspec.structs.replace(action, value=value)
    return action


def _automation(uow: UnitOfWork, automation_id: UUID) -> Automation:
    return uow.get(Automation, automation_id)


def disable_automation(uow: UnitOfWork, command: DisableAutomation) -> Answer:
    automation = _automation(uow, command.automation_id)
    uow.record(automation.id, rules.disable(automation))
    return Answer(id=automation.id)


def enable_automation(uow: UnitOfWork, command: EnableAutomation) -> Answer:
    automation = _automation(uow, command.automation_id)
    uow.record(automation.id, rules.enable(automation))
    return Answer(id=automation.id)


def delete_automation(uow: UnitOfWork, command: DeleteAutomation) -> Answer:
    automation = _automation(uow, command.automation_id)
    uow.record(automation.id, rules.delete(automation))
    listed = uow.find(CATALOGUE_ID)
    if isinstance(listed, AutomationCatalogue):
        uow.record(CATALOGUE_ID, rules.uncatalogue(listed, automation.id))
    return Answer(id=automation.id)


def automations(uow: UnitOfWork) -> list[Automation]:
    """Every automation not deleted, in the order they were defined."""
    listed = uow.find(CATALOGUE_ID)
    if not isinstance(listed, AutomationCatalogue):
        return []
    found = [uow.find(automation_id) for automation_id in listed.automation_ids]
    return [a for a in found if isinstance(a, Automation) and not a.deleted]


def ensure_automation(uow: UnitOfWork, automation_id: UUID) -> None:
    if not isinstance(uow.find(automation_id), Automation):
        raise NotFound(f"there is no automation with id {automation_id}.")


HANDLERS: Handlers = {
    DefineAutomation: define_automation,
    DisableAutomation: disable_automation,
    EnableAutomation: enable_automation,
    DeleteAutomation: delete_automation,
}
