"""Lead: Given / When / Then against events for every behaviour of domain/lead/."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import msgspec
import pytest

from domain import lead as rules
from domain.errors import DomainError, InvalidInput, NotFound, RuleViolated
from domain.events import DomainEvent
from domain.lead import (
    DISQUALIFIED_AS,
    Lead,
    LeadActivity,
    LeadActivityDeleted,
    LeadActivityEdited,
    LeadActivityLogged,
    LeadAddedToAccount,
    LeadAddedToPartner,
    LeadAnonymized,
    LeadArchived,
    LeadAssigned,
    LeadCreated,
    LeadDetailsChanged,
    LeadDisqualified,
    LeadPersonalDataChanged,
    LeadQualified,
    LeadShare,
    LeadSplit,
    LeadUnarchived,
    LeadWorkStarted,
)
from domain.personal_data import PersonalData
from tests.builders import ACCOUNT, ACTIVITY, PARTNER
from tests.gwt import given

OTHER_ACCOUNT = UUID("00000000-0000-4000-8000-00000000acc2")
OTHER_PARTNER = UUID("00000000-0000-4000-8000-0000000000b2")
CAMPAIGN = UUID("00000000-0000-4000-8000-0000000000c1")
OPPORTUNITY = UUID("00000000-0000-4000-8000-0000000000e1")
SECOND_ACTIVITY = UUID("00000000-0000-4000-8000-0000000000d2")
CALLED_AT = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)
MET_AT = datetime(2027, 1, 5, 14, 0, tzinfo=UTC)

ADA = PersonalData(
    first_name="Ada",
    last_name="Lovelace",
    email="ada@example.org",
    phone="+49 30 1234567",
    address="Analytical Way 1",
    notes="Prefers e-mail",
)
Decide = Callable[[Lead], list[DomainEvent]]


# --- history builders ---------------------------------------------------------------------


def created(**overrides: Any) -> LeadCreated:
    fields: dict[str, Any] = {"personal": ADA, "company": "ACME GmbH", "source": "web"}
    fields.update(overrides)
    (event,) = rules.create(**fields)
    assert isinstance(event, LeadCreated)
    return event


def owned(owner: str = "alice", **overrides: Any) -> LeadCreated:
    return created(owner=owner, **overrides)


def call_logged(activity_id: UUID = ACTIVITY, **overrides: Any) -> LeadActivityLogged:
    fields: dict[str, Any] = {
        "activity_id": activity_id,
        "activity_kind": "call",
        "occurred_at": CALLED_AT,
        "subject": "First call",
        "notes": "Wants a demo",
    }
    fields.update(overrides)
    return LeadActivityLogged(**fields)


def log_activity(
    kind: str,
    subject: str,
    *,
    activity_id: UUID = ACTIVITY,
    occurred_at: datetime = CALLED_AT,
    notes: str | None = None,
) -> Decide:
    """``rules.log_activity`` with these arguments, for a ``when``."""
    return lambda lead: rules.log_activity(
        lead,
        activity_id=activity_id,
        kind=kind,
        subject=subject,
        occurred_at=occurred_at,
        notes=notes,
    )


QUALIFIED = LeadQualified(opportunity_id=OPPORTUNITY, account_id=ACCOUNT)
DISQUALIFIED = LeadDisqualified(disqualified_as="junk", reason="Spam")


def personal(**changes: Any) -> PersonalData:
    """Ada's personal data with ``changes``."""
    return msgspec.structs.replace(ADA, **changes)


