"""The automations process's commands: each runs, in one save, every action of every
automation an event (or an idle timer) triggers, with the process's position or the
timer's firing.

``RunAutomations`` carries the triggering event, its log position and the automations
that were enabled at that position (the process decides which, as of the log, so a
replay decides the same); the handler keeps those the event triggers and runs their
actions through the ordinary handlers (``CreateTask``, ``SendNotification``, the
opportunity and lead changes) on its own unit of work, each automation's events saying
``system:automation:<id>`` with the triggering event as their cause, and records a run on
each automation. What it creates has ids derived from the cause, the automation and the
action's index, so the same trigger never makes two. At the maximum chain depth the
automations do not run; each records that the chain stopped. A refusal of the domain is
raised as ``ActionRefused`` naming the automation: the process runs the command again
with that automation passed over (its run recorded with the refusal), so nothing of a
refused automation is half written and the others still run.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID, uuid5

import msgspec

from commands.automation_actions import Record, run_actions
from commands.bus import Answer, Handlers
from commands.ports import ProcessTimer
from commands.unit_of_work import Actor, UnitOfWork
from domain import automation as rules
from domain.aggregate import replay
from domain.automation import Automation, OpportunityIdleTrigger
from domain.errors import DomainError
from domain.events import DomainEvent, event_id
from domain.opportunity import Opportunity

PROCESS = "automations"
_IDLE_NAMESPACE = UUID("0f4a7a61-31b6-4d5e-9c58-9a3e1c7b2d44")


class ActionRefused(DomainError):
    """The domain refused an action of ``automation_id``; nothing of it was kept."""

    code = "automation_action_refused"

    def __init__(self, automation_id: UUID, detail: str) -> None:
        super().__init__(detail)
        self.automation_id = automation_id


class RunAutomations(msgspec.Struct, frozen=True, kw_only=True):
    cause: DomainEvent
    position: int
    # Enabled at ``position``, of the kinds ``cause`` may trigger.
    automations: tuple[Automation, ...]
    max_depth: int
    # Idle timers set, and idle automations whose timers on this opportunity are dropped.
    idle_timers: tuple[ProcessTimer, ...] = ()
    idle_cancelled: tuple[UUID, ...] = ()
    # Automations whose actions the domain refused for this cause: automation → why.
    passed_over: dict[UUID, str] = {}


class FireIdleTimer(msgspec.Struct, frozen=True, kw_only=True):
    opportunity_id: UUID
    automation_id: UUID
    due_at: datetime
    # The automation as of the process's position; None (or disabled): the timer just goes.
    automation: Automation | None
    passed_over: str | None = None


def idle_kind(automation_id: UUID) -> str:
    return f"idle:{automation_id}"


def idle_cause(opportunity_id: UUID, automation_id: UUID, due_at: datetime) -> str:
    """An idle timer's firing, named as a cause (it has no event of its own)."""
    return str(uuid5(_IDLE_NAMESPACE, f"{opportunity_id}:{automation_id}:{due_at.isoformat()}"))


def run_automations(uow: UnitOfWork, command: RunAutomations) -> Answer:
    cause = command.cause
    cause_id = str(event_id(cause.originator_id, cause.originator_version))
    root, depth = rules.chain_of(cause)
    record = Record.of(cause)
    stopped: list[str] = []

    def pipeline_of() -> UUID:
        return _pipeline_at(uow, cause)

    for automation in command.automations:
        if not rules.triggers(automation.trigger, cause, pipeline_of):
            continue
        acting = Actor(
            by=rules.actor_of(automation.id),
            request_id=rules.chain_request_id(root, depth + 1),
            causation_id=cause_id,
        )
        with uow.acting_as(acting):
            if depth >= command.max_depth:
                _on(uow, automation, rules.chain_stopped(cause_id, depth))
                stopped.append(str(automation.id))
                continue
            refused = command.passed_over.get(automation.id)
            if refused is None:
                _run(uow, automation, record, cause_id, cause.recorded_at)
            _on(uow, automation, rules.ran(cause_id, depth, refused))
    for timer in command.idle_timers:
        uow.schedule(timer)
    for automation_id in command.idle_cancelled:
        uow.cancel_timer(PROCESS, cause.originator_id, idle_kind(automation_id))
    if uow.has_changes or command.idle_timers or command.idle_cancelled:
        uow.track(command.position, PROCESS)
    return Answer(id=cause.originator_id, extra={"chain_stopped": stopped} if stopped else {})


def fire_idle_timer(uow: UnitOfWork, command: FireIdleTimer) -> Answer:
    uow.fire_process_timer(PROCESS, command.opportunity_id, idle_kind(command.automation_id))
    automation = command.automation
    if automation is None or not automation.enabled:
        return Answer(id=command.opportunity_id)
    if not isinstance(automation.trigger, OpportunityIdleTrigger):
        return Answer(id=command.opportunity_id)
    opportunity = uow.find(command.opportunity_id)
    if not isinstance(opportunity, Opportunity) or opportunity.deleted:
        return Answer(id=command.opportunity_id)
    if opportunity.status != "open":
        return Answer(id=command.opportunity_id)
    cause_id = idle_cause(command.opportunity_id, automation.id, command.due_at)
    acting = Actor(
        by=rules.actor_of(automation.id),
        request_id=rules.chain_request_id(cause_id, 1),
        causation_id=cause_id,
    )
    with uow.acting_as(acting):
        if command.passed_over is None:
            record = Record(kind="opportunity", id=command.opportunity_id)
            _run(uow, automation, record, cause_id, command.due_at)
        _on(uow, automation, rules.ran(cause_id, 0, command.passed_over))
    return Answer(id=command.opportunity_id)


def _on(uow: UnitOfWork, automation: Automation, events: Sequence[DomainEvent]) -> None:
    """Record on the automation as stored (loaded first, so the events follow its version)."""
    uow.find(automation.id)
    uow.record(automation.id, events)


def _run(uow: UnitOfWork, automation: Automation, record: Record, cause: str, at: datetime) -> None:
    try:
        run_actions(uow, automation, record, cause, at)
    except ActionRefused:
        raise
    except DomainError as refusal:
        raise ActionRefused(automation.id, refusal.detail) from refusal


def _pipeline_at(uow: UnitOfWork, event: DomainEvent) -> UUID:
    """The pipeline the opportunity was in when ``event`` was recorded."""
    history: Sequence[DomainEvent] = [
        e
        for e in uow.store.history(event.originator_id)
        if e.originator_version <= event.originator_version
    ]
    state = replay(None, history)
    assert isinstance(state, Opportunity)
    return state.pipeline_id


HANDLERS: Handlers = {
    RunAutomations: run_automations,
    FireIdleTimer: fire_idle_timer,
}
