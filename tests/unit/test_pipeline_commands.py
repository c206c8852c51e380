"""Pipeline commands through ``CommandBus`` on the in-memory store (commands/pipelines.py,
and the account in commands/opportunities.py): what each writes, in one save, that a
refused one writes nothing, and the rights asked before any handler runs."""

from __future__ import annotations

from datetime import date
from uuid import UUID, uuid5

import pytest

from commands.authorization import authorize
from commands.opportunities import CreateOpportunity, EditOpportunity, MoveOpportunityToStage
from commands.pipelines import (
    AddPipelineStage,
    ChangePipelineStage,
    MoveOpportunityToPipeline,
    RemovePipelineStage,
)
from commands.reference_data import CreateAccount, CreatePipeline
from commands.unit_of_work import Actor
from domain.access import Forbidden, Principal
from domain.errors import InvalidInput, NotFound, RuleViolated
from domain.events import payload
from domain.ids import pipeline_id_for
from domain.opportunity import (
    Opportunity,
    OpportunityAccountChanged,
    OpportunityMovedFromRemovedStage,
    OpportunityMovedToPipeline,
)
from domain.pipeline import (
    DEFAULT_STAGES,
    Pipeline,
    Stage,
    StageAdded,
    StageMoved,
    StageRemoved,
    StageRenamed,
)
from tests.unit.test_lead_commands import App

NAMESPACE = UUID("5d0c3b6e-8f1a-4e2b-9c7d-0a1b2c3d4e5f")
SALES = pipeline_id_for("sales")
PARTNERS = pipeline_id_for("partners")
DEMO = Stage(key="demo", name="Demo", probability=40, forecast_category="pipeline")


def deal(n: int) -> UUID:
    return uuid5(NAMESPACE, f"deal {n}")


@pytest.fixture
def app() -> App:
    return App()


def create_deal(app: App, n: int, stage: str = "proposal", **fields: object) -> UUID:
    app.run(
        CreateOpportunity(
            opportunity_id=deal(n),
            title=f"Deal {n}",
            owner="alice",
            expected_close=date(2027, 6, 30),
            account_name="ACME",
            stage=stage,
            **fields,  # type: ignore[arg-type]
        )
    )
    return deal(n)


def pipeline(app: App, pipeline_id: UUID = SALES) -> Pipeline:
    state = app.store.load(pipeline_id)
    assert isinstance(state, Pipeline)
    return state


def opportunity(app: App, n: int) -> Opportunity:
    state = app.store.load(deal(n))
    assert isinstance(state, Opportunity)
    return state


def partners(app: App) -> None:
    stages = (
        Stage(key="registered", name="Registered", probability=20, forecast_category="pipeline"),
        *DEFAULT_STAGES[4:],
    )
    app.run(CreatePipeline(name="partners", stages=stages))


def test_adding_a_stage_writes_it_after_the_stage_named(app: App) -> None:
    answer, written = app.in_one_save(
        AddPipelineStage(pipeline_id=SALES, stage=DEMO, after="initial_contact")
    )
    assert answer.id == SALES
    assert [type(e) for e in written] == [StageAdded]
    assert [s.key for s in pipeline(app).stages][:3] == ["initial_contact", "demo", "qualification"]


def test_renaming_and_moving_a_stage_in_one_command(app: App) -> None:
    _, written = app.in_one_save(
        ChangePipelineStage(pipeline_id=SALES, stage="negotiation", name="Closing", position=1)
    )
    assert [type(e) for e in written] == [StageRenamed, StageMoved]
    first = pipeline(app).stages[0]
    assert (first.key, first.name) == ("negotiation", "Closing")


def test_a_change_of_nothing_is_refused(app: App) -> None:
    app.refused(
        ChangePipelineStage(pipeline_id=SALES, stage="proposal"),
        InvalidInput,
        "give a name, a position, or both.",
    )


def test_a_refused_move_writes_not_even_the_rename(app: App) -> None:
    app.refused(
        ChangePipelineStage(pipeline_id=SALES, stage="proposal", name="Offer", position=9),
        RuleViolated,
        "an open stage's position is 1 to 4, not 9.",
    )
    assert pipeline(app).stage("proposal").name == "Proposal"


def test_removing_a_stage_moves_its_open_deals_and_removes_it_in_one_save(app: App) -> None:
    # Given two deals in proposal and one in negotiation, all found in proposal by the caller
    for n in (1, 2):
        create_deal(app, n)
    create_deal(app, 3, stage="negotiation")
    # When proposal is removed, its deals going to qualification
    answer, written = app.in_one_save(
        RemovePipelineStage(
            pipeline_id=SALES,
            stage="proposal",
            move_to="qualification",
            opportunity_ids=(deal(1), deal(2), deal(3), deal(2)),
        )
    )
    # Then each deal still in it moved with an event, and the stage went, in one save
    assert [(type(e), e.originator_id) for e in written] == [
        (OpportunityMovedFromRemovedStage, deal(1)),
        (OpportunityMovedFromRemovedStage, deal(2)),
        (StageRemoved, SALES),
    ]
    assert answer.id == SALES
    assert [opportunity(app, n).stage for n in (1, 2, 3)] == [
        "qualification",
        "qualification",
        "negotiation",
    ]
    assert "proposal" in pipeline(app).removed


