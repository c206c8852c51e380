"""The Contract aggregate and the contracts process manager's decisions (domain/contract/).

Figures used throughout (EUR, hand-computed):
  LICENCE    time-based, 12 months: 10 × 25.00                = 250.00
  SUITE      bundle, 12 months:      1 × 100.00                = 100.00
             components Licence (weight 2) and Support (weight 1):
             exact shares 66.666… and 33.333… → 66.66 + 33.33 = 99.99, the cent left
             goes to Licence (it lost 0.006…, Support 0.003…) → 66.67 + 33.33 = 100.00
  SETUP      one-off:                2 × 1200.00 × (1 − 10%) = 2,160.00
The sale is effective on 2027-01-04, so time-based contracts run to 2028-01-04.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import msgspec
import pytest

from domain import contract as rules
from domain.contract import (
    NO_LONGER_SOLD,
    Contract,
    ContractAmended,
    ContractCancelled,
    ContractCreated,
    ContractExpired,
    ContractFulfilled,
    ContractRenewalDue,
    ContractRenewalWithdrawn,
    ContractRenewed,
    ContractTerms,
    Current,
    Timer,
    add_months,
    contract_id_for,
    renewal_opportunity_id_for,
    split_by_weight,
    terms_of_sale,
    timers_of,
)
from domain.errors import InvalidInput, RuleViolated
from domain.events import DomainEvent
from domain.money import total as money_total
from domain.opportunity import SoldItem
from domain.quote import ComponentSnapshot, QuoteItem
from tests.builders import ACCOUNT, OPPORTUNITY_ID, eur, item, money
from tests.gwt import given

OPP = OPPORTUNITY_ID
RENEWAL_OPP = UUID("00000000-0000-4000-8000-0000000000e1")
SOLD_ON = date(2027, 1, 4)
ENDS_ON = date(2028, 1, 4)
LICENCE_PRODUCT = UUID("00000000-0000-4000-8000-0000000000d1")
SUPPORT_PRODUCT = UUID("00000000-0000-4000-8000-0000000000d2")
SUITE_PRODUCT = UUID("00000000-0000-4000-8000-0000000000d3")

LICENCE = item(
    "25.00", "10", item_id=UUID("00000000-0000-4000-8000-000000000101"), product_id=LICENCE_PRODUCT
)
SETUP = item(
    "1200.00",
    "2",
    "10",
    name="Setup",
    kind="one_off",
    item_id=UUID("00000000-0000-4000-8000-000000000102"),
)


def component(
    product_id: UUID,
    name: str,
    weight: str,
    *,
    kind: str = "time_based",
    term_months: int | None = 12,
    category: str = "software",
) -> ComponentSnapshot:
    return ComponentSnapshot(
        product_id=product_id,
        name=name,
        code=name.upper()[:3],
        weight=Decimal(weight),
        kind=kind,  # type: ignore[arg-type]
        term_months=term_months,
        category=category,  # type: ignore[arg-type]
    )


def bundle_item(*components: ComponentSnapshot, price: str = "100.00", **fields: Any) -> QuoteItem:
    base = item(
        price,
        "1",
        name="Suite",
        item_id=UUID("00000000-0000-4000-8000-000000000103"),
        product_id=SUITE_PRODUCT,
    )
    return msgspec.structs.replace(base, category=None, components=components, **fields)


SUITE = bundle_item(
    component(LICENCE_PRODUCT, "Licence", "2"),
    component(SUPPORT_PRODUCT, "Support", "1", category="support"),
)


def sold(*items: QuoteItem) -> tuple[SoldItem, ...]:
    return tuple(SoldItem(item=i, line_total=i.line_total("EUR")) for i in items)


def terms_of(*items: QuoteItem, starts_on: date = SOLD_ON) -> list[ContractTerms]:
    return terms_of_sale(sold(*items), starts_on=starts_on)


def the_terms(one: QuoteItem, **overrides: Any) -> ContractTerms:
    """The terms of a single, non-bundle item."""
    (found,) = terms_of(one)
    return msgspec.structs.replace(found, **overrides) if overrides else found


def created(terms: ContractTerms, generation: int = 0, **fields: Any) -> ContractCreated:
    """The creation of ``terms``' contract, under its deterministic id."""
    (event,) = rules.create(terms, opportunity_id=OPP, account_id=ACCOUNT, owner="alice", **fields)
    assert isinstance(event, ContractCreated)
    return msgspec.structs.replace(event, originator_id=contract_id_for(OPP, terms.key, generation))


