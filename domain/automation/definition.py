"""What an automation is made of: one trigger and its actions, as the domain checks them.

Triggers (``on``): ``opportunity.stage_entered`` (a stage key, optionally of one
pipeline), ``opportunity.created``, ``lead.created`` (optionally with conditions, all of
which must hold), ``opportunity.idle`` (no activity for ``days`` ≥ 1),
``contract.renewal_due``, ``opportunity.won``, ``opportunity.lost``.

Actions: ``create_task`` (a title, due so many days after the trigger, for the record's
owner, the owner's manager or a login), ``set_field`` (a plain field of the record, see
``PLAIN_FIELDS``, or one of its entity's custom fields), ``assign`` (the record to a
login) and ``notify`` (the owner, the manager or a login, with a text). A contract has no
fields an automation sets and is assigned by its sale: on ``contract.renewal_due``,
``set_field`` and ``assign`` act on the renewal opportunity the contract opened
(``changed_entity``); tasks and notices are about the contract.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal
from uuid import UUID

import msgspec

from domain import limits
from domain.errors import InvalidInput
from domain.lead import PRIORITIES
from domain.pipeline import FORECAST_CATEGORIES

__all__ = [
    "CONDITION_FIELDS",
    "MAX_ACTIONS",
    "MAX_CONDITIONS",
    "MAX_DUE_IN_DAYS",
    "MAX_IDLE_DAYS",
    "PLAIN_FIELDS",
    "Action",
    "AssignAction",
    "ContractRenewalDueTrigger",
    "CreateTaskAction",
    "FieldValue",
    "LeadCondition",
    "LeadCreatedTrigger",
    "NotifyAction",
    "OpportunityCreatedTrigger",
    "OpportunityIdleTrigger",
    "OpportunityLostTrigger",
    "OpportunityWonTrigger",
    "RecordKind",
    "SetFieldAction",
    "StageEnteredTrigger",
    "Trigger",
    "changed_entity",
    "check_actions",
    "check_trigger",
    "entity_of",
]

RecordKind = Literal["opportunity", "lead", "contract"]
# The fields of a new lead a condition may ask about (its personal data never).
CONDITION_FIELDS = ("source", "company", "priority", "channel", "owner")
MAX_CONDITIONS = 10
MAX_ACTIONS = 10
MAX_IDLE_DAYS = 3650
MAX_DUE_IN_DAYS = 3650
# The plain fields ``set_field`` sets, per entity (any other name is a custom field).
PLAIN_FIELDS: Mapping[str, tuple[str, ...]] = {
    "opportunity": ("stage", "title", "probability", "forecast_category"),
    "lead": ("priority", "source", "company"),
    "contract": (),
}
FieldValue = str | bool | int | tuple[str, ...] | dict[str, str] | None


class LeadCondition(msgspec.Struct, frozen=True, kw_only=True):
    """The new lead's ``field`` equals ``equals`` (case and surrounding spaces ignored); a
    field the lead lacks never does."""

    field: str
    equals: str

    def holds(self, fields: Mapping[str, str | None]) -> bool:
        found = fields.get(self.field)
        return found is not None and found.strip().casefold() == self.equals.strip().casefold()


class _Trigger(msgspec.Struct, frozen=True, kw_only=True, tag_field="on"):
    pass


class StageEnteredTrigger(_Trigger, frozen=True, kw_only=True, tag="opportunity.stage_entered"):
    """An opportunity enters ``stage`` (created in it, moved, reopened or unlocked into
    it), in the pipeline ``pipeline_id`` when one is named."""

    stage: str
    pipeline_id: UUID | None = None


class OpportunityCreatedTrigger(_Trigger, frozen=True, kw_only=True, tag="opportunity.created"):
    pass


class LeadCreatedTrigger(_Trigger, frozen=True, kw_only=True, tag="lead.created"):
    conditions: tuple[LeadCondition, ...] = ()


class OpportunityIdleTrigger(_Trigger, frozen=True, kw_only=True, tag="opportunity.idle"):
    """An open opportunity saw no activity (an event not written by an automation) for
    ``days`` days."""

    days: int


class ContractRenewalDueTrigger(_Trigger, frozen=True, kw_only=True, tag="contract.renewal_due"):
    pass


class OpportunityWonTrigger(_Trigger, frozen=True, kw_only=True, tag="opportunity.won"):
    pass


class OpportunityLostTrigger(_Trigger, frozen=True, kw_only=True, tag="opportunity.lost"):
    pass


Trigger = (
    StageEnteredTrigger
    | OpportunityCreatedTrigger
    | LeadCreatedTrigger
    | OpportunityIdleTrigger
    | ContractRenewalDueTrigger
    | OpportunityWonTrigger
    | OpportunityLostTrigger
)


class _Action(msgspec.Struct, frozen=True, kw_only=True, tag_field="action"):
    pass


class CreateTaskAction(_Action, frozen=True, kw_only=True, tag="create_task"):
    title: str
    due_in_days: int
    # "owner", "manager" or a login.
    assignee: str


class SetFieldAction(_Action, frozen=True, kw_only=True, tag="set_field"):
    field: str
    value: FieldValue


class AssignAction(_Action, frozen=True, kw_only=True, tag="assign"):
    login: str


class NotifyAction(_Action, frozen=True, kw_only=True, tag="notify"):
    # "owner", "manager" or a login.
    recipient: str
    text: str


Action = CreateTaskAction | SetFieldAction | AssignAction | NotifyAction


def entity_of(trigger: Trigger) -> RecordKind:
    """The kind of record a trigger is about (the one its actions act on)."""
    if isinstance(trigger, LeadCreatedTrigger):
        return "lead"
    if isinstance(trigger, ContractRenewalDueTrigger):
        return "contract"
    return "opportunity"


def changed_entity(trigger: Trigger) -> RecordKind:
    """The kind of record ``set_field`` and ``assign`` change: the trigger's, but for a
    contract falling due its renewal opportunity."""
    entity = entity_of(trigger)
    return "opportunity" if entity == "contract" else entity


def check_trigger(trigger: Trigger) -> Trigger:
    """The trigger, cleaned; InvalidInput with a sentence when it cannot be one."""
    if isinstance(trigger, StageEnteredTrigger):
        stage = trigger.stage.strip()
        if not stage:
            raise InvalidInput("an opportunity.stage_entered trigger needs a stage.")
        return msgspec.structs.replace(trigger, stage=stage)
    if isinstance(trigger, OpportunityIdleTrigger) and not 1 <= trigger.days <= MAX_IDLE_DAYS:
        raise InvalidInput(
            f"an opportunity.idle trigger needs days from 1 to {MAX_IDLE_DAYS}, not {trigger.days}."
        )
    if isinstance(trigger, LeadCreatedTrigger):
        if len(trigger.conditions) > MAX_CONDITIONS:
            raise InvalidInput(f"a trigger has at most {MAX_CONDITIONS} conditions.")
        for condition in trigger.conditions:
            if condition.field not in CONDITION_FIELDS:
                raise InvalidInput(
                    f"a lead.created condition asks about {', '.join(CONDITION_FIELDS)}, "
                    f"not {condition.field!r}."
                )
    return trigger


def check_actions(trigger: Trigger, actions: tuple[Action, ...]) -> tuple[Action, ...]:
    """The actions, cleaned, for a record of the trigger's entity; InvalidInput with a
    sentence naming the first that cannot be. Custom fields and logins are the commands'
    to check (they need the store)."""
    if not actions:
        raise InvalidInput("an automation needs at least one action.")
    if len(actions) > MAX_ACTIONS:
        raise InvalidInput(f"an automation has at most {MAX_ACTIONS} actions.")
    entity = changed_entity(trigger)
    return tuple(_check_action(entity, n, a) for n, a in enumerate(actions, start=1))


def _check_action(entity: RecordKind, number: int, action: Action) -> Action:
    where = f"action {number}"
    if isinstance(action, CreateTaskAction):
        title = " ".join(action.title.split())
        if not title or len(title) > limits.NAME:
            raise InvalidInput(f"{where}: a task needs a title of 1 to {limits.NAME} characters.")
        if not 0 <= action.due_in_days <= MAX_DUE_IN_DAYS:
            raise InvalidInput(f"{where}: due_in_days is from 0 to {MAX_DUE_IN_DAYS}.")
        return msgspec.structs.replace(action, title=title)
    if isinstance(action, NotifyAction):
        if not action.text.strip():
            raise InvalidInput(f"{where}: a notification needs a text.")
        if len(" ".join(action.text.split())) > limits.REASON:
            raise InvalidInput(
                f"{where}: a notification's text is at most {limits.REASON} characters."
            )
        return action
    if isinstance(action, SetFieldAction):
        return _check_plain_field(entity, where, action)
    return action


def _check_plain_field(entity: RecordKind, where: str, action: SetFieldAction) -> SetFieldAction:
    """A plain field's value; a custom field passes (the commands check it)."""
    field, value = action.field, action.value
    if field not in PLAIN_FIELDS[entity]:
        return action
    if field == "probability" and not (
        value is None
        or (isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 100)
    ):
        raise InvalidInput(f"{where}: probability is a whole number from 0 to 100, or null.")
    if field == "forecast_category" and value is not None and value not in FORECAST_CATEGORIES:
        raise InvalidInput(
            f"{where}: forecast_category is one of {', '.join(FORECAST_CATEGORIES)}, or null."
        )
    if field == "priority" and value not in PRIORITIES:
        raise InvalidInput(f"{where}: priority is one of {', '.join(PRIORITIES)}.")
    if field in ("stage", "title") and not (isinstance(value, str) and value.strip()):
        raise InvalidInput(f"{where}: {field} is a non-empty text.")
    if field in ("source", "company") and not (value is None or isinstance(value, str)):
        raise InvalidInput(f"{where}: {field} is a text, or null.")
    return action
