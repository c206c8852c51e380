"""Commands on accounts: change, merge; and how every command finds the account it names.

An account's creation is reference data (``commands.reference_data.CreateAccount``);
its sharing may also change alone (``commands.sharing.ShareAccount``).

A merged account is closed: a command that changes it is refused (409), but a command
that files a record under it (a deal, a contact, a lead, a parent of an account) is sent
on to the account it was merged into (``survivor``), so integrations that still hold the
old id or name keep working and what they file lands where the links went.
"""

from __future__ import annotations

from uuid import UUID

import msgspec

from commands.bus import Answer, Handlers
from commands.owners import ensure_active
from commands.sharing import share
from commands.unit_of_work import UnitOfWork
from domain import account as rules
from domain.account import Account, AccountType, Address, Details

Unset = msgspec.UnsetType
UNSET = msgspec.UNSET


class ChangeAccount(msgspec.Struct, frozen=True, kw_only=True):
    """PATCH: fields left UNSET stay as they are; None clears an optional one. The name
    does not change (the id derives from it): merge into the account of the new name."""

    account_id: UUID
    partner: bool | Unset = UNSET
    type: AccountType | Unset | None = UNSET
    industry: str | Unset | None = UNSET
    website: str | Unset | None = UNSET
    vat_id: str | Unset | None = UNSET
    address: Address | Unset | None = UNSET
    parent_id: UUID | Unset | None = UNSET
    owner: str | Unset = UNSET
    private: bool | Unset = UNSET
    shared_with: tuple[str, ...] | Unset = UNSET


class MergeAccount(msgspec.Struct, frozen=True, kw_only=True):
    """``account_id`` goes into ``into``: its links follow ``into`` from now on."""

    account_id: UUID
    into: UUID


def survivor(uow: UnitOfWork, account_id: UUID) -> Account:
    """The account ``account_id`` names, or the one it was merged into (the last of the
    chain); NotFound when there is none."""
    found = uow.get(Account, account_id)
    seen = {found.id}
    while found.merged_into is not None and found.merged_into not in seen:
        found = uow.get(Account, found.merged_into)
        seen.add(found.id)
    return found


def parents_of(uow: UnitOfWork, account_id: UUID | None) -> list[UUID]:
    """``account_id`` and its parents up to the top (each merged one as its survivor)."""
    chain: list[UUID] = []
    while account_id is not None and account_id not in chain:
        parent = survivor(uow, account_id)
        chain.append(parent.id)
        account_id = parent.parent_id
    return chain


def parent_for(uow: UnitOfWork, account_id: UUID, parent_id: UUID | None) -> UUID | None:
    """The parent ``account_id`` may have (a merged one: its survivor), checked against
    cycles; NotFound for an unknown one."""
    if parent_id is None:
        return None
    chain = parents_of(uow, parent_id)
    rules.check_parent(account_id, chain[0], chain[1:])
    return chain[0]


def change_account(uow: UnitOfWork, command: ChangeAccount) -> Answer:
    account = uow.get(Account, command.account_id)
    rules.ensure_open(account)  # asked first: a merged account is refused as such
    given = {
        name: value
        for name in rules.Details.__struct_fields__
        if (value := getattr(command, name)) is not UNSET
    }
    if not isinstance(command.owner, Unset):
        ensure_active(uow, command.owner)
    if "parent_id" in given and given["parent_id"] != account.parent_id:
        given["parent_id"] = parent_for(uow, account.id, given["parent_id"])
    details: Details = msgspec.structs.replace(account.details, **given)
    uow.record(account.id, rules.change(account, details))
    share(uow, account, command.private, command.shared_with)
    return Answer(id=account.id)


def merge_account(uow: UnitOfWork, command: MergeAccount) -> Answer:
    merged = uow.get(Account, command.account_id)
    into = uow.get(Account, command.into)
    uow.record_all(rules.merge(merged, into, parents_of(uow, into.parent_id)))
    return Answer(id=merged.id)


HANDLERS: Handlers = {ChangeAccount: change_account, MergeAccount: merge_account}
