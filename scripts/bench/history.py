"""The seeded sales history: reference data, background processes, and the run."""

from __future__ import annotations

import heapq
import itertools
import math
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, cast
from uuid import UUID

import msgspec
from tqdm import tqdm

from adapters.event_store.store import SalesEventStore
from adapters.settings import Settings
from domain import account as account_rules
from domain import bundle as bundle_rules
from domain import exchange_rates as rate_rules
from domain import pipeline as pipeline_rules
from domain import price_book as book_rules
from domain import product as product_rules
from domain import sellable, targets
from domain import user as user_rules
from domain.exchange_rates import ExchangeRates
from domain.ids import (
    EXCHANGE_RATES_ID,
    account_id_for,
    product_id_for,
    user_id_for,
)
from domain.money import Money
from domain.periods import period_of
from domain.pipeline import DEFAULT_STAGES, ForecastCategory, Pipeline
from domain.price_book import PriceBook
from domain.product import Product

from .deals import Deals
from .world import (
    _NAME_A,
    ADMIN,
    BOOTSTRAP,
    BUNDLE,
    BUNDLE_PRICE,
    DAY,
    EVENTS_PER_DEAL,
    GENERATOR_VERSION,
    HISTORY_START,
    HISTORY_YEARS,
    HOUR,
    MANAGER_OF,
    MINUTE,
    OWNERS,
    PRODUCTS,
    RATES_IMPORT,
    TEAMS,
    USD_PER_EUR,
    _days,
)


def events_bar(total: int, desc: str, *, shown: bool) -> tqdm[Any]:
    """A progress bar on stderr over ``total`` events, hidden unless ``shown``."""
    return tqdm(
        total=total,
        unit=" events",
        unit_scale=True,
        desc=desc,
        file=sys.stderr,
        disable=not shown,
    )


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


class History(Deals):
    """Simulates a sales team over ~2.5 years with the domain's behaviour functions.

    Every opportunity, and each background process (exchange rates, stage
    settings, targets, price books), is a generator yielding the simulated
    seconds until its next step; a heap runs them in time order, so the log
    interleaves them as a real team's would. Decisions are stamped like
    ``UnitOfWork.stamped_events`` and folded into the states kept here.
    """

    def run(self) -> None:
        # (when, order, process, who it acts as): a process's actor is kept with it
        # between its steps (a deal acts as its owner, once it has picked one).
        heap: list[tuple[float, int, Iterator[float], str]] = []
        order = itertools.count()

        def spawn(process: Iterator[float], at: float, by: str = ADMIN) -> None:
            heapq.heappush(heap, (at, next(order), process, by))

        self.spawn = spawn
        self.reference_data()
        spawn(self.usd_rates(), DAY, RATES_IMPORT)
        spawn(self.stage_settings(), _days(self.rng, 10, 30))
        spawn(self.sales_targets(), 0.0)
        spawn(self.price_books(), 365 * DAY)
        spawn(self.arrivals(), HOUR)
        with events_bar(self.target, "generating history", shown=self.progress) as bar:
            self.bar = bar
            while heap and self.emitted < self.target:
                at, _, process, by = heapq.heappop(heap)
                self.t = at
                self.now = HISTORY_START + timedelta(seconds=at)
                self.by = by
                try:
                    delay = next(process)
                except StopIteration:
                    continue
                spawn(process, at + delay, self.by)
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
        self.by = BOOTSTRAP  # a new store's defaults
        self.decide({self.pipeline_id: pipeline_rules.create("sales", DEFAULT_STAGES)})
        self.decide({EXCHANGE_RATES_ID: rate_rules.start("EUR")})
        self.by = RATES_IMPORT  # the first admin is added from the command line
        self._user(ADMIN, "admin")
        self.by = ADMIN
        for manager, reps in TEAMS.items():
            self._user(manager, "manager")
            for rep in reps:
                self._user(rep, "rep", manager=manager)
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

    def _user(self, login: str, role: str, *, manager: str | None = None) -> None:
        boss = None if manager is None else self.state(user_id_for(manager))
        self.decide({user_id_for(login): user_rules.add(login, role, manager=boss)})

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
                self.by = MANAGER_OF[owner]  # each manager sets their reps' targets
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
