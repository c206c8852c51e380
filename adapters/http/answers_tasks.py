"""What the task and notification routes answer."""

from __future__ import annotations

from pydantic import Field

from adapters.http.answers import Answer, AsOf, Id, Instant
from domain.notification import AboutType as NoticeAboutType
from domain.notification import NotificationKind
from domain.task import AboutType, TaskStatus

NEXT_CURSOR = "Pass it as `cursor` for the next page; null: this is the last one"


class About(Answer):
    type: AboutType
    id: Id


class NoticeAbout(Answer):
    type: NoticeAboutType
    id: Id


class TaskFields(Answer):
    id: Id
    title: str
    due: Instant
    assignee: str
    created_by: str = Field(description="Who made it: a login, or a process (`system:…`)")
    about: About | None = Field(description="The record it is about, if any")
    category: str | None
    notes: str | None
    remind_before_minutes: int | None
    status: TaskStatus
    completed_at: Instant | None
    overdue: bool = Field(description="Open and due before now")


class TaskListed(TaskFields):
    created_at: Instant
    updated_at: Instant


class Task(TaskFields):
    version: int
    reminder_at: Instant | None = Field(description="When its reminder is due, if it asks one")


class Tasks(Answer):
    items: list[TaskListed]
    next_cursor: str | None = Field(description=NEXT_CURSOR)
    as_of: AsOf


class NotificationListed(Answer):
    id: Id
    kind: NotificationKind
    about: NoticeAbout | None = Field(description="The record it is about, if any")
    at: Instant = Field(description="When it was sent")
    read: bool
    text: str


class Notifications(Answer):
    items: list[NotificationListed]
    next_cursor: str | None = Field(description=NEXT_CURSOR)
    as_of: AsOf
