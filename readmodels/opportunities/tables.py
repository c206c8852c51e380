"""The opportunities list's table: every version of every opportunity
(``readmodels.versions``); ``opportunity_list_v5`` (a view) shows the current ones.

The deals read model's ``opportunities_v5`` holds only the current state (its charts as of a
past position come from checkpoints); lists as of any position read these versions.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import msgspec

from readmodels.custom_values import CustomTexts
from readmodels.slice import Column, table
from readmodels.versions import versioned_table

OPPORTUNITY_VERSIONS = table("opportunity_versions")
OPPORTUNITY_LIST = table("opportunity_list")  # a view: the current version of each

TABLE = versioned_table(
    OPPORTUNITY_VERSIONS,
    OPPORTUNITY_LIST,
    (
        Column("title", "text", True),
        Column("owner", "text", True),
        Column("account_id", "id", True),
        Column("partner_id", "id"),
        Column("pipeline_id", "id", True),
        Column("stage", "text", True),
        Column("status", "text", True),  # open, won, lost, unqualified, deleted
        Column("amount", "numeric", True),
        Column("currency", "currency", True),
        Column("expected_close", "date", True),
        Column("probability", "int"),  # the deal's own, else None (its stage's)
        Column("forecast_category", "text"),  # likewise
        Column("created_at", "instant", True),
        Column("updated_at", "instant", True),
        # key → canonical text of each custom value (``readmodels.custom_values``).
        Column("custom", "json", True),
    ),
    indexes=(("owner",), ("account_id",), ("pipeline_id", "stage", "expected_close")),
    search=("title",),
)


class OpportunityRow(msgspec.Struct, array_like=True):
    """One version of an opportunity (the table's columns but ``valid_to``)."""

    id: str
    valid_from: int  # the log position this version begins at
    title: str
    owner: str
    account_id: str
    partner_id: str | None
    pipeline_id: str
    stage: str
    status: str
    amount: Decimal
    currency: str
    expected_close: date
    probability: int | None
    forecast_category: str | None
    created_at: int  # micros
    updated_at: int  # micros
    custom: CustomTexts  # key → canonical text (domain.custom_values.text_of)
