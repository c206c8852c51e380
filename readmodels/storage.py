"""The sales read model's tables on SQLite and PostgreSQL.

Each storage class is an eventsourcing ``TrackingRecorder``: the rows a batch
of events changed, the checkpoint (when one is due) and the tracking position
are written in **one transaction**, so after a crash the tables and the
position agree and a restart applies every event exactly once.

Table names carry the projection version (``_v1``) so a new version can be
rebuilt beside the old one. Columns are named for analysts (docs/readmodels.md).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any, NamedTuple
from uuid import UUID

from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from eventsourcing.sqlite import SQLiteCursor, SQLiteTrackingRecorder
from psycopg.sql import SQL, Identifier

from domain.money import minor_unit
from projections.changes import ChangeSet, DeadLetter, DealValues
from projections.runner import UPSTREAM
from readmodels.rows import (
    NONE,
    BaselineRow,
    CampaignRow,
    ContractRow,
    DealColumns,
    DealDetails,
    LeadRow,
    RateRow,
    SalesView,
    StageRow,
    TargetRow,
    from_minor,
    instant,
    micros,
    stage_key,
    target_key,
    to_minor,
)
from readmodels.version import VERSION


def table(name: str) -> str:
    return f"{name}_{VERSION}"


OPPORTUNITIES = table("opportunities")
CONTRACT_VERSIONS = table("contract_versions")
CONTRACTS = table("contracts")  # a view: the current version of each contract
LEAD_VERSIONS = table("lead_versions")
LEADS = table("leads")  # a view: the current version of each lead
CAMPAIGN_VERSIONS = table("campaign_versions")
CAMPAIGNS = table("campaigns")  # a view: the current version of each campaign
CAMPAIGN_OPPORTUNITIES = table("campaign_opportunities")
# Each view and the versions table it shows the current rows of.
VIEWS = ((CONTRACTS, CONTRACT_VERSIONS), (LEADS, LEAD_VERSIONS), (CAMPAIGNS, CAMPAIGN_VERSIONS))
VISITS = table("opportunity_stage_visits")
STAGES = table("pipeline_stages")
RATES = table("exchange_rates")
TARGETS = table("sales_targets")
BASELINES = table("baselines")
CHECKPOINTS = table("read_model_checkpoints")
SETTINGS = table("read_model_settings")
DEAD_LETTERS = table("read_model_dead_letters")
ALL_TABLES = (
    OPPORTUNITIES,
    CONTRACT_VERSIONS,
    LEAD_VERSIONS,
    CAMPAIGN_VERSIONS,
    CAMPAIGN_OPPORTUNITIES,
    VISITS,
    STAGES,
    RATES,
    TARGETS,
    BASELINES,
    CHECKPOINTS,
    SETTINGS,
    DEAD_LETTERS,
)

# (column, SQLite type, PostgreSQL type)
_OPPORTUNITY_COLUMNS = (
    ("id", "TEXT PRIMARY KEY", "uuid PRIMARY KEY"),
    ("title", "TEXT NOT NULL", "text NOT NULL"),
    ("owner", "TEXT NOT NULL", "text NOT NULL"),
    ("account_id", "TEXT NOT NULL", "uuid NOT NULL"),
    ("partner_id", "TEXT", "uuid"),
    ("pipeline_id", "TEXT NOT NULL", "uuid NOT NULL"),
    ("stage", "TEXT NOT NULL", "text NOT NULL"),
    ("status", "TEXT NOT NULL", "text NOT NULL"),
    ("amount", "TEXT NOT NULL", "numeric NOT NULL"),
    ("currency", "TEXT NOT NULL", "char(3) NOT NULL"),
    ("expected_close", "TEXT NOT NULL", "date NOT NULL"),
    ("probability_override", "INTEGER", "integer"),
    ("forecast_category_override", "TEXT", "text"),
    ("created_at", "TEXT NOT NULL", "timestamptz NOT NULL"),
    ("stage_entered_at", "TEXT NOT NULL", "timestamptz NOT NULL"),
    ("sold_at", "TEXT", "timestamptz"),
    ("closed_at", "TEXT", "timestamptz"),
    ("stage_visits", "INTEGER NOT NULL", "integer NOT NULL"),
    ("updated_position", "INTEGER NOT NULL", "bigint NOT NULL"),
    ("created_position", "INTEGER NOT NULL", "bigint NOT NULL"),
)
_CONTRACT_COLUMNS = (
    ("id", "TEXT NOT NULL", "uuid NOT NULL"),
    # the positions this version of the contract holds from (and until, NULL: still)
    ("valid_from", "INTEGER NOT NULL", "bigint NOT NULL"),
    ("valid_to", "INTEGER", "bigint"),
    ("opportunity_id", "TEXT NOT NULL", "uuid NOT NULL"),
    ("account_id", "TEXT NOT NULL", "uuid NOT NULL"),
    ("owner", "TEXT NOT NULL", "text NOT NULL"),
    ("quote_item_id", "TEXT NOT NULL", "uuid NOT NULL"),
    ("product_id", "TEXT", "uuid"),
    ("component_product_id", "TEXT", "uuid"),
    ("name", "TEXT NOT NULL", "text NOT NULL"),
    ("kind", "TEXT NOT NULL", "text NOT NULL"),
    ("category", "TEXT", "text"),
    ("value", "TEXT NOT NULL", "numeric NOT NULL"),
    ("currency", "TEXT NOT NULL", "char(3) NOT NULL"),
    ("start_date", "TEXT NOT NULL", "date NOT NULL"),
    ("end_date", "TEXT", "date"),
    ("status", "TEXT NOT NULL", "text NOT NULL"),
    ("renewal_opportunity_id", "TEXT", "uuid"),
    ("renews_contract_id", "TEXT", "uuid"),
    ("updated_at", "TEXT NOT NULL", "timestamptz NOT NULL"),
)
# No personal data in the clear: ``personal_sealed`` is the event store's ciphertext of it.
_LEAD_COLUMNS = (
    ("id", "TEXT NOT NULL", "uuid NOT NULL"),
    ("valid_from", "INTEGER NOT NULL", "bigint NOT NULL"),
    ("valid_to", "INTEGER", "bigint"),
    ("status", "TEXT NOT NULL", "text NOT NULL"),
    ("disqualified_as", "TEXT", "text"),
    ("source", "TEXT", "text"),
    ("campaign_id", "TEXT", "uuid"),
    ("owner", "TEXT", "text"),
    ("partner_id", "TEXT", "uuid"),
    ("account_id", "TEXT", "uuid"),
    ("company", "TEXT", "text"),
    ("priority", "TEXT NOT NULL", "text NOT NULL"),
    ("opportunity_id", "TEXT", "uuid"),
    ("duplicate_of", "TEXT", "uuid"),
    ("channel", "TEXT NOT NULL", "text NOT NULL"),
    ("archived", "INTEGER NOT NULL", "boolean NOT NULL"),
    ("anonymized", "INTEGER NOT NULL", "boolean NOT NULL"),
    ("activities", "INTEGER NOT NULL", "integer NOT NULL"),
    ("created_at", "TEXT NOT NULL", "timestamptz NOT NULL"),
    ("updated_at", "TEXT NOT NULL", "timestamptz NOT NULL"),
    ("personal_sealed", "TEXT", "text"),
)
_CAMPAIGN_COLUMNS = (
    ("id", "TEXT NOT NULL", "uuid NOT NULL"),
    ("valid_from", "INTEGER NOT NULL", "bigint NOT NULL"),
    ("valid_to", "INTEGER", "bigint"),
    ("name", "TEXT NOT NULL", "text NOT NULL"),
    ("channel", "TEXT", "text"),
    ("starts_on", "TEXT", "date"),
    ("ends_on", "TEXT", "date"),
    ("archived", "INTEGER NOT NULL", "boolean NOT NULL"),
    ("updated_at", "TEXT NOT NULL", "timestamptz NOT NULL"),
)
_TABLES: dict[str, tuple[tuple[str, str, str], ...]] = {
    OPPORTUNITIES: _OPPORTUNITY_COLUMNS,
    CONTRACT_VERSIONS: _CONTRACT_COLUMNS,
    LEAD_VERSIONS: _LEAD_COLUMNS,
    CAMPAIGN_VERSIONS: _CAMPAIGN_COLUMNS,
    CAMPAIGN_OPPORTUNITIES: (
        ("opportunity_id", "TEXT PRIMARY KEY", "uuid PRIMARY KEY"),
        ("campaign_id", "TEXT NOT NULL", "uuid NOT NULL"),
        ("lead_id", "TEXT", "uuid"),
        ("valid_from", "INTEGER NOT NULL", "bigint NOT NULL"),  # the opportunity's creation
    ),
    VISITS: (
        ("opportunity_id", "TEXT NOT NULL", "uuid NOT NULL"),
        ("seq", "INTEGER NOT NULL", "integer NOT NULL"),
        ("stage", "TEXT NOT NULL", "text NOT NULL"),
        ("entered_at", "TEXT NOT NULL", "timestamptz NOT NULL"),
        ("entered_position", "INTEGER NOT NULL", "bigint NOT NULL"),
        ("left_at", "TEXT", "timestamptz"),
        ("left_position", "INTEGER", "bigint"),
        ("next_stage", "TEXT", "text"),
    ),
    STAGES: (
        ("pipeline_id", "TEXT NOT NULL", "uuid NOT NULL"),
        ("stage", "TEXT NOT NULL", "text NOT NULL"),
        ("pipeline_name", "TEXT NOT NULL", "text NOT NULL"),
        ("name", "TEXT NOT NULL", "text NOT NULL"),
        ("ordinal", "INTEGER NOT NULL", "integer NOT NULL"),
        ("probability", "INTEGER NOT NULL", "integer NOT NULL"),
        ("forecast_category", "TEXT NOT NULL", "text NOT NULL"),
        ("closed", "TEXT", "text"),
    ),
    RATES: (
        ("position", "INTEGER NOT NULL", "bigint NOT NULL"),
        ("currency", "TEXT NOT NULL", "char(3) NOT NULL"),
        ("effective_from", "TEXT NOT NULL", "timestamptz NOT NULL"),
        ("rate", "TEXT NOT NULL", "numeric NOT NULL"),
    ),
    TARGETS: (
        ("owner", "TEXT NOT NULL", "text NOT NULL"),
        ("period", "TEXT NOT NULL", "text NOT NULL"),
        ("amount", "TEXT NOT NULL", "numeric NOT NULL"),
    ),
    BASELINES: (
        ("id", "TEXT PRIMARY KEY", "uuid PRIMARY KEY"),
        ("name", "TEXT NOT NULL", "text NOT NULL"),
        ("chart", "TEXT NOT NULL", "text NOT NULL"),
        ("params", "TEXT NOT NULL", "jsonb NOT NULL"),
        ("position", "INTEGER NOT NULL", "bigint NOT NULL"),
        ("as_of", "TEXT NOT NULL", "timestamptz NOT NULL"),
        ("sha256", "TEXT NOT NULL", "text NOT NULL"),
        ("taken_at", "TEXT NOT NULL", "timestamptz NOT NULL"),
        ("deleted", "INTEGER NOT NULL", "boolean NOT NULL"),
    ),
    CHECKPOINTS: (
        ("position", "INTEGER PRIMARY KEY", "bigint PRIMARY KEY"),
        # SQLite: microseconds since the epoch. recorded_at: of the last event applied;
        # recorded_max: the latest of all applied so far (grows with the position).
        ("recorded_at", "INTEGER NOT NULL", "timestamptz NOT NULL"),
        ("recorded_max", "INTEGER NOT NULL", "timestamptz NOT NULL"),
        ("deals", "INTEGER NOT NULL", "integer NOT NULL"),
        # NULL: a full checkpoint; else the position of the full one this delta patches
        # (0: the empty state before the first full checkpoint).
        ("base", "INTEGER", "bigint"),
        # ids of the deals created since the previous checkpoint (rows.DealIdentities)
        ("new_deals", "BLOB NOT NULL", "bytea NOT NULL"),
        ("state", "BLOB NOT NULL", "bytea NOT NULL"),
    ),
    SETTINGS: (
        ("key", "TEXT PRIMARY KEY", "text PRIMARY KEY"),
        ("value", "TEXT NOT NULL", "text NOT NULL"),
    ),
    DEAD_LETTERS: (
        ("position", "INTEGER PRIMARY KEY", "bigint PRIMARY KEY"),
        ("topic", "TEXT NOT NULL", "text NOT NULL"),
        ("aggregate_id", "TEXT NOT NULL", "uuid NOT NULL"),
        ("aggregate_version", "INTEGER NOT NULL", "bigint NOT NULL"),
        ("error", "TEXT NOT NULL", "text NOT NULL"),
    ),
}
_PRIMARY_KEYS = {
    CONTRACT_VERSIONS: ("id", "valid_from"),
    LEAD_VERSIONS: ("id", "valid_from"),
    CAMPAIGN_VERSIONS: ("id", "valid_from"),
    VISITS: ("opportunity_id", "seq"),
    STAGES: ("pipeline_id", "stage"),
    RATES: ("position", "currency"),
    TARGETS: ("owner", "period"),
}
_INDEXES = (
    (CONTRACT_VERSIONS, ("status", "end_date")),
    (CONTRACT_VERSIONS, ("account_id",)),
    (CONTRACT_VERSIONS, ("opportunity_id",)),
    (LEAD_VERSIONS, ("status",)),
    (LEAD_VERSIONS, ("campaign_id",)),
    (LEAD_VERSIONS, ("owner",)),
    (CAMPAIGN_OPPORTUNITIES, ("campaign_id",)),
    (OPPORTUNITIES, ("owner",)),
    (OPPORTUNITIES, ("status", "expected_close")),
    (CHECKPOINTS, ("recorded_max",)),
)


def _columns(name: str) -> list[str]:
    return [c[0] for c in _TABLES[name]]


def _create_statements(dialect: int) -> list[str]:
    statements = []
    for name, columns in _TABLES.items():
        body = ", ".join(f"{c[0]} {c[1 + dialect]}" for c in columns)
        if name in _PRIMARY_KEYS:
            body += f", PRIMARY KEY ({', '.join(_PRIMARY_KEYS[name])})"
        statements.append(f"CREATE TABLE IF NOT EXISTS {name} ({body})")
    for name, columns_ in _INDEXES:
        index = f"{name}_{'_'.join(columns_)}_idx"
        statements.append(f"CREATE INDEX IF NOT EXISTS {index} ON {name} ({', '.join(columns_)})")
    for view, versions in VIEWS:
        current = f"SELECT * FROM {versions} WHERE valid_to IS NULL"
        statements.append(
            f"CREATE VIEW IF NOT EXISTS {view} AS {current}"
            if dialect == 0
            else f"CREATE OR REPLACE VIEW {view} AS {current}"
        )
    return statements


def _upsert(name: str, placeholder: str) -> str:
    columns = _columns(name)
    keys = _PRIMARY_KEYS.get(name, (columns[0],))
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in keys)
    values = ", ".join(placeholder for _ in columns)
    return (
        f"INSERT INTO {name} ({', '.join(columns)}) VALUES ({values}) "
        f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {updates}"
    )


def _same(value: Any) -> Any:
    return value


def _text(value: Any) -> str | None:
    """A uuid column's value as text (None stays None)."""
    return None if value is None else str(value)


