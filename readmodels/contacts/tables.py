"""The contacts read model's table: every version of every contact
(``readmodels.versions``); ``contacts_v5`` (a view) shows the current ones.

No personal data in the clear: ``personal_sealed`` is the event store's ciphertext of the
person, which only the contact's key opens (destroyed by anonymize).
"""

from __future__ import annotations

import msgspec

from readmodels.custom_values import CustomTexts
from readmodels.slice import Column, table
from readmodels.versions import versioned_table

CONTACT_VERSIONS = table("contact_versions")
CONTACTS = table("contacts")  # a view: the current version of each contact

TABLE = versioned_table(
    CONTACT_VERSIONS,
    CONTACTS,
    (
        Column("version", "int", True),  # the contact's aggregate version
        Column("title", "text"),
        Column("account_id", "id"),
        Column("owner", "text"),
        Column("lead_id", "id"),
        Column("anonymized", "flag", True),
        Column("created_at", "instant", True),
        Column("updated_at", "instant", True),
        Column("personal_sealed", "text"),
        # key → canonical text of each custom value (``readmodels.custom_values``).
        Column("custom", "json", True),
    ),
    indexes=(("owner",), ("account_id",)),
    search=("title",),  # the job title's words (never the person: that is sealed)
)


class ContactRow(msgspec.Struct, array_like=True):
    """One version of a contact (the table's columns but ``valid_to``).

    ``personal_sealed`` is the ciphertext the event store keeps of the latest
    ``ContactCreated`` / ``ContactPersonChanged`` (None once anonymized).
    """

    id: str
    valid_from: int  # the log position this version begins at
    version: int
    title: str | None
    account_id: str | None
    owner: str | None
    lead_id: str | None
    anonymized: bool
    created_at: int  # micros
    updated_at: int  # micros
    personal_sealed: str | None
    custom: CustomTexts  # key → canonical text (domain.custom_fields.text_of)
