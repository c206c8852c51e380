"""What may be done to an automation, which events trigger it, and how deep a chain is.

- Only a defined, not deleted automation is disabled, enabled or deleted; disabling a
  disabled one (or enabling an enabled one) is refused.
- An event triggers an automation when it is of the trigger's kind (see ``TRIGGERED_BY``)
  and, for ``opportunity.stage_entered``, enters its stage (of its pipeline, if named);
  for ``lead.created``, every condition holds for the new lead.
- Depth of a chain: an event a user (or any other process) wrote is at depth 0; an event
  an automation wrote for a triggering event at depth d is at depth d + 1. The depth and
  the chain's first event travel in the request id of what automations write
  (``automation:<root event id>:<depth>``), under an actor ``system:automation:<id>``
  (nobody else writes as that actor, so a caller's request id fakes nothing). At the
  maximum depth an automation does not run: it records that the chain stopped.
"""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

from domain.automation.definition import (
    Action,
    ContractRenewalDueTrigger,
    LeadCreatedTrigger,
    OpportunityCreatedTrigger,
    OpportunityIdleTrigger,
    OpportunityLostTrigger,
    OpportunityWonTrigger,
    StageEnteredTrigger,
    Trigger,
    check_actions,
    check_trigger,
)
from domain.automation.state import (
    Automation,
    AutomationCatalogue,
    AutomationCatalogued,
    AutomationChainStopped,
    AutomationDefined,
    AutomationDeleted,
    AutomationDisabled,
    AutomationEnabled,
    AutomationEvent,
    AutomationRan,
    AutomationUncatalogued,
    CatalogueEvent,
)
from domain.contract import ContractRenewalDue
from domain.errors import InvalidInput, RuleViolated
from domain.events import DomainEvent, event_id
from domain.lead import LeadCreated
from domain.opportunity import (
    OpportunityCreated,
    OpportunityLost,
    OpportunityMovedToPipeline,
    OpportunityMovedToStage,
    OpportunityReopened,
    OpportunitySold,
    OpportunityUnlocked,
)

__all__ = [
    "ACTOR_PREFIX",
    "TRIGGERED_BY",
    "actor_of",
    "catalogue",
    "chain_of",
    "chain_request_id",
    "chain_stopped",
    "define",
    "delete",
    "disable",
    "enable",
    "ran",
    "triggers",
    "uncatalogue",
]

ACTOR_PREFIX = "system:automation:"
_CHAIN_PREFIX = "automation:"

StageEntering = (
    OpportunityCreated
    | OpportunityMovedToStage
    | OpportunityMovedToPipeline
    | OpportunityReopened
    | OpportunityUnlocked
)
# The events each kind of trigger answers (an idle opportunity is the process's timers').
TRIGGERED_BY: dict[type[Trigger], tuple[type[DomainEvent], ...]] = {
    StageEnteredTrigger: (
        OpportunityCreated,
        OpportunityMovedToStage,
        OpportunityMovedToPipeline,
        OpportunityReopened,
        OpportunityUnlocked,
    ),
    OpportunityCreatedTrigger: (OpportunityCreated,),
    LeadCreatedTrigger: (LeadCreated,),
    OpportunityIdleTrigger: (),
    ContractRenewalDueTrigger: (ContractRenewalDue,),
    OpportunityWonTrigger: (OpportunitySold,),
    OpportunityLostTrigger: (OpportunityLost,),
}


def define(name: str, trigger: Trigger, actions: tuple[Action, ...]) -> list[AutomationEvent]:
    name = " ".join(name.split())
    if not name:
        raise InvalidInput("an automation needs a name.")
    trigger = check_trigger(trigger)
    return [AutomationDefined(name=name, trigger=trigger, actions=check_actions(trigger, actions))]


def disable(automation: Automation) -> list[AutomationEvent]:
    if not automation.enabled:
        raise RuleViolated(f"automation {automation.name!r} is already disabled.")
    return [AutomationDisabled()]


def enable(automation: Automation) -> list[AutomationEvent]:
    if automation.enabled:
        raise RuleViolated(f"automation {automation.name!r} is already enabled.")
    return [AutomationEnabled()]


def delete(automation: Automation) -> list[AutomationEvent]:
    return [AutomationDeleted()]


def ran(cause: str, depth: int, refused: str | None = None) -> list[AutomationEvent]:
    """An automation's run, recorded on it whatever became of it since (history)."""
    return [AutomationRan(cause=cause, depth=depth, refused=refused)]


def chain_stopped(cause: str, depth: int) -> list[AutomationEvent]:
    return [AutomationChainStopped(cause=cause, depth=depth)]


def catalogue(automation_id: UUID) -> list[CatalogueEvent]:
    return [AutomationCatalogued(automation_id=automation_id)]


def uncatalogue(listed: AutomationCatalogue, automation_id: UUID) -> list[CatalogueEvent]:
    if automation_id not in listed.automation_ids:
        return []
    return [AutomationUncatalogued(automation_id=automation_id)]


def actor_of(automation_id: UUID) -> str:
    """Who the events an automation writes say did it."""
    return f"{ACTOR_PREFIX}{automation_id}"


def chain_request_id(root: str, depth: int) -> str:
    return f"{_CHAIN_PREFIX}{root}:{depth}"


def chain_of(event: DomainEvent) -> tuple[str, int]:
    """(the chain's first event id, the event's depth in it)."""
    if (
        event.by is not None
        and event.by.startswith(ACTOR_PREFIX)
        and event.request_id is not None
        and event.request_id.startswith(_CHAIN_PREFIX)
    ):
        root, _, depth = event.request_id[len(_CHAIN_PREFIX) :].rpartition(":")
        if root and depth.isdigit():
            return root, int(depth)
    return str(event_id(event.originator_id, event.originator_version)), 0


def triggers(
    trigger: Trigger, event: DomainEvent, pipeline_of: Callable[[], UUID] | None = None
) -> bool:
    """Whether ``event`` triggers ``trigger``. ``pipeline_of``: the pipeline the
    opportunity was in at that event (asked only when the trigger names one and the
    event does not say)."""
    if not isinstance(event, TRIGGERED_BY[type(trigger)]):
        return False
    if isinstance(trigger, StageEnteredTrigger):
        assert isinstance(event, StageEntering)
        if event.stage != trigger.stage:
            return False
        if trigger.pipeline_id is None:
            return True
        if isinstance(event, OpportunityCreated | OpportunityMovedToPipeline):
            return event.pipeline_id == trigger.pipeline_id
        return pipeline_of is not None and pipeline_of() == trigger.pipeline_id
    if isinstance(trigger, LeadCreatedTrigger):
        assert isinstance(event, LeadCreated)
        fields = {
            "source": event.source,
            "company": event.company,
            "priority": event.priority,
            "channel": event.channel,
            "owner": event.owner,
        }
        return all(condition.holds(fields) for condition in trigger.conditions)
    return True
