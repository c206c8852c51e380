"""The sales read model held in memory: deals in columns, and the small reference tables.

Why columns: an as-of query loads a checkpoint and replays at most one
checkpoint interval. Decoding tens of thousands of deal objects would take
longer than the whole query may; lists of strings and integers decode ten
times faster, and charts sum integers (minor units) rather than Decimals.

``DealColumns`` holds what charts need; ``DealDetails`` what only the SQL
tables need (titles, timestamps), kept by the projector and a rebuild but not
by as-of queries, whose checkpoints therefore stay small.

Conventions: ids are UUID strings; amounts are integers in the minor unit of
their own currency; dates are ordinals (``date.toordinal``); instants are
microseconds since the Unix epoch (UTC); ``-1`` means none.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from uuid import UUID

import msgspec

NONE = -1
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def micros(instant: datetime) -> int:
    return (instant - EPOCH) // timedelta(microseconds=1)


def instant(value: int) -> datetime:
    return EPOCH + timedelta(microseconds=value)


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


class Checkpoint(msgspec.Struct, array_like=True):
    """What an as-of query starts from: the chart state at ``position``."""

    position: int
    recorded_at: int
    reporting_currency: str
    deals: DealColumns
    stages: dict[str, StageRow]
    rates: list[RateRow]
    targets: dict[str, TargetRow]
    baselines: dict[str, BaselineRow] = msgspec.field(default_factory=dict)


class SalesView:
    """Everything the sales read model knows at ``position``."""

    def __init__(
        self,
        *,
        full: bool = True,
        position: int = 0,
        recorded_at: int = NONE,
        reporting_currency: str = "EUR",
        deals: DealColumns | None = None,
        details: DealDetails | None = None,
        stages: dict[str, StageRow] | None = None,
        rates: list[RateRow] | None = None,
        targets: dict[str, TargetRow] | None = None,
        baselines: dict[str, BaselineRow] | None = None,
    ) -> None:
        self.position = position
        self.recorded_at = recorded_at
        self.reporting_currency = reporting_currency
        self.deals = deals if deals is not None else DealColumns()
        # Without details the view serves charts only (as-of queries).
        self.details = details if details is not None else (DealDetails() if full else None)
        self.stages = stages if stages is not None else {}
        self.rates = rates if rates is not None else []
        self.targets = targets if targets is not None else {}
        self.baselines = baselines if baselines is not None else {}
        self._index: dict[str, int] | None = None

    @property
    def index(self) -> dict[str, int]:
        if self._index is None:
            self._index = {deal_id: i for i, deal_id in enumerate(self.deals.ids)}
        return self._index

    def deal(self, deal_id: UUID) -> int:
        return self.index[str(deal_id)]

    def checkpoint(self) -> Checkpoint:
        return Checkpoint(
            position=self.position,
            recorded_at=self.recorded_at,
            reporting_currency=self.reporting_currency,
            deals=self.deals,
            stages=self.stages,
            rates=self.rates,
            targets=self.targets,
            baselines=self.baselines,
        )

    @classmethod
    def from_checkpoint(cls, checkpoint: Checkpoint) -> SalesView:
        return cls(
            full=False,
            position=checkpoint.position,
            recorded_at=checkpoint.recorded_at,
            reporting_currency=checkpoint.reporting_currency,
            deals=checkpoint.deals,
            stages=checkpoint.stages,
            rates=checkpoint.rates,
            targets=checkpoint.targets,
            baselines=checkpoint.baselines,
        )

    @property
    def recorded_instant(self) -> datetime | None:
        return None if self.recorded_at == NONE else instant(self.recorded_at)


def stage_key(pipeline_id: str, key: str) -> str:
    return f"{pipeline_id}:{key}"


def target_key(owner: str, period: str) -> str:
    return f"{owner}\x1f{period}"


def to_minor(amount: Decimal, places: int) -> int:
    return int(amount.scaleb(places))


def from_minor(value: int, places: int) -> Decimal:
    return Decimal(value).scaleb(-places)


def ordinal(day: date) -> int:
    return day.toordinal()


_checkpoint_encoder = msgspec.msgpack.Encoder()
_checkpoint_decoder = msgspec.msgpack.Decoder(Checkpoint)


def encode_checkpoint(view: SalesView) -> bytes:
    return _checkpoint_encoder.encode(view.checkpoint())


def decode_checkpoint(data: bytes) -> SalesView:
    return SalesView.from_checkpoint(_checkpoint_decoder.decode(data))
