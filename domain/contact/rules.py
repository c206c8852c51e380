"""What may be done to a contact: each function checks the rules and decides the events.

Rules this module keeps:
- a contact is a person with a last name (the first name may be blank, as on a lead),
  an e-mail address if any that looks like one, a title, and the account they work for;
- a change writes only what differs; a change that changes nothing writes nothing;
- anonymize erases the person for good: every later command is refused, and the personal
  fields of every event of the contact read null (its key is destroyed).
"""

from __future__ import annotations

from uuid import UUID

import msgspec

from domain.contact.events import (
    ContactAnonymized,
    ContactChanged,
    ContactCreated,
    ContactCustomFieldsChanged,
    ContactEvent,
    ContactPersonChanged,
)
from domain.contact.state import Contact, Person
from domain.custom_values import CustomChanges, CustomValues
from domain.errors import InvalidInput, RuleViolated
from domain.personal_data import check_email, tidy_text

__all__ = ["anonymize", "change", "check_person", "create", "ensure_exists", "set_custom"]

Unset = msgspec.UnsetType
UNSET = msgspec.UNSET


def check_person(person: Person) -> Person:
    last_name = tidy_text(person.last_name)
    if last_name is None:
        raise InvalidInput("a contact needs a last name.")
    return Person(
        first_name=tidy_text(person.first_name) or "",
        last_name=last_name,
        email=check_email(person.email),
        phone=tidy_text(person.phone),
    )


def ensure_exists(contact: Contact) -> None:
    if contact.anonymized:
        raise RuleViolated(f"contact {contact.id} is anonymized; it cannot change any more.")


def create(
    *,
    person: Person,
    title: str | None = None,
    account_id: UUID | None = None,
    owner: str | None = None,
    lead_id: UUID | None = None,
    custom: CustomValues | None = None,
) -> list[ContactEvent]:
    """``custom``: values checked against the definitions (``domain.custom_fields``)."""
    return [
        ContactCreated(
            person=check_person(person),
            title=tidy_text(title),
            account_id=account_id,
            owner=tidy_text(owner),
            lead_id=lead_id,
            custom=dict(custom or {}),
        )
    ]


def change(
    contact: Contact,
    *,
    person: Person | None = None,
    title: str | Unset | None = UNSET,
    account_id: UUID | Unset | None = UNSET,
    owner: str | Unset | None = UNSET,
) -> list[ContactEvent]:
    """Change what is given (``person``: the whole person as it is to be); an unchanged
    value writes nothing."""
    ensure_exists(contact)
    events: list[ContactEvent] = []
    if person is not None:
        person = check_person(person)
        if person != contact.person:
            events.append(ContactPersonChanged(person=person))
    details = ContactChanged(
        title=contact.title if isinstance(title, Unset) else tidy_text(title),
        account_id=contact.account_id if isinstance(account_id, Unset) else account_id,
        owner=contact.owner if isinstance(owner, Unset) else tidy_text(owner),
    )
    if (details.title, details.account_id, details.owner) != (
        contact.title,
        contact.account_id,
        contact.owner,
    ):
        events.append(details)
    return events


def set_custom(contact: Contact, changes: CustomChanges) -> list[ContactEvent]:
    """Custom values checked against the definitions, only those that differ (None:
    cleared); none writes nothing."""
    ensure_exists(contact)
    return [ContactCustomFieldsChanged(custom=dict(changes))] if changes else []


def anonymize(contact: Contact) -> list[ContactEvent]:
    if contact.anonymized:
        raise RuleViolated(f"contact {contact.id} is already anonymized.")
    return [ContactAnonymized()]
