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

import sys
from array import array
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any
from uuid import UUID

import msgspec

NONE = -1
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@lru_cache(maxsize=4096)
def micros(instant: datetime) -> int:
    # Cached: the events of one save share their instant, and a replay converts each.
    since = instant - EPOCH  # exact integer arithmetic, no float timestamp
    return (since.days * 86_400 + since.seconds) * 1_000_000 + since.microseconds


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


class ContractRow(msgspec.Struct, array_like=True):
    """One version of a contract as the read model keeps it (SQL tables only)."""

    id: str
    valid_from: int  # the log position this version begins at
    opportunity_id: str
    account_id: str
    owner: str
    quote_item_id: str
    product_id: str | None
    component_product_id: str | None
    name: str
    kind: str
    category: str | None
    value: Decimal
    currency: str
    start: date
    end: date | None
    status: str
    renewal_opportunity_id: str | None
    renews_contract_id: str | None
    updated_at: int  # micros


class LeadRow(msgspec.Struct, array_like=True):
    """One version of a lead as the read model keeps it (SQL tables only).

    No personal data in the clear: ``personal_sealed`` is the ciphertext the event store
    keeps of the latest ``LeadCreated`` / ``LeadPersonalDataChanged`` (None once the lead
    is anonymized); only the lead's key opens it, and anonymize destroys that key.
    """

    id: str
    valid_from: int  # the log position this version begins at
    status: str  # new working qualified disqualified
    disqualified_as: str | None
    source: str | None
    campaign_id: str | None
    owner: str | None  # None: unassigned (the free pool, unless with a partner)
    partner_id: str | None
    account_id: str | None
    company: str | None
    priority: str
    opportunity_id: str | None
    duplicate_of: str | None
    channel: str  # manual or intake
    archived: bool
    anonymized: bool
    activities: int  # sales activities on the lead now
    created_at: int  # micros
    updated_at: int  # micros
    personal_sealed: str | None


class CampaignRow(msgspec.Struct, array_like=True):
    """One version of a campaign (SQL tables only)."""

    id: str
    valid_from: int
    name: str
    channel: str | None
    starts_on: date | None
    ends_on: date | None
    archived: bool
    updated_at: int  # micros


# An opportunity made for a campaign: (opportunity_id, campaign_id, lead_id, position created)
CampaignOpportunity = tuple[str, str, str | None, int]


class DealIdentities(msgspec.Struct, array_like=True):
    """The columns a deal never changes once created, for deals ``[start, start + len)``.

    Each checkpoint stores only the deals created since the one before, so the
    ids (two thirds of a deal's bytes) are written once, not in every checkpoint.
    """

    ids: list[str]
    account_ids: list[str]
    pipeline_ids: list[str]


class DealState(msgspec.Struct, array_like=True, tag=True):
    """The columns that change, for every deal (in creation order)."""

    owners: list[str]
    partner_ids: list[str | None]
    stages: list[str]
    statuses: list[str]
    amounts: list[int]
    currencies: list[str]
    expected_close: list[int]
    probability_override: list[int]
    category_override: list[str | None]
    sold_at: list[int]


# How ``PackedDeals`` stores each DealState column: strings by dictionary, ints as arrays.
_CODED = ("owners", "partner_ids", "stages", "statuses", "currencies", "category_override")
_INTS = (("amounts", "q"), ("expected_close", "i"), ("probability_override", "h"), ("sold_at", "q"))
_SWAP = sys.byteorder != "little"  # arrays are stored little-endian


class PackedDeals(msgspec.Struct, array_like=True, tag=True):
    """``DealState`` as a checkpoint stores it.

    Decoding a full checkpoint is much of an as-of query's fixed cost. As msgpack
    lists, 40,000 deals took 23 ms here (a string object decoded per cell); packed —
    each string column a vocabulary and an array of small codes, each int column a
    machine array — 14 ms, most of it rebuilding the Python lists. An int column
    with a value beyond 64 bits is kept as a plain list.
    """

    count: int
    vocabularies: list[list[str | None]]
    code_types: str  # array typecode of each coded column
    codes: list[bytes]
    ints: list[bytes | list[int]]


