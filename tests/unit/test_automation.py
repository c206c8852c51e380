"""The automation rules, Given / When / Then: definitions checked, disable / enable /
delete, which events trigger what, and the depth of a chain."""

from __future__ import annotations

from uuid import uuid4

import msgspec
import pytest

from domain import automation as auto
from domain.automation import (
    AutomationChainStopped,
    AutomationDefined,
    AutomationDeleted,
    AutomationDisabled,
    AutomationEnabled,
)
from domain.errors import InvalidInput, RuleViolated
from domain.events import event_id
from domain.lead import LeadCreated
from domain.opportunity import OpportunityMovedToStage
from tests.builders import opportunity_created
from tests.gwt import given

NOTIFY = auto.NotifyAction(recipient="owner", text="Hello")
DEFINED = AutomationDefined(
    name="Follow-up", trigger=auto.OpportunityCreatedTrigger(), actions=(NOTIFY,)
)


def test_a_definition_is_cleaned_and_recorded() -> None:
    trigger = auto.StageEnteredTrigger(stage=" proposal ")
    task = auto.CreateTaskAction(title="  Call   back ", due_in_days=2, assignee="owner")
    [defined] = auto.define("  Follow  up ", trigger, (task,))
    assert defined == AutomationDefined(
        name="Follow up",
        trigger=auto.StageEnteredTrigger(stage="proposal"),
        actions=(auto.CreateTaskAction(title="Call back", due_in_days=2, assignee="owner"),),
    )


@pytest.mark.parametrize(
    ("trigger", "actions", "sentence"),
    [
        (auto.OpportunityCreatedTrigger(), (), "at least one action"),
        (auto.OpportunityIdleTrigger(days=0), (NOTIFY,), "days from 1"),
        (auto.StageEnteredTrigger(stage=" "), (NOTIFY,), "needs a stage"),
        (
            auto.LeadCreatedTrigger(conditions=(auto.LeadCondition(field="email", equals="x"),)),
            (NOTIFY,),
            "not 'email'",
        ),
        (
            auto.ContractRenewalDueTrigger(),
            (auto.SetFieldAction(field="probability", value=101),),
            "probability",  # its renewal deal's fields, checked as a deal's
        ),
        (
            auto.OpportunityCreatedTrigger(),
            (auto.SetFieldAction(field="probability", value=True),),
            "probability",
        ),
        (
            auto.LeadCreatedTrigger(),
            (auto.SetFieldAction(field="priority", value="soon"),),
            "priority is one of",
        ),
        (auto.OpportunityCreatedTrigger(), (NOTIFY,) * 11, "at most 10"),
        (
            auto.OpportunityCreatedTrigger(),
            (auto.NotifyAction(recipient="owner", text=" "),),
            "text",
        ),
    ],
)
def test_a_bad_definition_is_refused_with_a_sentence(
    trigger: auto.Trigger, actions: tuple[auto.Action, ...], sentence: str
) -> None:
    with pytest.raises(InvalidInput, match=sentence):
        auto.define("rule", trigger, actions)


def test_disable_enable_delete() -> None:
    given(DEFINED).when(auto.disable).then(AutomationDisabled())
    given(DEFINED, AutomationDisabled()).when(auto.disable).then_raises(
        RuleViolated, "already disabled"
    )
    given(DEFINED).when(auto.enable).then_raises(RuleViolated, "already enabled")
    given(DEFINED, AutomationDisabled()).when(auto.enable).then(AutomationEnabled())
    state = given(DEFINED).when(auto.delete).then_state()
    assert state.deleted and not state.enabled
    given(DEFINED).when(auto.delete).then(AutomationDeleted())


def test_runs_and_chain_stops_are_counted() -> None:
    state = (
        given(DEFINED, *auto.ran("e1", 0), *auto.ran("e2", 1, "no manager"))
        .when(lambda a: auto.chain_stopped("e3", 5))
        .then_state()
    )
    assert state.runs == 2 and state.last_run.refused == "no manager"
    assert state.chain_stops == 1 and state.last_chain_stop.depth == 5
    assert auto.chain_stopped("e3", 5) == [AutomationChainStopped(cause="e3", depth=5)]


def test_which_events_trigger_what() -> None:
    pipeline = uuid4()
    created = opportunity_created(stage="proposal", pipeline_id=pipeline)
    moved = OpportunityMovedToStage(stage="proposal", previous_stage="qualification")
    assert auto.triggers(auto.OpportunityCreatedTrigger(), created)
    assert auto.triggers(auto.StageEnteredTrigger(stage="proposal"), created)
    assert auto.triggers(auto.StageEnteredTrigger(stage="proposal", pipeline_id=pipeline), created)
    assert not auto.triggers(
        auto.StageEnteredTrigger(stage="proposal", pipeline_id=uuid4()), created
    )
    assert auto.triggers(
        auto.StageEnteredTrigger(stage="proposal", pipeline_id=pipeline), moved, lambda: pipeline
    )
    assert not auto.triggers(auto.StageEnteredTrigger(stage="won"), moved)
    assert not auto.triggers(auto.OpportunityWonTrigger(), moved)
    web = auto.LeadCreatedTrigger(conditions=(auto.LeadCondition(field="source", equals="WEB"),))
    lead = LeadCreated(personal=None, source=" web ")
    assert auto.triggers(web, lead)
    assert not auto.triggers(web, msgspec.structs.replace(lead, source=None))


def test_the_depth_of_a_chain() -> None:
    aggregate = uuid4()
    by_user = msgspec.structs.replace(
        OpportunityMovedToStage(stage="a", previous_stage="b"),
        originator_id=aggregate,
        originator_version=3,
        by="alice",
        request_id="automation:faked:9",
    )
    root = str(event_id(aggregate, 3))
    # A user's event (whatever its request id) is at depth 0, the root of its chain
    assert auto.chain_of(by_user) == (root, 0)
    # What an automation wrote for it is one deeper, in the same chain
    written = msgspec.structs.replace(
        by_user, by=auto.actor_of(uuid4()), request_id=auto.chain_request_id(root, 1)
    )
    assert auto.chain_of(written) == (root, 1)
