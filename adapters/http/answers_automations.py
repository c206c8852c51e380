"""Answers of the automation routes: each automation as defined, and how it has run."""

from __future__ import annotations

from typing import Any, Literal

import msgspec
from pydantic import Field

from adapters.http.answers import Answer, Id, Instant
from adapters.http.bodies_automations import ActionBody, TriggerBody
from domain import automation as auto


class LastRun(Answer):
    at: Instant
    cause: str = Field(description="The triggering event's id (an idle timer's, for idle)")
    depth: int = Field(description="The triggering event's depth in a chain of automations")
    refused: str | None = Field(description="Why the domain refused its actions; null: ran")


class ChainStop(Answer):
    at: Instant
    cause: str = Field(description="The event automations wrote at the maximum depth")
    depth: int


class Automation(Answer):
    id: Id
    version: int
    name: str
    trigger: TriggerBody
    actions: list[ActionBody]
    status: Literal["enabled", "disabled"]
    runs: int = Field(description="Triggering events (and idle timers) it ran for")
    last_run: LastRun | None
    chain_stops: int
    last_chain_stop: ChainStop | None


class AutomationList(Answer):
    """``GET /automations``: every automation not deleted, in the order defined."""

    items: list[Automation]


def trigger_shown(trigger: auto.Trigger) -> dict[str, Any]:
    shown: dict[str, Any] = msgspec.to_builtins(trigger)
    pipeline = shown.pop("pipeline_id", None)
    if pipeline is not None:
        shown["pipeline"] = pipeline
    return shown


def action_shown(action: auto.Action) -> dict[str, Any]:
    if isinstance(action, auto.CreateTaskAction):
        spec = {"title": action.title, "due_in_days": action.due_in_days}
        return {"create_task": {**spec, "assignee": action.assignee}}
    if isinstance(action, auto.SetFieldAction):
        value = list(action.value) if isinstance(action.value, tuple) else action.value
        return {"set_field": {"field": action.field, "value": value}}
    if isinstance(action, auto.AssignAction):
        return {"assign": action.login}
    return {"notify": action.recipient, "text": action.text}


def automation_shown(state: auto.Automation) -> dict[str, Any]:
    return {
        "id": str(state.id),
        "version": state.version,
        "name": state.name,
        "trigger": trigger_shown(state.trigger),
        "actions": [action_shown(a) for a in state.actions],
        "status": "enabled" if state.enabled else "disabled",
        "runs": state.runs,
        "last_run": msgspec.to_builtins(state.last_run),
        "chain_stops": state.chain_stops,
        "last_chain_stop": msgspec.to_builtins(state.last_chain_stop),
    }