def _to_array(typecode: str, values: Iterable[int]) -> array[int]:
    packed = array(typecode, values)
    if _SWAP:
        packed.byteswap()
    return packed


def _from_bytes(typecode: str, data: bytes) -> list[int]:
    packed = array(typecode)
    packed.frombytes(data)
    if _SWAP:
        packed.byteswap()
    return packed.tolist()


def _none_first(value: str | None) -> tuple[bool, str]:
    return (value is not None, value or "")


def pack_deals(state: DealState) -> PackedDeals:
    vocabularies: list[list[str | None]] = []
    code_types: list[str] = []
    codes: list[bytes] = []
    for name in _CODED:
        column: list[str | None] = getattr(state, name)
        # Sorted, so equal columns pack to equal bytes whatever order the deals came in.
        vocabulary = sorted(set(column), key=_none_first)
        index = {value: i for i, value in enumerate(vocabulary)}
        typecode = "B" if len(vocabulary) <= 1 << 8 else "H" if len(vocabulary) <= 1 << 16 else "I"
        vocabularies.append(vocabulary)
        code_types.append(typecode)
        coded = map(index.__getitem__, column)
        codes.append(bytes(coded) if typecode == "B" else _to_array(typecode, coded).tobytes())
    ints: list[bytes | list[int]] = []
    for name, typecode in _INTS:
        values: list[int] = getattr(state, name)
        try:
            ints.append(_to_array(typecode, values).tobytes())
        except OverflowError:
            ints.append(values)
    return PackedDeals(
        count=len(state.owners),
        vocabularies=vocabularies,
        code_types="".join(code_types),
        codes=codes,
        ints=ints,
    )


def unpack_deals(packed: PackedDeals) -> DealState:
    columns: dict[str, list[Any]] = {}
    for name, vocabulary, typecode, data in zip(
        _CODED, packed.vocabularies, packed.code_types, packed.codes, strict=True
    ):
        columns[name] = list(map(vocabulary.__getitem__, _from_bytes(typecode, data)))
    for (name, typecode), stored in zip(_INTS, packed.ints, strict=True):
        columns[name] = stored if isinstance(stored, list) else _from_bytes(typecode, stored)
    for name, column in columns.items():
        if len(column) != packed.count:
            raise ValueError(f"a checkpoint's {name} has {len(column)} deals, not {packed.count}")
    return DealState(**columns)


class StoredCheckpoint(msgspec.Struct, array_like=True):
    """A ``Checkpoint`` as stored: a full one's deals packed; a delta's few as plain lists
    (packing them cost more than it saved)."""

    position: int
    recorded_at: int
    reporting_currency: str
    deals: PackedDeals | DealState
    stages: dict[str, StageRow]
    rates: list[RateRow]
    targets: dict[str, TargetRow]
    baselines: dict[str, BaselineRow]
    changed: list[int] | None


