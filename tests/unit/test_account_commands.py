"""Account commands through ``CommandBus`` on the in-memory store (commands/accounts.py,
``CreateAccount``): what each writes, in one save, and that a refused one writes nothing;
parents checked against cycles; merges, and commands naming a merged account sent on to
the survivor; the owner's (or an admin's) right to change an account."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID, uuid5

import pytest

from commands.accounts import ChangeAccount, MergeAccount
from commands.authorization import authorize
from commands.contacts import ChangeContact, CreateContact
from commands.lead_intake import AddLeadRule
from commands.leads import AddLeadToAccount, AddLeadToPartner
from commands.opportunities import CreateOpportunity
from commands.reference_data import CreateAccount
from commands.sharing import ShareAccount
from commands.unit_of_work import Actor
from domain.access import Forbidden, Principal
from domain.account import (
    Account,
    AccountAbsorbed,
    AccountChanged,
    AccountCreated,
    AccountMerged,
    AccountSharingChanged,
    Address,
)
from domain.contact import Contact
from domain.errors import AlreadyExists, DomainError, InvalidInput, NotFound, RuleViolated
from domain.ids import account_id_for
from domain.lead import Lead
from domain.opportunity import Opportunity
from tests.unit.test_lead_commands import App

NAMESPACE = UUID("4c0f7a8e-1d2b-4e3f-8a9b-0c1d2e3f4a5b")
ACME, GLOBEX, HOLDING = (account_id_for(n) for n in ("ACME", "Globex", "Holding"))


@pytest.fixture
def app() -> App:
    app = App()
    for name in ("ACME", "Globex", "Holding"):
        app.run(CreateAccount(name=name, owner="alice"))
    return app


def account(app: App, account_id: UUID) -> Account:
    state = app.store.load(account_id)
    assert isinstance(state, Account)
    return state


def as_user(app: App, login: str, role: str = "rep", team: frozenset[str] = frozenset()) -> Actor:
    app.bus.authorize = authorize
    return Actor(by=login, principal=Principal(login=login, role=role, team=team))  # type: ignore[arg-type]


# --- create ------------------------------------------------------------------------------


def test_an_account_is_created_with_its_details_and_parent_in_one_save(app: App) -> None:
    command = CreateAccount(
        name="ACME Berlin",
        type="customer",
        industry="Retail",
        website="https://acme.example",
        vat_id=" DE123 ",
        address=Address(city="Berlin", country="de"),
        parent_id=ACME,
        private=True,
    )
    answer, written = app.in_one_save(command)
    assert [type(e) for e in written] == [AccountCreated, AccountSharingChanged]
    made = account(app, answer.id)
    assert (made.type, made.vat_id, made.address, made.parent_id) == (
        "customer",
        "DE123",
        Address(city="Berlin", country="DE"),
        ACME,
    )


def test_a_parent_merged_away_is_taken_as_its_survivor(app: App) -> None:
    app.run(MergeAccount(account_id=HOLDING, into=GLOBEX))
    answer = app.run(CreateAccount(name="ACME Berlin", parent_id=HOLDING))
    assert account(app, answer.id).parent_id == GLOBEX


@pytest.mark.parametrize(
    ("command", "error", "says"),
    [
        (
            CreateAccount(name="New", parent_id=account_id_for("Nowhere")),
            NotFound,
            "there is no account with id",
        ),
        (CreateAccount(name="New", website="acme.example"), InvalidInput, "http or https URL"),
        (CreateAccount(name="acme"), AlreadyExists, "an account named 'acme' already exists"),
    ],
)
def test_a_refused_creation_writes_nothing(
    app: App, command: CreateAccount, error: type[DomainError], says: str
) -> None:
    app.refused(command, error, says)


# --- change ------------------------------------------------------------------------------


def test_a_change_writes_the_details_and_the_sharing_in_one_save(app: App) -> None:
    command = ChangeAccount(
        account_id=ACME, type="prospect", parent_id=HOLDING, shared_with=("bob",)
    )
    _, written = app.in_one_save(command)
    assert [type(e) for e in written] == [AccountChanged, AccountSharingChanged]
    assert (account(app, ACME).type, account(app, ACME).parent_id) == ("prospect", HOLDING)
    assert account(app, ACME).shared_with == ("bob",)
    # None clears an optional detail; what is left out stays
    app.run(ChangeAccount(account_id=ACME, parent_id=None))
    assert (account(app, ACME).type, account(app, ACME).parent_id) == ("prospect", None)


def test_a_change_that_changes_nothing_writes_nothing(app: App) -> None:
    before = len(app.store.log)
    app.run(ChangeAccount(account_id=ACME, industry=None, owner="alice"))
    assert len(app.store.log) == before


@pytest.mark.parametrize(
    ("changes", "error", "says"),
    [
        ({"account_id": ACME, "parent_id": ACME}, RuleViolated, "cannot be its own parent"),
        # Holding is below ACME (given below): it cannot be ACME's parent
        ({"account_id": ACME, "parent_id": HOLDING}, RuleViolated, "no cycle of parents"),
        ({"account_id": ACME, "owner": "nobody"}, DomainError, "is not a user"),
        (
            {"account_id": ACME, "address": Address(country="Deutschland")},
            InvalidInput,
            "two-letter",
        ),
        ({"account_id": account_id_for("Nowhere")}, NotFound, "there is no account"),
    ],
)
def test_a_refused_change_writes_nothing(
    app: App, changes: dict[str, Any], error: type[DomainError], says: str
) -> None:
    app.run(ChangeAccount(account_id=GLOBEX, parent_id=ACME))
    app.run(ChangeAccount(account_id=HOLDING, parent_id=GLOBEX))
    app.refused(ChangeAccount(**changes), error, says)


# --- merge -------------------------------------------------------------------------------


def test_a_merge_writes_on_both_accounts_in_one_save(app: App) -> None:
    answer, written = app.in_one_save(MergeAccount(account_id=ACME, into=GLOBEX))
    assert answer.id == ACME
    assert [(type(e), e.originator_id) for e in written] == [
        (AccountMerged, ACME),
        (AccountAbsorbed, GLOBEX),
    ]
    assert (account(app, ACME).merged_into, account(app, GLOBEX).absorbed) == (GLOBEX, (ACME,))


def test_merges_that_would_lose_links_or_loop_are_refused(app: App) -> None:
    app.refused(MergeAccount(account_id=ACME, into=ACME), RuleViolated, "into itself")
    app.refused(
        MergeAccount(account_id=ACME, into=account_id_for("Nowhere")), NotFound, "no account"
    )
    # Globex is below ACME: ACME cannot go into it
    app.run(ChangeAccount(account_id=GLOBEX, parent_id=ACME))
    app.refused(MergeAccount(account_id=ACME, into=GLOBEX), RuleViolated, "one below it")
    app.run(MergeAccount(account_id=HOLDING, into=ACME))
    # no merge into a merged account, no second merge, no change of a merged one
    app.refused(MergeAccount(account_id=GLOBEX, into=HOLDING), RuleViolated, "merge into that")
    app.refused(MergeAccount(account_id=HOLDING, into=GLOBEX), RuleViolated, "was merged")
    app.refused(ChangeAccount(account_id=HOLDING, industry="x"), RuleViolated, "was merged")
    app.refused(ShareAccount(account_id=HOLDING, private=True), RuleViolated, "was merged")


def test_commands_naming_a_merged_account_are_sent_on_to_the_survivor(app: App) -> None:
    # Given ACME merged into Globex, and Globex then into Holding (a chain)
    app.run(MergeAccount(account_id=ACME, into=GLOBEX))
    app.run(MergeAccount(account_id=GLOBEX, into=HOLDING))
    # When records are filed under ACME, by id or by name
    contact_id = uuid5(NAMESPACE, "contact")
    app.run(CreateContact(contact_id=contact_id, first_name="Jo", last_name="Doe", account_id=ACME))
    deal = uuid5(NAMESPACE, "deal")
    app.run(
        CreateOpportunity(
            opportunity_id=deal,
            title="Pilot",
            owner="alice",
            expected_close=date(2027, 6, 30),
            account_name="acme",
        )
    )
    lead = app.intake(1).id
    app.run(AddLeadToAccount(lead_id=lead, account_id=ACME))
    # Then they land under the survivor of the chain
    contact = app.store.load(contact_id)
    opportunity = app.store.load(deal)
    filed = app.store.load(lead)
    assert isinstance(contact, Contact)
    assert isinstance(opportunity, Opportunity)
    assert isinstance(filed, Lead)
    assert (contact.account_id, opportunity.account_id, filed.account_id) == (HOLDING,) * 3
    # and moving a contact to the merged account moves it to the survivor too
    app.run(ChangeContact(contact_id=contact_id, account_id=GLOBEX))
    contact = app.store.load(contact_id)
    assert isinstance(contact, Contact)
    assert contact.account_id == HOLDING


# --- rights ------------------------------------------------------------------------------


def test_the_owner_or_an_admin_changes_an_account_others_are_forbidden(app: App) -> None:
    before = len(app.store.log)
    with pytest.raises(Forbidden, match=r"only the owner of account .* \(alice\) or an admin"):
        app.bus.execute(ChangeAccount(account_id=ACME, industry="x"), actor=as_user(app, "bob"))
    with pytest.raises(Forbidden, match="only the owner"):
        app.bus.execute(ShareAccount(account_id=ACME, private=True), actor=as_user(app, "bob"))
    with pytest.raises(Forbidden, match="an analyst may not"):
        app.bus.execute(
            ChangeAccount(account_id=ACME, industry="x"), actor=as_user(app, "ana", "analyst")
        )
    assert len(app.store.log) == before
    app.bus.execute(ChangeAccount(account_id=ACME, industry="Retail"), actor=as_user(app, "alice"))
    app.bus.execute(
        ChangeAccount(account_id=ACME, industry="Trade"),
        actor=as_user(app, "maria", "manager", frozenset({"alice"})),
    )
    app.bus.execute(
        ChangeAccount(account_id=ACME, industry="Food"), actor=as_user(app, "root", "admin")
    )
    assert account(app, ACME).industry == "Food"


def test_an_account_nobody_owns_is_changed_by_any_sales_user(app: App) -> None:
    app.run(CreateAccount(name="Pooled"))  # made by no user: no owner
    pooled = account_id_for("Pooled")
    assert account(app, pooled).owner is None
    app.bus.execute(ChangeAccount(account_id=pooled, type="customer"), actor=as_user(app, "bob"))
    assert account(app, pooled).type == "customer"


def test_a_merge_needs_the_right_to_change_both_accounts(app: App) -> None:
    app.run(CreateAccount(name="Bobs", owner="bob"))
    bobs = account_id_for("Bobs")
    bob = as_user(app, "bob")
    before = len(app.store.log)
    with pytest.raises(Forbidden, match=r"only the owner of account .* \(alice\)"):
        app.bus.execute(MergeAccount(account_id=bobs, into=ACME), actor=bob)
    with pytest.raises(Forbidden, match=r"only the owner of account .* \(alice\)"):
        app.bus.execute(MergeAccount(account_id=ACME, into=bobs), actor=bob)
    assert len(app.store.log) == before
    app.bus.execute(MergeAccount(account_id=bobs, into=ACME), actor=as_user(app, "root", "admin"))
    assert account(app, bobs).merged_into == ACME


def test_a_private_account_named_as_parent_or_survivor_is_not_there_for_others(app: App) -> None:
    app.run(CreateAccount(name="Hidden", owner="alice", private=True))
    hidden = account_id_for("Hidden")
    app.run(CreateAccount(name="Bobs", owner="bob"))
    bob = as_user(app, "bob")
    with pytest.raises(NotFound, match=f"there is no account with id {hidden}"):
        app.bus.execute(CreateAccount(name="Bobs Sub", parent_id=hidden), actor=bob)
    with pytest.raises(NotFound, match=f"there is no account with id {hidden}"):
        app.bus.execute(MergeAccount(account_id=account_id_for("Bobs"), into=hidden), actor=bob)


def test_a_merged_partner_is_sent_on_to_its_survivor(app: App) -> None:
    # Given the partner account "Resell" merged into "Partner Co"
    for name in ("Resell", "Partner Co"):
        app.run(CreateAccount(name=name, partner=True))
    resell, partner = account_id_for("Resell"), account_id_for("Partner Co")
    app.run(MergeAccount(account_id=resell, into=partner))
    # When a lead, a deal and a lead rule are given to "Resell"
    lead = app.intake(1).id
    app.run(AddLeadToPartner(lead_id=lead, partner_id=resell))
    deal = uuid5(NAMESPACE, "partner deal")
    app.run(
        CreateOpportunity(
            opportunity_id=deal,
            title="Via partner",
            owner="alice",
            expected_close=date(2027, 6, 30),
            account_id=ACME,
            partner_id=resell,
        )
    )
    app.run(AddLeadRule(rule_id=uuid5(NAMESPACE, "rule"), priority=1, partner=resell))
    # Then each names "Partner Co"
    filed, opportunity, routing = (
        app.store.load(lead),
        app.store.load(deal),
        app.routing(),
    )
    assert isinstance(filed, Lead)
    assert isinstance(opportunity, Opportunity)
    assert (filed.partner_id, opportunity.partner_id) == (partner, partner)
    assert [rule.action.partner for rule in routing.rules] == [partner]
