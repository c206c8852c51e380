"""How opportunity events change the opportunities list: each change a new version of the
opportunity's row. Activities, roles and quotes added do not change a listed field."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from domain import opportunity as opp
from domain.events import DomainEvent
from readmodels.custom_values import changed_texts, texts
from readmodels.opportunities.tables import TABLE, OpportunityRow
from readmodels.values import micros, text
from readmodels.versions import Versions


class OpportunityVersions(Versions[OpportunityRow]):
    """The current version of each opportunity."""

    def __init__(self) -> None:
        super().__init__(TABLE, OpportunityRow)

    def changed(self, e: DomainEvent, position: int, key: str, **changes: Any) -> None:
        self.change(key, position, e.recorded_at, **changes)


def _created(
    state: OpportunityVersions, e: opp.OpportunityCreated, position: int, key: str
) -> None:
    state.begin(
        OpportunityRow(
            id=key,
            valid_from=position,
            title=e.title,
            owner=e.owner,
            account_id=str(e.account_id),
            partner_id=text(e.partner_id),
            pipeline_id=str(e.pipeline_id),
            stage=e.stage,
            status="open",
            amount=e.amount.amount,
            currency=e.amount.currency,
            expected_close=e.expected_close,
            probability=e.probability,
            forecast_category=e.forecast_category,
            created_at=micros(e.occurred_at),
            updated_at=micros(e.recorded_at),
            custom=texts(e.custom),
        )
    )


def _set(**fields: str) -> Callable[[OpportunityVersions, Any, int, str], None]:
    """A handler copying the event's fields (values) to the row's columns (keys)."""

    def handle(state: OpportunityVersions, e: Any, position: int, key: str) -> None:
        state.changed(e, position, key, **{c: getattr(e, f) for c, f in fields.items()})

    return handle


def _amount(
    state: OpportunityVersions, e: opp.OpportunityAmountChanged, position: int, key: str
) -> None:
    state.changed(e, position, key, amount=e.amount.amount, currency=e.amount.currency)


def _stage(
    state: OpportunityVersions, e: opp.OpportunityMovedToStage, position: int, key: str
) -> None:
    # A new stage brings its own probability and category back.
    state.changed(e, position, key, stage=e.stage, probability=None, forecast_category=None)


def _pipeline(
    state: OpportunityVersions, e: opp.OpportunityMovedToPipeline, position: int, key: str
) -> None:
    state.changed(
        e,
        position,
        key,
        pipeline_id=str(e.pipeline_id),
        stage=e.stage,
        probability=None,
        forecast_category=None,
    )


def _account(
    state: OpportunityVersions, e: opp.OpportunityAccountChanged, position: int, key: str
) -> None:
    state.changed(e, position, key, account_id=str(e.account_id))


def _partner(state: OpportunityVersions, e: opp.PartnerAssigned, position: int, key: str) -> None:
    state.changed(e, position, key, partner_id=text(e.partner_id))


def _sold(state: OpportunityVersions, e: opp.OpportunitySold, position: int, key: str) -> None:
    state.changed(
        e,
        position,
        key,
        status="won",
        stage=e.stage,
        amount=e.amount.amount,
        currency=e.amount.currency,
    )


def _status(status: str) -> Callable[[OpportunityVersions, Any, int, str], None]:
    def handle(state: OpportunityVersions, e: Any, position: int, key: str) -> None:
        state.changed(e, position, key, status=status, stage=e.stage)

    return handle


def _custom(
    state: OpportunityVersions, e: opp.OpportunityCustomFieldsChanged, position: int, key: str
) -> None:
    state.changed(e, position, key, custom=changed_texts(state[key].custom, e.custom))


def _deleted(
    state: OpportunityVersions, e: opp.OpportunityDeleted, position: int, key: str
) -> None:
    state.changed(e, position, key, status="deleted")


def _touched(state: OpportunityVersions, e: DomainEvent, position: int, key: str) -> None:
    # Its sharing is kept by the sharing read model; the row notes when it changed.
    state.changed(e, position, key)


HANDLERS: Mapping[type[DomainEvent], Callable[[OpportunityVersions, Any, int, str], None]] = {
    opp.OpportunityCreated: _created,
    opp.OpportunityRenamed: _set(title="title"),
    opp.ExpectedCloseChanged: _set(expected_close="expected_close"),
    opp.OpportunityAmountChanged: _amount,
    opp.OpportunityMovedToStage: _stage,
    opp.OpportunityMovedFromRemovedStage: _stage,
    opp.OpportunityMovedToPipeline: _pipeline,
    opp.OpportunityAccountChanged: _account,
    opp.OpportunityProbabilitySet: _set(probability="probability"),
    opp.OpportunityForecastCategorySet: _set(forecast_category="forecast_category"),
    opp.OpportunityReassigned: _set(owner="owner"),
    opp.PartnerAssigned: _partner,
    opp.OpportunitySold: _sold,
    opp.OpportunityCustomFieldsChanged: _custom,
    opp.OpportunityUnlocked: _status("open"),
    opp.OpportunityReopened: _status("open"),
    opp.OpportunityLost: _status("lost"),
    opp.OpportunityMarkedUnqualified: _status("unqualified"),
    opp.OpportunityDeleted: _deleted,
    opp.OpportunitySharingChanged: _touched,
}
