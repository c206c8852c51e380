"""Rules spanning an opportunity and its quotes (domain/selling.py), against events.

Figures used throughout (EUR, hand-computed):
  quote Q1 (active):  A1 = 10 × 25.00             =   250.00
                      A2 =  2 × 1200.00 × (1 − 10%) = 2,160.00   → total 2,410.00
  quote Q2:           B1 =  1 × 100.00             =   100.00   → total   100.00
  quote Q3:           deleted
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid5

import msgspec
import pytest

from domain import opportunity as opp_rules
from domain import quote as quote_rules
from domain import selling
from domain.aggregate import fold
from domain.errors import InvalidInput, Locked, NotFound, RuleViolated
from domain.events import DomainEvent
from domain.money import Money
from domain.opportunity import (
    ActiveQuoteChanged,
    Opportunity,
    OpportunityAmountChanged,
    OpportunityCreated,
    OpportunityDeleted,
    OpportunityForecastCategorySet,
    OpportunityLost,
    OpportunityMovedToStage,
    OpportunityProbabilitySet,
    OpportunitySold,
    OpportunityUnlocked,
    PartnerAssigned,
    QuoteAdded,
    QuoteRemoved,
    SoldItem,
)
from domain.quote import (
    Quote,
    QuoteActivated,
    QuoteCreated,
    QuoteCurrencyChanged,
    QuoteDeactivated,
    QuoteDeleted,
    QuoteDetailsChanged,
    QuoteItemAdded,
    QuoteItemRemoved,
    QuoteLocked,
    QuoteRoundingSet,
    QuoteUnlocked,
)
from tests.builders import (
    NOW,
    OPPORTUNITY_ID,
    PARTNER,
    SALES,
    eur,
    item,
    money,
    opportunity_created,
    quote_state,
)
from tests.gwt import given

OPP = OPPORTUNITY_ID
Q1 = UUID("00000000-0000-4000-8000-0000000000a1")
Q2 = UUID("00000000-0000-4000-8000-0000000000a2")
Q3 = UUID("00000000-0000-4000-8000-0000000000a3")
NEW = UUID("00000000-0000-4000-8000-0000000000f1")
NEW_OPP = UUID("00000000-0000-4000-8000-0000000000e1")
COPY_Q1 = UUID("00000000-0000-4000-8000-0000000000e2")
COPY_Q2 = UUID("00000000-0000-4000-8000-0000000000e3")
COPY_Q3 = UUID("00000000-0000-4000-8000-0000000000e4")
BOOK_ID = UUID("00000000-0000-4000-8000-0000000000c9")

A1 = item("25.00", "10", item_id=UUID("00000000-0000-4000-8000-000000000101"))
A2 = item(
    "1200.00",
    "2",
    "10",
    name="Implementation",
    kind="one_off",
    item_id=UUID("00000000-0000-4000-8000-000000000102"),
)
B1 = item("100.00", "1", item_id=UUID("00000000-0000-4000-8000-000000000201"))


def amount_from_quote(amount: Money, *, previous: Money) -> OpportunityAmountChanged:
    """The opportunity amount set to the active quote's total."""
    return OpportunityAmountChanged(amount=amount, previous=previous, source="active_quote")


IN_NEGOTIATION = OpportunityMovedToStage(stage="negotiation", previous_stage="initial_contact")
Q1_ACTIVE: tuple[DomainEvent, ...] = (
    ActiveQuoteChanged(quote_id=Q1),
    amount_from_quote(eur("2410.00"), previous=eur("0.00")),
)
SOLD = OpportunitySold(
    sold_at=NOW,
    quote_id=Q1,
    stage="won",
    previous_stage="negotiation",
    amount=eur("2410.00"),
    items=(),
)


def _opp(*events: DomainEvent) -> tuple[DomainEvent, ...]:
    """An opportunity in negotiation holding Q1, Q2, Q3, followed by ``events``."""
    return (
        opportunity_created(),
        QuoteAdded(quote_id=Q1),
        QuoteAdded(quote_id=Q2),
        QuoteAdded(quote_id=Q3),
        IN_NEGOTIATION,
        *events,
    )


def _q1(*events: DomainEvent, **overrides: Any) -> Quote:
    fields: dict[str, Any] = {"originator_id": Q1, **overrides}
    return quote_state(QuoteItemAdded(item=A1), QuoteItemAdded(item=A2), *events, **fields)


