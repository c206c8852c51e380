"""The automations process killed at random moments runs each trigger's actions once.

docs/design.md ("The automations process manager"): every action of every automation an
event triggers is saved with the process's position in one transaction, and an idle
timer fires in the transaction that deletes its row; so a crash at any point and a
restart lose nothing and do nothing twice. Here it is the real ``crmledger worker --role
automations`` process, killed with SIGKILL while it starts, while it works through a
backlog and while this process keeps writing; then ``crmledger tick --until``, killed
while it fires idle timers, and run again to its end.

The automations: on a new deal, a task for its owner and a notice (``created``); on a deal
entering ``proposal``, its probability set and a notice to bob (``proposal``); a deal idle
for a day notifies its owner (``idle``). The commands: new deals, moves between
``qualification`` and ``proposal``, renames. The test's clock starts 400 days from today,
so the workers, ticking on the real clock, fire no idle timer; the tick fires them all.

Then: for each automation, the triggering events it ran for are exactly those there are,
each once (its ``AutomationRan`` events and what it wrote, by cause); every deal was
noticed idle exactly once; the process's position is the log's; nothing was refused.
"""

from __future__ import annotations

import contextlib
import random
import time as timing
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from uuid import UUID, uuid4

import pytest

from adapters.automations_runner import automations_process
from adapters.bootstrap import Services
from adapters.clock import ManualClock
from commands.automation_runs import PROCESS
from commands.automations import DefineAutomation
from commands.opportunities import EditOpportunity, MoveOpportunityToStage
from domain import automation as auto
from domain.automation import AutomationRan
from domain.errors import RuleViolated
from domain.events import DomainEvent, event_id
from domain.opportunity import OpportunityCreated, OpportunityMovedToStage
from tests.builders import create_opportunity
from tests.identity import TEAM
from tests.processes import Background, Crmledger, Kill, environment, wait_until

pytestmark = pytest.mark.users(*TEAM)

START = datetime.combine(date.today() + timedelta(days=400), time(9), tzinfo=UTC)
UNTIL = (START + timedelta(days=60)).date().isoformat()
STARTUP_KILLS, MID_RUN_KILLS, CONCURRENT_KILLS, TICK_KILLS = 1, 3, 2, 2
OWNERS = ("alice", "bob", "carol")
IDLE = timedelta(days=1)


class Writer:
    def __init__(self, services: Services, clock: ManualClock, rng: random.Random) -> None:
        self.services, self.clock, self.rng = services, clock, rng
        self.deals: list[UUID] = []

    def write(self, count: int) -> None:
        for _ in range(count):
            self.clock.advance(timedelta(minutes=self.rng.randint(1, 20)))
            roll = self.rng.random()
            if roll < 0.35 or not self.deals:
                deal = create_opportunity(owner=self.rng.choice(OWNERS))
                self.services.bus.execute(deal)
                self.deals.append(deal.opportunity_id)
            elif roll < 0.8:
                deal_id = self.rng.choice(self.deals)
                stage = self.rng.choice(["qualification", "proposal"])
                # Already in that stage: refused, nothing written.
                with contextlib.suppress(RuleViolated):
                    self.services.bus.execute(
                        MoveOpportunityToStage(opportunity_id=deal_id, stage=stage)
                    )
            else:
                deal_id = self.rng.choice(self.deals)
                title = f"deal {self.rng.randint(1, 10**6)}"
                self.services.bus.execute(EditOpportunity(opportunity_id=deal_id, title=title))


def _process(services: Services, log_path: Path, *args: str) -> Crmledger:
    env = environment(
        services.settings, CRMLEDGER_PROJECTOR_POLL_SECONDS="0.02", CRMLEDGER_LOG_LEVEL="warning"
    )
    return Crmledger(list(args), env, log_path)


def all_events(services: Services) -> list[DomainEvent]:
    log = services.event_log
    return [log.decode(n) for n in log.read(0, 10_000_000)]


def idle_model(events: list[DomainEvent], deals: list[UUID]) -> Counter[UUID]:
    """How often each deal falls idle for a day (``IDLE``) by the tick's instant."""
    activity: dict[UUID, list[datetime]] = {deal: [] for deal in deals}
    for e in events:
        if e.originator_id in activity and not (e.by or "").startswith(auto.ACTOR_PREFIX):
            activity[e.originator_id].append(e.recorded_at)
    idle: Counter[UUID] = Counter()
    for deal, times in activity.items():
        for at, then in zip(times, [*times[1:], None], strict=True):
            if then is None or then >= at + IDLE:
                idle[deal] += 1
    return idle


def define(services: Services, trigger: auto.Trigger, *actions: auto.Action) -> UUID:
    automation_id = uuid4()
    services.bus.execute(
        DefineAutomation(automation_id=automation_id, name="r", trigger=trigger, actions=actions)
    )
    return automation_id


