"""The opportunities list (``readmodels.lists``) and the board of a pipeline: its open
deals grouped by stage, each stage a list of its own."""

from __future__ import annotations

from typing import Any, NamedTuple

from readmodels.deals.tables import STAGES
from readmodels.lists import Filter, ListSpec, Visibility
from readmodels.opportunities.tables import TABLE, OpportunityRow
from readmodels.slice import Rows

OPPORTUNITIES = ListSpec(
    name="opportunities",
    table=TABLE,
    row=OpportunityRow,
    filters={
        "owner": Filter("owner"),
        "stage": Filter("stage"),
        "status": Filter("status"),
        "pipeline": Filter("pipeline_id"),
        "account_id": Filter("account_id"),
        "partner_id": Filter("partner_id"),
        "currency": Filter("currency"),
        "expected_close_from": Filter("expected_close", "from"),
        "expected_close_to": Filter("expected_close", "to"),
        "amount_from": Filter("amount", "from"),
        "amount_to": Filter("amount", "to"),
    },
    sorts=("title", "owner", "stage", "amount", "expected_close", "created_at", "updated_at"),
    default_sort="-updated_at",
    visibility=Visibility("opportunity", partner="partner_id"),
    always=("status <> 'deleted'",),
)

# The board's stages: each its open deals, soonest expected close first.
BOARD_SORT = "expected_close"


class BoardStage(NamedTuple):
    stage: str
    name: str
    probability: int


def open_stages(rows: Rows, pipeline_id: str) -> list[BoardStage]:
    """The open stages of a pipeline in their order (its current settings); none when
    there is no such pipeline."""
    found = rows.select(
        f"SELECT stage, name, probability FROM {STAGES} "
        "WHERE pipeline_id = ? AND closed IS NULL ORDER BY ordinal",
        [rows.param("id", pipeline_id)],
    )
    return [BoardStage(str(s), str(n), int(p)) for s, n, p in found]


def stage_clauses(rows: Rows, pipeline_id: str, stage: str) -> list[tuple[str, list[Any]]]:
    """The open deals of one stage of a pipeline."""
    return [
        ("pipeline_id = ?", [rows.param("id", pipeline_id)]),
        ("stage = ?", [stage]),
        ("status = 'open'", []),
    ]
