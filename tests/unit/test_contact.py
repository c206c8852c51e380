"""Contact: Given / When / Then against events for every behaviour of domain/contact/."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest

from domain import contact as rules
from domain.contact import (
    Contact,
    ContactAnonymized,
    ContactChanged,
    ContactCreated,
    ContactPersonChanged,
    ContactSharingChanged,
    Person,
)
from domain.errors import InvalidInput, RuleViolated
from tests.builders import ACCOUNT
from tests.gwt import given

OTHER_ACCOUNT = UUID("00000000-0000-4000-8000-00000000acc2")
LEAD = UUID("00000000-0000-4000-8000-0000000000e7")
JANE = Person(first_name="Jane", last_name="Doe", email="jane@example.com", phone="+49 30 1")


def created(**overrides: Any) -> ContactCreated:
    fields: dict[str, Any] = {"person": JANE, "title": "Buyer", "owner": "alice"}
    fields.update(overrides)
    (event,) = rules.create(**fields)
    assert isinstance(event, ContactCreated)
    return event


def test_a_contact_is_created_with_its_person_trimmed() -> None:
    messy = Person(first_name=" Jane ", last_name=" Doe  Smith ", email=" jane@example.com ")
    assert rules.create(person=messy, title=" Head  of Sales ", account_id=ACCOUNT) == [
        ContactCreated(
            person=Person(first_name="Jane", last_name="Doe Smith", email="jane@example.com"),
            title="Head of Sales",
            account_id=ACCOUNT,
        )
    ]


def test_a_contact_made_from_a_lead_names_it_and_may_have_a_blank_first_name() -> None:
    state = given(created(person=Person(first_name=" ", last_name="Doe"), lead_id=LEAD)).state
    assert isinstance(state, Contact)
    assert (state.person, state.lead_id) == (Person(first_name="", last_name="Doe"), LEAD)


@pytest.mark.parametrize(
    ("person", "says"),
    [
        (Person(first_name="Jane", last_name="  "), "a contact needs a last name."),
        (
            Person(first_name="Jane", last_name="Doe", email="jane at example.com"),
            "the e-mail address is not valid (it needs an @ and no spaces).",
        ),
    ],
)
def test_a_contact_needs_a_last_name_and_an_email_that_looks_like_one(
    person: Person, says: str
) -> None:
    with pytest.raises(InvalidInput, match=says.replace("(", r"\(").replace(")", r"\)")):
        rules.create(person=person)


def test_a_change_of_the_person_records_the_whole_person_as_it_is_now() -> None:
    moved = Person(first_name="Jane", last_name="Roe", email="jane@example.com", phone="+49 30 1")
    given(created()).when(lambda c: rules.change(c, person=moved)).then(
        ContactPersonChanged(person=moved)
    )


def test_a_change_of_the_details_records_them_all_as_they_are_now() -> None:
    given(created(account_id=ACCOUNT)).when(
        lambda c: rules.change(c, title=" CPO ", account_id=OTHER_ACCOUNT)
    ).then(ContactChanged(title="CPO", account_id=OTHER_ACCOUNT, owner="alice"))


def test_null_clears_the_title_and_the_account() -> None:
    state = (
        given(created(account_id=ACCOUNT))
        .when(lambda c: rules.change(c, title=None, account_id=None))
        .then_state()
    )
    assert (state.title, state.account_id, state.owner) == (None, None, "alice")


def test_a_change_to_what_is_there_writes_nothing() -> None:
    given(created()).when(
        lambda c: rules.change(c, person=JANE, title="Buyer", owner="alice")
    ).then()


def test_sharing_changes_who_sees_it() -> None:
    state = given(created(), ContactSharingChanged(private=True, shared_with=("bob",))).state
    assert isinstance(state, Contact)
    assert (state.private, state.shared_with) == (True, ("bob",))


def test_anonymize_erases_the_person() -> None:
    when = given(created()).when(rules.anonymize)
    when.then(ContactAnonymized())
    state = when.then_state()
    assert (state.person, state.anonymized, state.title) == (None, True, "Buyer")


def test_an_anonymized_contact_changes_no_more() -> None:
    erased = given(created(), ContactAnonymized())
    erased.when(lambda c: rules.change(c, title="CPO")).then_raises(
        RuleViolated, "is anonymized; it cannot change any more."
    )
    erased.when(rules.anonymize).then_raises(RuleViolated, "is already anonymized.")