# Every behaviour that changes an existing lead, with arguments that would otherwise work
# on an owned lead with one activity (``ACTIVITY``).
CHANGES: dict[str, Decide] = {
    "edit": lambda lead: rules.edit(lead, company="Other AG"),
    "assign": lambda lead: rules.assign(lead, "bob"),
    "split": lambda lead: rules.split(lead, {"bob": 60, "cy": 40}),
    "log_activity": log_activity(
        "meeting", "Demo", activity_id=SECOND_ACTIVITY, occurred_at=MET_AT
    ),
    "edit_activity": lambda lead: rules.edit_activity(lead, ACTIVITY, subject="Second call"),
    "delete_activity": lambda lead: rules.delete_activity(lead, ACTIVITY),
    "add_to_account": lambda lead: rules.add_to_account(lead, OTHER_ACCOUNT),
    "add_to_partner": lambda lead: rules.add_to_partner(lead, PARTNER),
    "qualify": lambda lead: rules.qualify(lead, opportunity_id=OPPORTUNITY, account_id=ACCOUNT),
    "disqualify": lambda lead: rules.disqualify(lead, "not_interested", "No budget"),
}
# What a closed (qualified or disqualified) lead refuses; edit still works (docs/domain.md).
CLOSED_REFUSES = {name: decide for name, decide in CHANGES.items() if name != "edit"}


# --- create -------------------------------------------------------------------------------


def test_creating_cleans_the_text_and_starts_a_new_lead_in_the_free_pool() -> None:
    decided = (
        given()
        .when(
            lambda _: rules.create(
                personal=PersonalData(
                    first_name="  Ada ",
                    last_name="  Lovelace   King ",
                    email="  ada@example.org ",
                    phone=" +49 30 1234567 ",
                    address="  Analytical Way 1\n",
                    notes="  Prefers e-mail  ",
                    extra={"linkedin": "in/ada", "fax": "   "},
                ),
                company="  ACME    GmbH ",
                source=" web ",
                campaign_id=CAMPAIGN,
                owner="   ",
            )
        )
        .then(
            LeadCreated(
                # Ada's data, cleaned: the last name's inner spaces folded, the blank extra
                # field dropped
                personal=personal(last_name="Lovelace King", extra={"linkedin": "in/ada"}),
                company="ACME GmbH",
                source="web",
                campaign_id=CAMPAIGN,
                owner=None,
                priority="normal",
                channel="manual",
            )
        )
    )
    lead = given(*decided).state
    assert (lead.status, lead.owner, lead.in_pool, lead.archived, lead.anonymized) == (
        "new",
        None,
        True,
        False,
        False,
    )


def test_creating_with_an_owner_trims_the_owner_and_takes_the_lead_out_of_the_pool() -> None:
    lead = given(created(owner="  alice ")).state
    assert (lead.owner, lead.in_pool) == ("alice", False)


def test_creating_without_a_first_name_or_email_keeps_them_empty() -> None:
    (event,) = rules.create(
        personal=PersonalData(first_name="   ", last_name="Lovelace", email=" ")
    )
    assert isinstance(event, LeadCreated)
    assert event.personal == PersonalData(first_name="", last_name="Lovelace")


@pytest.mark.parametrize("last_name", ["", "    ", "\t\n"])
def test_a_lead_without_a_last_name_is_refused(last_name: str) -> None:
    given().when(
        lambda _: rules.create(personal=PersonalData(first_name="Ada", last_name=last_name))
    ).then_raises(InvalidInput, "a lead needs a last name.")


@pytest.mark.parametrize("email", ["ada.example.org", "ada at example.org", "ada @example.org"])
def test_a_lead_with_something_that_is_not_an_email_address_is_refused_without_echoing_it(
    email: str,
) -> None:
    error = (
        given()
        .when(lambda _: rules.create(personal=personal(email=email)))
        .then_raises(InvalidInput, "e-mail address")
    )
    # Refusals are logged; the address is personal data.
    assert "example" not in error.detail


@pytest.mark.parametrize("priority", ["", "critical", "HIGH"])
def test_a_lead_with_an_unknown_priority_is_refused(priority: str) -> None:
    given().when(
        lambda _: rules.create(personal=ADA, priority=priority)  # type: ignore[arg-type]
    ).then_raises(InvalidInput, "priority is one of low, normal, high, urgent")


