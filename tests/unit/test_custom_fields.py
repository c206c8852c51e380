"""Custom fields: Given / When / Then against events for defining, changing and deleting
fields (domain/custom_fields.py), checking values, and setting them on each aggregate."""

from __future__ import annotations

import re
from typing import Any

import msgspec
import pytest

from adapters.event_store.codec import decode_event, encode_event
from domain import account as account_rules
from domain import contact as contact_rules
from domain import custom_fields as rules
from domain import custom_values as values
from domain import lead as lead_rules
from domain import opportunity as opportunity_rules
from domain.account import AccountCreated, AccountCustomFieldsChanged
from domain.contact import ContactCreated, ContactCustomFieldsChanged, Person
from domain.custom_fields import (
    CustomFieldChanged,
    CustomFieldDefined,
    CustomFieldDeleted,
    CustomFields,
    FieldDefinition,
)
from domain.errors import InvalidInput, Locked, NotFound, RuleViolated
from domain.events import topic_of
from domain.lead import LeadArchived, LeadCreated, LeadCustomFieldsChanged
from domain.opportunity import OpportunityCreated, OpportunityCustomFieldsChanged
from domain.personal_data import PersonalData
from tests.builders import opportunity_created, opportunity_sold
from tests.gwt import given

ACTIVE = {"alice", "bob"}


def active(login: str) -> bool:
    return login in ACTIVE


def budget(**overrides: Any) -> CustomFieldDefined:
    fields: dict[str, Any] = {
        "entity": "opportunity",
        "key": "budget",
        "label": "Budget",
        "type": "number",
    }
    fields.update(overrides)
    return CustomFieldDefined(**fields)


TIER = CustomFieldDefined(
    entity="opportunity", key="tier", label="Tier", type="select", options=("gold", "silver")
)


# --- defining, changing, deleting ----------------------------------------------------------


def test_an_admin_defines_a_field_with_its_label_tidied() -> None:
    given().when(
        lambda state: rules.define(
            state, "opportunity", key="budget", label="  Budget  (net) ", type="number"
        )
    ).then(budget(label="Budget (net)"))


def test_a_select_field_is_defined_with_its_distinct_options() -> None:
    given(budget()).when(
        lambda state: rules.define(
            state,
            "opportunity",
            key="tier",
            label="Tier",
            type="select",
            options=("gold", " silver"),
        )
    ).then(TIER)


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"key": "Budget"}, "a custom field's key is lower-case letters"),
        ({"key": "1st"}, "a custom field's key is lower-case letters"),
        ({"key": "a" * 41}, "a custom field's key is lower-case letters"),
        ({"label": "  "}, "a custom field needs a label."),
        ({"options": ("a",)}, "a number field takes no options."),
        ({"type": "select"}, "a select field needs at least one option."),
        ({"type": "multiselect", "options": ("a", "a")}, "a field's options are distinct."),
        ({"type": "select", "options": ("a", " ")}, "an option is 1 to 100 characters"),
    ],
)
def test_a_definition_is_refused_when_malformed(fields: dict[str, Any], says: str) -> None:
    args: dict[str, Any] = {"key": "budget", "label": "Budget", "type": "number"}
    args.update(fields)
    given().when(lambda state: rules.define(state, "opportunity", **args)).then_raises(
        InvalidInput, says
    )


def test_a_key_is_defined_once_per_entity() -> None:
    given(budget()).when(
        lambda state: rules.define(state, "opportunity", key="budget", label="B", type="text")
    ).then_raises(RuleViolated, "the opportunity field 'budget' is defined already.")
    # another entity (its own aggregate) may use the same key
    assert (
        given()
        .when(lambda state: rules.define(state, "lead", key="budget", label="B", type="text"))
        .then(CustomFieldDefined(entity="lead", key="budget", label="B", type="text"))
    )


def test_a_deleted_fields_key_is_never_defined_again() -> None:
    deleted = CustomFieldDeleted(entity="opportunity", key="budget")
    given(budget(), deleted).when(
        lambda state: rules.define(state, "opportunity", key="budget", label="B", type="text")
    ).then_raises(RuleViolated, "the key 'budget' belonged to a deleted opportunity field")


def test_a_change_writes_the_definition_as_it_is_now_and_nothing_when_nothing_changes() -> None:
    given(TIER).when(
        lambda state: rules.change(
            state, "opportunity", "tier", options=("gold", "silver", "bronze"), required=True
        )
    ).then(
        CustomFieldChanged(
            entity="opportunity",
            key="tier",
            label="Tier",
            options=("gold", "silver", "bronze"),
            required=True,
        )
    )
    given(TIER).when(lambda state: rules.change(state, "opportunity", "tier", label="Tier")).then()


