"""Read-model benchmark: rebuild rate, as-of latency and incremental lag at 1,000,000 events.

    .venv/bin/python scripts/bench_readmodels.py                      # 1M events, both stores
    .venv/bin/python scripts/bench_readmodels.py --quick --stores sqlite   # 50k smoke run

What it does, per store (SQLite: the embedded default under ``--work-dir``;
PostgreSQL: a fresh schema in ``--postgres-url``, dropped afterwards):

1. **History.** A realistic, seeded sales history is simulated with the
   domain's own behaviour functions (``domain.opportunity``, ``domain.quote``,
   ``domain.selling``, ``domain.exchange_rates``, ``domain.pipeline``,
   ``domain.targets``…) and ``domain.aggregate.fold``; events are stamped as
   ``UnitOfWork.stamped_events`` stamps them and appended with
   ``SalesEventStore.save`` in large batches. Tens of thousands of
   opportunities move through stages with quotes, items, activations, amount
   changes, edits, activities, offers, sales, losses and reopenings, among
   daily USD rate changes, stage-setting changes and quarterly sales targets.
   The simulated clock runs from 2023-04-03, so every generated event is older
   than the commands of the lag phase (which use the system clock). The SQLite
   store is cached under ``--work-dir`` and copied for each run; PostgreSQL is
   generated again (same seed, same log) into its fresh schema.
2. **Raw log read** — ``select_notifications`` in batches of 500 over the whole
   log, no decoding (the ceiling; measured twice, the faster counts); then read
   + decode every event; then read + decode + apply in memory (no writes), to
   show where a rebuild's time goes.
3. **Rebuild** — ``SalesProjector.rebuild`` with ``flush_every=REBUILD_FLUSH_EVERY`` as
   ``crmledger rebuild`` runs it; events/s and the ratio to the raw rate.
4. **As-of** — pipeline and forecast charts through ``Analytics.answer`` (as
   the HTTP layer calls it) at random log positions and random instants;
   median and p99 in ms.
5. **Incremental lag** — a thread executes real commands through the
   ``CommandBus`` at a fixed rate while a projector follows the log (a thread
   in the process on SQLite, as ``serve`` runs it; a ``crmledger worker``
   process on PostgreSQL); a poller reads the tracking position every few ms.
   Lag = time from a command's save returning to the read model's tracking
   position reaching it; also positions behind.

Results go to stdout, ``<work-dir>/results-*.json`` and a generated section of
``BENCHMARKS.md`` (everything between the bench markers is replaced).
"""

from __future__ import annotations

import argparse
import bisect
import contextlib
import cProfile
import heapq
import itertools
import json
import math
import os
import platform
import pstats
import random
import shlex
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from io import StringIO
from pathlib import Path
from typing import Any, cast
from uuid import UUID, uuid4

import msgspec
import psycopg
import structlog
from psycopg.sql import SQL, Identifier
from tqdm import tqdm

from adapters.bootstrap import Services, bootstrap
from adapters.clock import SystemClock
from adapters.event_store.log import EventLog
from adapters.event_store.store import SalesEventStore
from adapters.logging import configure
from adapters.settings import Settings
from commands import opportunities as opp_cmd
from commands import quotes as quote_cmd
from commands import reference_data as ref_cmd
from commands.ports import Document
from domain import account as account_rules
from domain import bundle as bundle_rules
from domain import exchange_rates as rate_rules
from domain import offer as offer_rules
from domain import opportunity as opp_rules
from domain import pipeline as pipeline_rules
from domain import price_book as book_rules
from domain import product as product_rules
from domain import quote as quote_rules
from domain import sellable, selling, targets
from domain.aggregate import AggregateState, fold
from domain.errors import DomainError
from domain.events import DomainEvent
from domain.exchange_rates import ExchangeRates
from domain.ids import (
    EXCHANGE_RATES_ID,
    account_id_for,
    bundle_id_for,
    pipeline_id_for,
    product_id_for,
)
from domain.money import Money
from domain.opportunity import ActivityKind, Opportunity, SalesActivity
from domain.periods import period_of
from domain.pipeline import DEFAULT_STAGES, ForecastCategory, Pipeline
from domain.price_book import PriceBook
from domain.product import ItemKind, Product, ProductCategory
from domain.quote import Quote, QuoteItem, SellableProduct
from projections.changes import ChangeSet
from projections.runner import REBUILD_FLUSH_EVERY, SalesProjector, Supervisor
from projections.sales_projection import topics
from readmodels.analytics import Analytics
from readmodels.rows import SalesView
from readmodels.specs import spec_from_params
from readmodels.storage import CHECKPOINTS

GENERATOR_VERSION = 2
REPO = Path(__file__).resolve().parent.parent
HISTORY_START = datetime(2023, 4, 3, 8, 0, tzinfo=UTC)
HISTORY_YEARS = 2.5
# Calibrated on this generator: events per opportunity (those still open at the end of the
# history included); arrivals adapt, so an error here only shifts the span a little.
EVENTS_PER_DEAL = 27.0
DAY = 86_400.0
HOUR = 3_600.0
MINUTE = 60.0
READ_BATCH = 500
MARK_BEGIN = "<!-- bench_readmodels:begin (generated by scripts/bench_readmodels.py) -->"
MARK_END = "<!-- bench_readmodels:end -->"

OWNERS = (
    "alice", "bob", "carol", "dave", "erin", "frank",
    "grace", "heidi", "ivan", "judy", "mallory", "oscar",
)  # fmt: skip
OWNER_WEIGHTS = (9, 8, 8, 7, 7, 6, 6, 5, 5, 4, 3, 2)
# code, name, category, kind, term, unit, EUR price
PRODUCTS: tuple[tuple[str, str, ProductCategory, ItemKind, int | None, str, str], ...] = (
    ("CRM-LIC", "CRM licence", "software", "time_based", 12, "user", "25.00"),
    ("CRM-PRO", "CRM Professional licence", "software", "time_based", 12, "user", "42.00"),
    ("CRM-ENT", "CRM Enterprise licence", "software", "time_based", 36, "user", "61.00"),
    ("ANALYTICS", "Sales analytics add-on", "software", "time_based", 12, "user", "9.50"),
    ("API-PACK", "API call pack", "software", "one_off", None, "pack", "1900.00"),
    ("SUP-STD", "Standard support", "support", "time_based", 12, "contract", "4800.00"),
    ("SUP-PREM", "Premium support", "support", "time_based", 24, "contract", "12500.00"),
    ("IMPL-DAY", "Implementation day", "implementation", "one_off", None, "day", "1150.00"),
    ("TRAINING", "Training workshop", "implementation", "one_off", None, "session", "2400.00"),
    ("MIGRATION", "Data migration", "implementation", "one_off", None, "project", "8700.00"),
)
BUNDLE = ("STARTER", "Starter pack", (("CRM-LIC", 60), ("SUP-STD", 25), ("IMPL-DAY", 15)))
BUNDLE_PRICE = Decimal("18900.00")
USD_PER_EUR = Decimal("1.087")
_NAME_A = (
    "Acme", "Borealis", "Cobalt", "Delta", "Evergreen", "Fjord", "Granite", "Helios", "Ionic",
    "Juniper", "Kestrel", "Lumen", "Meridian", "Nordic", "Orion", "Polar", "Quartz", "Riverside",
    "Summit", "Tundra", "Umbra", "Vertex", "Willow", "Xenon", "Yarrow", "Zephyr", "Atlas", "Beacon",
    "Cascade", "Dynamo", "Ember", "Falcon", "Glacier", "Harbor", "Indigo", "Jasper", "Keystone",
    "Lighthouse", "Monarch", "Nimbus",
)  # fmt: skip
_NAME_B = (
    "Logistics", "Energy", "Insurance", "Freight", "Foods", "Maritime", "Bank", "Solar", "Pharma",
    "Retail", "Aviation", "Telecom", "Health", "Timber", "Media", "Analytics", "Robotics",
    "Textiles", "Chemicals", "Mining", "Software", "Hotels", "Motors", "Water", "Consulting",
)  # fmt: skip
_NAME_C = ("GmbH", "AG", "SA", "plc", "Ltd", "Inc", "BV", "AB", "Oy", "SpA", "SRL", "A/S")
DEAL_KINDS = (
    "CRM rollout", "expansion", "renewal", "analytics", "support upgrade",
    "migration", "pilot", "enterprise licence",
)  # fmt: skip
LOSS_REASONS = ("price", "competitor", "no budget", "no decision", "timing")
CONTACT_ROLES = ("decision_maker", "champion", "economic_buyer", "technical_evaluator", "user")


def _days(rng: random.Random, low: float, high: float) -> float:
    return rng.uniform(low, high) * DAY