# --- edit ---------------------------------------------------------------------------------


def test_editing_personal_data_records_the_cleaned_person() -> None:
    given(created()).when(
        lambda lead: rules.edit(lead, personal=personal(email=" ada@lovelace.example ", phone=None))
    ).then(LeadPersonalDataChanged(personal=personal(email="ada@lovelace.example", phone=None)))


def test_editing_details_records_all_details_with_the_unchanged_ones_kept() -> None:
    given(created(campaign_id=CAMPAIGN)).when(
        lambda lead: rules.edit(lead, company="  Other   AG ", priority="high")
    ).then(
        LeadDetailsChanged(company="Other AG", source="web", campaign_id=CAMPAIGN, priority="high")
    )


def test_editing_can_clear_a_detail() -> None:
    given(created(campaign_id=CAMPAIGN)).when(
        lambda lead: rules.edit(lead, source=None, campaign_id=None)
    ).then(
        LeadDetailsChanged(company="ACME GmbH", source=None, campaign_id=None, priority="normal")
    )


def test_editing_person_and_details_at_once_records_both() -> None:
    given(created()).when(
        lambda lead: rules.edit(lead, personal=personal(first_name="Augusta"), source="fair")
    ).then(
        LeadPersonalDataChanged(personal=personal(first_name="Augusta")),
        LeadDetailsChanged(company="ACME GmbH", source="fair", campaign_id=None, priority="normal"),
    )


def test_an_edit_that_changes_nothing_writes_nothing() -> None:
    # The same values, written with other spacing, are no change either.
    given(created(priority="high")).when(
        lambda lead: rules.edit(
            lead,
            personal=personal(last_name="  Lovelace ", email="ada@example.org "),
            company="ACME  GmbH",
            source="web",
            campaign_id=None,
            priority="high",
        )
    ).then()
    given(created()).when(rules.edit).then()


def test_editing_the_person_is_checked_like_creating() -> None:
    given(created()).when(
        lambda lead: rules.edit(lead, personal=personal(last_name=" "))
    ).then_raises(InvalidInput, "a lead needs a last name.")
    given(created()).when(
        lambda lead: rules.edit(lead, personal=personal(email="nobody"))
    ).then_raises(InvalidInput, "e-mail address")


def test_editing_to_an_unknown_priority_is_refused() -> None:
    given(created()).when(
        lambda lead: rules.edit(lead, priority="critical")  # type: ignore[arg-type]
    ).then_raises(InvalidInput, "priority is one of")


@pytest.mark.parametrize("closing", [QUALIFIED, DISQUALIFIED], ids=["qualified", "disqualified"])
def test_a_closed_lead_can_still_be_edited(closing: DomainEvent) -> None:
    # docs/domain.md: closed leads refuse assign, split, activities…; edit still works.
    given(owned(), closing).when(lambda lead: rules.edit(lead, source="fair")).then(
        LeadDetailsChanged(company="ACME GmbH", source="fair", campaign_id=None, priority="normal")
    )


# --- assign -------------------------------------------------------------------------------


def test_assigning_a_pooled_lead_gives_it_an_owner() -> None:
    lead = (
        given(created())
        .when(lambda lead: rules.assign(lead, "  bob "))
        .then(LeadAssigned(owner="bob", previous_owner=None))
    )
    state = given(created(), *lead).state
    assert (state.owner, state.in_pool) == ("bob", False)


def test_reassigning_records_the_previous_owner() -> None:
    given(owned("alice")).when(lambda lead: rules.assign(lead, "bob")).then(
        LeadAssigned(owner="bob", previous_owner="alice")
    )


def test_assigning_to_nobody_puts_the_lead_back_in_the_pool() -> None:
    state = given(owned("alice")).when(lambda lead: rules.assign(lead, None)).then_state()
    assert (state.owner, state.shares, state.in_pool) == (None, (), True)
    given(owned("alice")).when(lambda lead: rules.assign(lead, "   ")).then(
        LeadAssigned(owner=None, previous_owner="alice")
    )


