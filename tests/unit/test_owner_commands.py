"""An owner must be an active user (commands/owners.py, domain/user.py ``ensure_active_user``):
every command that gives a record, a share of one, or the leads a rule routes to a user,
through ``CommandBus`` on the in-memory store.

Naming a deactivated user or a login that is no user is a mistake in the request: 422
``invalid_user``, a sentence naming the login, nothing written. Intake is never refused
for what was decided earlier: a lead whose rule user or first lead's owner has left goes
to the free pool.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any
from uuid import UUID, uuid4, uuid5

import msgspec
import pytest

from commands.bus import CommandBus, Outcome
from commands.handlers import all_handlers
from commands.lead_intake import AddLeadRule, IntakeLead
from commands.leads import AssignLead, CreateLead, QualifyLead, SplitLead
from commands.opportunities import CopyOpportunity, CreateOpportunity, EditOpportunity
from commands.read_model_commands import SetSalesTarget
from commands.reference_data import CreateAccount, EnsureDefaults
from commands.refusals import refusal_of
from commands.users import DeactivateUser
from domain.account import Account
from domain.ids import LEAD_ROUTING_ID
from domain.lead import Lead
from domain.lead_routing import LeadRouting
from domain.opportunity import Opportunity
from domain.targets import SalesTargets, targets_id_for
from domain.user import NotAnActiveUser
from tests.builders import eur
from tests.conftest import T0
from tests.fakes import FixedClock, InMemoryEventStore
from tests.identity import add_users

CLOSE = date(2027, 6, 30)
NAMESPACE = UUID("0b6f6c1e-3a2d-4e5f-9a8b-7c6d5e4f3a21")
# alice and bob are active; lena has left (deactivated); zoe is no user at all.
ACTIVE, LEFT, NOBODY = "alice", "lena", "zoe"


class Org:
    """An organisation with a deal and a lead of bob's, and a lead of the free pool."""

    def __init__(self) -> None:
        self.store = InMemoryEventStore()
        self.bus = CommandBus(
            self.store, FixedClock(T0), handlers=all_handlers(), reporting_currency="EUR"
        )
        self.bus.execute(EnsureDefaults())
        add_users(self.bus, "alice", "bob", LEFT)
        self.deal = self.run(deal(owner="bob")).id
        self.lead = self.run(lead(owner="bob")).id
        self.pooled = self.run(lead(owner=None)).id

    def run(self, command: Any) -> Outcome:
        return self.bus.execute(command)

    def leave(self, login: str) -> None:
        self.run(DeactivateUser(login=login))

    def refused(self, command: Any, login: str) -> NotAnActiveUser:
        """``command`` is refused as naming no active user (409 ``invalid_user``, a sentence
        naming ``login``) and writes nothing."""
        before = len(self.store.log)
        with pytest.raises(NotAnActiveUser) as caught:
            self.run(command)
        assert len(self.store.log) == before, "a refused command wrote something"
        refusal = refusal_of(caught.value)
        assert (refusal.status, refusal.error) == (409, "invalid_user")
        assert repr(login) in refusal.detail
        return caught.value

    def load(self, aggregate_id: UUID) -> Any:
        return self.store.load(aggregate_id)


def deal(owner: str, **fields: Any) -> CreateOpportunity:
    return CreateOpportunity(
        opportunity_id=uuid4(),
        title="Rollout",
        owner=owner,
        expected_close=CLOSE,
        account_name="ACME",
        **fields,
    )


def lead(owner: str | None, **fields: Any) -> CreateLead:
    fields.setdefault("company", "ACME")
    return CreateLead(
        lead_id=uuid4(), first_name="Ada", last_name="Lovelace", owner=owner, **fields
    )


@pytest.fixture
def org() -> Org:
    org = Org()
    org.leave(LEFT)
    return org


