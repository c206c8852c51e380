"""How contact events change the contacts read model: each change a new version of the
contact's row. Personal data never reaches these rows: events carrying it arrive as
stored (their personal fields null), and a row keeps only ``sealed``, the ciphertext."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from domain import contact
from domain.events import DomainEvent
from readmodels.contacts.tables import TABLE, ContactRow
from readmodels.custom_values import changed_texts, texts
from readmodels.values import micros, text
from readmodels.versions import Versions


class ContactVersions(Versions[ContactRow]):
    """The current version of each contact."""

    def __init__(self) -> None:
        super().__init__(TABLE, ContactRow)

    def changed(self, e: DomainEvent, position: int, key: str, **changes: Any) -> None:
        self.change(key, position, e.recorded_at, version=e.originator_version, **changes)


def _created(state: ContactVersions, e: contact.ContactCreated, position: int, key: str) -> None:
    state.begin(
        ContactRow(
            id=key,
            valid_from=position,
            version=e.originator_version,
            title=e.title,
            account_id=text(e.account_id),
            owner=e.owner,
            lead_id=text(e.lead_id),
            anonymized=False,
            created_at=micros(e.occurred_at),
            updated_at=micros(e.recorded_at),
            personal_sealed=e.sealed,
            custom=texts(e.custom),
        )
    )


def _person(
    state: ContactVersions, e: contact.ContactPersonChanged, position: int, key: str
) -> None:
    state.changed(e, position, key, personal_sealed=e.sealed)


def _changed(state: ContactVersions, e: contact.ContactChanged, position: int, key: str) -> None:
    state.changed(e, position, key, title=e.title, account_id=text(e.account_id), owner=e.owner)


def _custom(
    state: ContactVersions, e: contact.ContactCustomFieldsChanged, position: int, key: str
) -> None:
    state.changed(e, position, key, custom=changed_texts(state[key].custom, e.custom))


def _shared(
    state: ContactVersions, e: contact.ContactSharingChanged, position: int, key: str
) -> None:
    state.changed(e, position, key)  # the sharing read model keeps who sees it


def _anonymized(
    state: ContactVersions, e: contact.ContactAnonymized, position: int, key: str
) -> None:
    state.changed(e, position, key, anonymized=True, personal_sealed=None)


HANDLERS: Mapping[type[DomainEvent], Callable[[ContactVersions, Any, int, str], None]] = {
    contact.ContactCreated: _created,
    contact.ContactPersonChanged: _person,
    contact.ContactChanged: _changed,
    contact.ContactSharingChanged: _shared,
    contact.ContactAnonymized: _anonymized,
    contact.ContactCustomFieldsChanged: _custom,
}
