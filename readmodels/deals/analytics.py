"""What analysts and auditors ask of the read models, as plain answers (dicts for JSON)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from domain.access import Principal, sees
from domain.baseline import Baseline, baseline_access
from domain.errors import InvalidInput
from readmodels.deals.baselines import (
    as_of_view,
    canonical,
    decode_chart,
    row_deltas,
    sha256,
    waterfall,
    waterfall_view,
)
from readmodels.deals.charts import ForecastChart, PipelineChart
from readmodels.deals.queries import AsOf, ReadModelQueries, replay_from_start
from readmodels.deals.selection import visible
from readmodels.deals.specs import ChartSpec, spec_from_params
from readmodels.deals.valuer import Valuer
from readmodels.deals.view import BaselineRow
from readmodels.scope import scope_of, split_scope

Chart = PipelineChart | ForecastChart


class Analytics:
    def __init__(self, queries: ReadModelQueries) -> None:
        self.queries = queries

    def scoped(self, spec: ChartSpec, principal: Principal | None, position: int) -> ChartSpec:
        """``spec`` counting only the deals ``principal`` may see at ``position``."""
        scope = scope_of(principal, self.queries.storage, "opportunity", position)
        if scope is None:
            return spec
        filters = msgspec.structs.replace(spec.filters, scope=scope)
        return msgspec.structs.replace(spec, filters=filters)

    def visible_deals(self, principal: Principal | None, position: int) -> set[str] | None:
        """The ids of the deals ``principal`` may see at ``position`` (None: all)."""
        scope = scope_of(principal, self.queries.storage, "opportunity", position)
        if scope is None:
            return None
        point = AsOf(position, None, explicit_instant=False)
        return self.queries.with_view(
            point, lambda view, _: {view.deals.ids[i] for i in visible(view, scope)}
        )

    def chart(
        self, spec: ChartSpec, point: AsOf, principal: Principal | None = None
    ) -> tuple[Chart, datetime]:
        spec = self.scoped(spec, principal, point.position)
        return self.queries.with_view(
            point, lambda view, instant: (spec.compute(view, instant), instant)
        )

    def answer(
        self,
        spec: ChartSpec,
        *,
        as_of: str | None,
        wait_for: int | None,
        principal: Principal | None = None,
    ) -> dict[str, Any]:
        """The chart over what ``principal`` may see (None: everything)."""
        self.queries.wait_for(wait_for)
        point = self.queries.resolve(as_of)
        chart, instant = self.chart(spec, point, principal)
        body: dict[str, Any] = msgspec.to_builtins(chart)
        return {"as_of": as_of_view(point.position, instant), "params": spec.params(), **body}

    # --- baselines -----------------------------------------------------------------

    def baseline_document(
        self, spec: ChartSpec, as_of: str | None, principal: Principal | None = None
    ) -> tuple[int, datetime, str]:
        """The chart as it stood at ``as_of`` (or now), as canonical JSON."""
        point = self.queries.resolve(as_of)
        chart, instant = self.chart(spec, point, principal)
        return point.position, instant, canonical(chart)

    @staticmethod
    def spec_of(baseline: Baseline | BaselineRow) -> tuple[ChartSpec, Principal | None]:
        """A baseline's chart, and whose scope it keeps (None: unscoped)."""
        principal, params = split_scope(baseline.params)
        return spec_from_params(baseline.chart, dict(params)), principal

    def compare(self, baseline: Baseline, other: Baseline | None) -> dict[str, Any]:
        spec, principal = self.spec_of(baseline)
        if other is not None and (other.chart, other.params) != (baseline.chart, baseline.params):
            raise InvalidInput(
                "the two baselines are of different charts or parameters; compare a baseline "
                "with one taken the same way."
            )
        then = decode_chart(baseline.chart, baseline.document)
        if other is None:
            point = self.queries.resolve(None)
            now, now_instant = self.chart(spec, point, principal)
            other_position = point.position
        else:
            now = decode_chart(other.chart, other.document)
            other_position, now_instant = other.position, other.as_of
        early, late = sorted(
            [(baseline.position, baseline.as_of), (other_position, now_instant)], key=lambda p: p[0]
        )
        # Both ends valued at the later instant's rates: a rate move is not a deal change.
        rates_view = self.queries.view_at(late[0])
        valuer = Valuer(rates_view, late[1])
        # Under a scope, the walk counts the deals visible at its end throughout, so that
        # it balances; docs/readmodels.md says so.
        walked = self.scoped(spec, principal, late[0])
        result = waterfall(
            walked, self.queries.view_at(early[0]), self.queries.log, late[0], valuer
        )
        if not result.balances():  # the walk is built to balance; say so loudly if not
            raise AssertionError(f"waterfall does not balance: {result}")
        return {
            "baseline": {"id": str(baseline.id), **as_of_view(baseline.position, baseline.as_of)},
            "with": (
                {"id": "now", **as_of_view(other_position, now_instant)}
                if other is None
                else {"id": str(other.id), **as_of_view(other.position, other.as_of)}
            ),
            "currency": valuer.currency,
            "rows": row_deltas(then, now),
            "waterfall": {
                "from_position": early[0],
                "to_position": late[0],
                "rates_at": late[1].isoformat(),
                **waterfall_view(result, valuer),
            },
        }

    def verify(self, baseline: Baseline) -> dict[str, Any]:
        """Replay the log from the start to the baseline's position, ignoring checkpoints."""
        spec, principal = self.spec_of(baseline)
        spec = self.scoped(spec, principal, baseline.position)
        view = replay_from_start(self.queries.log, baseline.position, topics=self.queries.topics)
        replayed = sha256(canonical(spec.compute(view, baseline.as_of)))
        return {
            "verified": replayed == baseline.sha256,
            "sha256_stored": baseline.sha256,
            "sha256_replayed": replayed,
            "position": baseline.position,
        }

    def list_baselines(self, principal: Principal | None = None) -> list[dict[str, Any]]:
        """The baselines ``principal`` may see: those of their scope (theirs and their
        team's); unscoped ones only for those who see everything."""
        point = self.queries.resolve(None)
        rows = self.queries.with_view(point, lambda view, _: list(view.baselines.values()))
        return [
            {
                "id": row.id,
                "name": row.name,
                "chart": row.chart,
                "params": row.params,
                "position": row.position,
                "as_of": row.as_of.isoformat(),
                "sha256": row.sha256,
                "taken_at": row.taken_at.isoformat(),
            }
            for row in sorted(rows, key=lambda r: (r.taken_at, r.id))
            if not row.deleted and _may_see(principal, row)
        ]


def _may_see(principal: Principal | None, row: BaselineRow) -> bool:
    return principal is None or sees(principal, baseline_access(row.params))


def baseline_view(baseline: Baseline) -> dict[str, Any]:
    return {
        "id": str(baseline.id),
        "version": baseline.version,
        "name": baseline.name,
        "chart": baseline.chart,
        "params": baseline.params,
        "position": baseline.position,
        "as_of": baseline.as_of.isoformat(),
        "sha256": baseline.sha256,
        "taken_at": baseline.taken_at.isoformat(),
        "rows": msgspec.json.decode(baseline.document),
    }
