"""Removing a pipeline's stage: a rule that spans the pipeline and the deals in the stage.

The stage goes (``StageRemoved``) and each of its open deals moves to ``move_to`` with an
event of its own (``OpportunityMovedFromRemovedStage``), all in one atomic save, each
aggregate with its version check: a deal that changed meanwhile fails the save, and the
command is retried on the new state. Commands that put a deal into a stage load the
pipeline and refuse a removed one (``Pipeline.stage``).
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from domain import opportunity as opp_rules
from domain import pipeline as pipeline_rules
from domain.events import DomainEvent
from domain.opportunity import Opportunity
from domain.pipeline import Pipeline

Changes = dict[UUID, Sequence[DomainEvent]]


def in_stage(pipeline: Pipeline, key: str, deals: Sequence[Opportunity]) -> list[Opportunity]:
    """Of ``deals``, the open ones in stage ``key`` of ``pipeline``."""
    return [
        deal
        for deal in deals
        if deal.pipeline_id == pipeline.id
        and not deal.deleted
        and deal.status == "open"
        and deal.stage == key
    ]


def remove_stage(
    pipeline: Pipeline, key: str, move_to: str | None, deals: Sequence[Opportunity]
) -> Changes:
    """Remove open stage ``key``; ``deals`` are those found in it (any that left it
    meanwhile are left alone). ``move_to`` is required when one is still there."""
    moving = in_stage(pipeline, key, deals)
    removed = pipeline_rules.remove_stage(pipeline, key, move_to, holds_deals=bool(moving))
    changes: Changes = {}
    for deal in moving:
        assert move_to is not None  # remove_stage refused it otherwise
        changes[deal.id] = opp_rules.move_off_removed_stage(deal, key, move_to)
    # The deals leave the stage first, then it goes: the log reads in that order.
    changes[pipeline.id] = removed
    return changes