def test_an_automations_worker_killed_at_random_runs_each_trigger_once(
    services: Services, clock: ManualClock, tmp_path: Path
) -> None:
    rng = random.Random()
    seed = rng.randrange(2**32)
    rng.seed(seed)
    store = services.store
    clock.set(START)
    created = define(
        services,
        auto.OpportunityCreatedTrigger(),
        auto.CreateTaskAction(title="First call", due_in_days=1, assignee="owner"),
        auto.NotifyAction(recipient="owner", text="A new deal is yours."),
    )
    proposal = define(
        services,
        auto.StageEnteredTrigger(stage="proposal"),
        auto.SetFieldAction(field="probability", value=70),
        auto.NotifyAction(recipient="bob", text="A proposal."),
    )
    idle = define(
        services,
        auto.OpportunityIdleTrigger(days=1),
        auto.NotifyAction(recipient="owner", text="Idle"),
    )
    writer = Writer(services, clock, rng)
    log_path = tmp_path / "processes.log"
    kills: list[Kill] = []

    def tracked() -> int:
        return store.tracked_position(PROCESS)

    def past(position: int) -> Callable[[], bool]:
        return lambda: tracked() > position

    def worker() -> Crmledger:
        return _process(services, log_path, "worker", "--role", "automations")

    def kill(process: Crmledger, kind: str, before: int) -> None:
        assert process.running(), f"{kind}: the process exited:\n{process.output()}"
        end = store.max_position()
        process.kill()
        kills.append(Kill(kind, before, tracked(), end))

    # Given a burst of writes
    writer.write(100)
    # When a worker is killed while it starts, mid-backlog, and while writes go on
    for _ in range(STARTUP_KILLS):
        before, process = tracked(), worker()
        timing.sleep(rng.uniform(0.05, 0.5))
        kill(process, "startup", before)
    for _ in range(MID_RUN_KILLS):
        writer.write(80)
        before, process = tracked(), worker()
        wait_until(past(before), "an event was processed", process=process)
        timing.sleep(rng.uniform(0.0, 0.05))
        kill(process, "mid-catch-up", before)
    for _ in range(CONCURRENT_KILLS):
        with Background(lambda: writer.write(2), "writing"):
            before, process = tracked(), worker()
            wait_until(past(before), "an event was processed", process=process)
            timing.sleep(rng.uniform(0.05, 0.3))
            kill(process, "concurrent", before)
    # and a last worker catches up and is stopped cleanly
    process = worker()
    last = store.max_position()
    wait_until(past(last - 1), f"the worker reached {last}", process=process)
    assert process.terminate() == 0, process.output()
    # and `crmledger tick --until` is killed while it fires idle timers, then run to its end
    due_at = datetime.combine(date.fromisoformat(UNTIL), time(0), tzinfo=UTC)

    def due() -> int:
        return len(store.due_process_timers(PROCESS, due_at, 1_000_000))

    for _ in range(TICK_KILLS):
        pending = due()
        ticking = _process(services, log_path, "tick", "--until", UNTIL)
        wait_until(lambda p=pending: due() < p, "an idle timer fired", process=ticking)
        timing.sleep(rng.uniform(0.0, 0.05))
        if ticking.running():
            ticking.kill()
        kills.append(Kill("mid-tick", 0, pending - due(), pending))
    ticking = _process(services, log_path, "tick", "--until", UNTIL)
    assert ticking.wait() == 0, ticking.output()
    process = automations_process(services)
    while process.catch_up():
        pass

    # Then the kills landed mid-run
    context = f"seed {seed}, kills {kills}"
    assert sum(k.mid_run for k in kills if k.kind != "startup") >= 2, context
    events = all_events(services)
    ids = {str(event_id(e.originator_id, e.originator_version)): e for e in events}

    def caused(automation_id: UUID, kind: str) -> Counter[str]:
        by = auto.actor_of(automation_id)
        return Counter(
            e.causation_id or "" for e in events if e.by == by and type(e).__name__ == kind
        )

    # and each deal's creation made one task and one notice, and one run
    creations = {c for c, e in ids.items() if isinstance(e, OpportunityCreated)}
    for kind in ("TaskCreated", "NotificationSent", "AutomationRan"):
        made = caused(created, kind)
        assert set(made) == creations and set(made.values()) == {1}, (kind, context)
    # and each entry into proposal (by a user) one probability and one notice
    entries = {
        c
        for c, e in ids.items()
        if isinstance(e, OpportunityMovedToStage) and e.stage == "proposal"
    }
    assert entries, context
    for kind in ("NotificationSent", "AutomationRan"):
        made = caused(proposal, kind)
        assert set(made) == entries and set(made.values()) == {1}, (kind, context)
    # (the probability is set on the deal as it is when the process gets there: an entry
    # finding it set already by an earlier one's run sets nothing)
    made = caused(proposal, "OpportunityProbabilitySet")
    assert set(made) <= entries and set(made.values()) == {1}, context
    # (what automations wrote triggered nothing: no automation reacts to it)
    # and every idleness of a deal was noticed exactly once: after each activity (an
    # event of the deal no automation wrote) followed by none within the day
    runs = Counter(
        e.cause for e in events if isinstance(e, AutomationRan) and e.originator_id == idle
    )
    assert set(runs.values()) == {1}, context
    noticed = Counter(
        getattr(e, "about_id", None)
        for e in events
        if e.by == auto.actor_of(idle) and type(e).__name__ == "NotificationSent"
    )
    assert noticed == idle_model(events, writer.deals), context
    assert due() == 0
    # and the position is the log's; nothing was refused, nothing crashed
    assert tracked() == store.max_position(), context
    output = log_path.read_text(errors="replace")
    assert "automation_refused" not in output and "Traceback" not in output, context
