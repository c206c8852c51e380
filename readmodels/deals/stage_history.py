"""Stage history: time in stage, stage-to-stage conversion, win rate, sales cycle.

Computed from the stage visits table as of a position: a visit counts from
the position it began at; its end counts only if that came by the position.

- time in stage: mean and median days of the visits of a stage that ended;
- conversion: of the visits of a stage that ended, the share that went on to
  each next stage;
- win rate: won / (won + lost) over deals whose latest visit is a won or lost
  stage (unqualified deals are not counted as losses);
- sales cycle: mean days from a won deal's first visit to its entry into won.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from typing import Any

from domain.money import round_half_up
from readmodels.deals.selection import visible
from readmodels.deals.specs import ChartSpec
from readmodels.deals.view import DealsView

DAY = 86_400


def _days(seconds: float) -> Decimal:
    return round_half_up(Decimal(str(seconds)) / DAY, 2)


def stage_history(
    view: DealsView, visits: list[tuple[Any, ...]], spec: ChartSpec, position: int
) -> dict[str, Any]:
    deals = view.deals
    wanted = str(spec.pipeline_id)
    f = spec.filters
    candidates = range(len(deals.ids)) if f.scope is None else visible(view, f.scope)
    admitted = {
        deals.ids[i]
        for i in candidates
        if deals.pipeline_ids[i] == wanted
        and (f.owner is None or deals.owners[i] == f.owner)
        and (f.partner_id is None or deals.partner_ids[i] == str(f.partner_id))
        and (f.account_id is None or deals.account_ids[i] == str(f.account_id))
    }
    stages = sorted(
        (s for s in view.stages.values() if s.pipeline_id == wanted and not s.removed),
        key=lambda s: s.ordinal,
    )
    closed = {s.key: s.closed for s in stages}
    durations: dict[str, list[float]] = defaultdict(list)
    nexts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    by_deal: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for visit in visits:
        deal_id, _seq, stage, entered_at, left_at, left_position, next_stage = visit
        if deal_id not in admitted:
            continue
        by_deal[deal_id].append(visit)
        if left_at is not None and left_position is not None and left_position <= position:
            durations[stage].append((left_at - entered_at).total_seconds())
            if next_stage is not None:
                nexts[stage][next_stage] += 1
    won = lost = 0
    cycles: list[float] = []
    for deal_visits in by_deal.values():
        last = deal_visits[-1]
        outcome = closed.get(last[2])
        if outcome == "won":
            won += 1
            first: datetime = deal_visits[0][3]
            cycles.append((last[3] - first).total_seconds())
        elif outcome == "lost":
            lost += 1
    rows = []
    for stage in stages:
        spans = durations.get(stage.key, [])
        left = sum(nexts[stage.key].values())
        rows.append(
            {
                "stage": stage.key,
                "name": stage.name,
                "visits_ended": len(spans),
                "mean_days_in_stage": str(_days(statistics.fmean(spans))) if spans else None,
                "median_days_in_stage": str(_days(statistics.median(spans))) if spans else None,
                "conversion": {
                    nxt: str(round_half_up(Decimal(n) / Decimal(left), 4))
                    for nxt, n in sorted(nexts[stage.key].items())
                },
            }
        )
    return {
        "stages": rows,
        "won": won,
        "lost": lost,
        "win_rate": str(round_half_up(Decimal(won) / Decimal(won + lost), 4))
        if won + lost
        else None,
        "mean_sales_cycle_days": str(_days(statistics.fmean(cycles))) if cycles else None,
    }