def test_assigning_to_the_current_owner_is_refused() -> None:
    given(owned("alice")).when(lambda lead: rules.assign(lead, " alice ")).then_raises(
        RuleViolated, "the lead is already assigned to alice."
    )


def test_returning_a_pooled_lead_to_the_pool_is_refused() -> None:
    given(created()).when(lambda lead: rules.assign(lead, None)).then_raises(
        RuleViolated, "the lead is already in the free pool."
    )


def test_assigning_replaces_a_split_even_to_the_first_share_user() -> None:
    split = LeadSplit(shares=(LeadShare(user="ann", percent=70), LeadShare(user="bob", percent=30)))
    state = given(created(), split).when(lambda lead: rules.assign(lead, "ann")).then_state()
    assert (state.owner, state.shares) == ("ann", ())


# --- split --------------------------------------------------------------------------------


def test_splitting_keeps_the_shares_in_order_and_makes_the_first_user_the_owner() -> None:
    shares = (
        LeadShare(user="ann", percent=20),
        LeadShare(user="bob", percent=50),
        LeadShare(user="cy", percent=30),
    )
    when = given(owned("alice")).when(
        lambda lead: rules.split(lead, {" ann ": 20, "bob": 50, "cy": 30})
    )
    when.then(LeadSplit(shares=shares))
    state = when.then_state()
    assert (state.owner, state.shares, state.in_pool) == ("ann", shares, False)


def test_one_user_with_all_of_it_is_a_split_too() -> None:
    given(created()).when(lambda lead: rules.split(lead, {"ann": 100})).then(
        LeadSplit(shares=(LeadShare(user="ann", percent=100),))
    )


@pytest.mark.parametrize(
    ("shares", "message"),
    [
        ({"ann": 50, " ann ": 50}, "ann has two shares."),
        ({"ann": 100, "bob": 0}, "bob's share is a whole percentage from 1 to 100."),
        ({"ann": 101}, "ann's share is a whole percentage from 1 to 100."),
        ({"ann": 150, "bob": -50}, "ann's share is a whole percentage from 1 to 100."),
        ({"ann": 99, "bob": True}, "bob's share is a whole percentage from 1 to 100."),
        ({"ann": 50.0, "bob": 50}, "ann's share is a whole percentage from 1 to 100."),
        ({"ann": 50, "  ": 50}, "every share needs a user."),
        ({}, "a split needs at least one share."),
    ],
    ids=[
        "a user twice",
        "zero",
        "over 100",
        "negative",
        "bool",
        "float",
        "no user",
        "empty",
    ],
)
def test_a_split_that_is_not_whole_percentages_summing_to_100_is_refused(
    shares: dict[str, Any], message: str
) -> None:
    given(created()).when(lambda lead: rules.split(lead, shares)).then_raises(InvalidInput, message)


@pytest.mark.parametrize("shares", [{"ann": 50, "bob": 40}, {"ann": 60, "bob": 60}])
def test_shares_that_do_not_sum_to_100_break_the_rule_of_a_split(shares: dict[str, int]) -> None:
    total = sum(shares.values())
    given(created()).when(lambda lead: rules.split(lead, shares)).then_raises(
        RuleViolated, f"the shares sum to {total}, not 100."
    )


def test_splitting_the_same_way_again_is_refused() -> None:
    split = LeadSplit(shares=(LeadShare(user="ann", percent=50), LeadShare(user="bob", percent=50)))
    given(created(), split).when(
        lambda lead: rules.split(lead, {"ann": 50, "bob": 50})
    ).then_raises(RuleViolated, "the lead is already split that way.")
    # The same users in another order is another split (another owner).
    given(created(), split).when(lambda lead: rules.split(lead, {"bob": 50, "ann": 50})).then(
        LeadSplit(shares=(LeadShare(user="bob", percent=50), LeadShare(user="ann", percent=50)))
    )


