"""Opportunities and their quotes under random command sequences.

A hypothesis ``RuleBasedStateMachine`` drives the real command handlers
through ``commands.bus.CommandBus`` on ``tests.fakes.InMemoryEventStore``, one
``@rule`` per command. Commands may be refused (a ``DomainError``); a refused
command must write nothing — neither to the log nor to any aggregate — and
must be refused by the domain, not by the store: in a single-threaded run a
``Contention`` means a handler let the store find a conflict it should have
named.

After every step the business rules that span an opportunity and its quotes
(docs/domain.md, ``domain.selling``) must hold:

- an opportunity has at most one active quote, and it is the one its
  ``active_quote_id`` names (None when there is none);
- while it has an active quote, its amount is that quote's total;
- sold ⇔ locked, and an opportunity's non-deleted quotes are locked exactly
  when it is (selling locks them all, unlocking unlocks them all);
- its ``quote_ids`` are exactly its non-deleted quotes, each once; a deleted
  opportunity has no live quote left;
- every stream still folds into an aggregate of its kind.

And around every command: a locked opportunity or quote is left exactly as
it was by any command except unlocking that opportunity.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any, TypeVar
from uuid import UUID, uuid5

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from adapters.clock import ManualClock
from commands import opportunities as opportunity_commands
from commands.bus import CommandBus, Outcome
from commands.errors import Contention, IdempotencyKeyReused
from commands.handlers import all_handlers
from commands.quotes import (
    ActivateQuote,
    AddQuoteItem,
    ChangeQuoteCurrency,
    ChangeQuoteItem,
    CreateQuote,
    DeactivateQuote,
    DeleteQuote,
    DuplicateQuote,
    EditQuote,
    GenerateOffer,
    RemoveQuoteItem,
    SetQuoteRounding,
)
from commands.reference_data import (
    CreateAccount,
    CreatePriceBook,
    CreateProduct,
    EnsureDefaults,
    SetExchangeRate,
    SetPrice,
)
from domain.aggregate import AggregateState
from domain.errors import AlreadyExists, DomainError
from domain.ids import account_id_for, pipeline_id_for, product_id_for
from domain.money import Money
from domain.opportunity import Opportunity, OpportunitySold
from domain.pipeline import DEFAULT_STAGES
from domain.quote import Quote
from tests.builders import CREATE_LICENCE
from tests.conftest import T0
from tests.fakes import InMemoryEventStore
from tests.identity import add_users

NAMESPACE = UUID("1b0c5f8e-2a43-4d61-9b7e-55f0e3a1c2d4")
MISSING = uuid5(NAMESPACE, "missing")
ACCOUNT = account_id_for("ACME")
LICENCE = product_id_for("LIC")  # time-based, priced per user in EUR and USD
SERVICE = product_id_for("SVC")  # one-off, priced per day in EUR only
PRICE_BOOK = uuid5(NAMESPACE, "price-book")
RATES = {"USD": "0.92", "GBP": "1.17", "JPY": "0.0061", "KWD": "3.01"}
CURRENCIES = ("EUR", *RATES)
STAGES = tuple(stage.key for stage in DEFAULT_STAGES)

S = TypeVar("S", bound=AggregateState)
T = TypeVar("T")


def mostly(valid: st.SearchStrategy[T], invalid: st.SearchStrategy[T]) -> st.SearchStrategy[T]:
    """Valid values nine times in ten, so that most commands get past input checks."""
    return st.integers(0, 9).flatmap(lambda n: invalid if n == 0 else valid)


def decimals(low: int, high: int, max_places: int) -> st.SearchStrategy[Decimal]:
    return st.integers(0, max_places).flatmap(
        lambda places: st.decimals(
            min_value=max(Decimal(low), Decimal(1).scaleb(-places)) if low > 0 else low,
            max_value=high,
            places=places,
            allow_nan=False,
            allow_infinity=False,
        )
    )


indexes = st.integers(0, 2**32 - 1)
quantities = mostly(
    decimals(1, 500, 3), st.sampled_from([Decimal(0), Decimal("-1"), Decimal("1E-7")])
)
unit_prices = mostly(decimals(0, 100_000, 6), st.just(Decimal("-5")))
discounts = mostly(decimals(0, 100, 4), st.sampled_from([Decimal(100), Decimal("100.5")]))
roundings = st.none() | st.decimals(min_value=-5, max_value=5, places=3, allow_nan=False)
amounts = st.decimals(min_value=0, max_value=10**6, places=2, allow_nan=False)


class SalesMachine(RuleBasedStateMachine):
    """The real handlers on an in-memory store, starting from one account and two deals."""

    def __init__(self) -> None:
        super().__init__()
        self.clock = ManualClock(T0)
        self.store = InMemoryEventStore()
        self.bus = CommandBus(
            self.store, self.clock, handlers=all_handlers(), reporting_currency="EUR"
        )
        self.opportunity_ids: list[UUID] = []
        self.quote_ids: list[UUID] = []
        self.document_ids: list[UUID] = []
        self.ids_made = 0
        self.bootstrap()

    # --- set-up and helpers -----------------------------------------------------------

    def bootstrap(self) -> None:
        yesterday = T0 - timedelta(days=1)
        reference_data: list[Any] = [
            EnsureDefaults(),
            CREATE_LICENCE,
            CreateProduct(name="Onboarding", code="SVC", category="implementation", kind="one_off"),
            CreateAccount(name="ACME"),
            CreatePriceBook(price_book_id=PRICE_BOOK, name="Standard 2027", brand="crmledger"),
            *[
                SetPrice(
                    price_book_id=PRICE_BOOK,
                    product_id=product,
                    unit=unit,
                    currency=currency,
                    price=Decimal(price),
                )
                for product, unit, currency, price in (
                    (LICENCE, "user", "EUR", "25.00"),
                    (LICENCE, "user", "USD", "27.50"),
                    (SERVICE, "day", "EUR", "1200.125"),
                )
            ],
            *[
                SetExchangeRate(currency=c, rate=Decimal(r), effective_at=yesterday)
                for c, r in RATES.items()
            ],
        ]
        for command in reference_data:
            self.bus.execute(command)
        add_users(self.bus, "alice", "bob")  # the deals' owners
        for title in ("ACME rollout", "ACME support"):
            opportunity_id = self.new_id("opportunity")
            self.bus.execute(
                opportunity_commands.CreateOpportunity(
                    opportunity_id=opportunity_id,
                    title=title,
                    owner="alice",
                    expected_close=date(2027, 6, 30),
                    account_id=ACCOUNT,
                )
            )
            self.opportunity_ids.append(opportunity_id)
            # Each deal starts with a EUR quote from the price book and a manual USD
            # one, so that quote commands have something to act on.
            priced, manual = self.new_id("quote"), self.new_id("quote")
            for command in (
                CreateQuote(
                    quote_id=priced,
                    opportunity_id=opportunity_id,
                    name="Standard",
                    price_book_id=PRICE_BOOK,
                ),
                self.new_item(
                    priced, product_id=LICENCE, quantity=Decimal(40), discount_pct=Decimal("12.5")
                ),
                CreateQuote(
                    quote_id=manual, opportunity_id=opportunity_id, name="Custom", currency="USD"
                ),
                self.new_item(
                    manual,
                    name="Integration work",
                    quantity=Decimal("12.5"),
                    unit="day",
                    unit_price=Decimal("1450.333"),
                    discount_pct=Decimal("7.25"),
                ),
            ):
                self.bus.execute(command)
            self.quote_ids += [priced, manual]
        # The first deal's amount follows its active quote; the second's is set by hand.
        self.bus.execute(ActivateQuote(quote_id=self.quote_ids[0]))

    def new_id(self, kind: str) -> UUID:
        self.ids_made += 1
        return uuid5(NAMESPACE, f"{kind}-{self.ids_made}")

    def new_item(self, quote_id: UUID, **fields: Any) -> AddQuoteItem:
        """Adding an item under a new id to the quote ``quote_id``."""
        return AddQuoteItem(quote_id=quote_id, item_id=self.new_id("item"), **fields)

    def load(self, cls: type[S], aggregate_id: UUID) -> S:
        state = self.store.load(aggregate_id)
        assert isinstance(state, cls), f"{aggregate_id} no longer folds into a {cls.__name__}"
        return state

    def opportunity(self, index: int) -> UUID:
        return self.opportunity_ids[index % len(self.opportunity_ids)]

    def quote(self, index: int) -> UUID:
        return self.quote_ids[index % len(self.quote_ids)] if self.quote_ids else MISSING

    def item(self, quote_id: UUID, index: int) -> UUID:
        state = self.store.load(quote_id)
        items = state.items if isinstance(state, Quote) else ()
        return items[index % len(items)].id if items else MISSING

    def snapshot(self) -> dict[UUID, AggregateState | None]:
        return {i: self.store.load(i) for i in (*self.opportunity_ids, *self.quote_ids)}

    def live_opportunities(self) -> list[Opportunity]:
        opportunities = [self.load(Opportunity, i) for i in self.opportunity_ids]
        return [o for o in opportunities if not o.deleted]

    def quotes_of(self, opportunity_id: UUID) -> list[Quote]:
        quotes = [self.load(Quote, i) for i in self.quote_ids]
        return [q for q in quotes if q.opportunity_id == opportunity_id]

    def run(
        self, command: Any, *, idempotency_key: str | None = None, fingerprint: str = ""
    ) -> Outcome | None:
        """Execute ``command``; None when refused. Checks what a command may and may not write."""
        self.clock.advance(timedelta(minutes=1))
        before = self.snapshot()
        position = self.store.max_position()
        try:
            outcome = self.bus.execute(
                command, idempotency_key=idempotency_key, fingerprint=fingerprint
            )
        except Contention as error:
            raise AssertionError(
                f"{type(command).__name__} was refused by the store, not the domain: {error}"
            ) from error
        except DomainError:
            assert self.store.max_position() == position, "a refused command wrote events"
            assert self.snapshot() == before, "a refused command changed an aggregate"
            return None
        after = self.snapshot()
        unlocked: set[UUID] = set()
        if isinstance(command, opportunity_commands.UnlockOpportunity):
            unlocked = {command.opportunity_id}
            unlocked |= {
                i
                for i, s in before.items()
                if isinstance(s, Quote) and s.opportunity_id == command.opportunity_id
            }
        for aggregate_id, state in before.items():
            if getattr(state, "locked", False) and aggregate_id not in unlocked:
                assert after[aggregate_id] == state, (
                    f"{type(command).__name__} changed locked {aggregate_id}"
                )
        if self.store.max_position() > position:
            assert outcome.position == self.store.max_position()
        assert self.store.position_of(outcome.id, outcome.version) is not None
        return outcome

    # --- quotes -------------------------------------------------------------------------

    @rule(
        opportunity=indexes,
        currency=st.sampled_from((None, *CURRENCIES)),
        priced=st.booleans(),
    )
    def create_quote(self, opportunity: int, currency: str | None, priced: bool) -> None:
        quote_id = self.new_id("quote")
        command = CreateQuote(
            quote_id=quote_id,
            opportunity_id=self.opportunity(opportunity),
            name=f"Quote {self.ids_made}",
            currency=currency,
            price_book_id=PRICE_BOOK if priced else None,
        )
        if self.run(command) is not None:
            self.quote_ids.append(quote_id)

    @rule(quote=indexes, name=st.sampled_from(["Revised", " "]))
    def edit_quote(self, quote: int, name: str) -> None:
        self.run(EditQuote(quote_id=self.quote(quote), name=name))

    @rule(
        quote=indexes,
        quantity=quantities,
        unit_price=unit_prices,
        discount=discounts,
        kind=st.sampled_from(["one_off", "time_based"]),
    )
    def add_manual_item(
        self, quote: int, quantity: Decimal, unit_price: Decimal, discount: Decimal, kind: str
    ) -> None:
        self.run(
            self.new_item(
                self.quote(quote),
                name="Consulting",
                quantity=quantity,
                unit_price=unit_price,
                discount_pct=discount,
                kind=kind,  # type: ignore[arg-type]
                term_months=24 if kind == "time_based" else None,
            )
        )

    @rule(
        quote=indexes,
        product=st.sampled_from([LICENCE, SERVICE]),
        quantity=quantities,
        discount=discounts,
        unit=st.sampled_from([None, "user", "day"]),
    )
    def add_price_book_item(
        self, quote: int, product: UUID, quantity: Decimal, discount: Decimal, unit: str | None
    ) -> None:
        self.run(
            self.new_item(
                self.quote(quote),
                product_id=product,
                quantity=quantity,
                discount_pct=discount,
                unit=unit,
            )
        )

    @rule(quote=indexes, item=indexes)
    def add_item_with_a_taken_id(self, quote: int, item: int) -> None:
        quote_id = self.quote(quote)
        command = AddQuoteItem(
            quote_id=quote_id,
            item_id=self.item(quote_id, item),
            name="Again",
            quantity=Decimal(1),
            unit_price=Decimal(1),
        )
        if command.item_id != MISSING:
            assert self.run(command) is None, "an item id was used twice in one quote"

    @rule(
        quote=indexes,
        item=indexes,
        quantity=st.none() | quantities,
        discount=st.none() | discounts,
        unit_price=st.none() | unit_prices,
    )
    def change_item(
        self,
        quote: int,
        item: int,
        quantity: Decimal | None,
        discount: Decimal | None,
        unit_price: Decimal | None,
    ) -> None:
        quote_id = self.quote(quote)
        self.run(
            ChangeQuoteItem(
                quote_id=quote_id,
                item_id=self.item(quote_id, item),
                quantity=quantity,
                discount_pct=discount,
                unit_price=unit_price,
            )
        )

    @rule(quote=indexes, item=indexes)
    def remove_item(self, quote: int, item: int) -> None:
        quote_id = self.quote(quote)
        self.run(RemoveQuoteItem(quote_id=quote_id, item_id=self.item(quote_id, item)))

    @rule(quote=indexes, amount=roundings)
    def set_rounding(self, quote: int, amount: Decimal | None) -> None:
        self.run(SetQuoteRounding(quote_id=self.quote(quote), amount=amount))

    @rule(quote=indexes)
    def activate(self, quote: int) -> None:
        self.run(ActivateQuote(quote_id=self.quote(quote)))

    @rule(quote=indexes)
    def deactivate(self, quote: int) -> None:
        self.run(DeactivateQuote(quote_id=self.quote(quote)))

    @rule(quote=indexes)
    def duplicate(self, quote: int) -> None:
        new_id = self.new_id("quote")
        if self.run(DuplicateQuote(quote_id=self.quote(quote), new_quote_id=new_id)):
            copy = self.load(Quote, new_id)
            assert not copy.active and not copy.locked, "a duplicate is an inactive, open copy"
            self.quote_ids.append(new_id)

    @rule(quote=indexes, currency=st.sampled_from(CURRENCIES))
    def change_currency(self, quote: int, currency: str) -> None:
        quote_id = self.quote(quote)
        before = self.store.load(quote_id)
        if self.run(ChangeQuoteCurrency(quote_id=quote_id, currency=currency)):
            after = self.load(Quote, quote_id)
            assert isinstance(before, Quote)
            # Discounts, quantities and the items themselves survive a currency change.
            assert [(i.id, i.quantity, i.discount_pct) for i in after.items] == [
                (i.id, i.quantity, i.discount_pct) for i in before.items
            ]

    @rule(quote=indexes)
    def delete_quote(self, quote: int) -> None:
        self.run(DeleteQuote(quote_id=self.quote(quote)))

    @rule(quote=indexes)
    def generate_offer(self, quote: int) -> None:
        document_id = self.new_id("document")
        if self.run(GenerateOffer(quote_id=self.quote(quote), document_id=document_id)):
            document = self.store.document(document_id)
            assert document is not None, "an offer's document is saved with its event"
            self.document_ids.append(document_id)

    # --- opportunities --------------------------------------------------------------------

    @rule(opportunity=indexes)
    def sell(self, opportunity: int) -> None:
        opportunity_id = self.opportunity(opportunity)
        if self.run(opportunity_commands.SellOpportunity(opportunity_id=opportunity_id)):
            sold = self.store.history(opportunity_id)[-1]
            assert isinstance(sold, OpportunitySold)
            quote = self.load(Quote, sold.quote_id)
            lines = sum((s.line_total.amount for s in sold.items), Decimal(0))
            assert sold.amount == quote.total, "the sold amount is the active quote's total"
            assert sold.amount.amount == lines + (quote.rounding or 0)
            assert [s.item for s in sold.items] == list(quote.items), "the snapshot is the items"

    @rule(opportunity=indexes)
    def unlock(self, opportunity: int) -> None:
        self.run(
            opportunity_commands.UnlockOpportunity(opportunity_id=self.opportunity(opportunity))
        )

    @rule(opportunity=indexes, reason=st.sampled_from(["went with a competitor", " "]))
    def lose(self, opportunity: int, reason: str) -> None:
        self.run(
            opportunity_commands.LoseOpportunity(
                opportunity_id=self.opportunity(opportunity), reason=reason
            )
        )

    @rule(opportunity=indexes)
    def mark_unqualified(self, opportunity: int) -> None:
        self.run(
            opportunity_commands.MarkOpportunityUnqualified(
                opportunity_id=self.opportunity(opportunity), reason="no budget"
            )
        )

    @rule(opportunity=indexes)
    def reopen(self, opportunity: int) -> None:
        self.run(
            opportunity_commands.ReopenOpportunity(opportunity_id=self.opportunity(opportunity))
        )

    @rule(opportunity=indexes, stage=st.sampled_from(STAGES))
    def move_stage(self, opportunity: int, stage: str) -> None:
        self.run(
            opportunity_commands.MoveOpportunityToStage(
                opportunity_id=self.opportunity(opportunity), stage=stage
            )
        )

    @rule(opportunity=indexes, amount=amounts, currency=st.sampled_from(["EUR", "USD"]))
    def edit_amount(self, opportunity: int, amount: Decimal, currency: str) -> None:
        self.run(
            opportunity_commands.EditOpportunity(
                opportunity_id=self.opportunity(opportunity), amount=Money.of(amount, currency)
            )
        )

    @rule(opportunity=indexes)
    def copy_opportunity(self, opportunity: int) -> None:
        new_id = self.new_id("opportunity")
        if self.run(
            opportunity_commands.CopyOpportunity(
                opportunity_id=self.opportunity(opportunity), new_opportunity_id=new_id
            )
        ):
            self.opportunity_ids.append(new_id)
            self.quote_ids.extend(self.load(Opportunity, new_id).quote_ids)

    @precondition(lambda self: len(self.live_opportunities()) >= 3)
    @rule(opportunity=indexes)
    def delete_opportunity(self, opportunity: int) -> None:
        self.run(
            opportunity_commands.DeleteOpportunity(opportunity_id=self.opportunity(opportunity))
        )

    # --- ids, idempotency --------------------------------------------------------------------

    @rule(
        command=st.sampled_from(
            ["create_quote", "duplicate", "create_opportunity", "copy", "price_book", "offer"]
        ),
        taken=indexes,
        quote=indexes,
        opportunity=indexes,
    )
    def reuse_a_taken_id(self, command: str, taken: int, quote: int, opportunity: int) -> None:
        """Any command that creates something refuses an id that is already in use."""
        ids = self.store.aggregate_ids()
        taken_id = ids[taken % len(ids)]
        source = self.opportunity(opportunity)
        attempt: Any
        if command == "create_quote":
            attempt = CreateQuote(quote_id=taken_id, opportunity_id=source, name="Clash")
        elif command == "duplicate":
            attempt = DuplicateQuote(quote_id=self.quote(quote), new_quote_id=taken_id)
        elif command == "create_opportunity":
            attempt = opportunity_commands.CreateOpportunity(
                opportunity_id=taken_id,
                title="Clash",
                owner="bob",
                expected_close=date(2027, 9, 30),
                account_id=ACCOUNT,
            )
        elif command == "copy":
            attempt = opportunity_commands.CopyOpportunity(
                opportunity_id=source, new_opportunity_id=taken_id
            )
        elif command == "price_book":
            attempt = CreatePriceBook(price_book_id=taken_id, name="Clash", update_of=PRICE_BOOK)
        else:
            if not self.document_ids:
                return
            attempt = GenerateOffer(
                quote_id=self.quote(quote),
                document_id=self.document_ids[taken % len(self.document_ids)],
            )
        assert self.run(attempt) is None, f"{type(attempt).__name__} reused the id {taken_id}"

    @rule(quote=indexes, quantity=quantities, unit_price=unit_prices)
    def repeat_a_keyed_command(self, quote: int, quantity: Decimal, unit_price: Decimal) -> None:
        """The same key and request answer the first result again and write nothing."""
        key = f"key-{self.ids_made}"
        command = self.new_item(
            self.quote(quote), name="Keyed", quantity=quantity, unit_price=unit_price
        )
        first = self.run(command, idempotency_key=key, fingerprint="first")
        if first is None:
            assert self.store.idempotency_record(key) is None, "a refused command kept its key"
            return
        position = self.store.max_position()
        again = self.bus.execute(command, idempotency_key=key, fingerprint="first")
        assert again.replayed
        assert (again.id, again.version, again.position) == (
            first.id,
            first.version,
            first.position,
        )
        with pytest.raises(IdempotencyKeyReused):
            self.bus.execute(command, idempotency_key=key, fingerprint="another request")
        assert self.store.max_position() == position, "a replay wrote events"

    # --- invariants -----------------------------------------------------------------------------

    @invariant()
    def every_stream_folds_into_its_kind(self) -> None:
        """No command appended another kind's events to an opportunity's or a quote's stream."""
        for opportunity_id in self.opportunity_ids:
            self.load(Opportunity, opportunity_id)
        for quote_id in self.quote_ids:
            self.load(Quote, quote_id)

    @invariant()
    def at_most_one_active_quote_and_it_is_the_opportunitys(self) -> None:
        """≤ 1 active quote per opportunity, named by its active_quote_id; deleted ones never."""
        for opp in self.live_opportunities():
            active = [q.id for q in self.quotes_of(opp.id) if q.active]
            assert len(active) <= 1, f"{opp.title} has {len(active)} active quotes"
            assert opp.active_quote_id == (active[0] if active else None)
        quotes = [self.load(Quote, i) for i in self.quote_ids]
        assert not any(q.active and q.deleted for q in quotes), "a deleted quote is active"

    @invariant()
    def the_amount_is_the_active_quotes_total(self) -> None:
        """While an opportunity has an active quote, its amount is that quote's total."""
        for opp in self.live_opportunities():
            if opp.active_quote_id is not None:
                total = self.load(Quote, opp.active_quote_id).total
                assert opp.amount == total, f"{opp.title} is worth {opp.amount}, its quote {total}"

    @invariant()
    def sold_means_locked_with_all_its_quotes(self) -> None:
        """Sold ⇔ locked, and the non-deleted quotes are locked exactly when it is."""
        for opp in self.live_opportunities():
            assert opp.locked == (opp.status == "won")
            for quote in self.quotes_of(opp.id):
                if not quote.deleted:
                    assert quote.locked == opp.locked, (
                        f"quote {quote.name} locked={quote.locked}, its opportunity {opp.locked}"
                    )

    @invariant()
    def quote_ids_are_the_non_deleted_quotes(self) -> None:
        """quote_ids lists each non-deleted quote once; a deleted opportunity keeps none alive."""
        for opportunity_id in self.opportunity_ids:
            opp = self.load(Opportunity, opportunity_id)
            live = [q.id for q in self.quotes_of(opportunity_id) if not q.deleted]
            if opp.deleted:
                assert not live, "a deleted opportunity left live quotes"
                continue
            assert len(opp.quote_ids) == len(set(opp.quote_ids)), "a quote is listed twice"
            assert set(opp.quote_ids) == set(live)


