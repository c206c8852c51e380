"""Every list and chart a user gets counts exactly the records they may see.

For random organisations (manager trees, users moving between teams), random deals and
leads (owners, reassignments, private flags, sharing, a partner's deals) and the real
command bus on the embedded store, at random positions of the log: each user's pipeline
chart and lead list equal an independent reference — the records as they stood at that
position, filtered by the visibility rule written out here again (today's organisation,
the records' sharing then) — and the chart's totals are the sums over those deals.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.bootstrap import Services, bootstrap
from adapters.clock import ManualClock
from adapters.settings import Settings
from commands.leads import CreateLead, EditLead
from commands.opportunities import CreateOpportunity, EditOpportunity, MoveOpportunityToStage
from commands.reference_data import CreateAccount
from commands.users import AddUser, ChangeUser
from domain.errors import DomainError
from domain.ids import account_id_for, user_id_for
from domain.money import Money
from domain.user import User
from projections.runner import Projector
from readmodels import SLICES, TOPICS
from readmodels.deals.analytics import Analytics
from readmodels.deals.queries import ReadModelQueries
from readmodels.deals.specs import spec_from_params
from readmodels.leads.queries import LeadFilters, list_leads
from readmodels.scope import scope_of
from tests.conftest import T0

SALES = [f"u{i}" for i in range(6)]
PARTNER_USER = "p0"
READERS = {"ana": "analyst", "audrey": "auditor", "root": "admin"}
OPEN_STAGES = ("initial_contact", "qualification", "proposal", "negotiation")
PARTNER = account_id_for("Channel Co")


@dataclass
class Record:
    owner: str | None
    private: bool = False
    shared: frozenset[str] = frozenset()
    partner: UUID | None = None
    stage: str = "initial_contact"
    amount: int = 0  # cents


@dataclass
class Model:
    """The reference: records as the test wrote them, the organisation as it is now."""

    managers: dict[str, str | None] = field(default_factory=dict)
    deals: dict[UUID, Record] = field(default_factory=dict)
    leads: dict[UUID, Record] = field(default_factory=dict)
    # (log position, deals then, leads then) after each step
    snapshots: list[tuple[int, dict[UUID, Record], dict[UUID, Record]]] = field(
        default_factory=list
    )

    def team(self, login: str) -> set[str]:
        below: set[str] = set()
        changed = True
        while changed:
            changed = False
            for user, manager in self.managers.items():
                if user not in below and (manager == login or manager in below):
                    below.add(user)
                    changed = True
        return below


def reference_sees(model: Model, login: str, role: str, record: Record) -> bool:
    """The rule, written again: readers see all; one sees what one owns or is shared;
    a private record nobody else; a partner user their partner's; a rep the free pool;
    a manager what their team owns."""
    if role in ("admin", "analyst", "auditor"):
        return True
    if login == record.owner or login in record.shared:
        return True
    if record.private:
        return False
    if role == "partner":
        return record.partner == PARTNER
    if record.owner is None and record.partner is None:
        return True
    return record.owner in model.team(login)


# --- steps ---------------------------------------------------------------------------

sales_user = st.sampled_from(SALES)
shared = st.frozensets(st.sampled_from([*SALES, PARTNER_USER]), max_size=2)
steps = st.lists(
    st.one_of(
        st.tuples(
            st.just("deal"),
            sales_user,
            st.sampled_from(OPEN_STAGES),
            st.integers(1, 10_000),
            st.booleans(),
            shared,
            st.booleans(),
        ),
        st.tuples(st.just("reassign"), st.integers(0, 20), sales_user),
        st.tuples(st.just("share"), st.integers(0, 20), st.booleans(), shared),
        st.tuples(st.just("stage"), st.integers(0, 20), st.sampled_from(OPEN_STAGES)),
        st.tuples(st.just("move"), sales_user, st.one_of(st.none(), sales_user)),
        st.tuples(st.just("lead"), st.one_of(st.none(), sales_user), st.booleans(), shared),
        st.tuples(st.just("lead_share"), st.integers(0, 20), st.booleans(), shared),
    ),
    min_size=3,
    max_size=25,
)
trees = st.lists(st.one_of(st.none(), st.integers(0, 5)), min_size=6, max_size=6)


@contextmanager
def embedded() -> Iterator[Services]:
    with tempfile.TemporaryDirectory() as tmp:
        services = bootstrap(Settings(home=Path(tmp) / "home"), clock=ManualClock(T0))
        try:
            yield services
        finally:
            services.close()


def organise(services: Services, model: Model, tree: list[int | None]) -> None:
    services.bus.execute(CreateAccount(name="Channel Co", partner=True))
    for login, role in READERS.items():
        services.bus.execute(AddUser(login=login, role=role))
    for i, login in enumerate(SALES):
        # A manager is someone earlier in the list: a tree, never a loop.
        boss = tree[i]
        manager = SALES[boss] if boss is not None and boss < i else None
        role = "manager" if any(b == i for b in tree) else "rep"
        services.bus.execute(AddUser(login=login, role=role, manager=manager))
        model.managers[login] = manager
    services.bus.execute(AddUser(login=PARTNER_USER, role="partner", partner_id=PARTNER))


def play(services: Services, model: Model, step: tuple[Any, ...]) -> None:
    kind = step[0]
    deals, leads = list(model.deals), list(model.leads)
    if kind == "deal":
        _, owner, stage, cents, private, share_with, partnered = step
        deal = uuid4()
        services.bus.execute(
            CreateOpportunity(
                opportunity_id=deal,
                title="Deal",
                owner=owner,
                expected_close=date(2027, 6, 30),
                account_name="ACME",
                amount=Money(Decimal(cents) / 100, "EUR"),
                stage=stage,
                partner_id=PARTNER if partnered else None,
                private=private,
                shared_with=tuple(share_with),
            )
        )
        model.deals[deal] = Record(
            owner, private, share_with, PARTNER if partnered else None, stage, cents
        )
    elif kind == "reassign" and deals:
        deal = deals[step[1] % len(deals)]
        services.bus.execute(EditOpportunity(opportunity_id=deal, owner=step[2]))
        model.deals[deal] = replace(model.deals[deal], owner=step[2])
    elif kind == "share" and deals:
        deal = deals[step[1] % len(deals)]
        services.bus.execute(
            EditOpportunity(opportunity_id=deal, private=step[2], shared_with=tuple(step[3]))
        )
        model.deals[deal] = replace(model.deals[deal], private=step[2], shared=step[3])
    elif kind == "stage" and deals:
        deal = deals[step[1] % len(deals)]
        if model.deals[deal].stage != step[2]:
            services.bus.execute(MoveOpportunityToStage(opportunity_id=deal, stage=step[2]))
            model.deals[deal] = replace(model.deals[deal], stage=step[2])
    elif kind == "move":
        login, manager = step[1], step[2]
        try:  # a move that would make a loop is refused (and the model unchanged)
            if manager is None:
                services.bus.execute(ChangeUser(login=login, clear_manager=True))
            else:
                services.bus.execute(ChangeUser(login=login, manager=manager))
        except DomainError:
            return
        model.managers[login] = manager
    elif kind == "lead":
        _, owner, private, share_with = step
        lead = uuid4()
        services.bus.execute(
            CreateLead(
                lead_id=lead,
                first_name="Ada",
                last_name="Lovelace",
                owner=owner,
                private=private,
                shared_with=tuple(share_with),
            )
        )
        model.leads[lead] = Record(owner, private, share_with)
    elif kind == "lead_share" and leads:
        lead = leads[step[1] % len(leads)]
        services.bus.execute(EditLead(lead_id=lead, private=step[2], shared_with=tuple(step[3])))
        model.leads[lead] = replace(model.leads[lead], private=step[2], shared=step[3])


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(tree=trees, history=steps, picks=st.lists(st.integers(0, 1000), min_size=2, max_size=3))
def test_every_users_chart_and_list_count_exactly_what_they_may_see(
    tree: list[int | None], history: list[tuple[Any, ...]], picks: list[int]
) -> None:
    with embedded() as services:
        model = Model()
        organise(services, model, tree)
        for step in history:
            play(services, model, step)
            model.snapshots.append(
                (services.store.max_position(), dict(model.deals), dict(model.leads))
            )
        projector = Projector(
            services.event_log, services.views, SLICES, checkpoint_interval=5, batch_size=3
        )
        projector.start()
        projector.catch_up()
        queries = ReadModelQueries(
            services.views, services.event_log, checkpoint_interval=5, topics=TOPICS
        )
        analytics = Analytics(queries)
        spec = spec_from_params("pipeline", {})
        chosen = [model.snapshots[p % len(model.snapshots)] for p in picks]
        for position, deals, leads in chosen:
            for login in [*SALES, PARTNER_USER, *READERS]:
                user = services.store.load(user_id_for(login))
                assert isinstance(user, User)
                principal = services.identity.principal(user)
                role = principal.role
                # The pipeline chart: per open stage, the visible deals' count and amount
                chart = analytics.answer(
                    spec, as_of=str(position), wait_for=None, principal=principal
                )
                seen = [d for d in deals.values() if reference_sees(model, login, role, d)]
                expected = {
                    stage: (
                        sum(1 for d in seen if d.stage == stage),
                        sum(d.amount for d in seen if d.stage == stage),
                    )
                    for stage in OPEN_STAGES
                }
                got = {
                    row["stage"]: (row["count"], int(Decimal(row["amount"]) * 100))
                    for row in chart["stages"]
                }
                assert got == expected, (login, role, position)
                # and its total is the sum over the visible deals
                assert sum(c for c, _ in got.values()) == len(seen)
                # The lead list: exactly the visible leads
                scope = scope_of(principal, services.views, "lead", position)
                listed = list_leads(services.views, LeadFilters(), position, scope=scope).records
                visible_leads = {
                    str(i) for i, lead in leads.items() if reference_sees(model, login, role, lead)
                }
                assert {row.id for row in listed} == visible_leads, (login, role, position)