LICENCE_CREATED = created(the_terms(LICENCE))
SETUP_CREATED = created(the_terms(SETUP))
C = LICENCE_CREATED.originator_id
RENEWAL_DUE = ContractRenewalDue(due_on=date(2027, 12, 5), renewal_opportunity_id=RENEWAL_OPP)
EXPIRED = ContractExpired(expired_on=ENDS_ON)
# Contracts as they may stand, by name: the licence's, and the one-off setup's.
HISTORIES: dict[str, tuple[DomainEvent, ...]] = {
    "renewal-due": (LICENCE_CREATED, RENEWAL_DUE),
    "expired": (LICENCE_CREATED, EXPIRED),
    "renewed": (LICENCE_CREATED, RENEWAL_DUE, ContractRenewed(renewal_opportunity_id=RENEWAL_OPP)),
    "cancelled": (LICENCE_CREATED, ContractCancelled(reason="gone")),
    "one-off": (SETUP_CREATED,),
    "fulfilled": (SETUP_CREATED, ContractFulfilled()),
}


def standing(*names: str) -> pytest.MarkDecorator:
    """Runs the test once per named history of ``HISTORIES``, as ``events``."""
    return pytest.mark.parametrize("events", [HISTORIES[n] for n in names], ids=names)


def amended(
    name: str,
    value: str,
    *,
    category: str = "software",
    product_id: UUID = LICENCE_PRODUCT,
    end: date = ENDS_ON,
    term_months: int = 12,
) -> ContractAmended:
    """A time-based contract from the sale date amended to ``value`` EUR."""
    return ContractAmended(
        name=name,
        contract_kind="time_based",
        category=category,  # type: ignore[arg-type]
        product_id=product_id,
        value=eur(value),
        start=SOLD_ON,
        end=end,
        term_months=term_months,
    )


def state(*events: DomainEvent) -> Contract:
    contract: Contract = given(*events).state
    return contract


def current(*contracts: tuple[Contract, int]) -> dict[str, Current]:
    """What ``current_contracts`` finds: the latest contract (and its generation) per key."""
    return {c.key: Current(generation, c) for c, generation in contracts}


# --- creation from a sale ------------------------------------------------------------------


def test_a_sold_time_based_item_becomes_a_contract_from_the_sale_date_for_its_term() -> None:
    given().when(
        lambda _: rules.create(
            the_terms(LICENCE), opportunity_id=OPP, account_id=ACCOUNT, owner="alice"
        )
    ).then(
        ContractCreated(
            opportunity_id=OPP,
            account_id=ACCOUNT,
            owner="alice",
            key=str(LICENCE.id),
            quote_item_id=LICENCE.id,
            component_product_id=None,
            product_id=LICENCE_PRODUCT,
            name="CRM licence",
            contract_kind="time_based",
            category="software",
            value=eur("250.00"),
            start=SOLD_ON,
            end=ENDS_ON,
            term_months=12,
        )
    )


def test_a_created_contract_is_active_with_the_sold_terms() -> None:
    contract = state(LICENCE_CREATED)
    assert contract.id == C == contract_id_for(OPP, str(LICENCE.id), 0)
    assert (contract.status, contract.value, contract.start, contract.end) == (
        "active",
        eur("250.00"),
        SOLD_ON,
        ENDS_ON,
    )
    assert (contract.opportunity_id, contract.account_id, contract.owner) == (OPP, ACCOUNT, "alice")
    assert contract.live and contract.renewal_opportunity_id is None
    assert contract.terms() == the_terms(LICENCE)


def test_an_item_with_its_own_start_runs_from_that_start_not_the_sale_date() -> None:
    own = msgspec.structs.replace(LICENCE, start=date(2027, 3, 1))
    terms = the_terms(own)
    assert (terms.start, terms.end) == (date(2027, 3, 1), date(2028, 3, 1))


def test_a_contract_ending_on_a_day_its_month_lacks_ends_on_that_months_last_day() -> None:
    monthly = msgspec.structs.replace(LICENCE, term_months=1)
    assert the_terms(monthly, start=SOLD_ON).end == date(2027, 2, 4)
    terms = terms_of(monthly, starts_on=date(2027, 1, 31))[0]
    assert (terms.start, terms.end) == (date(2027, 1, 31), date(2027, 2, 28))
    # in a leap year February has a 29th
    assert terms_of(monthly, starts_on=date(2028, 1, 31))[0].end == date(2028, 2, 29)


@pytest.mark.parametrize(
    ("start", "months", "end"),
    [
        (date(2027, 1, 4), 12, date(2028, 1, 4)),
        (date(2027, 1, 31), 1, date(2027, 2, 28)),
        (date(2028, 1, 31), 1, date(2028, 2, 29)),
        (date(2027, 3, 31), 1, date(2027, 4, 30)),
        (date(2027, 1, 31), 13, date(2028, 2, 29)),
        (date(2028, 2, 29), 12, date(2029, 2, 28)),
        (date(2027, 11, 15), 3, date(2028, 2, 15)),
        (date(2027, 12, 31), 36, date(2030, 12, 31)),
    ],
)
def test_adding_months_keeps_the_day_or_clamps_it_to_the_months_end(
    start: date, months: int, end: date
) -> None:
    assert add_months(start, months) == end


