"""Riding out a PostgreSQL outage: know the server is away, answer at once, come back fast.

Two things the libraries do not do for us:

- **After a restart every pooled connection is dead.** psycopg_pool checks one idle
  connection per request (``pre_ping``) and, on a failed check, sleeps 1, 2, 4… s
  before trying the next, so one request waited out its whole timeout on a pool of
  dead connections and was answered 500. Here the first failed check tests every
  idle connection at once (``ConnectionPool.check``): the dead ones are replaced and
  the request gets a live connection as soon as the server answers.
- **While the server is away, every call waits.** Each waits for the pool's timeout,
  and the library retries most calls ten times. So the first failure starts a probe
  (a plain connection, not the pool) that checks the server with capped backoff; while
  it fails, every call through a guarded datastore raises ``StoreUnavailable`` at once
  (the API answers 503 with ``Retry-After``, workers back off). When the probe gets
  an answer, the pools drop what died with the server and calls go through again.

One guard per server a process talks to; the event store's and the read models'
datastores share it. ``GuardedPostgresFactory`` is the persistence module the
settings name (``PERSISTENCE_MODULE``), so everything the library builds is guarded.

The pre-ping costs a round trip per query. A read made on every request (who the bearer
token names) skips it (``in_one_round_trip``): were its connection dead, the read fails
and is made again the ordinary way (pinged, the pool drained of the dead connections).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

import psycopg
import structlog
from eventsourcing.persistence import InterfaceError, OperationalError
from eventsourcing.postgres import PostgresDatastore, PostgresFactory
from eventsourcing.utils import Environment
from psycopg import Connection
from psycopg_pool import ConnectionPool

from adapters.outages import POSTGRESQL, Backoff, StoreUnavailable, one_line

log = structlog.get_logger("crmledger.postgres")

T = TypeVar("T")


class PostgresGuard:
    """Whether one PostgreSQL server is known to be away, and the probe that finds out."""

    def __init__(self, conninfo: str, kwargs: dict[str, Any], connect_timeout: float) -> None:
        self.where = f"{kwargs.get('host', '127.0.0.1')}:{kwargs.get('port', 5432)}"
        self._connect_args = {
            k: v for k, v in kwargs.items() if k in {"dbname", "host", "port", "user", "password"}
        }
        self._conninfo = conninfo
        self._connect_timeout = max(1, min(int(connect_timeout), 5))
        self._lock = threading.Lock()
        self._probing = False
        self._pools: list[ConnectionPool[Any]] = []
        self.down_since: float | None = None
        self.last_error = ""
        self._retry_in = 1.0

    @property
    def dependency(self) -> str:
        return f"{POSTGRESQL} at {self.where}"

    def watch(self, pool: ConnectionPool[Any]) -> None:
        with self._lock:
            self._pools.append(pool)

    def unwatch(self, pool: ConnectionPool[Any]) -> None:
        with self._lock:
            if pool in self._pools:
                self._pools.remove(pool)

    def check(self) -> None:
        """Raise ``StoreUnavailable`` while the server is known to be away."""
        if self.down_since is not None:
            raise StoreUnavailable(
                POSTGRESQL,
                f"PostgreSQL at {self.where} is not answering "
                f"({self.last_error or 'no answer'}); try again shortly.",
                retry_after=self.retry_after,
            )

    @property
    def retry_after(self) -> int:
        return max(1, math.ceil(self._retry_in))

    def suspect(self, error: BaseException) -> None:
        """A call failed as if the server were away: make sure (once, in the background)."""
        with self._lock:
            if self._probing:
                return
            self._probing = True
        self.last_error = one_line(error)
        threading.Thread(target=self._probe, name=f"probe-{self.where}", daemon=True).start()

    def _answers(self) -> bool:
        try:
            with psycopg.connect(
                self._conninfo,
                **self._connect_args,
                connect_timeout=self._connect_timeout,
                autocommit=True,
            ) as conn:
                conn.execute("SELECT 1")
        except psycopg.Error as error:
            self.last_error = one_line(error)
            return False
        return True

    def _probe(self) -> None:
        backoff = Backoff(first=0.25, cap=5.0)
        try:
            while not self._answers():
                if self.down_since is None:
                    self.down_since = time.time()
                    log.warning("waiting_for_postgres", server=self.where, error=self.last_error)
                self._retry_in = backoff.next()
                time.sleep(self._retry_in)
            self._drain()
            if self.down_since is not None:
                log.info(
                    "postgres_back",
                    server=self.where,
                    seconds=round(time.time() - self.down_since, 1),
                )
            self.down_since = None
            self._retry_in = 1.0
        finally:
            with self._lock:
                self._probing = False

    def _drain(self) -> None:
        """Drop every pooled connection that died with the server (each is replaced)."""
        with self._lock:
            pools = list(self._pools)
        for pool in pools:
            drain(pool)


# Set by ``unpinged``: the next connection taken in this context skips the pre-ping.
_skip_ping: ContextVar[list[bool] | None] = ContextVar("crmledger_skip_ping", default=None)


@contextmanager
def unpinged() -> Iterator[None]:
    """The first pooled connection taken in this block is handed out without its pre-ping
    (one round trip instead of two); any after it are pinged as usual. For reads only, made
    again when they fail (``in_one_round_trip``)."""
    token = _skip_ping.set([True])
    try:
        yield
    finally:
        _skip_ping.reset(token)


def in_one_round_trip(read: Callable[[], T]) -> T:
    """``read()`` on a pooled connection taken without its pre-ping; were that connection
    dead (the server restarted), ``read()`` again, pinged. For reads only, which may be
    repeated. While the server is known to be away, ``StoreUnavailable`` as any call."""
    try:
        with unpinged():
            return read()
    except (OperationalError, InterfaceError):
        return read()


def _ping_skipped() -> bool:
    """Whether this checkout skips its pre-ping (once per ``unpinged`` block)."""
    pending = _skip_ping.get()
    if pending is None or not pending[0]:
        return False
    pending[0] = False
    return True


_draining: set[int] = set()
_draining_lock = threading.Lock()


def drain(pool: ConnectionPool[Any]) -> None:
    """Test every idle connection of ``pool`` now (one drain per pool at a time)."""
    with _draining_lock:
        if id(pool) in _draining:
            return
        _draining.add(id(pool))
    try:
        pool.check()
    except Exception as error:  # a closed pool, or one closing: nothing to drain
        log.debug("pool_not_drained", error=one_line(error))
    finally:
        with _draining_lock:
            _draining.discard(id(pool))


_guards: dict[tuple[Any, ...], PostgresGuard] = {}
_guards_lock = threading.Lock()


def guard_for(pool: ConnectionPool[Any], connect_timeout: float) -> PostgresGuard:
    kwargs = pool.kwargs if isinstance(pool.kwargs, dict) else {}
    conninfo = pool.conninfo if isinstance(pool.conninfo, str) else ""
    key = (conninfo, kwargs.get("host"), kwargs.get("port"), kwargs.get("dbname"))
    with _guards_lock:
        guard = _guards.get(key)
        if guard is None:
            guard = _guards[key] = PostgresGuard(conninfo, dict(kwargs), connect_timeout)
        return guard


def guards_down() -> list[PostgresGuard]:
    with _guards_lock:
        return [guard for guard in _guards.values() if guard.down_since is not None]


class GuardedDatastore(PostgresDatastore):
    """The library's datastore, answering at once while its server is known to be away."""

    guard: PostgresGuard

    @classmethod
    def adopt(cls, datastore: PostgresDatastore, connect_timeout: float) -> GuardedDatastore:
        # The library's factory builds the datastore from settings we would otherwise have
        # to parse again; only its behaviour changes here, not its state.
        datastore.__class__ = cls
        assert isinstance(datastore, GuardedDatastore)
        pool = datastore.pool
        guard = guard_for(pool, connect_timeout)
        datastore.guard = guard
        guard.watch(pool)
        checks = pool._check  # the pre-ping check the library set (psycopg_pool attribute)

        def check_or_drain(conn: Connection[Any]) -> None:
            if checks is None or _ping_skipped():
                return
            try:
                checks(conn)
            except Exception as error:
                # One dead connection means the server went away: the others died too.
                threading.Thread(target=drain, args=(pool,), daemon=True).start()
                guard.suspect(error)
                raise

        pool._check = check_or_drain
        return datastore

    @contextmanager
    def get_connection(self) -> Iterator[Connection[Any]]:
        self.guard.check()
        try:
            with super().get_connection() as conn:
                yield conn
        except (OperationalError, InterfaceError) as error:
            self.guard.suspect(error)
            raise

    def close(self) -> None:
        guard = getattr(self, "guard", None)
        if guard is not None:
            guard.unwatch(self.pool)
        super().close()


class GuardedPostgresFactory(PostgresFactory):
    """``PERSISTENCE_MODULE`` for PostgreSQL: the library's factory, datastore guarded."""

    def __init__(self, env: Environment) -> None:
        super().__init__(env)
        timeout = float(self.env.get(self.POSTGRES_CONNECT_TIMEOUT) or 5)
        GuardedDatastore.adopt(self.datastore, timeout)
