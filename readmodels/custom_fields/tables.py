"""The custom fields read model's table: every version of every definition
(``readmodels.versions``); ``custom_fields_v5`` (a view) shows the current ones, deleted
ones included (``deleted``)."""

from __future__ import annotations

import msgspec

from readmodels.slice import Column, table
from readmodels.versions import versioned_table

CUSTOM_FIELD_VERSIONS = table("custom_field_versions")
CUSTOM_FIELDS = table("custom_fields")  # a view: the current version of each definition

TABLE = versioned_table(
    CUSTOM_FIELD_VERSIONS,
    CUSTOM_FIELDS,
    (
        Column("entity", "text", True),  # opportunity, lead, contact, account
        Column("key", "text", True),
        Column("label", "text", True),
        Column("type", "text", True),
        Column("options", "text", True),  # a JSON list of the options ([] but for selects)
        Column("required", "flag", True),
        # A deleted field's last version: its key is never defined again.
        Column("deleted", "flag", True),
        Column("updated_at", "instant", True),
    ),
    indexes=(("entity", "key"),),
)


class DefinitionRow(msgspec.Struct, array_like=True):
    """One version of a definition (the table's columns but ``valid_to``)."""

    id: str
    valid_from: int  # the log position this version begins at
    entity: str
    key: str
    label: str
    type: str
    options: str  # JSON list
    required: bool
    deleted: bool
    updated_at: int  # micros
