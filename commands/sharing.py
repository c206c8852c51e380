"""Making records private and sharing them (``domain.sharing`` has the rule).

Opportunities, leads and contacts take ``private`` and ``shared_with`` when they are created and
edited (their own commands call ``share`` here); accounts through ``ShareAccount``.
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

import msgspec

from commands.bus import Answer, Handlers
from commands.unit_of_work import UnitOfWork
from domain.account import Account, AccountSharingChanged, ensure_open
from domain.contact import Contact, ContactSharingChanged
from domain.lead import Lead, LeadSharingChanged
from domain.opportunity import Opportunity, OpportunitySharingChanged
from domain.sharing import Sharing, changed_sharing

Unset = msgspec.UnsetType
UNSET = msgspec.UNSET
Shareable = Opportunity | Lead | Account | Contact

SharingChanged = (
    OpportunitySharingChanged | LeadSharingChanged | AccountSharingChanged | ContactSharingChanged
)
_EVENTS: dict[type[Shareable], type[SharingChanged]] = {
    Opportunity: OpportunitySharingChanged,
    Lead: LeadSharingChanged,
    Account: AccountSharingChanged,
    Contact: ContactSharingChanged,
}


class ShareAccount(msgspec.Struct, frozen=True, kw_only=True):
    """PATCH an account's sharing: fields left UNSET stay."""

    account_id: UUID
    private: bool | Unset = UNSET
    shared_with: tuple[str, ...] | Unset = UNSET


def share(
    uow: UnitOfWork,
    record: Shareable,
    private: bool | Unset | None,
    shared_with: Sequence[str] | Unset | None,
) -> None:
    """Record the change of ``record``'s sharing, if there is one (None or UNSET for a
    field: keep it)."""
    _record(
        uow,
        type(record),
        record.id,
        Sharing(private=record.private, shared_with=record.shared_with),
        private=None if isinstance(private, Unset) else private,
        shared_with=None if isinstance(shared_with, Unset) else shared_with,
    )


def share_new(
    uow: UnitOfWork,
    kind: type[Shareable],
    record_id: UUID,
    private: bool,
    shared_with: Sequence[str],
) -> None:
    """The sharing a record is created with (after its creation event, in the same save)."""
    _record(uow, kind, record_id, Sharing(), private=private, shared_with=shared_with)


def _record(
    uow: UnitOfWork,
    kind: type[Shareable],
    record_id: UUID,
    current: Sharing,
    *,
    private: bool | None,
    shared_with: Sequence[str] | None,
) -> None:
    changed = changed_sharing(current, private=private, shared_with=shared_with)
    if changed is not None:
        event = _EVENTS[kind](private=changed.private, shared_with=changed.shared_with)
        uow.record(record_id, [event])


def share_account(uow: UnitOfWork, command: ShareAccount) -> Answer:
    account = uow.get(Account, command.account_id)
    ensure_open(account)
    share(uow, account, command.private, command.shared_with)
    return Answer(id=account.id)


HANDLERS: Handlers = {ShareAccount: share_account}
