"""Request bodies of the routes that change a pipeline's stages or a deal's pipeline."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import msgspec
from pydantic import Field

from adapters.http.bodies import Body, OpenStageBody, example, given
from adapters.http.fields import Instant, Name, Omittable, StageKey
from adapters.http.shapes import Whole
from commands import pipelines as pipeline_cmd
from domain import limits
from domain.pipeline import Stage

StagePosition = Annotated[int, Whole(1, limits.STAGES)]


class StageAddBody(OpenStageBody):
    model_config = example(
        {
            "key": "demo",
            "name": "Demo",
            "probability": 40,
            "forecast_category": "pipeline",
            "after": "qualification",
        }
    )
    after: StageKey | None = Field(
        None, description="The open stage it follows; default: the last open stage"
    )

    def to_command(self, pipeline_id: UUID) -> pipeline_cmd.AddPipelineStage:
        stage = self.model_dump(exclude={"after"})
        return pipeline_cmd.AddPipelineStage(
            pipeline_id=pipeline_id, stage=msgspec.convert(stage, Stage), after=self.after
        )


class StagePatch(Body):
    """Send only what changes: a new name, or a new place among the open stages."""

    model_config = example(
        {"name": "Discovery", "position": 2},
        anyOf=[given("name", "string"), given("position", "integer")],
    )
    name: Omittable[Name] = None
    position: Omittable[StagePosition] = Field(
        None,
        description="1 = first; an open stage's place among the open stages, "
        "which always come before the closed ones",
    )

    def to_command(self, pipeline_id: UUID, stage: str) -> pipeline_cmd.ChangePipelineStage:
        fields = {
            name: getattr(self, name)
            for name in ("name", "position")
            if name in self.model_fields_set
        }
        return pipeline_cmd.ChangePipelineStage(pipeline_id=pipeline_id, stage=stage, **fields)


class OpportunityPipelineBody(Body):
    model_config = example({"pipeline": "partners", "stage": "registered"})
    pipeline: Name = Field(description="The pipeline's id or name")
    stage: StageKey | None = Field(None, description="An open stage of it; default: its first")
    effective_at: Instant | None = None

    def to_command(self, opportunity_id: UUID) -> pipeline_cmd.MoveOpportunityToPipeline:
        return pipeline_cmd.MoveOpportunityToPipeline(
            opportunity_id=opportunity_id,
            pipeline=self.pipeline,
            stage=self.stage,
            effective_at=self.effective_at,
        )
