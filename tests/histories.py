"""Random sales histories for the read-model property tests, run through the real command bus.

A history is a list of ``Step`` values that hypothesis draws (and shrinks).
Each step names its deal by an index taken modulo the deals created so far,
so any list of steps can be run; a step the domain refuses writes nothing
and the history goes on. Between steps the clock moves by the step's
``minutes``, so sales fall in different periods and rates take effect at
different instants.

The reference data every history starts from (``World.setup``): the default
pipeline, EUR as the reporting currency, USD and JPY rates in force from a
month before the clock's start, two accounts and a partner account. Pipeline steps
change the default pipeline's stages (add, rename, move, remove: a removal moves the
deals in the stage); deal steps also move a deal to a second pipeline (made by the
first such step) and back, and give it the other account.

``lead_steps`` add campaigns and leads (by hand or through the lead processor,
some duplicates) and every change of a lead: assign, pool, split, activities,
details, personal data, account, partner, qualify (which makes a deal the deal
steps then act on), disqualify, archive, unarchive, anonymize. A lead step names
its lead by an index too, taken among the leads the action can apply to.

``History`` is the other kind of random history, for the integration tests that
need a long one fast (a crashing projector, bulk writes, a rebuild writer, the
read-model comparison script): a ``random.Random`` picks each command, no
shrinking, and the writer remembers each deal's status to stay mostly valid.
"""

from __future__ import annotations

import contextlib
import random
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar
from uuid import UUID, uuid4

from hypothesis import strategies as st

from adapters.bootstrap import Services
from adapters.clock import ManualClock
from commands import leads as lead_commands
from commands.campaigns import ArchiveCampaign, CreateCampaign
from commands.lead_activities import DeleteLeadActivity, EditLeadActivity, LogLeadActivity
from commands.lead_intake import IntakeLead
from commands.opportunities import (
    AssignPartner,
    CreateOpportunity,
    DeleteOpportunity,
    EditOpportunity,
    LogSalesActivity,
    LoseOpportunity,
    MarkOpportunityUnqualified,
    MoveOpportunityToStage,
    ReopenOpportunity,
    SellOpportunity,
    UnlockOpportunity,
)
from commands.pipelines import (
    AddPipelineStage,
    ChangePipelineStage,
    MoveOpportunityToPipeline,
    RemovePipelineStage,
)
from commands.quotes import ActivateQuote, AddQuoteItem, CreateQuote
from commands.read_model_commands import DeleteBaseline, SetSalesTarget, TakeBaseline
from commands.reference_data import ChangeStage, CreateAccount, CreatePipeline, SetExchangeRate
from domain.errors import DomainError
from domain.ids import account_id_for, pipeline_id_for
from domain.lead import DISQUALIFIED_AS, PRIORITIES, Lead
from domain.money import Money, minor_unit
from domain.opportunity import Opportunity
from domain.pipeline import DEFAULT_STAGES, Pipeline, Stage
from tests.identity import add_users

OWNERS = ("alice", "bob", "carol")
ACCOUNTS = ("ACME", "Globex")
PARTNER = "Resell"
CURRENCIES = ("EUR", "USD", "JPY")
OPEN_STAGES = ("initial_contact", "qualification", "proposal", "negotiation")
CATEGORIES = ("pipeline", "best_case", "commit", "omitted")
FIRST_CLOSE = date(2026, 11, 1)  # expected closes span Nov 2026 – Jun 2028: years, quarters
CLOSE_DAYS = 600
SALES = pipeline_id_for("sales")
# The second pipeline deals move to and back (its first stage's key is the default's too).
OTHER_PIPELINE = "partners"
OTHER_STAGES = (
    Stage(key="registered", name="Registered", probability=20, forecast_category="pipeline"),
    Stage(key="qualification", name="Qualified", probability=45, forecast_category="best_case"),
    *DEFAULT_STAGES[4:],
)
# Keys of the stages pipeline steps add (each once: a second add, or after a removal, is refused).
NEW_STAGES = ("demo", "pilot", "trial")
LAYOUT_ACTIONS = ("add", "rename", "move", "remove")
PARTNER_ID = account_id_for(PARTNER)
T = TypeVar("T")
S = TypeVar("S")


# --- steps ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Create:
    owner: str
    account: str
    currency: str
    minor: int  # the amount in minor units of its currency
    stage: str
    close_day: int
    probability: int | None
    category: str | None
    partner: bool


@dataclass(frozen=True)
class OnDeal:
    """A step on one deal, named by an index taken (cyclically) among the deals it can act on."""

    deal: int


@dataclass(frozen=True)
class Move(OnDeal):
    stage: str


