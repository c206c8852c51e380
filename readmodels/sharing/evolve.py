"""How sharing events (and a lead's split among users) change the sharing read model: a
new version of the record's row, begun the first time it is private, shared or split."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import msgspec

from domain.account import AccountSharingChanged
from domain.contact import ContactSharingChanged
from domain.events import DomainEvent
from domain.lead import LeadAssigned, LeadSharingChanged, LeadSplit
from domain.opportunity import OpportunitySharingChanged
from readmodels.sharing.tables import TABLE, SharingRow, joined
from readmodels.values import micros
from readmodels.versions import Versions


class SharingVersions(Versions[SharingRow]):
    """The current sharing of each record that has any."""

    def __init__(self) -> None:
        super().__init__(TABLE, SharingRow)

    def set(self, kind: str, e: DomainEvent, position: int, key: str, **changes: Any) -> None:
        if key in self.current:
            self.change(key, position, e.recorded_at, **changes)
            return
        row = SharingRow(
            id=key,
            valid_from=position,
            kind=kind,
            private=False,
            shared_with="",
            co_owners="",
            updated_at=micros(e.recorded_at),
        )
        self.begin(msgspec.structs.replace(row, **changes))


def _shared(kind: str) -> Callable[[SharingVersions, Any, int, str], None]:
    def handle(state: SharingVersions, e: Any, position: int, key: str) -> None:
        state.set(kind, e, position, key, private=e.private, shared_with=joined(e.shared_with))

    return handle


def _split(state: SharingVersions, e: LeadSplit, position: int, key: str) -> None:
    state.set("lead", e, position, key, co_owners=joined(sorted({s.user for s in e.shares})))


def _assigned(state: SharingVersions, e: LeadAssigned, position: int, key: str) -> None:
    # One owner again: no co-owners (a lead never split has no row to change).
    if key in state.current and state.current[key].co_owners:
        state.change(key, position, e.recorded_at, co_owners="")


HANDLERS: Mapping[type[DomainEvent], Callable[[SharingVersions, Any, int, str], None]] = {
    OpportunitySharingChanged: _shared("opportunity"),
    LeadSharingChanged: _shared("lead"),
    AccountSharingChanged: _shared("account"),
    ContactSharingChanged: _shared("contact"),
    LeadSplit: _split,
    LeadAssigned: _assigned,
}
