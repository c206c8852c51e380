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
from projections.runner import UPSTREAM, Checkpointed, DeadLetter
from projections.sales_projection import Dirty
from readmodels.rows import (
    NONE,
    BaselineRow,
    DealColumns,
    DealDetails,
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

VERSION = "v1"


def table(name: str) -> str:
    return f"{name}_{VERSION}"


OPPORTUNITIES = table("opportunities")
VISITS = table("opportunity_stage_visits")
STAGES = table("pipeline_stages")
RATES = table("exchange_rates")
TARGETS = table("sales_targets")
BASELINES = table("baselines")
LOG = table("read_model_log")
CHECKPOINTS = table("read_model_checkpoints")
SETTINGS = table("read_model_settings")
DEAD_LETTERS = table("read_model_dead_letters")
ALL_TABLES = (
    OPPORTUNITIES,
    VISITS,
    STAGES,
    RATES,
    TARGETS,
    BASELINES,
    LOG,
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
_TABLES: dict[str, tuple[tuple[str, str, str], ...]] = {
    OPPORTUNITIES: _OPPORTUNITY_COLUMNS,
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
    LOG: (
        # SQLite: microseconds since the epoch (one row per applied event, so no text).
        ("position", "INTEGER PRIMARY KEY", "bigint PRIMARY KEY"),
        ("recorded_at", "INTEGER NOT NULL", "timestamptz NOT NULL"),
    ),
    CHECKPOINTS: (
        ("position", "INTEGER PRIMARY KEY", "bigint PRIMARY KEY"),
        ("recorded_at", "INTEGER NOT NULL", "timestamptz NOT NULL"),
        ("deals", "INTEGER NOT NULL", "integer NOT NULL"),
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
    VISITS: ("opportunity_id", "seq"),
    STAGES: ("pipeline_id", "stage"),
    RATES: ("position", "currency"),
    TARGETS: ("owner", "period"),
}
_INDEXES = (
    (OPPORTUNITIES, ("owner",)),
    (OPPORTUNITIES, ("status", "expected_close")),
    (LOG, ("recorded_at",)),
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

    def day(self, ordinal: int) -> Any:
        value = date.fromordinal(ordinal)
        return value if self.native else value.isoformat()

    def moment(self, value: int | datetime | None) -> Any:
        if value is None or value == NONE:
            return None
        if isinstance(value, int):
            return instant(value) if self.native else _iso(value)
        # SQLite compares text: one offset and one precision keep the order right.
        return value if self.native else value.astimezone(UTC).isoformat(timespec="microseconds")

    def stamp(self, value: int) -> Any:
        """An instant (micros) for the internal log and checkpoint tables."""
        return instant(value) if self.native else value

    def read_stamp(self, value: Any) -> datetime:
        return value if isinstance(value, datetime) else instant(value)

    def decimal(self, value: Decimal) -> Any:
        return value if self.native else str(value)

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

    def _deal_row(self, view: SalesView, i: int) -> tuple[Any, ...]:
        deals, details = view.deals, view.details
        assert details is not None, "only a full view is written to the tables"
        c = self.codec
        override = deals.probability_override[i]
        return (
            c.uuid(deals.ids[i]),
            details.titles[i],
            deals.owners[i],
            c.uuid(deals.account_ids[i]),
            c.uuid(deals.partner_ids[i]),
            c.uuid(deals.pipeline_ids[i]),
            deals.stages[i],
            deals.statuses[i],
            c.decimal(from_minor(deals.amounts[i], minor_unit(deals.currencies[i]))),
            deals.currencies[i],
            c.day(deals.expected_close[i]),
            None if override == NONE else override,
            deals.category_override[i],
            c.moment(details.created_at[i]),
            c.moment(details.stage_entered_at[i]),
            c.moment(deals.sold_at[i]),
            c.moment(details.closed_at[i]),
            details.visits[i],
            details.updated_position[i],
            details.created_position[i],
        )

    def batches(self, view: SalesView, dirty: Dirty) -> list[Batch]:
        """Every statement a write needs with its rows, in order (one ``executemany`` each)."""
        c, p = self.codec, self.placeholder
        batches: list[tuple[str, list[Sequence[Any]]]] = [
            (_upsert(OPPORTUNITIES, p), [self._deal_row(view, i) for i in sorted(dirty.deals)]),
            (
                _insert(VISITS, p),
                [
                    (c.uuid(d), seq, stage, c.moment(at), pos, c.moment(left), left_pos, nxt)
                    for d, seq, stage, at, pos, left, left_pos, nxt in dirty.entered.values()
                ],
            ),
            (
                f"UPDATE {VISITS} SET left_at = {p}, left_position = {p}, next_stage = {p} "
                f"WHERE opportunity_id = {p} AND seq = {p}",
                [
                    (
                        c.moment(op.left_at),
                        op.left_position,
                        op.next_stage,
                        c.uuid(op.deal_id),
                        op.seq,
                    )
                    for op in dirty.left
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
                    for s in (view.stages[key] for key in sorted(dirty.stages))
                ],
            ),
            (
                f"INSERT INTO {RATES} (position, currency, effective_from, rate) "
                f"VALUES ({p}, {p}, {p}, {p})",
                [
                    (r.position, r.currency, c.moment(r.effective_from), c.decimal(r.rate))
                    for r in dirty.rates
                ],
            ),
            (
                _upsert(TARGETS, p),
                [
                    (t.owner, t.period, c.decimal(t.amount))
                    for t in (view.targets[key] for key in sorted(dirty.targets))
                ],
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
                        b.deleted if c.native else int(b.deleted),
                    )
                    for b in (view.baselines[key] for key in sorted(dirty.baselines))
                ],
            ),
            (
                _upsert(SETTINGS, p),
                [
                    ("reporting_currency", view.reporting_currency),
                    ("position", str(view.position)),
                    ("recorded_at", str(view.recorded_at)),
                ],
            ),
        ]
        return [Batch(statement, rows) for statement, rows in batches if rows]

    def log_rows(self, dirty: Dirty) -> list[tuple[Any, ...]]:
        stamp = self.codec.stamp
        return [(position, stamp(at)) for position, at in dirty.log]

    # --- reading back ---------------------------------------------------------------

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

    def checkpoint_at_or_before(self, position: int) -> tuple[bytes, list[bytes]] | None:
        """The state of the last checkpoint at or before ``position`` and the deal identity
        chunks of every checkpoint up to it (rows.decode_checkpoint joins them)."""
        p = self.placeholder
        rows = self._select(
            f"SELECT position, state FROM {CHECKPOINTS} WHERE position <= {p} "
            "ORDER BY position DESC LIMIT 1",
            (position,),
        )
        if not rows:
            return None
        chunks = self._select(
            f"SELECT new_deals FROM {CHECKPOINTS} WHERE position <= {p} ORDER BY position",
            (rows[0][0],),
        )
        return bytes(rows[0][1]), [bytes(chunk[0]) for chunk in chunks]

    def checkpoint_state(self, position: int) -> tuple[int, int, bytes] | None:
        """Position, deal count and state of the last checkpoint at or before ``position``."""
        rows = self._select(
            f"SELECT position, deals, state FROM {CHECKPOINTS} WHERE position <= "
            f"{self.placeholder} ORDER BY position DESC LIMIT 1",
            (position,),
        )
        return (rows[0][0], rows[0][1], bytes(rows[0][2])) if rows else None

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

    def position_at(self, moment: datetime) -> int | None:
        """The last position applied by the read model that was recorded by ``moment``."""
        rows = self._select(
            f"SELECT MAX(position) FROM {LOG} WHERE recorded_at <= {self.placeholder}",
            (self.codec.stamp(micros(moment)),),
        )
        return rows[0][0] if rows and rows[0][0] is not None else None

    def recorded_at(self, position: int) -> datetime | None:
        """When the last event the read model applied at or before ``position`` was recorded."""
        rows = self._select(
            f"SELECT recorded_at FROM {LOG} WHERE position <= {self.placeholder} "
            "ORDER BY position DESC LIMIT 1",
            (position,),
        )
        return self.codec.read_stamp(rows[0][0]) if rows else None

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

    def write(
        self,
        view: SalesView,
        dirty: Dirty,
        *,
        checkpoints: Sequence[Checkpointed] = (),
        dead_letters: Sequence[DeadLetter] = (),
    ) -> None:
        with self.datastore.transaction(commit=True) as c:
            self._write(c, view, dirty, checkpoints, dead_letters)

    def _write(
        self,
        c: SQLiteCursor,
        view: SalesView,
        dirty: Dirty,
        checkpoints: Sequence[Checkpointed],
        dead_letters: Sequence[DeadLetter],
    ) -> None:
        for batch in self.batches(view, dirty):
            c.executemany(batch.statement, batch.rows)
        c.executemany(f"INSERT INTO {LOG} VALUES (?, ?)", self.log_rows(dirty))
        for letter in dead_letters:
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
            f"INSERT INTO {CHECKPOINTS} VALUES (?, ?, ?, ?, ?)",
            [(at, rec, deals, new, state) for at, rec, deals, new, state in checkpoints],
        )
        self._insert_tracking(c, Tracking(UPSTREAM, view.position))

    def _select(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(statement, params)
            return [tuple(r) for r in c.fetchall()]

    def drop(self) -> None:
        with self.datastore.transaction(commit=True) as c:
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

    def write(
        self,
        view: SalesView,
        dirty: Dirty,
        *,
        checkpoints: Sequence[Checkpointed] = (),
        dead_letters: Sequence[DeadLetter] = (),
    ) -> None:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(
                SQL("SET LOCAL search_path TO {}").format(Identifier(self.datastore.schema))
            )
            for batch in self.batches(view, dirty):
                self._execute(curs, batch)
            log = self.log_rows(dirty)
            if log:
                with curs.copy(f"COPY {LOG} (position, recorded_at) FROM STDIN") as copy:
                    for row in log:
                        copy.write_row(row)
            for letter in dead_letters:
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
            if checkpoints:
                curs.executemany(
                    f"INSERT INTO {CHECKPOINTS} VALUES (%s, %s, %s, %s, %s)",
                    [
                        (at, instant(rec), deals, new, state)
                        for at, rec, deals, new, state in checkpoints
                    ],
                )
            self._insert_tracking(curs, Tracking(UPSTREAM, view.position))

    def _execute(self, curs: Any, batch: Batch) -> None:
        """A few rows: ``executemany`` (pipelined). Many (a rebuild, a backlog): COPY them
        into a staging table and apply that in one statement, ten times faster."""
        if len(batch.rows) < self.bulk_rows:
            curs.executemany(batch.statement, batch.rows)
            return
        statement = batch.statement
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
            curs.execute(
                SQL("SET LOCAL search_path TO {}").format(Identifier(self.datastore.schema))
            )
            curs.execute(statement, params)
            return [tuple(r.values()) for r in curs.fetchall()]

    def drop(self) -> None:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(
                SQL("SET LOCAL search_path TO {}").format(Identifier(self.datastore.schema))
            )
            for name in ALL_TABLES:
                curs.execute(f"DROP TABLE IF EXISTS {name}")
            curs.execute(
                SQL("DELETE FROM {} WHERE application_name = %s").format(
                    Identifier(self.tracking_table_name)
                ),
                (UPSTREAM,),
            )
        self.create_table()
