"""What one write of the read model holds, as plain data.

The projector turns what its slices changed since the last write into a
``ChangeSet`` — plain values, no database types — and the store writes it, with
the tracking position, in one transaction. Being plain data, a change set can be
handed to another process to write while the projector goes on (a rebuild;
``adapters.readmodel_writer``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from readmodels.bookkeeping import SETTINGS
from readmodels.slice import Progress, Write


@dataclass
class ChangeSet:
    position: int  # the tracking position this write records
    writes: list[Write] = field(default_factory=list)


def settings_write(progress: Progress) -> Write:
    """Where the tables stand, written with every change set."""
    return Write(
        SETTINGS,
        "upsert",
        [
            ("position", str(progress.position)),
            ("recorded_at", str(progress.recorded_at)),
            ("recorded_max", str(progress.recorded_max)),
        ],
    )