def test_a_sold_one_off_item_becomes_a_one_off_contract_without_an_end() -> None:
    terms = the_terms(SETUP)
    assert (terms.contract_kind, terms.value, terms.start) == ("one_off", eur("2160.00"), SOLD_ON)
    assert (terms.end, terms.term_months) == (None, None)
    assert state(SETUP_CREATED).status == "active"


def test_a_time_based_item_without_a_term_has_nothing_to_renew_and_is_one_off() -> None:
    termless = msgspec.structs.replace(LICENCE, term_months=None)
    terms = the_terms(termless)
    assert (terms.contract_kind, terms.end, terms.term_months) == ("one_off", None, None)


def test_time_based_terms_without_an_end_are_refused() -> None:
    broken = the_terms(LICENCE, end=None)
    given().when(
        lambda _: rules.create(broken, opportunity_id=OPP, account_id=ACCOUNT, owner="alice")
    ).then_raises(InvalidInput, "the time-based contract for 'CRM licence' needs a term.")


def test_every_sold_item_calls_for_one_contract_in_item_order() -> None:
    terms = terms_of(LICENCE, SUITE, SETUP)
    assert [t.key for t in terms] == [
        str(LICENCE.id),
        f"{SUITE.id}/{LICENCE_PRODUCT}",
        f"{SUITE.id}/{SUPPORT_PRODUCT}",
        str(SETUP.id),
    ]
    assert [t.quote_item_id for t in terms] == [LICENCE.id, SUITE.id, SUITE.id, SETUP.id]


# --- bundles ------------------------------------------------------------------------------


def test_a_bundle_becomes_one_contract_per_component_its_value_split_by_weight() -> None:
    licence, support = terms_of(SUITE)
    assert licence == ContractTerms(
        key=f"{SUITE.id}/{LICENCE_PRODUCT}",
        quote_item_id=SUITE.id,
        component_product_id=LICENCE_PRODUCT,
        product_id=LICENCE_PRODUCT,
        name="Suite: Licence",
        contract_kind="time_based",
        category="software",
        value=eur("66.67"),  # 2/3 of 100.00 = 66.666…, plus the cent left over
        start=SOLD_ON,
        end=ENDS_ON,
        term_months=12,
    )
    assert (support.name, support.category, support.value) == (
        "Suite: Support",
        "support",
        eur("33.33"),
    )
    assert licence.value.amount + support.value.amount == SUITE.line_total("EUR").amount


def test_bundle_components_keep_their_own_kind_and_term_or_take_the_items_term() -> None:
    mixed = bundle_item(
        component(LICENCE_PRODUCT, "Licence", "1", term_months=24),
        component(SUPPORT_PRODUCT, "Support", "1", term_months=None),
        component(SUITE_PRODUCT, "Install", "1", kind="one_off", term_months=None),
    )
    licence, support, install = terms_of(mixed)
    assert (licence.end, licence.term_months) == (date(2029, 1, 4), 24)
    assert (support.end, support.term_months) == (ENDS_ON, 12)  # the item's 12 months
    assert (install.contract_kind, install.end) == ("one_off", None)


def test_every_component_of_a_bundle_with_its_own_start_runs_from_that_start() -> None:
    own = msgspec.structs.replace(SUITE, start=date(2027, 4, 1))
    assert [(t.start, t.end) for t in terms_of(own)] == [(date(2027, 4, 1), date(2028, 4, 1))] * 2


def test_a_bundle_split_sums_exactly_to_the_item_total() -> None:
    thirds = bundle_item(
        component(LICENCE_PRODUCT, "A", "1"),
        component(SUPPORT_PRODUCT, "B", "1"),
        component(SUITE_PRODUCT, "C", "1"),
        price="100.00",
    )
    values = [t.value for t in terms_of(thirds)]
    # 33.333… each: 33.33 × 3 = 99.99; the cent left goes to the first (a tie)
    assert values == [eur("33.34"), eur("33.33"), eur("33.33")]
    assert sum(v.amount for v in values) == Decimal("100.00")


