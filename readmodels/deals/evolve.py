"""How each event changes the deals view: one function per event type.

Each changes the view in place and notes in ``view.changes`` what changed, so a
write holds only that. The projector, a rebuild and as-of queries all use these
functions; a view without details (as-of) skips what only the SQL tables show.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from domain import opportunity
from domain.baseline import BaselineDeleted, BaselineTaken
from domain.events import DomainEvent, Envelope
from domain.exchange_rates import ExchangeRateSet, ExchangeRatesStarted
from domain.money import minor_unit
from domain.targets import SalesTargetSet
from readmodels.deals.changes import VisitLeft
from readmodels.deals.stages import STAGE_HANDLERS
from readmodels.deals.view import (
    BaselineRow,
    DealsView,
    RateRow,
    TargetRow,
    target_key,
)
from readmodels.slice import topics
from readmodels.values import NONE, micros, to_minor

# --- reference data -------------------------------------------------------------


def _rates_started(view: DealsView, e: ExchangeRatesStarted, position: int, key: str) -> None:
    view.reporting_currency = e.reporting_currency
    view.changes.reporting_currency = True


def _rate_set(view: DealsView, e: ExchangeRateSet, position: int, key: str) -> None:
    row = RateRow(
        currency=e.currency, effective_from=e.effective_from, rate=e.rate, position=position
    )
    view.rates.append(row)
    view.changes.rates.append(row)


def _target_set(view: DealsView, e: SalesTargetSet, position: int, key: str) -> None:
    key = target_key(e.owner, e.period)
    view.targets[key] = TargetRow(owner=e.owner, period=e.period, amount=e.amount.amount)
    view.changes.targets.add(key)


def _baseline_taken(view: DealsView, e: BaselineTaken, position: int, key: str) -> None:
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
    view.changes.baselines.add(key)


def _baseline_deleted(view: DealsView, e: BaselineDeleted, position: int, key: str) -> None:
    view.baselines[key].deleted = True
    view.changes.baselines.add(key)


# --- deals -------------------------------------------------------------------


def _deal(view: DealsView, key: str, position: int) -> int:
    i = view.index[key]
    changes = view.changes
    changes.deals.add(i)
    changes.since_full.add(i)
    details = view.details
    if details is not None:
        details.updated_position[i] = position
    return i


def _enter(view: DealsView, i: int, stage: str, *, e: DomainEvent, position: int) -> None:
    """Put deal ``i`` in ``stage``, closing its current stage visit (SQL tables only)."""
    view.deals.stages[i] = stage
    details = view.details
    if details is None:
        return
    # Once per stage change of a rebuild: DealChanges.leave and .enter inline.
    at = micros(e.effective_at or e.recorded_at)
    deal_id = view.deals.ids[i]
    seq = details.visits[i]
    entered = view.changes.entered
    if seq > 0:
        row = entered.get((deal_id, seq - 1))
        if row is None:
            view.changes.left.append(VisitLeft(deal_id, seq - 1, at, position, stage))
        else:
            row[5], row[6], row[7] = at, position, stage
    entered[(deal_id, seq)] = [deal_id, seq, stage, at, position, NONE, None, None]
    details.visits[i] = seq + 1
    details.stage_entered_at[i] = at


def _created(view: DealsView, e: opportunity.OpportunityCreated, position: int, key: str) -> None:
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
    view.changes.deals.add(i)
    view.changes.since_full.add(i)
    _enter(view, i, e.stage, e=e, position=position)


def _renamed(view: DealsView, e: opportunity.OpportunityRenamed, position: int, key: str) -> None:
    i = _deal(view, key, position)
    if view.details is not None:
        view.details.titles[i] = e.title


def _close_changed(
    view: DealsView, e: opportunity.ExpectedCloseChanged, position: int, key: str
) -> None:
    view.deals.expected_close[_deal(view, key, position)] = e.expected_close.toordinal()


def _amount_changed(
    view: DealsView, e: opportunity.OpportunityAmountChanged, position: int, key: str
) -> None:
    i = _deal(view, key, position)
    view.deals.amounts[i] = to_minor(e.amount.amount, minor_unit(e.amount.currency))
    view.deals.currencies[i] = e.amount.currency


def _moved(
    view: DealsView, e: opportunity.OpportunityMovedToStage, position: int, key: str
) -> None:
    i = _deal(view, key, position)
    view.deals.probability_override[i] = NONE
    view.deals.category_override[i] = None
    _enter(view, i, e.stage, e=e, position=position)


def _moved_to_pipeline(
    view: DealsView, e: opportunity.OpportunityMovedToPipeline, position: int, key: str
) -> None:
    i = _deal(view, key, position)
    view.deals.pipeline_ids[i] = str(e.pipeline_id)
    view.deals.probability_override[i] = NONE
    view.deals.category_override[i] = None
    _enter(view, i, e.stage, e=e, position=position)


def _account_changed(
    view: DealsView, e: opportunity.OpportunityAccountChanged, position: int, key: str
) -> None:
    view.deals.account_ids[_deal(view, key, position)] = str(e.account_id)


def _probability_set(
    view: DealsView, e: opportunity.OpportunityProbabilitySet, position: int, key: str
) -> None:
    i = _deal(view, key, position)
    view.deals.probability_override[i] = NONE if e.probability is None else e.probability


def _category_set(
    view: DealsView, e: opportunity.OpportunityForecastCategorySet, position: int, key: str
) -> None:
    view.deals.category_override[_deal(view, key, position)] = e.forecast_category


def _reassigned(
    view: DealsView, e: opportunity.OpportunityReassigned, position: int, key: str
) -> None:
    view.deals.owners[_deal(view, key, position)] = e.owner


def _partner(view: DealsView, e: opportunity.PartnerAssigned, position: int, key: str) -> None:
    i = _deal(view, key, position)
    view.deals.partner_ids[i] = str(e.partner_id) if e.partner_id else None


def _close(view: DealsView, i: int, status: str, e: DomainEvent) -> None:
    view.deals.statuses[i] = status
    if view.details is not None:
        view.details.closed_at[i] = micros(e.occurred_at)


def _sold(view: DealsView, e: opportunity.OpportunitySold, position: int, key: str) -> None:
    i = _deal(view, key, position)
    view.deals.sold_at[i] = micros(e.sold_at)
    view.deals.amounts[i] = to_minor(e.amount.amount, minor_unit(e.amount.currency))
    view.deals.currencies[i] = e.amount.currency
    _close(view, i, "won", e)
    if view.details is not None:
        view.details.closed_at[i] = micros(e.sold_at)
    _enter(view, i, e.stage, e=e, position=position)


def _lost(view: DealsView, e: opportunity.OpportunityLost, position: int, key: str) -> None:
    i = _deal(view, key, position)
    _close(view, i, "lost", e)
    _enter(view, i, e.stage, e=e, position=position)


def _unqualified(
    view: DealsView, e: opportunity.OpportunityMarkedUnqualified, position: int, key: str
) -> None:
    i = _deal(view, key, position)
    _close(view, i, "unqualified", e)
    _enter(view, i, e.stage, e=e, position=position)


def _reopen(
    view: DealsView,
    e: opportunity.OpportunityUnlocked | opportunity.OpportunityReopened,
    position: int,
    key: str,
) -> None:
    i = _deal(view, key, position)
    view.deals.statuses[i] = "open"
    view.deals.sold_at[i] = NONE
    if view.details is not None:
        view.details.closed_at[i] = NONE
    _enter(view, i, e.stage, e=e, position=position)


def _deleted(view: DealsView, e: opportunity.OpportunityDeleted, position: int, key: str) -> None:
    i = _deal(view, key, position)
    view.deals.statuses[i] = "deleted"
    details = view.details
    if details is not None and details.visits[i] > 0:
        view.changes.leave(
            view.deals.ids[i], details.visits[i] - 1, micros(e.occurred_at), position, None
        )


HANDLERS: Mapping[type[DomainEvent], Callable[[DealsView, Any, int, str], None]] = {
    ExchangeRatesStarted: _rates_started,
    ExchangeRateSet: _rate_set,
    **STAGE_HANDLERS,
    SalesTargetSet: _target_set,
    BaselineTaken: _baseline_taken,
    BaselineDeleted: _baseline_deleted,
    opportunity.OpportunityCreated: _created,
    opportunity.OpportunityRenamed: _renamed,
    opportunity.ExpectedCloseChanged: _close_changed,
    opportunity.OpportunityAmountChanged: _amount_changed,
    opportunity.OpportunityMovedToStage: _moved,
    opportunity.OpportunityMovedFromRemovedStage: _moved,
    opportunity.OpportunityMovedToPipeline: _moved_to_pipeline,
    opportunity.OpportunityAccountChanged: _account_changed,
    opportunity.OpportunityProbabilitySet: _probability_set,
    opportunity.OpportunityForecastCategorySet: _category_set,
    opportunity.OpportunityReassigned: _reassigned,
    opportunity.PartnerAssigned: _partner,
    opportunity.OpportunitySold: _sold,
    opportunity.OpportunityLost: _lost,
    opportunity.OpportunityMarkedUnqualified: _unqualified,
    opportunity.OpportunityUnlocked: _reopen,
    opportunity.OpportunityReopened: _reopen,
    opportunity.OpportunityDeleted: _deleted,
}

# The stored topics the deals read (other events are skipped undecoded).
TOPICS = topics(HANDLERS)


def apply(view: DealsView, event: Envelope, position: int, key: str | None = None) -> None:
    """Apply ``event`` at ``position`` to a view that stands alone (as-of queries, the
    waterfall): its handler, then the view's progress (of an event the deals do not read,
    its envelope is enough). ``key`` is the originator id as text when the caller has it
    already."""
    handler = HANDLERS.get(type(event)) if isinstance(event, DomainEvent) else None
    if handler is not None:
        handler(view, event, position, key or str(event.originator_id))
    progress = view.progress
    progress.position = position
    recorded = progress.recorded_at = micros(event.recorded_at)
    progress.recorded_max = max(progress.recorded_max, recorded)
