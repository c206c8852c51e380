"""The automations process manager: events and time in, the automations' actions out.

It follows the log from its own tracking record (``automations``): the automations'
own events, the events that trigger them, and every opportunity event (activity, for
idle triggers). Which automations are enabled is folded from their events as the process
reads the log, so what it decides for an event is what was enabled at that event's
position, on a first run as on a replay after a crash.

- For an event that triggers enabled automations (or moves idle timers), one command
  (``RunAutomations``) runs every action of every automation it triggers, sets or drops
  the idle timers, and records the event's position, in one save: each triggering event's
  actions happen exactly once, across crashes and with two workers.
- Idle: an event of an open opportunity not written by an automation (re)sets, for every
  enabled idle automation, a timer (process ``automations``, subject the opportunity,
  kind ``idle:<automation id>``) at its recording + the automation's days; selling,
  losing, disqualifying or deleting it drops them. A due timer fires as one command whose
  save deletes the timer row (``FireIdleTimer``): once, however many workers tick.
  Time and the log are taken in one order, as the contracts process does: before an event,
  the timers due by its recording fire; ``tick`` fires none past an event not yet read.
- Chains: an event automations wrote at the maximum depth (``max_depth``) runs nothing;
  each automation it would have run records ``AutomationChainStopped`` and a warning is
  logged (``automation_chain_stopped``).

Failures: an action the domain refuses (the record was deleted meanwhile, the owner has no
manager) is logged and its automation passed over for that trigger (its run recorded with
the refusal, nothing of it written); any other failure stops the loop, and its supervisor
makes a new one, which goes on from the recorded position.
"""

from __future__ import annotations

from collections.abc import Hashable
from datetime import datetime, timedelta
from typing import Any, get_args
from uuid import UUID

import structlog

from commands.automation_runs import (
    PROCESS,
    ActionRefused,
    FireIdleTimer,
    RunAutomations,
    idle_kind,
)
from commands.bus import CommandBus
from commands.errors import Contention
from commands.ports import EventStore, ProcessTimer
from commands.unit_of_work import Actor
from domain import automation as rules
from domain.aggregate import replay
from domain.automation import Automation, AutomationEvent, OpportunityIdleTrigger
from domain.errors import DomainError
from domain.events import DomainEvent, event_id, topic_of
from domain.opportunity import (
    OpportunityDeleted,
    OpportunityEvent,
    OpportunityLost,
    OpportunityMarkedUnqualified,
    OpportunitySold,
)
from processes.following import FollowsTheLog
from readmodels.log import LoggedEvent, NotificationLog, events_between

log = structlog.get_logger("crmledger.automations")
ACTOR = "system:automations"
DEFAULT_MAX_DEPTH = 5
_AUTOMATION_TYPES: tuple[type[DomainEvent], ...] = get_args(AutomationEvent)
_OPPORTUNITY_TYPES: tuple[type[DomainEvent], ...] = get_args(OpportunityEvent)
_CLOSING = (OpportunitySold, OpportunityLost, OpportunityMarkedUnqualified, OpportunityDeleted)
AUTOMATION_TOPICS = frozenset(topic_of(cls) for cls in _AUTOMATION_TYPES)
TOPICS = AUTOMATION_TOPICS | frozenset(
    topic_of(cls)
    for cls in (*_OPPORTUNITY_TYPES, *(t for ts in rules.TRIGGERED_BY.values() for t in ts))
)