# --- sales activities ---------------------------------------------------------------------


def test_the_first_activity_starts_the_work_on_the_lead() -> None:
    when = given(owned()).when(log_activity("call", "  First   call ", notes="  Wants a demo "))
    when.then(call_logged(), LeadWorkStarted())
    state = when.then_state()
    assert state.status == "working"
    assert state.activities == (
        LeadActivity(
            id=ACTIVITY,
            kind="call",
            occurred_at=CALLED_AT,
            subject="First call",
            notes="Wants a demo",
        ),
    )


def test_a_later_activity_does_not_start_the_work_again() -> None:
    when = given(owned(), call_logged(), LeadWorkStarted()).when(
        log_activity(
            "meeting", "Demo", activity_id=SECOND_ACTIVITY, occurred_at=MET_AT, notes="   "
        )
    )
    when.then(
        LeadActivityLogged(
            activity_id=SECOND_ACTIVITY,
            activity_kind="meeting",
            occurred_at=MET_AT,
            subject="Demo",
            notes=None,
        )
    )
    state = when.then_state()
    assert state.status == "working"
    assert [a.id for a in state.activities] == [ACTIVITY, SECOND_ACTIVITY]


def test_a_pooled_lead_can_be_worked_too() -> None:
    given(created()).when(log_activity("note", "Left a note")).then(
        LeadActivityLogged(
            activity_id=ACTIVITY,
            activity_kind="note",
            occurred_at=CALLED_AT,
            subject="Left a note",
        ),
        LeadWorkStarted(),
    )


def test_an_activity_without_a_subject_is_refused() -> None:
    given(owned()).when(log_activity("call", "   ")).then_raises(
        InvalidInput, "a sales activity needs a subject."
    )


def test_an_activity_of_an_unknown_kind_is_refused() -> None:
    given(owned()).when(log_activity("fax", "Sent a fax")).then_raises(
        InvalidInput, "an activity kind is one of call, meeting, email, task, note."
    )


def test_an_activity_id_used_twice_is_refused() -> None:
    given(owned(), call_logged(), LeadWorkStarted()).when(
        log_activity("call", "Again", occurred_at=MET_AT)
    ).then_raises(RuleViolated, f"the lead already has an activity {ACTIVITY}.")


def test_editing_an_activity_changes_what_is_given_and_keeps_the_rest() -> None:
    when = given(owned(), call_logged(), LeadWorkStarted()).when(
        lambda lead: rules.edit_activity(lead, ACTIVITY, subject=" Second  call ")
    )
    when.then(
        LeadActivityEdited(
            activity_id=ACTIVITY,
            activity_kind="call",
            occurred_at=CALLED_AT,
            subject="Second call",
            notes="Wants a demo",
        )
    )
    state = when.then_state()
    assert state.activities[0].subject == "Second call"


def test_editing_an_activity_can_change_its_kind_time_and_clear_its_notes() -> None:
    given(owned(), call_logged(), LeadWorkStarted()).when(
        lambda lead: rules.edit_activity(
            lead, ACTIVITY, kind="meeting", occurred_at=MET_AT, notes="  "
        )
    ).then(
        LeadActivityEdited(
            activity_id=ACTIVITY,
            activity_kind="meeting",
            occurred_at=MET_AT,
            subject="First call",
            notes=None,
        )
    )


def test_an_activity_edit_that_changes_nothing_writes_nothing() -> None:
    given(owned(), call_logged(), LeadWorkStarted()).when(
        lambda lead: rules.edit_activity(
            lead, ACTIVITY, kind="call", subject="First call", occurred_at=CALLED_AT
        )
    ).then()


