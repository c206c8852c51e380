"""How pipeline events change the deals view's stage rows (``evolve`` lists them).

The rows of a pipeline are its stages as they stand at the view's position: names,
order (``ordinal``, 0 = first), probabilities and categories of that time. A removed
stage keeps its row, marked ``removed``: the visits of the past name it, and charts
leave it out. Checkpoints hold every row, so a view as of any position has the stages
of its time.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from domain.events import DomainEvent
from domain.pipeline import (
    PipelineCreated,
    StageAdded,
    StageForecastCategoryChanged,
    StageMoved,
    StageProbabilityChanged,
    StageRemoved,
    StageRenamed,
)
from readmodels.deals.view import DealsView, StageRow, stage_key


def _pipeline_created(view: DealsView, e: PipelineCreated, position: int, key: str) -> None:
    pipeline_id = key
    for ordinal, stage in enumerate(e.stages):
        key = stage_key(pipeline_id, stage.key)
        view.stages[key] = StageRow(
            pipeline_id=pipeline_id,
            pipeline_name=e.name,
            key=stage.key,
            name=stage.name,
            ordinal=ordinal,
            probability=stage.probability,
            forecast_category=stage.forecast_category,
            closed=stage.closed,
        )
        view.changes.stages.add(key)


def _probability_changed(
    view: DealsView, e: StageProbabilityChanged, position: int, key: str
) -> None:
    key = stage_key(key, e.stage)
    view.stages[key].probability = e.probability
    view.changes.stages.add(key)


def _category_changed(
    view: DealsView, e: StageForecastCategoryChanged, position: int, key: str
) -> None:
    key = stage_key(key, e.stage)
    view.stages[key].forecast_category = e.forecast_category
    view.changes.stages.add(key)


def _stages_of(view: DealsView, pipeline_id: str) -> list[StageRow]:
    """The pipeline's stages in order (removed ones not among them)."""
    return sorted(
        (s for s in view.stages.values() if s.pipeline_id == pipeline_id and not s.removed),
        key=lambda s: s.ordinal,
    )


def _renumber(view: DealsView, ordered: list[StageRow]) -> None:
    """Ordinals 0, 1, … in ``ordered``; rows whose ordinal changed are written."""
    for ordinal, row in enumerate(ordered):
        if row.ordinal != ordinal:
            row.ordinal = ordinal
            view.changes.stages.add(stage_key(row.pipeline_id, row.key))


def _stage_added(view: DealsView, e: StageAdded, position: int, key: str) -> None:
    ordered = _stages_of(view, key)
    stage = e.stage
    row = StageRow(
        pipeline_id=key,
        pipeline_name=ordered[0].pipeline_name,
        key=stage.key,
        name=stage.name,
        ordinal=len(ordered),
        probability=stage.probability,
        forecast_category=stage.forecast_category,
        closed=stage.closed,
    )
    view.stages[stage_key(key, stage.key)] = row
    view.changes.stages.add(stage_key(key, stage.key))
    place = next(i for i, s in enumerate(ordered) if s.key == e.after) + 1
    ordered.insert(place, row)
    _renumber(view, ordered)


def _stage_renamed(view: DealsView, e: StageRenamed, position: int, key: str) -> None:
    key = stage_key(key, e.stage)
    view.stages[key].name = e.name
    view.changes.stages.add(key)


def _stage_moved(view: DealsView, e: StageMoved, position: int, key: str) -> None:
    ordered = [s for s in _stages_of(view, key) if s.key != e.stage]
    ordered.insert(e.position - 1, view.stages[stage_key(key, e.stage)])
    _renumber(view, ordered)


def _stage_removed(view: DealsView, e: StageRemoved, position: int, key: str) -> None:
    removed = view.stages[stage_key(key, e.stage)]
    removed.removed = True
    view.changes.stages.add(stage_key(key, e.stage))
    _renumber(view, _stages_of(view, key))


STAGE_HANDLERS: Mapping[type[DomainEvent], Callable[[DealsView, Any, int, str], None]] = {
    PipelineCreated: _pipeline_created,
    StageProbabilityChanged: _probability_changed,
    StageForecastCategoryChanged: _category_changed,
    StageAdded: _stage_added,
    StageRenamed: _stage_renamed,
    StageMoved: _stage_moved,
    StageRemoved: _stage_removed,
}
