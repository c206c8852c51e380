"""Accounts: the customers (and partners) opportunities are sold to.

An account is unique by its name (its id derives from it, see ``domain.ids``). Accounts
are seen by everyone who works, unless made private (``domain.sharing``): then only by
their owner (who made it, by default), those it is shared with, and the reading roles.
"""

from __future__ import annotations

from typing import ClassVar

from domain.aggregate import AggregateState, Event, evolve
from domain.custom_values import CustomChanges, CustomValues, merged
from domain.errors import InvalidInput


class Account(AggregateState, frozen=True, kw_only=True):
    kind: ClassVar[str] = "account"
    name: str
    partner: bool = False
    owner: str | None = None
    private: bool = False
    shared_with: tuple[str, ...] = ()
    # Values of the account custom fields (``domain.custom_fields``), canonical.
    custom: CustomValues = {}


class AccountCreated(Event[Account], frozen=True, kw_only=True):
    name: str
    partner: bool = False
    owner: str | None = None
    # Added after the first events were stored: those decode with none.
    custom: CustomValues = {}

    def apply(self, state: Account | None) -> Account:
        return Account(
            id=self.originator_id,
            name=self.name,
            partner=self.partner,
            owner=self.owner,
            custom=self.custom,
        )


class AccountSharingChanged(Event[Account], frozen=True, kw_only=True):
    """Made private or public, or shared with other users (``domain.sharing``)."""

    private: bool
    shared_with: tuple[str, ...]

    def apply(self, state: Account) -> Account:
        return evolve(state, private=self.private, shared_with=self.shared_with)


class AccountCustomFieldsChanged(Event[Account], frozen=True, kw_only=True):
    """Custom values set (key → the new value) or cleared (key → null)."""

    custom: CustomChanges

    def apply(self, state: Account) -> Account:
        return evolve(state, custom=merged(state.custom, self.custom))


AccountEvent = AccountCreated | AccountSharingChanged | AccountCustomFieldsChanged


def create(
    name: str,
    *,
    partner: bool = False,
    owner: str | None = None,
    custom: CustomValues | None = None,
) -> list[AccountEvent]:
    """``custom``: values checked against the definitions (``domain.custom_fields``)."""
    name = " ".join(name.split())
    if not name:
        raise InvalidInput("an account needs a name.")
    return [AccountCreated(name=name, partner=partner, owner=owner, custom=dict(custom or {}))]


def set_custom(account: Account, changes: CustomChanges) -> list[AccountEvent]:
    """Custom values checked against the definitions, only those that differ (None:
    cleared); none writes nothing."""
    return [AccountCustomFieldsChanged(custom=dict(changes))] if changes else []
