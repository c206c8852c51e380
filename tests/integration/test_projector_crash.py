"""A projector killed at random moments and restarted ends exactly where a clean rebuild does.

docs/readmodels.md ("How they are kept"): the projector writes the rows a batch changed, the
checkpoint and its tracking position in one transaction, so a crash at any
point and a restart lose nothing and apply nothing twice. Here the projector is
the real ``crmledger worker --role projector`` process, killed with SIGKILL
(no cleanup, no ``finally``) during its start, right after a flush with more
batches to go, and while this process appends commands concurrently; then it
is restarted and allowed to finish. Its tables must equal, row for row, those
of a clean rebuild of the same log into a fresh store (another SQLite file, or
another PostgreSQL schema); its tracking position must be the log's last; no
event may have been applied twice (one log row per applied event, dense stage
visit numbers) and every checkpoint must be the state a fresh replay gives at
its position.
"""

from __future__ import annotations

import random
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import psycopg
import pytest
from psycopg import sql

from adapters.bootstrap import Services
from adapters.clock import ManualClock
from adapters.event_store.postgres import ensure_postgres_schema
from adapters.readmodel_store import ReadModelStore, open_store
from adapters.settings import Settings
from projections.runner import Projector
from readmodels import SLICES, TOPICS
from readmodels.bookkeeping import DEAD_LETTERS, UPSTREAM
from readmodels.deals import stored
from readmodels.deals.checkpoints import decode_checkpoint
from readmodels.deals.queries import replay
from readmodels.deals.tables import (
    CHECKPOINTS,
    OPPORTUNITIES,
    VISITS,
)
from readmodels.deals.view import DealsView
from tests.conftest import POSTGRES_URL
from tests.histories import History
from tests.processes import Background, Crmledger, Kill, environment, wait_until
from tests.readmodel_tables import DEALS_TABLES

CHECKPOINT_INTERVAL = 100  # the smallest the settings allow: a checkpoint in nearly every flush
SEED_COMMANDS = 1800  # about 2,500 events: five batches of 500 for the first kills
BACKLOG_EVENTS = 1200  # at least this much work pending when a "mid-batch" round starts
STARTUP_KILLS = 2
MID_BATCH_KILLS = 5
CONCURRENT_KILLS = 3

Views = ReadModelStore


# --- the worker process --------------------------------------------------------------------


def projector_worker(settings: Settings, log_path: Path) -> Crmledger:
    """``crmledger worker --role projector`` on ``settings``' store."""
    env = environment(
        settings,
        CRMLEDGER_CHECKPOINT_INTERVAL=str(CHECKPOINT_INTERVAL),
        CRMLEDGER_PROJECTOR_POLL_SECONDS="0.02",
        CRMLEDGER_LOG_LEVEL="warning",
    )
    return Crmledger(["worker", "--role", "projector"], env, log_path)


def tracked(views: Views) -> int:
    return views.max_tracking_id(UPSTREAM) or 0


def wait_for_a_flush(worker: Crmledger, views: Views, before: int) -> None:
    wait_until(lambda: tracked(views) > before, f"the worker flushed past {before}", process=worker)


# --- fixtures ------------------------------------------------------------------------------------


@pytest.fixture
def clean_views(services: Services, tmp_path: Path) -> Iterator[Views]:
    """Empty read-model tables beside the same event log: another file or another schema."""
    settings = services.settings
    if settings.uses_postgres:
        clean = settings.model_copy(update={"database_schema": f"{settings.database_schema}_c"})
        ensure_postgres_schema(clean)
    else:
        clean = settings.model_copy(update={"home": tmp_path / "clean"})
    views = open_store(clean)
    yield views
    views.datastore.close()
    if settings.uses_postgres:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
            drop = sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE")
            conn.execute(drop.format(sql.Identifier(clean.database_schema)))


# --- what "identical" and "exactly once" mean -------------------------------------------


def normalised(view: DealsView) -> dict[str, Any]:
    """A view's chart state, independent of the order deals were loaded in."""
    columns = msgspec.structs.astuple(view.deals)
    return {
        "position": view.position,
        "recorded_at": view.progress.recorded_at,
        "reporting_currency": view.reporting_currency,
        "deals": sorted(zip(*columns, strict=True), key=lambda deal: deal[0]),
        "stages": view.stages,
        "rates": view.rates,
        "targets": view.targets,
        "baselines": view.baselines,
    }