@pytest.mark.parametrize(
    ("total", "weights", "shares"),
    [
        # 2 : 1 of 100.00 → 66.666… (loses 0.666… cent) and 33.333… (0.333…): first gets it
        (eur("100.00"), ["2", "1"], ["66.67", "33.33"]),
        # 1 : 2 — the same split, the other way round: the bigger loss wins, not the order
        (eur("100.00"), ["1", "2"], ["33.33", "66.67"]),
        # ties go to the earlier components
        (eur("0.02"), ["1", "1", "1"], ["0.01", "0.01", "0.00"]),
        (eur("0.05"), ["1", "1", "1"], ["0.02", "0.02", "0.01"]),
        # weights need not be whole or sum to anything in particular
        (eur("10.00"), ["0.5", "0.25", "0.25"], ["5.00", "2.50", "2.50"]),
        # 3 : 3 : 1 of 10.00 → 4.285…, 4.285…, 1.428…: a cent to the third, one to the first
        (eur("10.00"), ["3", "3", "1"], ["4.29", "4.28", "1.43"]),
        # one component takes everything
        (eur("123.45"), ["7"], ["123.45"]),
        # JPY has no minor unit: 1001 / 3 = 333.67 each, two yen left
        (money("1001", "JPY"), ["1", "1", "1"], ["334", "334", "333"]),
        # KWD has three decimals
        (money("1.000", "KWD"), ["1", "1", "1"], ["0.334", "0.333", "0.333"]),
        (eur("0.00"), ["1", "2"], ["0.00", "0.00"]),
        # a line may total up to 10^30: more digits than Decimal's default 28, still exact
        (
            eur("1000000000000000000000000000000.07"),
            ["1", "2"],
            ["333333333333333333333333333333.36", "666666666666666666666666666666.71"],
        ),
    ],
)
def test_split_by_weight_gives_the_remainder_to_the_biggest_rounding_losses(
    total: Any, weights: list[str], shares: list[str]
) -> None:
    split = split_by_weight(total, [Decimal(w) for w in weights])
    assert [s.amount for s in split] == [Decimal(s) for s in shares]
    assert {s.currency for s in split} == {total.currency}
    assert money_total(split, total.currency) == total


def test_equal_rounding_losses_give_the_remainder_to_the_earlier_component_every_time() -> None:
    weights = [Decimal("1.5"), Decimal("2.5"), Decimal("1.5"), Decimal("2.5")]
    first = split_by_weight(eur("100.01"), weights)
    assert [s.amount for s in first] == [
        Decimal("18.75"),
        Decimal("31.26"),
        Decimal("18.75"),
        Decimal("31.25"),
    ]
    assert split_by_weight(eur("100.01"), list(weights)) == first


@pytest.mark.parametrize("weights", [[], ["0"], ["1", "-1"]])
def test_a_split_needs_components_of_positive_weight(weights: list[str]) -> None:
    with pytest.raises(InvalidInput, match="positive weight"):
        split_by_weight(eur("100.00"), [Decimal(w) for w in weights])


# --- amend ----------------------------------------------------------------------------------


def test_amending_to_the_same_terms_decides_nothing() -> None:
    given(LICENCE_CREATED).when(lambda c: rules.amend(c, the_terms(LICENCE))).then()


def test_a_changed_item_amends_its_contract_keeping_its_status() -> None:
    changed = the_terms(msgspec.structs.replace(LICENCE, quantity=Decimal(12), term_months=24))
    when = given(LICENCE_CREATED, RENEWAL_DUE).when(lambda c: rules.amend(c, changed))
    when.then(amended("CRM licence", "300.00", end=date(2029, 1, 4), term_months=24))
    after: Contract = when.then_state()
    assert (after.status, after.value, after.end) == (
        "renewal_due",
        eur("300.00"),
        date(2029, 1, 4),
    )
    assert after.terms() == changed


def test_a_fulfilled_contract_is_not_amended_what_was_delivered_stays() -> None:
    changed = the_terms(msgspec.structs.replace(SETUP, quantity=Decimal(3)))
    given(SETUP_CREATED, ContractFulfilled()).when(lambda c: rules.amend(c, changed)).then()


@pytest.mark.parametrize("ended", [EXPIRED, ContractCancelled(reason="gone")])
def test_an_ended_contract_is_not_amended(ended: DomainEvent) -> None:
    changed = the_terms(msgspec.structs.replace(LICENCE, quantity=Decimal(12)))
    given(LICENCE_CREATED, ended).when(lambda c: rules.amend(c, changed)).then()


# --- renewal due and expiry -----------------------------------------------------------------


def test_an_active_time_based_contract_falls_due_for_renewal_with_its_renewal_opportunity() -> None:
    when = given(LICENCE_CREATED).when(
        lambda c: rules.fall_due_for_renewal(c, on=date(2027, 12, 5))
    )
    when.then(
        ContractRenewalDue(
            due_on=date(2027, 12, 5), renewal_opportunity_id=renewal_opportunity_id_for(C)
        )
    )
    after: Contract = when.then_state()
    assert (after.status, after.renewal_opportunity_id) == (
        "renewal_due",
        renewal_opportunity_id_for(C),
    )
    assert after.live


def test_the_renewal_opportunity_id_is_derived_from_the_contract() -> None:
    assert renewal_opportunity_id_for(C) == renewal_opportunity_id_for(C)
    assert renewal_opportunity_id_for(C) != renewal_opportunity_id_for(SETUP_CREATED.originator_id)
    assert renewal_opportunity_id_for(C) != C


@standing("renewal-due", "expired", "cancelled", "one-off")
def test_only_an_active_time_based_contract_falls_due_for_renewal(
    events: tuple[DomainEvent, ...],
) -> None:
    given(*events).when(lambda c: rules.fall_due_for_renewal(c, on=date(2027, 12, 5))).then()


