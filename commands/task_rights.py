"""Who may run the commands on tasks and notifications: their part of the one rights table
(``commands.authorization`` merges it and asks here; ``domain.access`` has the rules).

- A task is worked by the sales roles: seen and changed by its assignee, its creator,
  their managers and admins (``domain.task.task_access``); to anyone else it is not there
  (404). A task about a record needs that record to be one the caller sees, when it is
  made or moved to it.
- A notification is its recipient's alone: to anyone else, admins included, it is not
  there (404).
- Sending notifications and firing reminders are the processes' (``system``).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from commands import notifications, tasks
from commands.unit_of_work import UnitOfWork
from domain.access import Principal, Right
from domain.aggregate import AggregateState
from domain.errors import NotFound
from domain.task import Task

RIGHTS: dict[type[Any], Right] = {
    tasks.CreateTask: "work",
    tasks.ChangeTask: "work",
    tasks.CompleteTask: "work",
    tasks.ReopenTask: "work",
    tasks.FireTaskReminder: "system",
    notifications.SendNotification: "system",
    notifications.SendNotifications: "system",
    notifications.MarkNotificationRead: "recipient",
}
_ON_A_TASK = (tasks.ChangeTask, tasks.CompleteTask, tasks.ReopenTask)


def task_of(uow: UnitOfWork, command: object) -> AggregateState | None:
    """The task a command on a task addresses (404 when there is none); None for others."""
    if isinstance(command, _ON_A_TASK):
        return uow.get(Task, command.task_id)
    return None


def named_in_task(uow: UnitOfWork, command: object) -> list[AggregateState]:
    """The record a task is made about, or moved to: the caller must see it. Unknown ids
    (and kinds) are the handler's to refuse."""
    if not isinstance(command, tasks.CreateTask | tasks.ChangeTask):
        return []
    about_id = command.about_id
    if not isinstance(about_id, UUID) or not isinstance(command.about_type, str):
        return []
    kind = tasks.ABOUT.get(command.about_type)
    found = uow.find(about_id)
    return [found] if kind is not None and isinstance(found, kind) else []


def ensure_recipient(uow: UnitOfWork, principal: Principal, command: object) -> None:
    """A notification's command is its recipient's: for anyone else it is not there."""
    if not isinstance(command, notifications.MarkNotificationRead):
        return
    notification_id = command.notification_id
    if notifications.recipient_of(uow, notification_id) != principal.login:
        raise NotFound(f"there is no notification with id {notification_id}.")