def assert_stage_visits_dense(views: Views) -> None:
    visits: dict[str, list[int]] = defaultdict(list)
    for row in views.rows(VISITS):
        visits[str(row[0])].append(row[1])
    counts = {str(row[0]): row[17] for row in views.rows(OPPORTUNITIES)}
    assert set(visits) == set(counts)
    for deal, seqs in visits.items():
        assert seqs == list(range(len(seqs))) == list(range(counts[deal])), deal


def assert_checkpoints_match_replay(views: Views, services: Services) -> int:
    checkpoints = views.rows(CHECKPOINTS)
    fresh = DealsView(full=False)
    for position, *_ in checkpoints:
        replay(fresh, services.event_log, position, topics=TOPICS)
        found = stored.checkpoint_at_or_before(views, position)
        assert found is not None
        decoded = decode_checkpoint(*found)
        assert normalised(decoded) == normalised(fresh), f"checkpoint at {position}"
    return len(checkpoints)


# --- the test ------------------------------------------------------------------------------------


def test_a_projector_killed_at_random_moments_ends_with_the_rows_of_a_clean_rebuild(
    services: Services, clock: ManualClock, clean_views: Views, tmp_path: Path
) -> None:
    rng = random.Random()
    seed = rng.randrange(2**32)
    rng.seed(seed)
    views = services.views
    history = History(services.bus, clock, rng)
    log_path = tmp_path / "worker.log"
    kills: list[Kill] = []

    def kill(worker: Crmledger, kind: str, before: int) -> None:
        worker.assert_running()
        log_at_kill = services.store.max_position()
        worker.kill()
        kills.append(Kill(kind, before, tracked(views), log_at_kill))

    # Given a history of a few thousand events
    history.write(SEED_COMMANDS)
    assert services.store.max_position() > 2000

    # When a worker is killed while it starts (opening stores, loading the tables)
    for _ in range(STARTUP_KILLS):
        before = tracked(views)
        worker = projector_worker(services.settings, log_path)
        time.sleep(rng.uniform(0.02, 0.4))
        kill(worker, "startup", before)

    # and right after a flush, with more batches to apply
    for _ in range(MID_BATCH_KILLS):
        behind = services.store.max_position() - tracked(views)
        if behind < BACKLOG_EVENTS:
            history.write((BACKLOG_EVENTS - behind) * 4 // 5)
        before = tracked(views)
        worker = projector_worker(services.settings, log_path)
        wait_for_a_flush(worker, views, before)
        time.sleep(rng.uniform(0.0, 0.02))
        kill(worker, "mid-batch", before)

    # and while this process appends commands concurrently
    for _ in range(CONCURRENT_KILLS):
        with Background(lambda: history.write(10), "history writer"):
            before = tracked(views)
            worker = projector_worker(services.settings, log_path)
            wait_for_a_flush(worker, views, before)
            time.sleep(rng.uniform(0.05, 0.5))
            kill(worker, "concurrent", before)

    # and a last worker is let finish, then stopped cleanly
    worker = projector_worker(services.settings, log_path)
    last = services.store.max_position()
    wait_until(lambda: tracked(views) >= last, f"the worker reached {last}", process=worker)
    assert worker.terminate() == 0, worker.output()

    # Then the kills really landed mid-run, not only on idle workers
    context = f"seed {seed}, kills {kills}"
    assert sum(k.mid_run for k in kills) >= 3, context

    # and the tracking position is the log's last position
    assert tracked(views) == services.store.max_position(), context

    # and every event the read model reads was applied exactly once: each stage visit
    # numbered once (the rows below also equal a clean rebuild's)
    assert_stage_visits_dense(views)

    # and every checkpoint is what a fresh replay gives at its position
    assert assert_checkpoints_match_replay(views, services) >= 10, context

    # and the rows equal those of a clean rebuild of the same log into fresh tables
    rebuilt = Projector(
        services.event_log, clean_views, SLICES, checkpoint_interval=CHECKPOINT_INTERVAL
    )
    rebuilt.rebuild()
    assert tracked(clean_views) == tracked(views)
    for name in DEALS_TABLES:
        assert views.rows(name) == clean_views.rows(name), f"{name}: {context}"
    assert len(views.rows(OPPORTUNITIES)) > 300
    assert not views.rows(DEAD_LETTERS)