@pytest.mark.parametrize("before", [(), (RENEWAL_DUE,)], ids=["active", "renewal-due"])
def test_a_running_time_based_contract_expires_at_its_end(before: tuple[DomainEvent, ...]) -> None:
    when = given(LICENCE_CREATED, *before).when(lambda c: rules.expire(c, on=ENDS_ON))
    when.then(ContractExpired(expired_on=ENDS_ON))
    after: Contract = when.then_state()
    assert after.status == "expired" and not after.live


@standing("expired", "renewed", "cancelled", "one-off")
def test_an_ended_or_one_off_contract_does_not_expire(events: tuple[DomainEvent, ...]) -> None:
    given(*events).when(lambda c: rules.expire(c, on=ENDS_ON)).then()


# --- renew ----------------------------------------------------------------------------------


def test_selling_the_renewal_opportunity_renews_the_contract() -> None:
    when = given(LICENCE_CREATED, RENEWAL_DUE).when(lambda c: rules.renew(c, by=RENEWAL_OPP))
    when.then(ContractRenewed(renewal_opportunity_id=RENEWAL_OPP))
    after: Contract = when.then_state()
    assert (after.status, after.renewed_by) == ("renewed", RENEWAL_OPP)
    assert not after.live


def test_a_contract_that_expired_meanwhile_is_renewed_late() -> None:
    given(LICENCE_CREATED, RENEWAL_DUE, EXPIRED).when(
        lambda c: rules.renew(c, by=RENEWAL_OPP)
    ).then(ContractRenewed(renewal_opportunity_id=RENEWAL_OPP))


@pytest.mark.parametrize(
    "ended",
    [ContractCancelled(reason="gone"), ContractRenewed(renewal_opportunity_id=RENEWAL_OPP)],
    ids=["cancelled", "renewed"],
)
def test_a_contract_cancelled_or_renewed_already_is_not_renewed(ended: DomainEvent) -> None:
    given(LICENCE_CREATED, RENEWAL_DUE, ended).when(lambda c: rules.renew(c, by=RENEWAL_OPP)).then()


# --- a renewal withdrawn ------------------------------------------------------------------
#
# The renewal opportunity was sold (the contract renewed), then unlocked and lost: the
# contract is no longer renewed. Its end is 2028-01-04, so it expires at midnight UTC then.

RENEWED = ContractRenewed(renewal_opportunity_id=RENEWAL_OPP)
LOST = "the opportunity was lost"
BEFORE_THE_END = datetime(2027, 12, 20, 15, 0, tzinfo=UTC)
AT_THE_END = datetime(2028, 1, 4, tzinfo=UTC)


def withdrawn(status: str) -> ContractRenewalWithdrawn:
    return ContractRenewalWithdrawn(
        renewal_opportunity_id=RENEWAL_OPP,
        reason=LOST,
        status=status,  # type: ignore[arg-type]
    )


def withdraw(at: datetime, by: UUID = RENEWAL_OPP) -> Any:
    return lambda c: rules.withdraw_renewal(c, by=by, reason=LOST, at=at)


def test_losing_the_renewal_that_renewed_a_contract_makes_it_due_for_renewal_again() -> None:
    when = given(LICENCE_CREATED, RENEWAL_DUE, RENEWED).when(withdraw(BEFORE_THE_END))
    when.then(withdrawn("renewal_due"))
    after: Contract = when.then_state()
    assert (after.status, after.renewed_by) == ("renewal_due", None)
    assert after.renewal_opportunity_id == RENEWAL_OPP and after.live
    # its expiry timer is back; it fell due already, so no renewal notice
    assert timers_of(after, notice_days=30) == [
        Timer(contract_id=C, kind="expiry", due_at=AT_THE_END)
    ]


@pytest.mark.parametrize(
    ("at", "status"),
    [
        (AT_THE_END - timedelta(microseconds=1), "renewal_due"),
        (AT_THE_END, "expired"),
        (AT_THE_END + timedelta(days=10), "expired"),
    ],
    ids=["just-before-the-end", "at-the-end", "after-the-end"],
)
def test_a_renewal_withdrawn_once_the_contract_has_ended_leaves_it_expired(
    at: datetime, status: str
) -> None:
    when = given(LICENCE_CREATED, RENEWAL_DUE, RENEWED).when(withdraw(at))
    when.then(withdrawn(status))
    after: Contract = when.then_state()
    assert after.status == status
    assert [t.kind for t in timers_of(after, notice_days=30)] == (
        ["expiry"] if status == "renewal_due" else []
    )


def test_a_contract_renewed_late_is_expired_again_when_its_renewal_is_withdrawn() -> None:
    given(LICENCE_CREATED, RENEWAL_DUE, EXPIRED, RENEWED).when(
        withdraw(AT_THE_END + timedelta(days=20))
    ).then(withdrawn("expired"))


