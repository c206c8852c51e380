"""Pipelines: named, ordered stages with a default probability and forecast category.

Stage settings change over time, and those changes are events, so a chart of
the past uses the probabilities, categories, names and order of its time.

Rules of a pipeline's shape: open stages come first, in the order sales work through
them, then exactly one won, one lost and one unqualified stage, which cannot be added,
moved or removed. Open stages can be added (after any open stage; by default after the
last), renamed, moved to another place among the open stages, and removed (its open deals
move to another open stage: ``domain.stage_removal``); the last open stage stays. A
removed stage's key is never used again: stage visits and baselines of the past name it.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import msgspec

from domain import limits
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
    # Keys of the stages removed so far: refused as stages, never used again.
    removed: tuple[str, ...] = ()

    def stage(self, key: str) -> Stage:
        for stage in self.stages:
            if stage.key == key:
                return stage
        if key in self.removed:
            raise NotFound(f"stage {key!r} was removed from pipeline {self.name!r}.")
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

    def open_stage(self, key: str, role: str = "stage") -> Stage:
        """The open stage ``key``; a closed one is refused (409), naming it as ``role``."""
        stage = self.stage(key)
        if not stage.is_open:
            raise RuleViolated(f"{role} {key!r} is the {stage.closed} stage; name an open stage.")
        return stage


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


class StageAdded(Event[Pipeline], frozen=True, kw_only=True):
    """An open stage, placed right after the stage ``after``."""

    stage: Stage
    after: str

    def apply(self, state: Pipeline) -> Pipeline:
        place = state.position(self.after) + 1
        return evolve(state, stages=(*state.stages[:place], self.stage, *state.stages[place:]))


class StageRenamed(Event[Pipeline], frozen=True, kw_only=True):
    stage: str
    name: str
    previous_name: str

    def apply(self, state: Pipeline) -> Pipeline:
        return _with_stage_changed(state, self.stage, name=self.name)


class StageMoved(Event[Pipeline], frozen=True, kw_only=True):
    """An open stage now at ``position`` (1 = first) of the pipeline's stages."""

    stage: str
    position: int
    previous_position: int

    def apply(self, state: Pipeline) -> Pipeline:
        moved = state.stage(self.stage)
        others = [s for s in state.stages if s.key != self.stage]
        others.insert(self.position - 1, moved)
        return evolve(state, stages=tuple(others))


class StageRemoved(Event[Pipeline], frozen=True, kw_only=True):
    """An open stage is gone; its open deals were moved to ``moved_to`` (None: it held
    none) by ``OpportunityMovedFromRemovedStage`` events of the same save."""

    stage: str
    moved_to: str | None

    def apply(self, state: Pipeline) -> Pipeline:
        return evolve(
            state,
            stages=tuple(s for s in state.stages if s.key != self.stage),
            removed=(*state.removed, self.stage),
        )


def _with_stage_changed(state: Pipeline, key: str, **changes: Any) -> Pipeline:
    stages = tuple(
        msgspec.structs.replace(s, **changes) if s.key == key else s for s in state.stages
    )
    return evolve(state, stages=stages)


PipelineEvent = (
    PipelineCreated
    | StageProbabilityChanged
    | StageForecastCategoryChanged
    | StageAdded
    | StageRenamed
    | StageMoved
    | StageRemoved
)


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


def _check_stage(stage: Stage) -> None:
    if not stage.key or not stage.key.replace("_", "").isalnum():
        raise InvalidInput(f"stage key {stage.key!r} must be letters, digits and underscores.")
    if len(stage.key) > limits.CODE:
        raise InvalidInput(f"a stage key has at most {limits.CODE} characters.")
    _check_stage_name(stage.name)
    _check_probability(stage.probability)
    if stage.closed is None and stage.forecast_category == "closed":
        raise InvalidInput(f"open stage {stage.key!r} cannot have the forecast category closed.")


def _check_stage_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise InvalidInput("a stage needs a name.")
    if len(name) > limits.NAME:
        raise InvalidInput(f"a stage name has at most {limits.NAME} characters.")
    return name


def create(name: str, stages: tuple[Stage, ...]) -> list[PipelineEvent]:
    if not name.strip():
        raise InvalidInput("a pipeline needs a name.")
    keys = [s.key for s in stages]
    if len(set(keys)) != len(keys):
        # Each stage well-formed, the set is not: a rule over the values (409), as below.
        raise RuleViolated("stage keys must be unique within a pipeline.")
    for stage in stages:
        _check_stage(stage)
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


def add_stage(state: Pipeline, stage: Stage, after: str | None = None) -> list[PipelineEvent]:
    """A new open stage after the open stage ``after`` (default: after the last open one)."""
    if stage.closed is not None:
        raise RuleViolated(
            f"a pipeline has exactly one {stage.closed} stage; only open stages are added."
        )
    _check_stage(stage)
    stage = msgspec.structs.replace(stage, name=_check_stage_name(stage.name))
    if stage.key in state.removed:
        raise RuleViolated(
            f"stage key {stage.key!r} named a removed stage of {state.name!r}; "
            "its history keeps it: choose another key."
        )
    if any(s.key == stage.key for s in state.stages):
        raise RuleViolated(f"pipeline {state.name!r} already has a stage {stage.key!r}.")
    if len(state.stages) >= limits.STAGES:
        raise RuleViolated(f"a pipeline has at most {limits.STAGES} stages.")
    previous = state.open_stages[-1] if after is None else state.open_stage(after, "after")
    return [StageAdded(stage=stage, after=previous.key)]


def rename_stage(state: Pipeline, key: str, name: str) -> list[PipelineEvent]:
    stage = state.stage(key)
    name = _check_stage_name(name)
    if name == stage.name:
        return []
    return [StageRenamed(stage=key, name=name, previous_name=stage.name)]


def move_stage(state: Pipeline, key: str, position: int) -> list[PipelineEvent]:
    """Open stage ``key`` to ``position`` (1 = first); open stages keep before closed ones."""
    stage = state.stage(key)
    if not stage.is_open:
        raise RuleViolated(
            f"stage {key!r} is the {stage.closed} stage; closed stages stay after the open ones."
        )
    last = len(state.open_stages)
    if not 1 <= position <= last:
        raise RuleViolated(
            f"pipeline {state.name!r} has {last} open stages; "
            f"an open stage's position is 1 to {last}, not {position}."
        )
    previous = state.position(key) + 1
    if position == previous:
        return []
    return [StageMoved(stage=key, position=position, previous_position=previous)]


def remove_stage(
    state: Pipeline, key: str, move_to: str | None, *, holds_deals: bool
) -> list[PipelineEvent]:
    """Remove open stage ``key``; ``move_to`` (another open stage) takes its open deals,
    and must be given when it ``holds_deals``."""
    stage = state.stage(key)
    if not stage.is_open:
        raise RuleViolated(f"stage {key!r} is the {stage.closed} stage; it cannot be removed.")
    if len(state.open_stages) == 1:
        raise RuleViolated(
            f"stage {key!r} is the last open stage of {state.name!r}; a pipeline keeps one."
        )
    if move_to is not None:
        state.open_stage(move_to, "move_to")
        if move_to == key:
            raise RuleViolated(f"move_to names stage {key!r} itself; name another open stage.")
    elif holds_deals:
        raise RuleViolated(
            f"stage {key!r} holds open deals; say which open stage they move to (move_to)."
        )
    return [StageRemoved(stage=key, moved_to=move_to)]