@dataclass(frozen=True)
class Edit(OnDeal):
    """Change one of the deal's fields: ``key`` is ``EditOpportunity``'s keyword for it."""

    key: str  # amount, expected_close, owner, probability or forecast_category
    value: Any


@dataclass(frozen=True)
class Partner(OnDeal):
    assign: bool


@dataclass(frozen=True)
class Quote(OnDeal):
    """A quote in ``currency`` with one manual item, made the deal's active quote."""

    currency: str
    quantity: int
    unit_price_minor: int
    discount_pct: int


@dataclass(frozen=True)
class Sell(OnDeal):
    """Sell the deal, effective ``days_ago`` in business time (0: now)."""

    days_ago: int


@dataclass(frozen=True)
class Lose(OnDeal):
    """Lose the deal, or mark it unqualified."""

    unqualified: bool = False


class Unlock(OnDeal):
    """Unlock a won deal."""


class Reopen(OnDeal):
    """Reopen a lost or unqualified deal."""


class Delete(OnDeal):
    """Delete a deal that is not won."""


def status_change(
    step: Unlock | Lose | Reopen | Delete, deal: UUID
) -> (
    UnlockOpportunity
    | LoseOpportunity
    | MarkOpportunityUnqualified
    | ReopenOpportunity
    | DeleteOpportunity
):
    """The command that changes ``deal``'s status as ``step`` says."""
    match step:
        case Unlock():
            return UnlockOpportunity(opportunity_id=deal)
        case Lose(unqualified=True):
            return MarkOpportunityUnqualified(opportunity_id=deal, reason="no budget")
        case Lose():
            return LoseOpportunity(opportunity_id=deal, reason="price")
        case Reopen():
            return ReopenOpportunity(opportunity_id=deal)
        case Delete():
            return DeleteOpportunity(opportunity_id=deal)


@dataclass(frozen=True)
class Rate:
    currency: str
    rate: Decimal
    days_ago: int | None  # effective that many days ago, or now


@dataclass(frozen=True)
class StageChange:
    stage: str
    probability: int | None
    category: str | None


@dataclass(frozen=True)
class Target:
    owner: str
    period: str
    amount: int


@dataclass(frozen=True)
class ToPipeline(OnDeal):
    """Move the deal to the other pipeline (from sales to partners, or back), into the
    ``stage``-th (cyclically) of its open stages."""

    stage: int


@dataclass(frozen=True)
class Layout:
    """Change the default pipeline's stages: ``action`` (one of LAYOUT_ACTIONS) on its
    ``stage``-th open stage (cyclically); ``variant`` picks the new key, name, position,
    or the stage a removed one's deals move to."""

    action: str
    stage: int
    variant: int


class Activity(OnDeal):
    """An event the read model does not read: a position its topic filter skips."""


@dataclass(frozen=True)
class Baseline:
    """A baseline event (``TakeBaseline``, or ``DeleteBaseline`` of the last one)."""

    delete: bool


@dataclass(frozen=True)
class NewCampaign:
    channel: str | None


@dataclass(frozen=True)
class EndCampaign:
    """Archive a campaign (it takes no new leads; what it brought stays counted)."""

    campaign: int


@dataclass(frozen=True)
class NewLead:
    owner: str | None
    source: str | None
    campaign: int | None  # among the campaigns made so far (cyclically); None: no campaign
    contact: int  # leads with the same contact are duplicates of the first
    intake: bool  # through the lead processor (no rules: the free pool, unless an owner)


@dataclass(frozen=True)
class LeadChange:
    lead: int
    action: str  # one of LEAD_ACTIONS
    variant: int  # picks the owner, source, campaign, account, reason… the action uses


Step = (
    Create
    | Move
    | Edit
    | Partner
    | Quote
    | Sell
    | Unlock
    | Lose
    | Reopen
    | Delete
    | Rate
    | StageChange
    | Layout
    | ToPipeline
    | Target
    | Activity
    | Baseline
    | NewCampaign
    | EndCampaign
    | NewLead
    | LeadChange
)


# --- strategies ------------------------------------------------------------------------


def money(minor: int, currency: str) -> Money:
    return Money(Decimal(minor).scaleb(-minor_unit(currency)), currency)


def close_date(day: int) -> date:
    """An expected close ``day`` days after ``FIRST_CLOSE``."""
    return FIRST_CLOSE + timedelta(days=day)


