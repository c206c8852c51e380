"""The command layer end to end, on SQLite and on PostgreSQL.

Every command goes through ``services.bus.execute`` exactly as the HTTP layer
sends it. Besides the domain outcome, each step checks the contract of a
command's answer: ``version`` is the addressed aggregate's new version and
``position`` is the log position of the last event the command wrote.
"""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4, uuid5

import pytest

from adapters.bootstrap import Services
from adapters.clock import ManualClock
from commands.bus import Outcome
from commands.opportunities import (
    CopyOpportunity,
    DeleteOpportunity,
    LoseOpportunity,
    MoveOpportunityToStage,
    ReopenOpportunity,
    SellOpportunity,
    UnlockOpportunity,
)
from commands.quotes import (
    ActivateQuote,
    AddQuoteItem,
    ChangeQuoteCurrency,
    CreateQuote,
    DeleteQuote,
    DuplicateQuote,
    GenerateOffer,
)
from commands.reference_data import (
    CreateBundle,
    CreatePriceBook,
    CreateProduct,
    SetExchangeRate,
    SetPrice,
)
from domain.account import Account, AccountCreated
from domain.errors import AlreadyExists, DomainError, Locked, NotFound, RuleViolated
from domain.events import DomainEvent
from domain.ids import EXCHANGE_RATES_ID, account_id_for, bundle_id_for, product_id_for
from domain.money import Money
from domain.opportunity import (
    Opportunity,
    OpportunityAmountChanged,
    OpportunityCreated,
    OpportunityLost,
    OpportunityMovedToStage,
    OpportunityReopened,
    OpportunitySold,
    OpportunityUnlocked,
)
from domain.product import Product
from domain.quote import Quote, QuoteCurrencyChanged, QuoteLocked
from tests.builders import CREATE_LICENCE, create_opportunity
from tests.identity import TEAM

pytestmark = pytest.mark.users(*TEAM, "dave")

# --- helpers ----------------------------------------------------------------------------


def run(services: Services, command: Any) -> Outcome:
    """Execute a command and check the answer's contract against the log itself."""
    before = services.store.max_position()
    outcome = services.bus.execute(command)
    after = services.store.max_position()
    if after == before:
        # Nothing written: the answer points at the aggregate's last event.
        assert outcome.position == services.store.position_of(outcome.id, outcome.version)
    else:
        # The position is the one of the last event written, i.e. the newest in the log.
        assert outcome.position == after > before
        # The addressed aggregate's new version is stored at or before that position.
        at = services.store.position_of(outcome.id, outcome.version)
        assert at is not None and before < at <= outcome.position
        assert services.store.position_of(outcome.id, outcome.version + 1) is None
    return outcome


def refused(services: Services, command: Any, error: type[DomainError], match: str) -> None:
    """The command is refused with ``error`` and writes nothing."""
    before = services.store.max_position()
    with pytest.raises(error, match=match):
        services.bus.execute(command)
    assert services.store.max_position() == before


def load(services: Services, cls: type[Any], aggregate_id: UUID) -> Any:
    state = services.store.load(aggregate_id)
    assert isinstance(state, cls), f"{aggregate_id} is {type(state).__name__}, not {cls.__name__}"
    return state


def event_types(events: list[DomainEvent]) -> list[type[DomainEvent]]:
    return [type(e) for e in events]


def eur(amount: str) -> Money:
    return Money(Decimal(amount), "EUR")


def usd(amount: str) -> Money:
    return Money(Decimal(amount), "USD")


class Catalogue:
    """Products, a price book with EUR (and some USD) prices, a bundle and a USD rate."""

    def __init__(self, services: Services) -> None:
        self.licence = run(services, CREATE_LICENCE).id
        self.implementation = run(
            services,
            CreateProduct(
                name="Implementation", code="IMPL", category="implementation", kind="one_off"
            ),
        ).id
        self.price_book = run(
            services,
            CreatePriceBook(
                price_book_id=uuid4(), name="Standard 2027", brand="crmledger", product_version="7"
            ),
        ).id
        for product_id, unit, currency, price in [
            (self.licence, "user", "EUR", "25.00"),
            (self.licence, "user", "USD", "27.50"),
            (self.implementation, "day", "EUR", "1200.00"),
        ]:
            self.set_price(services, product_id, unit, currency, price)
        self.bundle = run(
            services,
            CreateBundle(
                name="Starter pack",
                code="STARTER",
                price_book_id=self.price_book,
                components=((self.licence, Decimal(3)), (self.implementation, Decimal(1))),
            ),
        ).id
        self.set_price(services, self.bundle, "each", "EUR", "5000.00")
        # 1 USD = 0.90 EUR (reporting-currency units per one unit).
        run(services, SetExchangeRate(currency="USD", rate=Decimal("0.90")))

    def set_price(
        self, services: Services, product_id: UUID, unit: str, currency: str, price: str
    ) -> Outcome:
        return run(
            services,
            SetPrice(
                price_book_id=self.price_book,
                product_id=product_id,
                unit=unit,
                currency=currency,
                price=Decimal(price),
            ),
        )