def test_a_contract_renewed_by_another_opportunity_stays_renewed() -> None:
    other = UUID("00000000-0000-4000-8000-0000000000e2")
    given(LICENCE_CREATED, RENEWAL_DUE, RENEWED).when(withdraw(BEFORE_THE_END, by=other)).then()


@pytest.mark.parametrize(
    "events",
    [
        (LICENCE_CREATED,),
        (LICENCE_CREATED, RENEWAL_DUE),
        (LICENCE_CREATED, RENEWAL_DUE, EXPIRED),
        (LICENCE_CREATED, RENEWAL_DUE, ContractCancelled(reason="gone")),
        (LICENCE_CREATED, RENEWAL_DUE, RENEWED, withdrawn("renewal_due")),
    ],
    ids=["active", "renewal-due", "expired", "cancelled", "withdrawn-already"],
)
def test_a_contract_not_renewed_has_no_renewal_to_withdraw(
    events: tuple[DomainEvent, ...],
) -> None:
    given(*events).when(withdraw(BEFORE_THE_END)).then()


@pytest.mark.parametrize(
    "withdrawal", [withdrawn("renewal_due"), withdrawn("expired")], ids=["due", "expired"]
)
def test_a_contract_whose_renewal_was_withdrawn_can_be_renewed_again(
    withdrawal: ContractRenewalWithdrawn,
) -> None:
    when = given(LICENCE_CREATED, RENEWAL_DUE, RENEWED, withdrawal).when(
        lambda c: rules.renew(c, by=RENEWAL_OPP)
    )
    when.then(RENEWED)
    assert when.then_state().renewed_by == RENEWAL_OPP


# --- fulfil ---------------------------------------------------------------------------------


def test_an_active_one_off_contract_is_fulfilled() -> None:
    when = given(SETUP_CREATED).when(rules.fulfil)
    when.then(ContractFulfilled())
    after: Contract = when.then_state()
    assert after.status == "fulfilled" and after.live  # delivered: it still stands


def test_a_time_based_contract_is_not_fulfilled() -> None:
    given(LICENCE_CREATED).when(rules.fulfil).then_raises(
        RuleViolated,
        "contract 'CRM licence' runs for a term; only one-off contracts are fulfilled.",
    )


@pytest.mark.parametrize(
    ("ended", "said"),
    [(ContractFulfilled(), "fulfilled"), (ContractCancelled(reason="gone"), "cancelled")],
)
def test_only_an_active_one_off_contract_is_fulfilled(ended: DomainEvent, said: str) -> None:
    given(SETUP_CREATED, ended).when(rules.fulfil).then_raises(
        RuleViolated, f"contract 'Setup' is {said}, not active."
    )


# --- cancel ---------------------------------------------------------------------------------


@pytest.mark.parametrize("before", [(), (RENEWAL_DUE,)], ids=["active", "renewal-due"])
def test_a_running_contract_is_cancelled_with_its_reason(before: tuple[DomainEvent, ...]) -> None:
    when = given(LICENCE_CREATED, *before).when(lambda c: rules.cancel(c, "  customer left  "))
    when.then(ContractCancelled(reason="customer left"))
    after: Contract = when.then_state()
    assert (after.status, after.cancel_reason) == ("cancelled", "customer left")
    assert not after.live


@pytest.mark.parametrize("reason", ["", "   "])
def test_cancelling_needs_a_reason(reason: str) -> None:
    given(LICENCE_CREATED).when(lambda c: rules.cancel(c, reason)).then_raises(
        InvalidInput, "cancelling a contract needs a reason."
    )


@pytest.mark.parametrize(
    ("events", "said"),
    [
        (HISTORIES["expired"], "contract 'CRM licence' is expired"),
        (HISTORIES["renewed"], "contract 'CRM licence' is renewed"),
        (HISTORIES["cancelled"], "contract 'CRM licence' is cancelled"),
        (HISTORIES["fulfilled"], "contract 'Setup' is fulfilled"),
    ],
    ids=["expired", "renewed", "cancelled", "fulfilled"],
)
def test_a_contract_that_has_ended_cannot_be_cancelled(
    events: tuple[DomainEvent, ...], said: str
) -> None:
    given(*events).when(lambda c: rules.cancel(c, "too late")).then_raises(
        RuleViolated, f"{said} and cannot be cancelled."
    )


# --- timers ---------------------------------------------------------------------------------


def test_an_active_time_based_contract_has_a_renewal_notice_and_an_expiry_timer() -> None:
    contract = state(LICENCE_CREATED)
    assert timers_of(contract, notice_days=30) == [
        # 2028-01-04 − 30 days = 2027-12-05, at midnight UTC
        Timer(contract_id=C, kind="renewal_due", due_at=datetime(2027, 12, 5, tzinfo=UTC)),
        Timer(contract_id=C, kind="expiry", due_at=datetime(2028, 1, 4, tzinfo=UTC)),
    ]
    assert timers_of(contract, notice_days=90)[0].due_at == datetime(2027, 10, 6, tzinfo=UTC)


