"""Opportunity: Given / When / Then against events."""

from __future__ import annotations

from datetime import UTC, date, datetime
from uuid import uuid4

from domain import opportunity
from domain.errors import InvalidInput, Locked, RuleViolated
from domain.opportunity import (
    ExpectedCloseChanged,
    OpportunityCreated,
    OpportunityMovedToStage,
    OpportunityProbabilitySet,
    OpportunityRenamed,
    OpportunitySold,
)
from tests.builders import SALES, eur, opportunity_created
from tests.gwt import given


def test_creating_starts_in_the_first_open_stage_with_the_stage_probability() -> None:
    created = opportunity.create(
        title="ACME rollout",
        account_id=opportunity_created().account_id,
        owner="alice",
        pipeline=SALES,
        expected_close=date(2027, 3, 31),
        amount=eur("1000.00"),
    )
    assert [type(e) for e in created] == [OpportunityCreated]
    state = given(*created).state
    assert (state.stage, state.probability(SALES), state.forecast_category(SALES)) == (
        "initial_contact",
        10,
        "pipeline",
    )


def test_creating_in_a_closed_stage_is_refused() -> None:
    given().when(
        lambda _: opportunity.create(
            title="x",
            account_id=opportunity_created().account_id,
            owner="alice",
            pipeline=SALES,
            expected_close=date(2027, 3, 31),
            amount=eur("0"),
            stage="won",
        )
    ).then_raises(RuleViolated, "use sell, lose or mark unqualified")


def test_moving_to_a_stage_returns_probability_to_the_stage_default() -> None:
    state = (
        given(opportunity_created(), OpportunityProbabilitySet(probability=40))
        .when(lambda opp: opportunity.move_to_stage(opp, SALES, "proposal"))
        .then_state()
    )
    assert state.probability_override is None
    assert state.probability(SALES) == 50


def test_moving_records_the_stage_it_left() -> None:
    given(opportunity_created()).when(
        lambda opp: opportunity.move_to_stage(opp, SALES, "negotiation")
    ).then(OpportunityMovedToStage(stage="negotiation", previous_stage="initial_contact"))


def test_a_probability_outside_0_to_100_is_refused() -> None:
    given(opportunity_created()).when(
        lambda opp: opportunity.set_probability(opp, 101)
    ).then_raises(InvalidInput, "from 0 to 100")


def test_editing_records_only_what_changed() -> None:
    given(opportunity_created()).when(
        lambda opp: opportunity.edit(
            opp, title="ACME global rollout", expected_close=date(2027, 3, 31), owner="alice"
        )
    ).then(OpportunityRenamed(title="ACME global rollout"))


def test_a_new_expected_close_remembers_the_old_one() -> None:
    given(opportunity_created()).when(
        lambda opp: opportunity.edit(opp, expected_close=date(2027, 6, 30))
    ).then(ExpectedCloseChanged(expected_close=date(2027, 6, 30), previous=date(2027, 3, 31)))


def test_a_sold_opportunity_is_locked_against_edits() -> None:
    sold = OpportunitySold(
        sold_at=datetime(2027, 1, 4, tzinfo=UTC),
        quote_id=uuid4(),
        stage="won",
        previous_stage="negotiation",
        amount=eur("10.00"),
        items=(),
    )
    given(opportunity_created(), sold).when(
        lambda opp: opportunity.edit(opp, title="changed")
    ).then_raises(Locked, "unlock it to change it")