def _q2(*events: DomainEvent) -> Quote:
    return quote_state(QuoteItemAdded(item=B1), *events, originator_id=Q2, name="Q2")


def _q3(*events: DomainEvent) -> Quote:
    return quote_state(QuoteDeleted(), *events, originator_id=Q3, name="Q3")


def _quotes(*events: DomainEvent) -> list[Quote]:
    """Q1 (active), Q2 and the deleted Q3, each followed by ``events``."""
    return [_q1(QuoteActivated(), *events), _q2(*events), _q3()]


def _copied(item_id: UUID, new_quote_id: UUID) -> UUID:
    return uuid5(new_quote_id, str(item_id))


def test_the_fixture_figures_are_what_the_docstring_says() -> None:
    assert _q1().total == money("2410.00", "EUR")
    assert _q2().total == money("100.00", "EUR")
    assert fold(None, _opp(*Q1_ACTIVE)).amount == money("2410.00", "EUR")


# --- add quote --------------------------------------------------------------------


def test_adding_a_quote_creates_it_and_lists_it_on_the_opportunity() -> None:
    created = quote_rules.create(OPP, "Q4", "EUR")
    when = given(*_opp()).when(lambda opp: selling.add_quote(opp, NEW, created))
    when.then_changes({NEW: created, OPP: [QuoteAdded(quote_id=NEW)]})
    state = fold(when.state, [QuoteAdded(quote_id=NEW)])
    assert state.quote_ids == (Q1, Q2, Q3, NEW)
    assert state.active_quote_id is None


def test_a_quote_cannot_be_added_to_a_sold_opportunity() -> None:
    given(*_opp(*Q1_ACTIVE, SOLD)).when(
        lambda opp: selling.add_quote(opp, NEW, quote_rules.create(OPP, "Q4", "EUR"))
    ).then_raises(Locked, "is sold and locked; unlock it to change it.")


def test_a_quote_cannot_be_added_to_a_lost_opportunity() -> None:
    lost = OpportunityLost(reason="price", stage="lost", previous_stage="negotiation")
    given(*_opp(lost)).when(
        lambda opp: selling.add_quote(opp, NEW, quote_rules.create(OPP, "Q4", "EUR"))
    ).then_raises(RuleViolated, "is lost; reopen it to change it.")


# --- change quote: the amount follows the ACTIVE quote only -----------------------------


def test_a_change_to_the_active_quote_moves_the_opportunity_amount() -> None:
    extra = item("100.00", "1", "5")
    q1 = _q1(QuoteActivated())
    events = quote_rules.add_item(q1, extra)
    given(*_opp(*Q1_ACTIVE)).when(lambda opp: selling.change_quote(opp, q1, events)).then_changes(
        {
            Q1: events,
            # 2,410.00 + 1 × 100.00 × 0.95 = 2,505.00
            OPP: [amount_from_quote(eur("2505.00"), previous=eur("2410.00"))],
        }
    )


def test_a_change_to_an_inactive_quote_leaves_the_amount_alone() -> None:
    q2 = _q2()
    events = quote_rules.add_item(q2, item("999.00", "3"))
    given(*_opp(*Q1_ACTIVE)).when(lambda opp: selling.change_quote(opp, q2, events)).then_changes(
        {Q2: events}
    )


def test_a_change_to_an_inactive_quote_leaves_a_manual_amount_alone() -> None:
    q2 = _q2()
    events = quote_rules.remove_item(q2, B1.id)
    given(
        *_opp(OpportunityAmountChanged(amount=eur("700.00"), previous=eur("0.00"), source="manual"))
    ).when(lambda opp: selling.change_quote(opp, q2, events)).then_changes({Q2: events})


def test_a_change_to_the_active_quote_that_keeps_its_total_leaves_the_amount_alone() -> None:
    q1 = _q1(QuoteActivated())
    events: list[DomainEvent] = [
        QuoteDetailsChanged(name="Q1 final", valid_from=None, valid_until=None)
    ]
    given(*_opp(*Q1_ACTIVE)).when(lambda opp: selling.change_quote(opp, q1, events)).then_changes(
        {Q1: events}
    )