def test_a_contract_due_for_renewal_keeps_only_its_expiry_timer() -> None:
    assert timers_of(state(LICENCE_CREATED, RENEWAL_DUE), notice_days=30) == [
        Timer(contract_id=C, kind="expiry", due_at=datetime(2028, 1, 4, tzinfo=UTC))
    ]


@standing("expired", "renewed", "cancelled", "one-off", "fulfilled")
def test_an_ended_or_one_off_contract_has_no_timers(events: tuple[DomainEvent, ...]) -> None:
    assert timers_of(state(*events), notice_days=30) == []


def test_amending_the_end_moves_the_timers() -> None:
    longer = the_terms(msgspec.structs.replace(LICENCE, term_months=24))
    (amended,) = rules.amend(state(LICENCE_CREATED), longer)
    assert [t.due_at for t in timers_of(state(LICENCE_CREATED, amended), notice_days=30)] == [
        datetime(2028, 12, 5, tzinfo=UTC),
        datetime(2029, 1, 4, tzinfo=UTC),
    ]


# --- the process manager: a sale --------------------------------------------------------------


def on_sale(
    terms: Sequence[ContractTerms], found: dict[str, Current], **fields: Any
) -> rules.Changes:
    return rules.on_sale(
        terms, found, opportunity_id=OPP, account_id=ACCOUNT, owner="alice", **fields
    )


def test_a_first_sale_makes_one_contract_per_sold_item_and_bundle_component() -> None:
    terms = terms_of(LICENCE, SUITE, SETUP)
    given().when(lambda _: on_sale(terms, {})).then_changes(
        {contract_id_for(OPP, t.key, 0): [created(t)] for t in terms}
    )
    assert len({contract_id_for(OPP, t.key, 0) for t in terms}) == 4


def test_a_sale_that_renews_a_contract_links_its_new_contracts_to_it() -> None:
    terms = terms_of_sale(sold(LICENCE), starts_on=date(2027, 12, 20), start_of_renewal=ENDS_ON)
    assert (terms[0].start, terms[0].end) == (ENDS_ON, date(2029, 1, 4))
    given().when(lambda _: on_sale(terms, {}, renews_contract_id=C)).then_changes(
        {contract_id_for(OPP, terms[0].key, 0): [created(terms[0], renews_contract_id=C)]}
    )


def test_an_items_own_start_wins_over_the_end_of_the_contract_it_renews() -> None:
    own = msgspec.structs.replace(LICENCE, start=date(2028, 2, 1))
    (terms,) = terms_of_sale(sold(own), starts_on=date(2027, 12, 20), start_of_renewal=ENDS_ON)
    assert terms.start == date(2028, 2, 1)


def test_a_resale_with_the_items_unchanged_changes_nothing() -> None:
    made = current(
        (state(LICENCE_CREATED), 0),
        (state(created(the_terms(SETUP)), ContractFulfilled()), 0),
        *((state(created(t)), 0) for t in terms_of(SUITE)),
    )
    given().when(lambda _: on_sale(terms_of(LICENCE, SUITE, SETUP), made)).then_changes({})


def test_a_resale_on_a_later_day_keeps_the_start_of_every_contract_still_standing() -> None:
    made = current((state(LICENCE_CREATED), 0), (state(SETUP_CREATED), 0))
    later = date(2027, 1, 20)
    kept = {key: found.contract.start for key, found in made.items()}
    terms = terms_of_sale(sold(LICENCE, SETUP), starts_on=later, kept_starts=kept)
    assert [(t.start, t.end) for t in terms] == [(SOLD_ON, ENDS_ON), (SOLD_ON, None)]
    given().when(lambda _: on_sale(terms, made)).then_changes({})
    # an item without a contract still starts on the re-sale's date, one with its own start there
    own = msgspec.structs.replace(SETUP, start=date(2027, 2, 1))
    suite_licence, _, setup = terms_of_sale(sold(SUITE, own), starts_on=later, kept_starts=kept)
    assert (suite_licence.start, setup.start) == (later, date(2027, 2, 1))


def test_a_resale_amends_the_contract_of_a_changed_item_and_leaves_the_rest_alone() -> None:
    changed = msgspec.structs.replace(LICENCE, quantity=Decimal(12))  # 12 × 25.00 = 300.00
    made = current((state(LICENCE_CREATED), 0), (state(SETUP_CREATED), 0))
    given().when(lambda _: on_sale(terms_of(changed, SETUP), made)).then_changes(
        {C: rules.amend(state(LICENCE_CREATED), the_terms(changed))}
    )
    (amended,) = rules.amend(state(LICENCE_CREATED), the_terms(changed))
    assert isinstance(amended, ContractAmended) and amended.value == eur("300.00")


