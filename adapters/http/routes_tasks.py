"""Task routes: make, list (the tasks read model, as of any position), read, change,
complete, reopen.

``GET /tasks`` answers the list envelope (``listing``) over the tasks the caller sees —
assigned to or made by them or their team; everything for those who see everything —
filtered by assignee (``me``: the caller), status, lateness (``overdue``: open and due
before now) and the record they are about. ``GET /tasks/{id}`` reads the task itself.
"""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from adapters.http import bodies_tasks as bodies
from adapters.http.answers import ReadAnswer
from adapters.http.commanding import CommandHeaders, command_headers, run
from adapters.http.listing import PAGING, Paging, envelope_of, moment, owner_of, sort_doc
from adapters.http.paged import keyset_listing
from adapters.http.reading import reads
from adapters.http.routes_catalogue import load
from adapters.http.routes_readmodels import services_of
from adapters.http.scoping import scope
from commands import tasks as task_cmd
from domain.task import Task
from readmodels.lists import filter_clause
from readmodels.tasks.queries import TASKS, visible_tasks
from readmodels.tasks.tables import TaskRow
from readmodels.values import micros

router = APIRouter(tags=["tasks"])
Headers = Depends(command_headers)
ASSIGNEE = Query(None, description="a login, or `me` (the caller)")
OVERDUE = Query(None, description="true: only open tasks due before now")
ABOUT = Query(None, description="only the tasks about this record")


def _about(about_type: str | None, about_id: object) -> dict[str, Any] | None:
    return None if about_type is None else {"type": about_type, "id": str(about_id)}


def task_item(row: TaskRow, now: int) -> dict[str, Any]:
    return {
        "id": row.id,
        "title": row.title,
        "due": moment(row.due),
        "assignee": row.assignee,
        "created_by": row.created_by,
        "about": _about(row.about_type, row.about_id),
        "category": row.category,
        "notes": row.notes,
        "remind_before_minutes": row.remind_before_minutes,
        "status": row.status,
        "completed_at": None if row.completed_at is None else moment(row.completed_at),
        "overdue": row.status == "open" and row.due < now,
        "created_at": moment(row.created_at),
        "updated_at": moment(row.updated_at),
    }


def task_view(task: Task, now: int) -> dict[str, Any]:
    reminder = task.reminder_at
    return {
        "id": str(task.id),
        "version": task.version,
        "title": task.title,
        "due": task.due.isoformat(),
        "assignee": task.assignee,
        "created_by": task.created_by,
        "about": _about(task.about_type, task.about_id),
        "category": task.category,
        "notes": task.notes,
        "remind_before_minutes": task.remind_before_minutes,
        "reminder_at": None if reminder is None else reminder.isoformat(),
        "status": task.status,
        "completed_at": None if task.completed_at is None else task.completed_at.isoformat(),
        "overdue": task.status == "open" and micros(task.due) < now,
    }


@router.post("/tasks", status_code=201)
def create_task(
    request: Request, body: bodies.TaskBody, h: CommandHeaders = Headers
) -> JSONResponse:
    return run(request, h, body.to_command())


@router.get("/tasks", dependencies=[reads("tasks")])
def list_tasks(
    request: Request,
    assignee: str | None = ASSIGNEE,
    status: Literal["open", "done"] | None = None,
    overdue: bool | None = OVERDUE,
    about: UUID | None = ABOUT,
    sort: str | None = sort_doc(TASKS),
    paging: Paging = PAGING,
) -> ReadAnswer:
    """The tasks the caller sees (theirs, their team's), filtered and sorted (soonest due
    first by default)."""
    services = services_of(request)
    views = services.views
    now = micros(services.clock.now())
    where = [
        filter_clause(views, TASKS, name, value)
        for name, value in (
            ("assignee", owner_of(request, assignee)),
            ("status", "open" if overdue else status),
            ("about_id", about),
            # Due before now: at most a microsecond before it.
            ("due_before", now - 1 if overdue else None),
        )
        if value is not None
    ]
    listing = keyset_listing(
        request,
        TASKS,
        where,
        paging,
        sort=sort,
        visible=lambda position: visible_tasks(scope(request, "task", position)),
    )
    return envelope_of([task_item(row, now) for row in listing.rows], listing)


@router.get("/tasks/{task_id}", dependencies=[reads("a task")])
def get_task(request: Request, task_id: UUID) -> ReadAnswer:
    return task_view(load(request, Task, task_id), micros(services_of(request).clock.now()))


@router.patch("/tasks/{task_id}")
def change_task(
    request: Request, task_id: UUID, body: bodies.TaskPatch, h: CommandHeaders = Headers
) -> JSONResponse:
    return run(request, h, body.to_command(task_id), target=task_id)


@router.post("/tasks/{task_id}/complete")
def complete_task(request: Request, task_id: UUID, h: CommandHeaders = Headers) -> JSONResponse:
    return run(request, h, task_cmd.CompleteTask(task_id=task_id), target=task_id)


@router.post("/tasks/{task_id}/reopen")
def reopen_task(request: Request, task_id: UUID, h: CommandHeaders = Headers) -> JSONResponse:
    return run(request, h, task_cmd.ReopenTask(task_id=task_id), target=task_id)
