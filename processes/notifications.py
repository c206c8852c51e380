"""The notifications process manager: who is told what, and the tasks' reminders.

A decider with a loop, as the contracts process (``processes.contracts``) is:

- it follows the log from its own tracking record (``notifications``), only the events
  that may call for a notice (``TOPICS``), and turns each into the notifications it calls
  for (``notices_of``); they are sent in one save with the event's position
  (``SendNotifications``), so a crash and a restart notify no one twice and miss no one.
  A notification's id derives from its cause (the event's id), its recipient and kind;
- ``tick(now)`` fires every task reminder due by ``now`` (timers of process ``tasks``,
  kind ``reminder``): each firing is one save — the timer, ``TaskReminderSent`` and the
  assignee's ``task_reminder`` notification (``FireTaskReminder``) — which fails as a
  lost race when another worker fired it, so a reminder is sent once however many tick;
- time and the log are taken in one order: before reacting to an event it fires the
  reminders due by the moment that event was recorded, and ``tick`` fires nothing due
  after an event it has not reacted to yet.

The events it writes say ``by: system:notifications``, caused by the event it reacted to
(a reminder: by its own command). A decision the domain refuses is logged and passed
over; any other failure stops the loop for its supervisor to make a new one.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from datetime import datetime
from typing import get_args
from uuid import UUID

import structlog

from commands.bus import CommandBus
from commands.errors import Contention
from commands.notifications import NOTIFICATIONS_PROCESS, SendNotification, SendNotifications
from commands.ports import EventStore, ProcessTimer
from commands.tasks import REMINDER, TASKS_PROCESS, FireTaskReminder
from commands.unit_of_work import Actor
from domain.aggregate import AggregateState
from domain.contract import Contract, ContractRenewalDue
from domain.errors import DomainError
from domain.events import DomainEvent, event_id, topic_of
from domain.lead import Lead, LeadAssigned, LeadCreated, LeadSplit
from domain.notification import notification_id
from domain.opportunity import OpportunityCreated, OpportunityReassigned
from domain.task import Task, TaskCreated, TaskReassigned
from processes.following import FollowsTheLog
from readmodels.log import NotificationLog, events_between

log = structlog.get_logger("crmledger.notifications")
ACTOR = "system:notifications"

Trigger = (
    TaskCreated
    | TaskReassigned
    | LeadCreated
    | LeadAssigned
    | LeadSplit
    | OpportunityCreated
    | OpportunityReassigned
    | ContractRenewalDue
)
TOPICS = frozenset(topic_of(cls) for cls in get_args(Trigger))
Find = Callable[[UUID], AggregateState | None]


def _notice(
    event: DomainEvent, recipient: str, kind: str, text: str, about_type: str
) -> SendNotification:
    cause = str(event_id(event.originator_id, event.originator_version))
    return SendNotification(
        notification_id=notification_id(cause, recipient, kind),
        recipient=recipient,
        kind=kind,
        text=text,
        about_type=about_type,
        about_id=event.originator_id,
    )


def _given(event: DomainEvent, to: str | None) -> bool:
    """Given to someone by someone else (no one is told of what they did themselves)."""
    return to is not None and to != event.by


def _lead(find: Find, event: DomainEvent, company: str | None = None) -> str:
    if company is None:
        lead = find(event.originator_id)
        company = lead.company if isinstance(lead, Lead) else None
    return f"A lead{f' from {company}' if company else ''} was assigned to you."


def notices_of(event: DomainEvent, find: Find) -> list[SendNotification]:
    """The notifications ``event`` calls for (``find`` loads a record its text names)."""
    who = f" by {event.by}" if event.by else ""
    match event:
        case TaskCreated() | TaskReassigned() if _given(event, event.assignee):
            task = find(event.originator_id)
            title = task.title if isinstance(task, Task) else "a task"
            text = f"Task {title!r}, due {_due(task)}, was assigned to you{who}."
            return [_notice(event, event.assignee, "task_assigned", text, "task")]
        case LeadCreated() if _given(event, event.owner):
            assert event.owner is not None
            text = _lead(find, event, event.company)
            return [_notice(event, event.owner, "lead_assigned", text, "lead")]
        case LeadAssigned() if _given(event, event.owner):
            assert event.owner is not None
            return [_notice(event, event.owner, "lead_assigned", _lead(find, event), "lead")]
        case LeadSplit() if _given(event, event.shares[0].user):
            text = _lead(find, event)
            return [_notice(event, event.shares[0].user, "lead_assigned", text, "lead")]
        case OpportunityCreated() if (
            _given(event, event.owner) and event.renews_contract_id is None
        ):
            # A renewal's owner hears of it as the contract falling due (below).
            text = f"Opportunity {event.title!r} was assigned to you{who}."
            return [_notice(event, event.owner, "opportunity_assigned", text, "opportunity")]
        case OpportunityReassigned() if _given(event, event.owner):
            text = f"An opportunity was reassigned to you{who}, from {event.previous_owner}."
            return [_notice(event, event.owner, "opportunity_assigned", text, "opportunity")]
        case ContractRenewalDue():
            contract = find(event.originator_id)
            if not isinstance(contract, Contract):
                return []
            text = (
                f"Contract {contract.name!r} is due for renewal: it ends on {contract.end}; "
                f"renewal opportunity {event.renewal_opportunity_id} is open."
            )
            return [_notice(event, contract.owner, "contract_renewal_due", text, "contract")]
        case _:
            return []


def _due(task: AggregateState | None) -> str:
    return task.due.isoformat() if isinstance(task, Task) else "soon"


class NotificationsProcess(FollowsTheLog[ProcessTimer]):
    name = NOTIFICATIONS_PROCESS
    topics = TOPICS

    def __init__(self, log_: NotificationLog, bus: CommandBus, store: EventStore) -> None:
        self.log = log_
        self.bus = bus
        self.store = store
        self.refused = 0

    def catch_up(self, *, up_to: int | None = None) -> int:
        """Send what every event after the tracked position (up to ``up_to``) calls for;
        return how many saves that took."""
        tracked = self.position
        last = self.log.last_position()
        target = last if up_to is None else min(up_to, last)
        ran = 0
        for logged in events_between(self.log, tracked, target, TOPICS, window=1000):
            event = self.log.decode(logged)
            notices = notices_of(event, self.store.load)
            if not notices:
                continue
            # What fell due before this event was recorded happened before it.
            self._fire(self.log.recorded_at(logged))
            cause = str(event_id(event.originator_id, event.originator_version))
            command = SendNotifications(notifications=tuple(notices), position=logged.id)
            try:
                self.bus.execute(command, actor=Actor(by=ACTOR, causation_id=cause))
            except Contention:
                raise  # lost races, not a refusal: the restart tries again from the position
            except DomainError as refusal:  # deterministic: it would be refused again
                self.refused += 1
                log.error(
                    "notification_refused",
                    position=logged.id,
                    event_type=type(event).__name__,
                    aggregate_id=str(event.originator_id),
                    detail=refusal.detail,
                )
            ran += 1
        self._advance(target)
        return ran

    def _due(self, until: datetime, limit: int) -> list[ProcessTimer]:
        due = self.store.due_process_timers(TASKS_PROCESS, until, limit)
        return [t for t in due if t.kind == REMINDER]

    def _timer_key(self, timer: ProcessTimer) -> Hashable:
        return timer.subject_id

    def _fire_one(self, timer: ProcessTimer) -> bool:
        command = FireTaskReminder(task_id=timer.subject_id, due_at=timer.due_at)
        try:
            self.bus.execute(command, actor=Actor(by=ACTOR))
            return True
        except Contention:
            return False  # another worker holds or fired it: theirs (or the next tick's)
        except DomainError as refusal:
            log.error("task_reminder_refused", task_id=str(timer.subject_id), detail=refusal.detail)
            return False
