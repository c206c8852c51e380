"""How account events change the accounts read model: each change a new version of the
account's row."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from domain import account
from domain.account import Address
from domain.events import DomainEvent
from readmodels.accounts.tables import TABLE, AccountRow
from readmodels.values import micros, text
from readmodels.versions import Versions


class AccountVersions(Versions[AccountRow]):
    """The current version of each account."""

    def __init__(self) -> None:
        super().__init__(TABLE, AccountRow)

    def changed(self, e: DomainEvent, position: int, key: str, **changes: Any) -> None:
        self.change(key, position, e.recorded_at, version=e.originator_version, **changes)


def _address(address: Address | None) -> dict[str, str | None]:
    given = address or Address()
    return {name: getattr(given, name) for name in Address.__struct_fields__}


def _details(e: account.AccountCreated | account.AccountChanged) -> dict[str, Any]:
    return {
        "partner": e.partner,
        "type": e.type,
        "industry": e.industry,
        "website": e.website,
        "vat_id": e.vat_id,
        **_address(e.address),
        "parent_id": text(e.parent_id),
        "owner": e.owner,
    }


def _created(state: AccountVersions, e: account.AccountCreated, position: int, key: str) -> None:
    state.begin(
        AccountRow(
            id=key,
            valid_from=position,
            version=e.originator_version,
            name=e.name,
            merged_into=None,
            created_at=micros(e.occurred_at),
            updated_at=micros(e.recorded_at),
            **_details(e),
        )
    )


def _changed(state: AccountVersions, e: account.AccountChanged, position: int, key: str) -> None:
    state.changed(e, position, key, **_details(e))


def _merged(state: AccountVersions, e: account.AccountMerged, position: int, key: str) -> None:
    state.changed(e, position, key, merged_into=text(e.into))


def _version(state: AccountVersions, e: DomainEvent, position: int, key: str) -> None:
    # The sharing read model keeps who sees it; the survivor's list of merged accounts is
    # the rows whose merged_into names it.
    state.changed(e, position, key)


HANDLERS: Mapping[type[DomainEvent], Callable[[AccountVersions, Any, int, str], None]] = {
    account.AccountCreated: _created,
    account.AccountChanged: _changed,
    account.AccountSharingChanged: _version,
    account.AccountMerged: _merged,
    account.AccountAbsorbed: _version,
}
