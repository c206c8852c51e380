"""Pipelines that change (stages added, renamed, moved, removed) and deals that move
between pipelines or accounts, against events."""

from __future__ import annotations

from uuid import UUID

import msgspec
import pytest

from domain import opportunity, pipeline, stage_removal
from domain.errors import DomainError, InvalidInput, Locked, NotFound, RuleViolated
from domain.events import DomainEvent
from domain.ids import pipeline_id_for
from domain.opportunity import (
    Opportunity,
    OpportunityAccountChanged,
    OpportunityLost,
    OpportunityMovedFromRemovedStage,
    OpportunityMovedToPipeline,
    OpportunityMovedToStage,
    OpportunityProbabilitySet,
)
from domain.pipeline import (
    DEFAULT_STAGES,
    Pipeline,
    PipelineCreated,
    Stage,
    StageAdded,
    StageMoved,
    StageRemoved,
    StageRenamed,
)
from tests.builders import ACCOUNT, SALES, opportunity_created, opportunity_sold
from tests.gwt import given

CREATED = PipelineCreated(originator_id=SALES.id, name="sales", stages=DEFAULT_STAGES)
DEMO = Stage(key="demo", name="Demo", probability=40, forecast_category="pipeline")
PARTNERS_ID = pipeline_id_for("partners")
PARTNERS: Pipeline = given(
    PipelineCreated(
        originator_id=PARTNERS_ID,
        name="partners",
        stages=(
            Stage(
                key="registered", name="Registered", probability=20, forecast_category="pipeline"
            ),
            Stage(key="committed", name="Committed", probability=80, forecast_category="commit"),
            *DEFAULT_STAGES[4:],
        ),
    )
).state
OTHER_ACCOUNT = UUID("00000000-0000-4000-8000-00000000acc2")


def keys(state: Pipeline) -> list[str]:
    return [s.key for s in state.stages]


# --- adding a stage ---------------------------------------------------------------------


def test_a_stage_is_added_after_the_last_open_stage_by_default() -> None:
    # Given the default pipeline
    when = given(CREATED).when(lambda p: pipeline.add_stage(p, DEMO))
    # When a stage is added without saying where, Then it follows the last open stage
    when.then(StageAdded(stage=DEMO, after="negotiation"))
    assert keys(when.then_state()) == [
        "initial_contact",
        "qualification",
        "proposal",
        "negotiation",
        "demo",
        "won",
        "lost",
        "unqualified",
    ]


def test_a_stage_is_added_after_the_stage_named() -> None:
    when = given(CREATED).when(lambda p: pipeline.add_stage(p, DEMO, after="qualification"))
    when.then(StageAdded(stage=DEMO, after="qualification"))
    assert keys(when.then_state())[:4] == ["initial_contact", "qualification", "demo", "proposal"]


def test_a_stage_name_is_tidied_when_added() -> None:
    padded = msgspec.structs.replace(DEMO, name="  Demo ")
    given(CREATED).when(lambda p: pipeline.add_stage(p, padded)).then(
        StageAdded(stage=DEMO, after="negotiation")
    )


def test_a_stage_is_not_added_after_a_closed_stage() -> None:
    given(CREATED).when(lambda p: pipeline.add_stage(p, DEMO, after="won")).then_raises(
        RuleViolated, "after 'won' is the won stage; name an open stage."
    )


def test_a_stage_is_not_added_after_an_unknown_stage() -> None:
    given(CREATED).when(lambda p: pipeline.add_stage(p, DEMO, after="nowhere")).then_raises(
        NotFound, "pipeline 'sales' has no stage 'nowhere'"
    )


def test_a_closed_stage_is_never_added() -> None:
    second_won = Stage(
        key="won2", name="Won too", probability=100, forecast_category="closed", closed="won"
    )
    given(CREATED).when(lambda p: pipeline.add_stage(p, second_won)).then_raises(
        RuleViolated, "a pipeline has exactly one won stage; only open stages are added."
    )


def test_a_stage_key_is_used_once() -> None:
    taken = msgspec.structs.replace(DEMO, key="proposal")
    given(CREATED).when(lambda p: pipeline.add_stage(p, taken)).then_raises(
        RuleViolated, "pipeline 'sales' already has a stage 'proposal'."
    )


