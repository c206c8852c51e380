"""Accounts: the customers (and partners) opportunities are sold to.

An account is unique by its name (its id derives from it, see ``domain.ids``).
"""

from __future__ import annotations

from typing import ClassVar

from domain.aggregate import AggregateState, Event
from domain.errors import InvalidInput


class Account(AggregateState, frozen=True, kw_only=True):
    kind: ClassVar[str] = "account"
    name: str
    partner: bool = False


class AccountCreated(Event[Account], frozen=True, kw_only=True):
    name: str
    partner: bool = False

    def apply(self, state: Account | None) -> Account:
        return Account(id=self.originator_id, name=self.name, partner=self.partner)


AccountEvent = AccountCreated


def create(name: str, *, partner: bool = False) -> list[AccountEvent]:
    name = " ".join(name.split())
    if not name:
        raise InvalidInput("an account needs a name.")
    return [AccountCreated(name=name, partner=partner)]
