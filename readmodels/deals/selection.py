"""Which deals a chart counts: its filters, and the columns of the deals they admit."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

import msgspec

from domain.errors import NotFound
from readmodels.deals.view import DealsView, StageRow
from readmodels.scope import Scope


class Filters(msgspec.Struct, frozen=True, kw_only=True):
    owner: str | None = None
    partner_id: UUID | None = None
    account_id: UUID | None = None
    close_from: date | None = None
    close_to: date | None = None
    # The deals the user may see (None: all); not a parameter of the chart's.
    scope: Scope | None = None

    def as_params(self) -> dict[str, str]:
        return {
            k: str(v)
            for k, v in msgspec.structs.asdict(self).items()
            if v is not None and k != "scope"
        }


def visible(view: DealsView, scope: Scope) -> list[int]:
    """Indices of the deals ``scope`` counts, in creation order: by owner (or partner) in
    one pass over the column; the deals with exceptions (private, shared) one by one."""
    deals = view.deals
    owners = scope.owners
    partner = scope.partner_id
    if partner is None:
        indices = [i for i, owner in enumerate(deals.owners) if owner in owners]
    else:
        indices = [
            i
            for i, (owner, partner_id) in enumerate(
                zip(deals.owners, deals.partner_ids, strict=True)
            )
            if owner in owners or partner_id == partner
        ]
    if not scope.exceptions:
        return indices
    special = {i for deal_id in scope.exceptions if (i := view.find(deal_id)) is not None}
    indices = [i for i in indices if i not in special]
    indices.extend(
        i for i in special if scope.admits(deals.ids[i], deals.owners[i], deals.partner_ids[i])
    )
    indices.sort()
    return indices


def pipeline_stages(view: DealsView, pipeline_id: UUID) -> list[StageRow]:
    wanted = str(pipeline_id)
    stages = sorted(
        (s for s in view.stages.values() if s.pipeline_id == wanted and not s.removed),
        key=lambda s: s.ordinal,
    )
    if not stages:
        raise NotFound(f"there is no pipeline with id {pipeline_id} at this position.")
    return stages


def selected(view: DealsView, filters: Filters) -> list[int]:
    """Indices of the deals the filters admit (deleted ones never)."""
    deals = view.deals
    statuses = deals.statuses
    if filters.scope is None:
        indices = [i for i, status in enumerate(statuses) if status != "deleted"]
    else:
        indices = [i for i in visible(view, filters.scope) if statuses[i] != "deleted"]
    if filters.owner is not None:
        indices = [i for i in indices if deals.owners[i] == filters.owner]
    if filters.partner_id is not None:
        partner = str(filters.partner_id)
        indices = [i for i in indices if deals.partner_ids[i] == partner]
    if filters.account_id is not None:
        account = str(filters.account_id)
        indices = [i for i in indices if deals.account_ids[i] == account]
    if filters.close_from is not None:
        start = filters.close_from.toordinal()
        indices = [i for i in indices if deals.expected_close[i] >= start]
    if filters.close_to is not None:
        end = filters.close_to.toordinal()
        indices = [i for i in indices if deals.expected_close[i] <= end]
    return indices


_NO_FILTERS = Filters()


def columns(view: DealsView, filters: Filters, *names: str) -> list[list[Any]]:
    """The named deal columns, restricted to the deals the filters admit.

    Unfiltered, the columns themselves (deleted deals included: callers skip them by
    status), so the charts' loops zip over them without indexing or copying.
    """
    deals = view.deals
    every = [getattr(deals, name) for name in names]
    if filters == _NO_FILTERS:
        return every
    indices = selected(view, filters)
    return [[column[i] for i in indices] for column in every]