def _quantile(values: Sequence[float], q: float) -> float:
    """The q-quantile by nearest rank (p99 of 400 values is the 396th smallest)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q * len(ordered)))
    return ordered[rank - 1]


# --- the history -------------------------------------------------------------------


class GenerationMeta(msgspec.Struct, kw_only=True):
    """What the later phases need to know about a generated history."""

    generator_version: int
    seed: int
    target_events: int
    events: int
    last_position: int
    opportunities: int
    quotes: int
    accounts: int
    documents: int
    refused: int
    first_recorded_at: datetime
    last_recorded_at: datetime
    seconds: float
    price_book_id: UUID
    products: dict[str, tuple[UUID, str]]
    bundle_id: UUID
    account_names: list[str]
    event_types: dict[str, int]


class History:
    """Simulates a sales team over ~2.5 years with the domain's behaviour functions.

    Every opportunity, and each background process (exchange rates, stage
    settings, targets, price books), is a generator yielding the simulated
    seconds until its next step; a heap runs them in time order, so the log
    interleaves them as a real team's would. Decisions are stamped like
    ``UnitOfWork.stamped_events`` and folded into the states kept here.
    """

    def __init__(
        self,
        store: SalesEventStore,
        *,
        seed: int,
        target_events: int,
        batch_size: int = 5000,
        progress: bool = True,
    ) -> None:
        self.store = store
        self.rng = random.Random(seed)
        self.seed = seed
        self.target = target_events
        self.batch_size = batch_size
        self.progress = progress
        self.states: dict[UUID, AggregateState] = {}
        self.pending: list[DomainEvent] = []
        self.documents: list[Document] = []
        self.document_count = 0
        self.emitted = 0
        self.saved = 0
        self.last_position = 0
        self.refused = 0
        self.deals = 0
        self.quotes = 0
        self.types: Counter[str] = Counter()
        self.t = 0.0
        self.now = HISTORY_START
        self.first_recorded_at: datetime | None = None
        self.pipeline_id = pipeline_id_for("sales")
        self.book_id = self.uuid()
        self.products: dict[str, tuple[UUID, str]] = {}
        self.sellables: list[SellableProduct] = []
        self.units: dict[UUID, str] = {}
        self.spawn: Callable[[Iterator[float], float], None] = lambda process, at: None
        self.bundle_id = bundle_id_for(BUNDLE[0])
        self.partners: list[UUID] = []
        names = [f"{a} {b} {c}" for a in _NAME_A for b in _NAME_B for c in _NAME_C]
        self.rng.shuffle(names)
        self.account_names = names[: max(200, min(len(names), target_events // 250))]
        self.bar: tqdm[Any] | None = None

    # --- plumbing ---------------------------------------------------------------

    def uuid(self) -> UUID:
        return UUID(int=self.rng.getrandbits(128), version=4)

    def state(self, aggregate_id: UUID) -> Any:
        return self.states[aggregate_id]

    def decide(
        self,
        changes: Mapping[UUID, Sequence[DomainEvent]],
        *,
        effective_at: datetime | None = None,
    ) -> None:
        """Stamp the decision's events as a unit of work does, fold them, queue them."""
        for aggregate_id, events in changes.items():
            if not events:
                continue
            state = self.states.get(aggregate_id)
            version = 0 if state is None else state.version
            stamped: list[DomainEvent] = []
            for event in events:
                version += 1
                stamped.append(
                    msgspec.structs.replace(
                        event,
                        originator_id=aggregate_id,
                        originator_version=version,
                        recorded_at=self.now,
                        effective_at=event.effective_at or effective_at,
                    )
                )
                self.types[type(event).type_name] += 1
            self.states[aggregate_id] = fold(state, stamped)
            self.pending.extend(stamped)
            self.emitted += len(stamped)
        if len(self.pending) >= self.batch_size:
            self.flush()

    def attempt(self, decide: Callable[[], None]) -> bool:
        """Run one decision; a refusal (the simulation asked for something the rules forbid)
        is counted, never saved."""
        try:
            decide()
        except DomainError:
            self.refused += 1
            return False
        return True

    def flush(self) -> None:
        if not self.pending:
            return
        if self.first_recorded_at is None:
            self.first_recorded_at = self.pending[0].recorded_at
        self.last_position = self.store.save(self.pending, documents=self.documents)
        self.saved += len(self.pending)
        if self.bar is not None:
            self.bar.update(len(self.pending))
        self.pending = []
        self.documents = []

    def run(self) -> None:
        heap: list[tuple[float, int, Iterator[float]]] = []
        order = itertools.count()

        def spawn(process: Iterator[float], at: float) -> None:
            heapq.heappush(heap, (at, next(order), process))

        self.spawn = spawn
        self.reference_data()
        spawn(self.usd_rates(), DAY)
        spawn(self.stage_settings(), _days(self.rng, 10, 30))
        spawn(self.sales_targets(), 0.0)
        spawn(self.price_books(), 365 * DAY)
        spawn(self.arrivals(), HOUR)
        with tqdm(
            total=self.target,
            unit=" events",
            unit_scale=True,
            desc="generating history",
            file=sys.stderr,
            disable=not self.progress,
        ) as bar:
            self.bar = bar
            while heap and self.emitted < self.target:
                at, _, process = heapq.heappop(heap)
                self.t = at
                self.now = HISTORY_START + timedelta(seconds=at)
                try:
                    delay = next(process)
                except StopIteration:
                    continue
                spawn(process, at + delay)
            self.flush()
            self.bar = None
        if self.now >= datetime.now(UTC) - timedelta(days=1):
            raise RuntimeError(
                f"the simulated history reached {self.now:%Y-%m-%d}, not before today: lag-phase "
                "commands would be recorded earlier than generated events; lower EVENTS_PER_DEAL "
                "or HISTORY_YEARS"
            )

    def meta(self, seconds: float) -> GenerationMeta:
        assert self.first_recorded_at is not None
        return GenerationMeta(
            generator_version=GENERATOR_VERSION,
            seed=self.seed,
            target_events=self.target,
            events=self.saved,
            last_position=self.last_position,
            opportunities=self.deals,
            quotes=self.quotes,
            accounts=sum(1 for s in self.states.values() if type(s).__name__ == "Account"),
            documents=self.document_count,
            refused=self.refused,
            first_recorded_at=self.first_recorded_at,
            last_recorded_at=self.now,
            seconds=seconds,
            price_book_id=self.book_id,
            products=self.products,
            bundle_id=self.bundle_id,
            account_names=self.account_names[:300],
            event_types=dict(self.types.most_common()),
        )

    # --- reference data and background processes ---------------------------------

    def reference_data(self) -> None:
        self.decide({self.pipeline_id: pipeline_rules.create("sales", DEFAULT_STAGES)})
        self.decide({EXCHANGE_RATES_ID: rate_rules.start("EUR")})
        self.decide(
            {
                EXCHANGE_RATES_ID: rate_rules.set_rate(
                    self.state(EXCHANGE_RATES_ID),
                    "USD",
                    Decimal("0.9200"),
                    HISTORY_START - timedelta(days=30),
                )
            }
        )
        self.decide(
            {
                self.book_id: book_rules.create(
                    "Standard 2023", brand="crmledger", product_version="2023.1"
                )
            }
        )
        for code, name, category, kind, term, unit, eur in PRODUCTS:
            product_id = product_id_for(code)
            self.decide({product_id: product_rules.create(name, code, category, kind, term)})
            self._price(self.book_id, product_id, unit, Decimal(eur))
            self.products[code] = (product_id, unit)
        code, name, parts = BUNDLE
        components = [(self.state(product_id_for(c)), Decimal(w)) for c, w in parts]
        self.decide(
            {self.bundle_id: bundle_rules.create(name, code, self.state(self.book_id), components)}
        )
        self._price(self.book_id, self.bundle_id, "pack", BUNDLE_PRICE)
        self.products[code] = (self.bundle_id, "pack")
        for n in range(25):
            name = f"Partner {_NAME_A[n % len(_NAME_A)]} Solutions {n + 1}"
            partner_id = account_id_for(name)
            self.decide({partner_id: account_rules.create(name, partner=True)})
            self.partners.append(partner_id)
        self._refresh_sellables()

    def _price(self, book_id: UUID, product_id: UUID, unit: str, eur: Decimal) -> None:
        book = self.state(book_id)
        usd = (eur * USD_PER_EUR).quantize(Decimal("0.01"))
        self.decide({book_id: book_rules.set_price(book, product_id, unit, "EUR", eur)})
        self.decide(
            {book_id: book_rules.set_price(self.state(book_id), product_id, unit, "USD", usd)}
        )

    def _refresh_sellables(self) -> None:
        result = []
        for code, (product_id, _unit) in self.products.items():
            found = self.state(product_id)
            if code == BUNDLE[0]:
                products = {c.product_id: self.state(c.product_id) for c in found.components}
                result.append(sellable.of_bundle(found, products))
            else:
                result.append(sellable.of_product(cast(Product, found)))
        self.sellables = result
        self.units = {product_id: unit for product_id, unit in self.products.values()}

    def usd_rates(self) -> Iterator[float]:
        rate = Decimal("0.9200")
        rng = self.rng
        while True:
            if self.now.weekday() < 5:
                drift = Decimal(str(round(math.exp(rng.gauss(0.0, 0.004)), 6)))
                rate = (rate * drift).quantize(Decimal("0.0001"))
                effective = self.now
                if rng.random() < 0.03:  # a correction, backdated by a couple of days
                    effective = self.now - timedelta(days=rng.randint(1, 3))
                rates: ExchangeRates = self.state(EXCHANGE_RATES_ID)
                self.decide({EXCHANGE_RATES_ID: rate_rules.set_rate(rates, "USD", rate, effective)})
            yield DAY

    def stage_settings(self) -> Iterator[float]:
        rng = self.rng
        while True:
            pipeline: Pipeline = self.state(self.pipeline_id)
            if rng.random() < 0.8:
                stage = rng.choice([s for s in pipeline.stages if s.is_open])
                probability = min(95, max(5, stage.probability + rng.choice((-10, -5, 5, 10))))
                changes = pipeline_rules.change_stage_probability(pipeline, stage.key, probability)
                self.decide({self.pipeline_id: changes})
            else:
                stage = pipeline.stage("proposal")
                category: ForecastCategory = (
                    "pipeline" if stage.forecast_category == "best_case" else "best_case"
                )
                self.decide(
                    {
                        self.pipeline_id: pipeline_rules.change_stage_forecast_category(
                            pipeline, "proposal", category
                        )
                    }
                )
            yield _days(rng, 15, 45)

    def sales_targets(self) -> Iterator[float]:
        rng = self.rng
        while True:
            day = self.now.date()
            label = period_of(day, "quarter")
            for owner in OWNERS:
                target_id = targets.targets_id_for(owner)
                amount = Money.of(rng.randrange(40, 160) * 5000, "EUR")
                current = cast(targets.SalesTargets | None, self.states.get(target_id))
                self.decide({target_id: targets.set_target(current, owner, label, amount, "EUR")})
            month = ((day.month - 1) // 3 + 1) * 3 + 1
            year = day.year + (month > 12)
            month = month - 12 if month > 12 else month
            next_start = datetime(year, month, 1, 7, 0, tzinfo=UTC) - timedelta(days=3)
            yield max(DAY, (next_start - self.now).total_seconds())

    def price_books(self) -> Iterator[float]:
        """Once a year a new price book, an update of the last, with prices up 4 %."""
        year = 2024
        while True:
            previous: PriceBook = self.state(self.book_id)
            book_id = self.uuid()
            self.decide(
                {
                    book_id: book_rules.create(
                        f"Standard {year}",
                        brand="crmledger",
                        product_version=f"{year}.1",
                        update_of=previous,
                    )
                }
            )
            for code, name, _c, _k, _t, unit, eur in PRODUCTS:
                del name
                self._price(
                    book_id,
                    product_id_for(code),
                    unit,
                    (Decimal(eur) * Decimal("1.04") ** (year - 2023)).quantize(Decimal("0.01")),
                )
            self._price(book_id, self.bundle_id, "pack", BUNDLE_PRICE)
            self.book_id = book_id
            year += 1
            yield 365 * DAY

    def arrivals(self) -> Iterator[float]:
        """New opportunities at a rate that spreads the target over the planned span."""
        end = HISTORY_YEARS * 365 * DAY
        while True:
            self.spawn(self.deal(self.deals + 1), self.t)
            self.deals += 1
            remaining_deals = max(1.0, (self.target - self.emitted) / EVENTS_PER_DEAL)
            interval = max(MINUTE, (end - self.t) / remaining_deals)
            yield self.rng.expovariate(1.0 / interval)

    # --- one opportunity's life -----------------------------------------------------

    def deal(self, n: int) -> Iterator[float]:  # noqa: PLR0915 - a story, told in order
        rng = self.rng
        oid = self.uuid()
        currency = "USD" if rng.random() < 0.3 else "EUR"
        owner = rng.choices(OWNERS, OWNER_WEIGHTS)[0]
        index = int(len(self.account_names) * rng.random() ** 2)
        account_name = self.account_names[index]
        account_id = account_id_for(account_name)
        changes: dict[UUID, list[DomainEvent]] = {}
        if account_id not in self.states:
            changes[account_id] = account_rules.create(account_name)
        estimate = (
            Money.of(rng.randrange(4, 400) * 500, currency)
            if rng.random() < 0.6
            else Money.zero(currency)
        )
        changes[oid] = opp_rules.create(
            title=f"{account_name.split()[0]} {rng.choice(DEAL_KINDS)} #{n}",
            account_id=account_id,
            owner=owner,
            pipeline=self.state(self.pipeline_id),
            expected_close=(self.now + timedelta(days=rng.randint(30, 180))).date(),
            amount=estimate,
            partner_id=rng.choice(self.partners) if rng.random() < 0.12 else None,
        )
        self.decide(changes)
        yield rng.uniform(1, 72) * HOUR

        self.log_activity(oid)
        for _ in range(rng.choice((0, 1, 1, 2))):
            self.add_role(oid)
        yield _days(rng, 1, 7)
        if rng.random() < 0.015:
            self.delete(oid)
            return
        if estimate.amount and rng.random() < 0.35:
            self.attempt(lambda: self.change_amount(oid))
        if rng.random() < 0.07:
            self.close(oid, "unqualified")
            if rng.random() > 0.1:
                return
            yield _days(rng, 10, 40)
            self.attempt(lambda: self.decide({oid: opp_rules.reopen(self.opp(oid), self.pipeline)}))
        yield _days(rng, 2, 10)

        self.move(oid, "qualification")
        yield _days(rng, 1, 5)
        quote_id = self.create_quote(oid, currency)
        for _ in range(rng.randint(2, 6)):
            yield rng.uniform(2, 90) * MINUTE
            self.add_item(quote_id)
        yield rng.uniform(1, 24) * HOUR
        self.activate(oid, quote_id)
        for _ in range(rng.randint(1, 3)):
            yield _days(rng, 1, 6)
            self.log_activity(oid)
        if rng.random() < 0.2:
            self.attempt(lambda: self.edit_activity(oid))
        if rng.random() < 0.1:
            self.attempt(lambda: self.delete_activity(oid))
        if rng.random() < 0.15:
            self.close(oid, "lost")
            if rng.random() > 0.12:
                return
            yield _days(rng, 10, 60)
            self.attempt(lambda: self.decide({oid: opp_rules.reopen(self.opp(oid), self.pipeline)}))
        yield _days(rng, 3, 15)

        self.move(oid, "proposal")
        if rng.random() < 0.35:
            yield rng.uniform(1, 48) * HOUR
            self.attempt(lambda: self.offer(oid))
        for _ in range(rng.randint(1, 3)):
            yield _days(rng, 1, 8)
            self.attempt(lambda: self.change_item(oid))
        for _ in range(rng.choice((0, 0, 1, 1, 2))):
            yield _days(rng, 1, 10)
            self.attempt(lambda: self.push_close(oid))
        if rng.random() < 0.2:
            self.attempt(lambda: self.override_probability(oid))
        if rng.random() < 0.15:
            self.attempt(lambda: self.override_category(oid))
        if rng.random() < 0.2:
            yield _days(rng, 1, 6)
            self.attempt(lambda: self.second_quote(oid))
        if rng.random() < 0.05:
            self.attempt(lambda: self.reassign(oid))
        if rng.random() < 0.05:
            self.attempt(lambda: self.rename(oid))
        if rng.random() < 0.05:
            self.attempt(lambda: self.assign_partner(oid))
        self.log_activity(oid)
        if rng.random() < 0.25:
            yield _days(rng, 2, 20)
            self.close(oid, "lost")
            return
        yield _days(rng, 4, 20)

        self.move(oid, "negotiation")
        for _ in range(rng.randint(1, 3)):
            yield _days(rng, 1, 7)
            self.log_activity(oid)
        if rng.random() < 0.4:
            self.attempt(lambda: self.change_item(oid))
        yield _days(rng, 3, 25)
        while True:
            if rng.random() < 0.65:
                self.attempt(lambda: self.sell(oid))
                if rng.random() > 0.08:
                    return
                yield _days(rng, 2, 20)
                self.attempt(lambda: self.unlock(oid))
                yield _days(rng, 1, 5)
                self.attempt(lambda: self.change_item(oid))
                yield _days(rng, 1, 10)
            else:
                self.close(oid, "lost")
                if rng.random() > 0.08:
                    return
                yield _days(rng, 15, 60)
                self.attempt(
                    lambda: self.decide({oid: opp_rules.reopen(self.opp(oid), self.pipeline)})
                )
                yield _days(rng, 2, 15)

    # --- decisions (each what one command would decide) -----------------------------

    @property
    def pipeline(self) -> Pipeline:
        return cast(Pipeline, self.states[self.pipeline_id])

    def opp(self, oid: UUID) -> Opportunity:
        return cast(Opportunity, self.states[oid])

    def quotes_of(self, opportunity: Opportunity) -> list[Quote]:
        return [cast(Quote, self.states[q]) for q in opportunity.quote_ids]

    def active_quote(self, opportunity: Opportunity) -> Quote | None:
        if opportunity.active_quote_id is None:
            return None
        return cast(Quote, self.states[opportunity.active_quote_id])

    def log_activity(self, oid: UUID) -> None:
        rng = self.rng
        kind: ActivityKind = rng.choice(("call", "meeting", "email", "email", "task", "note"))
        activity = SalesActivity(
            id=self.uuid(),
            kind=kind,
            subject=f"{kind.title()} about {rng.choice(DEAL_KINDS)}",
            occurred_at=self.now - timedelta(minutes=rng.randint(0, 600)),
            notes="Follow up next week." if rng.random() < 0.3 else None,
        )
        self.attempt(lambda: self.decide({oid: opp_rules.log_activity(self.opp(oid), activity)}))

    def edit_activity(self, oid: UUID) -> None:
        opportunity = self.opp(oid)
        if opportunity.activities:
            activity = self.rng.choice(opportunity.activities)
            self.decide(
                {
                    oid: opp_rules.edit_activity(
                        opportunity, activity.id, notes=f"Updated notes {self.rng.randint(1, 999)}"
                    )
                }
            )

    def delete_activity(self, oid: UUID) -> None:
        opportunity = self.opp(oid)
        if opportunity.activities:
            activity = self.rng.choice(opportunity.activities)
            self.decide({oid: opp_rules.delete_activity(opportunity, activity.id)})

    def add_role(self, oid: UUID) -> None:
        opportunity = self.opp(oid)
        contact = f"contact{self.rng.randint(1, 9999)}@customer.example"
        role = self.rng.choice(CONTACT_ROLES)
        self.attempt(
            lambda: self.decide(
                {oid: opp_rules.add_business_role(opportunity, self.uuid(), contact, role)}
            )
        )

    def change_amount(self, oid: UUID) -> None:
        opportunity = self.opp(oid)
        factor = Decimal(self.rng.choice(("0.8", "0.9", "1.1", "1.25", "1.5")))
        amount = Money.of(opportunity.amount.amount * factor, opportunity.amount.currency)
        self.decide({oid: opp_rules.change_amount(opportunity, amount)})

    def move(self, oid: UUID, stage: str) -> None:
        self.attempt(
            lambda: self.decide({oid: opp_rules.move_to_stage(self.opp(oid), self.pipeline, stage)})
        )

    def close(self, oid: UUID, how: str) -> None:
        def decide() -> None:
            opportunity = self.opp(oid)
            reason = self.rng.choice(LOSS_REASONS)
            effective = None
            if self.rng.random() < 0.2:
                effective = self.now - timedelta(days=self.rng.randint(1, 4))
            if how == "lost":
                events = opp_rules.lose(opportunity, self.pipeline, reason)
            else:
                events = opp_rules.mark_unqualified(opportunity, self.pipeline, "no project")
            self.decide({oid: events}, effective_at=effective)

        self.attempt(decide)

    def delete(self, oid: UUID) -> None:
        def decide() -> None:
            opportunity = self.opp(oid)
            self.decide(selling.delete_opportunity(opportunity, self.quotes_of(opportunity)))

        self.attempt(decide)

    def create_quote(self, oid: UUID, currency: str) -> UUID:
        quote_id = self.uuid()
        opportunity = self.opp(oid)
        self.quotes += 1
        created = quote_rules.create(
            oid,
            f"Q-{self.quotes:06d}",
            currency,
            price_book=cast(PriceBook, self.states[self.book_id]),
            valid_from=self.now.date(),
            valid_until=opportunity.expected_close + timedelta(days=30),
        )
        self.attempt(lambda: self.decide(selling.add_quote(opportunity, quote_id, created)))
        return quote_id

    def new_item(self, quote: Quote) -> QuoteItem:
        rng = self.rng
        if rng.random() < 0.1:
            return QuoteItem(
                id=self.uuid(),
                name=rng.choice(("Custom integration", "Onsite workshop", "Consulting")),
                quantity=Decimal(rng.randint(4, 80)),
                unit="hour",
                unit_price=Decimal(rng.choice(("140.00", "165.00", "190.00"))),
                kind="one_off",
                source="manual",
                category="implementation",
                discount_pct=Decimal(rng.choice((0, 0, 5, 10))),
            )
        product = rng.choice(self.sellables)
        unit = self.units[product.id]
        quantity = (
            Decimal(rng.choice((5, 10, 25, 50, 120, 300)))
            if unit == "user"
            else Decimal(rng.randint(1, 6))
        )
        assert quote.price_book_id is not None
        return quote_rules.price_book_item(
            quote,
            cast(PriceBook, self.states[quote.price_book_id]),
            item_id=self.uuid(),
            sellable=product,
            quantity=quantity,
            unit=None,
            discount_pct=Decimal(rng.choice(("0", "0", "0", "5", "10", "12.5", "15"))),
        )

    def add_item(self, quote_id: UUID) -> None:
        def decide() -> None:
            quote = cast(Quote, self.states[quote_id])
            opportunity = self.opp(quote.opportunity_id)
            events = quote_rules.add_item(quote, self.new_item(quote))
            self.decide(selling.change_quote(opportunity, quote, events))

        self.attempt(decide)

    def activate(self, oid: UUID, quote_id: UUID) -> None:
        def decide() -> None:
            opportunity = self.opp(oid)
            quote = cast(Quote, self.states[quote_id])
            previous = self.active_quote(opportunity)
            self.decide(selling.activate_quote(opportunity, quote, previous))

        self.attempt(decide)

    def change_item(self, oid: UUID) -> None:
        opportunity = self.opp(oid)
        quote = self.active_quote(opportunity)
        if quote is None or not quote.items:
            return
        rng = self.rng
        item = rng.choice(quote.items)
        if rng.random() < 0.5:
            events = quote_rules.change_item(
                quote, item.id, quantity=item.quantity + rng.randint(1, 10)
            )
        else:
            discount = rng.choice(("0", "5", "7.5", "10", "15", "20"))
            if Decimal(discount) == item.discount_pct:
                discount = "2.5"
            events = quote_rules.change_item(quote, item.id, discount_pct=Decimal(discount))
        self.decide(selling.change_quote(opportunity, quote, events))

    def offer(self, oid: UUID) -> None:
        opportunity = self.opp(oid)
        quote = self.active_quote(opportunity)
        if quote is None:
            return
        account = self.states[opportunity.account_id]
        content = offer_rules.render(
            None,
            quote=quote,
            account=getattr(account, "name", "?"),
            opportunity=opportunity.title,
            owner=opportunity.owner,
            today=self.now.date(),
        )
        digest = offer_rules.sha256(content)
        document_id = self.uuid()
        self.decide({quote.id: quote_rules.record_offer(quote, document_id, digest, self.now)})
        self.documents.append(
            Document(
                id=document_id,
                quote_id=quote.id,
                media_type="text/plain; charset=utf-8",
                content=content,
                sha256=digest,
                created_at=self.now,
            )
        )
        self.document_count += 1

    def push_close(self, oid: UUID) -> None:
        opportunity = self.opp(oid)
        shift = self.rng.choice((-14, 15, 30, 30, 45, 60))
        close = max(self.now.date(), opportunity.expected_close) + timedelta(days=shift)
        self.decide({oid: opp_rules.edit(opportunity, expected_close=close)})

    def override_probability(self, oid: UUID) -> None:
        probability = self.rng.choice((20, 40, 60, 80, 90))
        self.decide({oid: opp_rules.set_probability(self.opp(oid), probability)})

    def override_category(self, oid: UUID) -> None:
        category = self.rng.choice(("commit", "best_case", "omitted"))
        self.decide({oid: opp_rules.set_forecast_category(self.opp(oid), category)})  # type: ignore[arg-type]

    def second_quote(self, oid: UUID) -> None:
        """Duplicate the active quote, change the copy, and make it the active one."""
        opportunity = self.opp(oid)
        quote = self.active_quote(opportunity)
        if quote is None:
            return
        copy_id = self.uuid()
        self.quotes += 1
        self.decide(selling.duplicate_quote(opportunity, quote, copy_id, f"{quote.name} v2"))
        copy = cast(Quote, self.states[copy_id])
        if copy.items:
            item = copy.items[0]
            events = quote_rules.change_item(copy, item.id, quantity=item.quantity + 2)
            self.decide(selling.change_quote(self.opp(oid), copy, events))
        opportunity = self.opp(oid)
        self.decide(
            selling.activate_quote(
                opportunity, cast(Quote, self.states[copy_id]), self.active_quote(opportunity)
            )
        )

    def reassign(self, oid: UUID) -> None:
        opportunity = self.opp(oid)
        owner = self.rng.choice([o for o in OWNERS if o != opportunity.owner])
        self.decide({oid: opp_rules.edit(opportunity, owner=owner)})

    def rename(self, oid: UUID) -> None:
        opportunity = self.opp(oid)
        self.decide({oid: opp_rules.edit(opportunity, title=f"{opportunity.title} (phase 2)")})

    def assign_partner(self, oid: UUID) -> None:
        opportunity = self.opp(oid)
        partner = self.rng.choice([p for p in self.partners if p != opportunity.partner_id])
        self.decide({oid: opp_rules.assign_partner(opportunity, partner)})

    def sell(self, oid: UUID) -> None:
        opportunity = self.opp(oid)
        sold_at = self.now
        effective = None
        if self.rng.random() < 0.2:  # "sold on the 31st, recorded on the 2nd"
            sold_at = effective = self.now - timedelta(days=self.rng.randint(1, 4))
        changes = selling.sell(
            opportunity, self.pipeline, self.quotes_of(opportunity), sold_at=sold_at, now=self.now
        )
        self.decide(changes, effective_at=effective)

    def unlock(self, oid: UUID) -> None:
        opportunity = self.opp(oid)
        self.decide(selling.unlock(opportunity, self.pipeline, self.quotes_of(opportunity)))


# --- stores ------------------------------------------------------------------------


@dataclass
class StoreRun:
    name: str
    settings: Settings
    cleanup: Callable[[], None]
    meta: GenerationMeta
    generated_now: bool
    generation_seconds: float
    notes: list[str] = field(default_factory=list)


def _generate(settings: Settings, seed: int, events: int, progress: bool) -> GenerationMeta:
    store = SalesEventStore.open(settings)
    try:
        if store.max_position() != 0:
            raise RuntimeError("the store to generate into is not empty")
        history = History(store, seed=seed, target_events=events, progress=progress)
        started = time.perf_counter()
        history.run()
        seconds = time.perf_counter() - started
        return history.meta(seconds)
    finally:
        store.close()


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    return {} if args.lag_poll is None else {"projector_poll_seconds": args.lag_poll}


def prepare_sqlite(args: argparse.Namespace) -> StoreRun:
    key = f"gen-v{GENERATOR_VERSION}-seed{args.seed}-n{args.events}"
    cache = args.work_dir / "cache" / key
    meta_path = cache / "meta.json"
    generated_now = False
    generation_seconds = 0.0
    if not meta_path.exists() or args.regenerate:
        shutil.rmtree(cache, ignore_errors=True)
        cache.mkdir(parents=True)
        print(f"[sqlite] generating {args.events:,} events into {cache}", file=sys.stderr)
        started = time.perf_counter()
        meta = _generate(Settings(home=cache), args.seed, args.events, not args.no_progress)
        generation_seconds = time.perf_counter() - started
        meta_path.write_bytes(msgspec.json.encode(meta))
        generated_now = True
    else:
        meta = msgspec.json.decode(meta_path.read_bytes(), type=GenerationMeta)
        print(f"[sqlite] using the cached history in {cache}", file=sys.stderr)
    run_home = args.work_dir / "run-sqlite"
    shutil.rmtree(run_home, ignore_errors=True)
    run_home.mkdir(parents=True)
    started = time.perf_counter()
    for path in cache.glob("events.sqlite*"):
        shutil.copyfile(path, run_home / path.name)
    copy_seconds = time.perf_counter() - started
    print(f"[sqlite] copied the store for this run in {copy_seconds:.1f} s", file=sys.stderr)

    def cleanup() -> None:
        if not args.keep:
            shutil.rmtree(run_home, ignore_errors=True)

    return StoreRun(
        "sqlite",
        Settings(home=run_home, log_level="warning", **_overrides(args)),
        cleanup,
        meta,
        generated_now,
        generation_seconds or meta.seconds,
    )


def prepare_postgres(args: argparse.Namespace) -> StoreRun:
    schema = f"bench_{os.getpid()}_{uuid4().hex[:8]}"
    settings = Settings(
        database_url=args.postgres_url,
        database_schema=schema,
        log_level="warning",
        **_overrides(args),
    )

    def cleanup() -> None:
        if args.keep:
            print(f"[postgres] kept schema {schema}", file=sys.stderr)
            return
        with psycopg.connect(args.postgres_url, autocommit=True) as conn:
            conn.execute(SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(Identifier(schema)))
        print(f"[postgres] dropped schema {schema}", file=sys.stderr)

    print(f"[postgres] generating {args.events:,} events into schema {schema}", file=sys.stderr)
    try:
        started = time.perf_counter()
        meta = _generate(settings, args.seed, args.events, not args.no_progress)
        seconds = time.perf_counter() - started
    except BaseException:
        cleanup()
        raise
    return StoreRun("postgres", settings, cleanup, meta, True, seconds, [])


# --- measurements --------------------------------------------------------------------


def measure_raw_read(log: EventLog, *, decode: bool) -> tuple[int, float]:
    """Read the whole notification log in batches of 500 (optionally decoding every event)."""
    recorder = log.app.recorder
    position = 0
    rows = 0
    started = time.perf_counter()
    while True:
        batch = recorder.select_notifications(
            start=position, limit=READ_BATCH, inclusive_of_start=False
        )
        if not batch:
            break
        if decode:
            for notification in batch:
                log.decode(notification)
        rows += len(batch)
        position = batch[-1].id
    return rows, time.perf_counter() - started


class _NoWrites:
    """A view storage that keeps nothing: the projector's work without its writes."""

    def load_view(self) -> SalesView:
        return SalesView()

    def apply(self, changes: ChangeSet) -> None:
        pass

    def max_tracking_id(self, application_name: str) -> int | None:
        return 0

    def checkpointed_deals(self) -> int:
        return 0

    def last_full_checkpoint(self) -> int:
        return 0

    def drop(self) -> None:
        pass


def measure_filtered_read(log: EventLog, window: int) -> tuple[int, float]:
    """Read the log as the projector does: windows of positions, its topics only, no decoding."""
    relevant = list(topics())
    last = log.last_position()
    position = rows = 0
    started = time.perf_counter()
    while position < last:
        until = min(position + window, last)
        rows += len(log.read(position, window, up_to=until, topics=relevant))
        position = until
    return last, time.perf_counter() - started


def measure_plain_rows(log: EventLog, window: int) -> tuple[int, float]:
    """Every row of the log as crmledger's own reader returns them (plain tuples, no topic
    filter, nothing decoded): how much of the library's notification read is its own cost."""
    last = log.last_position()
    position = rows = 0
    started = time.perf_counter()
    while position < last:
        until = min(position + window, last)
        rows += len(log.read(position, window, up_to=until))
        position = until
    return rows, time.perf_counter() - started


def measure_in_memory_projection(log: EventLog, interval: int) -> tuple[int, float]:
    """The projector's read + decode + apply + checkpoint encoding, writing nothing."""
    projector = SalesProjector(
        log, _NoWrites(), checkpoint_interval=interval, flush_every=REBUILD_FLUSH_EVERY
    )
    started = time.perf_counter()
    positions = projector.catch_up()
    return positions, time.perf_counter() - started


def measure_reads(log: EventLog, label: str, interval: int) -> dict[str, Any]:
    """The baselines: raw read (twice, the faster counts), read + decode, the projector's
    filtered read, and its in-memory work."""
    raw = [measure_raw_read(log, decode=False) for _ in range(2)]
    rows, raw_seconds = min(raw, key=lambda r: r[1])
    decoded_rows, decode_seconds = measure_raw_read(log, decode=True)
    window = SalesProjector(log, _NoWrites()).batch_size
    filtered_rows, filtered_seconds = measure_filtered_read(log, window)
    plain_rows, plain_seconds = measure_plain_rows(log, window)
    memory_rows, memory_seconds = measure_in_memory_projection(log, interval)
    print(
        f"{label} raw read {rows / raw_seconds:,.0f} rows/s; read+decode "
        f"{decoded_rows / decode_seconds:,.0f}/s; in-memory projection "
        f"{memory_rows / memory_seconds:,.0f}/s",
        file=sys.stderr,
    )
    return {
        "raw_read": {
            "rows": rows,
            "seconds": raw_seconds,
            "rate": rows / raw_seconds,
            "all_rates": [r / s for r, s in raw],
        },
        "read_decode": {
            "rows": decoded_rows,
            "seconds": decode_seconds,
            "rate": decoded_rows / decode_seconds,
        },
        "filtered_read": {
            "rows": filtered_rows,
            "seconds": filtered_seconds,
            "rate": filtered_rows / filtered_seconds,
        },
        "plain_rows": {
            "rows": plain_rows,
            "seconds": plain_seconds,
            "rate": plain_rows / plain_seconds,
        },
        "in_memory_projection": {
            "rows": memory_rows,
            "seconds": memory_seconds,
            "rate": memory_rows / memory_seconds,
        },
    }


def measure_rebuild(services: Services, progress: bool) -> dict[str, Any]:
    total = services.store.max_position()
    with tqdm(
        total=total,
        unit=" events",
        unit_scale=True,
        desc="rebuilding",
        file=sys.stderr,
        disable=not progress,
    ) as bar:

        def report(position: int, target: int) -> None:
            bar.update(position - bar.n)

        started = time.perf_counter()
        projector, events = services.rebuild(report)  # as `crmledger rebuild` does
        seconds = time.perf_counter() - started
    return {
        "events": events,
        "seconds": seconds,
        "rate": events / seconds,
        "applied": projector.applied,
        "parked": projector.parked,
    }


def checkpoint_positions(settings: Settings) -> list[int]:
    """Positions of the stored read-model checkpoints (read directly, without their states)."""
    statement = f"SELECT position FROM {CHECKPOINTS} ORDER BY position"
    if settings.database_url is None:
        with contextlib.closing(sqlite3.connect(settings.read_model_path)) as conn:
            return [row[0] for row in conn.execute(statement)]
    with psycopg.connect(settings.database_url) as pg:
        pg.execute(SQL("SET search_path TO {}").format(Identifier(settings.database_schema)))
        return [row[0] for row in pg.execute(statement.encode())]


def replay_distances(positions: Sequence[int], checkpoints: Sequence[int]) -> list[int]:
    """How far an as-of query at each position replays: to it from the checkpoint before it."""
    return [
        p - checkpoints[bisect.bisect_right(checkpoints, p) - 1]
        if checkpoints and checkpoints[0] <= p
        else p
        for p in positions
    ]


def as_of_queries(services: Services, meta: GenerationMeta, count: int, seed: int) -> list[Any]:
    """(chart, mode, as_of) triples: ``count`` per chart, half positions, half instants."""
    rng = random.Random(seed + 1)
    tracked = services.queries.tracked()
    first = meta.first_recorded_at.timestamp()
    last = meta.last_recorded_at.timestamp()
    plan = []
    for k in range(count):
        for chart in ("pipeline", "forecast"):
            if k % 2 == 0:
                plan.append((chart, "position", str(rng.randint(1, tracked))))
            else:
                moment = datetime.fromtimestamp(rng.uniform(first, last), UTC)
                plan.append((chart, "instant", moment.isoformat().replace("+00:00", "Z")))
    return plan


def measure_as_of(
    services: Services, meta: GenerationMeta, count: int, seed: int
) -> dict[str, Any]:
    analytics = Analytics(services.queries)
    specs = {
        "pipeline": spec_from_params("pipeline", {}),
        "forecast": spec_from_params("forecast", {"period": "quarter"}),
    }
    plan = as_of_queries(services, meta, count, seed)
    for chart, _mode, as_of in plan[:4]:  # warm-up, not counted
        analytics.answer(specs[chart], as_of=as_of, wait_for=None)
    samples: dict[tuple[str, str], list[float]] = {}
    started = time.perf_counter()
    for chart, mode, as_of in plan:
        t0 = time.perf_counter()
        analytics.answer(specs[chart], as_of=as_of, wait_for=None)
        samples.setdefault((chart, mode), []).append((time.perf_counter() - t0) * 1000)
    seconds = time.perf_counter() - started
    result: dict[str, Any] = {"queries": len(plan), "seconds": seconds, "groups": {}}
    every: list[float] = []
    for (chart, mode), values in sorted(samples.items()):
        every.extend(values)
        result["groups"][f"{chart}/{mode}"] = _stats(values)
    for chart in specs:
        values = [v for (c, _m), vs in samples.items() if c == chart for v in vs]
        result["groups"][f"{chart}/all"] = _stats(values)
    result["all"] = _stats(every)
    return result


def _stats(values: Sequence[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "median": statistics.median(values),
        "p99": _quantile(values, 0.99),
        "max": max(values),
    }


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
    supervisor: Supervisor | None = None
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


def profile_phase(label: str, directory: Path, run: Callable[[], object]) -> str:
    directory.mkdir(parents=True, exist_ok=True)
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        run()
    finally:
        profiler.disable()
    path = directory / f"{label}.prof"
    profiler.dump_stats(str(path))
    text = StringIO()
    stats = pstats.Stats(profiler, stream=text).strip_dirs()
    stats.sort_stats("tottime").print_stats(25)
    stats.sort_stats("cumulative").print_stats(35)
    (directory / f"{label}.txt").write_text(text.getvalue())
    return str(path)


# --- one store, end to end -----------------------------------------------------------


def _machine_busy_seconds() -> float | None:
    """CPU seconds the whole machine has been busy (all cores), from /proc/stat."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


class Phase:
    """Wall time of a phase, and the CPU other processes used meanwhile (in cores).

    On a 2-core machine another busy process halves what a phase gets: the
    figure tells whether a number was measured on a quiet machine. On
    PostgreSQL it includes the database server's own work for the phase.
    """

    def __init__(self, timings: dict[str, float], other: dict[str, float], name: str) -> None:
        self.timings, self.other, self.name = timings, other, name

    def __enter__(self) -> Phase:
        self.wall = time.perf_counter()
        self.cpu = time.process_time()
        self.busy = _machine_busy_seconds()
        return self

    def __exit__(self, *exc: object) -> None:
        wall = time.perf_counter() - self.wall
        self.timings[self.name] = wall
        busy = _machine_busy_seconds()
        if busy is not None and self.busy is not None and wall > 0:
            own = time.process_time() - self.cpu
            self.other[self.name] = max(0.0, (busy - self.busy - own) / wall)


def run_store(store: StoreRun, args: argparse.Namespace) -> dict[str, Any]:
    progress = not args.no_progress
    timings: dict[str, float] = {}
    other: dict[str, float] = {}
    result: dict[str, Any] = {
        "store": store.name,
        "timings": timings,
        "other_cores": other,
        "notes": store.notes,
    }
    meta = store.meta
    result["history"] = {
        "events": meta.events,
        "last_position": meta.last_position,
        "opportunities": meta.opportunities,
        "quotes": meta.quotes,
        "accounts": meta.accounts,
        "documents": meta.documents,
        "refused_decisions": meta.refused,
        "first_recorded_at": meta.first_recorded_at.isoformat(),
        "last_recorded_at": meta.last_recorded_at.isoformat(),
        "generated_now": store.generated_now,
        "generation_seconds": store.generation_seconds,
        "generation_rate": meta.events / store.generation_seconds,
        "top_event_types": dict(list(meta.event_types.items())[:12]),
    }
    services = bootstrap(store.settings, clock=SystemClock())
    try:
        log = services.event_log
        label = f"[{store.name}]"
        with Phase(timings, other, "raw_reads"):
            result.update(measure_reads(log, label, store.settings.checkpoint_interval))

        with Phase(timings, other, "rebuild"):
            rebuild = measure_rebuild(services, progress)
        rebuild["ratio_to_raw"] = rebuild["rate"] / result["raw_read"]["rate"]
        checkpoints = checkpoint_positions(store.settings)
        gaps = [b - a for a, b in itertools.pairwise([0, *checkpoints])]
        rebuild["checkpoints"] = len(checkpoints)
        rebuild["checkpoint_gap_median"] = statistics.median(gaps) if gaps else 0
        rebuild["checkpoint_interval_setting"] = store.settings.checkpoint_interval
        result["rebuild"] = rebuild
        print(
            f"{label} rebuild {rebuild['rate']:,.0f} events/s in {rebuild['seconds']:.1f} s "
            f"= {rebuild['ratio_to_raw']:.1%} of the raw read rate",
            file=sys.stderr,
        )

        with Phase(timings, other, "as_of"):
            as_of = measure_as_of(services, meta, args.as_of_queries, args.seed)
        plan = as_of_queries(services, meta, args.as_of_queries, args.seed)
        distances = replay_distances(
            [int(a) for _c, mode, a in plan if mode == "position"], checkpoints
        )
        as_of["replay_distance"] = _stats([float(d) for d in distances])
        result["as_of"] = as_of
        print(
            f"{label} as-of: {as_of['queries']} queries, median {as_of['all']['median']:.1f} ms, "
            f"p99 {as_of['all']['p99']:.1f} ms",
            file=sys.stderr,
        )

        if args.profile:
            directory = args.work_dir / "profiles"
            profile_phase(
                f"{store.name}-rebuild", directory, lambda: measure_rebuild(services, False)
            )
            profile_phase(
                f"{store.name}-as-of",
                directory,
                lambda: measure_as_of(services, meta, args.as_of_queries, args.seed + 7),
            )
            print(f"{label} profiles written to {directory}", file=sys.stderr)

        if args.lag_seconds > 0:
            mode = args.lag_projector
            if mode == "auto":
                mode = "thread" if store.name == "sqlite" else "process"
            with Phase(timings, other, "lag"):
                lag = measure_lag(
                    services,
                    meta,
                    rate=args.lag_rate,
                    seconds=args.lag_seconds,
                    mode=mode,
                    seed=args.seed,
                )
            result["lag"] = lag
            print(
                f"{label} lag: {lag['commands']} commands ({lag['event_rate']:.0f} events/s), "
                f"median {lag['lag_ms'].get('median', math.nan):.0f} ms, "
                f"p99 {lag['lag_ms'].get('p99', math.nan):.0f} ms",
                file=sys.stderr,
            )
    finally:
        services.close()
    print(
        f"[{store.name}] CPU used by other processes per phase (cores): "
        + ", ".join(f"{k} {v:.2f}" for k, v in other.items()),
        file=sys.stderr,
    )
    return result


# --- report ------------------------------------------------------------------------------


def _fmt_rate(value: float) -> str:
    return f"{value:,.0f}/s"


def _row(
    label: str, results: Sequence[dict[str, Any]], get: Callable[[dict[str, Any]], str]
) -> str:
    cells = []
    for r in results:
        try:
            cells.append(get(r))
        except (KeyError, TypeError):
            cells.append("—")
    return f"| {label} | " + " | ".join(cells) + " |"


def results_table(results: Sequence[dict[str, Any]]) -> str:
    names = {"sqlite": "SQLite (embedded default)", "postgres": "PostgreSQL 15"}
    head = "| | " + " | ".join(names.get(r["store"], r["store"]) for r in results) + " |"
    sep = "|---|" + "---:|" * len(results)

    def ms(group: str) -> Callable[[dict[str, Any]], str]:
        return lambda r: (
            f"{r['as_of']['groups'][group]['median']:.1f} / "
            f"{r['as_of']['groups'][group]['p99']:.1f}"
        )

    rows = [
        head,
        sep,
        _row("events in the log", results, lambda r: f"{r['raw_read']['rows']:,}"),
        _row(
            "opportunities / quotes",
            results,
            lambda r: f"{r['history']['opportunities']:,} / {r['history']['quotes']:,}",
        ),
        _row(
            "history generation",
            results,
            lambda r: (
                f"{r['history']['generation_seconds']:.0f} s "
                f"({_fmt_rate(r['history']['generation_rate'])})"
                + ("" if r["history"]["generated_now"] else ", cached")
            ),
        ),
        _row(
            "raw log read, no decoding (ceiling)",
            results,
            lambda r: _fmt_rate(r["raw_read"]["rate"]),
        ),
        _row(
            "log read + decode every event", results, lambda r: _fmt_rate(r["read_decode"]["rate"])
        ),
        _row(
            "the projector's read: its topics only, windows of 1,000 positions, no decoding",
            results,
            lambda r: _fmt_rate(r["filtered_read"]["rate"]),
        ),
        _row(
            "every row as plain tuples (crmledger's reader, no topic filter), no decoding",
            results,
            lambda r: _fmt_rate(r["plain_rows"]["rate"]),
        ),
        _row(
            "the projector in memory: read + decode + apply + encode checkpoints, no writes",
            results,
            lambda r: _fmt_rate(r["in_memory_projection"]["rate"]),
        ),
        _row(
            f"**full rebuild** (flush_every={REBUILD_FLUSH_EVERY})",
            results,
            lambda r: f"**{_fmt_rate(r['rebuild']['rate'])}** ({r['rebuild']['seconds']:.1f} s)",
        ),
        _row(
            "events the sales projection decodes and applies",
            results,
            lambda r: (
                f"{r['rebuild']['applied']:,} "
                f"({r['rebuild']['applied'] / r['rebuild']['events']:.0%})"
            ),
        ),
        _row(
            "checkpoints after the rebuild (median gap; interval setting)",
            results,
            lambda r: (
                f"{r['rebuild']['checkpoints']} "
                f"(every {r['rebuild']['checkpoint_gap_median']:,.0f}; "
                f"{r['rebuild']['checkpoint_interval_setting']:,})"
            ),
        ),
        _row(
            "**rebuild ÷ raw read** (target ≥ 50 %)",
            results,
            lambda r: f"**{r['rebuild']['ratio_to_raw']:.1%}**",
        ),
        _row(
            "rebuild ÷ every row as plain tuples (for comparison, no target)",
            results,
            lambda r: f"{r['rebuild']['rate'] / r['plain_rows']['rate']:.1%}",
        ),
        _row("as-of pipeline, position: median / p99 ms", results, ms("pipeline/position")),
        _row("as-of pipeline, instant: median / p99 ms", results, ms("pipeline/instant")),
        _row("as-of forecast, position: median / p99 ms", results, ms("forecast/position")),
        _row("as-of forecast, instant: median / p99 ms", results, ms("forecast/instant")),
        _row(
            "**as-of, all queries: median / p99 ms** (target p99 < 100 on SQLite)",
            results,
            lambda r: (
                f"**{r['as_of']['all']['median']:.1f} / {r['as_of']['all']['p99']:.1f}** "
                f"(n={r['as_of']['all']['n']})"
            ),
        ),
        _row(
            "as-of replay distance in positions (position queries): median / max",
            results,
            lambda r: (
                f"{r['as_of']['replay_distance']['median']:,.0f} / "
                f"{r['as_of']['replay_distance']['max']:,.0f}"
            ),
        ),
        _row(
            "command load (commands/s, events/s)",
            results,
            lambda r: (
                f"{r['lag']['command_rate']:.1f} cmd/s, {r['lag']['event_rate']:.0f} ev/s "
                f"for {r['lag']['seconds']:.0f} s"
            ),
        ),
        _row(
            "projector during the load",
            results,
            lambda r: (
                (
                    "thread in process (as `serve`)"
                    if r["lag"]["mode"] == "thread"
                    else "`crmledger worker` process"
                )
                + f", poll {r['lag']['poll_interval']} s"
            ),
        ),
        _row(
            "incremental lag, save → read model: median / p99 ms",
            results,
            lambda r: f"{r['lag']['lag_ms']['median']:.0f} / {r['lag']['lag_ms']['p99']:.0f}",
        ),
        _row(
            "positions behind: median / p99 / max",
            results,
            lambda r: (
                f"{r['lag']['behind']['median']:.0f} / {r['lag']['behind']['p99']:.0f} / "
                f"{r['lag']['behind']['max']:.0f}"
            ),
        ),
    ]
    return "\n".join(rows)


def targets_verdict(results: Sequence[dict[str, Any]], events: int) -> list[str]:
    lines = []
    for r in results:
        ratio = r["rebuild"]["ratio_to_raw"]
        lines.append(
            f"- Rebuild ≥ 50 % of the raw log-read rate on {r['store']}: "
            f"{'**met**' if ratio >= 0.5 else '**missed**'} ({ratio:.1%})."
        )
    for r in results:
        if r["store"] == "sqlite":
            p99 = r["as_of"]["all"]["p99"]
            scale = "" if events >= 1_000_000 else f" (only {events:,} events: not the target size)"
            lines.append(
                f"- As-of p99 < 100 ms at 1,000,000 events on the embedded default: "
                f"{'**met**' if p99 < 100 else '**missed**'} ({p99:.1f} ms){scale}."
            )
    return lines


def machine_notes(args: argparse.Namespace) -> list[str]:
    cpu = platform.processor() or "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = ""
    with contextlib.suppress(OSError, ValueError, IndexError):
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kb / 1024 / 1024:.0f} GiB RAM"
    postgres = ""
    if "postgres" in args.stores:
        with contextlib.suppress(Exception), psycopg.connect(args.postgres_url) as conn:
            row = conn.execute("SHOW server_version").fetchone()
            postgres = f"; PostgreSQL {row[0] if row else '?'} on the same machine (127.0.0.1)"
    return [
        f"- {os.cpu_count()} cores ({cpu}){memory}; {platform.system()} {platform.release()}.",
        f"- Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}{postgres}; "
        f"eventsourcing 9.5.6, psycopg {psycopg.__version__}, msgspec {msgspec.__version__}.",
        "- One process (but for the rebuild's writer process and, on PostgreSQL, the lag "
        "phase's worker); the store files and tables are warm in the OS page cache (the SQLite "
        "store was just copied or generated, PostgreSQL just generated).",
    ]


def history_notes(result: dict[str, Any]) -> list[str]:
    h = result["history"]
    mix = ", ".join(f"{name} {count:,}" for name, count in h["top_event_types"].items())
    return [
        f"- {h['events']:,} events recorded {h['first_recorded_at'][:10]} → "
        f"{h['last_recorded_at'][:10]}: {h['opportunities']:,} opportunities "
        f"({h['events'] / h['opportunities']:.1f} events each, reference data included; those "
        f"still open at the end are the live pipeline), {h['quotes']:,} quotes, "
        f"{h['accounts']:,} accounts, {h['documents']:,} offer documents, 12 owners, EUR and "
        "USD (daily USD rates), stage probability and category changes every 15–45 days, "
        "quarterly sales targets, a new price book each year; "
        f"{h['refused_decisions']} decisions refused by the domain rules.",
        f"- Most frequent events: {mix}.",
    ]


def write_benchmarks(
    results: Sequence[dict[str, Any]], args: argparse.Namespace, command: str, wall: float
) -> None:
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        MARK_BEGIN,
        "",
        f"## Read models: rebuild, as-of and lag at {args.events:,} events ({when})",
        "",
        "Produced by:",
        "",
        "```",
        command,
        "```",
        "",
        "Machine:",
        "",
        *machine_notes(args),
        "",
        "History (generated with the domain's behaviour functions, seed "
        f"{args.seed}; the same log on both stores):",
        "",
        *history_notes(results[0]),
        "",
        results_table(results),
        "",
        "Targets (measured in this one run, ratios against baselines of the same run):",
        "",
        *targets_verdict(results, args.events),
        "",
        *[f"Note ({r['store']}): {note}" for r in results for note in r.get("notes", [])],
        "",
        "How each figure is measured:",
        "",
        "- *raw log read*: `recorder.select_notifications(start, 500, inclusive_of_start=False)` "
        "over the whole log, nothing decoded; run twice, the faster pass is the ceiling.",
        "- *read + decode*: the same loop with `EventLog.decode` (msgspec) of every event.",
        "- *the projector's read*: `EventLog.read` (crmledger's reader: plain rows, the "
        "originator id as text) with the projection's topics, filtered in SQL, over windows "
        "of 1,000 positions, as the projector reads; rate in log positions per second.",
        "- *every row as plain tuples*: the same reader over every row, no topic filter. It "
        "is faster than the library's `select_notifications` (which builds a `Notification` "
        "and a UUID per row); the target's ceiling stays the library's notification-log "
        "read, the interface every consumer of the log is given. Against this faster "
        "reading the rebuild ratio is lower (the row below the target's).",
        "- *the projector in memory*: `SalesProjector.catch_up` into a storage that writes "
        "nothing (read, decode, apply, encode the checkpoints): the difference to the rebuild "
        "is the cost of the writes.",
        f"- *rebuild*: `SalesProjector.rebuild` with `flush_every={REBUILD_FLUSH_EVERY}` "
        "(as `crmledger rebuild`), "
        "checkpoint settings as the run's (see the checkpoints row); on 100,000 positions or "
        "more its writes go to a second process (`adapters/readmodel_writer.py`), as "
        "`crmledger rebuild` does; events/s over every position in the log, compared with the "
        "*raw log read* (every row, no topic filter).",
        f"- *as-of*: `Analytics.answer` (as the HTTP layer) for the pipeline chart and the "
        f"forecast chart (quarters), {args.as_of_queries} queries each, half at random log "
        "positions, half at random instants of the history; 4 warm-up queries not counted; "
        "p99 by nearest rank.",
        f"- *lag*: a thread runs real commands through the `CommandBus` at "
        f"{args.lag_rate:g} commands/s for {args.lag_seconds:g} s (8 deals in flight: create, "
        "quote, items, activate, stage moves, item change, edit, sell or lose; a USD rate "
        "change every 150 commands); a poller reads the tracking position every ~2 ms; lag is "
        "the time from `bus.execute` returning to the first poll that sees the command's "
        "position. Positions behind = newest saved position − tracked, at each poll.",
        f"- Wall time of the whole run: {wall / 60:.1f} min. Phase timings in s (and the CPU "
        "other processes used meanwhile, in cores; on PostgreSQL this includes the server's "
        "work and, in the lag phase, the worker; near 0 on SQLite means a quiet machine): "
        + "; ".join(
            f"{r['store']}: generation {r['history']['generation_seconds']:.0f}"
            + ("" if r["history"]["generated_now"] else " (cached)")
            + ", "
            + ", ".join(
                f"{k} {v:.0f} ({r['other_cores'].get(k, math.nan):.2f})"
                for k, v in r["timings"].items()
            )
            for r in results
        )
        + ".",
        "",
        MARK_END,
    ]
    section = "\n".join(lines)
    path = REPO / "BENCHMARKS.md"
    if path.exists():
        text = path.read_text()
        if MARK_BEGIN in text and MARK_END in text:
            before = text.split(MARK_BEGIN, 1)[0]
            after = text.split(MARK_END, 1)[1]
            path.write_text(before + section + after)
            return
        path.write_text(text.rstrip() + "\n\n" + section + "\n")
        return
    path.write_text("# Benchmarks\n\n" + section + "\n")


# --- entry point ---------------------------------------------------------------------------


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--events", type=int, default=1_000_000, help="events to generate")
    p.add_argument("--stores", default="sqlite,postgres", help="sqlite, postgres or both")
    p.add_argument(
        "--work-dir",
        type=Path,
        default=Path(os.environ.get("TMPDIR", "/tmp")) / "crmledger-bench",
        help="where the SQLite stores (and the cached history) live",
    )
    p.add_argument("--quick", action="store_true", help="a smoke run: 50k events, fewer queries")
    p.add_argument("--seed", type=int, default=2027)
    p.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    p.add_argument("--as-of-queries", type=int, default=200, help="queries per chart")
    p.add_argument("--lag-rate", type=float, default=20.0, help="commands per second")
    p.add_argument("--lag-seconds", type=float, default=25.0, help="0 skips the lag phase")
    p.add_argument(
        "--lag-projector",
        choices=("auto", "thread", "process"),
        default="auto",
        help="auto: a thread on SQLite (as serve), a worker process on PostgreSQL",
    )
    p.add_argument(
        "--lag-poll",
        type=float,
        default=None,
        help="the projector's poll interval in s (default: the setting, 0.2 s)",
    )
    p.add_argument("--profile", action="store_true", help="also cProfile a rebuild and as-of")
    p.add_argument("--regenerate", action="store_true", help="ignore the cached history")
    p.add_argument("--keep", action="store_true", help="keep the run's store and schema")
    p.add_argument("--no-write", action="store_true", help="do not update BENCHMARKS.md")
    p.add_argument("--no-progress", action="store_true")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.quick:
        if args.events == 1_000_000:
            args.events = 50_000
        args.lag_seconds = min(args.lag_seconds, 10.0)
    stores = [s.strip() for s in args.stores.split(",") if s.strip()]
    unknown = set(stores) - {"sqlite", "postgres"}
    if unknown:
        print(f"unknown store(s): {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    args.stores = stores
    args.work_dir = args.work_dir.resolve()
    args.work_dir.mkdir(parents=True, exist_ok=True)
    configure(Settings(log_level="warning", log_format="console"))
    structlog.get_logger()  # configured: per-command info logs stay quiet
    command = ".venv/bin/python scripts/bench_readmodels.py " + " ".join(
        shlex.quote(a) for a in (sys.argv[1:] if argv is None else argv)
    )
    wall_started = time.perf_counter()
    results = []
    for name in stores:
        store = prepare_sqlite(args) if name == "sqlite" else prepare_postgres(args)
        try:
            results.append(run_store(store, args))
        finally:
            store.cleanup()
    wall = time.perf_counter() - wall_started
    table = results_table(results)
    print("\n" + table + "\n")
    for line in targets_verdict(results, args.events):
        print(line)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    out = args.work_dir / f"results-{stamp}.json"
    out.write_text(json.dumps(results, indent=2, default=str))
    print(f"\nraw results: {out}")
    if not args.no_write:
        write_benchmarks(results, args, command.strip(), wall)
        print(f"updated {REPO / 'BENCHMARKS.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