deals = st.integers(0, 63)
owners = st.sampled_from(OWNERS)
currencies = st.sampled_from(CURRENCIES)
open_stages = st.sampled_from(OPEN_STAGES)
# Days after FIRST_CLOSE, spread both ways from the middle of the span (hypothesis favours
# small integers: drawn from 0 they would crowd the first weeks).
close_days = st.builds(
    lambda later, n: CLOSE_DAYS // 2 + (n if later else -n),
    st.booleans(),
    st.integers(0, CLOSE_DAYS // 2),
)
probabilities = st.integers(0, 100)
# Amounts in minor units: cents for EUR and USD, yen for JPY.
minors = st.integers(0, 5_000_000)
periods = st.one_of(
    st.builds(lambda y, m: f"{y}-{m:02d}", st.sampled_from((2026, 2027, 2028)), st.integers(1, 12)),
    st.builds(lambda y, q: f"{y}-Q{q}", st.sampled_from((2026, 2027, 2028)), st.integers(1, 4)),
    st.sampled_from(("2026", "2027", "2028")),
)
rates = {
    "USD": st.integers(8000, 12000).map(lambda n: Decimal(n).scaleb(-4)),
    "JPY": st.integers(5000, 8000).map(lambda n: Decimal(n).scaleb(-6)),
}

creates = st.builds(
    Create,
    owner=owners,
    account=st.sampled_from(ACCOUNTS),
    currency=currencies,
    minor=minors,
    stage=open_stages,
    close_day=close_days,
    probability=st.none() | probabilities,
    category=st.none() | st.sampled_from(CATEGORIES),
    partner=st.booleans(),
)


def weighted(*choices: tuple[int, st.SearchStrategy[T]]) -> st.SearchStrategy[T]:
    """One of the strategies, each about as often as its weight (``st.one_of`` would give
    each distinct strategy the same chance); it shrinks towards the first."""
    pool = [strategy for weight, strategy in choices for _ in range(weight)]
    return st.sampled_from(pool).flatmap(lambda strategy: strategy)


def edits(key: str, values: st.SearchStrategy[Any]) -> st.SearchStrategy[Step]:
    return st.builds(Edit, deal=deals, key=st.just(key), value=values)


edit_closes = edits("expected_close", close_days.map(close_date))
reassigns = edits("owner", owners)
partners = st.builds(Partner, deal=deals, assign=st.booleans())
deal_steps: st.SearchStrategy[Step] = weighted(
    (3, st.builds(Move, deal=deals, stage=open_stages)),
    (2, edits("amount", st.builds(money, minors, currencies))),
    (2, edit_closes),
    (2, reassigns),
    (1, edits("probability", st.none() | probabilities)),
    (1, edits("forecast_category", st.none() | st.sampled_from(CATEGORIES))),
    (1, partners),
    (1, edits("account_id", st.sampled_from(ACCOUNTS).map(account_id_for))),
    (1, st.builds(ToPipeline, deal=deals, stage=st.integers(0, 3))),
    (
        2,
        st.builds(
            Quote,
            deal=deals,
            currency=currencies,
            quantity=st.integers(1, 40),
            unit_price_minor=st.integers(1, 300_000),
            discount_pct=st.sampled_from((0, 0, 5, 12, 33)),
        ),
    ),
    (3, st.builds(Sell, deal=deals, days_ago=st.sampled_from((0, 0, 0, 1, 20, 45, 100)))),
    (1, st.builds(Unlock, deal=deals)),
    (2, st.builds(Lose, deal=deals, unqualified=st.booleans())),
    (2, st.builds(Reopen, deal=deals)),
    (2, st.builds(Delete, deal=deals)),
    (1, st.builds(Activity, deal=deals)),
)
reference_steps: st.SearchStrategy[Step] = weighted(
    (
        2,
        st.sampled_from(("USD", "JPY")).flatmap(
            lambda c: st.builds(
                Rate, currency=st.just(c), rate=rates[c], days_ago=st.none() | st.integers(0, 40)
            )
        ),
    ),
    (
        1,
        st.builds(
            StageChange,
            stage=open_stages,
            probability=st.none() | probabilities,
            category=st.none() | st.sampled_from(CATEGORIES),
        ),
    ),
    (1, st.builds(Target, owner=owners, period=periods, amount=st.integers(1, 500_000))),
    (1, st.builds(Baseline, delete=st.booleans())),
    (
        3,
        st.builds(
            Layout,
            action=st.sampled_from(LAYOUT_ACTIONS),
            stage=st.integers(0, 6),
            variant=st.integers(0, 11),
        ),
    ),
)
# About a sixth creations, two thirds changes to deals, a sixth reference data.
command_steps: st.SearchStrategy[Step] = weighted(
    (1, creates), (4, deal_steps), (1, reference_steps)
)
LEAD_ACTIONS = (
    "assign",
    "pool",
    "split",
    "activity",
    "edit_activity",
    "delete_activity",
    "details",
    "personal",
    "account",
    "partner",
    "qualify",
    "disqualify",
    "archive",
    "unarchive",
    "anonymize",
)
SOURCES = ("web", "fair", "referral")
lead_creates: st.SearchStrategy[Step] = st.builds(
    NewLead,
    owner=st.none() | owners,
    source=st.none() | st.sampled_from(SOURCES),
    campaign=st.none() | st.integers(0, 7),
    contact=st.integers(0, 5),
    intake=st.booleans(),
)
# About a fifth new leads, a fifteenth new campaigns, the rest changes to leads.
lead_steps: st.SearchStrategy[Step] = weighted(
    (3, lead_creates),
    (1, st.builds(NewCampaign, channel=st.none() | st.sampled_from(("email", "event")))),
    (
        10,
        st.builds(
            LeadChange,
            lead=st.integers(0, 31),
            action=st.sampled_from(LEAD_ACTIONS),
            variant=st.integers(0, 11),
        ),
    ),
    (1, st.builds(EndCampaign, campaign=st.integers(0, 7))),
)
# Steps that move a deal across a filtered chart's window (expected close, owner, partner).
crossing_steps: st.SearchStrategy[Step] = weighted((2, edit_closes), (1, reassigns), (1, partners))
# Minutes the clock moves after a step: often none, sometimes days.
minutes = st.sampled_from((0, 1, 7, 90, 24 * 60, 9 * 24 * 60, 40 * 24 * 60))


def histories(
    deals: tuple[int, int] = (2, 6),
    steps: tuple[int, int] = (8, 34),
    *,
    crossings: bool = False,
) -> st.SearchStrategy[list[tuple[Step, int]]]:
    """A few deals created (so that the steps after them have deals to act on), then
    ``steps`` commands (with ``crossings``, a third of them ``crossing_steps``), each with
    the minutes the clock moves after it."""
    commands = weighted((2, command_steps), (1, crossing_steps)) if crossings else command_steps
    return st.tuples(
        st.lists(st.tuples(creates, minutes), min_size=deals[0], max_size=deals[1]),
        st.lists(st.tuples(commands, minutes), min_size=steps[0], max_size=steps[1]),
    ).map(joined)


def joined(parts: tuple[Sequence[tuple[S, int]], Sequence[tuple[S, int]]]) -> list[tuple[S, int]]:
    """The steps of the first part, then those of the second."""
    return [*parts[0], *parts[1]]


# The statuses of the deals each kind of step picks from (open, unless said here).
WANTED: dict[type, tuple[str, ...]] = {
    Unlock: ("won",),
    Reopen: ("lost", "unqualified"),
    Delete: ("open", "lost", "unqualified"),
}


# --- running a history -------------------------------------------------------------------


def implementation_days(
    quote: UUID, days: int, day_rate: Decimal, discount_pct: int = 0
) -> AddQuoteItem:
    """A manual item of ``days`` implementation days at ``day_rate`` each."""
    return AddQuoteItem(
        quote_id=quote,
        item_id=uuid4(),
        quantity=Decimal(days),
        name="implementation days",
        unit="day",
        unit_price=day_rate,
        discount_pct=Decimal(discount_pct),
        kind="one_off",
        category="implementation",
    )


def baseline_taken(baseline: UUID, number: int, position: int, as_of: datetime) -> TakeBaseline:
    """A baseline of the sales pipeline chart, named by its ``number``."""
    return TakeBaseline(
        baseline_id=baseline,
        name=f"baseline {number}",
        chart="pipeline",
        params={"pipeline": "sales"},
        position=position,
        as_of=as_of,
        document='{"stages":[]}',
    )


@dataclass
class World:
    """Runs steps through the command bus of ``services``; remembers the ids it made."""

    services: Services
    clock: ManualClock
    deals: list[UUID] = field(default_factory=list)
    active_quote: dict[UUID, UUID] = field(default_factory=dict)
    baselines: list[UUID] = field(default_factory=list)
    campaigns: list[UUID] = field(default_factory=list)
    leads: list[UUID] = field(default_factory=list)
    lead_activities: dict[UUID, list[UUID]] = field(default_factory=dict)
    written: int = 0  # steps that wrote events
    refused: int = 0  # steps the domain refused (they wrote nothing)

    def setup(self) -> None:
        """The owners (users), rates in force from a month before, two accounts and a
        partner."""
        add_users(self.services.bus, *OWNERS)
        month_ago = self.clock.now() - timedelta(days=30)
        self.execute(SetExchangeRate(currency="USD", rate=Decimal("0.9"), effective_at=month_ago))
        self.execute(
            SetExchangeRate(currency="JPY", rate=Decimal("0.0062"), effective_at=month_ago)
        )
        for name in ACCOUNTS:
            self.execute(CreateAccount(name=name))
        self.execute(CreateAccount(name=PARTNER, partner=True))

    def execute(self, command: Any) -> None:
        self.services.bus.execute(command)

    def run(self, history: list[tuple[Step, int]]) -> None:
        for step, minutes_after in history:
            self.step(step)
            self.clock.advance(timedelta(minutes=minutes_after))

    def step(self, step: Step) -> bool:
        """Run one step; False when the domain refused it (nothing was written)."""
        before = self.services.store.max_position()
        try:
            self._run(step)
        except DomainError:
            self.refused += 1
        wrote = self.services.store.max_position() > before
        self.written += wrote
        return wrote

    def deal(self, index: int, statuses: tuple[str, ...]) -> UUID | None:
        """The ``index``-th (cyclically) of the deals in one of ``statuses``; of all the deals
        when none is (the command is then refused), None when there are none."""
        candidates = [d for d in self.deals if self._status(d) in statuses] or self.deals
        return candidates[index % len(candidates)] if candidates else None

    def _status(self, deal: UUID) -> str:
        state = self.services.store.load(deal)
        assert isinstance(state, Opportunity)
        return "deleted" if state.deleted else state.status

    def _run(self, step: Step) -> None:
        if isinstance(step, Create):
            self._create(step)
            return
        if isinstance(step, NewCampaign | EndCampaign | NewLead | LeadChange):
            self._lead_step(step)
            return
        if isinstance(step, Rate):
            effective = (
                None if step.days_ago is None else self.clock.now() - timedelta(days=step.days_ago)
            )
            self.execute(
                SetExchangeRate(currency=step.currency, rate=step.rate, effective_at=effective)
            )
            return
        if isinstance(step, StageChange):
            if step.probability is None and step.category is None:
                return
            self.execute(
                ChangeStage(
                    pipeline_id=SALES,
                    stage=step.stage,
                    probability=step.probability,
                    forecast_category=step.category,  # type: ignore[arg-type]
                )
            )
            return
        if isinstance(step, Layout):
            self._layout(step)
            return
        if isinstance(step, Target):
            amount = Money(Decimal(step.amount), "EUR")
            self.execute(SetSalesTarget(owner=step.owner, period=step.period, amount=amount))
            return
        if isinstance(step, Baseline):
            self._baseline(step)
            return
        # Each step acts on a deal it can act on: reopen a lost one, unlock a won one…
        wanted = WANTED.get(type(step), ("open",))
        deal = self.deal(step.deal, wanted)
        if deal is None:
            return
        if isinstance(step, Move):
            self.execute(MoveOpportunityToStage(opportunity_id=deal, stage=step.stage))
        elif isinstance(step, Edit):
            self.execute(EditOpportunity(opportunity_id=deal, **{step.key: step.value}))
        elif isinstance(step, Partner):
            partner = PARTNER_ID if step.assign else None
            self.execute(AssignPartner(opportunity_id=deal, partner_id=partner))
        elif isinstance(step, ToPipeline):
            self._to_pipeline(deal, step)
        elif isinstance(step, Quote):
            self._quote(deal, step)
        elif isinstance(step, Sell):
            if deal not in self.active_quote:  # it gets an active quote first
                self._quote(deal, Quote(0, "EUR", 3, 125_050, 0))
            sold_at = self.clock.now() - timedelta(days=step.days_ago)
            self.execute(SellOpportunity(opportunity_id=deal, effective_at=sold_at))
        elif isinstance(step, Unlock | Lose | Reopen | Delete):
            self.execute(status_change(step, deal))
        else:
            activity = LogSalesActivity(
                opportunity_id=deal, activity_id=uuid4(), kind="call", subject="follow-up"
            )
            self.execute(activity)

    def _create(self, step: Create) -> None:
        deal = uuid4()
        category: Any = step.category
        self.execute(
            CreateOpportunity(
                opportunity_id=deal,
                title=f"deal {len(self.deals)}",
                owner=step.owner,
                account_name=step.account,
                expected_close=close_date(step.close_day),
                amount=money(step.minor, step.currency),
                stage=step.stage,
                probability=step.probability,
                forecast_category=category,
                partner_id=PARTNER_ID if step.partner else None,
            )
        )
        self.deals.append(deal)

    def _pipeline(self, pipeline_id: UUID) -> Pipeline | None:
        state = self.services.store.load(pipeline_id)
        return state if isinstance(state, Pipeline) else None

    def _to_pipeline(self, deal: UUID, step: ToPipeline) -> None:
        state = self.services.store.load(deal)
        assert isinstance(state, Opportunity)
        other = pipeline_id_for(OTHER_PIPELINE)
        if self._pipeline(other) is None:
            self.execute(CreatePipeline(name=OTHER_PIPELINE, stages=OTHER_STAGES))
        target = SALES if state.pipeline_id == other else other
        pipeline = self._pipeline(target)
        assert pipeline is not None
        stages = pipeline.open_stages
        stage = stages[step.stage % len(stages)].key
        self.execute(
            MoveOpportunityToPipeline(opportunity_id=deal, pipeline=str(target), stage=stage)
        )

    def _layout(self, step: Layout) -> None:
        """A change of the default pipeline's stages; a removal finds the deals in the stage
        in the store (as the API finds them in the read model)."""
        sales = self._pipeline(SALES)
        assert sales is not None
        stages = [s.key for s in sales.open_stages]
        stage = stages[step.stage % len(stages)]
        if step.action == "add":
            key = NEW_STAGES[step.variant % len(NEW_STAGES)]
            added = Stage(
                key=key,
                name=key.title(),
                probability=step.variant * 8,
                forecast_category="pipeline",
            )
            after = None if step.variant % 2 else stage
            self.execute(AddPipelineStage(pipeline_id=SALES, stage=added, after=after))
        elif step.action == "rename":
            self.execute(
                ChangePipelineStage(pipeline_id=SALES, stage=stage, name=f"Step {step.variant}")
            )
        elif step.action == "move":
            position = 1 + step.variant % len(stages)
            self.execute(ChangePipelineStage(pipeline_id=SALES, stage=stage, position=position))
        else:
            # Mostly a stage holding open deals (when there is one), mostly saying where
            # they go; sometimes not (refused when it holds any).
            in_sales = [
                state
                for deal in self.deals
                if isinstance(state := self.services.store.load(deal), Opportunity)
                and state.pipeline_id == SALES
                and state.status == "open"
            ]
            held = [key for key in stages if any(d.stage == key for d in in_sales)]
            if held and step.variant % 3:
                stage = held[step.stage % len(held)]
            others = [key for key in stages if key != stage]
            move_to = others[step.variant % len(others)] if others and step.variant % 4 else None
            found = tuple(d.id for d in in_sales if d.stage == stage)
            self.execute(
                RemovePipelineStage(
                    pipeline_id=SALES, stage=stage, move_to=move_to, opportunity_ids=found
                )
            )

    def _quote(self, deal: UUID, step: Quote) -> None:
        quote = uuid4()
        self.execute(
            CreateQuote(quote_id=quote, opportunity_id=deal, name="offer", currency=step.currency)
        )
        day_rate = Decimal(step.unit_price_minor).scaleb(-minor_unit(step.currency))
        with contextlib.suppress(DomainError):  # an empty quote is a quote too
            self.execute(implementation_days(quote, step.quantity, day_rate, step.discount_pct))
        self.execute(ActivateQuote(quote_id=quote))
        self.active_quote[deal] = quote

    def _baseline(self, step: Baseline) -> None:
        if step.delete:
            if self.baselines:
                self.execute(DeleteBaseline(baseline_id=self.baselines.pop()))
            return
        baseline = uuid4()
        position = self.services.store.max_position()
        self.execute(baseline_taken(baseline, len(self.baselines), position, self.clock.now()))
        self.baselines.append(baseline)

    # --- leads and campaigns ---------------------------------------------------------------

    def _lead_state(self, lead_id: UUID) -> Lead:
        state = self.services.store.load(lead_id)
        assert isinstance(state, Lead)
        return state

    def lead(self, index: int, action: str) -> UUID | None:
        """The ``index``-th (cyclically) of the leads ``action`` applies to; of all the leads
        when none is (the command is then refused), None when there are none."""
        states = [self._lead_state(lead) for lead in self.leads]
        if action == "unarchive":
            fits = [s for s in states if s.archived and not s.anonymized]
        elif action == "anonymize":
            fits = [s for s in states if not s.anonymized]
        elif action == "archive":
            fits = [s for s in states if not s.archived and not s.anonymized]
        else:
            fits = [
                s
                for s in states
                if not (s.archived or s.anonymized or s.status in ("qualified", "disqualified"))
            ]
        candidates = [s.id for s in fits] or self.leads
        return candidates[index % len(candidates)] if candidates else None

    def _lead_step(self, step: NewCampaign | EndCampaign | NewLead | LeadChange) -> None:
        if isinstance(step, NewCampaign):
            campaign = uuid4()
            name = f"campaign {len(self.campaigns)}"
            self.execute(CreateCampaign(campaign_id=campaign, name=name, channel=step.channel))
            self.campaigns.append(campaign)
        elif isinstance(step, EndCampaign):
            if self.campaigns:
                campaign = self.campaigns[step.campaign % len(self.campaigns)]
                self.execute(ArchiveCampaign(campaign_id=campaign))
        elif isinstance(step, NewLead):
            lead = uuid4()
            campaign_id = (
                None
                if step.campaign is None or not self.campaigns
                else self.campaigns[step.campaign % len(self.campaigns)]
            )
            command = (IntakeLead if step.intake else lead_commands.CreateLead)(
                lead_id=lead,
                first_name=f"Person{len(self.leads)}",
                last_name="Example",
                email=f"contact{step.contact}@example.com",
                company=ACCOUNTS[step.contact % len(ACCOUNTS)],
                source=step.source,
                campaign_id=campaign_id,
                owner=step.owner,
            )
            self.execute(command)
            self.leads.append(lead)
        else:
            changed = self.lead(step.lead, step.action)
            if changed is not None:
                self._change_lead(changed, step.action, step.variant)

    def _change_lead(self, lead: UUID, action: str, variant: int) -> None:
        owner = OWNERS[variant % len(OWNERS)]
        activities = self.lead_activities.setdefault(lead, [])
        if action == "assign":
            self.execute(lead_commands.AssignLead(lead_id=lead, owner=owner))
        elif action == "pool":
            self.execute(lead_commands.AssignLead(lead_id=lead, owner=None))
        elif action == "split":
            other = OWNERS[(variant + 1) % len(OWNERS)]
            self.execute(lead_commands.SplitLead(lead_id=lead, shares={owner: 60, other: 40}))
        elif action == "activity":
            activity = uuid4()
            self.execute(
                LogLeadActivity(lead_id=lead, activity_id=activity, kind="call", subject="called")
            )
            activities.append(activity)
        elif action in ("edit_activity", "delete_activity"):
            if not activities:
                return
            activity = activities[variant % len(activities)]
            if action == "edit_activity":
                subject = f"called again {variant}"
                self.execute(EditLeadActivity(lead_id=lead, activity_id=activity, subject=subject))
            else:
                self.execute(DeleteLeadActivity(lead_id=lead, activity_id=activity))
                activities.remove(activity)
        elif action == "details":
            campaign = self.campaigns[variant % len(self.campaigns)] if self.campaigns else None
            self.execute(
                lead_commands.EditLead(
                    lead_id=lead,
                    source=SOURCES[variant % len(SOURCES)],
                    campaign_id=campaign if variant % 3 else None,
                    priority=PRIORITIES[variant % len(PRIORITIES)],
                )
            )
        elif action == "personal":
            self.execute(lead_commands.EditLead(lead_id=lead, first_name=f"Renamed{variant}"))
        elif action == "account":
            self.execute(
                lead_commands.AddLeadToAccount(lead_id=lead, account_name=ACCOUNTS[variant % 2])
            )
        elif action == "partner":
            self.execute(lead_commands.AddLeadToPartner(lead_id=lead, partner_id=PARTNER_ID))
        elif action == "qualify":
            deal = uuid4()
            self.execute(
                lead_commands.QualifyLead(
                    lead_id=lead,
                    opportunity_id=deal,
                    title=f"deal {len(self.deals)}",
                    expected_close=close_date(variant * 40),
                    owner=owner if variant % 2 else None,
                )
            )
            self.deals.append(deal)
        elif action == "disqualify":
            status = DISQUALIFIED_AS[variant % len(DISQUALIFIED_AS)]
            self.execute(lead_commands.DisqualifyLead(lead_id=lead, status=status, reason="no fit"))
        elif action == "archive":
            self.execute(lead_commands.ArchiveLead(lead_id=lead))
        elif action == "unarchive":
            self.execute(lead_commands.UnarchiveLead(lead_id=lead))
        else:
            self.execute(lead_commands.AnonymizeLead(lead_id=lead))


# --- a random history, written fast through the command bus -------------------------------


@dataclass
class History:
    """Writes random but mostly valid commands; remembers each deal's status to stay valid."""

    bus: Any
    clock: ManualClock
    rng: random.Random
    status: dict[UUID, str] = field(default_factory=dict)
    baselines: list[UUID] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        add_users(self.bus, *OWNERS)  # an owner must be an active user

    def write(self, commands: int) -> None:
        with self.lock:  # one writer at a time: the local bookkeeping is not thread-safe
            for _ in range(commands):
                self.clock.advance(timedelta(minutes=self.rng.randint(1, 90)))
                # refused: wrote nothing, which is fine for a history
                with contextlib.suppress(DomainError):
                    self._one()

    def _pick(self, *statuses: str) -> UUID | None:
        ids = [i for i, s in self.status.items() if s in statuses]
        return self.rng.choice(ids) if ids else None

    def _one(self) -> None:
        rng = self.rng
        roll = rng.random()
        deal = self._pick("open")
        if roll < 0.16 or deal is None:
            self._create()
        elif roll < 0.34:
            stage = rng.choice(OPEN_STAGES)
            self.bus.execute(MoveOpportunityToStage(opportunity_id=deal, stage=stage))
        elif roll < 0.50:
            self._edit(deal)
        elif roll < 0.60:
            activity = LogSalesActivity(
                opportunity_id=deal, activity_id=uuid4(), kind="call", subject="follow-up"
            )
            self.bus.execute(activity)  # an event the read model does not read
        elif roll < 0.66:
            self._sell(deal)
        elif roll < 0.70:
            self.bus.execute(LoseOpportunity(opportunity_id=deal, reason="price"))
            self.status[deal] = "lost"
        elif roll < 0.72:
            self.bus.execute(MarkOpportunityUnqualified(opportunity_id=deal, reason="no budget"))
            self.status[deal] = "lost"
        elif roll < 0.75:
            self._reopen()
        elif roll < 0.77:
            self.bus.execute(DeleteOpportunity(opportunity_id=deal))
            self.status[deal] = "deleted"
        elif roll < 0.85:
            self.bus.execute(
                SetSalesTarget(
                    owner=rng.choice(OWNERS),
                    period=f"2027-Q{rng.randint(1, 4)}",
                    amount=Money(Decimal(rng.randint(10, 90) * 1000), "EUR"),
                )
            )
        elif roll < 0.90:
            rate = Decimal(rng.randint(850, 950)) / 1000
            self.bus.execute(SetExchangeRate(currency="USD", rate=rate))
        elif roll < 0.94:
            self.bus.execute(
                ChangeStage(
                    pipeline_id=SALES,
                    stage=rng.choice(OPEN_STAGES),
                    probability=rng.randint(5, 95),
                )
            )
        else:
            self._baseline()

    def _create(self) -> None:
        deal = uuid4()
        self.bus.execute(
            CreateOpportunity(
                opportunity_id=deal,
                title=f"deal {len(self.status)}",
                owner=self.rng.choice(OWNERS),
                account_name=f"account {self.rng.randint(1, 40)}",
                expected_close=date(2027, 1, 1) + timedelta(days=self.rng.randint(0, 364)),
                amount=Money(Decimal(self.rng.randint(1, 500) * 100), self._currency()),
                stage=self.rng.choice(OPEN_STAGES),
            )
        )
        self.status[deal] = "open"

    def _currency(self) -> str:
        return "USD" if self.rng.random() < 0.3 else "EUR"

    def _edit(self, deal: UUID) -> None:
        rng = self.rng
        change = rng.randrange(5)
        if change == 0:
            edit = EditOpportunity(
                opportunity_id=deal, amount=Money(Decimal(rng.randint(1, 900) * 100), "EUR")
            )
        elif change == 1:
            close = date(2027, 1, 1) + timedelta(days=rng.randint(0, 364))
            edit = EditOpportunity(opportunity_id=deal, expected_close=close)
        elif change == 2:
            edit = EditOpportunity(opportunity_id=deal, owner=rng.choice(OWNERS))
        elif change == 3:
            edit = EditOpportunity(opportunity_id=deal, probability=rng.randint(0, 100))
        else:
            category = rng.choice(CATEGORIES)
            edit = EditOpportunity(opportunity_id=deal, forecast_category=category)  # type: ignore[arg-type]
        self.bus.execute(edit)

    def _sell(self, deal: UUID) -> None:
        quote = uuid4()
        self.bus.execute(CreateQuote(quote_id=quote, opportunity_id=deal, name="offer"))
        days = self.rng.randint(1, 20)
        day_rate = Decimal(self.rng.randint(5, 15) * 100)
        self.bus.execute(implementation_days(quote, days, day_rate))
        self.bus.execute(ActivateQuote(quote_id=quote))
        self.bus.execute(SellOpportunity(opportunity_id=deal))
        self.status[deal] = "won"

    def _reopen(self) -> None:
        closed = self._pick("lost", "won")
        if closed is None:
            return
        if self.status[closed] == "won":
            self.bus.execute(UnlockOpportunity(opportunity_id=closed))
        else:
            self.bus.execute(ReopenOpportunity(opportunity_id=closed))
        self.status[closed] = "open"

    def _baseline(self) -> None:
        if self.baselines and self.rng.random() < 0.3:
            self.bus.execute(DeleteBaseline(baseline_id=self.baselines.pop()))
            return
        baseline = uuid4()
        self.bus.execute(baseline_taken(baseline, len(self.baselines), 1, self.clock.now()))
        self.baselines.append(baseline)