def test_removing_every_item_of_the_active_quote_brings_the_amount_to_zero() -> None:
    q1 = _q1(QuoteActivated())
    events: list[DomainEvent] = [QuoteItemRemoved(item_id=A1.id), QuoteItemRemoved(item_id=A2.id)]
    given(*_opp(*Q1_ACTIVE)).when(lambda opp: selling.change_quote(opp, q1, events)).then_changes(
        {
            Q1: events,
            OPP: [amount_from_quote(eur("0.00"), previous=eur("2410.00"))],
        }
    )


def test_the_amount_follows_the_active_quote_into_its_new_currency() -> None:
    q1 = _q1(QuoteActivated())
    events = quote_rules.change_currency(
        q1, "USD", price_book=None, rate_from=Decimal(1), rate_to=Decimal("0.9")
    )
    # A1: 25.00 / 0.9 = 27.777… → 27.78; 10 × 27.78 = 277.80
    # A2: 1200.00 / 0.9 = 1333.333… → 1333.33; 2 × 1333.33 × 0.9 = 2399.994 → 2399.99
    # total 277.80 + 2399.99 = 2677.79 USD
    assert isinstance(events[0], QuoteCurrencyChanged)
    given(*_opp(*Q1_ACTIVE)).when(lambda opp: selling.change_quote(opp, q1, events)).then_changes(
        {
            Q1: events,
            OPP: [amount_from_quote(money("2677.79", "USD"), previous=eur("2410.00"))],
        }
    )


def test_a_change_that_would_make_the_active_total_negative_is_refused() -> None:
    q1 = _q1(QuoteActivated())
    events = quote_rules.set_rounding(q1, Decimal("-5000.00"))
    # 2,410.00 − 5,000.00 = −2,590.00
    given(*_opp(*Q1_ACTIVE)).when(lambda opp: selling.change_quote(opp, q1, events)).then_raises(
        RuleViolated,
        "the active quote's total would be -2,590.00 EUR; "
        "an opportunity amount cannot be negative.",
    )


def test_a_quote_of_another_opportunity_cannot_be_changed_through_this_one() -> None:
    stranger = quote_state(originator_id=NEW, opportunity_id=NEW_OPP)
    given(*_opp()).when(
        lambda opp: selling.change_quote(opp, stranger, [QuoteRoundingSet(rounding=None)])
    ).then_raises(InvalidInput, f"quote {NEW} does not belong to opportunity {OPP}.")


def test_quotes_of_a_sold_opportunity_cannot_change() -> None:
    q2 = _q2(QuoteLocked())
    given(*_opp(*Q1_ACTIVE, SOLD)).when(
        lambda opp: selling.change_quote(opp, q2, [QuoteRoundingSet(rounding=None)])
    ).then_raises(Locked, "unlock it to change it.")


# --- activate / deactivate ---------------------------------------------------------


def test_activating_a_quote_makes_the_amount_its_total() -> None:
    when = given(*_opp()).when(lambda opp: selling.activate_quote(opp, _q2(), None))
    when.then_changes(
        {
            Q2: [QuoteActivated()],
            OPP: [
                ActiveQuoteChanged(quote_id=Q2),
                amount_from_quote(eur("100.00"), previous=eur("0.00")),
            ],
        }
    )


def test_activating_a_quote_deactivates_the_previous_one() -> None:
    q1 = _q1(QuoteActivated())
    when = given(*_opp(*Q1_ACTIVE)).when(lambda opp: selling.activate_quote(opp, _q2(), q1))
    when.then_changes(
        {
            Q2: [QuoteActivated()],
            Q1: [QuoteDeactivated()],
            OPP: [
                ActiveQuoteChanged(quote_id=Q2),
                amount_from_quote(eur("100.00"), previous=eur("2410.00")),
            ],
        }
    )
    # After the save exactly one quote is active, and it is the opportunity's active quote.
    changes = selling.activate_quote(when.state, _q2(), q1)
    q1_after, q2_after = fold(q1, changes[Q1]), fold(_q2(), changes[Q2])
    opp_after: Opportunity = fold(when.state, changes[OPP])
    assert (q1_after.active, q2_after.active) == (False, True)
    assert (opp_after.active_quote_id, opp_after.amount) == (Q2, eur("100.00"))


