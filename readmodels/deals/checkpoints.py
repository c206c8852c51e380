"""Checkpoints of the deals view: the chart state at a log position, as stored.

A *full* checkpoint holds every deal; a *delta* only the deals changed since the
last full one, so most checkpoints stay small and an as-of query decodes one full
checkpoint and at most one delta. The deals' ids (most of a deal's bytes, and never
changed) are stored once, each checkpoint holding those of the deals created since the
previous one. A deal's account and pipeline can change (``OpportunityAccountChanged``,
``OpportunityMovedToPipeline``), so they are state like its stage, in every checkpoint.

Encoded with msgpack, dict keys sorted: a checkpoint written after a restart (its
view loaded from the tables) is byte for byte the one an uninterrupted projector
writes.
"""

from __future__ import annotations

import sys
from array import array
from bisect import bisect_left
from collections import deque
from collections.abc import Iterable
from typing import Any

import msgspec

from readmodels.deals.view import (
    BaselineRow,
    DealColumns,
    DealsView,
    RateRow,
    StageRow,
    TargetRow,
)
from readmodels.slice import Progress
from readmodels.values import NONE


class DealIdentities(msgspec.Struct, array_like=True):
    """The column a deal never changes once created, for deals ``[start, start + len)``.

    Each checkpoint stores only the deals created since the one before, so the
    ids are written once, not in every checkpoint.
    """

    ids: list[str]


class DealState(msgspec.Struct, array_like=True, tag=True):
    """The columns that change, for every deal (in creation order)."""

    owners: list[str]
    account_ids: list[str]
    partner_ids: list[str | None]
    pipeline_ids: list[str]
    stages: list[str]
    statuses: list[str]
    amounts: list[int]
    currencies: list[str]
    expected_close: list[int]
    probability_override: list[int]
    category_override: list[str | None]
    sold_at: list[int]


# How ``PackedDeals`` stores each DealState column: strings by dictionary, ints as arrays.
_CODED = (
    "owners",
    "account_ids",
    "partner_ids",
    "pipeline_ids",
    "stages",
    "statuses",
    "currencies",
    "category_override",
)
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
                deals=DealState([], [], [], [], [], [], [], [], [], [], [], []),
                stages={},
                rates=[],
                targets={},
            )
        changed = self.changed
        # Indices are ascending, and those of deals created since the base follow the
        # base's last: the first ``known`` replace, the rest append. Assigned by mapping
        # ``list.__setitem__`` (no Python frame per cell: thousands of deals, ten columns).
        known = bisect_left(changed, len(base.deals.owners))
        replaced = changed[:known]
        for name in DealState.__struct_fields__:
            column: list[Any] = getattr(base.deals, name)
            values: list[Any] = getattr(self.deals, name)
            deque(map(column.__setitem__, replaced, values[:known]), maxlen=0)
            column.extend(values[known:])
        base.position, base.recorded_at = self.position, self.recorded_at
        base.reporting_currency = self.reporting_currency
        base.stages, base.rates, base.targets = self.stages, self.rates, self.targets
        base.baselines = self.baselines
        return base


def checkpoint_of(view: DealsView, changed: list[int] | None = None) -> Checkpoint:
    """A full checkpoint of ``view``, or with ``changed`` (ascending deal indices) a delta."""
    d = view.deals
    if changed is None:
        state = DealState(
            owners=d.owners,
            account_ids=d.account_ids,
            partner_ids=d.partner_ids,
            pipeline_ids=d.pipeline_ids,
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
            account_ids=[d.account_ids[i] for i in changed],
            partner_ids=[d.partner_ids[i] for i in changed],
            pipeline_ids=[d.pipeline_ids[i] for i in changed],
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
        position=view.progress.position,
        recorded_at=view.progress.recorded_at,
        reporting_currency=view.reporting_currency,
        deals=state,
        stages=view.stages,
        rates=view.rates,
        targets=view.targets,
        baselines=view.baselines,
        changed=changed,
    )


def identities_of(view: DealsView, start: int) -> DealIdentities:
    d = view.deals
    return DealIdentities(ids=d.ids[start:])


def view_of(
    checkpoint: Checkpoint, identities: DealIdentities, *, index: dict[str, int] | None = None
) -> DealsView:
    """A chart view (no details) from a checkpoint and the identities of its deals."""
    s = checkpoint.deals
    deals = DealColumns(
        ids=identities.ids,
        owners=s.owners,
        account_ids=s.account_ids,
        partner_ids=s.partner_ids,
        pipeline_ids=s.pipeline_ids,
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
    view = DealsView(
        full=False,
        progress=Progress(checkpoint.position, checkpoint.recorded_at),
        reporting_currency=checkpoint.reporting_currency,
        deals=deals,
        stages=checkpoint.stages,
        rates=checkpoint.rates,
        targets=checkpoint.targets,
        baselines=checkpoint.baselines,
    )
    view.share_index(index)
    return view


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


def encode_checkpoint(view: DealsView, changed: list[int] | None = None) -> bytes:
    """A full checkpoint of ``view``, or a delta of the deals in ``changed``."""
    return _encoder.encode(_stored(checkpoint_of(view, changed)))


def encode_identities(view: DealsView, start: int) -> bytes:
    """The identities of the deals created since the previous checkpoint (``start`` on)."""
    return _encoder.encode(identities_of(view, start))


def decode_identities(
    chunks: Iterable[bytes], into: DealIdentities | None = None
) -> DealIdentities:
    """The identity chunks of consecutive checkpoints joined (appended to ``into``)."""
    joined = into if into is not None else DealIdentities([])
    for chunk in chunks:
        joined.ids += _identities_decoder.decode(chunk).ids
    return joined


def decode_state(state: bytes, base: bytes | None = None) -> Checkpoint:
    """A checkpoint's state; a delta's needs its ``base`` (None: it patches the empty state)."""
    checkpoint = _decode(state)
    if checkpoint.changed is None:
        return checkpoint
    return checkpoint.patched_onto(None if base is None else _decode(base))


def decode_checkpoint(
    state: bytes, identities: Iterable[bytes], base: bytes | None = None
) -> DealsView:
    """A chart view from a checkpoint's state (and its base's, for a delta) and the identity
    chunks of every checkpoint up to it, in position order."""
    return view_of(decode_state(state, base), decode_identities(identities))