def test_a_stage_holding_deals_is_not_removed_without_move_to(app: App) -> None:
    create_deal(app, 1)
    app.refused(
        RemovePipelineStage(pipeline_id=SALES, stage="proposal", opportunity_ids=(deal(1),)),
        RuleViolated,
        r"holds open deals; say which open stage they move to \(move_to\)",
    )
    assert opportunity(app, 1).stage == "proposal"


def test_a_removed_stage_takes_no_deal_afterwards(app: App) -> None:
    # Given a deal found in qualification, and proposal removed meanwhile
    create_deal(app, 1, stage="qualification")
    app.run(RemovePipelineStage(pipeline_id=SALES, stage="proposal", opportunity_ids=()))
    # When a deal is moved into the removed stage, or made in it, Then both are refused
    app.refused(
        MoveOpportunityToStage(opportunity_id=deal(1), stage="proposal"),
        NotFound,
        "stage 'proposal' was removed from pipeline 'sales'.",
    )
    with pytest.raises(NotFound, match="was removed"):
        create_deal(app, 2, stage="proposal")


def test_a_removal_that_never_looked_for_its_deals_is_refused(app: App) -> None:
    create_deal(app, 1)
    app.refused(
        RemovePipelineStage(pipeline_id=SALES, stage="proposal", move_to="qualification"),
        InvalidInput,
        r"name the open deals in the stage \(opportunity_ids",
    )


def test_the_last_open_stage_stays(app: App) -> None:
    partners(app)
    app.refused(
        RemovePipelineStage(pipeline_id=PARTNERS, stage="registered", opportunity_ids=()),
        RuleViolated,
        "stage 'registered' is the last open stage of 'partners'",
    )


def test_a_deal_moves_to_another_pipeline(app: App) -> None:
    partners(app)
    create_deal(app, 1)
    _, written = app.in_one_save(
        MoveOpportunityToPipeline(opportunity_id=deal(1), pipeline="partners")
    )
    assert [payload(e) for e in written] == [
        payload(
            OpportunityMovedToPipeline(
                pipeline_id=PARTNERS,
                stage="registered",
                previous_pipeline_id=SALES,
                previous_stage="proposal",
            )
        )
    ]
    assert (opportunity(app, 1).pipeline_id, opportunity(app, 1).stage) == (PARTNERS, "registered")


def test_a_deal_moves_only_to_a_pipeline_there_is(app: App) -> None:
    create_deal(app, 1)
    app.refused(
        MoveOpportunityToPipeline(opportunity_id=deal(1), pipeline="nowhere"),
        NotFound,
        "there is no pipeline with id",
    )


def test_a_deal_changes_account(app: App) -> None:
    create_deal(app, 1)
    other = app.run(CreateAccount(name="Globex")).id
    _, written = app.in_one_save(EditOpportunity(opportunity_id=deal(1), account_id=other))
    assert [type(e) for e in written] == [OpportunityAccountChanged]
    assert opportunity(app, 1).account_id == other


def test_an_unknown_account_is_named_in_the_refusal(app: App) -> None:
    create_deal(app, 1)
    unknown = uuid5(NAMESPACE, "no account")
    app.refused(
        EditOpportunity(opportunity_id=deal(1), title="Renamed", account_id=unknown),
        NotFound,
        f"there is no account with id {unknown}.",
    )
    assert opportunity(app, 1).title == "Deal 1"


def test_an_account_the_caller_may_not_see_is_refused_as_unknown(app: App) -> None:
    # Given alice's deal, and an account private to bob
    create_deal(app, 1)
    hidden = app.run(CreateAccount(name="Initech", owner="bob", private=True)).id
    # When alice gives her deal to it, Then it is refused as an unknown account, unwritten
    app.bus.authorize = authorize
    alice = Actor(by="alice", principal=Principal(login="alice", role="rep"))
    before = len(app.store.log)
    with pytest.raises(NotFound):
        app.bus.execute(EditOpportunity(opportunity_id=deal(1), account_id=hidden), actor=alice)
    assert len(app.store.log) == before


@pytest.mark.parametrize(
    "command",
    [
        AddPipelineStage(pipeline_id=SALES, stage=DEMO),
        ChangePipelineStage(pipeline_id=SALES, stage="proposal", name="Offer"),
        RemovePipelineStage(pipeline_id=SALES, stage="proposal", opportunity_ids=()),
    ],
)
@pytest.mark.parametrize("role", ["manager", "rep", "analyst", "partner"])
def test_only_an_admin_changes_a_pipeline(app: App, command: object, role: str) -> None:
    app.bus.authorize = authorize
    before = len(app.store.log)
    actor = Actor(by="bob", principal=Principal(login="bob", role=role))  # type: ignore[arg-type]
    with pytest.raises(Forbidden):
        app.bus.execute(command, actor=actor)
    assert len(app.store.log) == before
    admin = Actor(by="root", principal=Principal(login="root", role="admin"))
    app.bus.execute(command, actor=admin)
    assert len(app.store.log) == before + 1
