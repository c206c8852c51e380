"""The tasks read model: every version of every task (``tables``, ``evolve``), listed by
assignee, status, due instant and the record each is about, as of any position
(``queries``)."""

from readmodels.tasks.evolve import HANDLERS, Tasks
from readmodels.versions import VersionedSlice

SLICE = VersionedSlice("tasks", Tasks, HANDLERS)
