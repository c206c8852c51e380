"""The automations process manager end to end, on SQLite and on PostgreSQL.

Commands go through the real command bus; the process is caught up and ticked by the
test (``automations_process(services)``), as a worker would on its clock. The clock
starts at 2027-01-04 09:00 UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import msgspec
import pytest
import structlog

from adapters.automations_runner import automations_process
from adapters.bootstrap import Services
from adapters.clock import ManualClock
from commands.automation_actions import action_id
from commands.automation_runs import PROCESS, ActionRefused, RunAutomations
from commands.automations import DefineAutomation, DisableAutomation
from commands.custom_fields import DefineCustomField
from commands.errors import Contention
from commands.leads import CreateLead
from commands.opportunities import (
    DeleteOpportunity,
    EditOpportunity,
    LoseOpportunity,
    MoveOpportunityToStage,
    SellOpportunity,
)
from commands.quotes import ActivateQuote, AddQuoteItem, CreateQuote
from commands.users import AddUser, ChangeUser
from domain import automation as auto
from domain.automation import Automation
from domain.errors import InvalidInput
from domain.events import DomainEvent, event_id
from domain.lead import Lead
from domain.notification import Notification
from domain.opportunity import Opportunity
from domain.task import Task
from tests.builders import create_opportunity
from tests.identity import TEAM

pytestmark = pytest.mark.users(*TEAM)
NOW = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)


@pytest.fixture
def at_now(clock: ManualClock) -> ManualClock:
    clock.set(NOW)
    return clock


def define(services: Services, trigger: auto.Trigger, *actions: auto.Action, **kw: Any) -> UUID:
    automation_id = uuid4()
    services.bus.execute(
        DefineAutomation(
            automation_id=automation_id, name="rule", trigger=trigger, actions=actions, **kw
        )
    )
    return automation_id


def automation(services: Services, automation_id: UUID) -> Automation:
    found = services.store.load(automation_id)
    assert isinstance(found, Automation)
    return found


def cause_of(services: Services, aggregate_id: UUID, version: int) -> DomainEvent:
    return next(e for e in services.store.history(aggregate_id) if e.originator_version == version)


def created_by_automation(services: Services, automation_id: UUID, cause: DomainEvent, index: int):  # type: ignore[no-untyped-def]
    cause_id = str(event_id(cause.originator_id, cause.originator_version))
    return services.store.load(action_id(cause_id, automation_id, index))


def test_a_stage_entered_makes_a_task_and_a_notice_once_saying_who_and_why(
    services: Services, at_now: ManualClock
) -> None:
    # Given an automation on entering "proposal": a task for the owner in 3 days, a notice
    aid = define(
        services,
        auto.StageEnteredTrigger(stage="proposal"),
        auto.CreateTaskAction(title="Call about the proposal", due_in_days=3, assignee="owner"),
        auto.NotifyAction(recipient="bob", text="A proposal went out."),
    )
    deal = create_opportunity(owner="alice")
    services.bus.execute(deal)
    # When alice's deal enters the stage and the process catches up
    services.bus.execute(
        MoveOpportunityToStage(opportunity_id=deal.opportunity_id, stage="proposal")
    )
    process = automations_process(services)
    assert process.catch_up() >= 1
    # Then the task and the notice exist, made by the automation for that event
    moved = services.store.history(deal.opportunity_id)[-1]
    cause = str(event_id(moved.originator_id, moved.originator_version))
    task = created_by_automation(services, aid, moved, 0)
    assert isinstance(task, Task)
    assert (task.assignee, task.title) == ("alice", "Call about the proposal")
    assert task.due == moved.recorded_at + timedelta(days=3)
    notice = created_by_automation(services, aid, moved, 1)
    assert isinstance(notice, Notification)
    assert (notice.recipient, notice.notification_kind) == ("bob", "automation")
    written = services.store.history(task.id)[0]
    assert written.by == f"system:automation:{aid}"
    assert written.causation_id == cause
    assert written.request_id == f"automation:{cause}:1"
    ran = automation(services, aid)
    assert ran.runs == 1 and ran.last_run is not None and ran.last_run.cause == cause
    # And again, or by a new process (a restart), nothing happens twice
    before = services.event_log.last_position()
    assert automations_process(services).catch_up() == 0
    assert process.catch_up() == 0
    assert services.event_log.last_position() == before
    assert services.store.tracked_position(PROCESS) == before
    # And the same event's command replayed (as if its position had not been read): what
    # it makes exists (refused), and passed over, its position is taken: nothing written
    position = services.store.position_of(moved.originator_id, moved.originator_version)
    replay = RunAutomations(cause=moved, position=position or 0, automations=(ran,), max_depth=5)
    with pytest.raises(ActionRefused):
        services.bus.execute(replay)
    with pytest.raises(Contention):
        services.bus.execute(msgspec.structs.replace(replay, passed_over={aid: "replayed"}))
    assert services.event_log.last_position() == before


def test_created_deals_are_assigned_and_web_leads_raised(
    services: Services, at_now: ManualClock
) -> None:
    # Given: new deals go to bob; web leads get priority high and custom-free
    define(services, auto.OpportunityCreatedTrigger(), auto.AssignAction(login="bob"))
    define(
        services,
        auto.LeadCreatedTrigger(conditions=(auto.LeadCondition(field="source", equals="web"),)),
        auto.SetFieldAction(field="priority", value="high"),
    )
    deal = create_opportunity(owner="alice")
    services.bus.execute(deal)
    web, fair = uuid4(), uuid4()
    for lead_id, source in ((web, " Web "), (fair, "fair")):
        services.bus.execute(
            CreateLead(
                lead_id=lead_id, first_name="Ada", last_name="L", source=source, owner="carol"
            )
        )
    # When the process catches up
    automations_process(services).catch_up()
    # Then
    opp = services.store.load(deal.opportunity_id)
    assert isinstance(opp, Opportunity) and opp.owner == "bob"
    raised, other = services.store.load(web), services.store.load(fair)
    assert isinstance(raised, Lead) and raised.priority == "high"
    assert isinstance(other, Lead) and other.priority == "normal"


def test_won_and_lost_deals_and_a_refusal_passed_over(
    services: Services, at_now: ManualClock
) -> None:
    # Given: on a loss a task for the owner's manager (alice has none: refused) and a notice
    # for the owner from another automation
    refused = define(
        services,
        auto.OpportunityLostTrigger(),
        auto.CreateTaskAction(title="Debrief", due_in_days=1, assignee="manager"),
    )
    noticed = define(
        services, auto.OpportunityLostTrigger(), auto.NotifyAction(recipient="owner", text="Lost.")
    )
    deal = create_opportunity(owner="alice")
    services.bus.execute(deal)
    services.bus.execute(LoseOpportunity(opportunity_id=deal.opportunity_id, reason="price"))
    process = automations_process(services)
    # When
    process.catch_up()
    # Then the refused automation wrote nothing but its run, with the refusal
    lost = services.store.history(deal.opportunity_id)[-1]
    assert created_by_automation(services, refused, lost, 0) is None
    state = automation(services, refused)
    assert state.runs == 1 and state.last_run is not None
    assert "has no manager" in (state.last_run.refused or "")
    # And the other ran; the position moved past the event
    notice = created_by_automation(services, noticed, lost, 0)
    assert isinstance(notice, Notification) and notice.recipient == "alice"
    assert process.refused == 1
    assert process.catch_up() == 0
    assert services.store.tracked_position(PROCESS) == services.event_log.last_position()


def test_a_disabled_automation_is_judged_as_of_each_event(
    services: Services, at_now: ManualClock
) -> None:
    # Given an automation, a deal created while enabled, then it is disabled, another deal
    aid = define(services, auto.OpportunityCreatedTrigger(), auto.AssignAction(login="carol"))
    first, second = create_opportunity(owner="alice"), create_opportunity(owner="alice")
    services.bus.execute(first)
    services.bus.execute(DisableAutomation(automation_id=aid))
    services.bus.execute(second)
    # When the process catches up only afterwards
    automations_process(services).catch_up()
    # Then the first deal (created while enabled) was assigned, the second not
    owners = [services.store.load(d.opportunity_id) for d in (first, second)]
    assert [o.owner for o in owners if isinstance(o, Opportunity)] == ["carol", "alice"]


def test_a_chain_stops_at_its_depth_once_and_says_so(
    services: Services, at_now: ManualClock
) -> None:
    # Given two automations that move a deal back and forth between two stages
    there = define(
        services,
        auto.StageEnteredTrigger(stage="qualification"),
        auto.SetFieldAction(field="stage", value="proposal"),
    )
    back = define(
        services,
        auto.StageEnteredTrigger(stage="proposal"),
        auto.SetFieldAction(field="stage", value="qualification"),
    )
    deal = create_opportunity(owner="alice")
    services.bus.execute(deal)
    services.bus.execute(
        MoveOpportunityToStage(opportunity_id=deal.opportunity_id, stage="proposal")
    )
    process = automations_process(services)
    process.max_depth = 3
    # When the process follows the chain
    with structlog.testing.capture_logs() as logs:
        while process.catch_up():
            pass
    # Then: user move (depth 0) → back (1) → there (2) → back (3): stopped there
    stages = [e.stage for e in services.store.history(deal.opportunity_id) if hasattr(e, "stage")]
    assert stages[-4:] == ["proposal", "qualification", "proposal", "qualification"]
    moved_by_automations = [
        e
        for e in services.store.history(deal.opportunity_id)
        if (e.by or "").startswith("system:automation:")
    ]
    assert len(moved_by_automations) == 3
    stopped = automation(services, there)
    assert stopped.chain_stops == 1 and stopped.last_chain_stop is not None
    assert stopped.last_chain_stop.depth == 3
    assert automation(services, back).chain_stops == 0
    warnings = [line for line in logs if line["event"] == "automation_chain_stopped"]
    assert [w["automation_id"] for w in warnings] == [str(there)]
    # And nothing more, however often it catches up
    assert automations_process(services).catch_up() == 0
    assert automation(services, there).chain_stops == 1


def test_an_idle_deal_is_noticed_once_at_its_instant_and_activity_pushes_it_back(
    services: Services, at_now: ManualClock
) -> None:
    # Given: a deal idle for 3 days notifies its owner
    aid = define(
        services,
        auto.OpportunityIdleTrigger(days=3),
        auto.NotifyAction(recipient="owner", text="Idle"),
    )
    deal = create_opportunity(owner="alice")
    services.bus.execute(deal)  # 2027-01-04 09:00
    process = automations_process(services)
    process.catch_up()
    # When there is activity two days later (2027-01-06 09:00), due 2027-01-09 09:00
    at_now.set(NOW + timedelta(days=2))
    services.bus.execute(EditOpportunity(opportunity_id=deal.opportunity_id, title="Renamed"))
    process.catch_up()
    due = NOW + timedelta(days=5)
    [timer] = services.store.due_process_timers(PROCESS, datetime(2100, 1, 1, tzinfo=UTC), 10)
    assert timer.due_at == due
    # Then nothing fires at the first instant, nor a microsecond before the second
    assert process.tick(NOW + timedelta(days=3)) == 0
    assert process.tick(due - timedelta(microseconds=1)) == 0
    # And at it, once
    assert process.tick(due) == 1
    assert process.tick(due + timedelta(days=30)) == 0
    assert automations_process(services).tick(due + timedelta(days=30)) == 0
    state = automation(services, aid)
    assert state.runs == 1 and state.last_run is not None
    notices = [e for e in _all_events(services) if type(e).__name__ == "NotificationSent"]
    assert len(notices) == 1 and notices[0].by == f"system:automation:{aid}"


def test_closing_a_deal_drops_its_idle_timer(services: Services, at_now: ManualClock) -> None:
    define(
        services,
        auto.OpportunityIdleTrigger(days=1),
        auto.NotifyAction(recipient="owner", text="x"),
    )
    deal = create_opportunity(owner="alice")
    services.bus.execute(deal)
    process = automations_process(services)
    process.catch_up()
    assert services.store.due_process_timers(PROCESS, NOW + timedelta(days=2), 10)
    services.bus.execute(DeleteOpportunity(opportunity_id=deal.opportunity_id))
    process.catch_up()
    assert services.store.due_process_timers(PROCESS, NOW + timedelta(days=2), 10) == []


def test_a_manager_is_found_for_a_task(services: Services, at_now: ManualClock) -> None:
    services.bus.execute(AddUser(login="mona", role="manager"))
    services.bus.execute(ChangeUser(login="alice", manager="mona"))
    aid = define(
        services,
        auto.OpportunityCreatedTrigger(),
        auto.CreateTaskAction(title="Review", due_in_days=0, assignee="manager"),
    )
    deal = create_opportunity(owner="alice")
    services.bus.execute(deal)
    automations_process(services).catch_up()
    created = cause_of(services, deal.opportunity_id, 1)
    task = created_by_automation(services, aid, created, 0)
    assert isinstance(task, Task) and task.assignee == "mona"


def _all_events(services: Services) -> list[DomainEvent]:
    log = services.event_log
    return [log.decode(n) for n in log.read(0, 100_000)]


def test_a_won_deal_and_its_contract_falling_due(services: Services, at_now: ManualClock) -> None:
    # Given: a won deal notifies its owner; a contract due for renewal makes a task, and
    # gives its renewal deal to bob at 70 %
    won = define(
        services, auto.OpportunityWonTrigger(), auto.NotifyAction(recipient="owner", text="Won!")
    )
    due = define(
        services,
        auto.ContractRenewalDueTrigger(),
        auto.CreateTaskAction(title="Renew", due_in_days=7, assignee="owner"),
        auto.AssignAction(login="bob"),
        auto.SetFieldAction(field="probability", value=70),
    )
    deal, quote = create_opportunity(owner="alice"), uuid4()
    services.bus.execute(deal)
    services.bus.execute(CreateQuote(quote_id=quote, opportunity_id=deal.opportunity_id, name="Q"))
    services.bus.execute(
        AddQuoteItem(
            quote_id=quote,
            item_id=uuid4(),
            quantity=Decimal(1),
            name="Licence",
            unit_price=Decimal(100),
            kind="time_based",
            term_months=12,
        )
    )
    services.bus.execute(ActivateQuote(quote_id=quote))
    services.bus.execute(SellOpportunity(opportunity_id=deal.opportunity_id))
    # When the contracts process makes the contract and its renewal falls due
    contracts = services.contracts_process()
    contracts.catch_up()
    contracts.tick(NOW + timedelta(days=400))
    process = automations_process(services)
    process.catch_up()
    # Then the owner heard of the sale, and a task to renew is theirs
    sold = next(
        e
        for e in services.store.history(deal.opportunity_id)
        if type(e).__name__ == "OpportunitySold"
    )
    notice = created_by_automation(services, won, sold, 0)
    assert isinstance(notice, Notification) and notice.recipient == "alice"
    fell_due = [e for e in _all_events(services) if type(e).__name__ == "ContractRenewalDue"]
    assert len(fell_due) == 1
    task = created_by_automation(services, due, fell_due[0], 0)
    assert isinstance(task, Task) and task.assignee == "alice" and task.about_type == "contract"
    assert task.due == fell_due[0].recorded_at + timedelta(days=7)
    # And the renewal deal the contract opened is bob's, at 70 %
    renewal = services.store.load(fell_due[0].renewal_opportunity_id)
    assert isinstance(renewal, Opportunity)
    assert (renewal.owner, renewal.probability_override) == ("bob", 70)


def test_custom_fields_are_set_and_cleared_as_their_definitions_say(
    services: Services, at_now: ManualClock
) -> None:
    # Given two custom fields of deals, and a rule that sets one and clears the other
    for key, kind in (("budget", "number"), ("region", "text")):
        services.bus.execute(
            DefineCustomField(entity="opportunity", key=key, label=key.title(), type=kind)
        )
    define(
        services,
        auto.OpportunityCreatedTrigger(),
        auto.SetFieldAction(field="budget", value="1250.50"),
        auto.SetFieldAction(field="region", value=None),
    )
    # (a value of the wrong type is refused when the rule is defined, writing nothing)
    before = services.event_log.last_position()
    with pytest.raises(InvalidInput, match="budget"):
        define(
            services,
            auto.OpportunityCreatedTrigger(),
            auto.SetFieldAction(field="budget", value="many"),
        )
    assert services.event_log.last_position() == before
    deal = msgspec.structs.replace(create_opportunity(owner="alice"), custom={"region": "EU"})
    services.bus.execute(deal)
    # When the process catches up
    automations_process(services).catch_up()
    # Then the deal has the budget and no region
    opp = services.store.load(deal.opportunity_id)
    assert isinstance(opp, Opportunity)
    assert set(opp.custom) == {"budget"}
    assert Decimal(str(opp.custom["budget"])) == Decimal("1250.50")
