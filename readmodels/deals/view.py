"""The deals read model held in memory: deals in columns, and the small reference tables.

Why columns: an as-of query loads a checkpoint and replays at most one
checkpoint interval. Decoding tens of thousands of deal objects would take
longer than the whole query may; lists of strings and integers decode ten
times faster, and charts sum integers (minor units) rather than Decimals.

``DealColumns`` holds what charts need; ``DealDetails`` what only the SQL
tables need (titles, timestamps), kept by the projector and a rebuild but not
by as-of queries, whose checkpoints therefore stay small. Values follow
``readmodels.values`` (ids as text, minor units, ordinals, micros, ``NONE``).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from uuid import UUID

import msgspec

from readmodels.deals.changes import DealChanges
from readmodels.slice import Progress
from readmodels.values import NONE, instant


class DealColumns(msgspec.Struct, array_like=True):
    ids: list[str] = msgspec.field(default_factory=list)
    owners: list[str] = msgspec.field(default_factory=list)
    account_ids: list[str] = msgspec.field(default_factory=list)
    partner_ids: list[str | None] = msgspec.field(default_factory=list)
    pipeline_ids: list[str] = msgspec.field(default_factory=list)
    stages: list[str] = msgspec.field(default_factory=list)
    statuses: list[str] = msgspec.field(default_factory=list)  # open won lost unqualified deleted
    amounts: list[int] = msgspec.field(default_factory=list)
    currencies: list[str] = msgspec.field(default_factory=list)
    expected_close: list[int] = msgspec.field(default_factory=list)
    probability_override: list[int] = msgspec.field(default_factory=list)
    category_override: list[str | None] = msgspec.field(default_factory=list)
    sold_at: list[int] = msgspec.field(default_factory=list)


class DealDetails(msgspec.Struct, array_like=True):
    titles: list[str] = msgspec.field(default_factory=list)
    created_position: list[int] = msgspec.field(default_factory=list)
    created_at: list[int] = msgspec.field(default_factory=list)
    stage_entered_at: list[int] = msgspec.field(default_factory=list)
    closed_at: list[int] = msgspec.field(default_factory=list)
    updated_position: list[int] = msgspec.field(default_factory=list)
    visits: list[int] = msgspec.field(default_factory=list)  # stage visits so far


class StageRow(msgspec.Struct, array_like=True):
    pipeline_id: str
    pipeline_name: str
    key: str
    name: str
    ordinal: int
    probability: int
    forecast_category: str
    closed: str | None
    # Removed from its pipeline (``StageRemoved``): kept, as its past visits name it.
    removed: bool = False


class RateRow(msgspec.Struct, array_like=True):
    currency: str
    effective_from: datetime
    rate: Decimal
    position: int


class TargetRow(msgspec.Struct, array_like=True):
    owner: str
    period: str
    amount: Decimal


class BaselineRow(msgspec.Struct, array_like=True):
    id: str
    name: str
    chart: str
    params: dict[str, str]
    position: int
    as_of: datetime
    sha256: str
    taken_at: datetime
    deleted: bool = False


def stage_key(pipeline_id: str, key: str) -> str:
    return f"{pipeline_id}:{key}"


def target_key(owner: str, period: str) -> str:
    return f"{owner}\x1f{period}"


class DealsView:
    """Everything the deals read model knows at ``progress.position``."""

    def __init__(
        self,
        *,
        full: bool = True,
        progress: Progress | None = None,
        reporting_currency: str = "EUR",
        deals: DealColumns | None = None,
        details: DealDetails | None = None,
        stages: dict[str, StageRow] | None = None,
        rates: list[RateRow] | None = None,
        targets: dict[str, TargetRow] | None = None,
        baselines: dict[str, BaselineRow] | None = None,
    ) -> None:
        self.progress = progress if progress is not None else Progress()
        self.reporting_currency = reporting_currency
        self.deals = deals if deals is not None else DealColumns()
        # Without details the view serves charts only (as-of queries).
        self.details = details if details is not None else (DealDetails() if full else None)
        self.stages = stages if stages is not None else {}
        self.rates = rates if rates is not None else []
        self.targets = targets if targets is not None else {}
        self.baselines = baselines if baselines is not None else {}
        # What changed since the last write (a chart view clears it as it goes).
        self.changes = DealChanges()
        # Checkpoints taken so far: the deals whose identities they hold, and the position
        # of the last full one (0: none).
        self.checkpointed = 0
        self.last_full = 0
        self._index: dict[str, int] | None = None

    @property
    def position(self) -> int:
        return self.progress.position

    @property
    def index(self) -> dict[str, int]:
        """Deal id → index. May be shared by as-of views and know deals created after
        this view's position (indices are creation order everywhere): ask ``find``
        whether a deal exists here."""
        if self._index is None:
            self._index = {deal_id: i for i, deal_id in enumerate(self.deals.ids)}
        return self._index

    def share_index(self, index: dict[str, int] | None) -> None:
        self._index = index

    def deal(self, deal_id: UUID) -> int:
        return self.index[str(deal_id)]

    def find(self, deal_id: str) -> int | None:
        """The index of a deal that exists in this view, else None."""
        i = self.index.get(deal_id)
        return i if i is not None and i < len(self.deals.ids) else None

    @property
    def recorded_instant(self) -> datetime | None:
        recorded = self.progress.recorded_at
        return None if recorded == NONE else instant(recorded)
