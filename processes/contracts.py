"""The contracts process manager: sold opportunities become contracts; time moves them on.

A decider (events in, commands out) with a loop around it:

- it follows the event store's log (only the events it reacts to, by topic) and
  turns each into a command (``react``). It records its position in the same
  transaction as what it writes: the command's save carries the log position as
  the process's tracking record (eventsourcing's process recorder), with the
  contracts and their timers. A crash and a restart process every sale exactly
  once: either all of it was saved, position included, or none of it was;
- ``tick(now)`` fires every timer due by ``now``: each firing is a command
  whose save deletes the timer row (on PostgreSQL after ``SELECT … FOR UPDATE
  SKIP LOCKED``) with the contract's new event, so a timer fires once however
  many workers tick, and ticking to the same instant again fires nothing;
- time and the log are taken in one order, so the contracts do not depend on how
  far the process had got when it was told the time: before reacting to an
  event, it fires the timers due by the moment that event was recorded (a
  re-sale after an expiry finds the contract expired, even when the process was
  down meanwhile), and ``tick`` fires nothing due after an event it has not yet
  reacted to (those fire as ``catch_up`` reaches that event).

Failures: a decision the domain refuses is logged at error level and passed
over (it would be refused again); any other failure (PostgreSQL away) stops the
loop, and its supervisor (``adapters.supervision``) makes a new one after a
backoff, which goes on from the recorded position: a sale is never skipped.
"""

from __future__ import annotations

from collections.abc import Hashable
from datetime import datetime
from typing import assert_never, get_args

import structlog

from commands.bus import CommandBus
from commands.contracts import (
    CancelContractsOfOpportunity,
    FireContractTimer,
    RecordContractsOfSale,
)
from commands.errors import Contention
from commands.ports import CONTRACTS_PROCESS, EventStore
from commands.unit_of_work import Actor
from domain.contract import DEFAULT_RENEWAL_NOTICE_DAYS, Timer
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
from readmodels.log import NotificationLog, events_between

log = structlog.get_logger("crmledger.contracts")
# Who the events this process writes say did it; their cause is the event it reacted to.
ACTOR = "system:contracts"

# The events the process reacts to, and the commands it answers them with.
Trigger = OpportunitySold | OpportunityLost | OpportunityMarkedUnqualified | OpportunityDeleted
Reaction = RecordContractsOfSale | CancelContractsOfOpportunity

TOPICS = frozenset(topic_of(cls) for cls in get_args(Trigger))


def react(event: DomainEvent, position: int, *, notice_days: int) -> Reaction | None:
    """The command an event calls for, if any (None for an event it does not react to)."""
    if not isinstance(event, Trigger):
        return None
    match event:
        case OpportunitySold():
            return RecordContractsOfSale(sale=event, position=position, notice_days=notice_days)
        case OpportunityLost():
            return _cancel(event, position, "the opportunity was lost", notice_days)
        case OpportunityMarkedUnqualified():
            return _cancel(event, position, "the opportunity was disqualified", notice_days)
        case OpportunityDeleted():
            return _cancel(event, position, "the opportunity was deleted", notice_days)
        case _:
            assert_never(event)


def _cancel(
    closing: OpportunityEvent, position: int, reason: str, notice_days: int
) -> CancelContractsOfOpportunity:
    return CancelContractsOfOpportunity(
        opportunity_id=closing.originator_id,
        position=position,
        reason=reason,
        # Its recorded time, the order the process takes time in: a renewal withdrawn
        # after the renewed contract's end finds that contract expired.
        closed_at=closing.recorded_at,
        notice_days=notice_days,
    )


class ContractsProcess(FollowsTheLog[Timer]):
    name = CONTRACTS_PROCESS
    topics = TOPICS

    def __init__(
        self,
        log_: NotificationLog,
        bus: CommandBus,
        store: EventStore,
        *,
        notice_days: int = DEFAULT_RENEWAL_NOTICE_DAYS,
    ) -> None:
        self.log = log_
        self.bus = bus
        self.store = store
        self.notice_days = notice_days
        self.refused = 0

    def catch_up(self, *, up_to: int | None = None) -> int:
        """React to every event after the tracked position (up to ``up_to``); return how
        many commands were run."""
        tracked = self.position
        last = self.log.last_position()
        target = last if up_to is None else min(up_to, last)
        ran = 0
        for logged in events_between(self.log, tracked, target, TOPICS, window=1000):
            event = self.log.decode(logged)
            command = react(event, logged.id, notice_days=self.notice_days)
            if command is None:
                continue
            # What fell due before this event was recorded happened before it.
            self._fire(self.log.recorded_at(logged))
            cause = str(event_id(event.originator_id, event.originator_version))
            try:
                self.bus.execute(command, actor=Actor(by=ACTOR, causation_id=cause))
            except Contention:
                raise  # lost races, not a refusal: stop here; the restart tries it again
            except DomainError as refusal:  # deterministic: it would be refused again
                self.refused += 1
                log.error(
                    "contracts_event_refused",
                    position=logged.id,
                    event_type=type(event).__name__,
                    aggregate_id=str(event.originator_id),
                    detail=refusal.detail,
                )
            ran += 1
        self._advance(target)
        return ran

    def _due(self, until: datetime, limit: int) -> list[Timer]:
        return self.store.due_timers(until, limit)

    def _timer_key(self, timer: Timer) -> Hashable:
        return (timer.contract_id, timer.kind)

    def _fire_one(self, timer: Timer) -> bool:
        command = FireContractTimer(
            contract_id=timer.contract_id, kind=timer.kind, notice_days=self.notice_days
        )
        try:
            # A timer's command is its own cause.
            self.bus.execute(command, actor=Actor(by=ACTOR))
            return True
        except Contention:
            return False  # another worker holds or fired it: theirs (or the next tick's)
        except DomainError as refusal:
            log.error(
                "contract_timer_refused",
                contract_id=str(timer.contract_id),
                kind=timer.kind,
                detail=refusal.detail,
            )
            return False