@lru_cache(maxsize=1 << 16)
def _iso(value: int) -> str:
    # The events of one save share an instant: a rebuild formats each instant once.
    return instant(value).isoformat(timespec="microseconds")


def _insert(name: str, placeholder: str) -> str:
    columns = _columns(name)
    return (
        f"INSERT INTO {name} ({', '.join(columns)}) "
        f"VALUES ({', '.join(placeholder for _ in columns)})"
    )


class Batch(NamedTuple):
    """One statement of a write and its rows."""

    statement: str
    rows: list[Sequence[Any]]


class _Codec:
    """Python values ⇄ column values; SQLite stores text, PostgreSQL native types."""

    native = False

    def uuid(self, value: str | None) -> Any:
        return None if value is None else (UUID(value) if self.native else value)

    def date(self, value: date) -> Any:
        return value if self.native else value.isoformat()

    def day(self, ordinal: int) -> Any:
        return self.date(date.fromordinal(ordinal))

    def moment(self, value: datetime) -> Any:
        # SQLite compares text: one offset and one precision keep the order right.
        return value if self.native else value.astimezone(UTC).isoformat(timespec="microseconds")

    def instant_of(self, value: int) -> Any:
        """An instant in micros (NONE: none) as the column stores it (the projector keeps
        instants as integers)."""
        if value == NONE:
            return None
        return instant(value) if self.native else _iso(value)

    def filter_value(self, value: Any) -> Any:
        """A Python value as a query parameter compared with a column."""
        if isinstance(value, UUID):
            return self.uuid(str(value))
        if isinstance(value, date):
            return self.date(value)
        return value

    def stamp(self, value: int) -> Any:
        """An instant (micros) for the checkpoint table's integer columns on SQLite."""
        return instant(value) if self.native else value

    def decimal(self, value: Decimal) -> Any:
        return value if self.native else str(value)

    def flag(self, value: bool) -> Any:
        return value if self.native else int(value)

    def read_day(self, value: Any) -> int:
        return (value if isinstance(value, date) else date.fromisoformat(value)).toordinal()

    def read_moment(self, value: Any) -> datetime:
        return value if isinstance(value, datetime) else datetime.fromisoformat(value)

    def read_micros(self, value: Any) -> int:
        return NONE if value is None else micros(self.read_moment(value))


