"""A contact's state: the person (personal data, sealed in the store), their title, the
account they work for, and who owns and sees the record."""

from __future__ import annotations

from typing import ClassVar
from uuid import UUID

import msgspec

from domain.aggregate import AggregateState
from domain.custom_values import CustomValues

__all__ = ["Contact", "Person"]


class Person(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """Who the contact is: personal data, stored only sealed under the contact's own key."""

    first_name: str
    last_name: str
    email: str | None = None
    phone: str | None = None


class Contact(AggregateState, frozen=True, kw_only=True):
    kind: ClassVar[str] = "contact"
    # None once anonymized (or read without the contact's key).
    person: Person | None
    title: str | None = None
    account_id: UUID | None = None
    owner: str | None = None
    # The lead this contact was made from by qualifying it, if any.
    lead_id: UUID | None = None
    anonymized: bool = False
    # Seen only by its owner, those it is shared with, and the reading roles (domain.sharing).
    private: bool = False
    shared_with: tuple[str, ...] = ()
    # Values of the contact custom fields (``domain.custom_fields``), canonical.
    custom: CustomValues = {}
