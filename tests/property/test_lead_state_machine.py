"""The Lead aggregate against a model of its rules, over random command sequences.

Commands go through the real command bus on the in-memory store. A small model
(this file's own, not ``domain.lead``) says for each command whether it must be
accepted or refused, and what the lead looks like after. Users come and go: a lead is
given (assigned, split, qualified into a deal) only to active users, never to one
deactivated meanwhile or to a login that is no user. Invariants after every step: the
stored lead equals the model; a refused command wrote nothing; a split always sums to
100 and its first user is the owner; an anonymized lead has no personal data anywhere
in its history.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from uuid import UUID, uuid4

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from commands import leads as ld
from commands.bus import CommandBus
from commands.handlers import all_handlers
from commands.lead_activities import DeleteLeadActivity, LogLeadActivity
from commands.reference_data import EnsureDefaults
from commands.users import DeactivateUser
from domain.errors import DomainError
from domain.lead import Lead
from tests.fakes import FixedClock, InMemoryEventStore
from tests.identity import add_users

USERS = ("ann", "bob", "cy")
# A login no user has: every command naming it is refused.
NOBODY = "zoe"
CLOSED = ("qualified", "disqualified")


@dataclass
class LeadModel:
    owner: str | None = None
    shares: dict[str, int] = field(default_factory=dict)
    status: str = "new"
    archived: bool = False
    anonymized: bool = False
    last_name: str = "Start"
    activities: int = 0
    active: set[str] = field(default_factory=lambda: set(USERS))

    @property
    def changeable(self) -> bool:
        return not self.anonymized and not self.archived

    @property
    def open(self) -> bool:
        return self.changeable and self.status not in CLOSED


class LeadMachine(RuleBasedStateMachine):
    @initialize()
    def start(self) -> None:
        self.store = InMemoryEventStore()
        self.bus = CommandBus(
            self.store,
            FixedClock(datetime(2027, 1, 4, tzinfo=UTC)),
            handlers=all_handlers(),
            reporting_currency="EUR",
        )
        self.bus.execute(EnsureDefaults())
        add_users(self.bus, *USERS)
        self.lead_id = uuid4()
        self.bus.execute(
            ld.CreateLead(
                lead_id=self.lead_id,
                first_name="Una",
                last_name="Start",
                email="una@example.com",
                company="Model Co",
            )
        )
        self.model = LeadModel()
        self.activity_ids: list[UUID] = []

    def _run(self, command: object, accepted: bool) -> bool:
        before = len(self.store.log)
        try:
            self.bus.execute(command)
        except DomainError:
            assert not accepted, f"{type(command).__name__} was refused but should pass"
            assert len(self.store.log) == before, "a refused command wrote something"
            return False
        assert accepted, f"{type(command).__name__} was accepted but should be refused"
        return True

    @rule(user=st.sampled_from(USERS))
    def deactivate(self, user: str) -> None:
        m = self.model
        if self._run(DeactivateUser(login=user), user in m.active):
            m.active.discard(user)

    @rule(owner=st.sampled_from((*USERS, NOBODY, None)))
    def assign(self, owner: str | None) -> None:
        m = self.model
        same = owner == m.owner and not m.shares
        given = owner is None or owner in m.active
        command = ld.AssignLead(lead_id=self.lead_id, owner=owner)
        if self._run(command, m.open and not same and given):
            m.owner, m.shares = owner, {}

    @rule(cut=st.integers(1, 99), users=st.permutations((*USERS, NOBODY)))
    def split(self, cut: int, users: list[str]) -> None:
        m = self.model
        shares = {users[0]: cut, users[1]: 100 - cut}
        same = shares == m.shares and list(shares) == list(m.shares)
        given = set(shares) <= m.active
        command = ld.SplitLead(lead_id=self.lead_id, shares=shares)
        if self._run(command, m.open and not same and given):
            m.shares, m.owner = shares, users[0]

    @rule(total=st.integers(0, 200).filter(lambda t: t != 100))
    def split_not_summing_to_100(self, total: int) -> None:
        shares = {"ann": max(1, total // 2), "bob": max(1, total - max(1, total // 2))}
        if sum(shares.values()) == 100:
            return
        self._run(ld.SplitLead(lead_id=self.lead_id, shares=shares), False)

    @rule(name=st.sampled_from(("Start", "Other", "Third")))
    def rename(self, name: str) -> None:
        m = self.model
        if self._run(ld.EditLead(lead_id=self.lead_id, last_name=name), m.changeable) and (
            name != m.last_name
        ):
            m.last_name = name

    @rule()
    def log_activity(self) -> None:
        m = self.model
        activity = uuid4()
        command = LogLeadActivity(
            lead_id=self.lead_id, activity_id=activity, kind="call", subject="A call"
        )
        if self._run(command, m.open):
            self.activity_ids.append(activity)
            m.activities += 1
            if m.status == "new":
                m.status = "working"

    @rule()
    def delete_activity(self) -> None:
        if not self.activity_ids:
            return
        m = self.model
        command = DeleteLeadActivity(lead_id=self.lead_id, activity_id=self.activity_ids[-1])
        if self._run(command, m.open):
            self.activity_ids.pop()
            m.activities -= 1

    @rule()
    def qualify(self) -> None:
        m = self.model
        command = ld.QualifyLead(
            lead_id=self.lead_id,
            opportunity_id=uuid4(),
            title="From the lead",
            expected_close=date(2027, 6, 30),
        )
        # The deal goes to the lead's owner, who must still be active.
        if self._run(command, m.open and m.owner is not None and m.owner in m.active):
            m.status = "qualified"

    @rule(status=st.sampled_from(("junk", "lost", "bogus")))
    def disqualify(self, status: str) -> None:
        m = self.model
        command = ld.DisqualifyLead(lead_id=self.lead_id, status=status, reason="no fit")
        if self._run(command, m.open and status != "bogus"):
            m.status = "disqualified"

    @rule()
    def archive(self) -> None:
        m = self.model
        if self._run(ld.ArchiveLead(lead_id=self.lead_id), not m.anonymized and not m.archived):
            m.archived = True

    @rule()
    def unarchive(self) -> None:
        m = self.model
        if self._run(ld.UnarchiveLead(lead_id=self.lead_id), not m.anonymized and m.archived):
            m.archived = False

    @rule()
    def anonymize(self) -> None:
        m = self.model
        if self._run(ld.AnonymizeLead(lead_id=self.lead_id), not m.anonymized):
            m.anonymized = True

    @invariant()
    def lead_matches_the_model(self) -> None:
        lead = self.store.load(self.lead_id)
        assert isinstance(lead, Lead)
        m = self.model
        assert (lead.owner, lead.status, lead.archived, lead.anonymized) == (
            m.owner,
            m.status,
            m.archived,
            m.anonymized,
        )
        assert {s.user: s.percent for s in lead.shares} == m.shares
        assert len(lead.activities) == m.activities
        if lead.shares:
            assert sum(s.percent for s in lead.shares) == 100
            assert lead.owner == lead.shares[0].user
        if m.anonymized:
            assert lead.personal is None
            assert all(a.subject is None for a in lead.activities)
        else:
            assert lead.personal is not None and lead.personal.last_name == m.last_name


LeadMachine.TestCase.settings = settings(max_examples=60, stateful_step_count=25, deadline=None)
test_lead_state_machine = LeadMachine.TestCase