# --- the flow -----------------------------------------------------------------------------


def test_reference_data_gets_natural_ids_and_versions_from_one(services: Services) -> None:
    # Given an empty store (only the defaults)
    # When the catalogue is set up
    catalogue = Catalogue(services)
    # Then products and bundles have ids derived from their codes, at the expected versions
    assert catalogue.licence == product_id_for("LIC")
    assert catalogue.bundle == bundle_id_for("STARTER")
    licence = load(services, Product, catalogue.licence)
    assert (licence.version, licence.name, licence.term_months) == (1, "CRM licence", 12)
    # And the price book has one version per price set (1 created + 4 prices)
    assert services.store.load(catalogue.price_book).version == 5
    # And the exchange rates aggregate (started by the defaults) has the USD rate
    rates = services.store.load(EXCHANGE_RATES_ID)
    assert rates is not None and rates.rate_at("USD", services.clock.now()) == Decimal("0.90")
    # And a second product with the same code is refused and writes nothing
    refused(
        services,
        CreateProduct(name="Other", code=" lic ", category="software", kind="one_off"),
        RuleViolated,
        "already used",
    )


def test_an_opportunity_by_account_name_creates_the_account_in_the_same_save(
    services: Services, clock: ManualClock
) -> None:
    # Given the defaults only
    start = services.store.max_position()
    opportunity_id = uuid4()
    # When an opportunity is created for an account that does not exist yet
    created = run(
        services,
        create_opportunity(opportunity_id, account="ACME  GmbH"),
    )
    # Then one save wrote the account and the opportunity: two consecutive log positions
    assert (created.id, created.version, created.created) == (opportunity_id, 1, True)
    account_id = account_id_for("acme gmbh")
    assert services.store.position_of(account_id, 1) == start + 1
    assert services.store.position_of(opportunity_id, 1) == start + 2 == created.position
    account = load(services, Account, account_id)
    assert account.name == "ACME GmbH"
    opportunity = load(services, Opportunity, opportunity_id)
    assert (opportunity.account_id, opportunity.stage, opportunity.amount) == (
        account_id,
        "initial_contact",
        eur("0.00"),
    )
    # When a second opportunity names the same account (spelt differently)
    clock.advance(timedelta(minutes=5))
    second = run(
        services,
        create_opportunity(
            account="acme gmbh", title="ACME support", owner="bob", expected_close=date(2027, 6, 30)
        ),
    )
    # Then it reuses the account: one event written, the account still at version 1
    assert second.position == created.position + 1
    assert load(services, Opportunity, second.id).account_id == account_id
    assert event_types(services.store.history(account_id)) == [AccountCreated]
    # And the events carry the clock's time
    [first_event] = services.store.history(second.id)
    assert isinstance(first_event, OpportunityCreated)
    assert first_event.recorded_at == clock.now()


