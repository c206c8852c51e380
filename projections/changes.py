"""What one write of the sales read model holds, as plain data.

The projector turns what changed in its view since the last write into a
``ChangeSet`` — plain values, no database types — and storage turns that into
rows and writes it, with the tracking position, in one transaction. Being plain
data, a change set can be handed to another process to write while the
projector goes on (a rebuild; ``adapters.readmodel_writer``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from projections.sales_projection import Dirty, VisitLeft
from readmodels.rows import (
    BaselineRow,
    CampaignOpportunity,
    CampaignRow,
    ContractRow,
    LeadRow,
    RateRow,
    SalesView,
    StageRow,
    TargetRow,
)


@dataclass(frozen=True)
class DeadLetter:
    position: int
    topic: str
    aggregate_id: UUID
    aggregate_version: int
    error: str


@dataclass(frozen=True)
class Checkpointed:
    """One checkpoint row (readmodels.rows.Checkpoint holds what ``state`` encodes)."""

    position: int
    recorded_at: int  # micros, of the last event applied
    recorded_max: int  # micros, the latest recording time of any event applied so far
    deals: int
    # The position of the full checkpoint a delta patches (0: the empty state); None if full.
    base: int | None
    new_deals: bytes  # identities of the deals created since the previous checkpoint
    state: bytes


# One opportunity row, unconverted (ids as text, amounts in minor units, dates as
# ordinals, instants in micros, NONE for none), in the column order of the table.
DealValues = tuple[Any, ...]


@dataclass
class ChangeSet:
    position: int  # the tracking position this write records
    recorded_at: int
    recorded_max: int
    reporting_currency: str
    deals: list[DealValues] = field(default_factory=list)
    # visits begun since the last write: [deal, seq, stage, entered_at, entered_position,
    # left_at, left_position, next_stage]
    entered: list[list[Any]] = field(default_factory=list)
    left: list[VisitLeft] = field(default_factory=list)  # visits begun earlier that ended
    stages: list[StageRow] = field(default_factory=list)
    rates: list[RateRow] = field(default_factory=list)
    targets: list[TargetRow] = field(default_factory=list)
    baselines: list[BaselineRow] = field(default_factory=list)
    checkpoints: list[Checkpointed] = field(default_factory=list)
    dead_letters: list[DeadLetter] = field(default_factory=list)
    # contract versions begun (with the position each ended at, if it did), and
    # (id, valid_from, valid_to) of versions begun in earlier writes that ended
    contract_versions: list[tuple[ContractRow, int | None]] = field(default_factory=list)
    contract_ends: list[tuple[str, int, int]] = field(default_factory=list)
    # the same for leads and campaigns (rows hold no personal data in the clear), and the
    # opportunities made for a campaign (insert only)
    lead_versions: list[tuple[LeadRow, int | None]] = field(default_factory=list)
    lead_ends: list[tuple[str, int, int]] = field(default_factory=list)
    campaign_versions: list[tuple[CampaignRow, int | None]] = field(default_factory=list)
    campaign_ends: list[tuple[str, int, int]] = field(default_factory=list)
    campaign_opportunities: list[CampaignOpportunity] = field(default_factory=list)


def changes_of(
    view: SalesView,
    dirty: Dirty,
    *,
    checkpoints: list[Checkpointed] | None = None,
    dead_letters: list[DeadLetter] | None = None,
) -> ChangeSet:
    """The change set of ``view`` for what ``dirty`` notes (copied: both may change next)."""
    deals, details = view.deals, view.details
    assert details is not None, "only a full view is written to the tables"
    return ChangeSet(
        position=view.position,
        recorded_at=view.recorded_at,
        recorded_max=view.recorded_max,
        reporting_currency=view.reporting_currency,
        deals=[
            (
                deals.ids[i],
                details.titles[i],
                deals.owners[i],
                deals.account_ids[i],
                deals.partner_ids[i],
                deals.pipeline_ids[i],
                deals.stages[i],
                deals.statuses[i],
                deals.amounts[i],
                deals.currencies[i],
                deals.expected_close[i],
                deals.probability_override[i],
                deals.category_override[i],
                details.created_at[i],
                details.stage_entered_at[i],
                deals.sold_at[i],
                details.closed_at[i],
                details.visits[i],
                details.updated_position[i],
                details.created_position[i],
            )
            for i in sorted(dirty.deals)
        ],
        entered=list(dirty.entered.values()),
        left=list(dirty.left),
        stages=[_copy(view.stages[key]) for key in sorted(dirty.stages)],
        rates=list(dirty.rates),
        targets=[view.targets[key] for key in sorted(dirty.targets)],
        baselines=[_copy(view.baselines[key]) for key in sorted(dirty.baselines)],
        checkpoints=list(checkpoints or ()),
        dead_letters=list(dead_letters or ()),
        contract_versions=[(row, ended) for row, ended in dirty.contract_versions.values()],
        contract_ends=list(dirty.contract_ends),
        lead_versions=[(row, ended) for row, ended in dirty.lead_versions.values()],
        lead_ends=list(dirty.lead_ends),
        campaign_versions=[(row, ended) for row, ended in dirty.campaign_versions.values()],
        campaign_ends=list(dirty.campaign_ends),
        campaign_opportunities=list(dirty.campaign_opportunities),
    )


def _copy(row: Any) -> Any:
    # Stage and baseline rows are changed in place by later events; targets and rates
    # are replaced, never changed.
    return type(row)(*(getattr(row, name) for name in row.__struct_fields__))
