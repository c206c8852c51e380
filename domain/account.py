"""Accounts: the customers (and partners) opportunities are sold to.

An account is unique by its name (its id derives from it, see ``domain.ids``).
"""

from __future__ import annotations

from typing import ClassVar

from domain.aggregate import AggregateState
from domain.errors import InvalidInput
from domain.events import DomainEvent


class Account(AggregateState, frozen=True, kw_only=True):
    kind: ClassVar[str] = "account"
    name: str
    partner: bool = False


class AccountCreated(DomainEvent, frozen=True, kw_only=True):
    name: str
    partner: bool = False

    def apply(self, state: None) -> Account:
        return Account(id=self.originator_id, name=self.name, partner=self.partner)


def create(name: str, *, partner: bool = False) -> list[DomainEvent]:
    name = " ".join(name.split())
    if not name:
        raise InvalidInput("an account needs a name.")
    return [AccountCreated(name=name, partner=partner)]
