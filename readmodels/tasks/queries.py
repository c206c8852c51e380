"""The tasks as ``GET /tasks`` lists them: a user's, by assignee, status, lateness and the
record they are about, through the one keyset engine (``readmodels.lists``).

Who sees a task is its assignee, its creator, and their managers (``domain.task.
task_access``): a list's scope is the tasks assigned to or made by its owners (the user
and their team); those who see everything have no scope.
"""

from __future__ import annotations

from readmodels.lists import Clause, Filter, ListSpec, Visibility
from readmodels.scope import Scope
from readmodels.tasks.tables import TABLE, TaskRow

TASKS = ListSpec(
    name="tasks",
    table=TABLE,
    row=TaskRow,
    filters={
        "assignee": Filter("assignee"),
        "status": Filter("status"),
        "about_id": Filter("about_id"),
        "due_before": Filter("due", "to"),
    },
    sorts=("due", "created_at", "updated_at", "title"),
    default_sort="due",
    # Not asked: a task is seen by assignee or creator (``visible_tasks``).
    visibility=Visibility("task", owner="assignee"),
)


def visible_tasks(scope: Scope | None) -> list[Clause]:
    """The clause of the tasks ``scope`` sees: assigned to or made by one of its owners."""
    if scope is None:
        return []
    owners = sorted(scope.owners)
    marks = ", ".join("?" for _ in owners)
    return [(f"(assignee IN ({marks}) OR created_by IN ({marks}))", [*owners, *owners])]
