"""The quotes list's table: every version of every quote (``readmodels.versions``);
``quote_list_v5`` (a view) shows the current ones.

A quote's ``total`` is kept with what it is made of: ``lines`` (each item's line total,
by item id) and ``rounding``, so a changed item changes the total without the quote's
other items being read again.
"""

from __future__ import annotations

from decimal import Decimal

import msgspec

from readmodels.slice import Column, table
from readmodels.versions import versioned_table

QUOTE_VERSIONS = table("quote_versions")
QUOTE_LIST = table("quote_list")  # a view: the current version of each quote

TABLE = versioned_table(
    QUOTE_VERSIONS,
    QUOTE_LIST,
    (
        Column("opportunity_id", "id", True),
        Column("name", "text", True),
        Column("currency", "currency", True),
        Column("active", "flag", True),
        Column("locked", "flag", True),
        Column("deleted", "flag", True),
        Column("items", "int", True),  # how many
        Column("total", "numeric", True),
        Column("rounding", "numeric"),
        Column("lines", "json", True),  # item id -> its line total (decimal text)
        Column("created_at", "instant", True),
        Column("updated_at", "instant", True),
    ),
    indexes=(("opportunity_id",),),
    search=("name",),
)


class QuoteRow(msgspec.Struct, array_like=True):
    """One version of a quote (the table's columns but ``valid_to``)."""

    id: str
    valid_from: int  # the log position this version begins at
    opportunity_id: str
    name: str
    currency: str
    active: bool
    locked: bool
    deleted: bool
    items: int
    total: Decimal
    rounding: Decimal | None
    lines: dict[str, str]
    created_at: int  # micros
    updated_at: int  # micros