def test_activating_a_quote_whose_total_is_the_amount_records_no_amount_change() -> None:
    manual = OpportunityAmountChanged(amount=eur("100.00"), previous=eur("0.00"), source="manual")
    given(*_opp(manual)).when(lambda opp: selling.activate_quote(opp, _q2(), None)).then_changes(
        {Q2: [QuoteActivated()], OPP: [ActiveQuoteChanged(quote_id=Q2)]}
    )


def test_activating_an_empty_quote_replaces_a_manual_amount_with_zero() -> None:
    empty = quote_state(originator_id=NEW, name="Empty")
    manual = OpportunityAmountChanged(amount=eur("1500.00"), previous=eur("0.00"), source="manual")
    given(*_opp(manual)).when(lambda opp: selling.activate_quote(opp, empty, None)).then_changes(
        {
            NEW: [QuoteActivated()],
            OPP: [
                ActiveQuoteChanged(quote_id=NEW),
                amount_from_quote(eur("0.00"), previous=eur("1500.00")),
            ],
        }
    )


def test_the_active_quote_cannot_be_activated_again() -> None:
    given(*_opp(*Q1_ACTIVE)).when(
        lambda opp: selling.activate_quote(opp, _q1(QuoteActivated()), None)
    ).then_raises(RuleViolated, "quote 'Q1' is already the active quote.")


def test_a_deleted_quote_cannot_be_activated() -> None:
    given(*_opp()).when(lambda opp: selling.activate_quote(opp, _q3(), None)).then_raises(
        NotFound, f"quote {Q3} was deleted."
    )


def test_no_quote_can_be_activated_on_a_sold_opportunity() -> None:
    given(*_opp(*Q1_ACTIVE, SOLD)).when(
        lambda opp: selling.activate_quote(opp, _q2(QuoteLocked()), _q1(QuoteActivated()))
    ).then_raises(Locked, "unlock it to change it.")


def test_deactivating_the_active_quote_keeps_the_amount_it_had() -> None:
    when = given(*_opp(*Q1_ACTIVE)).when(
        lambda opp: selling.deactivate_quote(opp, _q1(QuoteActivated()))
    )
    when.then_changes({Q1: [QuoteDeactivated()], OPP: [ActiveQuoteChanged(quote_id=None)]})
    after: Opportunity = fold(when.state, [ActiveQuoteChanged(quote_id=None)])
    assert (after.active_quote_id, after.amount) == (None, eur("2410.00"))
    # …and from now on the amount is set by hand.
    assert opp_rules.change_amount(after, eur("2000.00")) == [
        OpportunityAmountChanged(amount=eur("2000.00"), previous=eur("2410.00"), source="manual")
    ]


def test_an_inactive_quote_cannot_be_deactivated() -> None:
    given(*_opp(*Q1_ACTIVE)).when(lambda opp: selling.deactivate_quote(opp, _q2())).then_raises(
        RuleViolated, "quote 'Q2' is not the active quote."
    )


# --- delete quote -----------------------------------------------------------------


def test_deleting_an_inactive_quote_removes_it_from_the_opportunity() -> None:
    when = given(*_opp(*Q1_ACTIVE)).when(lambda opp: selling.delete_quote(opp, _q2()))
    when.then_changes({Q2: [QuoteDeleted()], OPP: [QuoteRemoved(quote_id=Q2)]})
    after: Opportunity = fold(when.state, [QuoteRemoved(quote_id=Q2)])
    assert after.quote_ids == (Q1, Q3)


def test_the_active_quote_cannot_be_deleted() -> None:
    given(*_opp(*Q1_ACTIVE)).when(
        lambda opp: selling.delete_quote(opp, _q1(QuoteActivated()))
    ).then_raises(
        RuleViolated,
        "quote 'Q1' is the active quote and cannot be deleted; activate another quote first.",
    )


def test_a_locked_quote_cannot_be_deleted() -> None:
    given(*_opp(*Q1_ACTIVE, SOLD)).when(
        lambda opp: selling.delete_quote(opp, _q2(QuoteLocked()))
    ).then_raises(Locked, "quote 'Q2' is locked because its opportunity was sold.")


