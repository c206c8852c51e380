"""Pipelines: named, ordered stages with a default probability and forecast category.

Stage settings change over time, and those changes are events, so a chart of
the past uses the probabilities and categories of its time.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import msgspec

from domain.aggregate import AggregateState, Event, evolve
from domain.errors import InvalidInput, NotFound, RuleViolated

ForecastCategory = Literal["pipeline", "best_case", "commit", "omitted"]
StageCategory = Literal["pipeline", "best_case", "commit", "omitted", "closed"]
ClosedAs = Literal["won", "lost", "unqualified"]
FORECAST_CATEGORIES: tuple[ForecastCategory, ...] = ("pipeline", "best_case", "commit", "omitted")


class Stage(msgspec.Struct, frozen=True, kw_only=True):
    key: str
    name: str
    probability: int
    forecast_category: StageCategory
    closed: ClosedAs | None = None

    @property
    def is_open(self) -> bool:
        return self.closed is None


class Pipeline(AggregateState, frozen=True, kw_only=True):
    kind: ClassVar[str] = "pipeline"
    name: str
    stages: tuple[Stage, ...]

    def stage(self, key: str) -> Stage:
        for stage in self.stages:
            if stage.key == key:
                return stage
        known = ", ".join(s.key for s in self.stages)
        raise NotFound(f"pipeline {self.name!r} has no stage {key!r} (stages: {known}).")

    @property
    def open_stages(self) -> tuple[Stage, ...]:
        return tuple(s for s in self.stages if s.is_open)

    def closed_stage(self, closed_as: ClosedAs) -> Stage:
        for stage in self.stages:
            if stage.closed == closed_as:
                return stage
        raise InvalidInput(f"pipeline {self.name!r} has no {closed_as} stage.")

    def position(self, key: str) -> int:
        return [s.key for s in self.stages].index(key)


class PipelineCreated(Event[Pipeline], frozen=True, kw_only=True):
    name: str
    stages: tuple[Stage, ...]

    def apply(self, state: Pipeline | None) -> Pipeline:
        return Pipeline(id=self.originator_id, name=self.name, stages=self.stages)


class StageProbabilityChanged(Event[Pipeline], frozen=True, kw_only=True):
    stage: str
    probability: int

    def apply(self, state: Pipeline) -> Pipeline:
        return _with_stage_changed(state, self.stage, probability=self.probability)


class StageForecastCategoryChanged(Event[Pipeline], frozen=True, kw_only=True):
    stage: str
    forecast_category: ForecastCategory

    def apply(self, state: Pipeline) -> Pipeline:
        return _with_stage_changed(state, self.stage, forecast_category=self.forecast_category)


def _with_stage_changed(state: Pipeline, key: str, **changes: Any) -> Pipeline:
    stages = tuple(
        msgspec.structs.replace(s, **changes) if s.key == key else s for s in state.stages
    )
    return evolve(state, stages=stages)


PipelineEvent = PipelineCreated | StageProbabilityChanged | StageForecastCategoryChanged


DEFAULT_PIPELINE_NAME = "sales"
DEFAULT_STAGES: tuple[Stage, ...] = (
    Stage(
        key="initial_contact", name="Initial contact", probability=10, forecast_category="pipeline"
    ),
    Stage(key="qualification", name="Qualification", probability=25, forecast_category="pipeline"),
    Stage(key="proposal", name="Proposal", probability=50, forecast_category="best_case"),
    Stage(key="negotiation", name="Negotiation", probability=75, forecast_category="commit"),
    Stage(key="won", name="Won", probability=100, forecast_category="closed", closed="won"),
    Stage(key="lost", name="Lost", probability=0, forecast_category="omitted", closed="lost"),
    Stage(
        key="unqualified",
        name="Unqualified",
        probability=0,
        forecast_category="omitted",
        closed="unqualified",
    ),
)


def _check_probability(probability: int) -> None:
    if not 0 <= probability <= 100:
        raise InvalidInput(f"a probability is a whole percentage from 0 to 100, not {probability}.")


def create(name: str, stages: tuple[Stage, ...]) -> list[PipelineEvent]:
    if not name.strip():
        raise InvalidInput("a pipeline needs a name.")
    keys = [s.key for s in stages]
    if len(set(keys)) != len(keys):
        # Each stage well-formed, the set is not: a rule over the values (409), as below.
        raise RuleViolated("stage keys must be unique within a pipeline.")
    for stage in stages:
        if not stage.key or not stage.key.replace("_", "").isalnum():
            raise InvalidInput(f"stage key {stage.key!r} must be letters, digits and underscores.")
        _check_probability(stage.probability)
        if stage.closed is None and stage.forecast_category == "closed":
            raise InvalidInput(
                f"open stage {stage.key!r} cannot have the forecast category closed."
            )
    if not any(s.is_open for s in stages):
        raise RuleViolated("a pipeline needs at least one open stage.")
    for closed_as in ("won", "lost", "unqualified"):
        if sum(1 for s in stages if s.closed == closed_as) != 1:
            raise RuleViolated(f"a pipeline needs exactly one {closed_as} stage.")
    for stage in stages:
        # Closed stages' settings are fixed: a won deal is certain, a lost one gone.
        fixed = {"won": (100, "closed"), "lost": (0, "omitted"), "unqualified": (0, "omitted")}
        if (
            stage.closed is not None
            and (stage.probability, stage.forecast_category) != fixed[stage.closed]
        ):
            probability, category = fixed[stage.closed]
            raise InvalidInput(
                f"the {stage.closed} stage {stage.key!r} has probability {probability} and "
                f"forecast category {category}."
            )
    return [PipelineCreated(name=name.strip(), stages=stages)]


def change_stage_probability(state: Pipeline, stage: str, probability: int) -> list[PipelineEvent]:
    _check_probability(probability)
    if state.stage(stage).closed is not None:
        # The stage's closing is what the store holds, not the request's shape: a rule.
        raise RuleViolated(f"stage {stage!r} is closed; its probability is fixed.")
    return [StageProbabilityChanged(stage=stage, probability=probability)]


def change_stage_forecast_category(
    state: Pipeline, stage: str, category: ForecastCategory
) -> list[PipelineEvent]:
    if state.stage(stage).closed is not None:
        raise RuleViolated(f"stage {stage!r} is closed; its forecast category is fixed.")
    return [StageForecastCategoryChanged(stage=stage, forecast_category=category)]
