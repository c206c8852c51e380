"""The contracts slice: every version of every contract, queried as of any position."""

from __future__ import annotations

from collections.abc import Mapping

from domain.events import DomainEvent
from readmodels.contracts.evolve import HANDLERS, Contracts
from readmodels.contracts.tables import TABLE
from readmodels.slice import Handler, Progress, Rows, Table, Write


class ContractsSlice:
    name = "contracts"
    tables: tuple[Table, ...] = (TABLE,)

    @property
    def handlers(self) -> Mapping[type[DomainEvent], Handler[Contracts]]:
        return HANDLERS

    def empty(self, progress: Progress) -> Contracts:
        return Contracts()

    def load(self, rows: Rows, progress: Progress) -> Contracts:
        state = Contracts()
        state.load(rows)
        return state

    def flush(self, state: Contracts) -> list[Write]:
        return state.flush()