def test_deleting_the_locked_active_quote_names_the_lock() -> None:
    # The lock is named before the rule that the active quote stays.
    given(*_opp(*Q1_ACTIVE, SOLD)).when(
        lambda opp: selling.delete_quote(opp, _q1(QuoteActivated(), QuoteLocked()))
    ).then_raises(Locked, "quote 'Q1' is locked because its opportunity was sold.")


def test_a_deleted_quote_cannot_be_deleted_again() -> None:
    given(*_opp()).when(lambda opp: selling.delete_quote(opp, _q3())).then_raises(
        NotFound, f"quote {Q3} was deleted."
    )


def test_a_quote_of_another_opportunity_cannot_be_deleted_through_this_one() -> None:
    stranger = quote_state(originator_id=NEW, opportunity_id=NEW_OPP)
    given(*_opp()).when(lambda opp: selling.delete_quote(opp, stranger)).then_raises(
        InvalidInput, "does not belong to opportunity"
    )


# --- duplicate quote ------------------------------------------------------------------


def test_duplicating_makes_an_inactive_copy_with_new_deterministic_item_ids() -> None:
    source = _q1(
        QuoteActivated(),
        QuoteRoundingSet(rounding=Decimal("-0.10")),
        QuoteDetailsChanged(name="Q1", valid_from=date(2027, 1, 1), valid_until=date(2027, 2, 1)),
        price_book_id=BOOK_ID,
        brand="Acme",
        product_version="2027.1",
    )
    when = given(*_opp(*Q1_ACTIVE)).when(lambda opp: selling.duplicate_quote(opp, source, NEW))
    copy_event = QuoteCreated(
        opportunity_id=OPP,
        name="Q1 (copy)",
        currency="EUR",
        price_book_id=BOOK_ID,
        brand="Acme",
        product_version="2027.1",
        valid_from=date(2027, 1, 1),
        valid_until=date(2027, 2, 1),
        items=(
            msgspec.structs.replace(A1, id=_copied(A1.id, NEW)),
            msgspec.structs.replace(A2, id=_copied(A2.id, NEW)),
        ),
        rounding=Decimal("-0.10"),
        copied_from=Q1,
    )
    when.then_changes({NEW: [copy_event], OPP: [QuoteAdded(quote_id=NEW)]})
    copy: Quote = fold(None, [msgspec.structs.replace(copy_event, originator_id=NEW)])
    # 2,410.00 − 0.10 = 2,409.90, as the original
    assert (copy.active, copy.locked, copy.total) == (False, False, eur("2409.90"))
    assert {i.id for i in copy.items}.isdisjoint({A1.id, A2.id})


def test_duplicating_twice_with_the_same_new_id_gives_the_same_item_ids() -> None:
    opp: Opportunity = fold(None, _opp())
    first = selling.duplicate_quote(opp, _q1(), NEW)[NEW][0]
    second = selling.duplicate_quote(opp, _q1(), NEW)[NEW][0]
    assert isinstance(first, QuoteCreated)
    assert isinstance(second, QuoteCreated)
    assert [i.id for i in first.items] == [i.id for i in second.items]
    other = selling.duplicate_quote(opp, _q1(), COPY_Q1)[COPY_Q1][0]
    assert isinstance(other, QuoteCreated)
    assert {i.id for i in other.items}.isdisjoint({i.id for i in first.items})


def test_a_duplicate_may_be_named() -> None:
    opp: Opportunity = fold(None, _opp())
    [created] = selling.duplicate_quote(opp, _q2(), NEW, " Q2 discounted ")[NEW]
    assert isinstance(created, QuoteCreated)
    assert created.name == "Q2 discounted"


def test_a_deleted_quote_cannot_be_duplicated() -> None:
    given(*_opp()).when(lambda opp: selling.duplicate_quote(opp, _q3(), NEW)).then_raises(
        RuleViolated, f"quote {Q3} was deleted."
    )


def test_quotes_of_a_sold_opportunity_cannot_be_duplicated() -> None:
    given(*_opp(*Q1_ACTIVE, SOLD)).when(
        lambda opp: selling.duplicate_quote(opp, _q1(QuoteActivated(), QuoteLocked()), NEW)
    ).then_raises(Locked, "unlock it to change it.")


# --- sell -------------------------------------------------------------------------


