"""The deals read model's tables, as analysts query them (docs/readmodels.md)."""

from __future__ import annotations

from readmodels.slice import Column, Table, table

OPPORTUNITIES = table("opportunities")
VISITS = table("opportunity_stage_visits")
STAGES = table("pipeline_stages")
RATES = table("exchange_rates")
TARGETS = table("sales_targets")
BASELINES = table("baselines")
CHECKPOINTS = table("read_model_checkpoints")

TABLES = (
    Table(
        OPPORTUNITIES,
        (
            Column("id", "id", True),
            Column("title", "text", True),
            Column("owner", "text", True),
            Column("account_id", "id", True),
            Column("partner_id", "id"),
            Column("pipeline_id", "id", True),
            Column("stage", "text", True),
            Column("status", "text", True),
            Column("amount", "numeric", True),
            Column("currency", "currency", True),
            Column("expected_close", "date", True),
            Column("probability_override", "int"),
            Column("forecast_category_override", "text"),
            Column("created_at", "instant", True),
            Column("stage_entered_at", "instant", True),
            Column("sold_at", "instant"),
            Column("closed_at", "instant"),
            Column("stage_visits", "int", True),
            Column("updated_position", "bigint", True),
            Column("created_position", "bigint", True),
        ),
        key=("id",),
        indexes=(("owner",), ("status", "expected_close")),
    ),
    Table(
        VISITS,
        (
            Column("opportunity_id", "id", True),
            Column("seq", "int", True),
            Column("stage", "text", True),
            Column("entered_at", "instant", True),
            Column("entered_position", "bigint", True),
            Column("left_at", "instant"),
            Column("left_position", "bigint"),
            Column("next_stage", "text"),
        ),
        key=("opportunity_id", "seq"),
    ),
    Table(
        STAGES,
        (
            Column("pipeline_id", "id", True),
            Column("stage", "text", True),
            Column("pipeline_name", "text", True),
            Column("name", "text", True),
            Column("ordinal", "int", True),
            Column("probability", "int", True),
            Column("forecast_category", "text", True),
            Column("closed", "text"),
            Column("removed", "flag", True),
        ),
        key=("pipeline_id", "stage"),
    ),
    Table(
        RATES,
        (
            Column("position", "bigint", True),
            Column("currency", "currency", True),
            Column("effective_from", "moment", True),
            Column("rate", "numeric", True),
        ),
        key=("position", "currency"),
    ),
    Table(
        TARGETS,
        (
            Column("owner", "text", True),
            Column("period", "text", True),
            Column("amount", "numeric", True),
        ),
        key=("owner", "period"),
    ),
    Table(
        BASELINES,
        (
            Column("id", "id", True),
            Column("name", "text", True),
            Column("chart", "text", True),
            Column("params", "json", True),
            Column("position", "bigint", True),
            Column("as_of", "moment", True),
            Column("sha256", "text", True),
            Column("taken_at", "moment", True),
            Column("deleted", "flag", True),
        ),
        key=("id",),
    ),
    Table(
        CHECKPOINTS,
        (
            Column("position", "bigint", True),
            # recorded_at: of the last event applied; recorded_max: the latest of all
            # applied so far (grows with the position). SQLite: micros since the epoch.
            Column("recorded_at", "stamp", True),
            Column("recorded_max", "stamp", True),
            Column("deals", "int", True),
            # NULL: a full checkpoint; else the position of the full one this delta patches
            # (0: the empty state before the first full checkpoint).
            Column("base", "bigint"),
            # ids of the deals created since the previous checkpoint (DealIdentities)
            Column("new_deals", "bytes", True),
            Column("state", "bytes", True),
        ),
        key=("position",),
        indexes=(("recorded_max",),),
    ),
)
