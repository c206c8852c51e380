"""The records of a kind whose visibility is not their owner's alone, as of a position."""

from __future__ import annotations

from readmodels.sharing.tables import TABLE, SharingRow
from readmodels.slice import Rows
from readmodels.versions import current


def exceptions(rows: Rows, kind: str, position: int | None = None) -> dict[str, SharingRow]:
    """Record id → its sharing at ``position`` (None: now), for the records of ``kind``
    that are private, shared or split then."""
    found = current(rows, TABLE, SharingRow, position=position, clauses=["kind = ?"], params=[kind])
    return {row.id: row for row in found if row.private or row.shared_with or row.co_owners}


def sharing_of(rows: Rows, kind: str, record_id: str, position: int | None) -> SharingRow | None:
    """One record's sharing at ``position`` (None: now), if it ever had any by then."""
    found = current(
        rows,
        TABLE,
        SharingRow,
        position=position,
        clauses=["kind = ?", "id = ?"],
        params=[kind, rows.param("id", record_id)],
    )
    return found[0] if found else None