def test_selling_snapshots_the_active_quote_items_and_locks_every_live_quote() -> None:
    given(*_opp(*Q1_ACTIVE)).when(
        lambda opp: selling.sell(opp, SALES, _quotes(), sold_at=NOW, now=NOW)
    ).then_changes(
        {
            OPP: [
                OpportunitySold(
                    sold_at=NOW,
                    quote_id=Q1,
                    stage="won",
                    previous_stage="negotiation",
                    amount=eur("2410.00"),
                    items=(
                        SoldItem(item=A1, line_total=eur("250.00")),
                        SoldItem(item=A2, line_total=eur("2160.00")),
                    ),
                )
            ],
            Q1: [QuoteLocked()],
            Q2: [QuoteLocked()],
            # Q3 was deleted: nothing to lock
        }
    )


def test_a_sold_opportunity_is_won_locked_and_remembers_the_stage_it_left() -> None:
    state: Opportunity = (
        given(*_opp(*Q1_ACTIVE))
        .when(lambda opp: selling.sell(opp, SALES, _quotes(), sold_at=NOW, now=NOW)[OPP])
        .then_state()
    )
    assert (state.status, state.locked, state.stage, state.sold_at) == ("won", True, "won", NOW)
    assert state.stage_before_close == "negotiation"
    assert (state.probability(SALES), state.forecast_category(SALES)) == (100, "closed")


def test_sold_items_carry_line_totals_in_the_quote_currency() -> None:
    jpy_item = item("333.5", "3", kind="one_off")
    q = quote_state(QuoteItemAdded(item=jpy_item), QuoteActivated(), currency="JPY")
    opp = _opp(
        ActiveQuoteChanged(quote_id=Q1),
        amount_from_quote(money("1001", "JPY"), previous=eur("0.00")),
    )
    changes = selling.sell(fold(None, opp), SALES, [q], sold_at=NOW, now=NOW)
    [sold] = changes[OPP]
    assert isinstance(sold, OpportunitySold)
    # 3 × 333.5 = 1000.5 → 1001 JPY
    assert sold.items == (SoldItem(item=jpy_item, line_total=money("1001", "JPY")),)
    assert str(sold.items[0].line_total.amount) == "1001"
    assert sold.amount == money("1001", "JPY")


def test_a_sale_may_take_effect_in_the_past() -> None:
    # "sold on the 31st, recorded on the 2nd"
    sold_at = datetime(2026, 12, 31, 17, 0, tzinfo=UTC)
    now = datetime(2027, 1, 2, 8, 0, tzinfo=UTC)
    changes = selling.sell(fold(None, _opp(*Q1_ACTIVE)), SALES, _quotes(), sold_at=sold_at, now=now)
    [sold] = changes[OPP]
    assert isinstance(sold, OpportunitySold)
    assert sold.sold_at == sold_at


def test_a_sale_cannot_take_effect_in_the_future() -> None:
    later = datetime(2027, 1, 4, 9, 0, 1, tzinfo=UTC)
    given(*_opp(*Q1_ACTIVE)).when(
        lambda opp: selling.sell(opp, SALES, _quotes(), sold_at=later, now=NOW)
    ).then_raises(InvalidInput, "an opportunity cannot be sold in the future.")


def test_selling_without_an_active_quote_is_refused() -> None:
    given(*_opp()).when(
        lambda opp: selling.sell(opp, SALES, [_q1(), _q2()], sold_at=NOW, now=NOW)
    ).then_raises(RuleViolated, "selling needs an active quote with at least one item.")


def test_selling_an_active_quote_without_items_is_refused() -> None:
    empty = quote_state(QuoteActivated(), originator_id=Q1)
    given(*_opp(ActiveQuoteChanged(quote_id=Q1))).when(
        lambda opp: selling.sell(opp, SALES, [empty], sold_at=NOW, now=NOW)
    ).then_raises(RuleViolated, "selling needs an active quote with at least one item.")


def test_selling_twice_is_refused() -> None:
    given(*_opp(*Q1_ACTIVE, SOLD)).when(
        lambda opp: selling.sell(opp, SALES, _quotes(QuoteLocked()), sold_at=NOW, now=NOW)
    ).then_raises(Locked, "opportunity 'ACME rollout' is already sold.")