def test_the_key_of_a_removed_stage_is_never_used_again() -> None:
    given(CREATED, StageRemoved(stage="proposal", moved_to=None)).when(
        lambda p: pipeline.add_stage(p, msgspec.structs.replace(DEMO, key="proposal"))
    ).then_raises(RuleViolated, "stage key 'proposal' named a removed stage of 'sales'")


@pytest.mark.parametrize(
    ("changes", "refusal"),
    [
        ({"key": "needs analysis"}, "must be letters, digits and underscores."),
        ({"key": "k" * 65}, "a stage key has at most 64 characters."),
        ({"name": " "}, "a stage needs a name."),
        ({"probability": 101}, "a probability is a whole percentage from 0 to 100, not 101."),
        ({"forecast_category": "closed"}, "cannot have the forecast category closed."),
    ],
)
def test_an_added_stage_is_well_formed(changes: dict[str, object], refusal: str) -> None:
    stage = msgspec.structs.replace(DEMO, **changes)
    given(CREATED).when(lambda p: pipeline.add_stage(p, stage)).then_raises(InvalidInput, refusal)


def test_a_pipeline_has_at_most_30_stages() -> None:
    many = [
        StageAdded(stage=msgspec.structs.replace(DEMO, key=f"s{n}"), after="negotiation")
        for n in range(23)
    ]
    given(CREATED, *many).when(lambda p: pipeline.add_stage(p, DEMO)).then_raises(
        RuleViolated, "a pipeline has at most 30 stages."
    )


# --- renaming and moving ----------------------------------------------------------------


def test_a_stage_is_renamed() -> None:
    when = given(CREATED).when(lambda p: pipeline.rename_stage(p, "proposal", " Offer "))
    when.then(StageRenamed(stage="proposal", name="Offer", previous_name="Proposal"))
    assert when.then_state().stage("proposal").name == "Offer"


def test_a_closed_stage_may_be_renamed_too() -> None:
    given(CREATED).when(lambda p: pipeline.rename_stage(p, "won", "Closed won")).then(
        StageRenamed(stage="won", name="Closed won", previous_name="Won")
    )


def test_renaming_a_stage_to_its_name_changes_nothing() -> None:
    given(CREATED).when(lambda p: pipeline.rename_stage(p, "proposal", "Proposal")).then()


def test_a_stage_name_is_not_blank() -> None:
    given(CREATED).when(lambda p: pipeline.rename_stage(p, "proposal", "  ")).then_raises(
        InvalidInput, "a stage needs a name."
    )


def test_an_open_stage_moves_among_the_open_stages() -> None:
    when = given(CREATED).when(lambda p: pipeline.move_stage(p, "negotiation", 1))
    when.then(StageMoved(stage="negotiation", position=1, previous_position=4))
    assert keys(when.then_state()) == [
        "negotiation",
        "initial_contact",
        "qualification",
        "proposal",
        "won",
        "lost",
        "unqualified",
    ]


def test_an_open_stage_moves_down_too() -> None:
    when = given(CREATED).when(lambda p: pipeline.move_stage(p, "initial_contact", 3))
    when.then(StageMoved(stage="initial_contact", position=3, previous_position=1))
    assert keys(when.then_state())[:4] == [
        "qualification",
        "proposal",
        "initial_contact",
        "negotiation",
    ]


def test_moving_a_stage_to_its_place_changes_nothing() -> None:
    given(CREATED).when(lambda p: pipeline.move_stage(p, "proposal", 3)).then()


def test_open_stages_keep_before_the_closed_ones() -> None:
    given(CREATED).when(lambda p: pipeline.move_stage(p, "proposal", 5)).then_raises(
        RuleViolated,
        "pipeline 'sales' has 4 open stages; an open stage's position is 1 to 4, not 5.",
    )


def test_a_closed_stage_does_not_move() -> None:
    given(CREATED).when(lambda p: pipeline.move_stage(p, "lost", 1)).then_raises(
        RuleViolated, "stage 'lost' is the lost stage; closed stages stay after the open ones."
    )


# --- removing a stage --------------------------------------------------------------------

DEAL = UUID("00000000-0000-4000-8000-000000000001")
OTHER_DEAL = UUID("00000000-0000-4000-8000-000000000002")


def deal_in(stage: str, deal_id: UUID = DEAL, *events: DomainEvent) -> Opportunity:
    state: Opportunity = given(
        opportunity_created(originator_id=deal_id, stage=stage), *events
    ).state
    return state


