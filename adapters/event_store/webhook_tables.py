"""The webhooks' tables beside the events (see docs/design.md, "Webhooks").

- ``secrets``: each webhook's signing secret, written in the same transaction as its
  registration event and deleted in the one of its deletion; never in the log.
- ``webhook_deliveries``: the outbox. The webhooks process writes a row per (webhook,
  event) in the same transaction as its tracking position (the save's ``outbox``); the
  sender claims rows (a lease, on PostgreSQL after ``FOR UPDATE SKIP LOCKED``) and
  records each attempt's outcome.
- ``webhook_attempts``: every attempt (status code or error, duration, instant).
- ``webhook_health``: each webhook's failures in a row, for disabling it.

One SQL text serves both stores: instants are seconds since the epoch (floats), ids
text; ``?`` placeholders become ``%s`` on PostgreSQL.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Collection, Mapping, Sequence
from typing import Any, ClassVar

import msgspec

PENDING, DELIVERED = "pending", "delivered"


class OutboxRow(msgspec.Struct, frozen=True, kw_only=True):
    """A delivery to write: one event for one webhook."""

    webhook_id: str
    event_id: str
    position: int
    aggregate_id: str
    event_type: str
    body: bytes
    next_attempt_at: float


class Delivery(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    webhook_id: str
    event_id: str
    position: int
    aggregate_id: str
    event_type: str
    status: str
    attempts: int
    next_attempt_at: float | None
    last_status_code: int | None
    last_error: str | None
    delivered_at: float | None
    body: bytes = b""
    lease_token: str | None = None


class Attempt(msgspec.Struct, frozen=True, kw_only=True):
    delivery_id: int
    webhook_id: str
    at: float
    status_code: int | None
    error: str | None
    duration_ms: float


_COLUMNS = (
    "id, webhook_id, event_id, position, aggregate_id, event_type, status, attempts, "
    "next_attempt_at, last_status_code, last_error, delivered_at"
)


def _values(row: Any) -> tuple[Any, ...]:
    return tuple(row.values()) if isinstance(row, Mapping) else tuple(row)


def _delivery(row: Any, *, body: bool = False) -> Delivery:
    v = _values(row)
    extra: dict[str, Any] = {"body": bytes(v[12]), "lease_token": v[13]} if body else {}
    return Delivery(
        id=int(v[0]),
        webhook_id=str(v[1]),
        event_id=str(v[2]),
        position=int(v[3]),
        aggregate_id=str(v[4]),
        event_type=str(v[5]),
        status=str(v[6]),
        attempts=int(v[7]),
        next_attempt_at=v[8],
        last_status_code=v[9],
        last_error=v[10],
        delivered_at=v[11],
        **extra,
    )


class WebhookTables:
    """Mixed into each store's recorder; ``_transaction`` and ``_sql`` are the dialect's."""

    postgres: ClassVar[bool] = False

    def _table(self, name: str) -> str:
        """The table's name as SQL (qualified by the schema on PostgreSQL)."""
        raise NotImplementedError

    def _index(self, name: str) -> str:
        """An index's name (prefixed on PostgreSQL, where indexes share the schema)."""
        raise NotImplementedError

    def _transaction(self, *, commit: bool) -> contextlib.AbstractContextManager[Any]:
        raise NotImplementedError

    def _sql(self, text: str) -> str:
        """``text`` with ``{name}`` tables qualified and the dialect's placeholders."""
        names = ("secrets", "webhook_deliveries", "webhook_attempts", "webhook_health")
        text = text.format(**{n: self._table(n) for n in names})
        return text.replace("?", "%s") if self.postgres else text

    def webhook_ddl(self) -> list[str]:
        pg = self.postgres
        blob, real = ("bytea", "double precision") if pg else ("BLOB", "REAL")
        serial = (
            "bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY"
            if pg
            else "INTEGER PRIMARY KEY AUTOINCREMENT"
        )
        return [
            self._sql(
                "CREATE TABLE IF NOT EXISTS {secrets} (owner_id text PRIMARY KEY, "
                f"secret text NOT NULL, created_at {real} NOT NULL)"
            ),
            self._sql(
                f"CREATE TABLE IF NOT EXISTS {{webhook_deliveries}} (id {serial}, "
                "webhook_id text NOT NULL, event_id text NOT NULL, position bigint NOT NULL, "
                "aggregate_id text NOT NULL, event_type text NOT NULL, status text NOT NULL, "
                f"attempts integer NOT NULL, next_attempt_at {real}, "
                f"last_status_code integer, last_error text, delivered_at {real}, "
                f"body {blob} NOT NULL, lease_token text, lease_until {real}, "
                "UNIQUE (webhook_id, event_id))"
            ),
            self._sql(
                f"CREATE INDEX IF NOT EXISTS {self._index('webhook_lane_idx')} "
                "ON {webhook_deliveries} (webhook_id, aggregate_id, status, position)"
            ),
            self._sql(
                f"CREATE INDEX IF NOT EXISTS {self._index('webhook_due_idx')} "
                "ON {webhook_deliveries} (status, next_attempt_at)"
            ),
            self._sql(
                "CREATE TABLE IF NOT EXISTS {webhook_attempts} (delivery_id bigint NOT NULL, "
                f"webhook_id text NOT NULL, at {real} NOT NULL, status_code integer, "
                f"error text, duration_ms {real} NOT NULL)"
            ),
            self._sql(
                f"CREATE INDEX IF NOT EXISTS {self._index('webhook_attempts_idx')} "
                "ON {webhook_attempts} (delivery_id, at)"
            ),
            self._sql(
                "CREATE TABLE IF NOT EXISTS {webhook_health} (webhook_id text PRIMARY KEY, "
                f"failures integer NOT NULL, failing_since {real})"
            ),
        ]

    # In the events' transaction (the recorder's ``_insert_events``).

    def _write_webhook_rows(self, c: Any, kwargs: Mapping[str, Any], now: float) -> None:
        secrets: Mapping[Any, str | None] = kwargs.get("secrets") or {}
        for owner, secret in secrets.items():
            c.execute(self._sql("DELETE FROM {secrets} WHERE owner_id = ?"), (str(owner),))
            if secret is not None:
                c.execute(
                    self._sql("INSERT INTO {secrets} VALUES (?, ?, ?)"), (str(owner), secret, now)
                )
        rows: Sequence[OutboxRow] = kwargs.get("outbox") or ()
        insert = self._sql(
            "INSERT INTO {webhook_deliveries} (webhook_id, event_id, position, aggregate_id, "
            "event_type, status, attempts, next_attempt_at, body) "
            "VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, ?) ON CONFLICT DO NOTHING"
        )
        for r in rows:
            c.execute(
                insert,
                (
                    r.webhook_id,
                    r.event_id,
                    r.position,
                    r.aggregate_id,
                    r.event_type,
                    r.next_attempt_at,
                    r.body,
                ),
            )

    # On their own.

    def secret(self, owner_id: uuid.UUID) -> str | None:
        with self._transaction(commit=False) as c:
            c.execute(
                self._sql("SELECT secret FROM {secrets} WHERE owner_id = ?"), (str(owner_id),)
            )
            row = c.fetchone()
        return None if row is None else str(_values(row)[0])

    def secret_owners(self) -> list[str]:
        with self._transaction(commit=False) as c:
            c.execute(self._sql("SELECT owner_id FROM {secrets} ORDER BY owner_id"))
            return [str(_values(row)[0]) for row in c.fetchall()]

    def claim_deliveries(
        self, webhooks: Collection[str], now: float, lease_seconds: float, limit: int
    ) -> list[Delivery]:
        """The first undelivered row of each (webhook, aggregate) lane that is due and not
        leased, leased to the caller: no two senders hold one lane's rows at once."""
        if not webhooks:
            return []
        token = uuid.uuid4().hex
        params: list[Any]
        if self.postgres:
            among, params = "d.webhook_id = ANY(?)", [list(webhooks)]
        else:
            among, params = f"d.webhook_id IN ({','.join('?' * len(webhooks))})", list(webhooks)
        lock = " FOR UPDATE SKIP LOCKED" if self.postgres else ""
        statement = self._sql(
            "UPDATE {webhook_deliveries} SET lease_token = ?, lease_until = ? WHERE id IN ("
            f"SELECT d.id FROM {{webhook_deliveries}} d WHERE d.status = 'pending' AND {among} "
            "AND d.next_attempt_at <= ? AND (d.lease_until IS NULL OR d.lease_until <= ?) "
            "AND NOT EXISTS (SELECT 1 FROM {webhook_deliveries} e WHERE "
            "e.webhook_id = d.webhook_id AND e.aggregate_id = d.aggregate_id "
            "AND e.status = 'pending' AND e.position < d.position) "
            f"ORDER BY d.position LIMIT ?{lock}) RETURNING {_COLUMNS}, body, lease_token"
        )
        with self._transaction(commit=True) as c:
            c.execute(statement, [token, now + lease_seconds, *params, now, now, limit])
            rows = [_delivery(row, body=True) for row in c.fetchall()]
        return sorted(rows, key=lambda d: d.position)

    def record_attempt(
        self, delivery: Delivery, attempt: Attempt, *, delivered: bool, retry_at: float | None
    ) -> tuple[int, float | None]:
        """Write one attempt and its delivery's new state in one transaction; answer the
        webhook's failures in a row and since when (0, None after a success). An attempt
        whose lease another sender took over meanwhile is logged but changes nothing."""
        with self._transaction(commit=True) as c:
            c.execute(
                self._sql("INSERT INTO {webhook_attempts} VALUES (?, ?, ?, ?, ?, ?)"),
                (
                    attempt.delivery_id,
                    attempt.webhook_id,
                    attempt.at,
                    attempt.status_code,
                    attempt.error,
                    attempt.duration_ms,
                ),
            )
            c.execute(
                self._sql(
                    "UPDATE {webhook_deliveries} SET status = ?, attempts = attempts + 1, "
                    "next_attempt_at = ?, last_status_code = ?, last_error = ?, "
                    "delivered_at = ?, lease_token = NULL, lease_until = NULL "
                    "WHERE id = ? AND lease_token = ?"
                ),
                (
                    DELIVERED if delivered else PENDING,
                    None if delivered else retry_at,
                    attempt.status_code,
                    attempt.error,
                    attempt.at if delivered else None,
                    delivery.id,
                    delivery.lease_token,
                ),
            )
            if delivered:
                c.execute(
                    self._sql("DELETE FROM {webhook_health} WHERE webhook_id = ?"),
                    (delivery.webhook_id,),
                )
                return 0, None
            c.execute(
                self._sql(
                    "INSERT INTO {webhook_health} VALUES (?, 1, ?) ON CONFLICT (webhook_id) "
                    "DO UPDATE SET failures = {webhook_health}.failures + 1 "
                    "RETURNING failures, failing_since"
                ),
                (delivery.webhook_id, attempt.at),
            )
            failures, since = _values(c.fetchone())
            return int(failures), since

    def webhook_failures(self) -> dict[str, int]:
        with self._transaction(commit=False) as c:
            c.execute(self._sql("SELECT webhook_id, failures FROM {webhook_health}"))
            return {str(v[0]): int(v[1]) for v in map(_values, c.fetchall())}

    def reset_failures(self, webhook_id: str) -> None:
        with self._transaction(commit=True) as c:
            c.execute(self._sql("DELETE FROM {webhook_health} WHERE webhook_id = ?"), (webhook_id,))

    def deliveries(self, webhook_id: str, before: int | None, limit: int) -> list[Delivery]:
        """A webhook's deliveries, newest first (by row id), before ``before``."""
        with self._transaction(commit=False) as c:
            c.execute(
                self._sql(
                    f"SELECT {_COLUMNS} FROM {{webhook_deliveries}} WHERE webhook_id = ? "
                    "AND id < ? ORDER BY id DESC LIMIT ?"
                ),
                (webhook_id, 2**62 if before is None else before, limit),
            )
            return [_delivery(row) for row in c.fetchall()]

    def attempts(self, delivery_ids: Collection[int]) -> list[Attempt]:
        """The attempts of these deliveries, oldest first."""
        if not delivery_ids:
            return []
        ids: list[Any] = list(delivery_ids)
        params: list[Any]
        if self.postgres:
            where, params = "delivery_id = ANY(?)", [ids]
        else:
            where, params = f"delivery_id IN ({','.join('?' * len(ids))})", ids
        with self._transaction(commit=False) as c:
            c.execute(
                self._sql(
                    f"SELECT * FROM {{webhook_attempts}} WHERE {where} ORDER BY delivery_id, at"
                ),
                params,
            )
            return [
                Attempt(
                    delivery_id=int(v[0]),
                    webhook_id=str(v[1]),
                    at=float(v[2]),
                    status_code=v[3],
                    error=v[4],
                    duration_ms=float(v[5]),
                )
                for v in map(_values, c.fetchall())
            ]
