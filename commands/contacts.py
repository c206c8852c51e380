"""Commands on contacts: create, change, anonymize.

A contact's person (names, e-mail, phone) is personal data: the store seals it under the
contact's own key, and ``AnonymizeContact`` destroys that key and the contact's e-mail and
phone digests in the same save. Qualifying a lead makes a contact too
(``commands.leads``, through ``record_new_contact``).
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

import msgspec

from commands.accounts import survivor
from commands.bus import Answer, Handlers
from commands.owners import ensure_active, owner_or_caller
from commands.sharing import share, share_new
from commands.unit_of_work import UnitOfWork
from domain import contact as rules
from domain.contact import Contact, ContactPersonChanged, Person
from domain.ids import contact_id_for_lead
from domain.lead import Lead
from domain.personal_data import contact_digests

Unset = msgspec.UnsetType
UNSET = msgspec.UNSET
PERSON_FIELDS = ("first_name", "last_name", "email", "phone")


class CreateContact(msgspec.Struct, frozen=True, kw_only=True):
    """``owner`` None: the user creating it (nobody for the processes and the operator)."""

    contact_id: UUID
    first_name: str
    last_name: str
    email: str | None = None
    phone: str | None = None
    title: str | None = None
    account_id: UUID | None = None
    owner: str | None = None
    private: bool = False
    shared_with: tuple[str, ...] = ()


class ChangeContact(msgspec.Struct, frozen=True, kw_only=True):
    """PATCH: fields left UNSET stay as they are; None clears an optional one."""

    contact_id: UUID
    first_name: str | Unset = UNSET
    last_name: str | Unset = UNSET
    email: str | Unset | None = UNSET
    phone: str | Unset | None = UNSET
    title: str | Unset | None = UNSET
    account_id: UUID | Unset | None = UNSET
    owner: str | Unset = UNSET
    private: bool | Unset = UNSET
    shared_with: tuple[str, ...] | Unset = UNSET


class AnonymizeContact(msgspec.Struct, frozen=True, kw_only=True):
    contact_id: UUID


# --- handlers ----------------------------------------------------------------------------


def _index(uow: UnitOfWork, contact_id: UUID, person: Person) -> None:
    """The digests of the person's e-mail and phone, kept for exact search."""
    uow.index_contact(
        contact_id, contact_digests(person.email, person.phone, uow.context.phone_region)
    )


def record_new_contact(
    uow: UnitOfWork,
    contact_id: UUID,
    person: Person,
    *,
    title: str | None = None,
    account_id: UUID | None = None,
    owner: str | None = None,
    lead_id: UUID | None = None,
    private: bool = False,
    shared_with: Sequence[str] = (),
) -> None:
    """Records a new contact (its creation, sharing and digests) in the unit of work's save;
    the caller has checked the id is new, the account exists and the owner is active."""
    events = rules.create(
        person=person, title=title, account_id=account_id, owner=owner, lead_id=lead_id
    )
    uow.record(contact_id, events)
    share_new(uow, Contact, contact_id, private, shared_with)
    created = uow.get(Contact, contact_id)
    assert created.person is not None  # just made from a person
    _index(uow, contact_id, created.person)


def contact_of_qualified_lead(uow: UnitOfWork, lead: Lead, account_id: UUID, owner: str) -> UUID:
    """The contact made of a qualified lead's person, at the deal's account, owned by the
    deal's owner, private and shared as the lead is: recorded in the qualification's save.
    Its id derives from the lead's (a lead is qualified once)."""
    contact_id = contact_id_for_lead(lead.id)
    uow.ensure_new(contact_id)
    assert lead.personal is not None  # an open lead is not anonymized
    person = lead.personal
    record_new_contact(
        uow,
        contact_id,
        Person(
            first_name=person.first_name,
            last_name=person.last_name,
            email=person.email,
            phone=person.phone,
        ),
        account_id=account_id,
        owner=owner,
        lead_id=lead.id,
        private=lead.private,
        shared_with=lead.shared_with,
    )
    return contact_id


def create_contact(uow: UnitOfWork, command: CreateContact) -> Answer:
    uow.ensure_new(command.contact_id)
    owner = owner_or_caller(uow, command.owner)
    account_id = None
    if command.account_id is not None:
        # An unknown account: 404; a merged one: the account it went into.
        account_id = survivor(uow, command.account_id).id
    record_new_contact(
        uow,
        command.contact_id,
        Person(
            first_name=command.first_name,
            last_name=command.last_name,
            email=command.email,
            phone=command.phone,
        ),
        title=command.title,
        account_id=account_id,
        owner=owner,
        private=command.private,
        shared_with=command.shared_with,
    )
    return Answer(id=command.contact_id, created=True)


def change_contact(uow: UnitOfWork, command: ChangeContact) -> Answer:
    contact = uow.get(Contact, command.contact_id)
    # Asked first: an anonymized contact is refused as such before its person is read (it
    # has none) and before the account and owner are looked up.
    rules.ensure_exists(contact)
    person = None
    given = {n: getattr(command, n) for n in PERSON_FIELDS if getattr(command, n) is not UNSET}
    if given:
        assert contact.person is not None  # anonymized contacts were refused above
        person = msgspec.structs.replace(contact.person, **given)
    account_id = command.account_id
    if isinstance(account_id, UUID) and account_id != contact.account_id:
        # An unknown account: 404; a merged one: the account it went into.
        account_id = survivor(uow, account_id).id
    if not isinstance(command.owner, Unset):
        ensure_active(uow, command.owner)
    events = rules.change(
        contact,
        person=person,
        title=command.title,
        account_id=account_id,
        owner=command.owner,
    )
    uow.record(contact.id, events)
    for event in events:
        if isinstance(event, ContactPersonChanged) and event.person is not None:
            _index(uow, contact.id, event.person)
    share(uow, contact, command.private, command.shared_with)
    return Answer(id=contact.id)


def anonymize_contact(uow: UnitOfWork, command: AnonymizeContact) -> Answer:
    contact = uow.get(Contact, command.contact_id)
    uow.record(contact.id, rules.anonymize(contact))
    # Its key and e-mail and phone digests go in the same transaction as the event.
    uow.erase_personal_data(contact.id)
    return Answer(id=contact.id)


HANDLERS: Handlers = {
    CreateContact: create_contact,
    ChangeContact: change_contact,
    AnonymizeContact: anonymize_contact,
}
