"""Request bodies of the automation routes: a trigger, one shape per kind (``on``), and
actions, one shape per kind (the one key each has)."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import uuid4

from pydantic import BaseModel, Discriminator, Field, Tag

from adapters.http.bodies import Body, example
from adapters.http.fields import Login, Name, Reason, ShortText, StageKey
from adapters.http.shapes import Whole
from adapters.http.shapes_custom import CustomValueShape
from commands.automations import DefineAutomation
from domain import automation as auto
from domain.automation import CONDITION_FIELDS, MAX_ACTIONS, MAX_CONDITIONS

WHO = "`owner` (the record's), `manager` (the owner's) or a user's login"


class StageEnteredBody(Body):
    on: Literal["opportunity.stage_entered"]
    stage: StageKey
    pipeline: Name | None = Field(None, description="The stage's pipeline, by name or id")

    def to_trigger(self) -> auto.Trigger:
        return auto.StageEnteredTrigger(stage=self.stage)


class OpportunityCreatedBody(Body):
    on: Literal["opportunity.created"]

    def to_trigger(self) -> auto.Trigger:
        return auto.OpportunityCreatedTrigger()


class ConditionBody(Body):
    field: Literal[CONDITION_FIELDS]  # type: ignore[valid-type]
    equals: Name = Field(description="Equal to this, case and surrounding spaces ignored")


class LeadCreatedBody(Body):
    on: Literal["lead.created"]
    conditions: list[ConditionBody] = Field(
        default_factory=list,
        max_length=MAX_CONDITIONS,
        description="All must hold for the new lead (none: every lead)",
    )

    def to_trigger(self) -> auto.Trigger:
        return auto.LeadCreatedTrigger(
            conditions=tuple(
                auto.LeadCondition(field=c.field, equals=c.equals) for c in self.conditions
            )
        )


class OpportunityIdleBody(Body):
    on: Literal["opportunity.idle"]
    days: Annotated[int, Whole(1, auto.MAX_IDLE_DAYS)] = Field(description="Days without activity")

    def to_trigger(self) -> auto.Trigger:
        return auto.OpportunityIdleTrigger(days=self.days)


class RenewalDueBody(Body):
    on: Literal["contract.renewal_due"]

    def to_trigger(self) -> auto.Trigger:
        return auto.ContractRenewalDueTrigger()


class OpportunityWonBody(Body):
    on: Literal["opportunity.won"]

    def to_trigger(self) -> auto.Trigger:
        return auto.OpportunityWonTrigger()


class OpportunityLostBody(Body):
    on: Literal["opportunity.lost"]

    def to_trigger(self) -> auto.Trigger:
        return auto.OpportunityLostTrigger()


TriggerBody = Annotated[
    StageEnteredBody
    | OpportunityCreatedBody
    | LeadCreatedBody
    | OpportunityIdleBody
    | RenewalDueBody
    | OpportunityWonBody
    | OpportunityLostBody,
    Field(discriminator="on"),
]


class TaskSpec(Body):
    title: Name
    due_in_days: Annotated[int, Whole(0, auto.MAX_DUE_IN_DAYS)] = Field(
        description="Days after the trigger"
    )
    assignee: Login = Field(description=WHO)


class CreateTaskActionBody(Body):
    create_task: TaskSpec

    def to_action(self) -> auto.Action:
        spec = self.create_task
        return auto.CreateTaskAction(
            title=spec.title, due_in_days=spec.due_in_days, assignee=spec.assignee
        )


class ProbabilitySpec(Body):
    field: Literal["probability"]
    value: Annotated[int, Whole(0, 100)] | None


class ForecastCategorySpec(Body):
    field: Literal["forecast_category"]
    value: Literal["pipeline", "best_case", "commit", "omitted"] | None


class PrioritySpec(Body):
    field: Literal["priority"]
    value: Literal["low", "normal", "high", "urgent"]


class StageSpec(Body):
    field: Literal["stage"]
    value: StageKey = Field(description="Checked when it runs: a stage of the deal's pipeline")


class TitleSpec(Body):
    field: Literal["title"]
    value: Name


class LeadTextSpec(Body):
    field: Literal["source", "company"]
    value: ShortText | None


# The plain fields an automation sets (``domain.automation.PLAIN_FIELDS``, both entities).
PLAIN_SPECS = tuple(dict.fromkeys(f for fields in auto.PLAIN_FIELDS.values() for f in fields))


class CustomFieldSpec(Body):
    field: Annotated[
        str,
        Field(
            min_length=1,
            max_length=40,
            pattern=r"^[a-z][a-z0-9_]*$",
            json_schema_extra={"not": {"enum": list(PLAIN_SPECS)}},
        ),
    ] = Field(description="A custom field's key (of the trigger's record)")
    value: Annotated[Any, CustomValueShape()] = Field(
        description="A value of that field's type (checked against its definition), or null "
        "to clear it"
    )


def _field_kind(value: Any) -> str:
    field = value.get("field") if isinstance(value, dict) else getattr(value, "field", None)
    return field if field in PLAIN_SPECS else "custom"


# A plain field's value has its own shape; a custom field's follows its definition.
FieldSpec = Annotated[
    Annotated[ProbabilitySpec, Tag("probability")]
    | Annotated[ForecastCategorySpec, Tag("forecast_category")]
    | Annotated[PrioritySpec, Tag("priority")]
    | Annotated[StageSpec, Tag("stage")]
    | Annotated[TitleSpec, Tag("title")]
    | Annotated[LeadTextSpec, Tag("source")]
    | Annotated[LeadTextSpec, Tag("company")]
    | Annotated[CustomFieldSpec, Tag("custom")],
    Discriminator(_field_kind),
]


class SetFieldActionBody(Body):
    set_field: FieldSpec

    def to_action(self) -> auto.Action:
        value = self.set_field.value
        return auto.SetFieldAction(
            field=self.set_field.field, value=tuple(value) if isinstance(value, list) else value
        )


class AssignActionBody(Body):
    assign: Login = Field(description="The user the record goes to")

    def to_action(self) -> auto.Action:
        return auto.AssignAction(login=self.assign)


class NotifyActionBody(Body):
    notify: Login = Field(description=WHO)
    text: Reason  # a notification's text: not blank, at most limits.REASON

    def to_action(self) -> auto.Action:
        return auto.NotifyAction(recipient=self.notify, text=self.text)


_ACTION_KEYS = ("create_task", "set_field", "assign", "notify")


def _action_kind(value: Any) -> str | None:
    """The action's kind: the first of its keys that names one."""
    if isinstance(value, dict):
        keys: Any = value.keys()
    elif isinstance(value, BaseModel):
        keys = type(value).model_fields.keys()
    else:
        return None
    # With no key naming an action, it is read as the alternative it is closest to (a
    # ``text`` is a notice's), so the refusal names the key left out.
    fallback = "notify" if "text" in keys else "create_task"
    return next((key for key in _ACTION_KEYS if key in keys), fallback)


