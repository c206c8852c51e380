"""The deals slice: deals in memory for the charts, their rows and checkpoints in tables."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from domain.events import DomainEvent
from domain.money import minor_unit
from readmodels.bookkeeping import SETTINGS
from readmodels.deals.checkpoints import encode_checkpoint, encode_identities
from readmodels.deals.evolve import HANDLERS
from readmodels.deals.tables import (
    BASELINES,
    CHECKPOINTS,
    OPPORTUNITIES,
    RATES,
    STAGES,
    TABLES,
    TARGETS,
    VISITS,
)
from readmodels.deals.view import (
    BaselineRow,
    DealColumns,
    DealDetails,
    DealsView,
    RateRow,
    StageRow,
    TargetRow,
    stage_key,
    target_key,
)
from readmodels.slice import Handler, Progress, Rows, Table, Write
from readmodels.values import NONE, from_minor, to_minor

_BY_NAME = {t.name: t for t in TABLES}


def _kinds(name: str) -> Any:
    return _BY_NAME[name].kinds()


class DealsSlice:
    """Opportunities, their stage visits, pipelines, rates, targets, baselines; checkpoints
    of the chart state for queries as of any position."""

    name = "deals"
    tables: tuple[Table, ...] = TABLES

    @property
    def handlers(self) -> Mapping[type[DomainEvent], Handler[DealsView]]:
        return HANDLERS

    def empty(self, progress: Progress) -> DealsView:
        return DealsView(progress=progress)

    # --- writing ---------------------------------------------------------------------

    def flush(self, view: DealsView) -> list[Write]:
        changes = view.changes
        writes = [
            Write(
                OPPORTUNITIES,
                "upsert",
                [_deal_row(view, i) for i in sorted(changes.deals)],
                prepare=deal_values,
            ),
            Write(VISITS, "insert", [tuple(row) for row in changes.entered.values()]),
            Write(
                VISITS,
                "update",
                [
                    (v.left_at, v.left_position, v.next_stage, v.deal_id, v.seq)
                    for v in changes.left
                ],
                columns=("left_at", "left_position", "next_stage"),
                where=("opportunity_id", "seq"),
            ),
            Write(STAGES, "upsert", [_stage_row(view.stages[k]) for k in sorted(changes.stages)]),
            Write(
                RATES,
                "insert",
                [(r.position, r.currency, r.effective_from, r.rate) for r in changes.rates],
            ),
            Write(
                TARGETS,
                "upsert",
                [
                    (t.owner, t.period, t.amount)
                    for t in (view.targets[k] for k in sorted(changes.targets))
                ],
            ),
            Write(
                BASELINES,
                "upsert",
                [_baseline_row(view.baselines[k]) for k in sorted(changes.baselines)],
            ),
        ]
        if changes.reporting_currency:
            writes.append(
                Write(SETTINGS, "upsert", [("reporting_currency", view.reporting_currency)])
            )
        changes.clear()
        return [w for w in writes if w.rows]

    def checkpoint(
        self, view: DealsView, progress: Progress, interval: int, full_every: int
    ) -> Write:
        """The checkpoint at ``progress.position``: full when the position passed the next
        multiple of ``interval × full_every`` since the last full one, else a delta of the
        deals changed since that one."""
        deals = len(view.deals.ids)
        new_deals = encode_identities(view, view.checkpointed)
        view.checkpointed = deals
        span = interval * full_every
        base: int | None
        if progress.position // span > view.last_full // span:
            base, state = None, encode_checkpoint(view)
            view.last_full = progress.position
            view.changes.since_full.clear()
        else:
            base = view.last_full
            state = encode_checkpoint(view, sorted(view.changes.since_full))
        return Write(
            CHECKPOINTS,
            "insert",
            [
                (
                    progress.position,
                    progress.recorded_at,
                    progress.recorded_max,
                    deals,
                    base,
                    new_deals,
                    state,
                )
            ],
        )

    # --- loading ----------------------------------------------------------------------

    def load(self, rows: Rows, progress: Progress) -> DealsView:
        """The full view the tables hold, at ``progress``."""
        deals, details = DealColumns(), DealDetails()
        opportunities = _BY_NAME[OPPORTUNITIES]
        for row in rows.select(
            f"SELECT {', '.join(opportunities.column_names)} FROM {OPPORTUNITIES} "
            "ORDER BY created_position",
            kinds=opportunities.kinds(),
        ):
            _load_deal(deals, details, row)
        settings = dict(rows.select(f"SELECT key, value FROM {SETTINGS}"))
        view = DealsView(
            progress=progress,
            reporting_currency=settings.get("reporting_currency", "EUR"),
            deals=deals,
            details=details,
            stages=_load_stages(rows),
            rates=[
                RateRow(currency=c, effective_from=e, rate=r, position=p)
                for p, c, e, r in rows.select(
                    f"SELECT * FROM {RATES} ORDER BY position", kinds=_kinds(RATES)
                )
            ],
            targets={
                target_key(o, p): TargetRow(owner=o, period=p, amount=a)
                for o, p, a in rows.select(f"SELECT * FROM {TARGETS}", kinds=_kinds(TARGETS))
            },
            baselines={
                r[0]: BaselineRow(*r)
                for r in rows.select(f"SELECT * FROM {BASELINES}", kinds=_kinds(BASELINES))
            },
        )
        last = rows.select(f"SELECT deals FROM {CHECKPOINTS} ORDER BY position DESC LIMIT 1")
        view.checkpointed = int(last[0][0]) if last else 0
        full = rows.select(f"SELECT MAX(position) FROM {CHECKPOINTS} WHERE base IS NULL")
        view.last_full = int(full[0][0]) if full and full[0][0] is not None else 0
        # What the next delta must hold: the deals changed since the last full checkpoint.
        view.changes.since_full.update(
            i for i, at in enumerate(details.updated_position) if at > view.last_full
        )
        return view


def _deal_row(view: DealsView, i: int) -> tuple[Any, ...]:
    """A deal's row as the view holds it (``deal_values`` makes the table's values of it)."""
    deals, details = view.deals, view.details
    assert details is not None, "only a full view is written to the tables"
    return (
        deals.ids[i],
        details.titles[i],
        deals.owners[i],
        deals.account_ids[i],
        deals.partner_ids[i],
        deals.pipeline_ids[i],
        deals.stages[i],
        deals.statuses[i],
        deals.amounts[i],
        deals.currencies[i],
        deals.expected_close[i],
        deals.probability_override[i],
        deals.category_override[i],
        details.created_at[i],
        details.stage_entered_at[i],
        deals.sold_at[i],
        details.closed_at[i],
        details.visits[i],
        details.updated_position[i],
        details.created_position[i],
    )


def deal_values(row: Sequence[Any]) -> tuple[Any, ...]:
    """The opportunities table's values of a ``_deal_row``: the amount from minor units of
    its currency, the expected close from its ordinal, no probability override as null."""
    probability = row[11]
    return (
        *row[:8],
        from_minor(row[8], minor_unit(row[9])),
        row[9],
        date.fromordinal(row[10]),
        None if probability == NONE else probability,
        *row[12:],
    )


def _stage_row(s: StageRow) -> tuple[Any, ...]:
    return (
        s.pipeline_id,
        s.key,
        s.pipeline_name,
        s.name,
        s.ordinal,
        s.probability,
        s.forecast_category,
        s.closed,
        s.removed,
    )


def _baseline_row(b: BaselineRow) -> tuple[Any, ...]:
    return (b.id, b.name, b.chart, b.params, b.position, b.as_of, b.sha256, b.taken_at, b.deleted)


def _load_deal(deals: DealColumns, details: DealDetails, row: tuple[Any, ...]) -> None:
    (
        id_,
        title,
        owner,
        account,
        partner,
        pipeline,
        stage,
        status,
        amount,
        currency,
        expected_close,
        probability,
        category,
        created,
        entered,
        sold,
        closed,
        visits,
        updated,
        created_position,
    ) = row
    deals.ids.append(id_)
    deals.owners.append(owner)
    deals.account_ids.append(account)
    deals.partner_ids.append(partner)
    deals.pipeline_ids.append(pipeline)
    deals.stages.append(stage)
    deals.statuses.append(status)
    deals.amounts.append(to_minor(Decimal(amount), minor_unit(currency)))
    deals.currencies.append(currency)
    deals.expected_close.append(expected_close.toordinal())
    deals.probability_override.append(NONE if probability is None else probability)
    deals.category_override.append(category)
    deals.sold_at.append(sold)
    details.titles.append(title)
    details.created_position.append(created_position)
    details.created_at.append(created)
    details.stage_entered_at.append(entered)
    details.closed_at.append(closed)
    details.visits.append(visits)
    details.updated_position.append(updated)


def _load_stages(rows: Rows) -> dict[str, StageRow]:
    stages = {}
    for (
        pipeline_id,
        key,
        pipeline_name,
        name,
        ordinal,
        probability,
        category,
        closed,
        removed,
    ) in rows.select(f"SELECT * FROM {STAGES}", kinds=_kinds(STAGES)):
        stages[stage_key(pipeline_id, key)] = StageRow(
            pipeline_id=pipeline_id,
            pipeline_name=pipeline_name,
            key=key,
            name=name,
            ordinal=ordinal,
            probability=probability,
            forecast_category=category,
            closed=closed,
            removed=removed,
        )
    return stages