class AutomationsProcess(FollowsTheLog[ProcessTimer]):
    name = PROCESS
    topics = TOPICS

    def __init__(
        self,
        log_: NotificationLog,
        bus: CommandBus,
        store: EventStore,
        *,
        max_depth: int = DEFAULT_MAX_DEPTH,
    ) -> None:
        self.log = log_
        self.bus = bus
        self.store = store
        self.max_depth = max_depth
        # The automations as of ``_folded`` (a log position), folded from their events.
        self.known: dict[UUID, Automation] = {}
        self._folded = 0
        self.refused = 0

    def catch_up(self, *, up_to: int | None = None) -> int:
        """Act on every event after the tracked position (up to ``up_to``); return how
        many commands ran."""
        tracked = self.position
        self._fold_to(tracked)
        last = self.log.last_position()
        target = last if up_to is None else min(up_to, last)
        ran = 0
        for logged in events_between(self.log, tracked, target, TOPICS, window=1000):
            event = self.log.decode(logged)
            if isinstance(event, _AUTOMATION_TYPES):
                self._apply(event)
            else:
                ran += self._react(logged, event)
            self._folded = logged.id
        self._advance(target)
        return ran

    def _fold_to(self, position: int) -> None:
        """The automations as of ``position`` (another worker may have got further)."""
        if position < self._folded:
            self.known, self._folded = {}, 0
        for logged in events_between(self.log, self._folded, position, AUTOMATION_TOPICS):
            event = self.log.decode(logged)
            self._apply(event)
        self._folded = max(self._folded, position)

    def _apply(self, event: DomainEvent) -> None:
        state = replay(self.known.get(event.originator_id), [event])
        assert isinstance(state, Automation)
        self.known[state.id] = state

    def _react(self, logged: LoggedEvent, event: DomainEvent) -> int:
        enabled = [a for a in self.known.values() if a.enabled and not a.deleted]
        candidates = tuple(
            a for a in enabled if isinstance(event, rules.TRIGGERED_BY[type(a.trigger)])
        )
        timers, cancelled = self._idle(event, enabled)
        if not (candidates or timers or cancelled):
            return 0
        recorded = self.log.recorded_at(logged)
        self._fire(recorded)  # what fell due before this event happened before it
        cause = str(event_id(event.originator_id, event.originator_version))
        passed_over: dict[UUID, str] = {}
        while True:
            command = RunAutomations(
                cause=event,
                position=logged.id,
                automations=candidates,
                max_depth=self.max_depth,
                idle_timers=timers,
                idle_cancelled=cancelled,
                passed_over=dict(passed_over),
            )
            try:
                outcome = self.bus.execute(command, actor=Actor(by=ACTOR, causation_id=cause))
            except ActionRefused as refusal:  # deterministic: it would be refused again
                self._refused(refusal, cause, logged.id)
                passed_over[refusal.automation_id] = refusal.detail
                continue
            except Contention:
                raise  # lost races, not a refusal: the restart tries it again
            except DomainError as refusal:
                self._refused(refusal, cause, logged.id)
                return 1
            break
        self._log_chain_stops(outcome.extra.get("chain_stopped", []), cause, outcome_depth(event))
        return 1

    def _idle(
        self, event: DomainEvent, enabled: list[Automation]
    ) -> tuple[tuple[ProcessTimer, ...], tuple[UUID, ...]]:
        """The idle timers an opportunity's event sets, or those its closing drops."""
        if not isinstance(event, _OPPORTUNITY_TYPES):
            return (), ()
        if isinstance(event, _CLOSING):
            idle = [a.id for a in self.known.values() if _idle_days(a) is not None]
            return (), tuple(idle)
        if event.by is not None and event.by.startswith(rules.ACTOR_PREFIX):
            return (), ()  # an automation's write is not the owner's activity
        timers = []
        for automation in enabled:
            days = _idle_days(automation)
            if days is not None:
                timers.append(
                    ProcessTimer(
                        process=PROCESS,
                        subject_id=event.originator_id,
                        kind=idle_kind(automation.id),
                        due_at=event.recorded_at + timedelta(days=days),
                    )
                )
        return tuple(timers), ()

    def _log_chain_stops(self, stopped: list[str], cause: str, depth: int) -> None:
        for automation_id in stopped:
            log.warning(
                "automation_chain_stopped",
                automation_id=automation_id,
                cause=cause,
                depth=depth,
                max_depth=self.max_depth,
            )

    def _refused(self, refusal: DomainError, cause: str, position: int | None) -> None:
        self.refused += 1
        log.error(
            "automation_refused",
            automation_id=str(getattr(refusal, "automation_id", "")) or None,
            cause=cause,
            position=position,
            detail=refusal.detail,
        )

    @property
    def pending_topics(self) -> frozenset[str]:
        return TOPICS - AUTOMATION_TOPICS

    def _due(self, until: datetime, limit: int) -> list[ProcessTimer]:
        return self.store.due_process_timers(PROCESS, until, limit)

    def _timer_key(self, timer: ProcessTimer) -> Hashable:
        return (timer.subject_id, timer.kind)

    def _fire_one(self, timer: ProcessTimer) -> bool:
        automation_id = UUID(timer.kind.removeprefix("idle:"))
        passed_over: str | None = None
        while True:
            command = FireIdleTimer(
                opportunity_id=timer.subject_id,
                automation_id=automation_id,
                due_at=timer.due_at,
                automation=self.known.get(automation_id),
                passed_over=passed_over,
            )
            try:
                self.bus.execute(command, actor=Actor(by=ACTOR))
                return True
            except ActionRefused as refusal:
                self._refused(refusal, timer.kind, None)
                passed_over = refusal.detail
            except Contention:
                return False  # another worker holds or fired it
            except DomainError as refusal:
                self._refused(refusal, timer.kind, None)
                return False


def outcome_depth(event: DomainEvent) -> int:
    return rules.chain_of(event)[1]


def _idle_days(automation: Automation) -> int | None:
    trigger: Any = automation.trigger
    return trigger.days if isinstance(trigger, OpportunityIdleTrigger) else None