SalesMachine.TestCase.settings = settings(
    max_examples=100,
    stateful_step_count=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestSalesStateMachine = SalesMachine.TestCase


@pytest.mark.parametrize(
    "clash",
    ["quote_as_opportunity", "duplicate_onto_itself", "opportunity_as_pipeline", "price_book"],
)
def test_a_creation_under_a_taken_id_is_refused_and_writes_nothing(clash: str) -> None:
    """Found by the state machine: a new aggregate's id must not name an existing one.

    Before the fix such a creation was appended to the existing stream (turning
    an opportunity's stream into a quote's, or listing a quote twice) or, for an
    id only the store knew, was retried as a lost race and refused as contention.
    """
    machine = SalesMachine()
    opportunity_id, quote_id = machine.opportunity_ids[0], machine.quote_ids[0]
    attempt: Any = {
        "quote_as_opportunity": CreateQuote(
            quote_id=opportunity_id, opportunity_id=opportunity_id, name="Clash"
        ),
        "duplicate_onto_itself": DuplicateQuote(quote_id=quote_id, new_quote_id=quote_id),
        "opportunity_as_pipeline": opportunity_commands.CreateOpportunity(
            opportunity_id=pipeline_id_for("sales"),
            title="Clash",
            owner="bob",
            expected_close=date(2027, 9, 30),
            account_id=ACCOUNT,
        ),
        "price_book": CreatePriceBook(price_book_id=PRICE_BOOK, name="Clash", update_of=PRICE_BOOK),
    }[clash]
    before = machine.snapshot(), machine.store.max_position()
    with pytest.raises(AlreadyExists, match="already taken"):
        machine.bus.execute(attempt)
    assert (machine.snapshot(), machine.store.max_position()) == before


def test_an_offer_under_a_taken_document_id_is_refused() -> None:
    """A document id names one document; reusing it is refused by the domain, not retried."""
    machine = SalesMachine()
    document_id = machine.new_id("document")
    quote_id = machine.quote_ids[0]
    assert machine.run(GenerateOffer(quote_id=quote_id, document_id=document_id))
    with pytest.raises(AlreadyExists, match="already taken"):
        machine.bus.execute(GenerateOffer(quote_id=quote_id, document_id=document_id))
