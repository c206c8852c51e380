"""How each event changes the sales read model: one function per event type.

``apply(view, event, position, dirty)`` changes ``view`` in place and notes in
``dirty`` what changed, so storage writes only that. The projector, a rebuild
and as-of queries all use this one function; a view without details (as-of)
skips what only the SQL tables show.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple, TypeVar

import msgspec

from domain.baseline import BaselineDeleted, BaselineTaken
from domain.campaign import CampaignArchived, CampaignCreated
from domain.contract import (
    ContractAmended,
    ContractCancelled,
    ContractCreated,
    ContractExpired,
    ContractFulfilled,
    ContractRenewalDue,
    ContractRenewalWithdrawn,
    ContractRenewed,
)
from domain.events import DomainEvent, topic_of
from domain.exchange_rates import ExchangeRateSet, ExchangeRatesStarted
from domain.lead import (
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
    LeadSplit,
    LeadUnarchived,
    LeadWorkStarted,
)
from domain.money import minor_unit
from domain.opportunity import (
    ExpectedCloseChanged,
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
    OpportunitySold,
    OpportunityUnlocked,
    PartnerAssigned,
)
from domain.pipeline import PipelineCreated, StageForecastCategoryChanged, StageProbabilityChanged
from domain.targets import SalesTargetSet
from readmodels.rows import (
    NONE,
    BaselineRow,
    CampaignOpportunity,
    CampaignRow,
    ContractRow,
    LeadRow,
    RateRow,
    SalesView,
    StageRow,
    TargetRow,
    micros,
    stage_key,
    target_key,
    to_minor,
)


class VisitLeft(NamedTuple):
    """A stage visit begun in an earlier write ends (an UPDATE of its row)."""

    deal_id: str
    seq: int
    left_at: int
    left_position: int
    next_stage: str | None


# A visit row begun since the last write:
# [deal_id, seq, stage, entered_at, entered_position, left_at, left_position, next_stage]
VisitRow = list[Any]


@dataclass
class Dirty:
    """What changed since the last write.

    A visit that begins and ends between two writes is one INSERT with both
    ends filled in, not an INSERT and an UPDATE: a rebuild writes each visit once.
    """

    deals: set[int] = field(default_factory=set)
    stages: set[str] = field(default_factory=set)
    rates: list[RateRow] = field(default_factory=list)
    targets: set[str] = field(default_factory=set)
    baselines: set[str] = field(default_factory=set)
    entered: dict[tuple[str, int], VisitRow] = field(default_factory=dict)
    left: list[VisitLeft] = field(default_factory=list)
    # Deals created or changed since the last full checkpoint (what a delta holds); kept
    # across writes, emptied by the projector when it writes a full checkpoint.
    since_full: set[int] = field(default_factory=set)
    # Contract versions begun since the last write, with the position each ended at (or
    # None); and (id, valid_from, valid_to) for versions begun in earlier writes that ended.
    contract_versions: dict[tuple[str, int], list[Any]] = field(default_factory=dict)
    contract_ends: list[tuple[str, int, int]] = field(default_factory=list)
    # The same for leads and campaigns; and the opportunities made for a campaign.
    lead_versions: dict[tuple[str, int], list[Any]] = field(default_factory=dict)
    lead_ends: list[tuple[str, int, int]] = field(default_factory=list)
    campaign_versions: dict[tuple[str, int], list[Any]] = field(default_factory=dict)
    campaign_ends: list[tuple[str, int, int]] = field(default_factory=list)
    campaign_opportunities: list[CampaignOpportunity] = field(default_factory=list)

    def new_contract_version(self, row: ContractRow, previous: ContractRow | None) -> None:
        _new_version(self.contract_versions, self.contract_ends, row, previous)

    def new_lead_version(self, row: LeadRow, previous: LeadRow | None) -> None:
        _new_version(self.lead_versions, self.lead_ends, row, previous)

    def new_campaign_version(self, row: CampaignRow, previous: CampaignRow | None) -> None:
        _new_version(self.campaign_versions, self.campaign_ends, row, previous)

    def enter(self, deal_id: str, seq: int, stage: str, at: int, position: int) -> None:
        self.entered[(deal_id, seq)] = [deal_id, seq, stage, at, position, NONE, None, None]

    def leave(self, deal_id: str, seq: int, at: int, position: int, next_stage: str | None) -> None:
        row = self.entered.get((deal_id, seq))
        if row is None:
            self.left.append(VisitLeft(deal_id, seq, at, position, next_stage))
        else:
            row[5], row[6], row[7] = at, position, next_stage

    def clear(self) -> None:
        self.deals.clear()
        self.stages.clear()
        self.rates.clear()
        self.targets.clear()
        self.baselines.clear()
        self.entered.clear()
        self.left.clear()
        self.contract_versions.clear()
        self.contract_ends.clear()
        self.lead_versions.clear()
        self.lead_ends.clear()
        self.campaign_versions.clear()
        self.campaign_ends.clear()
        self.campaign_opportunities.clear()


Versioned = ContractRow | LeadRow | CampaignRow


def _new_version(
    versions: dict[tuple[str, int], list[Any]],
    ends: list[tuple[str, int, int]],
    row: Versioned,
    previous: Versioned | None,
) -> None:
    """Note ``row`` as a version begun, ending ``previous``: in place when that began since
    the last write too (one INSERT with both ends), else as an UPDATE of its ``valid_to``."""
    if previous is not None:
        begun = versions.get((previous.id, previous.valid_from))
        if begun is None:
            ends.append((previous.id, previous.valid_from, row.valid_from))
        else:
            begun[1] = row.valid_from
    versions[(row.id, row.valid_from)] = [row, None]


E = TypeVar("E", bound=DomainEvent)
Apply = Callable[[SalesView, Any, int, Dirty, str], None]
_APPLY: dict[type[DomainEvent], Apply] = {}


def _on(
    event_type: type[E],
) -> Callable[[Callable[[SalesView, E, int, Dirty, str], None]], Apply]:
    def register(function: Callable[[SalesView, E, int, Dirty, str], None]) -> Apply:
        _APPLY[event_type] = function
        return function

    return register


def topics() -> frozenset[str]:
    """The stored topics this projection reads; other events are skipped undecoded.

    Every stored version of each type: ``Name`` for version 1, ``Name@vN`` after.
    """
    return frozenset(
        topic_of(cls, version) for cls in _APPLY for version in range(1, cls.class_version + 1)
    )


def apply(
    view: SalesView, event: DomainEvent, position: int, dirty: Dirty, key: str | None = None
) -> None:
    """Apply ``event`` at ``position``; ``key`` is ``str(event.originator_id)`` when the
    caller has it already (a ``LogRow``), sparing the conversion."""
    handler = _APPLY.get(type(event))
    if handler is not None:
        handler(view, event, position, dirty, key or str(event.originator_id))
    view.position = position
    recorded = view.recorded_at = micros(event.recorded_at)
    view.recorded_max = max(view.recorded_max, recorded)


# --- reference data -------------------------------------------------------------


@_on(ExchangeRatesStarted)
def _rates_started(
    view: SalesView, e: ExchangeRatesStarted, position: int, dirty: Dirty, key: str
) -> None:
    view.reporting_currency = e.reporting_currency


@_on(ExchangeRateSet)
def _rate_set(view: SalesView, e: ExchangeRateSet, position: int, dirty: Dirty, key: str) -> None:
    row = RateRow(
        currency=e.currency, effective_from=e.effective_from, rate=e.rate, position=position
    )
    view.rates.append(row)
    dirty.rates.append(row)


@_on(PipelineCreated)
def _pipeline_created(
    view: SalesView, e: PipelineCreated, position: int, dirty: Dirty, key: str
) -> None:
    pipeline_id = key
    for ordinal, stage in enumerate(e.stages):
        key = stage_key(pipeline_id, stage.key)
        view.stages[key] = StageRow(
            pipeline_id=pipeline_id,
            pipeline_name=e.name,
            key=stage.key,
            name=stage.name,
            ordinal=ordinal,
            probability=stage.probability,
            forecast_category=stage.forecast_category,
            closed=stage.closed,
        )
        dirty.stages.add(key)


@_on(StageProbabilityChanged)
def _probability_changed(
    view: SalesView, e: StageProbabilityChanged, position: int, dirty: Dirty, key: str
) -> None:
    key = stage_key(key, e.stage)
    view.stages[key].probability = e.probability
    dirty.stages.add(key)


@_on(StageForecastCategoryChanged)
def _category_changed(
    view: SalesView, e: StageForecastCategoryChanged, position: int, dirty: Dirty, key: str
) -> None:
    key = stage_key(key, e.stage)
    view.stages[key].forecast_category = e.forecast_category
    dirty.stages.add(key)


@_on(SalesTargetSet)
def _target_set(view: SalesView, e: SalesTargetSet, position: int, dirty: Dirty, key: str) -> None:
    key = target_key(e.owner, e.period)
    view.targets[key] = TargetRow(owner=e.owner, period=e.period, amount=e.amount.amount)
    dirty.targets.add(key)


@_on(BaselineTaken)
def _baseline_taken(
    view: SalesView, e: BaselineTaken, position: int, dirty: Dirty, key: str
) -> None:
    view.baselines[key] = BaselineRow(
        id=key,
        name=e.name,
        chart=e.chart,
        params=e.params,
        position=e.position,
        as_of=e.as_of,
        sha256=e.sha256,
        taken_at=e.recorded_at,
    )
    dirty.baselines.add(key)


@_on(BaselineDeleted)
def _baseline_deleted(
    view: SalesView, e: BaselineDeleted, position: int, dirty: Dirty, key: str
) -> None:
    view.baselines[key].deleted = True
    dirty.baselines.add(key)


# --- deals -------------------------------------------------------------------


def _deal(view: SalesView, key: str, position: int, dirty: Dirty) -> int:
    i = view.index[key]
    dirty.deals.add(i)
    dirty.since_full.add(i)
    details = view.details
    if details is not None:
        details.updated_position[i] = position
    return i


def _enter(
    view: SalesView, i: int, stage: str, *, e: DomainEvent, position: int, dirty: Dirty
) -> None:
    """Put deal ``i`` in ``stage``, closing its current stage visit (SQL tables only)."""
    view.deals.stages[i] = stage
    details = view.details
    if details is None:
        return
    # Once per stage change of a rebuild: Dirty.leave and Dirty.enter inline.
    at = micros(e.effective_at or e.recorded_at)
    deal_id = view.deals.ids[i]
    seq = details.visits[i]
    entered = dirty.entered
    if seq > 0:
        row = entered.get((deal_id, seq - 1))
        if row is None:
            dirty.left.append(VisitLeft(deal_id, seq - 1, at, position, stage))
        else:
            row[5], row[6], row[7] = at, position, stage
    entered[(deal_id, seq)] = [deal_id, seq, stage, at, position, NONE, None, None]
    details.visits[i] = seq + 1
    details.stage_entered_at[i] = at


@_on(OpportunityCreated)
def _created(view: SalesView, e: OpportunityCreated, position: int, dirty: Dirty, key: str) -> None:
    deals = view.deals
    i = len(deals.ids)
    deal_id = key
    deals.ids.append(deal_id)
    deals.owners.append(e.owner)
    deals.account_ids.append(str(e.account_id))
    deals.partner_ids.append(str(e.partner_id) if e.partner_id else None)
    deals.pipeline_ids.append(str(e.pipeline_id))
    deals.stages.append(e.stage)
    deals.statuses.append("open")
    deals.amounts.append(to_minor(e.amount.amount, minor_unit(e.amount.currency)))
    deals.currencies.append(e.amount.currency)
    deals.expected_close.append(e.expected_close.toordinal())
    deals.probability_override.append(NONE if e.probability is None else e.probability)
    deals.category_override.append(e.forecast_category)
    deals.sold_at.append(NONE)
    view.index[deal_id] = i
    details = view.details
    if details is not None:
        at = micros(e.occurred_at)
        details.titles.append(e.title)
        details.created_position.append(position)
        details.created_at.append(at)
        details.stage_entered_at.append(at)
        details.closed_at.append(NONE)
        details.updated_position.append(position)
        details.visits.append(0)
    dirty.deals.add(i)
    dirty.since_full.add(i)
    _enter(view, i, e.stage, e=e, position=position, dirty=dirty)
    if e.campaign_id is not None and view.campaigns is not None:
        lead_id = None if e.lead_id is None else str(e.lead_id)
        dirty.campaign_opportunities.append((deal_id, str(e.campaign_id), lead_id, position))


@_on(OpportunityRenamed)
def _renamed(view: SalesView, e: OpportunityRenamed, position: int, dirty: Dirty, key: str) -> None:
    i = _deal(view, key, position, dirty)
    if view.details is not None:
        view.details.titles[i] = e.title


@_on(ExpectedCloseChanged)
def _close_changed(
    view: SalesView, e: ExpectedCloseChanged, position: int, dirty: Dirty, key: str
) -> None:
    view.deals.expected_close[_deal(view, key, position, dirty)] = e.expected_close.toordinal()


@_on(OpportunityAmountChanged)
def _amount_changed(
    view: SalesView, e: OpportunityAmountChanged, position: int, dirty: Dirty, key: str
) -> None:
    i = _deal(view, key, position, dirty)
    view.deals.amounts[i] = to_minor(e.amount.amount, minor_unit(e.amount.currency))
    view.deals.currencies[i] = e.amount.currency


@_on(OpportunityMovedToStage)
def _moved(
    view: SalesView, e: OpportunityMovedToStage, position: int, dirty: Dirty, key: str
) -> None:
    i = _deal(view, key, position, dirty)
    view.deals.probability_override[i] = NONE
    view.deals.category_override[i] = None
    _enter(view, i, e.stage, e=e, position=position, dirty=dirty)


@_on(OpportunityProbabilitySet)
def _probability_set(
    view: SalesView, e: OpportunityProbabilitySet, position: int, dirty: Dirty, key: str
) -> None:
    i = _deal(view, key, position, dirty)
    view.deals.probability_override[i] = NONE if e.probability is None else e.probability


@_on(OpportunityForecastCategorySet)
def _category_set(
    view: SalesView, e: OpportunityForecastCategorySet, position: int, dirty: Dirty, key: str
) -> None:
    view.deals.category_override[_deal(view, key, position, dirty)] = e.forecast_category


@_on(OpportunityReassigned)
def _reassigned(
    view: SalesView, e: OpportunityReassigned, position: int, dirty: Dirty, key: str
) -> None:
    view.deals.owners[_deal(view, key, position, dirty)] = e.owner


@_on(PartnerAssigned)
def _partner(view: SalesView, e: PartnerAssigned, position: int, dirty: Dirty, key: str) -> None:
    i = _deal(view, key, position, dirty)
    view.deals.partner_ids[i] = str(e.partner_id) if e.partner_id else None


def _close(view: SalesView, i: int, status: str, e: DomainEvent, position: int) -> None:
    view.deals.statuses[i] = status
    if view.details is not None:
        view.details.closed_at[i] = micros(e.occurred_at)


@_on(OpportunitySold)
def _sold(view: SalesView, e: OpportunitySold, position: int, dirty: Dirty, key: str) -> None:
    i = _deal(view, key, position, dirty)
    view.deals.sold_at[i] = micros(e.sold_at)
    view.deals.amounts[i] = to_minor(e.amount.amount, minor_unit(e.amount.currency))
    view.deals.currencies[i] = e.amount.currency
    _close(view, i, "won", e, position)
    if view.details is not None:
        view.details.closed_at[i] = micros(e.sold_at)
    _enter(view, i, e.stage, e=e, position=position, dirty=dirty)


@_on(OpportunityLost)
def _lost(view: SalesView, e: OpportunityLost, position: int, dirty: Dirty, key: str) -> None:
    i = _deal(view, key, position, dirty)
    _close(view, i, "lost", e, position)
    _enter(view, i, e.stage, e=e, position=position, dirty=dirty)


@_on(OpportunityMarkedUnqualified)
def _unqualified(
    view: SalesView, e: OpportunityMarkedUnqualified, position: int, dirty: Dirty, key: str
) -> None:
    i = _deal(view, key, position, dirty)
    _close(view, i, "unqualified", e, position)
    _enter(view, i, e.stage, e=e, position=position, dirty=dirty)


def _reopen(
    view: SalesView,
    e: OpportunityUnlocked | OpportunityReopened,
    position: int,
    dirty: Dirty,
    key: str,
) -> None:
    i = _deal(view, key, position, dirty)
    view.deals.statuses[i] = "open"
    view.deals.sold_at[i] = NONE
    if view.details is not None:
        view.details.closed_at[i] = NONE
    _enter(view, i, e.stage, e=e, position=position, dirty=dirty)


@_on(OpportunityUnlocked)
def _unlocked(
    view: SalesView, e: OpportunityUnlocked, position: int, dirty: Dirty, key: str
) -> None:
    _reopen(view, e, position, dirty, key)


@_on(OpportunityReopened)
def _reopened(
    view: SalesView, e: OpportunityReopened, position: int, dirty: Dirty, key: str
) -> None:
    _reopen(view, e, position, dirty, key)


@_on(OpportunityDeleted)
def _deleted(view: SalesView, e: OpportunityDeleted, position: int, dirty: Dirty, key: str) -> None:
    i = _deal(view, key, position, dirty)
    view.deals.statuses[i] = "deleted"
    details = view.details
    if details is not None and details.visits[i] > 0:
        dirty.leave(view.deals.ids[i], details.visits[i] - 1, micros(e.occurred_at), position, None)


# --- contracts (SQL tables only: each change is a new version of the contract's row) ------


V = TypeVar("V", ContractRow, LeadRow, CampaignRow)


def _next_version(
    rows: dict[str, V] | None,
    note: Callable[[V, V | None], None],
    key: str,
    position: int,
    e: DomainEvent,
    **changes: Any,
) -> None:
    """A new version of a row of a temporal table (contracts, leads, campaigns), from
    ``position`` on; none when the view keeps no such rows (as-of views)."""
    if rows is None:
        return
    previous = rows[key]
    row = msgspec.structs.replace(
        previous, valid_from=position, updated_at=micros(e.recorded_at), **changes
    )
    rows[key] = row
    note(row, previous)


def _contract_version(
    view: SalesView, key: str, position: int, dirty: Dirty, e: DomainEvent, **changes: Any
) -> None:
    _next_version(view.contracts, dirty.new_contract_version, key, position, e, **changes)


@_on(ContractCreated)
def _contract_created(
    view: SalesView, e: ContractCreated, position: int, dirty: Dirty, key: str
) -> None:
    if view.contracts is None:
        return
    row = ContractRow(
        id=key,
        valid_from=position,
        opportunity_id=str(e.opportunity_id),
        account_id=str(e.account_id),
        owner=e.owner,
        quote_item_id=str(e.quote_item_id),
        product_id=None if e.product_id is None else str(e.product_id),
        component_product_id=(
            None if e.component_product_id is None else str(e.component_product_id)
        ),
        name=e.name,
        kind=e.contract_kind,
        category=e.category,
        value=e.value.amount,
        currency=e.value.currency,
        start=e.start,
        end=e.end,
        status="active",
        renewal_opportunity_id=None,
        renews_contract_id=None if e.renews_contract_id is None else str(e.renews_contract_id),
        updated_at=micros(e.recorded_at),
    )
    view.contracts[key] = row
    dirty.new_contract_version(row, None)


@_on(ContractAmended)
def _contract_amended(
    view: SalesView, e: ContractAmended, position: int, dirty: Dirty, key: str
) -> None:
    _contract_version(
        view,
        key,
        position,
        dirty,
        e,
        name=e.name,
        kind=e.contract_kind,
        category=e.category,
        product_id=None if e.product_id is None else str(e.product_id),
        value=e.value.amount,
        currency=e.value.currency,
        start=e.start,
        end=e.end,
    )


@_on(ContractRenewalDue)
def _contract_renewal_due(
    view: SalesView, e: ContractRenewalDue, position: int, dirty: Dirty, key: str
) -> None:
    _contract_version(
        view,
        key,
        position,
        dirty,
        e,
        status="renewal_due",
        renewal_opportunity_id=str(e.renewal_opportunity_id),
    )


@_on(ContractExpired)
def _contract_expired(
    view: SalesView, e: ContractExpired, position: int, dirty: Dirty, key: str
) -> None:
    _contract_version(view, key, position, dirty, e, status="expired")


@_on(ContractRenewed)
def _contract_renewed(
    view: SalesView, e: ContractRenewed, position: int, dirty: Dirty, key: str
) -> None:
    _contract_version(view, key, position, dirty, e, status="renewed")


@_on(ContractRenewalWithdrawn)
def _contract_renewal_withdrawn(
    view: SalesView, e: ContractRenewalWithdrawn, position: int, dirty: Dirty, key: str
) -> None:
    _contract_version(view, key, position, dirty, e, status=e.status)


@_on(ContractFulfilled)
def _contract_fulfilled(
    view: SalesView, e: ContractFulfilled, position: int, dirty: Dirty, key: str
) -> None:
    _contract_version(view, key, position, dirty, e, status="fulfilled")


@_on(ContractCancelled)
def _contract_cancelled(
    view: SalesView, e: ContractCancelled, position: int, dirty: Dirty, key: str
) -> None:
    _contract_version(view, key, position, dirty, e, status="cancelled")


# --- leads and campaigns (SQL tables only: each change is a new version of the row) --------
#
# Personal data never reaches these rows: events carrying it arrive as stored (their
# personal fields null), and a lead row keeps only ``sealed``, the ciphertext.


def _lead_version(
    view: SalesView, key: str, position: int, dirty: Dirty, e: DomainEvent, **changes: Any
) -> None:
    _next_version(view.leads, dirty.new_lead_version, key, position, e, **changes)


def _id(value: Any) -> str | None:
    return None if value is None else str(value)


@_on(LeadCreated)
def _lead_created(view: SalesView, e: LeadCreated, position: int, dirty: Dirty, key: str) -> None:
    if view.leads is None:
        return
    row = LeadRow(
        id=key,
        valid_from=position,
        status="new",
        disqualified_as=None,
        source=e.source,
        campaign_id=_id(e.campaign_id),
        owner=e.owner,
        partner_id=_id(e.partner_id),
        account_id=None,
        company=e.company,
        priority=e.priority,
        opportunity_id=None,
        duplicate_of=_id(e.duplicate_of),
        channel=e.channel,
        archived=False,
        anonymized=False,
        activities=0,
        created_at=micros(e.occurred_at),
        updated_at=micros(e.recorded_at),
        personal_sealed=e.sealed,
    )
    view.leads[key] = row
    dirty.new_lead_version(row, None)


@_on(LeadPersonalDataChanged)
def _lead_personal(
    view: SalesView, e: LeadPersonalDataChanged, position: int, dirty: Dirty, key: str
) -> None:
    _lead_version(view, key, position, dirty, e, personal_sealed=e.sealed)


@_on(LeadDetailsChanged)
def _lead_details(
    view: SalesView, e: LeadDetailsChanged, position: int, dirty: Dirty, key: str
) -> None:
    _lead_version(
        view,
        key,
        position,
        dirty,
        e,
        company=e.company,
        source=e.source,
        campaign_id=_id(e.campaign_id),
        priority=e.priority,
    )


@_on(LeadAssigned)
def _lead_assigned(view: SalesView, e: LeadAssigned, position: int, dirty: Dirty, key: str) -> None:
    _lead_version(view, key, position, dirty, e, owner=e.owner)


@_on(LeadSplit)
def _lead_split(view: SalesView, e: LeadSplit, position: int, dirty: Dirty, key: str) -> None:
    _lead_version(view, key, position, dirty, e, owner=e.shares[0].user)


def _activities(view: SalesView, key: str, change: int) -> int:
    leads = view.leads
    return 0 if leads is None else max(leads[key].activities + change, 0)


@_on(LeadActivityLogged)
def _lead_activity_logged(
    view: SalesView, e: LeadActivityLogged, position: int, dirty: Dirty, key: str
) -> None:
    _lead_version(view, key, position, dirty, e, activities=_activities(view, key, 1))


@_on(LeadActivityEdited)
def _lead_activity_edited(
    view: SalesView, e: LeadActivityEdited, position: int, dirty: Dirty, key: str
) -> None:
    _lead_version(view, key, position, dirty, e)  # what changed is personal: updated_at only


@_on(LeadActivityDeleted)
def _lead_activity_deleted(
    view: SalesView, e: LeadActivityDeleted, position: int, dirty: Dirty, key: str
) -> None:
    _lead_version(view, key, position, dirty, e, activities=_activities(view, key, -1))


@_on(LeadWorkStarted)
def _lead_work_started(
    view: SalesView, e: LeadWorkStarted, position: int, dirty: Dirty, key: str
) -> None:
    _lead_version(view, key, position, dirty, e, status="working")


@_on(LeadAddedToAccount)
def _lead_to_account(
    view: SalesView, e: LeadAddedToAccount, position: int, dirty: Dirty, key: str
) -> None:
    _lead_version(view, key, position, dirty, e, account_id=str(e.account_id))


@_on(LeadAddedToPartner)
def _lead_to_partner(
    view: SalesView, e: LeadAddedToPartner, position: int, dirty: Dirty, key: str
) -> None:
    _lead_version(view, key, position, dirty, e, partner_id=str(e.partner_id))


@_on(LeadQualified)
def _lead_qualified(
    view: SalesView, e: LeadQualified, position: int, dirty: Dirty, key: str
) -> None:
    _lead_version(
        view,
        key,
        position,
        dirty,
        e,
        status="qualified",
        opportunity_id=str(e.opportunity_id),
        account_id=str(e.account_id),
    )


@_on(LeadDisqualified)
def _lead_disqualified(
    view: SalesView, e: LeadDisqualified, position: int, dirty: Dirty, key: str
) -> None:
    _lead_version(
        view, key, position, dirty, e, status="disqualified", disqualified_as=e.disqualified_as
    )


@_on(LeadArchived)
def _lead_archived(view: SalesView, e: LeadArchived, position: int, dirty: Dirty, key: str) -> None:
    _lead_version(view, key, position, dirty, e, archived=True)


@_on(LeadUnarchived)
def _lead_unarchived(
    view: SalesView, e: LeadUnarchived, position: int, dirty: Dirty, key: str
) -> None:
    _lead_version(view, key, position, dirty, e, archived=False)


@_on(LeadAnonymized)
def _lead_anonymized(
    view: SalesView, e: LeadAnonymized, position: int, dirty: Dirty, key: str
) -> None:
    _lead_version(view, key, position, dirty, e, anonymized=True, personal_sealed=None)


@_on(CampaignCreated)
def _campaign_created(
    view: SalesView, e: CampaignCreated, position: int, dirty: Dirty, key: str
) -> None:
    if view.campaigns is None:
        return
    row = CampaignRow(
        id=key,
        valid_from=position,
        name=e.name,
        channel=e.channel,
        starts_on=e.starts_on,
        ends_on=e.ends_on,
        archived=False,
        updated_at=micros(e.recorded_at),
    )
    view.campaigns[key] = row
    dirty.new_campaign_version(row, None)


@_on(CampaignArchived)
def _campaign_archived(
    view: SalesView, e: CampaignArchived, position: int, dirty: Dirty, key: str
) -> None:
    _next_version(view.campaigns, dirty.new_campaign_version, key, position, e, archived=True)