def test_quote_to_sale_flow_keeps_amounts_locks_and_documents_consistent(
    services: Services, clock: ManualClock
) -> None:
    # Given a catalogue and an opportunity with a quote priced from the price book
    catalogue = Catalogue(services)
    opportunity_id = uuid4()
    run(
        services,
        create_opportunity(opportunity_id),
    )
    run(services, MoveOpportunityToStage(opportunity_id=opportunity_id, stage="proposal"))
    quote_id = uuid4()
    created_quote = run(
        services,
        CreateQuote(
            quote_id=quote_id,
            opportunity_id=opportunity_id,
            name="Q1",
            price_book_id=catalogue.price_book,
        ),
    )
    assert (created_quote.id, created_quote.version) == (quote_id, 1)
    assert created_quote.extra == {"quote_id": str(quote_id)}
    quote = load(services, Quote, quote_id)
    assert (quote.currency, quote.brand, quote.product_version) == ("EUR", "crmledger", "7")
    assert load(services, Opportunity, opportunity_id).quote_ids == (quote_id,)

    # When items are added: from the price book, a bundle, and a manual one
    licence_item, impl_item, bundle_item, travel_item = uuid4(), uuid4(), uuid4(), uuid4()
    for command in [
        AddQuoteItem(
            quote_id=quote_id,
            item_id=licence_item,
            product_id=catalogue.licence,
            quantity=Decimal(10),
            discount_pct=Decimal(10),
        ),
        AddQuoteItem(
            quote_id=quote_id,
            item_id=impl_item,
            product_id=catalogue.implementation,
            quantity=Decimal(3),
        ),
        AddQuoteItem(
            quote_id=quote_id,
            item_id=bundle_item,
            product_id=catalogue.bundle,
            quantity=Decimal(1),
        ),
        AddQuoteItem(
            quote_id=quote_id,
            item_id=travel_item,
            name="Travel",
            quantity=Decimal(1),
            unit_price=Decimal("400.00"),
            kind="one_off",
        ),
    ]:
        added = run(services, command)
        assert added.extra == {"item_id": str(command.item_id)}
    # Then prices come from the price book, and the total is Σ rounded lines
    quote = load(services, Quote, quote_id)
    assert quote.version == 5
    assert [i.unit_price for i in quote.items] == [
        Decimal("25.00"),
        Decimal("1200.00"),
        Decimal("5000.00"),
        Decimal("400.00"),
    ]
    assert [len(i.components) for i in quote.items] == [0, 0, 2, 0]
    assert quote.total == eur("9225.00")  # 225 + 3600 + 5000 + 400
    # And the opportunity's amount does not follow an inactive quote
    assert load(services, Opportunity, opportunity_id).amount == eur("0.00")

    # When the quote is activated
    activated = run(services, ActivateQuote(quote_id=quote_id))
    # Then both aggregates changed in one save; the opportunity's amount is the total
    opportunity = load(services, Opportunity, opportunity_id)
    assert (opportunity.active_quote_id, opportunity.amount) == (quote_id, eur("9225.00"))
    assert activated.version == 6
    assert services.store.position_of(opportunity_id, opportunity.version) == activated.position

    # When the currency is changed to one the price book lacks for an item
    # Then it is refused with a clear sentence and nothing is written
    refused(
        services,
        ChangeQuoteCurrency(quote_id=quote_id, currency="USD"),
        RuleViolated,
        "no USD price for 'Implementation'",
    )
    # When the missing USD prices are added and the currency is changed
    catalogue.set_price(services, catalogue.implementation, "day", "USD", "1300.00")
    catalogue.set_price(services, catalogue.bundle, "each", "USD", "5500.00")
    clock.advance(timedelta(hours=1))
    changed = run(services, ChangeQuoteCurrency(quote_id=quote_id, currency="USD"))
    # Then price-book items take the book's USD prices, the manual item is converted with the
    # rates (400 EUR × 1 / 0.90), and discounts are kept
    quote = load(services, Quote, quote_id)
    assert quote.currency == "USD"
    assert [(i.unit_price, i.discount_pct) for i in quote.items] == [
        (Decimal("27.50"), Decimal(10)),
        (Decimal("1300.00"), Decimal(0)),
        (Decimal("5500.00"), Decimal(0)),
        (Decimal("444.44"), Decimal(0)),
    ]
    assert quote.total == usd("10091.94")  # 247.50 + 3900 + 5500 + 444.44
    # And the opportunity's amount follows its active quote in the same save
    assert load(services, Opportunity, opportunity_id).amount == usd("10091.94")
    assert event_types(services.store.history(quote_id))[-1] is QuoteCurrencyChanged
    assert event_types(services.store.history(opportunity_id))[-1] is OpportunityAmountChanged
    assert changed.position == services.store.position_of(
        opportunity_id, load(services, Opportunity, opportunity_id).version
    )

    # When an offer is generated
    document_id = uuid4()
    offer = run(services, GenerateOffer(quote_id=quote_id, document_id=document_id))
    # Then the document is stored with the event, and its SHA-256 matches everywhere
    document = services.store.document(document_id)
    assert document is not None
    digest = hashlib.sha256(document.content).hexdigest()
    assert offer.extra == {"document_id": str(document_id), "sha256": digest}
    assert (document.sha256, document.quote_id) == (digest, quote_id)
    text = document.content.decode()
    assert "For:   ACME GmbH" in text and "TOTAL  10,091.94 USD" in text
    [ref] = load(services, Quote, quote_id).offers
    assert (ref.document_id, ref.sha256, ref.generated_at) == (document_id, digest, clock.now())
    assert services.store.document(uuid4()) is None

    # When the opportunity is sold, effective a day before it is recorded
    clock.advance(timedelta(days=1))
    sold_at = clock.now() - timedelta(days=1)
    sale = run(services, SellOpportunity(opportunity_id=opportunity_id, effective_at=sold_at))
    # Then it is won and locked, and so is its quote, in one save
    opportunity = load(services, Opportunity, opportunity_id)
    assert (opportunity.status, opportunity.locked, opportunity.stage) == ("won", True, "won")
    assert load(services, Quote, quote_id).locked
    sold_event = services.store.history(opportunity_id)[-1]
    assert isinstance(sold_event, OpportunitySold)
    assert (sold_event.sold_at, sold_event.effective_at, sold_event.recorded_at) == (
        sold_at,
        sold_at,
        clock.now(),
    )
    assert sold_event.amount == usd("10091.94")
    assert [s.item.id for s in sold_event.items] == [
        licence_item,
        impl_item,
        bundle_item,
        travel_item,
    ]
    assert [s.line_total for s in sold_event.items] == [
        usd("247.50"),
        usd("3900.00"),
        usd("5500.00"),
        usd("444.44"),
    ]
    assert event_types(services.store.history(quote_id))[-1] is QuoteLocked
    assert sale.position == services.store.position_of(
        quote_id, load(services, Quote, quote_id).version
    )
    # And neither the locked quote nor the sold opportunity accepts a change
    refused(
        services,
        AddQuoteItem(
            quote_id=quote_id, item_id=uuid4(), product_id=catalogue.licence, quantity=Decimal(1)
        ),
        Locked,
        "locked",
    )
    refused(services, SellOpportunity(opportunity_id=opportunity_id), Locked, "already sold")
    refused(services, DeleteOpportunity(opportunity_id=opportunity_id), Locked, "cannot be deleted")

    # When it is unlocked, changed and sold again
    run(services, UnlockOpportunity(opportunity_id=opportunity_id))
    opportunity = load(services, Opportunity, opportunity_id)
    assert (opportunity.status, opportunity.locked, opportunity.stage) == (
        "open",
        False,
        "proposal",
    )
    assert not load(services, Quote, quote_id).locked
    run(
        services,
        AddQuoteItem(
            quote_id=quote_id, item_id=uuid4(), product_id=catalogue.licence, quantity=Decimal(2)
        ),
    )
    run(services, SellOpportunity(opportunity_id=opportunity_id))
    # Then the history shows both sales, the second with the new total
    history = services.store.history(opportunity_id)
    sales = [e for e in history if isinstance(e, OpportunitySold)]
    assert [s.amount for s in sales] == [usd("10091.94"), usd("10146.94")]
    assert OpportunityUnlocked in event_types(history)

    # When it is unlocked again, lost, and reopened
    run(services, UnlockOpportunity(opportunity_id=opportunity_id))
    lost = run(services, LoseOpportunity(opportunity_id=opportunity_id, reason="budget cut"))
    assert load(services, Opportunity, opportunity_id).status == "lost"
    refused(
        services,
        MoveOpportunityToStage(opportunity_id=opportunity_id, stage="negotiation"),
        RuleViolated,
        "reopen it",
    )
    reopened = run(services, ReopenOpportunity(opportunity_id=opportunity_id))
    # Then it is open again in the stage it was lost from
    opportunity = load(services, Opportunity, opportunity_id)
    assert (opportunity.status, opportunity.stage, opportunity.close_reason) == (
        "open",
        "proposal",
        None,
    )
    assert reopened.version == lost.version + 1
    assert event_types(services.store.history(opportunity_id))[-2:] == [
        OpportunityLost,
        OpportunityReopened,
    ]