class Checkpoint(msgspec.Struct, array_like=True):
    """What an as-of query starts from: the chart state at ``position``.

    A *full* checkpoint (``changed`` is None) holds every deal. A *delta* holds in
    ``deals`` only the deals in ``changed`` (indices, ascending; created or changed
    since its base, the last full checkpoint), so most checkpoints stay small and a
    query decodes one full checkpoint and at most one delta. The small tables
    (stages, rates, targets, baselines) are complete in both.
    """

    position: int
    recorded_at: int
    reporting_currency: str
    deals: DealState
    stages: dict[str, StageRow]
    rates: list[RateRow]
    targets: dict[str, TargetRow]
    baselines: dict[str, BaselineRow] = msgspec.field(default_factory=dict)
    changed: list[int] | None = None

    def patched_onto(self, base: Checkpoint | None) -> Checkpoint:
        """This delta applied to its full ``base`` (None: the empty state); ``base`` is
        changed in place and returned as the full checkpoint at this position."""
        if self.changed is None:
            return self
        if base is None:
            base = Checkpoint(
                position=0,
                recorded_at=NONE,
                reporting_currency=self.reporting_currency,
                deals=DealState([], [], [], [], [], [], [], [], [], []),
                stages={},
                rates=[],
                targets={},
            )
        changed = self.changed
        for name in DealState.__struct_fields__:
            column: list[Any] = getattr(base.deals, name)
            values: list[Any] = getattr(self.deals, name)
            known = len(column)
            for k, i in enumerate(changed):
                if i < known:
                    column[i] = values[k]
                else:  # created since the base: indices are creation order, ascending
                    column.append(values[k])
        base.position, base.recorded_at = self.position, self.recorded_at
        base.reporting_currency = self.reporting_currency
        base.stages, base.rates, base.targets = self.stages, self.rates, self.targets
        base.baselines = self.baselines
        return base


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
        recorded_max: int = NONE,
    ) -> None:
        self.position = position
        self.recorded_at = recorded_at
        # The latest recording time of any event applied so far: it only grows with
        # the position, so instants map to positions through it (readmodels.queries).
        self.recorded_max = max(recorded_max, recorded_at)
        # Contracts, current version each (a full view only: charts do not use them).
        self.contracts: dict[str, ContractRow] | None = {} if full else None
        # Leads and campaigns likewise (current version each; full view only).
        self.leads: dict[str, LeadRow] | None = {} if full else None
        self.campaigns: dict[str, CampaignRow] | None = {} if full else None
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
        """Deal id → index. May be shared by as-of views and know deals created after
        this view's position (indices are creation order everywhere): ask ``find``
        whether a deal exists here."""
        if self._index is None:
            self._index = {deal_id: i for i, deal_id in enumerate(self.deals.ids)}
        return self._index

    def deal(self, deal_id: UUID) -> int:
        return self.index[str(deal_id)]

    def find(self, deal_id: str) -> int | None:
        """The index of a deal that exists in this view, else None."""
        i = self.index.get(deal_id)
        return i if i is not None and i < len(self.deals.ids) else None

    def checkpoint(self, changed: list[int] | None = None) -> Checkpoint:
        """A full checkpoint, or with ``changed`` (ascending deal indices) a delta."""
        d = self.deals
        if changed is None:
            state = DealState(
                owners=d.owners,
                partner_ids=d.partner_ids,
                stages=d.stages,
                statuses=d.statuses,
                amounts=d.amounts,
                currencies=d.currencies,
                expected_close=d.expected_close,
                probability_override=d.probability_override,
                category_override=d.category_override,
                sold_at=d.sold_at,
            )
        else:
            state = DealState(
                owners=[d.owners[i] for i in changed],
                partner_ids=[d.partner_ids[i] for i in changed],
                stages=[d.stages[i] for i in changed],
                statuses=[d.statuses[i] for i in changed],
                amounts=[d.amounts[i] for i in changed],
                currencies=[d.currencies[i] for i in changed],
                expected_close=[d.expected_close[i] for i in changed],
                probability_override=[d.probability_override[i] for i in changed],
                category_override=[d.category_override[i] for i in changed],
                sold_at=[d.sold_at[i] for i in changed],
            )
        return Checkpoint(
            position=self.position,
            recorded_at=self.recorded_at,
            reporting_currency=self.reporting_currency,
            deals=state,
            stages=self.stages,
            rates=self.rates,
            targets=self.targets,
            baselines=self.baselines,
            changed=changed,
        )

    def identities(self, start: int) -> DealIdentities:
        d = self.deals
        return DealIdentities(
            ids=d.ids[start:],
            account_ids=d.account_ids[start:],
            pipeline_ids=d.pipeline_ids[start:],
        )

    @classmethod
    def from_checkpoint(
        cls,
        checkpoint: Checkpoint,
        identities: DealIdentities,
        *,
        index: dict[str, int] | None = None,
    ) -> SalesView:
        s = checkpoint.deals
        deals = DealColumns(
            ids=identities.ids,
            owners=s.owners,
            account_ids=identities.account_ids,
            partner_ids=s.partner_ids,
            pipeline_ids=identities.pipeline_ids,
            stages=s.stages,
            statuses=s.statuses,
            amounts=s.amounts,
            currencies=s.currencies,
            expected_close=s.expected_close,
            probability_override=s.probability_override,
            category_override=s.category_override,
            sold_at=s.sold_at,
        )
        if len(deals.ids) != len(deals.owners):
            raise ValueError(
                f"checkpoint at {checkpoint.position} has {len(deals.owners)} deals "
                f"but {len(deals.ids)} identities"
            )
        view = cls(
            full=False,
            position=checkpoint.position,
            recorded_at=checkpoint.recorded_at,
            reporting_currency=checkpoint.reporting_currency,
            deals=deals,
            stages=checkpoint.stages,
            rates=checkpoint.rates,
            targets=checkpoint.targets,
            baselines=checkpoint.baselines,
        )
        view._index = index
        return view

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