def test_an_empty_stage_is_removed_without_saying_where_deals_go() -> None:
    when = given(CREATED).when(lambda p: stage_removal.remove_stage(p, "proposal", None, []))
    when.then_changes({SALES.id: [StageRemoved(stage="proposal", moved_to=None)]})


def test_removing_a_stage_moves_each_of_its_open_deals_with_an_event() -> None:
    # Given two open deals in proposal, and one that left it meanwhile
    deals = [
        deal_in("proposal"),
        deal_in("proposal", OTHER_DEAL),
        deal_in(
            "proposal",
            UUID(int=3),
            OpportunityMovedToStage(stage="negotiation", previous_stage="proposal"),
        ),
    ]
    # When proposal is removed, its deals going to qualification
    when = given(CREATED).when(
        lambda p: stage_removal.remove_stage(p, "proposal", "qualification", deals)
    )
    # Then each deal still in it moves, saying why, and the stage goes last
    moved = OpportunityMovedFromRemovedStage(stage="qualification", previous_stage="proposal")
    when.then_changes(
        {
            DEAL: [moved],
            OTHER_DEAL: [moved],
            SALES.id: [StageRemoved(stage="proposal", moved_to="qualification")],
        }
    )


def test_a_moved_deal_takes_the_new_stage_defaults() -> None:
    # Given a deal in proposal with a probability of its own
    deal = deal_in("proposal", DEAL, OpportunityProbabilitySet(probability=90))
    # When its stage is removed
    [moved] = stage_removal.remove_stage(SALES, "proposal", "qualification", [deal])[DEAL]
    # Then it is in qualification with that stage's probability, as after any stage move
    state = given(
        opportunity_created(stage="proposal"), OpportunityProbabilitySet(probability=90), moved
    ).state
    assert (state.stage, state.probability_override, state.probability(SALES)) == (
        "qualification",
        None,
        25,
    )


def test_closed_deals_stay_as_they_are() -> None:
    lost = deal_in(
        "proposal",
        DEAL,
        OpportunityLost(reason="budget", stage="lost", previous_stage="proposal"),
    )
    given(CREATED).when(
        lambda p: stage_removal.remove_stage(p, "proposal", None, [lost])
    ).then_changes({SALES.id: [StageRemoved(stage="proposal", moved_to=None)]})


def test_a_stage_holding_deals_needs_move_to() -> None:
    given(CREATED).when(
        lambda p: stage_removal.remove_stage(p, "proposal", None, [deal_in("proposal")])
    ).then_raises(
        RuleViolated,
        "stage 'proposal' holds open deals; say which open stage they move to (move_to).",
    )


@pytest.mark.parametrize(
    ("move_to", "error", "refusal"),
    [
        ("proposal", RuleViolated, "move_to names stage 'proposal' itself"),
        ("won", RuleViolated, "move_to 'won' is the won stage; name an open stage."),
        ("nowhere", NotFound, "pipeline 'sales' has no stage 'nowhere'"),
    ],
)
def test_move_to_is_another_open_stage_of_the_pipeline(
    move_to: str, error: type[DomainError], refusal: str
) -> None:
    given(CREATED).when(
        lambda p: stage_removal.remove_stage(p, "proposal", move_to, [deal_in("proposal")])
    ).then_raises(error, refusal)


def test_a_closed_stage_is_never_removed() -> None:
    given(CREATED).when(
        lambda p: pipeline.remove_stage(p, "won", None, holds_deals=False)
    ).then_raises(RuleViolated, "stage 'won' is the won stage; it cannot be removed.")


def test_the_last_open_stage_is_not_removed() -> None:
    removed = [
        StageRemoved(stage=key, moved_to=None)
        for key in ("initial_contact", "qualification", "proposal")
    ]
    given(CREATED, *removed).when(
        lambda p: pipeline.remove_stage(p, "negotiation", None, holds_deals=False)
    ).then_raises(RuleViolated, "stage 'negotiation' is the last open stage of 'sales'")