def test_copy_duplicate_and_delete_keep_the_two_aggregate_rules(services: Services) -> None:
    # Given an opportunity with an active quote with an item, and an inactive duplicate
    catalogue = Catalogue(services)
    source_id, quote_id = uuid4(), uuid4()
    run(
        services,
        create_opportunity(
            source_id,
            account="Globex",
            title="Globex pilot",
            owner="carol",
            expected_close=date(2027, 5, 31),
        ),
    )
    run(
        services,
        CreateQuote(
            quote_id=quote_id,
            opportunity_id=source_id,
            name="Pilot",
            price_book_id=catalogue.price_book,
        ),
    )
    run(
        services,
        AddQuoteItem(
            quote_id=quote_id, item_id=uuid4(), product_id=catalogue.licence, quantity=Decimal(4)
        ),
    )
    run(services, ActivateQuote(quote_id=quote_id))
    duplicate_id = uuid4()
    duplicated = run(
        services, DuplicateQuote(quote_id=quote_id, new_quote_id=duplicate_id, name="Pilot B")
    )
    assert (duplicated.id, duplicated.version, duplicated.created) == (duplicate_id, 1, True)
    duplicate = load(services, Quote, duplicate_id)
    assert (duplicate.active, duplicate.total, duplicate.copied_from) == (
        False,
        eur("100.00"),
        quote_id,
    )

    # When the active quote is deleted / Then it is refused and nothing is written
    refused(services, DeleteQuote(quote_id=quote_id), RuleViolated, "active quote")
    # When the inactive duplicate is deleted
    run(services, DeleteQuote(quote_id=duplicate_id))
    # Then it is gone and the opportunity no longer lists it
    assert load(services, Quote, duplicate_id).deleted
    assert load(services, Opportunity, source_id).quote_ids == (quote_id,)
    refused(services, ActivateQuote(quote_id=duplicate_id), NotFound, "no quote")

    # When the opportunity is copied
    copy_id = uuid4()
    copied = run(services, CopyOpportunity(opportunity_id=source_id, new_opportunity_id=copy_id))
    # Then the copy is open with a copy of the active quote, active, at the same amount
    assert (copied.id, copied.created) == (copy_id, True)
    copy = load(services, Opportunity, copy_id)
    copied_quote_id = uuid5(copy_id, str(quote_id))
    assert (copy.title, copy.copied_from, copy.quote_ids, copy.active_quote_id) == (
        "Globex pilot (copy)",
        source_id,
        (copied_quote_id,),
        copied_quote_id,
    )
    assert copy.amount == load(services, Opportunity, source_id).amount == eur("100.00")
    copied_quote = load(services, Quote, copied_quote_id)
    assert (copied_quote.opportunity_id, copied_quote.active, copied_quote.total) == (
        copy_id,
        True,
        eur("100.00"),
    )
    # And copying onto a taken id is refused
    refused(
        services,
        CopyOpportunity(opportunity_id=source_id, new_opportunity_id=copy_id),
        AlreadyExists,
        "is already taken",
    )

    # When the copy is deleted
    run(services, DeleteOpportunity(opportunity_id=copy_id))
    # Then it and its quotes are deleted; the source is untouched; commands on it are 404
    assert load(services, Opportunity, copy_id).deleted
    assert load(services, Quote, copied_quote_id).deleted
    assert not load(services, Opportunity, source_id).deleted
    refused(
        services,
        MoveOpportunityToStage(opportunity_id=copy_id, stage="proposal"),
        NotFound,
        "no opportunity",
    )


