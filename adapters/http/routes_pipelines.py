"""Routes that change a pipeline's stages, and that move a deal to another pipeline.

Removing a stage moves its open deals to another stage, each with an event, in the save
that removes it. The deals are found in the deals read model once it has caught up with
the log's end; each is then loaded from the store and moved only if it is still open in
the stage. Commands that put a deal into a stage refuse a removed one.
"""

from __future__ import annotations

from uuid import UUID

import msgspec
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from adapters.bootstrap import Services
from adapters.http import bodies_pipelines as bodies
from adapters.http.commanding import CommandHeaders, command_headers, run
from adapters.http.fields import StageKey
from adapters.http.routes_catalogue import pipeline_id
from commands.authorization import ensure_may_run
from commands.pipelines import RemovePipelineStage
from domain.pipeline import Pipeline
from readmodels.deals.view import DealsView

router = APIRouter(tags=["catalogue"])
Headers = Depends(command_headers)
MOVE_TO = Query(
    None,
    description="The open stage of the same pipeline its open deals move to; "
    "required when it holds any",
)


@router.post("/pipelines/{pipeline}/stages")
def add_stage(
    request: Request, pipeline: str, body: bodies.StageAddBody, h: CommandHeaders = Headers
) -> JSONResponse:
    """An open stage, after ``after`` (default: after the last open stage)."""
    target = pipeline_id(pipeline)
    return run(request, h, body.to_command(target), target=target)


@router.patch("/pipelines/{pipeline}/stages/{stage}")
def change_stage(
    request: Request,
    pipeline: str,
    stage: str,
    body: bodies.StagePatch,
    h: CommandHeaders = Headers,
) -> JSONResponse:
    """Rename a stage, or move an open stage among the open ones (1 = first)."""
    target = pipeline_id(pipeline)
    return run(request, h, body.to_command(target, stage), target=target)


@router.delete("/pipelines/{pipeline}/stages/{stage}")
def remove_stage(
    request: Request,
    pipeline: str,
    stage: str,
    move_to: StageKey | None = MOVE_TO,
    h: CommandHeaders = Headers,
) -> JSONResponse:
    """Remove an open stage (not the last); its open deals move to ``move_to``."""
    target = pipeline_id(pipeline)
    command = RemovePipelineStage(pipeline_id=target, stage=stage, move_to=move_to)
    # Refused before the deals are looked for: a caller who may not remove waits for nothing.
    ensure_may_run(request.state.principal, command)
    services: Services = request.app.state.services
    state = services.store.load(target)
    found: tuple[UUID, ...] = ()
    if isinstance(state, Pipeline) and any(s.key == stage for s in state.open_stages):
        # Only a removal that can go ahead looks for deals (the bus refuses the others).
        found = _open_deals_in(services, target, stage)
    command = msgspec.structs.replace(command, opportunity_ids=found)
    return run(request, h, command, target=target)


@router.post("/opportunities/{opportunity_id}/pipeline", tags=["opportunities"])
def move_to_pipeline(
    request: Request,
    opportunity_id: UUID,
    body: bodies.OpportunityPipelineBody,
    h: CommandHeaders = Headers,
) -> JSONResponse:
    """Into an open stage of another pipeline (default: its first)."""
    return run(request, h, body.to_command(opportunity_id), target=opportunity_id)


def _open_deals_in(services: Services, pipeline: UUID, stage: str) -> tuple[UUID, ...]:
    """The open deals in ``stage`` of ``pipeline``, as the deals read model holds them once
    it has processed the whole log (503 when it cannot catch up)."""
    queries = services.queries
    queries.wait_for(services.store.max_position())
    wanted = str(pipeline)

    def find(view: DealsView, _: object) -> tuple[UUID, ...]:
        deals = view.deals
        return tuple(
            UUID(deal_id)
            for deal_id, in_pipeline, in_stage, status in zip(
                deals.ids, deals.pipeline_ids, deals.stages, deals.statuses, strict=True
            )
            if in_pipeline == wanted and in_stage == stage and status == "open"
        )

    return queries.with_view(queries.resolve(None), find)
