"""The tasks read model's table: every version of every task (``readmodels.versions``)."""

from __future__ import annotations

import msgspec

from readmodels.slice import Column, table
from readmodels.versions import versioned_table

TASK_VERSIONS = table("task_versions")
TASKS = table("tasks")  # a view: the current version of each task

TABLE = versioned_table(
    TASK_VERSIONS,
    TASKS,
    (
        Column("title", "text", True),
        Column("due", "instant", True),
        Column("assignee", "text", True),
        Column("created_by", "text", True),
        Column("about_type", "text"),
        Column("about_id", "id"),
        Column("category", "text"),
        Column("notes", "text"),
        Column("remind_before_minutes", "int"),
        Column("status", "text", True),
        Column("completed_at", "instant"),
        Column("created_at", "instant", True),
        Column("updated_at", "instant", True),
    ),
    indexes=(("assignee", "status", "due"), ("created_by",), ("about_id",)),
)


class TaskRow(msgspec.Struct, array_like=True):
    """One version of a task (the table's columns but ``valid_to``)."""

    id: str
    valid_from: int  # the log position this version begins at
    title: str
    due: int  # micros
    assignee: str
    created_by: str
    about_type: str | None
    about_id: str | None
    category: str | None
    notes: str | None
    remind_before_minutes: int | None
    status: str
    completed_at: int | None  # micros
    created_at: int  # micros
    updated_at: int  # micros