# Each command that names a user where records go: how it names ``login``, and what it
# gave them when it was accepted.
Naming = Callable[[Org, str], Any]
Given = Callable[[Org, Outcome, str], bool]
COMMANDS: dict[str, tuple[Naming, Given]] = {
    "create an opportunity": (
        lambda org, login: deal(owner=login),
        lambda org, done, login: org.load(done.id).owner == login,
    ),
    "reassign an opportunity": (
        lambda org, login: EditOpportunity(opportunity_id=org.deal, owner=login),
        lambda org, done, login: org.load(org.deal).owner == login,
    ),
    "copy an opportunity for": (
        lambda org, login: CopyOpportunity(
            opportunity_id=org.deal, new_opportunity_id=uuid4(), owner=login
        ),
        lambda org, done, login: org.load(done.id).owner == login,
    ),
    "create a lead": (
        lambda org, login: lead(owner=login),
        lambda org, done, login: org.load(done.id).owner == login,
    ),
    "take in a lead for": (
        lambda org, login: IntakeLead(
            lead_id=uuid4(), first_name="Ada", last_name="L", owner=login
        ),
        lambda org, done, login: org.load(done.id).owner == login,
    ),
    "assign a lead": (
        lambda org, login: AssignLead(lead_id=org.lead, owner=login),
        lambda org, done, login: org.load(org.lead).owner == login,
    ),
    "split a lead": (
        lambda org, login: SplitLead(lead_id=org.lead, shares={login: 60, "bob": 40}),
        lambda org, done, login: {s.user for s in org.load(org.lead).shares} == {"bob", login},
    ),
    "qualify a pooled lead for": (
        lambda org, login: QualifyLead(
            lead_id=org.pooled,
            opportunity_id=uuid5(NAMESPACE, "qualified"),
            title="From the lead",
            expected_close=CLOSE,
            owner=login,
        ),
        lambda org, done, login: org.load(uuid5(NAMESPACE, "qualified")).owner == login,
    ),
    "add a rule assigning to": (
        lambda org, login: AddLeadRule(rule_id=uuid4(), priority=1, assign=login),
        lambda org, done, login: org.load(LEAD_ROUTING_ID).rule(done.id).action.assign == login,
    ),
    "add a rule splitting to": (
        lambda org, login: AddLeadRule(rule_id=uuid4(), priority=1, split={login: 50, "bob": 50}),
        lambda org, done, login: (
            login in {s.user for s in org.load(LEAD_ROUTING_ID).rule(done.id).action.split}
        ),
    ),
    "set the sales target of": (
        lambda org, login: SetSalesTarget(owner=login, period="2027-Q1", amount=eur(1000)),
        lambda org, done, login: isinstance(org.load(targets_id_for(login)), SalesTargets),
    ),
    "create an account owned by": (
        lambda org, login: CreateAccount(name="Globex", owner=login),
        lambda org, done, login: (
            isinstance(org.load(done.id), Account) and org.load(done.id).owner == login
        ),
    ),
}


@pytest.mark.parametrize("kind", COMMANDS)
def test_a_command_naming_an_active_user_gives_them_the_record(org: Org, kind: str) -> None:
    name, given = COMMANDS[kind]
    # When the command names alice, an active user
    done = org.run(name(org, ACTIVE))
    # Then it is accepted, and what it made or changed is hers
    assert given(org, done, ACTIVE)


@pytest.mark.parametrize("login", [LEFT, NOBODY], ids=["deactivated", "no user"])
@pytest.mark.parametrize("kind", COMMANDS)
def test_a_command_naming_a_deactivated_user_or_no_user_is_refused(
    org: Org, kind: str, login: str
) -> None:
    name, _ = COMMANDS[kind]
    # When the command names lena (deactivated) or zoe (no user): then it is refused (422),
    # naming the login, and writes nothing
    org.refused(name(org, login), login)


def test_the_sentence_names_the_login_and_what_the_request_named_them_as(org: Org) -> None:
    error = org.refused(deal(owner=NOBODY), NOBODY)
    assert error.detail == "'zoe' (the owner) is not a user; name an active user."
    error = org.refused(SplitLead(lead_id=org.lead, shares={"bob": 50, LEFT: 50}), LEFT)
    assert error.detail == "'lena' (a user of the split) is deactivated; name an active user."


def test_a_login_is_taken_trimmed(org: Org) -> None:
    done = org.run(deal(owner="  bob "))
    assert org.load(done.id).owner == "bob"


def test_a_user_deactivated_after_the_fact_keeps_what_they_had_and_gets_nothing_new(
    org: Org,
) -> None:
    # Given bob's deal, and bob leaving
    org.leave("bob")
    # When the deal is edited naming its owner again, with a new title
    org.run(EditOpportunity(opportunity_id=org.deal, owner="bob", title="Renamed"))
    # Then that changes nothing about its owner, and is not refused
    opportunity = org.load(org.deal)
    assert isinstance(opportunity, Opportunity)
    assert (opportunity.owner, opportunity.title) == ("bob", "Renamed")
    # But a new deal for him is refused, and so is reassigning another deal to him
    org.refused(deal(owner="bob"), "bob")
    other = org.run(deal(owner="alice")).id
    org.refused(EditOpportunity(opportunity_id=other, owner="bob"), "bob")