def test_options_are_for_selects_only_and_an_unknown_field_is_not_found() -> None:
    given(budget()).when(
        lambda state: rules.change(state, "opportunity", "budget", options=("a",))
    ).then_raises(RuleViolated, "the number field 'budget' takes no options.")
    given(budget()).when(lambda state: rules.change(state, "opportunity", "nope")).then_raises(
        NotFound, "there is no opportunity field 'nope'."
    )
    given().when(lambda state: rules.delete(state, "lead", "budget")).then_raises(
        NotFound, "there is no lead field 'budget'."
    )


def test_a_deleted_field_leaves_the_definitions() -> None:
    state = (
        given(budget(), TIER)
        .when(lambda state: rules.delete(state, "opportunity", "budget"))
        .then_state()
    )
    assert isinstance(state, CustomFields)
    assert [f.key for f in state.fields] == ["tier"]
    assert state.retired == ("budget",)


# --- checking values -----------------------------------------------------------------------


def field(kind: str, options: tuple[str, ...] = ()) -> FieldDefinition:
    return FieldDefinition(key="f", label="F", type=kind, options=options)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kind", "value", "kept"),
    [
        ("text", "  Big deal ", "Big deal"),
        ("number", "12.50", "12.5"),
        ("number", 12, "12"),
        ("number", 0.25, "0.25"),
        ("number", "-0.000", "0"),
        ("number", "100", "100"),
        ("money", {"amount": "12.5", "currency": "EUR"}, {"amount": "12.50", "currency": "EUR"}),
        ("money", {"amount": "7", "currency": "JPY"}, {"amount": "7", "currency": "JPY"}),
        ("date", "2027-02-28", "2027-02-28"),
        ("bool", False, False),
        ("select", "gold", "gold"),
        ("multiselect", ["silver", "gold"], ("gold", "silver")),
        ("user", "alice", "alice"),
        ("url", "https://example.com/a?b=c#d", "https://example.com/a?b=c#d"),
    ],
)
def test_a_value_is_kept_in_its_canonical_form(kind: str, value: Any, kept: Any) -> None:
    assert values.check_value(field(kind, ("gold", "silver")), value, active) == kept


@pytest.mark.parametrize(
    ("kind", "value", "says"),
    [
        (
            "number",
            "abc",
            "custom field 'f' takes a number (a decimal below 10^15 with at most 6 "
            "places), not 'abc'.",
        ),
        ("number", True, "not true."),
        ("number", "1e3", "not '1e3'."),
        ("number", "0.0000001", "not '0.0000001'."),
        ("number", 10**15, "not 1000000000000000."),
        ("money", {"amount": "1.001", "currency": "EUR"}, "takes an amount of money"),
        ("money", {"amount": 1, "currency": "EUR"}, "takes an amount of money"),
        ("money", {"amount": "1", "currency": "XXX"}, "takes an amount of money"),
        ("date", "2027-02-30", "takes a date like 2027-03-31, not '2027-02-30'."),
        ("date", "0999-01-01", "not '0999-01-01'."),
        ("bool", "true", "takes true or false, not 'true'."),
        ("text", "   ", "takes a text of 1 to 1000 characters"),
        ("text", "x" * 1001, "takes a text of 1 to 1000 characters"),
        ("select", "bronze", "takes one of its options, not 'bronze'."),
        ("multiselect", [], "takes a list of distinct options, not []."),
        ("multiselect", ["gold", "gold"], "takes a list of distinct options"),
        ("user", "carol", "takes the login of an active user, not 'carol'."),
        ("url", "ftp://example.com", "takes an http or https URL, not 'ftp://example.com'."),
        ("url", "https://exa mple.com", "takes an http or https URL"),
        ("url", "https://", "takes an http or https URL"),
    ],
)
def test_a_value_the_type_does_not_take_is_refused_naming_the_field(
    kind: str, value: Any, says: str
) -> None:
    with pytest.raises(InvalidInput, match=re.escape(says)):
        values.check_value(field(kind, ("gold", "silver")), value, active)


def test_values_of_a_new_record_need_every_required_field_and_no_unknown_key() -> None:
    state = given(budget(required=True), TIER).state
    assert values.check_values(state, "opportunity", {"budget": "5", "tier": None}, active) == {
        "budget": "5"
    }
    with pytest.raises(InvalidInput, match="custom field 'budget' is required for a new"):
        values.check_values(state, "opportunity", {"tier": "gold"}, active)
    with pytest.raises(NotFound, match="there is no opportunity custom field 'colour'"):
        values.check_values(state, "opportunity", {"budget": "5", "colour": "red"}, active)


