"""The commands a user ran: their events read by the index on (actor, recorded time,
position), gathered into one action per command.

A command's events are one save: they share its recording instant, its request and its
cause, and no other save of the same user comes between them in that order. So an
action is a run of the user's events with the same (recorded instant, request id,
causation id). Pages are keyset pages: ``after`` is the (recorded instant, position) of
the last event of the last action a page showed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, NamedTuple

from readmodels.audit.tables import AUDIT_EVENTS, TABLE, AuditRow
from readmodels.slice import Rows

# Events read per statement while gathering a page.
CHUNK = 500


class Span(NamedTuple):
    """Which of a user's events to read: recorded in [``since``, ``until``) (micros; None:
    unbounded), at or before log ``position`` (None: all)."""

    since: int | None = None
    until: int | None = None
    position: int | None = None


class Action(NamedTuple):
    """One command: its events, in log order."""

    events: list[AuditRow]

    @property
    def key(self) -> tuple[int, int]:
        """Where the next page starts after this action."""
        last = self.events[-1]
        return last.recorded_at, last.position


def _same_command(row: AuditRow, other: AuditRow) -> bool:
    if row.request_id is None and row.causation_id is None:
        return False  # nothing says which command wrote it: an action of its own
    return (row.recorded_at, row.request_id, row.causation_id) == (
        other.recorded_at,
        other.request_id,
        other.causation_id,
    )


def _events(
    rows: Rows, actor: str, span: Span, after: tuple[int, int] | None
) -> Iterator[AuditRow]:
    """The user's events in ``span`` after ``after``, in (recorded instant, position) order,
    read ``CHUNK`` at a time."""
    clauses = ["actor = ?"]
    params: list[Any] = [actor]
    if span.since is not None:
        clauses.append("recorded_at >= ?")
        params.append(rows.param("stamp", span.since))
    if span.until is not None:
        clauses.append("recorded_at < ?")
        params.append(rows.param("stamp", span.until))
    if span.position is not None:
        clauses.append("position <= ?")
        params.append(span.position)
    columns = ", ".join(TABLE.column_names)
    while True:
        keyset: list[str] = []
        more: list[Any] = []
        if after is not None:
            keyset.append("(recorded_at, position) > (?, ?)")
            more += [rows.param("stamp", after[0]), after[1]]
        found = rows.select(
            f"SELECT {columns} FROM {AUDIT_EVENTS} WHERE {' AND '.join(clauses + keyset)} "
            f"ORDER BY recorded_at, position LIMIT {CHUNK}",
            [*params, *more],
            TABLE.kinds(),
        )
        for values in found:
            yield AuditRow(*values)
        if len(found) < CHUNK:
            return
        last = AuditRow(*found[-1])
        after = (last.recorded_at, last.position)


def actions(
    rows: Rows, actor: str, span: Span, *, after: tuple[int, int] | None, limit: int
) -> tuple[list[Action], bool]:
    """Up to ``limit`` of ``actor``'s commands in ``span`` after ``after``, oldest first,
    and whether more follow."""
    found: list[Action] = []
    for row in _events(rows, actor, span, after):
        if found and _same_command(row, found[-1].events[-1]):
            found[-1].events.append(row)
            continue
        if len(found) == limit:
            return found, True
        found.append(Action([row]))
    return found, False
