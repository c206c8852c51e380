"""What happens to a contact: its events, each knowing how it changes the state. Those
with personal data (``PersonalEvent``) name the fields the store seals."""

from __future__ import annotations

from typing import ClassVar
from uuid import UUID

from domain.aggregate import Event, created, evolve
from domain.contact.state import Contact, Person
from domain.custom_values import CustomChanges, CustomValues, merged
from domain.personal_data import PersonalEvent

__all__ = [
    "ContactAnonymized",
    "ContactChanged",
    "ContactCreated",
    "ContactCustomFieldsChanged",
    "ContactEvent",
    "ContactPersonChanged",
    "ContactSharingChanged",
]


class ContactCreated(PersonalEvent[Contact], frozen=True, kw_only=True):
    person: Person | None
    title: str | None = None
    account_id: UUID | None = None
    owner: str | None = None
    lead_id: UUID | None = None
    # Added after the first events were stored: those decode with none.
    custom: CustomValues = {}

    personal_fields: ClassVar[tuple[str, ...]] = ("person",)

    def apply(self, state: Contact | None) -> Contact:
        return created(Contact, self)


class ContactPersonChanged(PersonalEvent[Contact], frozen=True, kw_only=True):
    """The person's names, e-mail or phone changed: the whole person as it is now."""

    person: Person | None

    personal_fields: ClassVar[tuple[str, ...]] = ("person",)

    def apply(self, state: Contact) -> Contact:
        return evolve(state, person=self.person)


class ContactChanged(Event[Contact], frozen=True, kw_only=True):
    """The details that are not personal data, each as it is now."""

    title: str | None
    account_id: UUID | None
    owner: str | None

    def apply(self, state: Contact) -> Contact:
        return evolve(state, title=self.title, account_id=self.account_id, owner=self.owner)


class ContactCustomFieldsChanged(Event[Contact], frozen=True, kw_only=True):
    """Custom values set (key → the new value) or cleared (key → null)."""

    custom: CustomChanges

    def apply(self, state: Contact) -> Contact:
        return evolve(state, custom=merged(state.custom, self.custom))


class ContactSharingChanged(Event[Contact], frozen=True, kw_only=True):
    """Made private or public, or shared with other users (``domain.sharing``)."""

    private: bool
    shared_with: tuple[str, ...]

    def apply(self, state: Contact) -> Contact:
        return evolve(state, private=self.private, shared_with=self.shared_with)


class ContactAnonymized(Event[Contact], frozen=True, kw_only=True):
    """The person is erased: their key is destroyed in the same save as this event."""

    def apply(self, state: Contact) -> Contact:
        return evolve(state, person=None, anonymized=True)


ContactEvent = (
    ContactCreated
    | ContactPersonChanged
    | ContactChanged
    | ContactSharingChanged
    | ContactAnonymized
    | ContactCustomFieldsChanged
)