def test_editing_an_activity_is_checked_like_logging_one() -> None:
    history = (owned(), call_logged(), LeadWorkStarted())
    given(*history).when(lambda lead: rules.edit_activity(lead, ACTIVITY, subject=" ")).then_raises(
        InvalidInput, "a sales activity needs a subject."
    )
    given(*history).when(lambda lead: rules.edit_activity(lead, ACTIVITY, kind="fax")).then_raises(
        InvalidInput, "an activity kind is one of"
    )


def test_editing_or_deleting_an_unknown_activity_is_not_found() -> None:
    history = (owned(), call_logged(), LeadWorkStarted())
    given(*history).when(
        lambda lead: rules.edit_activity(lead, SECOND_ACTIVITY, subject="x")
    ).then_raises(NotFound, f"the lead has no sales activity {SECOND_ACTIVITY}.")
    given(*history).when(lambda lead: rules.delete_activity(lead, SECOND_ACTIVITY)).then_raises(
        NotFound, f"the lead has no sales activity {SECOND_ACTIVITY}."
    )


def test_deleting_an_activity_removes_only_that_one() -> None:
    history = (owned(), call_logged(), LeadWorkStarted(), call_logged(SECOND_ACTIVITY))
    when = given(*history).when(lambda lead: rules.delete_activity(lead, ACTIVITY))
    when.then(LeadActivityDeleted(activity_id=ACTIVITY))
    state = when.then_state()
    assert [a.id for a in state.activities] == [SECOND_ACTIVITY]


# --- account and partner ------------------------------------------------------------------


def test_adding_to_an_account_records_the_account() -> None:
    when = given(owned()).when(lambda lead: rules.add_to_account(lead, ACCOUNT))
    when.then(LeadAddedToAccount(account_id=ACCOUNT))
    state = when.then_state()
    assert state.account_id == ACCOUNT


def test_adding_to_another_account_moves_the_lead_and_to_the_same_one_is_refused() -> None:
    history = (owned(), LeadAddedToAccount(account_id=ACCOUNT))
    given(*history).when(lambda lead: rules.add_to_account(lead, OTHER_ACCOUNT)).then(
        LeadAddedToAccount(account_id=OTHER_ACCOUNT)
    )
    given(*history).when(lambda lead: rules.add_to_account(lead, ACCOUNT)).then_raises(
        RuleViolated, "the lead is already added to that account."
    )


def test_adding_to_a_partner_takes_a_pooled_lead_out_of_the_pool() -> None:
    when = given(created()).when(lambda lead: rules.add_to_partner(lead, PARTNER))
    when.then(LeadAddedToPartner(partner_id=PARTNER))
    state = when.then_state()
    assert (state.partner_id, state.owner, state.in_pool) == (PARTNER, None, False)


def test_adding_to_another_partner_moves_the_lead_and_to_the_same_one_is_refused() -> None:
    history = (created(partner_id=PARTNER),)
    given(*history).when(lambda lead: rules.add_to_partner(lead, OTHER_PARTNER)).then(
        LeadAddedToPartner(partner_id=OTHER_PARTNER)
    )
    given(*history).when(lambda lead: rules.add_to_partner(lead, PARTNER)).then_raises(
        RuleViolated, "the lead is already with that partner."
    )


# --- qualify and disqualify ---------------------------------------------------------------


def test_qualifying_records_the_opportunity_and_account_and_closes_the_lead() -> None:
    state = (
        given(owned(), call_logged(), LeadWorkStarted())
        .when(lambda lead: rules.qualify(lead, opportunity_id=OPPORTUNITY, account_id=ACCOUNT))
        .then_state()
    )
    given(owned()).when(
        lambda lead: rules.qualify(lead, opportunity_id=OPPORTUNITY, account_id=ACCOUNT)
    ).then(LeadQualified(opportunity_id=OPPORTUNITY, account_id=ACCOUNT))
    assert (state.status, state.opportunity_id, state.account_id) == (
        "qualified",
        OPPORTUNITY,
        ACCOUNT,
    )