def test_a_copy_takes_the_sources_owner_unless_it_names_another(org: Org) -> None:
    # Given bob's deal copied while he is active: the copy is his
    copy = org.run(CopyOpportunity(opportunity_id=org.deal, new_opportunity_id=uuid4()))
    assert org.load(copy.id).owner == "bob"
    # When he has left, a copy for him is refused
    org.leave("bob")
    error = org.refused(CopyOpportunity(opportunity_id=org.deal, new_opportunity_id=uuid4()), "bob")
    assert "the copy's owner" in error.detail
    # Then naming an active owner for the copy goes through
    copy = org.run(
        CopyOpportunity(opportunity_id=org.deal, new_opportunity_id=uuid4(), owner="alice")
    )
    assert org.load(copy.id).owner == "alice"


def test_qualifying_a_lead_whose_owner_left_needs_an_active_owner_for_the_deal(
    org: Org,
) -> None:
    # Given bob's lead, and bob leaving
    org.leave("bob")
    qualify = QualifyLead(
        lead_id=org.lead, opportunity_id=uuid4(), title="From the lead", expected_close=CLOSE
    )
    # When it is qualified without an owner: the deal would be his, and it is refused
    error = org.refused(qualify, "bob")
    assert "the lead's owner" in error.detail
    # Then naming alice makes the deal hers
    qualified = org.run(msgspec.structs.replace(qualify, owner="alice"))
    assert org.load(UUID(qualified.extra["opportunity_id"])).owner == "alice"


# --- intake: what was decided earlier never refuses a lead --------------------------------


def intake(org: Org, **fields: Any) -> Outcome:
    fields.setdefault("first_name", "Ada")
    fields.setdefault("last_name", f"Lovelace {uuid4()}")
    return org.run(IntakeLead(lead_id=uuid4(), **fields))


def test_a_rule_whose_user_left_sends_its_leads_to_the_free_pool(org: Org) -> None:
    # Given a rule giving every lead to bob, and bob leaving afterwards
    rule = org.run(AddLeadRule(rule_id=uuid4(), priority=1, assign="bob")).id
    org.leave("bob")
    # When a lead comes in
    answer = intake(org)
    # Then it goes to the free pool, the rule that matched said
    assert (answer.extra["owner"], answer.extra["pool"]) == (None, True)
    assert answer.extra["rule_id"] == str(rule)
    created = org.load(answer.id)
    assert isinstance(created, Lead) and created.in_pool and created.routed_by_rule == rule


def test_a_split_goes_on_as_the_rule_says_and_the_picks_of_a_user_who_left_go_to_the_pool(
    org: Org,
) -> None:
    # Given a 50/50 split between alice and bob, and bob leaving afterwards
    rule = org.run(AddLeadRule(rule_id=uuid4(), priority=1, split={"alice": 50, "bob": 50})).id
    org.leave("bob")
    # When four leads come in
    owners = [intake(org).extra["owner"] for _ in range(4)]
    # Then alice gets her two, bob's two go to the pool, and the round-robin counts them all
    assert sorted(owners, key=str) == [None, None, "alice", "alice"]
    routing = org.load(LEAD_ROUTING_ID)
    assert isinstance(routing, LeadRouting)
    assert routing.rule(rule).counts == (2, 2)


def test_a_duplicate_of_a_lead_whose_owner_left_goes_to_the_free_pool(org: Org) -> None:
    # Given a lead of bob's with an e-mail, and bob leaving
    intake(org, email="ada@example.org", owner="bob")
    org.leave("bob")
    # When a lead with the same e-mail comes in
    again = intake(org, email="ada@example.org")
    # Then it is a duplicate, in the free pool
    assert again.extra["duplicate_of"] is not None
    assert (again.extra["owner"], again.extra["pool"]) == (None, True)


def test_intake_naming_no_active_user_is_refused(org: Org) -> None:
    for login in (LEFT, NOBODY):
        org.refused(IntakeLead(lead_id=uuid4(), first_name="A", last_name="B", owner=login), login)