ActionBody = Annotated[
    Annotated[CreateTaskActionBody, Tag("create_task")]
    | Annotated[SetFieldActionBody, Tag("set_field")]
    | Annotated[AssignActionBody, Tag("assign")]
    | Annotated[NotifyActionBody, Tag("notify")],
    Discriminator(
        _action_kind,
        custom_error_type="action_kind_invalid",
        custom_error_message="must have one of the keys create_task, set_field, assign, notify",
        custom_error_context={"discriminator": "action"},
    ),
]


class AutomationBody(Body):
    model_config = example(
        {
            "name": "Proposal follow-up",
            "trigger": {"on": "opportunity.stage_entered", "stage": "proposal"},
            "actions": [
                {
                    "create_task": {
                        "title": "Call about the proposal",
                        "due_in_days": 3,
                        "assignee": "owner",
                    }
                },
                {"notify": "manager", "text": "A proposal went out."},
            ],
        }
    )
    name: Name
    trigger: TriggerBody
    actions: list[ActionBody] = Field(min_length=1, max_length=MAX_ACTIONS)

    def to_command(self) -> DefineAutomation:
        pipeline = self.trigger.pipeline if isinstance(self.trigger, StageEnteredBody) else None
        return DefineAutomation(
            automation_id=uuid4(),
            name=self.name,
            trigger=self.trigger.to_trigger(),
            actions=tuple(action.to_action() for action in self.actions),
            pipeline=pipeline,
        )
