"""Request bodies of the task routes."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID, uuid4

from pydantic import Field

from adapters.http.bodies import Body, example
from adapters.http.fields import Instant, Label, Login, LongText, Name, Omittable, Uuid
from adapters.http.shapes import Whole
from commands.tasks import ChangeTask, CreateTask
from domain.task import MAX_REMIND_BEFORE_MINUTES

RemindMinutes = Annotated[int, Whole(0, MAX_REMIND_BEFORE_MINUTES)]
AboutType = Literal["opportunity", "lead", "contact", "account", "contract"]


class AboutBody(Body):
    """The record a task is about: one the caller sees."""

    type: AboutType
    id: Uuid


class TaskBody(Body):
    model_config = example(
        {
            "title": "Call back about the renewal",
            "due": "2027-03-10T15:00:00Z",
            "about": {"type": "opportunity", "id": "5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d"},
            "category": "call",
            "remind_before_minutes": 90,
        }
    )
    title: Name
    due: Instant
    assignee: Login | None = Field(None, description="A user; by default the one making it")
    about: AboutBody | None = None
    category: Label | None = None
    notes: LongText | None = None
    remind_before_minutes: RemindMinutes | None = Field(
        None, description="Remind the assignee this many minutes before it is due"
    )

    def to_command(self) -> CreateTask:
        return CreateTask(
            task_id=uuid4(),
            title=self.title,
            due=self.due,
            assignee=self.assignee,
            about_type=None if self.about is None else self.about.type,
            about_id=None if self.about is None else self.about.id,
            category=self.category,
            notes=self.notes,
            remind_before_minutes=self.remind_before_minutes,
        )


class TaskPatch(Body):
    """Send only what changes; null clears an optional field (``about``: the record)."""

    model_config = example({"due": "2027-03-11T09:00:00Z", "remind_before_minutes": 30})

    title: Omittable[Name] = None
    due: Omittable[Instant] = None
    assignee: Omittable[Login] = None
    about: AboutBody | None = None
    category: Label | None = None
    notes: LongText | None = None
    remind_before_minutes: RemindMinutes | None = None

    def to_command(self, task_id: UUID) -> ChangeTask:
        given: dict[str, Any] = self.model_dump(exclude_unset=True, exclude={"about"})
        if "about" in self.model_fields_set:
            about = self.about
            given["about_type"] = None if about is None else about.type
            given["about_id"] = None if about is None else about.id
        return ChangeTask(task_id=task_id, **given)
