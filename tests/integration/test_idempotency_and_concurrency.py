"""Idempotency keys, If-Match, atomic two-aggregate saves and concurrent writers.

On SQLite and on PostgreSQL. The API promises (docs/api.md): a repeat with the same
key and body returns the first answer and writes nothing; with another body it
is refused; a refused command writes nothing; a stale If-Match is refused.
Without If-Match, a command that loses a race is retried from a fresh load, so
concurrent writers all succeed and none of their effects is lost or doubled.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from typing import Any, TypeVar
from uuid import UUID, uuid4

import pytest

from adapters.bootstrap import Services, bootstrap
from adapters.clock import ManualClock
from adapters.settings import Settings
from commands.bus import CommandBus, Outcome
from commands.errors import Contention, IdempotencyKeyReused, VersionConflict
from commands.handlers import all_handlers
from commands.opportunities import (
    LogSalesActivity,
    MoveOpportunityToStage,
    SellOpportunity,
)
from commands.ports import ConcurrentWrite, Document, IdempotencyRecord
from commands.quotes import (
    ActivateQuote,
    AddQuoteItem,
    CreateQuote,
    DeleteQuote,
    GenerateOffer,
)
from domain.errors import InvalidInput, NotFound, RuleViolated
from domain.events import DomainEvent
from domain.money import Money
from domain.opportunity import Opportunity, OpportunityMovedToStage, SalesActivityLogged
from domain.quote import Quote, QuoteItemAdded
from tests.builders import create_opportunity
from tests.conftest import users_marked
from tests.identity import TEAM, add_users

pytestmark = pytest.mark.users(*TEAM)

T = TypeVar("T")
THREADS = 8
OPEN_STAGES = ("initial_contact", "qualification", "proposal", "negotiation")

# --- helpers ----------------------------------------------------------------------------


@pytest.fixture
def contended(
    settings: Settings, clock: ManualClock, request: pytest.FixtureRequest
) -> Iterator[Services]:
    """The services on both backends, with retries enough for 8 writers on one aggregate."""
    running = bootstrap(settings.model_copy(update={"command_retries": 1000}), clock=clock)
    add_users(running.bus, *users_marked(request))
    yield running
    running.close()


def opportunity(services: Services, title: str = "ACME rollout") -> UUID:
    return services.bus.execute(create_opportunity(title=title)).id


def manual_item(quote_id: UUID, price: str = "100.00", item_id: UUID | None = None) -> AddQuoteItem:
    return AddQuoteItem(
        quote_id=quote_id,
        item_id=item_id or uuid4(),
        name="Consulting",
        quantity=Decimal(1),
        unit_price=Decimal(price),
        kind="one_off",
    )


def deal(services: Services, *, items: int = 1, active: bool = True) -> tuple[UUID, UUID]:
    """An opportunity with a quote of ``items`` manual items, active unless told otherwise."""
    opportunity_id = opportunity(services)
    quote_id = services.bus.execute(
        CreateQuote(quote_id=uuid4(), opportunity_id=opportunity_id, name="Q1")
    ).id
    for _ in range(items):
        services.bus.execute(manual_item(quote_id))
    if active:
        services.bus.execute(ActivateQuote(quote_id=quote_id))
    return opportunity_id, quote_id


def state_of(services: Services, cls: type[T], aggregate_id: UUID) -> T:
    state = services.store.load(aggregate_id)
    assert isinstance(state, cls), f"{aggregate_id} is {type(state).__name__}"
    return state


def version(services: Services, aggregate_id: UUID) -> int:
    state = services.store.load(aggregate_id)
    assert state is not None
    return state.version


def events_of(services: Services, aggregate_id: UUID, cls: type[T]) -> list[T]:
    return [e for e in services.store.history(aggregate_id) if isinstance(e, cls)]


def wrote_nothing(services: Services, before: int, key: str) -> None:
    """Nothing was written since ``before``, and ``key`` was not taken."""
    assert services.store.max_position() == before
    assert services.store.idempotency_record(key) is None


def in_threads(count: int, work: Callable[[int], T]) -> list[T]:
    """Run ``work(0..count-1)`` in threads released together; re-raise the first failure."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count
    errors: list[BaseException] = []

    def target(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = work(index)
        except BaseException as error:  # surfaced below, in the test's thread
            errors.append(error)

    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
        assert not thread.is_alive(), "a writer thread hung"
    if errors:
        raise errors[0]
    return results


class Interloper:
    """A store that lets another writer in just before the first ``count`` saves.

    It makes the race "someone saved between my load and my save" deterministic.
    """

    def __init__(self, store: Any, interfere: Callable[[], object], count: int = 1) -> None:
        self._store = store
        self._interfere = interfere
        self.remaining = count
        self.conflicts = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def save(
        self,
        events: Sequence[DomainEvent],
        *,
        idempotency: IdempotencyRecord | None = None,
        documents: Sequence[Document] = (),
    ) -> int:
        if self.remaining:
            self.remaining -= 1
            self._interfere()
        try:
            position: int = self._store.save(events, idempotency=idempotency, documents=documents)
        except ConcurrentWrite:
            self.conflicts += 1
            raise
        return position


class StaleKeyRead:
    """A store whose first idempotency look-up answers as if no request had used the key yet.

    It replays the race "two requests with one key: the second checked the key just
    before the first committed, and loaded the aggregates just after".
    """

    def __init__(self, store: Any) -> None:
        self._store = store
        self.stale_reads = 1

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def idempotency_record(self, key: str) -> IdempotencyRecord | None:
        if self.stale_reads:
            self.stale_reads -= 1
            return None
        record: IdempotencyRecord | None = self._store.idempotency_record(key)
        return record


def bus_on(services: Services, store: Any, retries: int) -> CommandBus:
    return CommandBus(
        store,
        services.clock,
        handlers=all_handlers(),
        reporting_currency="EUR",
        retries=retries,
    )


def same_answer(first: Outcome, second: Outcome) -> None:
    assert second.body() == first.body()
    assert (second.id, second.version, second.position, second.created, second.extra) == (
        first.id,
        first.version,
        first.position,
        first.created,
        first.extra,
    )


# --- idempotency keys ------------------------------------------------------------------


def test_a_repeat_with_the_same_key_and_body_returns_the_first_answer_and_writes_nothing(
    services: Services,
) -> None:
    # Given a quote and a keyed command that added an item, then other writes after it
    _, quote_id = deal(services)
    command = manual_item(quote_id, "250.00")
    first = services.bus.execute(command, idempotency_key="add-1", fingerprint="body-1")
    assert not first.replayed and first.position == services.store.max_position()
    services.bus.execute(manual_item(quote_id, "10.00"))
    before = services.store.max_position()
    # When the same key and body come again
    again = services.bus.execute(command, idempotency_key="add-1", fingerprint="body-1")
    # Then the answer is the first one, replayed, at the first one's position
    assert again.replayed
    same_answer(first, again)
    assert again.position < before
    # And nothing was written: one item added by that command, the log unchanged
    assert services.store.max_position() == before
    added = events_of(services, quote_id, QuoteItemAdded)
    assert [e.item.id for e in added].count(command.item_id) == 1


def test_a_replayed_answer_of_a_two_aggregate_command_points_at_its_last_event(
    services: Services,
) -> None:
    # Given an inactive quote activated with a key (quote and opportunity change in one save)
    opportunity_id, quote_id = deal(services, active=False)
    first = services.bus.execute(
        ActivateQuote(quote_id=quote_id), idempotency_key="act", fingerprint="f"
    )
    # The answer names the quote, but its position is the opportunity's last event
    assert first.id == quote_id
    assert first.position == services.store.position_of(
        opportunity_id, version(services, opportunity_id)
    )
    # When it is repeated
    again = services.bus.execute(
        ActivateQuote(quote_id=quote_id), idempotency_key="act", fingerprint="f"
    )
    # Then the same answer comes back (without the key it would be refused: already active)
    assert again.replayed
    same_answer(first, again)
    with pytest.raises(RuleViolated, match="already the active quote"):
        services.bus.execute(ActivateQuote(quote_id=quote_id))


def test_the_same_key_with_another_body_is_refused_and_writes_nothing(
    services: Services,
) -> None:
    # Given a key used once
    _, quote_id = deal(services)
    services.bus.execute(manual_item(quote_id), idempotency_key="k", fingerprint="first")
    before = services.store.max_position()
    items = len(events_of(services, quote_id, QuoteItemAdded))
    # When it comes with another body
    # Then it is refused and nothing is written
    with pytest.raises(IdempotencyKeyReused, match="use a new key"):
        services.bus.execute(manual_item(quote_id), idempotency_key="k", fingerprint="second")
    assert services.store.max_position() == before
    assert len(events_of(services, quote_id, QuoteItemAdded)) == items


def test_a_refused_command_writes_nothing_and_leaves_its_key_free(services: Services) -> None:
    # Given an opportunity
    opportunity_id = opportunity(services)
    before = services.store.max_position()
    # When a keyed command is refused by the domain
    with pytest.raises(RuleViolated, match="closes an opportunity"):
        services.bus.execute(
            MoveOpportunityToStage(opportunity_id=opportunity_id, stage="won"),
            idempotency_key="move",
            fingerprint="to-won",
        )
    with pytest.raises(NotFound):
        services.bus.execute(
            MoveOpportunityToStage(opportunity_id=uuid4(), stage="proposal"),
            idempotency_key="move",
            fingerprint="unknown",
        )
    # Then nothing was written and the key was not taken
    wrote_nothing(services, before, "move")
    # And the key serves a corrected request, which is then remembered
    moved = services.bus.execute(
        MoveOpportunityToStage(opportunity_id=opportunity_id, stage="proposal"),
        idempotency_key="move",
        fingerprint="to-proposal",
    )
    assert not moved.replayed and moved.version == 2
    record = services.store.idempotency_record("move")
    assert record is not None
    assert (record.fingerprint, record.aggregate_id, record.aggregate_version) == (
        "to-proposal",
        opportunity_id,
        2,
    )


def test_a_stale_if_match_is_refused_and_writes_nothing(services: Services) -> None:
    # Given an opportunity at version 2
    opportunity_id = opportunity(services)
    services.bus.execute(MoveOpportunityToStage(opportunity_id=opportunity_id, stage="proposal"))
    before = services.store.max_position()
    # When a command expects version 1 (and carries a key)
    # Then it is refused as a version conflict and nothing is written, the key stays free
    with pytest.raises(VersionConflict, match="is at version 2, not 1"):
        services.bus.execute(
            MoveOpportunityToStage(opportunity_id=opportunity_id, stage="negotiation"),
            expected_version=(opportunity_id, 1),
            idempotency_key="if-match",
            fingerprint="f",
        )
    wrote_nothing(services, before, "if-match")
    # And with the current version it goes through
    moved = services.bus.execute(
        MoveOpportunityToStage(opportunity_id=opportunity_id, stage="negotiation"),
        expected_version=(opportunity_id, 2),
    )
    assert moved.version == 3


def test_if_match_is_checked_again_when_a_concurrent_writer_wins(services: Services) -> None:
    # Given a writer that saves on the opportunity between our load and our save
    opportunity_id = opportunity(services)
    store = Interloper(
        services.store,
        lambda: services.bus.execute(
            MoveOpportunityToStage(opportunity_id=opportunity_id, stage="qualification")
        ),
    )
    bus = bus_on(services, store, retries=5)
    # When a command with If-Match of the version it loaded loses that race
    # Then it is refused as a version conflict, not silently retried over the other write
    with pytest.raises(VersionConflict, match="is at version 2, not 1"):
        bus.execute(
            MoveOpportunityToStage(opportunity_id=opportunity_id, stage="proposal"),
            expected_version=(opportunity_id, 1),
        )
    assert store.conflicts == 1
    stages = [e.stage for e in events_of(services, opportunity_id, OpportunityMovedToStage)]
    assert stages == ["qualification"]


# --- rules spanning two aggregates ---------------------------------------------------------


def test_refused_two_aggregate_rules_write_nothing_on_either_aggregate(
    services: Services,
) -> None:
    # Given an opportunity with an active quote, and another with an active empty quote
    opportunity_id, quote_id = deal(services)
    empty_opportunity, empty_quote = deal(services, items=0)
    versions = {
        a: version(services, a) for a in (opportunity_id, quote_id, empty_opportunity, empty_quote)
    }
    before = services.store.max_position()
    # When the active quote is deleted / Then it is refused
    with pytest.raises(RuleViolated, match="active quote and cannot be deleted"):
        services.bus.execute(DeleteQuote(quote_id=quote_id))
    # When an opportunity whose active quote has no items is sold / Then it is refused
    with pytest.raises(RuleViolated, match="at least one item"):
        services.bus.execute(SellOpportunity(opportunity_id=empty_opportunity))
    # When an opportunity is sold "in the future" / Then it is refused
    with pytest.raises(InvalidInput, match="future"):
        services.bus.execute(
            SellOpportunity(
                opportunity_id=opportunity_id,
                effective_at=services.clock.now().replace(year=2030),
            )
        )
    # And nothing was written on any of them
    assert services.store.max_position() == before
    assert {a: version(services, a) for a in versions} == versions
    assert not state_of(services, Quote, quote_id).deleted


def test_a_two_aggregate_save_that_loses_a_race_writes_neither_aggregate(
    services: Services,
) -> None:
    # Given an active quote, and a writer that changes its opportunity just before our save
    opportunity_id, quote_id = deal(services)
    quote_version = version(services, quote_id)
    store = Interloper(
        services.store,
        lambda: services.bus.execute(
            LogSalesActivity(
                opportunity_id=opportunity_id, activity_id=uuid4(), kind="call", subject="Intro"
            )
        ),
    )
    bus = bus_on(services, store, retries=1)
    before = services.store.max_position()
    # When an item is added (quote + opportunity amount in one save) with no retry left
    command = manual_item(quote_id, "999.00")
    with pytest.raises(Contention, match="lost 1 races"):
        bus.execute(command, idempotency_key="lost", fingerprint="f")
    # Then only the other writer's event is in the log: the quote did not change either,
    # and the key was not taken (idempotency records share the events' transaction)
    assert store.conflicts == 1
    assert version(services, quote_id) == quote_version
    assert command.item_id not in {i.id for i in state_of(services, Quote, quote_id).items}
    opp_events = services.store.history(opportunity_id)
    assert isinstance(opp_events[-1], SalesActivityLogged)
    assert services.store.max_position() == services.store.position_of(
        opportunity_id, opp_events[-1].originator_version
    )
    assert services.store.max_position() > before
    assert services.store.idempotency_record("lost") is None
    # When it is run again with a retry available
    retried = bus_on(services, services.store, retries=2).execute(
        command, idempotency_key="lost", fingerprint="f"
    )
    # Then it goes through once, and the opportunity's amount is the new total
    quote = services.store.load(quote_id)
    assert isinstance(quote, Quote)
    assert [i.id for i in quote.items].count(command.item_id) == 1
    assert state_of(services, Opportunity, opportunity_id).amount == quote.total
    assert quote.total == Money(Decimal("1099.00"), "EUR")
    assert retried.position == services.store.max_position()


def test_an_offer_whose_save_fails_leaves_no_document(services: Services) -> None:
    # Given a quote and a writer that changes it just before the offer is saved
    _, quote_id = deal(services)
    store = Interloper(services.store, lambda: services.bus.execute(manual_item(quote_id)))
    document_id = uuid4()
    # When the offer's save loses the race with no retry left
    with pytest.raises(Contention):
        bus_on(services, store, retries=1).execute(
            GenerateOffer(quote_id=quote_id, document_id=document_id)
        )
    # Then no document was stored (documents share the events' transaction)
    assert services.store.document(document_id) is None
    # And with a retry the offer is generated from the quote as it now is
    offer = bus_on(services, services.store, retries=2).execute(
        GenerateOffer(quote_id=quote_id, document_id=document_id)
    )
    document = services.store.document(document_id)
    assert document is not None and document.sha256 == offer.extra["sha256"]
    assert "TOTAL  200.00 EUR" in document.content.decode()


# --- concurrent writers ---------------------------------------------------------------------


def test_a_command_that_loses_a_race_is_retried_from_a_fresh_load(services: Services) -> None:
    # Given a writer that adds an item to the active quote just before our first save
    opportunity_id, quote_id = deal(services)
    interloper_item = manual_item(quote_id, "50.00")
    store = Interloper(services.store, lambda: services.bus.execute(interloper_item))
    # When we add an item without If-Match
    ours = manual_item(quote_id, "7.00")
    outcome = bus_on(services, store, retries=3).execute(ours)
    # Then our first save conflicted, the retry went through, and both items are there once
    assert store.conflicts == 1
    quote = services.store.load(quote_id)
    assert isinstance(quote, Quote)
    assert [i.id for i in quote.items][-2:] == [interloper_item.item_id, ours.item_id]
    assert outcome.version == quote.version
    assert state_of(services, Opportunity, opportunity_id).amount == Money(Decimal("157.00"), "EUR")


def test_concurrent_writers_adding_items_to_one_quote_all_count_exactly_once(
    contended: Services,
) -> None:
    # Given an active quote with one item
    services = contended
    opportunity_id, quote_id = deal(services)
    per_thread = 6

    # When 8 threads each add 6 items to it, without If-Match
    def add_items(thread: int) -> list[Outcome]:
        return [
            services.bus.execute(manual_item(quote_id, f"{thread + 1}.{n:02d}"))
            for n in range(per_thread)
        ]

    outcomes = [o for batch in in_threads(THREADS, add_items) for o in batch]
    # Then every command succeeded and every item is on the quote exactly once
    quote = services.store.load(quote_id)
    assert isinstance(quote, Quote)
    added = {UUID(o.extra["item_id"]) for o in outcomes}
    assert len(added) == THREADS * per_thread
    assert len(quote.items) == THREADS * per_thread + 1
    assert {i.id for i in quote.items} >= added
    # And the versions handed out are distinct and dense: no write was lost or doubled
    assert sorted(o.version for o in outcomes) == list(range(4, 4 + THREADS * per_thread))
    assert len({o.position for o in outcomes}) == len(outcomes)
    history = services.store.history(quote_id)
    assert [e.originator_version for e in history] == list(range(1, quote.version + 1))
    # And the opportunity's amount is the final total (each save moved it along)
    expected = Decimal("100.00") + sum(
        Decimal(f"{t + 1}.{n:02d}") for t in range(THREADS) for n in range(per_thread)
    )
    assert quote.total == Money(expected, "EUR")
    assert state_of(services, Opportunity, opportunity_id).amount == quote.total


def test_concurrent_writers_on_one_opportunity_are_serialised_without_lost_updates(
    contended: Services,
) -> None:
    # Given an opportunity
    services = contended
    opportunity_id = opportunity(services)
    per_thread = 5

    # When 8 threads each log 5 activities and try 5 stage moves on it, without If-Match
    def work(thread: int) -> tuple[int, int]:
        moved = refused = 0
        for n in range(per_thread):
            services.bus.execute(
                LogSalesActivity(
                    opportunity_id=opportunity_id,
                    activity_id=uuid4(),
                    kind="call",
                    subject=f"call {thread}/{n}",
                )
            )
            try:
                services.bus.execute(
                    MoveOpportunityToStage(
                        opportunity_id=opportunity_id,
                        stage=OPEN_STAGES[(thread + n) % len(OPEN_STAGES)],
                    )
                )
                moved += 1
            except RuleViolated as error:
                # The one refusal allowed: another thread had just moved it to that stage.
                assert "already in stage" in str(error)
                refused += 1
        return moved, refused

    results = in_threads(THREADS, work)
    # Then every activity is there exactly once
    state = services.store.load(opportunity_id)
    assert isinstance(state, Opportunity)
    subjects = sorted(a.subject for a in state.activities)
    assert subjects == sorted(f"call {t}/{n}" for t in range(THREADS) for n in range(per_thread))
    # And every successful move is one event, each starting where the previous one ended
    moves = events_of(services, opportunity_id, OpportunityMovedToStage)
    assert len(moves) == sum(moved for moved, _ in results)
    assert sum(moved + refused for moved, refused in results) == THREADS * per_thread
    chain = ["initial_contact"] + [m.stage for m in moves]
    assert [m.previous_stage for m in moves] == chain[:-1]
    assert state.stage == chain[-1]
    assert state.version == 1 + THREADS * per_thread + len(moves)


def test_a_key_that_was_free_when_checked_but_taken_when_loaded_replays_the_first_answer(
    services: Services,
) -> None:
    # Given a keyed command that added an item
    _, quote_id = deal(services)
    command = manual_item(quote_id)
    first = services.bus.execute(command, idempotency_key="dup", fingerprint="f")
    before = services.store.max_position()
    # When its twin checked the key just before that commit and loads the quote just after
    # (so the domain itself would refuse: the item is already there)
    twin = bus_on(services, StaleKeyRead(services.store), retries=3).execute(
        command, idempotency_key="dup", fingerprint="f"
    )
    # Then the twin gets the first answer, not a refusal, and writes nothing
    assert twin.replayed
    same_answer(first, twin)
    assert services.store.max_position() == before


def test_two_threads_with_one_key_make_one_effect_and_get_the_same_answer(
    contended: Services,
) -> None:
    # Given an active quote
    services = contended
    opportunity_id, quote_id = deal(services)
    for round_ in range(6):
        command = manual_item(quote_id, f"{round_ + 1}.00")
        before = services.store.max_position()
        # When two threads send the same keyed command at once
        key = f"same-{round_}"
        first, second = in_threads(
            2,
            lambda _, c=command, k=key: services.bus.execute(c, idempotency_key=k, fingerprint="f"),
        )
        # Then both got the same answer, one of them replayed
        same_answer(first, second)
        assert sorted([first.replayed, second.replayed]) == [False, True]
        # And there was exactly one effect: one item, one save (item + opportunity amount)
        quote = services.store.load(quote_id)
        assert isinstance(quote, Quote)
        assert [i.id for i in quote.items].count(command.item_id) == 1
        written = services.store.app.recorder.select_notifications(
            start=before, limit=100, inclusive_of_start=False
        )
        assert [(n.originator_id, n.topic) for n in written] == [
            (quote_id, "QuoteItemAdded"),
            (opportunity_id, "OpportunityAmountChanged"),
        ]
        assert first.position == written[-1].id == services.store.max_position()
    assert state_of(services, Opportunity, opportunity_id).amount == quote.total
