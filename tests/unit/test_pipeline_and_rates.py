"""Pipelines (stages and their settings over time) and exchange rates, against events."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import msgspec
import pytest

from domain import exchange_rates, pipeline
from domain.errors import InvalidInput, NotFound, RuleViolated
from domain.exchange_rates import ExchangeRateSet, ExchangeRatesStarted
from domain.money import Money, convert_amount
from domain.opportunity import OpportunityMovedToStage
from domain.pipeline import (
    DEFAULT_STAGES,
    Pipeline,
    PipelineCreated,
    Stage,
    StageForecastCategoryChanged,
    StageProbabilityChanged,
)
from tests.builders import SALES, money, opportunity_created
from tests.builders import exchange_rates as rates_of
from tests.gwt import given

JAN = datetime(2027, 1, 1, tzinfo=UTC)
FEB = datetime(2027, 2, 1, tzinfo=UTC)
MAR = datetime(2027, 3, 1, tzinfo=UTC)


def _stage(key: str, probability: int = 10, **fields: object) -> Stage:
    return msgspec.convert(
        {
            "key": key,
            "name": key.title(),
            "probability": probability,
            "forecast_category": "pipeline",
            **fields,
        },
        Stage,
    )


WON = _stage("won", 100, forecast_category="closed", closed="won")
LOST = _stage("lost", 0, forecast_category="omitted", closed="lost")
UNQUALIFIED = _stage("unqualified", 0, forecast_category="omitted", closed="unqualified")
CLOSED = (WON, LOST, UNQUALIFIED)


# --- pipeline creation ----------------------------------------------------------------


def test_a_pipeline_is_created_with_its_ordered_stages() -> None:
    stages = (_stage("lead"), _stage("demo", 40), *CLOSED)
    when = given().when(lambda _: pipeline.create(" partners ", stages))
    when.then(PipelineCreated(name="partners", stages=stages))


def test_the_default_pipeline_is_valid() -> None:
    [created] = pipeline.create("sales", DEFAULT_STAGES)
    assert isinstance(created, PipelineCreated)
    assert [s.key for s in created.stages] == [
        "initial_contact",
        "qualification",
        "proposal",
        "negotiation",
        "won",
        "lost",
        "unqualified",
    ]


def test_a_pipeline_knows_its_open_stages_in_order() -> None:
    assert [s.key for s in SALES.open_stages] == [
        "initial_contact",
        "qualification",
        "proposal",
        "negotiation",
    ]
    assert SALES.position("proposal") == 2
    assert SALES.closed_stage("unqualified").key == "unqualified"


def test_stage_keys_are_unique_within_a_pipeline() -> None:
    given().when(
        lambda _: pipeline.create("p", (_stage("lead"), _stage("lead", 20), *CLOSED))
    ).then_raises(RuleViolated, "stage keys must be unique within a pipeline.")


@pytest.mark.parametrize("closed_as", ["won", "lost", "unqualified"])
def test_a_pipeline_needs_its_closed_stage(closed_as: str) -> None:
    stages = (_stage("lead"), *(s for s in CLOSED if s.closed != closed_as))
    given().when(lambda _: pipeline.create("p", stages)).then_raises(
        RuleViolated, f"a pipeline needs exactly one {closed_as} stage."
    )


def test_a_pipeline_cannot_have_two_won_stages() -> None:
    second_won = _stage("won_again", 100, forecast_category="closed", closed="won")
    given().when(lambda _: pipeline.create("p", (_stage("lead"), *CLOSED, second_won))).then_raises(
        RuleViolated, "a pipeline needs exactly one won stage."
    )


def test_a_pipeline_needs_at_least_one_open_stage() -> None:
    given().when(lambda _: pipeline.create("p", CLOSED)).then_raises(
        RuleViolated, "a pipeline needs at least one open stage."
    )


def test_a_pipeline_needs_a_name() -> None:
    given().when(lambda _: pipeline.create(" ", (_stage("lead"), *CLOSED))).then_raises(
        InvalidInput, "a pipeline needs a name."
    )


@pytest.mark.parametrize("key", ["", "needs analysis", "demo-1"])
def test_a_stage_key_is_letters_digits_and_underscores(key: str) -> None:
    given().when(lambda _: pipeline.create("p", (_stage(key), *CLOSED))).then_raises(
        InvalidInput, f"stage key {key!r} must be letters, digits and underscores."
    )


def test_a_stage_probability_is_0_to_100() -> None:
    given().when(lambda _: pipeline.create("p", (_stage("lead", 101), *CLOSED))).then_raises(
        InvalidInput, "a probability is a whole percentage from 0 to 100, not 101."
    )


def test_an_open_stage_cannot_be_in_the_closed_forecast_category() -> None:
    given().when(
        lambda _: pipeline.create("p", (_stage("lead", forecast_category="closed"), *CLOSED))
    ).then_raises(InvalidInput, "open stage 'lead' cannot have the forecast category closed.")


@pytest.mark.parametrize(
    ("closed_as", "probability", "category"),
    [("won", 90, "closed"), ("lost", 10, "omitted"), ("unqualified", 0, "pipeline")],
)
def test_closed_stages_have_fixed_settings(closed_as: str, probability: int, category: str) -> None:
    stages = tuple(
        msgspec.structs.replace(s, probability=probability, forecast_category=category)
        if s.closed == closed_as
        else s
        for s in DEFAULT_STAGES
    )
    given().when(lambda _: pipeline.create("custom", stages)).then_raises(
        InvalidInput, f"the {closed_as} stage"
    )


# --- stage settings over time -------------------------------------------------------


def test_changing_a_stage_probability_changes_only_that_stage() -> None:
    when = given(PipelineCreated(originator_id=SALES.id, name="sales", stages=DEFAULT_STAGES)).when(
        lambda p: pipeline.change_stage_probability(p, "proposal", 60)
    )
    when.then(StageProbabilityChanged(stage="proposal", probability=60))
    state: Pipeline = when.then_state()
    assert [s.probability for s in state.stages] == [10, 25, 60, 75, 100, 0, 0]


def test_an_opportunity_reads_the_probability_of_its_pipeline_as_it_stands() -> None:
    later: Pipeline = given(
        PipelineCreated(originator_id=SALES.id, name="sales", stages=DEFAULT_STAGES),
        StageProbabilityChanged(stage="proposal", probability=60),
        StageForecastCategoryChanged(stage="proposal", forecast_category="commit"),
    ).state
    opp = given(
        opportunity_created(),
        OpportunityMovedToStage(stage="proposal", previous_stage="initial_contact"),
    ).state
    assert (opp.probability(SALES), opp.forecast_category(SALES)) == (50, "best_case")
    assert (opp.probability(later), opp.forecast_category(later)) == (60, "commit")


def test_changing_a_stage_forecast_category() -> None:
    when = given(PipelineCreated(originator_id=SALES.id, name="sales", stages=DEFAULT_STAGES)).when(
        lambda p: pipeline.change_stage_forecast_category(p, "qualification", "omitted")
    )
    when.then(StageForecastCategoryChanged(stage="qualification", forecast_category="omitted"))
    state: Pipeline = when.then_state()
    assert [s.forecast_category for s in state.stages] == [
        "pipeline",
        "omitted",
        "best_case",
        "commit",
        "closed",
        "omitted",
        "omitted",
    ]


@pytest.mark.parametrize("closed", ["won", "lost", "unqualified"])
def test_a_closed_stage_probability_is_fixed(closed: str) -> None:
    given(PipelineCreated(originator_id=SALES.id, name="sales", stages=DEFAULT_STAGES)).when(
        lambda p: pipeline.change_stage_probability(p, closed, 50)
    ).then_raises(RuleViolated, f"stage {closed!r} is closed; its probability is fixed.")


@pytest.mark.parametrize("closed", ["won", "lost", "unqualified"])
def test_a_closed_stage_forecast_category_is_fixed(closed: str) -> None:
    given(PipelineCreated(originator_id=SALES.id, name="sales", stages=DEFAULT_STAGES)).when(
        lambda p: pipeline.change_stage_forecast_category(p, closed, "commit")
    ).then_raises(RuleViolated, f"stage {closed!r} is closed; its forecast category is fixed.")


def test_a_stage_probability_change_outside_0_to_100_is_refused() -> None:
    given(PipelineCreated(originator_id=SALES.id, name="sales", stages=DEFAULT_STAGES)).when(
        lambda p: pipeline.change_stage_probability(p, "proposal", -5)
    ).then_raises(InvalidInput, "from 0 to 100, not -5.")


def test_changing_an_unknown_stage_is_refused() -> None:
    given(PipelineCreated(originator_id=SALES.id, name="sales", stages=DEFAULT_STAGES)).when(
        lambda p: pipeline.change_stage_probability(p, "closing", 50)
    ).then_raises(NotFound, "pipeline 'sales' has no stage 'closing'")


# --- exchange rates ---------------------------------------------------------------------


def test_exchange_rates_start_with_a_reporting_currency() -> None:
    given().when(lambda _: exchange_rates.start("EUR")).then(
        ExchangeRatesStarted(reporting_currency="EUR")
    )


def test_the_reporting_currency_must_be_an_iso_currency() -> None:
    given().when(lambda _: exchange_rates.start("EU")).then_raises(
        InvalidInput, "'EU' is not an ISO 4217 currency code."
    )


def test_the_reporting_currency_rate_is_always_1() -> None:
    assert rates_of().rate_at("EUR", JAN) == Decimal(1)


def test_the_reporting_currency_rate_cannot_be_set() -> None:
    given(ExchangeRatesStarted(reporting_currency="EUR")).when(
        lambda r: exchange_rates.set_rate(r, "EUR", Decimal("1.1"), JAN)
    ).then_raises(
        RuleViolated, "EUR is the reporting currency; its rate is always 1 and cannot be set."
    )


def test_setting_a_rate_records_it_with_its_effective_date() -> None:
    given(ExchangeRatesStarted(reporting_currency="EUR")).when(
        lambda r: exchange_rates.set_rate(r, "USD", Decimal("0.92"), FEB)
    ).then(ExchangeRateSet(currency="USD", rate=Decimal("0.92"), effective_from=FEB))


@pytest.mark.parametrize("rate", ["0", "-0.9", "NaN", "Infinity"])
def test_a_rate_must_be_a_positive_number(rate: str) -> None:
    given(ExchangeRatesStarted(reporting_currency="EUR")).when(
        lambda r: exchange_rates.set_rate(r, "USD", Decimal(rate), JAN)
    ).then_raises(InvalidInput, "an exchange rate must be a positive decimal number.")


def test_a_rate_needs_an_iso_currency() -> None:
    given(ExchangeRatesStarted(reporting_currency="EUR")).when(
        lambda r: exchange_rates.set_rate(r, "DOLLAR", Decimal(1), JAN)
    ).then_raises(InvalidInput, "'DOLLAR' is not an ISO 4217 currency code.")


RATES = rates_of(("USD", "0.90", JAN), ("USD", "0.92", FEB), ("USD", "0.95", MAR))


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (JAN, "0.90"),  # in force from its own instant
        (datetime(2027, 1, 31, 23, 59, 59, tzinfo=UTC), "0.90"),
        (FEB, "0.92"),
        (datetime(2027, 2, 15, tzinfo=UTC), "0.92"),
        (MAR, "0.95"),
        (datetime(2030, 1, 1, tzinfo=UTC), "0.95"),
    ],
)
def test_the_rate_in_force_is_the_latest_one_effective_by_then(at: datetime, expected: str) -> None:
    assert RATES.rate_at("USD", at) == Decimal(expected)


def test_rates_recorded_out_of_order_are_read_by_their_effective_date() -> None:
    # The March rate was recorded first, the January one afterwards (a back-dated correction).
    rates = rates_of(("USD", "0.95", MAR), ("USD", "0.90", JAN))
    assert rates.rate_at("USD", FEB) == Decimal("0.90")
    assert rates.rate_at("USD", MAR) == Decimal("0.95")


def test_among_rates_effective_at_the_same_instant_the_one_recorded_last_wins() -> None:
    rates = rates_of(("USD", "0.91", FEB), ("USD", "0.93", FEB), ("USD", "0.90", JAN))
    assert rates.rate_at("USD", FEB) == Decimal("0.93")


def test_a_rate_effective_later_is_not_yet_in_force() -> None:
    with pytest.raises(RuleViolated) as refused:
        RATES.rate_at("USD", datetime(2026, 12, 31, tzinfo=UTC))
    assert refused.value.detail == (
        "no exchange rate for USD is in force at 2026-12-31T00:00:00+00:00; "
        "set one with POST /exchange-rates."
    )


def test_a_currency_without_any_rate_is_refused() -> None:
    with pytest.raises(RuleViolated, match="no exchange rate for GBP is in force"):
        RATES.rate_at("GBP", FEB)


def test_rates_of_other_currencies_do_not_count() -> None:
    rates = rates_of(("GBP", "1.17", JAN))
    with pytest.raises(RuleViolated, match="no exchange rate for USD"):
        rates.rate_at("USD", FEB)


def test_converting_into_the_reporting_currency() -> None:
    # 100.00 USD × 0.92 / 1 = 92.00 EUR
    assert RATES.convert(money("100.00", "USD"), "EUR", FEB) == money("92.00", "EUR")


def test_converting_out_of_the_reporting_currency_rounds_half_up_once() -> None:
    # 100.00 EUR × 1 / 0.92 = 108.695652… → 108.70 USD
    assert RATES.convert(money("100.00", "EUR"), "USD", FEB) == money("108.70", "USD")


def test_converting_between_two_foreign_currencies_goes_through_both_rates() -> None:
    rates = rates_of(("USD", "0.92", JAN), ("JPY", "0.0064", JAN))
    # 100.00 USD × 0.92 / 0.0064 = 14375 JPY
    converted = rates.convert(money("100.00", "USD"), "JPY", FEB)
    assert (str(converted.amount), converted.currency) == ("14375", "JPY")


def test_converting_uses_the_rate_of_the_instant_asked_for() -> None:
    # 100.00 USD at 0.90 in January, at 0.95 in March
    assert RATES.convert(money("100.00", "USD"), "EUR", JAN) == money("90.00", "EUR")
    assert RATES.convert(money("100.00", "USD"), "EUR", MAR) == money("95.00", "EUR")


def test_converting_to_the_same_currency_only_rounds() -> None:
    converted = RATES.convert(money("10.005", "EUR"), "EUR", JAN)
    assert str(converted.amount) == "10.01"


def test_a_conversion_is_rounded_to_the_target_minor_unit() -> None:
    # 1.00 EUR / 2.75 (EUR per KWD) = 0.363636… → 0.364 KWD
    rates = rates_of(("KWD", "2.75", JAN))
    converted = rates.convert(money("1.00", "EUR"), "KWD", JAN)
    assert (str(converted.amount), converted.currency) == ("0.364", "KWD")


def test_a_half_way_conversion_rounds_up() -> None:
    # 10.00 × 1 / 0.0064 = 1562.5 → 1563 JPY (banker's rounding would give 1562)
    assert convert_amount(
        Decimal("10.00"), "JPY", rate_from=Decimal(1), rate_to=Decimal("0.0064")
    ) == Decimal(1563)


def test_money_of_refuses_what_is_not_a_finite_amount() -> None:
    with pytest.raises(InvalidInput, match="is not a decimal amount"):
        Money.of("ten", "EUR")
    with pytest.raises(InvalidInput, match="is not a finite amount"):
        Money.of("Infinity", "EUR")


def test_money_in_different_currencies_does_not_add_up() -> None:
    with pytest.raises(InvalidInput, match="cannot combine EUR and USD amounts without a rate"):
        _ = money("1.00", "EUR") + money("1.00", "USD")
