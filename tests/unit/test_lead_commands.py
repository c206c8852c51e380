"""Lead commands through ``CommandBus`` on the in-memory store (commands/leads.py,
lead_activities.py, lead_intake.py, campaigns.py).

Duplicate detection and routing at intake, the split's exact shares, a replay routing
the same, qualify's one atomic save, and refusals writing nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date
from typing import Any
from uuid import UUID, uuid5

import pytest

from commands.bus import CommandBus, Outcome
from commands.campaigns import ArchiveCampaign, CreateCampaign
from commands.errors import IdempotencyKeyReused
from commands.handlers import all_handlers
from commands.lead_intake import AddLeadRule, IntakeLead
from commands.leads import (
    AddLeadToPartner,
    AnonymizeLead,
    ArchiveLead,
    AssignLead,
    CreateLead,
    DisqualifyLead,
    EditLead,
    QualifyLead,
    SplitLead,
)
from commands.ports import IdempotencyRecord
from commands.reference_data import CreateAccount, EnsureDefaults
from domain.account import Account, AccountCreated
from domain.contact import Contact, ContactCreated, Person
from domain.errors import AlreadyExists, DomainError, InvalidInput, NotFound, RuleViolated
from domain.events import DomainEvent, payload
from domain.ids import LEAD_ROUTING_ID, account_id_for, contact_id_for_lead
from domain.lead import Lead, LeadAssigned, LeadQualified
from domain.lead_routing import Condition, LeadRouting, LeadSplitPicked
from domain.opportunity import Opportunity, OpportunityCreated
from domain.personal_data import contact_digests
from tests.conftest import T0
from tests.fakes import FixedClock, InMemoryEventStore
from tests.identity import add_users

NAMESPACE = UUID("7a1e2b3c-4d5e-4f60-8a9b-0c1d2e3f4a5b")


def lead_id(n: int | str) -> UUID:
    return uuid5(NAMESPACE, f"lead {n}")


def rule_id(name: str) -> UUID:
    return uuid5(NAMESPACE, f"rule {name}")


OPPORTUNITY = uuid5(NAMESPACE, "opportunity")
# The users leads go to in these tests (owners, split users, rule users): active users all.
USERS = ("alice", "bob", "ann", "cy", "dee", "eve", "zed")


def qualify(lead: int | str, title: str = "Rollout", **fields: Any) -> QualifyLead:
    """Qualify the lead into ``OPPORTUNITY``, expected to close at the end of June 2027."""
    return QualifyLead(
        lead_id=lead_id(lead),
        opportunity_id=OPPORTUNITY,
        title=title,
        expected_close=date(2027, 6, 30),
        **fields,
    )


class CountingStore(InMemoryEventStore):
    """The in-memory store, counting its saves (one command, one save)."""

    def __init__(self) -> None:
        super().__init__()
        self.saves = 0

    def save(
        self,
        events: Sequence[DomainEvent],
        *,
        idempotency: IdempotencyRecord | None = None,
        **rest: Any,
    ) -> int:
        position = super().save(events, idempotency=idempotency, **rest)
        self.saves += 1
        return position


class App:
    def __init__(self) -> None:
        self.store = CountingStore()
        self.bus = CommandBus(
            self.store, FixedClock(T0), handlers=all_handlers(), reporting_currency="EUR"
        )
        self.bus.execute(EnsureDefaults())
        add_users(self.bus, *USERS)

    def run(self, command: Any) -> Outcome:
        return self.bus.execute(command)

    def in_one_save(self, command: Any) -> tuple[Outcome, list[DomainEvent]]:
        """Run ``command``, which must write in one save: its answer and what it wrote."""
        before, saves = len(self.store.log), self.store.saves
        answer = self.run(command)
        assert self.store.saves == saves + 1
        return answer, list(self.store.log[before:])

    def intake(self, n: int | str, **fields: Any) -> Outcome:
        fields.setdefault("first_name", "Ada")
        fields.setdefault("last_name", f"Lovelace {n}")
        return self.run(IntakeLead(lead_id=lead_id(n), **fields))

    def lead(self, aggregate_id: UUID) -> Lead:
        state = self.store.load(aggregate_id)
        assert isinstance(state, Lead)
        return state

    def routing(self) -> LeadRouting:
        state = self.store.load(LEAD_ROUTING_ID)
        assert isinstance(state, LeadRouting)
        return state

    def refused(self, command: Any, error: type[DomainError], match: str) -> None:
        """The command is refused with ``error`` and writes nothing."""
        before, saves = len(self.store.log), self.store.saves
        with pytest.raises(error, match=match):
            self.run(command)
        assert (len(self.store.log), self.store.saves) == (before, saves)


@pytest.fixture
def app() -> App:
    return App()


def catch_all(app: App, **action: Any) -> None:
    app.run(AddLeadRule(rule_id=rule_id("catch-all"), priority=100, **action))


# --- duplicates ---------------------------------------------------------------------------


def test_the_same_email_in_another_case_and_spacing_is_a_duplicate_routed_to_the_first_owner(
    app: App,
) -> None:
    catch_all(app, assign="zed")
    first = app.intake(1, email="ada@example.org", owner="alice")
    assert (first.extra["owner"], first.extra["duplicate_of"]) == ("alice", None)

    again = app.intake(2, email="  ADA@Example.ORG ")

    assert again.extra["duplicate_of"] == str(lead_id(1))
    assert (again.extra["owner"], again.extra["rule_id"], again.extra["pool"]) == (
        "alice",
        None,
        False,
    )
    assert app.lead(lead_id(2)).duplicate_of == lead_id(1)
    assert app.lead(lead_id(2)).owner == "alice"


@pytest.mark.parametrize(
    "written", ["030 1234567", "(030) 123-45-67", "0049 30 1234567", "+49.30.123.45.67"]
)
def test_the_same_phone_in_another_format_is_a_duplicate(app: App, written: str) -> None:
    catch_all(app, assign="zed")
    app.intake(1, phone="+49 30 1234567", owner="alice")

    again = app.intake(2, phone=written, email="someone.else@example.org")

    assert again.extra["duplicate_of"] == str(lead_id(1))
    assert again.extra["owner"] == "alice"


def test_another_phone_and_email_is_no_duplicate(app: App) -> None:
    catch_all(app, assign="zed")
    app.intake(1, phone="+49 30 1234567", email="ada@example.org", owner="alice")

    other = app.intake(2, phone="+49 30 1234568", email="ada@example.com")

    assert (other.extra["duplicate_of"], other.extra["owner"]) == (None, "zed")


def test_a_duplicate_follows_the_first_lead_even_to_the_pool_or_a_partner(app: App) -> None:
    partner = app.run(CreateAccount(name="Reseller GmbH", partner=True)).id
    app.intake(1, email="pooled@example.org")
    app.intake(2, email="partnered@example.org")
    app.run(AddLeadRule(rule_id=rule_id("later"), priority=100, assign="zed"))
    app.run(AddLeadToPartner(lead_id=lead_id(2), partner_id=partner))

    to_pool = app.intake(3, email="POOLED@example.org")
    to_partner = app.intake(4, email="partnered@example.org")

    assert (to_pool.extra["owner"], to_pool.extra["pool"]) == (None, True)
    assert (to_partner.extra["owner"], to_partner.extra["partner_id"]) == (None, str(partner))


def test_a_duplicate_does_not_advance_a_split(app: App) -> None:
    catch_all(app, split={"ann": 50, "bob": 50})
    app.intake(1, email="ada@example.org")
    picked = len(app.store.history(LEAD_ROUTING_ID))

    app.intake(2, email="ada@example.org")

    assert len(app.store.history(LEAD_ROUTING_ID)) == picked
    assert app.routing().rules[0].counts == (1, 0)


def test_an_anonymized_first_lead_no_longer_matches(app: App) -> None:
    catch_all(app, assign="zed")
    app.intake(1, email="ada@example.org", phone="030 1234567", owner="alice")
    app.run(AnonymizeLead(lead_id=lead_id(1)))

    after = app.intake(2, email="ada@example.org", phone="+49 30 1234567")
    assert (after.extra["duplicate_of"], after.extra["owner"]) == (None, "zed")
    # The new lead claimed the contact: the next one is its duplicate.
    third = app.intake(3, email="Ada@Example.org")
    assert third.extra["duplicate_of"] == str(lead_id(2))


def test_an_edited_email_is_found_as_a_duplicate_and_the_old_one_still_is(app: App) -> None:
    app.intake(1, email="old@example.org", owner="alice")
    app.intake(9, email="taken@example.org", owner="bob")
    app.run(EditLead(lead_id=lead_id(1), email="new@example.org"))

    assert app.intake(2, email="NEW@example.org").extra["duplicate_of"] == str(lead_id(1))
    assert app.intake(3, email="old@example.org").extra["duplicate_of"] == str(lead_id(1))
    # Editing to a contact another lead has leaves it with that lead.
    app.run(EditLead(lead_id=lead_id(1), email="taken@example.org"))
    assert app.intake(4, email="taken@example.org").extra["duplicate_of"] == str(lead_id(9))


def test_a_manual_duplicate_is_linked_but_keeps_the_owner_it_was_given(app: App) -> None:
    app.intake(1, email="ada@example.org", owner="alice")

    answer = app.run(
        CreateLead(
            lead_id=lead_id(2),
            first_name="Ada",
            last_name="L",
            email=" ada@EXAMPLE.org",
            owner="bob",
        )
    )

    assert answer.extra["duplicate_of"] == str(lead_id(1))
    assert (app.lead(lead_id(2)).owner, app.lead(lead_id(2)).duplicate_of) == ("bob", lead_id(1))


# --- routing ------------------------------------------------------------------------------


def test_an_owner_given_at_intake_wins_over_the_rules(app: App) -> None:
    catch_all(app, split={"ann": 50, "bob": 50})
    app.run(AddLeadRule(rule_id=rule_id("assign"), priority=1, assign="zed"))

    answer = app.intake(1, owner=" alice ")

    assert (answer.extra["owner"], answer.extra["rule_id"]) == ("alice", None)
    assert app.lead(lead_id(1)).routed_by_rule is None
    assert not any(isinstance(e, LeadSplitPicked) for e in app.store.log)


def test_a_lead_no_rule_routes_goes_to_the_free_pool(app: App) -> None:
    app.run(
        AddLeadRule(
            rule_id=rule_id("fair"),
            priority=1,
            conditions=(Condition(field="source", op="eq", value="fair"),),
            assign="ann",
        )
    )
    app.run(AddLeadRule(rule_id=rule_id("hot"), priority=2, set_priority="high"))

    answer = app.intake(1, source="web")

    assert answer.extra == {
        "owner": None,
        "partner_id": None,
        "duplicate_of": None,
        "pool": True,
        "priority": "high",
        "rule_id": None,
    }
    assert app.lead(lead_id(1)).in_pool


def test_rules_see_extra_fields_by_lower_case_name(app: App) -> None:
    app.run(
        AddLeadRule(
            rule_id=rule_id("region"),
            priority=1,
            conditions=(Condition(field="Region", op="in", value=("north", "east")),),
            assign="ann",
        )
    )

    answer = app.intake(1, extra={"REGION": " North "})

    assert (answer.extra["owner"], answer.extra["rule_id"]) == ("ann", str(rule_id("region")))
    assert app.lead(lead_id(1)).routed_by_rule == rule_id("region")


def test_a_split_over_100_intakes_gives_exactly_its_percentages(app: App) -> None:
    catch_all(app, split={"ann": 50, "bob": 30, "cy": 20})

    owners = Counter(app.intake(n).extra["owner"] for n in range(100))

    assert owners == {"ann": 50, "bob": 30, "cy": 20}
    assert app.routing().rules[0].counts == (50, 30, 20)
    picks = [e for e in app.store.log if isinstance(e, LeadSplitPicked)]
    assert len(picks) == 100
    assert {p.lead_id: p.user for p in picks} == {
        lead_id(n): app.lead(lead_id(n)).owner for n in range(100)
    }


def _scenario(app: App) -> list[Any]:
    """A mix of rules and intakes; returns where each intake went."""
    app.run(
        AddLeadRule(
            rule_id=rule_id("fair"),
            priority=5,
            conditions=(Condition(field="source", op="eq", value="fair"),),
            split={"ann": 60, "bob": 40},
        )
    )
    catch_all(app, split={"cy": 34, "dee": 33, "eve": 33})
    app.run(AddLeadRule(rule_id=rule_id("hot"), priority=1, set_priority="urgent"))
    routed = []
    for n in range(40):
        fields: dict[str, Any] = {"source": "fair" if n % 3 == 0 else "web"}
        if n % 7 == 0:
            fields["email"] = f"person{n % 5}@example.org"  # some duplicates
        if n % 11 == 0:
            fields["owner"] = "alice"
        answer = app.intake(n, **fields)
        routed.append(
            (answer.extra["owner"], answer.extra["rule_id"], answer.extra["duplicate_of"])
        )
    return routed


def test_a_replay_of_the_same_commands_routes_identically() -> None:
    first, second = App(), App()

    assert _scenario(first) == _scenario(second)

    def comparable(events: Sequence[DomainEvent]) -> list[Any]:
        return [
            (e.originator_id, e.originator_version, type(e).__name__, payload(e)) for e in events
        ]

    assert comparable(first.store.log) == comparable(second.store.log)
    assert first.routing() == second.routing()


# --- qualify ------------------------------------------------------------------------------


def test_qualifying_creates_the_opportunity_and_the_account_in_one_save(app: App) -> None:
    campaign = app.run(CreateCampaign(campaign_id=uuid5(NAMESPACE, "campaign"), name="Fair")).id
    app.intake(1, company="Qualify  GmbH", campaign_id=campaign, owner="alice")
    opportunity_id = OPPORTUNITY
    account_id = account_id_for("Qualify GmbH")
    assert app.store.load(account_id) is None

    answer, written = app.in_one_save(qualify(1, title="Qualify rollout"))

    contact_id = contact_id_for_lead(lead_id(1))
    assert answer.extra == {"opportunity_id": str(opportunity_id), "contact_id": str(contact_id)}
    assert Counter(type(e) for e in written) == {
        AccountCreated: 1,
        LeadQualified: 1,
        ContactCreated: 1,
        OpportunityCreated: 1,
    }
    by_type = {type(e): e for e in written}
    account = by_type[AccountCreated]
    assert isinstance(account, AccountCreated)
    assert (account.originator_id, account.name) == (account_id, "Qualify GmbH")
    qualified = by_type[LeadQualified]
    assert isinstance(qualified, LeadQualified)
    assert (qualified.originator_id, qualified.opportunity_id, qualified.account_id) == (
        lead_id(1),
        opportunity_id,
        account_id,
    )
    created = by_type[OpportunityCreated]
    assert isinstance(created, OpportunityCreated)
    assert (
        created.originator_id,
        created.lead_id,
        created.campaign_id,
        created.account_id,
        created.owner,
        created.title,
    ) == (opportunity_id, lead_id(1), campaign, account_id, "alice", "Qualify rollout")
    assert isinstance(app.store.load(opportunity_id), Opportunity)
    assert isinstance(app.store.load(account_id), Account)
    assert app.lead(lead_id(1)).status == "qualified"


def test_qualifying_for_an_existing_account_creates_no_account(app: App) -> None:
    account_id = app.run(CreateAccount(name="Qualify GmbH")).id
    app.intake(1, company="qualify gmbh", owner="alice")

    _, written = app.in_one_save(qualify(1))

    assert [type(e) for e in written] == [LeadQualified, ContactCreated, OpportunityCreated]
    created = written[2]
    assert isinstance(created, OpportunityCreated)
    assert created.account_id == account_id


def test_qualifying_a_pooled_lead_for_someone_assigns_it_in_the_same_save(app: App) -> None:
    app.intake(1, company="ACME")

    _, written = app.in_one_save(qualify(1, owner="bob"))

    assert Counter(type(e) for e in written) == {
        AccountCreated: 1,
        LeadAssigned: 1,
        LeadQualified: 1,
        ContactCreated: 1,
        OpportunityCreated: 1,
    }
    assert app.lead(lead_id(1)).owner == "bob"
    contact = app.store.load(contact_id_for_lead(lead_id(1)))
    assert isinstance(contact, Contact) and contact.owner == "bob"


def test_qualifying_makes_a_contact_of_the_leads_person_at_the_deals_account(app: App) -> None:
    app.intake(1, email=" Ada@Example.ORG ", phone="030 1234567", company="ACME", owner="alice")
    app.run(EditLead(lead_id=lead_id(1), private=True, shared_with=("bob",)))

    _, written = app.in_one_save(qualify(1))

    (made,) = [e for e in written if isinstance(e, ContactCreated)]
    assert made.originator_id == contact_id_for_lead(lead_id(1))
    contact = app.store.load(made.originator_id)
    assert isinstance(contact, Contact)
    assert contact.person == Person(
        first_name="Ada", last_name="Lovelace 1", email="Ada@Example.ORG", phone="030 1234567"
    )
    assert (contact.account_id, contact.owner, contact.lead_id) == (
        account_id_for("ACME"),
        "alice",
        lead_id(1),
    )
    assert (contact.private, contact.shared_with) == (True, ("bob",))
    # its e-mail and phone are found by their digests, as the lead's are
    for digest in contact_digests("ada@example.org", "+49301234567", "DE"):
        assert app.store.contacts_with_digest(digest) == [made.originator_id]


def test_a_refused_qualification_makes_no_contact(app: App) -> None:
    app.intake("no company", owner="alice")

    app.refused(qualify("no company"), InvalidInput, "the lead has no account and no company")

    assert app.store.load(contact_id_for_lead(lead_id("no company"))) is None


# --- refusals write nothing ---------------------------------------------------------------


def _closed_campaign(app: App) -> UUID:
    campaign = app.run(CreateCampaign(campaign_id=uuid5(NAMESPACE, "old"), name="Old fair")).id
    app.run(ArchiveCampaign(campaign_id=campaign))
    return campaign


def test_an_archived_campaign_refuses_new_leads_and_claims_nothing(app: App) -> None:
    catch_all(app, split={"ann": 50, "bob": 50})
    campaign = _closed_campaign(app)

    app.refused(
        IntakeLead(
            lead_id=lead_id(1),
            first_name="Ada",
            last_name="Lovelace",
            email="ada@example.org",
            campaign_id=campaign,
        ),
        RuleViolated,
        "archived; it takes no new leads",
    )
    app.refused(
        CreateLead(lead_id=lead_id(1), first_name="Ada", last_name="L", campaign_id=campaign),
        RuleViolated,
        "archived; it takes no new leads",
    )

    # The refused intake neither advanced the split nor claimed the e-mail.
    assert app.routing().rules[0].counts == (0, 0)
    later = app.intake(2, email="ada@example.org")
    assert (later.extra["duplicate_of"], later.extra["owner"]) == (None, "ann")


def test_moving_a_lead_into_an_archived_campaign_is_refused(app: App) -> None:
    campaign = _closed_campaign(app)
    app.intake(1, owner="alice")
    app.refused(
        EditLead(lead_id=lead_id(1), campaign_id=campaign),
        RuleViolated,
        "archived; it takes no new leads",
    )


REFUSALS: list[tuple[str, Any, type[DomainError], str]] = [
    (
        "qualify without an owner",
        qualify("pooled"),
        RuleViolated,
        "assign the lead before qualifying it",
    ),
    (
        "qualify without company or account",
        qualify("no company"),
        InvalidInput,
        "the lead has no account and no company",
    ),
    (
        "qualify a closed lead",
        qualify("disqualified"),
        RuleViolated,
        "it is closed",
    ),
    (
        "intake under a taken id",
        IntakeLead(lead_id=lead_id("owned"), first_name="A", last_name="B", email="new@x.org"),
        AlreadyExists,
        "is already taken",
    ),
    (
        "intake without a last name",
        IntakeLead(lead_id=lead_id("new"), first_name="A", last_name=" ", email="new@x.org"),
        InvalidInput,
        "a lead needs a last name",
    ),
    (
        "assign to the owner",
        AssignLead(lead_id=lead_id("owned"), owner="alice"),
        RuleViolated,
        "already assigned",
    ),
    (
        "split not 100",
        SplitLead(lead_id=lead_id("owned"), shares={"a": 50}),
        RuleViolated,
        "not 100",
    ),
    (
        "edit an archived lead",
        EditLead(lead_id=lead_id("archived"), source="x"),
        RuleViolated,
        "archived",
    ),
    (
        "disqualify without a reason",
        DisqualifyLead(lead_id=lead_id("owned"), status="junk", reason=" "),
        InvalidInput,
        "say why",
    ),
    ("archive twice", ArchiveLead(lead_id=lead_id("archived")), RuleViolated, "already archived"),
    (
        "anonymize twice",
        AnonymizeLead(lead_id=lead_id("anonymized")),
        RuleViolated,
        "already anonymized",
    ),
    (
        "assign an anonymized lead",
        AssignLead(lead_id=lead_id("anonymized"), owner="bob"),
        RuleViolated,
        "anonymized",
    ),
    ("a missing lead", AssignLead(lead_id=lead_id("missing"), owner="bob"), NotFound, "no lead"),
    (
        "a rule for a missing partner",
        AddLeadRule(rule_id=rule_id("p"), priority=1, partner=uuid5(NAMESPACE, "nobody")),
        NotFound,
        "no account",
    ),
    (
        "a rule with two actions",
        AddLeadRule(rule_id=rule_id("p"), priority=1, assign="a", set_priority="high"),
        InvalidInput,
        "exactly one of",
    ),
]


@pytest.mark.parametrize(
    ("command", "error", "match"), [r[1:] for r in REFUSALS], ids=[r[0] for r in REFUSALS]
)
def test_a_refused_command_writes_nothing(
    app: App, command: Any, error: type[DomainError], match: str
) -> None:
    app.intake("pooled", company="ACME")
    app.intake("no company", owner="alice")
    app.intake("owned", owner="alice", company="ACME")
    app.intake("archived", owner="alice")
    app.run(ArchiveLead(lead_id=lead_id("archived")))
    app.intake("disqualified", owner="alice", company="ACME")
    app.run(DisqualifyLead(lead_id=lead_id("disqualified"), status="junk", reason="Spam"))
    app.intake("anonymized", owner="alice", email="gone@example.org")
    app.run(AnonymizeLead(lead_id=lead_id("anonymized")))
    assert not any(isinstance(e, OpportunityCreated) for e in app.store.log)

    app.refused(command, error, match)


# --- idempotency keys on personal data (the in-memory store keeps the port's contract) ------


def test_a_keyed_intake_is_fingerprinted_under_the_leads_key_and_compared_until_it_is_gone(
    app: App,
) -> None:
    # Given an intake sent with an idempotency key
    intake = IntakeLead(lead_id=lead_id(1), first_name="Ada", last_name="Lovelace")
    first = app.bus.execute(intake, idempotency_key="k", fingerprint="body-1")
    # Then its record keeps the fingerprint keyed by the lead's data key, not plain
    record = app.store.idempotency_record("k")
    assert record is not None and record.fingerprint.startswith(f"hmac-sha256:{lead_id(1)}:")
    assert "body-1" not in record.fingerprint
    # When the same request comes again it is replayed; another one is refused
    assert app.bus.execute(intake, idempotency_key="k", fingerprint="body-1").replayed
    with pytest.raises(IdempotencyKeyReused):
        app.bus.execute(intake, idempotency_key="k", fingerprint="body-2")
    # When the lead is anonymized, nothing can be compared: any repeat gets the stored answer
    app.run(AnonymizeLead(lead_id=lead_id(1)))
    before = len(app.store.log)
    again = app.bus.execute(intake, idempotency_key="k", fingerprint="body-2")
    assert again.replayed and (again.id, again.version) == (first.id, first.version)
    assert len(app.store.log) == before