def test_a_removed_stage_is_refused_as_a_stage() -> None:
    # Given proposal was removed
    removed: Pipeline = given(CREATED, StageRemoved(stage="proposal", moved_to=None)).state
    assert keys(removed)[:3] == ["initial_contact", "qualification", "negotiation"]
    # When a deal is moved into it, or made in it, Then it is refused as gone
    given(opportunity_created()).when(
        lambda o: opportunity.move_to_stage(o, removed, "proposal")
    ).then_raises(NotFound, "stage 'proposal' was removed from pipeline 'sales'.")
    given().when(
        lambda _: opportunity.create(
            title="t",
            account_id=ACCOUNT,
            owner="alice",
            pipeline=removed,
            expected_close=opportunity_created().expected_close,
            amount=opportunity_created().amount,
            stage="proposal",
        )
    ).then_raises(NotFound, "stage 'proposal' was removed from pipeline 'sales'.")
    given(CREATED, StageRemoved(stage="proposal", moved_to=None)).when(
        lambda p: pipeline.remove_stage(p, "proposal", None, holds_deals=False)
    ).then_raises(NotFound, "stage 'proposal' was removed")


def test_a_deal_closed_from_a_removed_stage_reopens_in_the_last_open_stage() -> None:
    removed: Pipeline = given(CREATED, StageRemoved(stage="proposal", moved_to=None)).state
    lost = deal_in(
        "proposal", DEAL, OpportunityLost(reason="budget", stage="lost", previous_stage="proposal")
    )
    assert opportunity.reopening_stage(lost, removed) == "negotiation"


# --- a deal to another pipeline ------------------------------------------------------------


def test_a_deal_moves_to_another_pipeline_in_its_first_open_stage_by_default() -> None:
    when = given(
        opportunity_created(stage="proposal"), OpportunityProbabilitySet(probability=90)
    ).when(lambda o: opportunity.move_to_pipeline(o, PARTNERS))
    when.then(
        OpportunityMovedToPipeline(
            pipeline_id=PARTNERS_ID,
            stage="registered",
            previous_pipeline_id=SALES.id,
            previous_stage="proposal",
        )
    )
    state: Opportunity = when.then_state()
    assert (state.pipeline_id, state.stage, state.probability_override) == (
        PARTNERS_ID,
        "registered",
        None,
    )
    assert state.probability(PARTNERS) == 20


def test_a_deal_moves_to_the_stage_named_of_another_pipeline() -> None:
    given(opportunity_created()).when(
        lambda o: opportunity.move_to_pipeline(o, PARTNERS, "committed")
    ).then(
        OpportunityMovedToPipeline(
            pipeline_id=PARTNERS_ID,
            stage="committed",
            previous_pipeline_id=SALES.id,
            previous_stage="initial_contact",
        )
    )


def test_a_deal_moves_only_to_an_open_stage_of_the_other_pipeline() -> None:
    given(opportunity_created()).when(
        lambda o: opportunity.move_to_pipeline(o, PARTNERS, "won")
    ).then_raises(RuleViolated, "stage 'won' closes an opportunity")
    given(opportunity_created()).when(
        lambda o: opportunity.move_to_pipeline(o, PARTNERS, "proposal")
    ).then_raises(NotFound, "pipeline 'partners' has no stage 'proposal'")


def test_a_deal_already_in_the_pipeline_is_moved_to_a_stage_instead() -> None:
    given(opportunity_created()).when(
        lambda o: opportunity.move_to_pipeline(o, SALES, "proposal")
    ).then_raises(
        RuleViolated, "the opportunity is already in pipeline 'sales'; move it to a stage."
    )


def test_a_sold_deal_does_not_change_pipeline() -> None:
    given(opportunity_created(), opportunity_sold()).when(
        lambda o: opportunity.move_to_pipeline(o, PARTNERS)
    ).then_raises(Locked)


# --- a deal's account ---------------------------------------------------------------------


def test_a_deal_changes_account() -> None:
    when = given(opportunity_created()).when(lambda o: opportunity.change_account(o, OTHER_ACCOUNT))
    when.then(OpportunityAccountChanged(account_id=OTHER_ACCOUNT, previous_account_id=ACCOUNT))
    assert when.then_state().account_id == OTHER_ACCOUNT


def test_naming_the_account_it_has_changes_nothing() -> None:
    given(opportunity_created()).when(lambda o: opportunity.change_account(o, ACCOUNT)).then()


def test_a_lost_deal_keeps_its_account_until_reopened() -> None:
    given(
        opportunity_created(),
        OpportunityLost(reason="budget", stage="lost", previous_stage="initial_contact"),
    ).when(lambda o: opportunity.change_account(o, OTHER_ACCOUNT)).then_raises(
        RuleViolated, "is lost; reopen it to change it."
    )