def test_a_lost_opportunity_cannot_be_sold_before_it_is_reopened() -> None:
    lost = OpportunityLost(reason="price", stage="lost", previous_stage="negotiation")
    given(*_opp(*Q1_ACTIVE, lost)).when(
        lambda opp: selling.sell(opp, SALES, _quotes(), sold_at=NOW, now=NOW)
    ).then_raises(RuleViolated, "is lost; reopen it to change it.")


def test_a_deleted_opportunity_cannot_be_sold() -> None:
    given(*_opp(*Q1_ACTIVE, OpportunityDeleted())).when(
        lambda opp: selling.sell(opp, SALES, _quotes(), sold_at=NOW, now=NOW)
    ).then_raises(NotFound, "was deleted.")


# --- unlock -------------------------------------------------------------------------


def test_unlocking_reopens_in_the_stage_before_close_and_unlocks_the_quotes() -> None:
    given(*_opp(*Q1_ACTIVE, SOLD)).when(
        lambda opp: selling.unlock(
            opp, SALES, [_q1(QuoteActivated(), QuoteLocked()), _q2(QuoteLocked()), _q3()]
        )
    ).then_changes(
        {
            OPP: [OpportunityUnlocked(stage="negotiation")],
            Q1: [QuoteUnlocked()],
            Q2: [QuoteUnlocked()],
        }
    )


def test_an_unlocked_opportunity_is_open_and_changeable_again() -> None:
    state: Opportunity = fold(
        None, _opp(*Q1_ACTIVE, SOLD, OpportunityUnlocked(stage="negotiation"))
    )
    assert (state.status, state.locked, state.stage, state.sold_at) == (
        "open",
        False,
        "negotiation",
        None,
    )
    assert state.active_quote_id == Q1
    q1 = _q1(QuoteActivated(), QuoteLocked(), QuoteUnlocked())
    events = quote_rules.remove_item(q1, A2.id)
    assert selling.change_quote(state, q1, events) == {
        Q1: events,
        OPP: [amount_from_quote(eur("250.00"), previous=eur("2410.00"))],
    }


def test_an_unlocked_opportunity_can_be_sold_again() -> None:
    reopened = _opp(*Q1_ACTIVE, SOLD, OpportunityUnlocked(stage="negotiation"))
    changes = selling.sell(fold(None, reopened), SALES, _quotes(), sold_at=NOW, now=NOW)
    assert sorted(changes) == sorted([OPP, Q1, Q2])


def test_an_open_opportunity_cannot_be_unlocked() -> None:
    given(*_opp(*Q1_ACTIVE)).when(lambda opp: selling.unlock(opp, SALES, _quotes())).then_raises(
        RuleViolated, "opportunity 'ACME rollout' is not locked."
    )


# --- delete opportunity --------------------------------------------------------------


def test_deleting_an_opportunity_deletes_its_live_quotes() -> None:
    given(*_opp(*Q1_ACTIVE)).when(
        lambda opp: selling.delete_opportunity(opp, _quotes())
    ).then_changes({OPP: [OpportunityDeleted()], Q1: [QuoteDeleted()], Q2: [QuoteDeleted()]})


def test_a_lost_opportunity_can_be_deleted() -> None:
    lost = OpportunityLost(reason="price", stage="lost", previous_stage="negotiation")
    given(*_opp(lost)).when(lambda opp: selling.delete_opportunity(opp, [_q2()])).then_changes(
        {OPP: [OpportunityDeleted()], Q2: [QuoteDeleted()]}
    )


def test_a_sold_opportunity_cannot_be_deleted() -> None:
    given(*_opp(*Q1_ACTIVE, SOLD)).when(
        lambda opp: selling.delete_opportunity(opp, _quotes(QuoteLocked()))
    ).then_raises(Locked, "opportunity 'ACME rollout' is sold and cannot be deleted.")


def test_a_deleted_opportunity_cannot_be_deleted_again() -> None:
    given(*_opp(OpportunityDeleted())).when(
        lambda opp: selling.delete_opportunity(opp, [])
    ).then_raises(NotFound, f"opportunity {OPP} was deleted.")


# --- copy opportunity ---------------------------------------------------------------