def test_a_split_lead_can_be_qualified_for_its_first_share() -> None:
    split = LeadSplit(shares=(LeadShare(user="ann", percent=70), LeadShare(user="bob", percent=30)))
    given(created(), split).when(
        lambda lead: rules.qualify(lead, opportunity_id=OPPORTUNITY, account_id=ACCOUNT)
    ).then(LeadQualified(opportunity_id=OPPORTUNITY, account_id=ACCOUNT))


@pytest.mark.parametrize(
    "history",
    [
        (created(),),
        (created(partner_id=PARTNER),),
        (owned(), LeadAssigned(owner=None, previous_owner="alice")),
    ],
    ids=["pooled", "partner only", "returned to the pool"],
)
def test_a_lead_without_an_owner_cannot_be_qualified(history: tuple[DomainEvent, ...]) -> None:
    given(*history).when(
        lambda lead: rules.qualify(lead, opportunity_id=OPPORTUNITY, account_id=ACCOUNT)
    ).then_raises(RuleViolated, "assign the lead before qualifying it")


@pytest.mark.parametrize("status", DISQUALIFIED_AS)
def test_disqualifying_records_one_of_the_statuses_and_the_reason(status: str) -> None:
    when = given(owned()).when(lambda lead: rules.disqualify(lead, status, "  No   budget "))
    when.then(LeadDisqualified(disqualified_as=status, reason="No budget"))
    state = when.then_state()
    assert (state.status, state.disqualified_as, state.disqualify_reason) == (
        "disqualified",
        status,
        "No budget",
    )


def test_a_pooled_lead_can_be_disqualified() -> None:
    given(created()).when(lambda lead: rules.disqualify(lead, "junk", "Spam")).then(
        LeadDisqualified(disqualified_as="junk", reason="Spam")
    )


@pytest.mark.parametrize("status", ["", "spam", "Junk", "qualified"])
def test_disqualifying_with_a_status_outside_the_list_is_refused(status: str) -> None:
    given(owned()).when(lambda lead: rules.disqualify(lead, status, "Spam")).then_raises(
        InvalidInput,
        "a disqualified lead's status is one of "
        "unqualified, not_interested, lost, junk, duplicate.",
    )


@pytest.mark.parametrize("reason", ["", "   "])
def test_disqualifying_without_a_reason_is_refused(reason: str) -> None:
    given(owned()).when(lambda lead: rules.disqualify(lead, "lost", reason)).then_raises(
        InvalidInput, "say why the lead is disqualified."
    )


@pytest.mark.parametrize("name", list(CLOSED_REFUSES))
@pytest.mark.parametrize(
    ("closing", "status"), [(QUALIFIED, "qualified"), (DISQUALIFIED, "disqualified")]
)
def test_a_closed_lead_refuses_every_change_but_edit(
    name: str, closing: DomainEvent, status: str
) -> None:
    given(owned(), call_logged(), LeadWorkStarted(), closing).when(
        CLOSED_REFUSES[name]
    ).then_raises(RuleViolated, f"is {status}; it is closed.")


@pytest.mark.parametrize("closing", [QUALIFIED, DISQUALIFIED], ids=["qualified", "disqualified"])
def test_a_closed_lead_can_still_be_archived_and_unarchived(closing: DomainEvent) -> None:
    given(owned(), closing).when(rules.archive).then(LeadArchived())
    given(owned(), closing, LeadArchived()).when(rules.unarchive).then(LeadUnarchived())


# --- archive and unarchive ----------------------------------------------------------------


def test_archiving_and_unarchiving_flip_the_archived_flag() -> None:
    archived = given(owned()).when(rules.archive).then_state()
    assert archived.archived is True
    unarchived = given(owned(), LeadArchived()).when(rules.unarchive).then_state()
    assert unarchived.archived is False


def test_archiving_an_archived_lead_is_refused() -> None:
    given(owned(), LeadArchived()).when(rules.archive).then_raises(
        RuleViolated, "the lead is already archived."
    )


