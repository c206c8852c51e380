"""Opportunity: Given / When / Then against events."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from uuid import UUID, uuid4

import msgspec
import pytest

from domain import opportunity
from domain.errors import InvalidInput, Locked, NotFound, RuleViolated
from domain.events import DomainEvent
from domain.opportunity import (
    ActiveQuoteChanged,
    BusinessRole,
    BusinessRoleAdded,
    BusinessRoleRemoved,
    ExpectedCloseChanged,
    Opportunity,
    OpportunityAmountChanged,
    OpportunityCreated,
    OpportunityDeleted,
    OpportunityForecastCategorySet,
    OpportunityLost,
    OpportunityMarkedUnqualified,
    OpportunityMovedToStage,
    OpportunityProbabilitySet,
    OpportunityReassigned,
    OpportunityRenamed,
    OpportunityReopened,
    PartnerAssigned,
    SalesActivityDeleted,
    SalesActivityEdited,
    SalesActivityLogged,
)
from domain.pipeline import Pipeline, PipelineCreated
from tests.builders import (
    ACCOUNT,
    ACTIVITY,
    OPPORTUNITY_ID,
    PARTNER,
    QUOTE_ID,
    SALES,
    eur,
    money,
    opportunity_created,
    opportunity_sold,
    sales_activity,
)
from tests.gwt import given

ROLE = UUID("00000000-0000-4000-8000-0000000000c1")
CONTACT = UUID("00000000-0000-4000-8000-0000000000c7")
Command = Callable[[Opportunity], list[DomainEvent]]


def _create(**overrides: object) -> list[DomainEvent]:
    fields: dict[str, object] = {
        "title": "ACME rollout",
        "account_id": ACCOUNT,
        "owner": "alice",
        "pipeline": SALES,
        "expected_close": date(2027, 3, 31),
        "amount": eur("1000.00"),
    }
    fields.update(overrides)
    return opportunity.create(**fields)  # type: ignore[arg-type]


def test_creating_starts_in_the_first_open_stage_with_the_stage_probability() -> None:
    created = _create()
    assert [type(e) for e in created] == [OpportunityCreated]
    state = given(*created).state
    assert (state.stage, state.probability(SALES), state.forecast_category(SALES)) == (
        "initial_contact",
        10,
        "pipeline",
    )


def test_creating_in_a_closed_stage_is_refused() -> None:
    given().when(lambda _: _create(title="x", amount=eur("0"), stage="won")).then_raises(
        RuleViolated, "use sell, lose or mark unqualified"
    )


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
    given(opportunity_created(), opportunity_sold(amount=eur("10.00"))).when(
        lambda opp: opportunity.edit(opp, title="changed")
    ).then_raises(Locked, "unlock it to change it")


# --- create -----------------------------------------------------------------------


def test_creating_in_a_named_open_stage_records_the_overrides_and_partner() -> None:
    given().when(
        lambda _: _create(
            stage="proposal", probability=65, forecast_category="commit", partner_id=PARTNER
        )
    ).then(
        opportunity_created(
            stage="proposal",
            amount=eur("1000.00"),
            probability=65,
            forecast_category="commit",
            partner_id=PARTNER,
        )
    )


def test_an_overridden_probability_and_category_win_over_the_stage_defaults() -> None:
    state = given(*_create(stage="proposal", probability=65, forecast_category="commit")).state
    # proposal's defaults are 50 % and best_case
    assert (state.probability(SALES), state.forecast_category(SALES)) == (65, "commit")


def test_the_amount_is_rounded_half_up_to_the_currency_minor_unit_at_creation() -> None:
    # 1000.005 EUR → 1000.01 (half up; banker's rounding would give 1000.00)
    created = _create(amount=eur("1000.005"))
    assert isinstance(created[0], OpportunityCreated)
    assert created[0].amount == money("1000.01", "EUR")
    assert str(created[0].amount.amount) == "1000.01"
    # 1500.5 JPY → 1501 (no minor unit)
    created = _create(amount=money("1500.5", "JPY"))
    assert isinstance(created[0], OpportunityCreated)
    assert str(created[0].amount.amount) == "1501"


def test_title_and_owner_are_trimmed_at_creation() -> None:
    created = _create(title="  ACME rollout  ", owner=" bob ")
    assert isinstance(created[0], OpportunityCreated)
    assert (created[0].title, created[0].owner) == ("ACME rollout", "bob")


def test_a_negative_amount_is_refused_at_creation() -> None:
    given().when(lambda _: _create(amount=eur("-0.01"))).then_raises(
        InvalidInput, "an opportunity amount cannot be negative."
    )


def test_a_blank_title_is_refused() -> None:
    given().when(lambda _: _create(title="   ")).then_raises(
        InvalidInput, "an opportunity needs a title."
    )


def test_a_title_longer_than_200_characters_is_refused() -> None:
    given().when(lambda _: _create(title="x" * 201)).then_raises(
        InvalidInput, "at most 200 characters"
    )


def test_a_title_of_exactly_200_characters_is_accepted() -> None:
    created = _create(title="x" * 200)
    assert isinstance(created[0], OpportunityCreated)
    assert len(created[0].title) == 200


def test_a_blank_owner_is_refused() -> None:
    given().when(lambda _: _create(owner=" ")).then_raises(
        InvalidInput, "an opportunity needs an owner."
    )


def test_a_probability_outside_0_to_100_is_refused_at_creation() -> None:
    given().when(lambda _: _create(probability=-1)).then_raises(
        InvalidInput, "a probability is a whole percentage from 0 to 100, not -1."
    )


def test_creating_in_an_unknown_stage_is_refused_with_the_known_stages() -> None:
    given().when(lambda _: _create(stage="closing")).then_raises(
        NotFound, "has no stage 'closing' (stages: initial_contact, qualification"
    )


# --- edit -------------------------------------------------------------------------


def test_editing_the_owner_reassigns_and_remembers_the_previous_owner() -> None:
    given(opportunity_created()).when(lambda opp: opportunity.edit(opp, owner=" bob ")).then(
        OpportunityReassigned(owner="bob", previous_owner="alice")
    )


def test_editing_several_fields_records_one_event_per_change() -> None:
    given(opportunity_created()).when(
        lambda opp: opportunity.edit(
            opp, title="ACME EMEA", expected_close=date(2027, 5, 1), owner="bob"
        )
    ).then(
        OpportunityRenamed(title="ACME EMEA"),
        ExpectedCloseChanged(expected_close=date(2027, 5, 1), previous=date(2027, 3, 31)),
        OpportunityReassigned(owner="bob", previous_owner="alice"),
    )


def test_editing_without_a_change_records_nothing() -> None:
    given(opportunity_created()).when(
        lambda opp: opportunity.edit(
            opp, title=" ACME rollout ", expected_close=date(2027, 3, 31), owner="alice"
        )
    ).then()


def test_editing_to_a_blank_title_is_refused() -> None:
    given(opportunity_created()).when(lambda opp: opportunity.edit(opp, title="")).then_raises(
        InvalidInput, "an opportunity needs a title."
    )


def test_an_edit_changes_the_state() -> None:
    state = (
        given(opportunity_created())
        .when(lambda opp: opportunity.edit(opp, title="ACME EMEA", owner="bob"))
        .then_state()
    )
    assert (state.title, state.owner, state.version) == ("ACME EMEA", "bob", 3)


# --- amount -----------------------------------------------------------------------


def test_changing_the_amount_by_hand_records_the_previous_amount() -> None:
    given(opportunity_created()).when(
        lambda opp: opportunity.change_amount(opp, eur("1500.00"))
    ).then(OpportunityAmountChanged(amount=eur("1500.00"), previous=eur("0.00"), source="manual"))


def test_a_manual_amount_is_rounded_half_up() -> None:
    # 99.995 → 100.00
    given(opportunity_created()).when(
        lambda opp: opportunity.change_amount(opp, eur("99.995"))
    ).then(OpportunityAmountChanged(amount=eur("100.00"), previous=eur("0.00"), source="manual"))


def test_changing_the_amount_to_the_same_figure_records_nothing() -> None:
    # 1500 and 1500.00 are the same amount once rounded
    given(opportunity_created(amount=eur("1500.00"))).when(
        lambda opp: opportunity.change_amount(opp, eur("1500"))
    ).then()


def test_a_negative_amount_is_refused() -> None:
    given(opportunity_created()).when(
        lambda opp: opportunity.change_amount(opp, eur("-5.00"))
    ).then_raises(InvalidInput, "an opportunity amount cannot be negative.")


def test_the_amount_cannot_be_set_by_hand_while_a_quote_is_active() -> None:
    given(opportunity_created(), ActiveQuoteChanged(quote_id=QUOTE_ID)).when(
        lambda opp: opportunity.change_amount(opp, eur("1500.00"))
    ).then_raises(RuleViolated, "the amount is the active quote's total")


def test_the_amount_can_be_set_by_hand_again_once_no_quote_is_active() -> None:
    given(
        opportunity_created(amount=eur("25.00")),
        ActiveQuoteChanged(quote_id=QUOTE_ID),
        ActiveQuoteChanged(quote_id=None),
    ).when(lambda opp: opportunity.change_amount(opp, eur("30.00"))).then(
        OpportunityAmountChanged(amount=eur("30.00"), previous=eur("25.00"), source="manual")
    )


# --- stages -----------------------------------------------------------------------


def test_moving_to_a_stage_returns_the_forecast_category_to_the_stage_default() -> None:
    state = (
        given(opportunity_created(), OpportunityForecastCategorySet(forecast_category="omitted"))
        .when(lambda opp: opportunity.move_to_stage(opp, SALES, "negotiation"))
        .then_state()
    )
    assert state.forecast_category_override is None
    assert (state.stage, state.forecast_category(SALES), state.probability(SALES)) == (
        "negotiation",
        "commit",
        75,
    )


def test_moving_to_the_stage_it_is_in_is_refused() -> None:
    given(opportunity_created()).when(
        lambda opp: opportunity.move_to_stage(opp, SALES, "initial_contact")
    ).then_raises(RuleViolated, "the opportunity is already in stage 'initial_contact'.")


@pytest.mark.parametrize("closed", ["won", "lost", "unqualified"])
def test_moving_to_a_closed_stage_is_refused(closed: str) -> None:
    given(opportunity_created()).when(
        lambda opp: opportunity.move_to_stage(opp, SALES, closed)
    ).then_raises(RuleViolated, "use sell, lose or mark unqualified instead")


def test_moving_to_an_unknown_stage_is_refused() -> None:
    given(opportunity_created()).when(
        lambda opp: opportunity.move_to_stage(opp, SALES, "closing")
    ).then_raises(NotFound, "pipeline 'sales' has no stage 'closing'")


def test_a_stage_may_be_moved_backwards() -> None:
    given(
        opportunity_created(),
        OpportunityMovedToStage(stage="negotiation", previous_stage="initial_contact"),
    ).when(lambda opp: opportunity.move_to_stage(opp, SALES, "qualification")).then(
        OpportunityMovedToStage(stage="qualification", previous_stage="negotiation")
    )


# --- probability and forecast category overrides ----------------------------------------


def test_setting_a_probability_overrides_the_stage_default() -> None:
    state = (
        given(opportunity_created())
        .when(lambda opp: opportunity.set_probability(opp, 40))
        .then_state()
    )
    assert (state.probability_override, state.probability(SALES)) == (40, 40)


def test_clearing_the_probability_returns_to_the_stage_default() -> None:
    when = given(opportunity_created(), OpportunityProbabilitySet(probability=40)).when(
        lambda opp: opportunity.set_probability(opp, None)
    )
    when.then(OpportunityProbabilitySet(probability=None))
    assert when.then_state().probability(SALES) == 10


def test_setting_the_probability_it_already_has_records_nothing() -> None:
    given(opportunity_created(), OpportunityProbabilitySet(probability=40)).when(
        lambda opp: opportunity.set_probability(opp, 40)
    ).then()


def test_clearing_a_probability_that_is_not_overridden_records_nothing() -> None:
    given(opportunity_created()).when(lambda opp: opportunity.set_probability(opp, None)).then()


@pytest.mark.parametrize("probability", [0, 100])
def test_a_probability_of_0_or_100_is_allowed(probability: int) -> None:
    given(opportunity_created()).when(
        lambda opp: opportunity.set_probability(opp, probability)
    ).then(OpportunityProbabilitySet(probability=probability))


def test_a_negative_probability_is_refused() -> None:
    given(opportunity_created()).when(lambda opp: opportunity.set_probability(opp, -1)).then_raises(
        InvalidInput, "not -1"
    )


def test_setting_a_forecast_category_overrides_the_stage_default() -> None:
    when = given(opportunity_created()).when(
        lambda opp: opportunity.set_forecast_category(opp, "commit")
    )
    when.then(OpportunityForecastCategorySet(forecast_category="commit"))
    assert when.then_state().forecast_category(SALES) == "commit"


def test_clearing_the_forecast_category_returns_to_the_stage_default() -> None:
    when = given(
        opportunity_created(), OpportunityForecastCategorySet(forecast_category="commit")
    ).when(lambda opp: opportunity.set_forecast_category(opp, None))
    when.then(OpportunityForecastCategorySet(forecast_category=None))
    assert when.then_state().forecast_category(SALES) == "pipeline"


def test_setting_the_forecast_category_it_already_has_records_nothing() -> None:
    given(
        opportunity_created(), OpportunityForecastCategorySet(forecast_category="best_case")
    ).when(lambda opp: opportunity.set_forecast_category(opp, "best_case")).then()


def test_a_won_opportunity_is_forecast_as_closed_whatever_its_override() -> None:
    state = given(
        opportunity_created(),
        OpportunityForecastCategorySet(forecast_category="omitted"),
        opportunity_sold(),
    ).state
    assert state.forecast_category(SALES) == "closed"
    assert state.probability(SALES) == 100


def test_a_lost_opportunity_is_forecast_as_omitted_whatever_its_override() -> None:
    state = given(
        opportunity_created(),
        OpportunityForecastCategorySet(forecast_category="commit"),
        OpportunityLost(reason="price", stage="lost", previous_stage="initial_contact"),
    ).state
    assert state.forecast_category(SALES) == "omitted"


def test_a_won_opportunity_reads_100_percent_whatever_its_probability_override() -> None:
    state = given(
        opportunity_created(), OpportunityProbabilitySet(probability=40), opportunity_sold()
    ).state
    assert state.probability(SALES) == 100


@pytest.mark.parametrize(
    "closing",
    [
        OpportunityLost(reason="price", stage="lost", previous_stage="initial_contact"),
        OpportunityMarkedUnqualified(
            reason="no budget", stage="unqualified", previous_stage="initial_contact"
        ),
    ],
)
def test_a_lost_or_unqualified_opportunity_reads_0_percent_whatever_its_override(
    closing: DomainEvent,
) -> None:
    state = given(opportunity_created(), OpportunityProbabilitySet(probability=40), closing).state
    assert state.probability(SALES) == 0


def test_a_reopened_opportunity_gets_back_the_override_it_had() -> None:
    state = given(
        opportunity_created(),
        OpportunityProbabilitySet(probability=40),
        OpportunityLost(reason="price", stage="lost", previous_stage="initial_contact"),
        OpportunityReopened(stage="initial_contact"),
    ).state
    assert state.probability(SALES) == 40


# --- partner ----------------------------------------------------------------------


def test_assigning_a_partner_records_it() -> None:
    when = given(opportunity_created()).when(lambda opp: opportunity.assign_partner(opp, PARTNER))
    when.then(PartnerAssigned(partner_id=PARTNER))
    assert when.then_state().partner_id == PARTNER


def test_assigning_the_partner_it_already_has_is_refused() -> None:
    given(opportunity_created(partner_id=PARTNER)).when(
        lambda opp: opportunity.assign_partner(opp, PARTNER)
    ).then_raises(RuleViolated, "the opportunity already has that partner.")


def test_removing_the_partner_assigns_none() -> None:
    when = given(opportunity_created(partner_id=PARTNER)).when(
        lambda opp: opportunity.assign_partner(opp, None)
    )
    when.then(PartnerAssigned(partner_id=None))
    assert when.then_state().partner_id is None


def test_removing_a_partner_when_there_is_none_says_so() -> None:
    given(opportunity_created()).when(
        lambda opp: opportunity.assign_partner(opp, None)
    ).then_raises(RuleViolated, "has no partner to remove")


# --- business roles ---------------------------------------------------------------


def test_adding_a_business_role_records_the_trimmed_contact_and_role() -> None:
    given(opportunity_created()).when(
        lambda opp: opportunity.add_business_role(
            opp, ROLE, contact=" Jane Doe ", role=" decision maker "
        )
    ).then(BusinessRoleAdded(role=BusinessRole(id=ROLE, contact="Jane Doe", role="decision maker")))


def test_the_same_contact_cannot_have_the_same_role_twice() -> None:
    given(
        opportunity_created(),
        BusinessRoleAdded(role=BusinessRole(id=ROLE, contact="Jane Doe", role="champion")),
    ).when(
        lambda opp: opportunity.add_business_role(
            opp, uuid4(), contact="Jane Doe", role=" champion"
        )
    ).then_raises(RuleViolated, "Jane Doe already has the role 'champion' on this opportunity.")


def test_a_contact_may_hold_several_roles() -> None:
    other = UUID("00000000-0000-4000-8000-0000000000c2")
    state = (
        given(
            opportunity_created(),
            BusinessRoleAdded(role=BusinessRole(id=ROLE, contact="Jane Doe", role="champion")),
        )
        .when(
            lambda opp: opportunity.add_business_role(opp, other, contact="Jane Doe", role="signer")
        )
        .then_state()
    )
    assert [(r.id, r.role) for r in state.roles] == [(ROLE, "champion"), (other, "signer")]


@pytest.mark.parametrize(("contact", "role"), [("", "champion"), ("Jane Doe", "  ")])
def test_a_business_role_needs_a_contact_and_a_role(contact: str, role: str) -> None:
    given(opportunity_created()).when(
        lambda opp: opportunity.add_business_role(opp, ROLE, contact=contact, role=role)
    ).then_raises(
        InvalidInput, "a business role needs a role and one contact: a contact_id or a name."
    )


def test_a_business_role_names_a_contact_record_or_a_name_not_both() -> None:
    given(opportunity_created()).when(
        lambda opp: opportunity.add_business_role(
            opp, ROLE, contact="Jane Doe", contact_id=CONTACT, role="champion"
        )
    ).then_raises(InvalidInput, "a business role needs a role and one contact")


def test_a_contact_record_takes_a_role_once() -> None:
    when = given(opportunity_created()).when(
        lambda opp: opportunity.add_business_role(opp, ROLE, contact_id=CONTACT, role=" signer ")
    )
    added = BusinessRoleAdded(role=BusinessRole(id=ROLE, contact_id=CONTACT, role="signer"))
    when.then(added)
    given(opportunity_created(), added).when(
        lambda opp: opportunity.add_business_role(opp, uuid4(), contact_id=CONTACT, role="signer")
    ).then_raises(RuleViolated, f"contact {CONTACT} already has the role 'signer'")


def test_removing_a_business_role_drops_it() -> None:
    when = given(
        opportunity_created(),
        BusinessRoleAdded(role=BusinessRole(id=ROLE, contact="Jane Doe", role="champion")),
    ).when(lambda opp: opportunity.remove_business_role(opp, ROLE))
    when.then(BusinessRoleRemoved(role_id=ROLE))
    assert when.then_state().roles == ()


def test_removing_an_unknown_business_role_is_refused() -> None:
    given(opportunity_created()).when(
        lambda opp: opportunity.remove_business_role(opp, ROLE)
    ).then_raises(NotFound, f"the opportunity has no business role {ROLE}.")


def test_a_removed_role_may_be_added_again() -> None:
    given(
        opportunity_created(),
        BusinessRoleAdded(role=BusinessRole(id=ROLE, contact="Jane Doe", role="champion")),
        BusinessRoleRemoved(role_id=ROLE),
    ).when(
        lambda opp: opportunity.add_business_role(opp, ROLE, contact="Jane Doe", role="champion")
    ).then(BusinessRoleAdded(role=BusinessRole(id=ROLE, contact="Jane Doe", role="champion")))


# --- sales activities -------------------------------------------------------------


def test_logging_a_sales_activity_records_it_with_a_trimmed_subject() -> None:
    logged = sales_activity(" Discovery call ", activity_id=ACTIVITY, notes="budget ok")
    when = given(opportunity_created()).when(lambda opp: opportunity.log_activity(opp, logged))
    when.then(
        SalesActivityLogged(
            activity=sales_activity("Discovery call", activity_id=ACTIVITY, notes="budget ok")
        )
    )
    assert [a.subject for a in when.then_state().activities] == ["Discovery call"]


def test_a_sales_activity_needs_a_subject() -> None:
    given(opportunity_created()).when(
        lambda opp: opportunity.log_activity(opp, sales_activity("  "))
    ).then_raises(InvalidInput, "a sales activity needs a subject.")


def test_editing_a_sales_activity_changes_only_what_is_given() -> None:
    logged = sales_activity("Discovery call", activity_id=ACTIVITY, notes="budget ok")
    later = datetime(2027, 1, 5, 14, 0, tzinfo=UTC)
    given(opportunity_created(), SalesActivityLogged(activity=logged)).when(
        lambda opp: opportunity.edit_activity(opp, ACTIVITY, kind="meeting", occurred_at=later)
    ).then(
        SalesActivityEdited(
            activity=msgspec.structs.replace(logged, kind="meeting", occurred_at=later)
        )
    )


def test_an_edited_activity_replaces_the_old_one_in_place() -> None:
    first = sales_activity("Discovery call", activity_id=ACTIVITY)
    second = sales_activity("Demo", kind="meeting")
    state = (
        given(
            opportunity_created(),
            SalesActivityLogged(activity=first),
            SalesActivityLogged(activity=second),
        )
        .when(lambda opp: opportunity.edit_activity(opp, ACTIVITY, subject="Kick-off call"))
        .then_state()
    )
    assert [a.subject for a in state.activities] == ["Kick-off call", "Demo"]


def test_editing_an_activity_without_a_change_records_nothing() -> None:
    logged = sales_activity("Discovery call", activity_id=ACTIVITY)
    given(opportunity_created(), SalesActivityLogged(activity=logged)).when(
        lambda opp: opportunity.edit_activity(opp, ACTIVITY, subject=" Discovery call ")
    ).then()


def test_editing_an_activity_to_a_blank_subject_is_refused() -> None:
    logged = sales_activity("Discovery call", activity_id=ACTIVITY)
    given(opportunity_created(), SalesActivityLogged(activity=logged)).when(
        lambda opp: opportunity.edit_activity(opp, ACTIVITY, subject=" ")
    ).then_raises(InvalidInput, "a sales activity needs a subject.")


def test_editing_an_unknown_activity_is_refused() -> None:
    given(opportunity_created()).when(
        lambda opp: opportunity.edit_activity(opp, ACTIVITY, subject="x")
    ).then_raises(NotFound, f"the opportunity has no sales activity {ACTIVITY}.")


def test_deleting_a_sales_activity_drops_it() -> None:
    logged = sales_activity("Discovery call", activity_id=ACTIVITY)
    when = given(opportunity_created(), SalesActivityLogged(activity=logged)).when(
        lambda opp: opportunity.delete_activity(opp, ACTIVITY)
    )
    when.then(SalesActivityDeleted(activity_id=ACTIVITY))
    assert when.then_state().activities == ()


def test_deleting_an_unknown_activity_is_refused() -> None:
    given(opportunity_created()).when(
        lambda opp: opportunity.delete_activity(opp, ACTIVITY)
    ).then_raises(NotFound, "has no sales activity")


# --- lose, mark unqualified, reopen ---------------------------------------------------


def test_losing_moves_to_the_lost_stage_and_records_the_reason_and_stage_it_left() -> None:
    when = given(
        opportunity_created(),
        OpportunityMovedToStage(stage="proposal", previous_stage="initial_contact"),
    ).when(lambda opp: opportunity.lose(opp, SALES, " went with a competitor "))
    when.then(
        OpportunityLost(reason="went with a competitor", stage="lost", previous_stage="proposal")
    )
    state = when.then_state()
    assert (state.status, state.stage, state.close_reason, state.stage_before_close) == (
        "lost",
        "lost",
        "went with a competitor",
        "proposal",
    )
    assert state.locked is False


def test_losing_needs_a_reason() -> None:
    given(opportunity_created()).when(lambda opp: opportunity.lose(opp, SALES, " ")).then_raises(
        InvalidInput, "say why the opportunity was lost."
    )


def test_marking_unqualified_moves_to_the_unqualified_stage() -> None:
    when = given(opportunity_created()).when(
        lambda opp: opportunity.mark_unqualified(opp, SALES, "no budget")
    )
    when.then(
        OpportunityMarkedUnqualified(
            reason="no budget", stage="unqualified", previous_stage="initial_contact"
        )
    )
    state = when.then_state()
    assert (state.status, state.forecast_category(SALES)) == ("unqualified", "omitted")


def test_marking_unqualified_needs_a_reason() -> None:
    given(opportunity_created()).when(
        lambda opp: opportunity.mark_unqualified(opp, SALES, "")
    ).then_raises(InvalidInput, "say why the opportunity is unqualified.")


def test_reopening_a_lost_opportunity_returns_it_to_the_stage_before_close() -> None:
    when = given(
        opportunity_created(),
        OpportunityMovedToStage(stage="negotiation", previous_stage="initial_contact"),
        OpportunityLost(reason="price", stage="lost", previous_stage="negotiation"),
    ).when(lambda opp: opportunity.reopen(opp, SALES))
    when.then(OpportunityReopened(stage="negotiation"))
    state = when.then_state()
    assert (state.status, state.stage, state.close_reason, state.stage_before_close) == (
        "open",
        "negotiation",
        None,
        None,
    )


def test_reopening_an_unqualified_opportunity_returns_it_to_the_stage_before_close() -> None:
    given(
        opportunity_created(),
        OpportunityMovedToStage(stage="qualification", previous_stage="initial_contact"),
        OpportunityMarkedUnqualified(
            reason="no budget", stage="unqualified", previous_stage="qualification"
        ),
    ).when(lambda opp: opportunity.reopen(opp, SALES)).then(
        OpportunityReopened(stage="qualification")
    )


def test_reopening_when_the_stage_before_close_is_gone_uses_the_last_open_stage() -> None:
    # The pipeline no longer has "negotiation"; its last open stage is "proposal".
    trimmed: Pipeline = given(
        PipelineCreated(
            originator_id=SALES.id,
            name="sales",
            stages=tuple(s for s in SALES.stages if s.key != "negotiation"),
        )
    ).state
    given(
        opportunity_created(),
        OpportunityLost(reason="price", stage="lost", previous_stage="negotiation"),
    ).when(lambda opp: opportunity.reopen(opp, trimmed)).then(OpportunityReopened(stage="proposal"))


def test_an_open_opportunity_cannot_be_reopened() -> None:
    given(opportunity_created()).when(lambda opp: opportunity.reopen(opp, SALES)).then_raises(
        RuleViolated, "opportunity 'ACME rollout' is already open."
    )


def test_a_sold_opportunity_is_reopened_by_unlocking_not_by_reopen() -> None:
    given(opportunity_created(), opportunity_sold()).when(
        lambda opp: opportunity.reopen(opp, SALES)
    ).then_raises(RuleViolated, "a sold opportunity is reopened by unlocking it.")


def test_a_reopened_opportunity_can_change_again() -> None:
    given(
        opportunity_created(),
        OpportunityLost(reason="price", stage="lost", previous_stage="initial_contact"),
        OpportunityReopened(stage="initial_contact"),
    ).when(lambda opp: opportunity.edit(opp, title="ACME again")).then(
        OpportunityRenamed(title="ACME again")
    )


# --- locked, closed and deleted refusals --------------------------------------------

CHANGES: dict[str, Command] = {
    "edit": lambda opp: opportunity.edit(opp, title="changed"),
    "change_amount": lambda opp: opportunity.change_amount(opp, eur("1.00")),
    "move_to_stage": lambda opp: opportunity.move_to_stage(opp, SALES, "proposal"),
    "set_probability": lambda opp: opportunity.set_probability(opp, 30),
    "set_forecast_category": lambda opp: opportunity.set_forecast_category(opp, "commit"),
    "assign_partner": lambda opp: opportunity.assign_partner(opp, PARTNER),
    "add_business_role": lambda opp: opportunity.add_business_role(
        opp, ROLE, contact="Jane", role="signer"
    ),
    "remove_business_role": lambda opp: opportunity.remove_business_role(opp, ROLE),
    "log_activity": lambda opp: opportunity.log_activity(opp, sales_activity()),
    "edit_activity": lambda opp: opportunity.edit_activity(opp, ACTIVITY, subject="x"),
    "delete_activity": lambda opp: opportunity.delete_activity(opp, ACTIVITY),
    "lose": lambda opp: opportunity.lose(opp, SALES, "price"),
    "mark_unqualified": lambda opp: opportunity.mark_unqualified(opp, SALES, "no budget"),
}
WITH_ROLE_AND_ACTIVITY: tuple[DomainEvent, ...] = (
    opportunity_created(),
    BusinessRoleAdded(role=BusinessRole(id=ROLE, contact="Jane", role="champion")),
    SalesActivityLogged(activity=sales_activity(activity_id=ACTIVITY)),
)


@pytest.mark.parametrize("command", CHANGES.values(), ids=CHANGES.keys())
def test_a_sold_opportunity_refuses_every_change_until_unlocked(command: Command) -> None:
    given(*WITH_ROLE_AND_ACTIVITY, opportunity_sold()).when(command).then_raises(
        Locked, "opportunity 'ACME rollout' is sold and locked; unlock it to change it."
    )


@pytest.mark.parametrize("command", CHANGES.values(), ids=CHANGES.keys())
def test_a_lost_opportunity_refuses_every_change_until_reopened(command: Command) -> None:
    lost = OpportunityLost(reason="price", stage="lost", previous_stage="initial_contact")
    given(*WITH_ROLE_AND_ACTIVITY, lost).when(command).then_raises(
        RuleViolated, "opportunity 'ACME rollout' is lost; reopen it to change it."
    )


@pytest.mark.parametrize("command", CHANGES.values(), ids=CHANGES.keys())
def test_an_unqualified_opportunity_refuses_every_change_until_reopened(
    command: Command,
) -> None:
    unqualified = OpportunityMarkedUnqualified(
        reason="no budget", stage="unqualified", previous_stage="initial_contact"
    )
    given(*WITH_ROLE_AND_ACTIVITY, unqualified).when(command).then_raises(
        RuleViolated, "is unqualified; reopen it to change it."
    )


@pytest.mark.parametrize("command", CHANGES.values(), ids=CHANGES.keys())
def test_a_deleted_opportunity_refuses_every_change(command: Command) -> None:
    error = (
        given(*WITH_ROLE_AND_ACTIVITY, OpportunityDeleted())
        .when(command)
        .then_raises(NotFound, "was deleted.")
    )
    assert str(OPPORTUNITY_ID) in error.detail


def test_a_deleted_opportunity_cannot_be_reopened() -> None:
    given(
        opportunity_created(),
        OpportunityLost(reason="price", stage="lost", previous_stage="initial_contact"),
        OpportunityDeleted(),
    ).when(lambda opp: opportunity.reopen(opp, SALES)).then_raises(NotFound, "was deleted.")


def test_a_locked_refusal_is_also_a_rule_violation() -> None:
    # The HTTP layer maps RuleViolated (and so Locked) to 409.
    assert issubclass(Locked, RuleViolated)