def test_a_change_keeps_only_what_differs_and_may_not_clear_a_required_field() -> None:
    state = given(budget(required=True), TIER).state
    current = {"budget": "5", "tier": "gold"}
    changes = {"budget": "5.0", "tier": None}
    assert values.check_values(state, "opportunity", changes, active, current=current) == {
        "tier": None
    }
    with pytest.raises(InvalidInput, match="custom field 'budget' is required; it cannot be"):
        values.check_values(state, "opportunity", {"budget": None}, active, current=current)


def test_values_given_as_text_read_as_their_type_reads_text() -> None:
    assert values.from_text(field("bool"), "true", active) is True
    assert values.from_text(field("money"), "12.5 EUR", active) == {
        "amount": "12.50",
        "currency": "EUR",
    }
    assert values.from_text(field("multiselect", ("a", "b")), "b, a", active) == ("a", "b")
    assert values.query_text(field("number"), "1.50") == "1.5"
    assert values.query_text(field("multiselect", ("a", "b")), "b") == "b"
    with pytest.raises(
        InvalidInput, match=re.escape("custom field 'f' takes true or false, not 'yes'.")
    ):
        values.from_text(field("bool"), "yes", active)


def test_canonical_text_goes_back_to_the_value() -> None:
    for kind, value in (
        ("bool", True),
        ("money", {"amount": "1.00", "currency": "EUR"}),
        ("multiselect", ("a", "b")),
        ("number", "1.5"),
    ):
        assert values.value_of(kind, values.text_of(value)) == value  # type: ignore[arg-type]


# --- values on each aggregate --------------------------------------------------------------


def test_an_opportunity_takes_custom_values_when_created_and_changed() -> None:
    made = opportunity_created()
    with_values = msgspec.structs.replace(made, custom={"budget": "5"})
    given(with_values).when(
        lambda opp: opportunity_rules.set_custom(opp, {"budget": "7", "tier": None})
    ).then(OpportunityCustomFieldsChanged(custom={"budget": "7", "tier": None}))
    state = (
        given(with_values)
        .when(lambda opp: opportunity_rules.set_custom(opp, {"tier": "gold", "budget": None}))
        .then_state()
    )
    assert state.custom == {"tier": "gold"}
    given(with_values).when(lambda opp: opportunity_rules.set_custom(opp, {})).then()


def test_a_sold_opportunitys_custom_values_are_locked() -> None:
    given(opportunity_created(), opportunity_sold()).when(
        lambda opp: opportunity_rules.set_custom(opp, {"budget": "7"})
    ).then_raises(Locked)


def test_a_lead_takes_custom_values_unless_archived() -> None:
    (made,) = lead_rules.create(
        personal=PersonalData(first_name="Jane", last_name="Doe"), custom={"size": "10"}
    )
    assert isinstance(made, LeadCreated)
    assert given(made).state.custom == {"size": "10"}
    given(made).when(lambda lead: lead_rules.set_custom(lead, {"size": "11"})).then(
        LeadCustomFieldsChanged(custom={"size": "11"})
    )
    given(made, LeadArchived()).when(
        lambda lead: lead_rules.set_custom(lead, {"size": "11"})
    ).then_raises(RuleViolated)


def test_a_contact_and_an_account_take_custom_values() -> None:
    (contact,) = contact_rules.create(
        person=Person(first_name="J", last_name="Doe"), custom={"vip": True}
    )
    assert isinstance(contact, ContactCreated)
    given(contact).when(lambda c: contact_rules.set_custom(c, {"vip": None})).then(
        ContactCustomFieldsChanged(custom={"vip": None})
    )
    (account,) = account_rules.create("ACME", custom={"tier": "gold"})
    assert isinstance(account, AccountCreated)
    assert given(account).state.custom == {"tier": "gold"}
    given(account).when(lambda a: account_rules.set_custom(a, {"tier": "silver"})).then(
        AccountCustomFieldsChanged(custom={"tier": "silver"})
    )


def test_events_stored_before_custom_values_existed_still_decode_without_any() -> None:
    # Given an opportunity creation as stored before the field was added (no "custom")
    event = opportunity_created()
    data = msgspec.json.decode(encode_event(event))
    del data["custom"]
    old = msgspec.json.encode(data)
    # When it is read back, Then it has no custom values, under the same topic
    decoded = decode_event(topic_of(OpportunityCreated), old)
    assert isinstance(decoded, OpportunityCreated)
    assert decoded.custom == {}
    assert topic_of(OpportunityCreated) == "OpportunityCreated"
    assert decoded.title == event.title
