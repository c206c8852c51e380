"""How each task event changes the tasks read model: a new version of its row."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from domain import task
from domain.events import DomainEvent
from readmodels.tasks.tables import TABLE, TaskRow
from readmodels.values import micros, text
from readmodels.versions import Versions


class Tasks(Versions[TaskRow]):
    """The tasks read model's state: the current version of each task."""

    def __init__(self) -> None:
        super().__init__(TABLE, TaskRow)


def _created(state: Tasks, e: task.TaskCreated, position: int, key: str) -> None:
    state.begin(
        TaskRow(
            id=key,
            valid_from=position,
            title=e.title,
            due=micros(e.due),
            assignee=e.assignee,
            created_by=e.created_by,
            about_type=e.about_type,
            about_id=text(e.about_id),
            category=e.category,
            notes=e.notes,
            remind_before_minutes=e.remind_before_minutes,
            status="open",
            completed_at=None,
            created_at=micros(e.recorded_at),
            updated_at=micros(e.recorded_at),
        )
    )


def _changed(state: Tasks, e: task.TaskChanged, position: int, key: str) -> None:
    state.change(
        key,
        position,
        e.recorded_at,
        title=e.title,
        about_type=e.about_type,
        about_id=text(e.about_id),
        category=e.category,
        notes=e.notes,
    )


def _rescheduled(state: Tasks, e: task.TaskRescheduled, position: int, key: str) -> None:
    state.change(
        key,
        position,
        e.recorded_at,
        due=micros(e.due),
        remind_before_minutes=e.remind_before_minutes,
    )


def _reassigned(state: Tasks, e: task.TaskReassigned, position: int, key: str) -> None:
    state.change(key, position, e.recorded_at, assignee=e.assignee)


def _completed(state: Tasks, e: task.TaskCompleted, position: int, key: str) -> None:
    state.change(key, position, e.recorded_at, status="done", completed_at=micros(e.completed_at))


def _reopened(state: Tasks, e: task.TaskReopened, position: int, key: str) -> None:
    state.change(key, position, e.recorded_at, status="open", completed_at=None)


HANDLERS: Mapping[type[DomainEvent], Callable[[Tasks, Any, int, str], None]] = {
    task.TaskCreated: _created,
    task.TaskChanged: _changed,
    task.TaskRescheduled: _rescheduled,
    task.TaskReassigned: _reassigned,
    task.TaskCompleted: _completed,
    task.TaskReopened: _reopened,
}
