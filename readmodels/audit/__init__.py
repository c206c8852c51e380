"""The audit read model: every event under who caused it (``by``), with its request and
cause, so the commands a user ran over a span of time are one indexed query
(``queries``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from domain.events import DomainEvent
from readmodels.audit.evolve import HANDLERS, AuditLog
from readmodels.audit.tables import AUDIT_EVENTS, TABLE
from readmodels.slice import Handler, Progress, Rows, Table, Write


class AuditSlice:
    name = "audit"
    tables: tuple[Table, ...] = (TABLE,)
    # Who, when, which aggregate: all in the envelope. So the two thirds of a log no chart
    # reads (quotes, activities) are decoded only that far (``readmodels.slice``).
    reads_bodies: Literal[False] = False

    @property
    def handlers(self) -> Mapping[type[DomainEvent], Handler[AuditLog]]:
        return HANDLERS

    def empty(self, progress: Progress) -> AuditLog:
        return AuditLog()

    def load(self, rows: Rows, progress: Progress) -> AuditLog:
        return AuditLog()  # rows are only ever added: nothing to load

    def flush(self, state: AuditLog) -> list[Write]:
        if not state.rows:
            return []
        written = Write(AUDIT_EVENTS, "insert", state.rows)
        state.rows = []
        return [written]


SLICE = AuditSlice()
