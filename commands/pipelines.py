"""Commands that change a pipeline's stages (add, rename or move, remove), and that move
a deal to another pipeline."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec

from commands.bus import Answer, Handlers
from commands.opportunities import resolve_pipeline
from commands.unit_of_work import UnitOfWork
from domain import opportunity as opp_rules
from domain import pipeline, stage_removal
from domain.errors import InvalidInput
from domain.opportunity import Opportunity
from domain.pipeline import Pipeline, Stage

Unset = msgspec.UnsetType
UNSET = msgspec.UNSET


class AddPipelineStage(msgspec.Struct, frozen=True, kw_only=True):
    """An open stage after the open stage ``after`` (None: after the last open one)."""

    pipeline_id: UUID
    stage: Stage
    after: str | None = None


class ChangePipelineStage(msgspec.Struct, frozen=True, kw_only=True):
    """Rename a stage, or move an open one to ``position`` (1 = first) among the open ones."""

    pipeline_id: UUID
    stage: str
    name: str | Unset = UNSET
    position: int | Unset = UNSET


class RemovePipelineStage(msgspec.Struct, frozen=True, kw_only=True):
    """Remove an open stage; its open deals move to ``move_to``.

    ``opportunity_ids``: the deals in the stage as the caller found them (the HTTP route
    asks the deals read model once it has caught up with the log; other callers name
    them, ``()`` for none). Each is loaded and moved only if it is still open in the
    stage; its version is checked by the save. Not given (None), the command is refused:
    a removal that never looked for its deals would leave them in a stage that is gone.
    """

    pipeline_id: UUID
    stage: str
    move_to: str | None = None
    opportunity_ids: tuple[UUID, ...] | None = None


class MoveOpportunityToPipeline(msgspec.Struct, frozen=True, kw_only=True):
    """Into an open stage of another pipeline (by id or name); default stage: its first."""

    opportunity_id: UUID
    pipeline: str
    stage: str | None = None
    effective_at: datetime | None = None


def add_stage(uow: UnitOfWork, command: AddPipelineStage) -> Answer:
    state = uow.get(Pipeline, command.pipeline_id)
    uow.record(state.id, pipeline.add_stage(state, command.stage, command.after))
    return Answer(id=state.id)


def change_stage(uow: UnitOfWork, command: ChangePipelineStage) -> Answer:
    state = uow.get(Pipeline, command.pipeline_id)
    if isinstance(command.name, Unset) and isinstance(command.position, Unset):
        raise InvalidInput("give a name, a position, or both.")
    if not isinstance(command.name, Unset):
        uow.record(state.id, pipeline.rename_stage(state, command.stage, command.name))
    if not isinstance(command.position, Unset):
        state = uow.get(Pipeline, command.pipeline_id)
        uow.record(state.id, pipeline.move_stage(state, command.stage, command.position))
    return Answer(id=state.id)


def remove_stage(uow: UnitOfWork, command: RemovePipelineStage) -> Answer:
    state = uow.get(Pipeline, command.pipeline_id)
    if command.opportunity_ids is None:
        raise InvalidInput(
            "name the open deals in the stage (opportunity_ids; none: an empty list), "
            "so that they move with it."
        )
    deals = [
        found
        for deal_id in dict.fromkeys(command.opportunity_ids)
        if isinstance(found := uow.find(deal_id), Opportunity)
    ]
    uow.record_all(stage_removal.remove_stage(state, command.stage, command.move_to, deals))
    return Answer(id=state.id)


def move_to_pipeline(uow: UnitOfWork, command: MoveOpportunityToPipeline) -> Answer:
    opp = uow.get(Opportunity, command.opportunity_id)
    target = resolve_pipeline(uow, command.pipeline)
    uow.record(opp.id, opp_rules.move_to_pipeline(opp, target, command.stage))
    return Answer(id=opp.id)


HANDLERS: Handlers = {
    AddPipelineStage: add_stage,
    ChangePipelineStage: change_stage,
    RemovePipelineStage: remove_stage,
    MoveOpportunityToPipeline: move_to_pipeline,
}