def test_unarchiving_a_lead_that_is_not_archived_is_refused() -> None:
    given(owned()).when(rules.unarchive).then_raises(RuleViolated, "the lead is not archived.")
    given(owned(), LeadArchived(), LeadUnarchived()).when(rules.unarchive).then_raises(
        RuleViolated, "the lead is not archived."
    )


@pytest.mark.parametrize("name", list(CHANGES))
def test_an_archived_lead_refuses_every_change(name: str) -> None:
    given(owned(), call_logged(), LeadWorkStarted(), LeadArchived()).when(
        CHANGES[name]
    ).then_raises(RuleViolated, "is archived; unarchive it to change it.")


@pytest.mark.parametrize("name", list(CHANGES))
def test_an_unarchived_lead_takes_changes_again(name: str) -> None:
    decided = (
        given(owned(), call_logged(), LeadWorkStarted(), LeadArchived(), LeadUnarchived())
        .when(CHANGES[name])
        .then_state()
    )
    assert decided.archived is False


# --- anonymize ----------------------------------------------------------------------------


def test_anonymizing_erases_the_person_and_the_activities_words_but_keeps_the_rest() -> None:
    history = (
        owned(campaign_id=CAMPAIGN),
        call_logged(),
        LeadWorkStarted(),
        call_logged(SECOND_ACTIVITY, activity_kind="meeting", occurred_at=MET_AT),
    )
    given(*history).when(rules.anonymize).then(LeadAnonymized())
    state = given(*history).when(rules.anonymize).then_state()
    assert state.anonymized is True
    assert state.personal is None
    assert state.activities == (
        LeadActivity(id=ACTIVITY, kind="call", occurred_at=CALLED_AT, subject=None, notes=None),
        LeadActivity(
            id=SECOND_ACTIVITY, kind="meeting", occurred_at=MET_AT, subject=None, notes=None
        ),
    )
    # What is not about the person stays.
    assert (state.owner, state.company, state.campaign_id, state.status) == (
        "alice",
        "ACME GmbH",
        CAMPAIGN,
        "working",
    )


@pytest.mark.parametrize(
    "history",
    [
        (created(),),
        (owned(), LeadArchived()),
        (owned(), QUALIFIED),
        (owned(), DISQUALIFIED, LeadArchived()),
    ],
    ids=["new", "archived", "qualified", "disqualified and archived"],
)
def test_any_lead_can_be_anonymized(history: tuple[DomainEvent, ...]) -> None:
    given(*history).when(rules.anonymize).then(LeadAnonymized())


ANONYMIZED_REFUSES: dict[str, Decide] = {
    **CHANGES,
    "edit personal data": lambda lead: rules.edit(lead, personal=ADA),
    "archive": rules.archive,
    "unarchive": rules.unarchive,
}


@pytest.mark.parametrize("name", list(ANONYMIZED_REFUSES))
def test_an_anonymized_lead_refuses_every_later_command(name: str) -> None:
    given(owned(), call_logged(), LeadWorkStarted(), LeadAnonymized()).when(
        ANONYMIZED_REFUSES[name]
    ).then_raises(RuleViolated, "is anonymized; it cannot change any more.")


def test_an_archived_anonymized_lead_cannot_be_unarchived() -> None:
    given(owned(), LeadArchived(), LeadAnonymized()).when(rules.unarchive).then_raises(
        RuleViolated, "is anonymized"
    )


def test_anonymizing_twice_is_refused() -> None:
    given(owned(), LeadAnonymized()).when(rules.anonymize).then_raises(
        RuleViolated, "is already anonymized."
    )


def test_every_refusal_is_a_domain_error_with_a_sentence() -> None:
    error = given(owned(), LeadAnonymized()).when(rules.anonymize).then_raises(DomainError)
    assert error.detail.endswith(".")