def test_history_lists_an_aggregates_events_in_version_order_with_their_times(
    services: Services, clock: ManualClock
) -> None:
    # Given an opportunity moved through three stages, an hour apart
    opportunity_id = uuid4()
    run(
        services,
        create_opportunity(
            opportunity_id,
            account="Initech",
            title="Initech",
            owner="dave",
            expected_close=date(2027, 4, 30),
        ),
    )
    times = [clock.now()]
    for stage in ["qualification", "proposal", "negotiation"]:
        times.append(clock.advance(timedelta(hours=1)))
        moved = run(services, MoveOpportunityToStage(opportunity_id=opportunity_id, stage=stage))
    # When its history is read
    history = services.store.history(opportunity_id)
    # Then it has every event once, versions 1..n, times as the clock said
    assert moved.version == 4
    assert [e.originator_version for e in history] == [1, 2, 3, 4]
    assert {e.originator_id for e in history} == {opportunity_id}
    assert [e.recorded_at for e in history] == times
    assert event_types(history) == [OpportunityCreated] + [OpportunityMovedToStage] * 3
    assert [(e.previous_stage, e.stage) for e in history[1:]] == [
        ("initial_contact", "qualification"),
        ("qualification", "proposal"),
        ("proposal", "negotiation"),
    ]
    # And positions increase with versions
    positions = [services.store.position_of(opportunity_id, v) for v in range(1, 5)]
    assert positions == sorted(positions) and positions[-1] == moved.position
    # And an unknown aggregate has no history
    assert services.store.history(uuid4()) == []