def _copy(
    source: Sequence[DomainEvent], quotes: list[Quote], title: str | None = None
) -> selling.Changes:
    return selling.copy_opportunity(
        fold(None, source),
        SALES,
        quotes,
        new_id=NEW_OPP,
        title=title,
        quote_ids={Q1: COPY_Q1, Q2: COPY_Q2, Q3: COPY_Q3},
    )


def test_copying_an_opportunity_copies_its_quotes_and_the_copy_of_the_active_one_is_active() -> (
    None
):
    source = _opp(
        *Q1_ACTIVE,
        OpportunityProbabilitySet(probability=80),
        OpportunityForecastCategorySet(forecast_category="best_case"),
        PartnerAssigned(partner_id=PARTNER),
    )
    given(*source).when(lambda _: _copy(source, _quotes())).then_changes(
        {
            NEW_OPP: [
                opportunity_created(
                    title="ACME rollout (copy)",
                    stage="negotiation",
                    amount=eur("2410.00"),
                    probability=80,
                    forecast_category="best_case",
                    partner_id=PARTNER,
                    copied_from=OPP,
                ),
                QuoteAdded(quote_id=COPY_Q1),
                ActiveQuoteChanged(quote_id=COPY_Q1),
                QuoteAdded(quote_id=COPY_Q2),
            ],
            COPY_Q1: [
                QuoteCreated(
                    opportunity_id=NEW_OPP,
                    name="Q1",
                    currency="EUR",
                    items=(
                        msgspec.structs.replace(A1, id=_copied(A1.id, COPY_Q1)),
                        msgspec.structs.replace(A2, id=_copied(A2.id, COPY_Q1)),
                    ),
                    copied_from=Q1,
                ),
                QuoteActivated(),
            ],
            COPY_Q2: [
                QuoteCreated(
                    opportunity_id=NEW_OPP,
                    name="Q2",
                    currency="EUR",
                    items=(msgspec.structs.replace(B1, id=_copied(B1.id, COPY_Q2)),),
                    copied_from=Q2,
                )
            ],
            # the deleted Q3 is not copied
        }
    )


def test_the_copy_amount_is_its_active_quote_total() -> None:
    changes = _copy(_opp(*Q1_ACTIVE), _quotes())
    new_opp: Opportunity = fold(
        None,
        [
            msgspec.structs.replace(changes[NEW_OPP][0], originator_id=NEW_OPP),
            *changes[NEW_OPP][1:],
        ],
    )
    new_q1: Quote = fold(
        None,
        [
            msgspec.structs.replace(changes[COPY_Q1][0], originator_id=COPY_Q1),
            *changes[COPY_Q1][1:],
        ],
    )
    assert (new_opp.active_quote_id, new_q1.active, new_q1.locked) == (COPY_Q1, True, False)
    assert new_opp.amount == new_q1.total == eur("2410.00")
    assert (new_opp.status, new_opp.locked, new_opp.copied_from) == ("open", False, OPP)


def test_a_copy_of_a_sold_opportunity_is_open_in_the_stage_before_close_with_unlocked_quotes() -> (
    None
):
    changes = _copy(_opp(*Q1_ACTIVE, SOLD), _quotes(QuoteLocked()), title="ACME renewal")
    created = changes[NEW_OPP][0]
    assert isinstance(created, OpportunityCreated)
    assert (created.title, created.stage) == ("ACME renewal", "negotiation")
    assert all(not isinstance(e, QuoteLocked) for events in changes.values() for e in events)


def test_a_copy_of_a_lost_opportunity_starts_in_the_stage_before_close() -> None:
    lost = OpportunityLost(reason="price", stage="lost", previous_stage="negotiation")
    created = _copy(_opp(lost), [_q2()])[NEW_OPP][0]
    assert isinstance(created, OpportunityCreated)
    assert created.stage == "negotiation"


def test_a_deleted_opportunity_cannot_be_copied() -> None:
    given(*_opp(OpportunityDeleted())).when(
        lambda _: _copy(_opp(OpportunityDeleted()), [])
    ).then_raises(NotFound, "was deleted.")


@pytest.mark.parametrize("quotes", [[], [_q3()]])
def test_a_copy_without_live_quotes_has_no_active_quote(quotes: list[Quote]) -> None:
    changes = _copy(_opp(), quotes)
    assert list(changes) == [NEW_OPP]
    assert [type(e) for e in changes[NEW_OPP]] == [OpportunityCreated]