class SalesViewStorage:
    """Statements and row conversion shared by both databases."""

    codec: _Codec
    placeholder = "?"

    def _deal_rows(self, deals: Iterable[DealValues]) -> list[Sequence[Any]]:
        c = self.codec
        # Once per changed deal of every write, 40,000 in a rebuild: locals, and the
        # codec's per-value checks hoisted out of the loop.
        uuid = c.uuid if c.native else _same
        at, day, decimal = c.instant_of, c.day, c.decimal
        return [
            (
                uuid(id_),
                title,
                owner,
                uuid(account),
                uuid(partner),
                uuid(pipeline),
                stage,
                status,
                decimal(from_minor(amount, minor_unit(currency))),
                currency,
                day(close),
                None if probability == NONE else probability,
                category,
                at(created),
                at(entered),
                at(sold),
                at(closed),
                visits,
                updated,
                created_position,
            )
            for (
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
                close,
                probability,
                category,
                created,
                entered,
                sold,
                closed,
                visits,
                updated,
                created_position,
            ) in deals
        ]

    def _contract_row(self, row: ContractRow, ended: int | None) -> tuple[Any, ...]:
        c = self.codec
        return (
            c.uuid(row.id),
            row.valid_from,
            ended,
            c.uuid(row.opportunity_id),
            c.uuid(row.account_id),
            row.owner,
            c.uuid(row.quote_item_id),
            c.uuid(row.product_id),
            c.uuid(row.component_product_id),
            row.name,
            row.kind,
            row.category,
            c.decimal(row.value),
            row.currency,
            c.date(row.start),
            None if row.end is None else c.date(row.end),
            row.status,
            c.uuid(row.renewal_opportunity_id),
            c.uuid(row.renews_contract_id),
            c.instant_of(row.updated_at),
        )

    def _lead_row(self, row: LeadRow, ended: int | None) -> tuple[Any, ...]:
        c = self.codec
        return (
            c.uuid(row.id),
            row.valid_from,
            ended,
            row.status,
            row.disqualified_as,
            row.source,
            c.uuid(row.campaign_id),
            row.owner,
            c.uuid(row.partner_id),
            c.uuid(row.account_id),
            row.company,
            row.priority,
            c.uuid(row.opportunity_id),
            c.uuid(row.duplicate_of),
            row.channel,
            c.flag(row.archived),
            c.flag(row.anonymized),
            row.activities,
            c.instant_of(row.created_at),
            c.instant_of(row.updated_at),
            row.personal_sealed,
        )

    def _campaign_row(self, row: CampaignRow, ended: int | None) -> tuple[Any, ...]:
        c = self.codec
        return (
            c.uuid(row.id),
            row.valid_from,
            ended,
            row.name,
            row.channel,
            None if row.starts_on is None else c.date(row.starts_on),
            None if row.ends_on is None else c.date(row.ends_on),
            c.flag(row.archived),
            c.instant_of(row.updated_at),
        )

    def _ends(self, name: str, ends: list[tuple[str, int, int]]) -> tuple[str, list[Any]]:
        """Versions begun in earlier writes that ended: an UPDATE of their ``valid_to``."""
        p, uuid = self.placeholder, self.codec.uuid
        return (
            f"UPDATE {name} SET valid_to = {p} WHERE id = {p} AND valid_from = {p}",
            [(to, uuid(id_), since) for id_, since, to in ends],
        )

    def batches(self, changes: ChangeSet, *, settings: bool = True) -> list[Batch]:
        """Every statement a write needs with its rows, in order (one ``executemany`` each);
        without the settings row (position, reporting currency) when ``settings`` is false."""
        c, p = self.codec, self.placeholder
        uuid = c.uuid if c.native else _same
        at = c.instant_of
        batches: list[tuple[str, list[Sequence[Any]]]] = [
            (_upsert(OPPORTUNITIES, p), self._deal_rows(changes.deals)),
            (
                _insert(CONTRACT_VERSIONS, p),
                [self._contract_row(row, ended) for row, ended in changes.contract_versions],
            ),
            self._ends(CONTRACT_VERSIONS, changes.contract_ends),
            (
                _insert(LEAD_VERSIONS, p),
                [self._lead_row(row, ended) for row, ended in changes.lead_versions],
            ),
            self._ends(LEAD_VERSIONS, changes.lead_ends),
            (
                _insert(CAMPAIGN_VERSIONS, p),
                [self._campaign_row(row, ended) for row, ended in changes.campaign_versions],
            ),
            self._ends(CAMPAIGN_VERSIONS, changes.campaign_ends),
            (
                _insert(CAMPAIGN_OPPORTUNITIES, p),
                [
                    (c.uuid(opportunity), c.uuid(campaign), c.uuid(lead), since)
                    for opportunity, campaign, lead, since in changes.campaign_opportunities
                ],
            ),
            (
                _insert(VISITS, p),
                [
                    (uuid(d), seq, stage, at(entered), pos, at(left), left_pos, nxt)
                    for d, seq, stage, entered, pos, left, left_pos, nxt in changes.entered
                ],
            ),
            (
                f"UPDATE {VISITS} SET left_at = {p}, left_position = {p}, next_stage = {p} "
                f"WHERE opportunity_id = {p} AND seq = {p}",
                [
                    (
                        at(op.left_at),
                        op.left_position,
                        op.next_stage,
                        c.uuid(op.deal_id),
                        op.seq,
                    )
                    for op in changes.left
                ],
            ),
            (
                _upsert(STAGES, p),
                [
                    (
                        c.uuid(s.pipeline_id),
                        s.key,
                        s.pipeline_name,
                        s.name,
                        s.ordinal,
                        s.probability,
                        s.forecast_category,
                        s.closed,
                    )
                    for s in changes.stages
                ],
            ),
            (
                f"INSERT INTO {RATES} (position, currency, effective_from, rate) "
                f"VALUES ({p}, {p}, {p}, {p})",
                [
                    (r.position, r.currency, c.moment(r.effective_from), c.decimal(r.rate))
                    for r in changes.rates
                ],
            ),
            (
                _upsert(TARGETS, p),
                [(t.owner, t.period, c.decimal(t.amount)) for t in changes.targets],
            ),
            (
                _upsert(BASELINES, p),
                [
                    (
                        c.uuid(b.id),
                        b.name,
                        b.chart,
                        json.dumps(b.params, sort_keys=True),
                        b.position,
                        c.moment(b.as_of),
                        b.sha256,
                        c.moment(b.taken_at),
                        c.flag(b.deleted),
                    )
                    for b in changes.baselines
                ],
            ),
            (
                _upsert(SETTINGS, p),
                [
                    ("reporting_currency", changes.reporting_currency),
                    ("position", str(changes.position)),
                    ("recorded_at", str(changes.recorded_at)),
                    ("recorded_max", str(changes.recorded_max)),
                ]
                if settings
                else [],
            ),
        ]
        return [Batch(statement, rows) for statement, rows in batches if rows]

    def apply(self, changes: ChangeSet) -> None:
        raise NotImplementedError

    # --- reading back (dialect-neutral; ``_select`` is per database) ----------------

    def _select(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def load_view(self) -> SalesView:
        """The full view the tables hold (the projector starts from it)."""
        deals = self._select(
            f"SELECT {', '.join(_columns(OPPORTUNITIES))} FROM {OPPORTUNITIES} "
            "ORDER BY created_position"
        )
        stages = self._select(f"SELECT {', '.join(_columns(STAGES))} FROM {STAGES}")
        rates = self._select(
            f"SELECT position, currency, effective_from, rate FROM {RATES} ORDER BY position"
        )
        targets = self._select(f"SELECT owner, period, amount FROM {TARGETS}")
        baselines = self._select(f"SELECT {', '.join(_columns(BASELINES))} FROM {BASELINES}")
        settings = {r[0]: r[1] for r in self._select(f"SELECT key, value FROM {SETTINGS}")}
        view = self._view_from_rows(deals, stages, rates, targets, settings)
        c = self.codec
        contracts = self._select(
            f"SELECT {', '.join(_columns(CONTRACT_VERSIONS))} FROM {CONTRACT_VERSIONS} "
            "WHERE valid_to IS NULL"
        )
        assert view.contracts is not None
        for row in contracts:
            contract = self.read_contract(row)
            view.contracts[contract.id] = contract
        assert view.leads is not None and view.campaigns is not None
        for lead in self.leads(None):
            view.leads[lead.id] = lead
        for campaign in self.campaigns(None):
            view.campaigns[campaign.id] = campaign
        for id_, name, chart, params, position, as_of, digest, taken_at, deleted in baselines:
            view.baselines[str(id_)] = BaselineRow(
                id=str(id_),
                name=name,
                chart=chart,
                params=params if isinstance(params, dict) else json.loads(params),
                position=position,
                as_of=c.read_moment(as_of),
                sha256=digest,
                taken_at=c.read_moment(taken_at),
                deleted=bool(deleted),
            )
        return view

    def read_contract(self, row: Sequence[Any]) -> ContractRow:
        """A row of the contract versions table (all its columns, in order)."""
        c = self.codec
        (
            id_,
            valid_from,
            _valid_to,
            opportunity_id,
            account_id,
            owner,
            quote_item_id,
            product_id,
            component_product_id,
            name,
            kind,
            category,
            value,
            currency,
            start,
            end,
            status,
            renewal_opportunity_id,
            renews_contract_id,
            updated_at,
        ) = row
        return ContractRow(
            id=str(id_),
            valid_from=valid_from,
            opportunity_id=str(opportunity_id),
            account_id=str(account_id),
            owner=owner,
            quote_item_id=str(quote_item_id),
            product_id=None if product_id is None else str(product_id),
            component_product_id=None
            if component_product_id is None
            else str(component_product_id),
            name=name,
            kind=kind,
            category=category,
            value=Decimal(value),
            currency=currency,
            start=date.fromordinal(c.read_day(start)),
            end=None if end is None else date.fromordinal(c.read_day(end)),
            status=status,
            renewal_opportunity_id=None
            if renewal_opportunity_id is None
            else str(renewal_opportunity_id),
            renews_contract_id=None if renews_contract_id is None else str(renews_contract_id),
            updated_at=c.read_micros(updated_at),
        )

    def contracts(
        self, position: int | None, where: Sequence[tuple[str, Any]] = ()
    ) -> list[ContractRow]:
        """The contracts as they stood at ``position`` (None: now), filtered by column
        equality or ranges (``("end_date >=", date)``), by end date (those without one
        last, on SQLite as on PostgreSQL), start date, then id."""
        p = self.placeholder
        clauses: list[str] = []
        params: list[Any] = []
        if position is None:
            clauses.append("valid_to IS NULL")
        else:
            clauses.append(f"valid_from <= {p} AND (valid_to IS NULL OR valid_to > {p})")
            params += [position, position]
        for condition, value in where:
            column, _, op = condition.partition(" ")
            if column not in _columns(CONTRACT_VERSIONS) or op not in ("", ">=", "<="):
                raise ValueError(f"not a contract filter: {condition!r}")
            clauses.append(f"{column} {op or '='} {p}")
            params.append(self.codec.filter_value(value))
        rows = self._select(
            f"SELECT {', '.join(_columns(CONTRACT_VERSIONS))} FROM {CONTRACT_VERSIONS} "
            f"WHERE {' AND '.join(clauses)} "
            "ORDER BY end_date IS NULL, end_date, start_date, id",
            params,
        )
        return [self.read_contract(row) for row in rows]

    def _as_of(self, position: int | None) -> tuple[list[str], list[Any]]:
        """The clauses and parameters of the versions standing at ``position`` (None: now)."""
        p = self.placeholder
        if position is None:
            return ["valid_to IS NULL"], []
        return [f"valid_from <= {p} AND (valid_to IS NULL OR valid_to > {p})"], [position, position]

    def _lead_clauses(
        self, position: int | None, where: Sequence[tuple[str, Any]]
    ) -> tuple[str, list[Any]]:
        """``WHERE …`` of the leads standing at ``position``, filtered by column equality
        (a None value: the column is NULL) or ``("pool", bool)`` (no owner and no partner)."""
        p = self.placeholder
        clauses, params = self._as_of(position)
        for column, value in where:
            if column == "pool":
                pooled = "owner IS NULL AND partner_id IS NULL"
                clauses.append(pooled if value else f"NOT ({pooled})")
            elif column not in _columns(LEAD_VERSIONS) or column == "personal_sealed":
                raise ValueError(f"not a lead filter: {column!r}")
            elif value is None:
                clauses.append(f"{column} IS NULL")
            else:
                clauses.append(f"{column} = {p}")
                params.append(self.codec.filter_value(value))
        return " AND ".join(clauses), params

    def leads(
        self,
        position: int | None,
        where: Sequence[tuple[str, Any]] = (),
        *,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[LeadRow]:
        """The leads as they stood at ``position`` (None: now), filtered (``_lead_clauses``),
        oldest first (by creation, then id)."""
        clauses, params = self._lead_clauses(position, where)
        page = ""
        if limit is not None or offset:
            # no limit: SQLite's LIMIT -1, PostgreSQL's LIMIT ALL
            count = str(int(limit)) if limit is not None else "ALL" if self.codec.native else "-1"
            page = f" LIMIT {count} OFFSET {int(offset)}"
        rows = self._select(
            f"SELECT {', '.join(_columns(LEAD_VERSIONS))} FROM {LEAD_VERSIONS} "
            f"WHERE {clauses} ORDER BY created_at, id{page}",
            params,
        )
        return [self.read_lead(row) for row in rows]

    def count_leads(
        self,
        position: int | None,
        where: Sequence[tuple[str, Any]] = (),
        by: Sequence[str] = (),
    ) -> list[tuple[Any, ...]]:
        """How many leads stood at ``position``, per value of the ``by`` columns:
        ``(value…, count)`` rows, ids as text."""
        for column in by:
            if column not in _columns(LEAD_VERSIONS) or column == "personal_sealed":
                raise ValueError(f"not a lead column: {column!r}")
        clauses, params = self._lead_clauses(position, where)
        grouped = ", ".join(by)
        rows = self._select(
            f"SELECT {grouped + ', ' if by else ''}count(*) FROM {LEAD_VERSIONS} "
            f"WHERE {clauses}{' GROUP BY ' + grouped if by else ''}",
            params,
        )
        ids = {"campaign_id", "partner_id", "account_id", "opportunity_id", "duplicate_of"}
        return [
            (
                *(
                    None if value is None else str(value) if column in ids else value
                    for column, value in zip(by, row, strict=False)
                ),
                int(row[-1]),
            )
            for row in rows
        ]

    def campaigns(
        self, position: int | None, where: Sequence[tuple[str, Any]] = ()
    ) -> list[CampaignRow]:
        """The campaigns as they stood at ``position`` (None: now), by name then id;
        filtered by column equality."""
        p = self.placeholder
        clauses, params = self._as_of(position)
        for column, value in where:
            if column not in _columns(CAMPAIGN_VERSIONS):
                raise ValueError(f"not a campaign filter: {column!r}")
            clauses.append(f"{column} = {p}")
            params.append(self.codec.filter_value(value))
        rows = self._select(
            f"SELECT {', '.join(_columns(CAMPAIGN_VERSIONS))} FROM {CAMPAIGN_VERSIONS} "
            f"WHERE {' AND '.join(clauses)} ORDER BY name, id",
            params,
        )
        return [self.read_campaign(row) for row in rows]

    def campaign_opportunities(self, position: int | None) -> dict[str, int]:
        """How many opportunities were made for each campaign by ``position`` (None: now)."""
        p = self.placeholder
        clause, params = ("", []) if position is None else (f" WHERE valid_from <= {p}", [position])
        rows = self._select(
            f"SELECT campaign_id, count(*) FROM {CAMPAIGN_OPPORTUNITIES}{clause} "
            "GROUP BY campaign_id",
            params,
        )
        return {str(campaign): int(count) for campaign, count in rows}

    def read_lead(self, row: Sequence[Any]) -> LeadRow:
        """A row of the lead versions table (all its columns, in order)."""
        c = self.codec
        (
            id_,
            valid_from,
            _valid_to,
            status,
            disqualified_as,
            source,
            campaign_id,
            owner,
            partner_id,
            account_id,
            company,
            priority,
            opportunity_id,
            duplicate_of,
            channel,
            archived,
            anonymized,
            activities,
            created_at,
            updated_at,
            personal_sealed,
        ) = row
        return LeadRow(
            id=str(id_),
            valid_from=valid_from,
            status=status,
            disqualified_as=disqualified_as,
            source=source,
            campaign_id=_text(campaign_id),
            owner=owner,
            partner_id=_text(partner_id),
            account_id=_text(account_id),
            company=company,
            priority=priority,
            opportunity_id=_text(opportunity_id),
            duplicate_of=_text(duplicate_of),
            channel=channel,
            archived=bool(archived),
            anonymized=bool(anonymized),
            activities=activities,
            created_at=c.read_micros(created_at),
            updated_at=c.read_micros(updated_at),
            personal_sealed=personal_sealed,
        )

    def read_campaign(self, row: Sequence[Any]) -> CampaignRow:
        """A row of the campaign versions table (all its columns, in order)."""
        c = self.codec
        id_, valid_from, _valid_to, name, channel, starts_on, ends_on, archived, updated_at = row
        return CampaignRow(
            id=str(id_),
            valid_from=valid_from,
            name=name,
            channel=channel,
            starts_on=None if starts_on is None else date.fromordinal(c.read_day(starts_on)),
            ends_on=None if ends_on is None else date.fromordinal(c.read_day(ends_on)),
            archived=bool(archived),
            updated_at=c.read_micros(updated_at),
        )

    def checkpoint_at_or_before(
        self, position: int
    ) -> tuple[bytes, list[bytes], bytes | None] | None:
        """The state of the last checkpoint at or before ``position``, the deal identity
        chunks of every checkpoint up to it, and its base's state for a delta
        (``rows.decode_checkpoint`` joins them)."""
        found = self.checkpoint_state(position)
        if found is None:
            return None
        at, _, state, base = found
        chunks = self._select(
            f"SELECT new_deals FROM {CHECKPOINTS} WHERE position <= {self.placeholder} "
            "ORDER BY position",
            (at,),
        )
        return state, [bytes(chunk[0]) for chunk in chunks], base

    def checkpoint_state(self, position: int) -> tuple[int, int, bytes, bytes | None] | None:
        """Position, deal count and state of the last checkpoint at or before ``position``,
        and for a delta the state of its base (None for a full one, or a delta of the
        empty state)."""
        p = self.placeholder
        rows = self._select(
            f"SELECT c.position, c.deals, c.state, b.state AS base_state FROM {CHECKPOINTS} c "
            f"LEFT JOIN {CHECKPOINTS} b ON b.position = c.base "
            f"WHERE c.position <= {p} ORDER BY c.position DESC LIMIT 1",
            (position,),
        )
        if not rows:
            return None
        at, deals, state, base = rows[0]
        return at, deals, bytes(state), None if base is None else bytes(base)

    def identity_chunks(self, after: int, up_to: int) -> list[tuple[int, int, bytes]]:
        """Position, deal count and new-deal identities of the checkpoints in (after, up_to]."""
        p = self.placeholder
        rows = self._select(
            f"SELECT position, deals, new_deals FROM {CHECKPOINTS} "
            f"WHERE position > {p} AND position <= {p} ORDER BY position",
            (after, up_to),
        )
        return [(r[0], r[1], bytes(r[2])) for r in rows]

    def checkpointed_deals(self) -> int:
        """How many deals the stored checkpoints identify (the last one's count)."""
        rows = self._select(f"SELECT deals FROM {CHECKPOINTS} ORDER BY position DESC LIMIT 1")
        return int(rows[0][0]) if rows else 0

    def last_full_checkpoint(self) -> int:
        """The position of the last full checkpoint (0: none)."""
        rows = self._select(f"SELECT MAX(position) FROM {CHECKPOINTS} WHERE base IS NULL")
        return int(rows[0][0]) if rows and rows[0][0] is not None else 0

    def checkpoint_before_instant(self, moment: datetime) -> int:
        """The position of the last checkpoint by which no applied event had been recorded
        after ``moment`` (0: none). Every event recorded by ``moment`` that comes first in
        the log lies after it, within one checkpoint interval."""
        rows = self._select(
            f"SELECT MAX(position) FROM {CHECKPOINTS} WHERE recorded_max <= {self.placeholder}",
            (self.codec.stamp(micros(moment)),),
        )
        return int(rows[0][0]) if rows and rows[0][0] is not None else 0

    def visits_up_to(self, position: int) -> list[tuple[Any, ...]]:
        """Visits begun by ``position``: deal, seq, stage, entered, left, left position, next."""
        p = self.placeholder
        rows = self._select(
            f"SELECT opportunity_id, seq, stage, entered_at, left_at, left_position, next_stage "
            f"FROM {VISITS} WHERE entered_position <= {p} ORDER BY opportunity_id, seq",
            (position,),
        )
        c = self.codec
        return [
            (
                str(r[0]),
                r[1],
                r[2],
                c.read_moment(r[3]),
                None if r[4] is None else c.read_moment(r[4]),
                r[5],
                r[6],
            )
            for r in rows
        ]

    def dead_letters(self) -> list[DeadLetter]:
        return [
            DeadLetter(r[0], r[1], UUID(str(r[2])), r[3], r[4])
            for r in self._select(f"SELECT * FROM {DEAD_LETTERS} ORDER BY position")
        ]

    def rows(self, name: str) -> list[tuple[Any, ...]]:
        """Every row of one table in primary-key order (tests, verification)."""
        order = ", ".join(_PRIMARY_KEYS.get(name, (_columns(name)[0],)))
        return self._select(f"SELECT * FROM {name} ORDER BY {order}")

    def _view_from_rows(
        self,
        deals_rows: Iterable[Sequence[Any]],
        stage_rows: Iterable[Sequence[Any]],
        rate_rows: Iterable[Sequence[Any]],
        target_rows: Iterable[Sequence[Any]],
        settings: dict[str, str],
    ) -> SalesView:
        c = self.codec
        deals, details = DealColumns(), DealDetails()
        for row in deals_rows:
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
            deals.ids.append(str(id_))
            deals.owners.append(owner)
            deals.account_ids.append(str(account))
            deals.partner_ids.append(None if partner is None else str(partner))
            deals.pipeline_ids.append(str(pipeline))
            deals.stages.append(stage)
            deals.statuses.append(status)
            deals.amounts.append(to_minor(Decimal(amount), minor_unit(currency)))
            deals.currencies.append(currency)
            deals.expected_close.append(c.read_day(expected_close))
            deals.probability_override.append(NONE if probability is None else probability)
            deals.category_override.append(category)
            deals.sold_at.append(c.read_micros(sold))
            details.titles.append(title)
            details.created_position.append(created_position)
            details.created_at.append(c.read_micros(created))
            details.stage_entered_at.append(c.read_micros(entered))
            details.closed_at.append(c.read_micros(closed))
            details.visits.append(visits)
            details.updated_position.append(updated)
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
        ) in stage_rows:
            stages[stage_key(str(pipeline_id), key)] = StageRow(
                pipeline_id=str(pipeline_id),
                pipeline_name=pipeline_name,
                key=key,
                name=name,
                ordinal=ordinal,
                probability=probability,
                forecast_category=category,
                closed=closed,
            )
        rates = [
            RateRow(
                currency=currency,
                effective_from=c.read_moment(effective),
                rate=Decimal(rate),
                position=position,
            )
            for position, currency, effective, rate in rate_rows
        ]
        targets = {
            target_key(owner, period): TargetRow(owner=owner, period=period, amount=Decimal(amount))
            for owner, period, amount in target_rows
        }
        return SalesView(
            position=int(settings.get("position", 0)),
            recorded_at=int(settings.get("recorded_at", NONE)),
            recorded_max=int(settings.get("recorded_max", NONE)),
            reporting_currency=settings.get("reporting_currency", "EUR"),
            deals=deals,
            details=details,
            stages=stages,
            rates=rates,
            targets=targets,
        )


# --- SQLite ---------------------------------------------------------------------------


class SQLiteSalesView(SQLiteTrackingRecorder, SalesViewStorage):
    codec = _Codec()

    def construct_create_table_statements(self) -> list[str]:
        return [*super().construct_create_table_statements(), *_create_statements(0)]

    def apply(self, changes: ChangeSet) -> None:
        """Write one change set and its tracking position in one transaction."""
        with self.datastore.get_connection(commit=True) as conn:
            # Per connection, outside a transaction (SQLite refuses it inside). The tables
            # are disposable and written with their tracking position in one transaction,
            # so NORMAL (no fsync per commit in WAL mode) can lose the last writes on a
            # power cut but never make rows and position disagree; a larger page cache
            # keeps the visit table's B-tree in memory during a rebuild.
            pragmas = conn.cursor()
            pragmas.execute("PRAGMA synchronous=NORMAL")
            pragmas.execute("PRAGMA cache_size=-65536")
            with conn.transaction(commit=True) as c:
                self._apply(c, changes)

    def _apply(self, c: SQLiteCursor, changes: ChangeSet) -> None:
        for batch in self.batches(changes):
            c.executemany(batch.statement, batch.rows)
        for letter in changes.dead_letters:
            c.execute(
                f"INSERT OR REPLACE INTO {DEAD_LETTERS} VALUES (?, ?, ?, ?, ?)",
                (
                    letter.position,
                    letter.topic,
                    str(letter.aggregate_id),
                    letter.aggregate_version,
                    letter.error,
                ),
            )
        c.executemany(
            f"INSERT INTO {CHECKPOINTS} VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (k.position, k.recorded_at, k.recorded_max, k.deals, k.base, k.new_deals, k.state)
                for k in changes.checkpoints
            ],
        )
        self._insert_tracking(c, Tracking(UPSTREAM, changes.position))

    def _select(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(statement, params)
            return [tuple(r) for r in c.fetchall()]

    def drop(self) -> None:
        with self.datastore.transaction(commit=True) as c:
            for view, _ in VIEWS:
                c.execute(f"DROP VIEW IF EXISTS {view}")
            for name in ALL_TABLES:
                c.execute(f"DROP TABLE IF EXISTS {name}")
            c.execute("DELETE FROM tracking WHERE application_name = ?", (UPSTREAM,))
        self.create_table()


# --- PostgreSQL ----------------------------------------------------------------------------


class _NativeCodec(_Codec):
    native = True


# Batches at least this large go through COPY and a staging table.
BULK_ROWS = 500


class PostgresSalesView(PostgresTrackingRecorder, SalesViewStorage):
    codec = _NativeCodec()
    placeholder = "%s"
    bulk_rows = BULK_ROWS

    def __init__(self, datastore: PostgresDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        # The statements below name tables without a schema: create them in ours, not
        # in whatever the server's default search_path finds first (public).
        self.sql_create_statements.append(
            SQL("SET LOCAL search_path TO {}").format(Identifier(datastore.schema))
        )
        for statement in _create_statements(1):
            self.sql_create_statements.append(SQL(statement))  # type: ignore[arg-type]
        # Checkpoint states are megabytes of msgpack: PostgreSQL's default pglz compression
        # of them cost more than all the other writes of a rebuild. Store them as they are
        # (checked first, so a restart takes no lock on the table).
        self.sql_create_statements.append(
            SQL(  # type: ignore[arg-type]
                "DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_attribute "
                f"WHERE attrelid = '{CHECKPOINTS}'::regclass "
                "AND attname IN ('state', 'new_deals') AND attstorage <> 'e') THEN "
                f"ALTER TABLE {CHECKPOINTS} ALTER COLUMN state SET STORAGE EXTERNAL, "
                "ALTER COLUMN new_deals SET STORAGE EXTERNAL; END IF; END $$"
            )
        )

    def _search_path(self, curs: Any) -> None:
        """Unqualified table names in this transaction mean the tables of our schema."""
        curs.execute(SQL("SET LOCAL search_path TO {}").format(Identifier(self.datastore.schema)))

    def apply(self, changes: ChangeSet) -> None:
        """Write one change set and its tracking position in one transaction."""
        with self.datastore.transaction(commit=True) as curs:
            self._search_path(curs)
            for batch in self.batches(changes):
                self._execute(curs, batch)
            self._insert_dead_letters(curs, changes.dead_letters)
            if changes.checkpoints:
                curs.executemany(
                    f"INSERT INTO {CHECKPOINTS} VALUES (%s, %s, %s, %s, %s, %s, %s)",
                    [
                        (
                            k.position,
                            instant(k.recorded_at),
                            instant(k.recorded_max),
                            k.deals,
                            k.base,
                            k.new_deals,
                            k.state,
                        )
                        for k in changes.checkpoints
                    ],
                )
            self._insert_tracking(curs, Tracking(UPSTREAM, changes.position))

    @staticmethod
    def _insert_dead_letters(curs: Any, letters: Sequence[DeadLetter]) -> None:
        for letter in letters:
            curs.execute(
                f"INSERT INTO {DEAD_LETTERS} VALUES (%s, %s, %s, %s, %s) "
                "ON CONFLICT (position) DO NOTHING",
                (
                    letter.position,
                    letter.topic,
                    letter.aggregate_id,
                    letter.aggregate_version,
                    letter.error,
                ),
            )

    def _execute(self, curs: Any, batch: Batch) -> None:
        """A few rows: ``executemany`` (pipelined). Many (a rebuild, a backlog): COPY them
        into a staging table and apply that in one statement, ten times faster."""
        if len(batch.rows) < self.bulk_rows:
            curs.executemany(batch.statement, batch.rows)
            return
        statement = batch.statement
        if statement.startswith("UPDATE ") and " SET valid_to = " in statement:
            # versions (contracts, leads, campaigns) begun in an earlier write that ended: a
            # rebuild ends a few thousand at most
            curs.executemany(statement, batch.rows)
            return
        if statement.startswith("UPDATE "):
            # the one UPDATE: stage visits that began in an earlier write end now
            curs.execute(
                "CREATE TEMP TABLE staging_left (left_at timestamptz, left_position bigint, "
                "next_stage text, opportunity_id uuid, seq integer) ON COMMIT DROP"
            )
            self._copy(curs, "staging_left", batch.rows)
            curs.execute(
                f"UPDATE {VISITS} v SET left_at = s.left_at, left_position = s.left_position, "
                "next_stage = s.next_stage FROM staging_left s "
                "WHERE v.opportunity_id = s.opportunity_id AND v.seq = s.seq"
            )
            return
        name = statement.split()[2]
        staging = f"staging_{name}"
        curs.execute(f"CREATE TEMP TABLE {staging} (LIKE {name} INCLUDING DEFAULTS) ON COMMIT DROP")
        self._copy(curs, staging, batch.rows)
        # The same statement, its VALUES replaced by the staged rows.
        head, _, tail = statement.partition(" VALUES (")
        conflict = tail.partition(")")[2]
        curs.execute(f"{head} SELECT * FROM {staging}{conflict}")

    @staticmethod
    def _copy(curs: Any, name: str, rows: Sequence[Sequence[Any]]) -> None:
        with curs.copy(f"COPY {name} FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    def _select(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self.datastore.transaction(commit=False) as curs:
            self._search_path(curs)
            curs.execute(statement, params)
            return [tuple(r.values()) for r in curs.fetchall()]

    def drop(self) -> None:
        with self.datastore.transaction(commit=True) as curs:
            self._search_path(curs)
            for view, _ in VIEWS:
                curs.execute(f"DROP VIEW IF EXISTS {view}")
            for name in ALL_TABLES:
                curs.execute(f"DROP TABLE IF EXISTS {name}")
            curs.execute(
                SQL("DELETE FROM {} WHERE application_name = %s").format(
                    Identifier(self.tracking_table_name)
                ),
                (UPSTREAM,),
            )
        self.create_table()
