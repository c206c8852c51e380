"""Baselines: canonical chart documents, comparisons with their waterfall, verification.

Waterfall (docs/readmodels.md): over the open deals in the chart's window,
between an earlier position *a* and a later *b*,

    start + new + pulled_in + increased + reopened
          − decreased − pushed_out − won − lost − deleted = end

exactly, in amount and in count. Each deal's events between *a* and *b* are
walked in order; an event that takes a deal into the window adds its value to
``new`` (created), ``reopened`` (reopened or unlocked) or ``pulled_in`` (any
other change: expected close, owner, partner…); one that takes it out adds its
value to ``won``, ``lost`` (lost or unqualified), ``deleted`` or
``pushed_out``; one that changes the value of a deal that stays in adds the
difference to ``increased`` or ``decreased``. Values are in the reporting
currency at the rates in force at *b*'s instant for both ends, so rate moves
do not appear as deal changes. In counts, increased and decreased are 0: they
change value, not membership.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec

from domain.events import DomainEvent
from readmodels.deals.charts import ForecastChart, PipelineChart
from readmodels.deals.evolve import TOPICS, apply
from readmodels.deals.specs import ChartSpec
from readmodels.deals.valuer import Valuer
from readmodels.deals.view import DealsView
from readmodels.log import NotificationLog, events_between

_canonical = msgspec.json.Encoder(order="sorted")

BUCKETS = (
    "start",
    "new",
    "pulled_in",
    "increased",
    "reopened",
    "decreased",
    "pushed_out",
    "won",
    "lost",
    "deleted",
    "end",
)
ENTRY = {
    "OpportunityCreated": "new",
    "OpportunityReopened": "reopened",
    "OpportunityUnlocked": "reopened",
}
EXIT = {
    "OpportunitySold": "won",
    "OpportunityLost": "lost",
    "OpportunityMarkedUnqualified": "lost",
    "OpportunityDeleted": "deleted",
}


def canonical(chart: PipelineChart | ForecastChart) -> str:
    """The chart as canonical JSON: sorted keys, decimals as strings, no spaces."""
    return _canonical.encode(chart).decode("utf-8")


def sha256(document: str) -> str:
    return hashlib.sha256(document.encode("utf-8")).hexdigest()


def decode_chart(chart: str, document: str) -> PipelineChart | ForecastChart:
    if chart == "pipeline":
        return msgspec.json.decode(document, type=PipelineChart)
    return msgspec.json.decode(document, type=ForecastChart)


# --- per-row deltas ----------------------------------------------------------------


def _figures(value: Any) -> dict[str, Any]:
    return msgspec.to_builtins(value)  # type: ignore[no-any-return]


def row_deltas(
    then: PipelineChart | ForecastChart, now: PipelineChart | ForecastChart
) -> list[dict[str, Any]]:
    """Per chart row: the figures then, now, and now − then."""
    if isinstance(then, PipelineChart) and isinstance(now, PipelineChart):
        old = {s.stage: s for s in then.stages}
        new = {s.stage: s for s in now.stages}
        keys = [s.stage for s in now.stages] + [k for k in old if k not in new]
        rows = [
            _delta({"stage": k}, old.get(k), new.get(k), ("count", "amount", "weighted"))
            for k in keys
        ]
        for kind in ("won", "lost", "unqualified"):
            rows.append(
                _delta(
                    {"stage": kind}, getattr(then, kind), getattr(now, kind), ("count", "amount")
                )
            )
        return rows
    assert isinstance(then, ForecastChart) and isinstance(now, ForecastChart)
    old_rows = {(r.period, r.owner, r.category): r for r in then.rows}
    new_rows = {(r.period, r.owner, r.category): r for r in now.rows}
    cells = sorted(set(old_rows) | set(new_rows))
    return [
        _delta(
            {"period": p, "owner": o, "category": c},
            old_rows.get((p, o, c)),
            new_rows.get((p, o, c)),
            ("count", "amount", "weighted"),
        )
        for p, o, c in cells
    ]


def _delta(key: dict[str, str], then: Any, now: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    def get(row: Any, name: str) -> Any:
        return 0 if row is None else getattr(row, name)

    return {
        **key,
        "then": {f: str(get(then, f)) if f != "count" else get(then, f) for f in fields},
        "now": {f: str(get(now, f)) if f != "count" else get(now, f) for f in fields},
        "delta": {
            f: (str(get(now, f) - get(then, f)) if f != "count" else get(now, f) - get(then, f))
            for f in fields
        },
    }


# --- waterfall -------------------------------------------------------------------------


@dataclass
class Waterfall:
    amounts: dict[str, int]
    counts: dict[str, int]

    def balances(self) -> bool:
        for figures in (self.amounts, self.counts):
            left = (
                figures["start"]
                + figures["new"]
                + figures["pulled_in"]
                + figures["increased"]
                + figures["reopened"]
                - figures["decreased"]
                - figures["pushed_out"]
                - figures["won"]
                - figures["lost"]
                - figures["deleted"]
            )
            if left != figures["end"]:
                return False
        return True


class _Walk:
    """Classifies each event's effect on one deal's membership of the window and value."""

    def __init__(self, spec: ChartSpec, view: DealsView, valuer: Valuer) -> None:
        self.spec = spec
        self.view = view
        self.valuer = valuer
        self.amounts = dict.fromkeys(BUCKETS, 0)
        self.counts = dict.fromkeys(BUCKETS, 0)

    def member(self, i: int | None) -> tuple[bool, int]:
        if i is None or not self.spec.in_window(self.view, i):
            return False, 0
        deals = self.view.deals
        return True, self.valuer.value(deals.amounts[i], deals.currencies[i])

    def total(self, bucket: str) -> None:
        for i in range(len(self.view.deals.ids)):
            inside, value = self.member(i)
            if inside:
                self.amounts[bucket] += value
                self.counts[bucket] += 1

    def step(self, event: DomainEvent, position: int) -> None:
        deal_id = str(event.originator_id)
        before = self.member(self.view.find(deal_id))
        try:
            apply(self.view, event, position, deal_id)
        except Exception:
            # Parked by the projector: it changes nothing here either.
            self.view.progress.position = position
            return
        finally:
            self.view.changes.clear()
        after = self.member(self.view.find(deal_id))
        (was_in, old), (is_in, new) = before, after
        if not was_in and is_in:
            self._count(ENTRY.get(type(event).type_name, "pulled_in"), new)
        elif was_in and not is_in:
            self._count(EXIT.get(type(event).type_name, "pushed_out"), old)
        elif is_in and new > old:
            self.amounts["increased"] += new - old
        elif is_in and new < old:
            self.amounts["decreased"] += old - new

    def _count(self, bucket: str, value: int) -> None:
        self.amounts[bucket] += value
        self.counts[bucket] += 1


def waterfall(
    spec: ChartSpec,
    start_view: DealsView,
    log: NotificationLog,
    end_position: int,
    valuer: Valuer,
) -> Waterfall:
    """Walk every event between ``start_view.position`` and ``end_position``.

    ``start_view`` is consumed: it ends at ``end_position``.
    """
    walk = _Walk(spec, start_view, valuer)
    walk.total("start")
    view = start_view
    for logged in events_between(log, view.position, end_position, TOPICS):
        try:
            event = log.decode(logged)
        except Exception:
            view.progress.position = logged.id
            continue
        walk.step(event, logged.id)
    view.progress.position = max(view.position, end_position)
    walk.total("end")
    return Waterfall(amounts=walk.amounts, counts=walk.counts)


def waterfall_view(result: Waterfall, valuer: Valuer) -> dict[str, Any]:
    body: dict[str, Any] = {bucket: str(valuer.money(result.amounts[bucket])) for bucket in BUCKETS}
    body["counts"] = dict(result.counts)
    return body


def as_of_view(position: int, instant: datetime | None) -> dict[str, Any]:
    return {"position": position, "recorded_at": instant.isoformat() if instant else None}
