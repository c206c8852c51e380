"""The accounts read model's table: every version of every account
(``readmodels.versions``); ``accounts_v5`` (a view) shows the current ones.

The address is kept in plain columns (``street`` … ``country``) so analysts and lists
filter on them with SQL; who may see an account is in the sharing read model.
"""

from __future__ import annotations

import msgspec

from readmodels.custom_values import CustomTexts
from readmodels.slice import Column, table
from readmodels.versions import versioned_table

ACCOUNT_VERSIONS = table("account_versions")
ACCOUNTS = table("accounts")  # a view: the current version of each account

TABLE = versioned_table(
    ACCOUNT_VERSIONS,
    ACCOUNTS,
    (
        Column("version", "int", True),  # the account's aggregate version
        Column("name", "text", True),
        Column("partner", "flag", True),
        Column("type", "text"),  # prospect, customer, partner, supplier
        Column("industry", "text"),
        Column("website", "text"),
        Column("vat_id", "text"),
        Column("street", "text"),
        Column("city", "text"),
        Column("postal_code", "text"),
        Column("region", "text"),
        Column("country", "text"),  # ISO 3166-1 alpha-2
        Column("parent_id", "id"),
        Column("owner", "text"),
        Column("merged_into", "id"),  # set once merged: the account its links follow
        Column("created_at", "instant", True),
        Column("updated_at", "instant", True),
        # key → canonical text of each custom value (``readmodels.custom_values``).
        Column("custom", "json", True),
    ),
    indexes=(("owner",), ("parent_id",), ("merged_into",), ("type",)),
    search=("name",),
)


class AccountRow(msgspec.Struct, array_like=True):
    """One version of an account (the table's columns but ``valid_to``)."""

    id: str
    valid_from: int  # the log position this version begins at
    version: int
    name: str
    partner: bool
    type: str | None
    industry: str | None
    website: str | None
    vat_id: str | None
    street: str | None
    city: str | None
    postal_code: str | None
    region: str | None
    country: str | None
    parent_id: str | None
    owner: str | None
    merged_into: str | None
    created_at: int  # micros
    updated_at: int  # micros
    custom: CustomTexts  # key → canonical text (domain.custom_values.text_of)