# Deterministic: dict keys sorted, so a checkpoint written after a restart (its view loaded
# from the tables) is byte for byte the one an uninterrupted projector writes.
_encoder = msgspec.msgpack.Encoder(order="deterministic")
_checkpoint_decoder = msgspec.msgpack.Decoder(StoredCheckpoint)


def _stored(checkpoint: Checkpoint) -> StoredCheckpoint:
    return StoredCheckpoint(
        position=checkpoint.position,
        recorded_at=checkpoint.recorded_at,
        reporting_currency=checkpoint.reporting_currency,
        deals=checkpoint.deals if checkpoint.changed is not None else pack_deals(checkpoint.deals),
        stages=checkpoint.stages,
        rates=checkpoint.rates,
        targets=checkpoint.targets,
        baselines=checkpoint.baselines,
        changed=checkpoint.changed,
    )


def _decode(state: bytes) -> Checkpoint:
    stored: StoredCheckpoint = _checkpoint_decoder.decode(state)
    return Checkpoint(
        position=stored.position,
        recorded_at=stored.recorded_at,
        reporting_currency=stored.reporting_currency,
        deals=stored.deals if isinstance(stored.deals, DealState) else unpack_deals(stored.deals),
        stages=stored.stages,
        rates=stored.rates,
        targets=stored.targets,
        baselines=stored.baselines,
        changed=stored.changed,
    )


_identities_decoder = msgspec.msgpack.Decoder(DealIdentities)


def encode_checkpoint(view: SalesView, changed: list[int] | None = None) -> bytes:
    """A full checkpoint of ``view``, or a delta of the deals in ``changed``."""
    return _encoder.encode(_stored(view.checkpoint(changed)))


def encode_identities(view: SalesView, start: int) -> bytes:
    """The identities of the deals created since the previous checkpoint (``start`` on)."""
    return _encoder.encode(view.identities(start))


def decode_identities(
    chunks: Iterable[bytes], into: DealIdentities | None = None
) -> DealIdentities:
    """The identity chunks of consecutive checkpoints joined (appended to ``into``)."""
    joined = into if into is not None else DealIdentities([], [], [])
    for chunk in chunks:
        part = _identities_decoder.decode(chunk)
        joined.ids += part.ids
        joined.account_ids += part.account_ids
        joined.pipeline_ids += part.pipeline_ids
    return joined


def decode_state(state: bytes, base: bytes | None = None) -> Checkpoint:
    """A checkpoint's state; a delta's needs its ``base`` (None: it patches the empty state)."""
    checkpoint = _decode(state)
    if checkpoint.changed is None:
        return checkpoint
    return checkpoint.patched_onto(None if base is None else _decode(base))


def decode_checkpoint(
    state: bytes, identities: Iterable[bytes], base: bytes | None = None
) -> SalesView:
    """A chart view from a checkpoint's state (and its base's, for a delta) and the identity
    chunks of every checkpoint up to it, in position order."""
    return SalesView.from_checkpoint(decode_state(state, base), decode_identities(identities))