def test_a_resale_amends_each_component_of_a_bundle_whose_price_changed() -> None:
    dearer = msgspec.structs.replace(SUITE, unit_price=Decimal("300.00"))
    made = current(*((state(created(t)), 0) for t in terms_of(SUITE)))
    licence, support = terms_of(dearer)
    assert (licence.value, support.value) == (eur("200.00"), eur("100.00"))
    given().when(lambda _: on_sale([licence, support], made)).then_changes(
        {
            contract_id_for(OPP, licence.key, 0): [amended("Suite: Licence", "200.00")],
            contract_id_for(OPP, support.key, 0): [
                amended("Suite: Support", "100.00", category="support", product_id=SUPPORT_PRODUCT)
            ],
        }
    )


def test_a_resale_makes_a_contract_only_for_a_new_item() -> None:
    made = current((state(LICENCE_CREATED), 0))
    given().when(lambda _: on_sale(terms_of(LICENCE, SETUP), made)).then_changes(
        {SETUP_CREATED.originator_id: [created(the_terms(SETUP))]}
    )


@pytest.mark.parametrize("before", [(), (RENEWAL_DUE,)], ids=["active", "renewal-due"])
def test_a_resale_cancels_the_running_contract_of_an_item_no_longer_sold(
    before: tuple[DomainEvent, ...],
) -> None:
    made = current((state(LICENCE_CREATED, *before), 0), (state(SETUP_CREATED), 0))
    given().when(lambda _: on_sale(terms_of(SETUP), made)).then_changes(
        {C: [ContractCancelled(reason=NO_LONGER_SOLD)]}
    )


@pytest.mark.parametrize(
    ("removed", "ended"),
    [(SETUP_CREATED, ContractFulfilled()), (LICENCE_CREATED, EXPIRED)],
    ids=["fulfilled", "expired"],
)
def test_a_resale_leaves_a_contract_that_ended_alone_when_its_item_is_no_longer_sold(
    removed: ContractCreated, ended: DomainEvent
) -> None:
    made = current((state(removed, ended), 0))
    given().when(lambda _: on_sale(terms_of(SUITE), made)).then_changes(
        {contract_id_for(OPP, t.key, 0): [created(t)] for t in terms_of(SUITE)}
    )


def test_a_resold_item_whose_contract_was_cancelled_gets_the_next_generation() -> None:
    made = current((state(LICENCE_CREATED, ContractCancelled(reason="mistake")), 0))
    next_one = contract_id_for(OPP, str(LICENCE.id), 1)
    assert next_one != C
    given().when(lambda _: on_sale(terms_of(LICENCE), made)).then_changes(
        {next_one: [created(the_terms(LICENCE), generation=1)]}
    )


def test_the_generation_after_a_second_cancellation_is_the_third() -> None:
    second = created(the_terms(LICENCE), generation=1)
    made = current((state(second, ContractCancelled(reason="again")), 1))
    given().when(lambda _: on_sale(terms_of(LICENCE), made)).then_changes(
        {contract_id_for(OPP, str(LICENCE.id), 2): [created(the_terms(LICENCE), generation=2)]}
    )


def test_a_resold_item_whose_contract_expired_gets_a_new_contract() -> None:
    made = current((state(LICENCE_CREATED, EXPIRED), 0))
    given().when(lambda _: on_sale(terms_of(LICENCE), made)).then_changes(
        {contract_id_for(OPP, str(LICENCE.id), 1): [created(the_terms(LICENCE), generation=1)]}
    )


def test_contract_ids_are_deterministic_per_opportunity_item_and_generation() -> None:
    key = str(LICENCE.id)
    assert contract_id_for(OPP, key, 0) == contract_id_for(OPP, key, 0)
    ids = {
        contract_id_for(OPP, key, 0),
        contract_id_for(OPP, key, 1),
        contract_id_for(OPP, str(SETUP.id), 0),
        contract_id_for(RENEWAL_OPP, key, 0),
    }
    assert len(ids) == 4


# --- the process manager: an opportunity closed ------------------------------------------------


def test_closing_a_sold_opportunity_cancels_its_running_contracts_only() -> None:
    suite_licence, suite_support = (created(t) for t in terms_of(SUITE))
    made = current(
        (state(LICENCE_CREATED), 0),
        (state(suite_licence, RENEWAL_DUE), 0),
        (state(suite_support, EXPIRED), 0),
        (state(SETUP_CREATED, ContractFulfilled()), 0),
    )
    given().when(
        lambda _: rules.on_opportunity_closed(made, "the opportunity was lost")
    ).then_changes(
        {
            C: [ContractCancelled(reason="the opportunity was lost")],
            suite_licence.originator_id: [ContractCancelled(reason="the opportunity was lost")],
        }
    )


def test_closing_an_opportunity_without_contracts_changes_nothing() -> None:
    given().when(
        lambda _: rules.on_opportunity_closed({}, "the opportunity was lost")
    ).then_changes({})
