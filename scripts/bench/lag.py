"""Incremental lag: real commands at a fixed rate while a projector follows the log."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

from adapters.bootstrap import Services
from adapters.supervision import Supervisor
from commands import opportunities as opp_cmd
from commands import quotes as quote_cmd
from commands import reference_data as ref_cmd
from domain.errors import DomainError
from domain.money import Money

from .history import GenerationMeta
from .measure import _stats
from .world import BUNDLE, OWNERS


class LoadDriver:
    """Real commands through the bus: a few deals in flight, each a realistic script."""

    def __init__(self, meta: GenerationMeta, seed: int, in_flight: int = 8) -> None:
        self.meta = meta
        self.rng = random.Random(seed + 2)
        self.scripts = [self._deal(n) for n in range(in_flight)]
        self.started = in_flight
        self.turn = 0
        self.commands = 0

    def _id(self) -> UUID:
        return UUID(int=self.rng.getrandbits(128), version=4)

    def _deal(self, n: int) -> Iterator[object]:
        rng = self.rng
        oid, quote_id = self._id(), self._id()
        currency = "USD" if rng.random() < 0.3 else "EUR"
        today = datetime.now(UTC).date()
        yield opp_cmd.CreateOpportunity(
            opportunity_id=oid,
            title=f"Live deal {n}",
            owner=rng.choice(OWNERS),
            expected_close=today + timedelta(days=rng.randint(30, 120)),
            account_name=rng.choice(self.meta.account_names),
            amount=Money.zero(currency),
        )
        yield opp_cmd.LogSalesActivity(
            opportunity_id=oid, activity_id=self._id(), kind="call", subject="Discovery call"
        )
        yield quote_cmd.CreateQuote(
            quote_id=quote_id,
            opportunity_id=oid,
            name=f"LIVE-{n}",
            currency=currency,
            price_book_id=self.meta.price_book_id,
        )
        items = []
        codes = [c for c in self.meta.products if c != BUNDLE[0]]
        for code in rng.sample(codes, 3):
            item_id = self._id()
            items.append(item_id)
            yield quote_cmd.AddQuoteItem(
                quote_id=quote_id,
                item_id=item_id,
                product_id=self.meta.products[code][0],
                quantity=Decimal(rng.randint(1, 20)),
            )
        yield quote_cmd.ActivateQuote(quote_id=quote_id)
        yield opp_cmd.MoveOpportunityToStage(opportunity_id=oid, stage="qualification")
        yield quote_cmd.ChangeQuoteItem(
            quote_id=quote_id, item_id=items[0], quantity=Decimal(rng.randint(21, 40))
        )
        yield opp_cmd.MoveOpportunityToStage(opportunity_id=oid, stage="proposal")
        yield opp_cmd.EditOpportunity(
            opportunity_id=oid, expected_close=today + timedelta(days=rng.randint(121, 200))
        )
        yield opp_cmd.MoveOpportunityToStage(opportunity_id=oid, stage="negotiation")
        if rng.random() < 0.6:
            yield opp_cmd.SellOpportunity(opportunity_id=oid)
        else:
            yield opp_cmd.LoseOpportunity(opportunity_id=oid, reason="price")

    def next_command(self) -> object:
        self.commands += 1
        if self.commands % 150 == 0:
            rate = Decimal("0.92") + Decimal(self.rng.randint(-300, 300)) / 10000
            return ref_cmd.SetExchangeRate(currency="USD", rate=rate)
        slot = self.turn % len(self.scripts)
        self.turn += 1
        try:
            return next(self.scripts[slot])
        except StopIteration:
            self.scripts[slot] = self._deal(self.started)
            self.started += 1
            return next(self.scripts[slot])


def measure_lag(  # noqa: PLR0915 - one measurement, read top to bottom
    services: Services,
    meta: GenerationMeta,
    *,
    rate: float,
    seconds: float,
    mode: str,
    seed: int,
) -> dict[str, Any]:
    """Commands at ``rate``/s for ``seconds`` while a projector follows; lag per command."""
    settings = services.settings
    queries = services.queries
    driver = LoadDriver(meta, seed)
    worker: subprocess.Popen[bytes] | None = None
    supervisor: Supervisor[Any] | None = None
    if mode == "thread":
        supervisor = services.start_projector()
    else:
        env = {
            **os.environ,
            "CRMLEDGER_LOG_LEVEL": "warning",
            "CRMLEDGER_PROJECTOR_POLL_SECONDS": str(settings.projector_poll_seconds),
            "CRMLEDGER_HOME": str(settings.home),
            "CRMLEDGER_DATABASE_SCHEMA": settings.database_schema,
        }
        if settings.database_url:
            env["CRMLEDGER_DATABASE_URL"] = settings.database_url
        worker = subprocess.Popen(
            [str(Path(sys.executable).parent / "crmledger"), "worker"], env=env
        )
    try:
        # Readiness: the projector has loaded the tables and follows (first command seen).
        started = time.perf_counter()
        probe = services.bus.execute(driver.next_command())
        queries.wait_for(probe.position, timeout=300)
        ready_seconds = time.perf_counter() - started

        polls: list[tuple[float, int]] = []
        saves: list[tuple[float, int, int]] = []  # (time saved, position, events)
        stop = threading.Event()
        errors: list[str] = []

        def poll() -> None:
            while not stop.is_set():
                tracked = queries.tracked()
                polls.append((time.perf_counter(), tracked))
                time.sleep(0.002)

        def load() -> None:
            begin = time.perf_counter()
            i = 0
            last = probe.position
            while True:
                due = begin + i / rate
                now = time.perf_counter()
                if due - begin >= seconds:
                    break
                if due > now:
                    time.sleep(due - now)
                command = driver.next_command()
                try:
                    outcome = services.bus.execute(command)
                except DomainError as error:
                    errors.append(f"{type(command).__name__}: {error}")
                    i += 1
                    continue
                saves.append((time.perf_counter(), outcome.position, outcome.position - last))
                last = max(last, outcome.position)
                i += 1

        poller = threading.Thread(target=poll, name="bench-poller", daemon=True)
        loader = threading.Thread(target=load, name="bench-load", daemon=True)
        poller.start()
        load_started = time.perf_counter()
        loader.start()
        loader.join()
        load_seconds = time.perf_counter() - load_started
        final = max((p for _, p, _ in saves), default=probe.position)
        queries.wait_for(final, timeout=120)
        time.sleep(0.05)
        stop.set()
        poller.join()
    finally:
        if supervisor is not None:
            supervisor.stop(timeout=30)
            services.supervisor = None
        if worker is not None:
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()

    lags: list[float] = []
    j = 0
    for saved_at, position, _ in saves:
        while j < len(polls) and polls[j][0] < saved_at:
            j += 1
        k = j
        while k < len(polls) and polls[k][1] < position:
            k += 1
        if k < len(polls):
            lags.append((polls[k][0] - saved_at) * 1000)
    behind: list[int] = []
    s = 0
    newest = probe.position
    for at, tracked in polls:
        while s < len(saves) and saves[s][0] <= at:
            newest = max(newest, saves[s][1])
            s += 1
        if s == 0:
            continue
        behind.append(max(0, newest - tracked))
        if s >= len(saves) and tracked >= newest:
            break
    events = sum(e for _, _, e in saves)
    return {
        "mode": mode,
        "poll_interval": settings.projector_poll_seconds,
        "ready_seconds": ready_seconds,
        "commands": len(saves),
        "errors": errors[:5],
        "error_count": len(errors),
        "events": events,
        "seconds": load_seconds,
        "command_rate": len(saves) / load_seconds,
        "event_rate": events / load_seconds,
        "lag_ms": _stats(lags) if lags else {},
        "lag_n": len(lags),
        "behind": _stats([float(b) for b in behind]) if behind else {},
        "polls": len(polls),
    }
