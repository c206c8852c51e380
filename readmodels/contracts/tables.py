"""The contracts read model's table: every version of every contract (``readmodels.versions``)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import msgspec

from readmodels.slice import Column, table
from readmodels.versions import versioned_table

CONTRACT_VERSIONS = table("contract_versions")
CONTRACTS = table("contracts")  # a view: the current version of each contract

TABLE = versioned_table(
    CONTRACT_VERSIONS,
    CONTRACTS,
    (
        Column("opportunity_id", "id", True),
        Column("account_id", "id", True),
        Column("owner", "text", True),
        Column("quote_item_id", "id", True),
        Column("product_id", "id"),
        Column("component_product_id", "id"),
        Column("name", "text", True),
        Column("kind", "text", True),
        Column("category", "text"),
        Column("value", "numeric", True),
        Column("currency", "currency", True),
        Column("start_date", "date", True),
        Column("end_date", "date"),
        Column("status", "text", True),
        Column("renewal_opportunity_id", "id"),
        Column("renews_contract_id", "id"),
        Column("updated_at", "instant", True),
    ),
    indexes=(("status", "end_date"), ("account_id",), ("opportunity_id",)),
)


class ContractRow(msgspec.Struct, array_like=True):
    """One version of a contract (the table's columns but ``valid_to``)."""

    id: str
    valid_from: int  # the log position this version begins at
    opportunity_id: str
    account_id: str
    owner: str
    quote_item_id: str
    product_id: str | None
    component_product_id: str | None
    name: str
    kind: str
    category: str | None
    value: Decimal
    currency: str
    start: date
    end: date | None
    status: str
    renewal_opportunity_id: str | None
    renews_contract_id: str | None
    updated_at: int  # micros
