"""Contracts: what a sold opportunity obliges, one per sold item or bundle component.

Rules this module keeps (ARCHITECTURE.md §3, "Contract"):

- a contract is made only from a sale: every sold item becomes one, a bundle one
  per component, the bundle's value split by weight so the shares add up to the
  item's total exactly (the remainder goes, a minor unit each, to the components
  whose exact shares lost most to rounding; ties to the earlier component);
- a time-based contract (licence, warranty, support) runs from the sale's
  effective date, or the item's own start, for its term: ``end = start + term
  months`` (the last day of a shorter month when the day does not exist); a
  re-sold item whose contract still stands keeps that contract's start; a
  one-off contract (a delivered product) has no end and is fulfilled once;
- a time-based contract falls due for renewal N days before its end, which opens
  a renewal opportunity linked to it, and expires at its end unless that renewal
  was sold first; then it is renewed and the new contracts start at its end;
- re-selling an unlocked opportunity makes contracts only for items without a
  live contract (active, renewal due, or fulfilled: one that still stands), amends
  those whose item changed, cancels those whose item is no longer sold, and
  leaves the rest alone; a lost, disqualified or deleted opportunity cancels its
  live contracts (fulfilled ones were delivered and stay);
- a renewal opportunity that renewed a contract and is then unlocked and lost,
  disqualified or deleted withdraws that renewal: the contract it renewed is due
  for renewal again, or expired when its end has passed by the time the renewal
  was closed (a contract is never left renewed by nothing); a contract renewed
  by another opportunity stays renewed;
- any contract not yet ended can be cancelled.

Nothing here reads a clock: callers pass the dates and instants.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import ClassVar, Literal
from uuid import UUID, uuid5

import msgspec

from domain.aggregate import AggregateState, evolve
from domain.errors import InvalidInput, RuleViolated
from domain.events import DomainEvent
from domain.money import EXACT, Money, minor_unit
from domain.opportunity import SoldItem
from domain.product import ProductCategory

ContractKind = Literal["time_based", "one_off"]
ContractStatus = Literal["active", "renewal_due", "expired", "renewed", "fulfilled", "cancelled"]
TimerKind = Literal["renewal_due", "expiry"]
CONTRACT_STATUSES: tuple[ContractStatus, ...] = (
    "active",
    "renewal_due",
    "expired",
    "renewed",
    "fulfilled",
    "cancelled",
)
# Still standing for its item: a re-sale makes no second contract beside it.
LIVE: frozenset[ContractStatus] = frozenset({"active", "renewal_due", "fulfilled"})
# Not yet ended: can still be amended or cancelled.
RUNNING: frozenset[ContractStatus] = frozenset({"active", "renewal_due"})
DEFAULT_RENEWAL_NOTICE_DAYS = 30

_NAMESPACE = UUID("0b6f9e4e-3f7c-4a53-9f1e-5d2b8f0c7a61")


# --- what a sale says each contract is -----------------------------------------------------


class ContractTerms(msgspec.Struct, frozen=True, kw_only=True):
    """One contract a sold item calls for (a bundle item calls for one per component)."""

    key: str  # the item, or the item and the component: stable across re-sales
    quote_item_id: UUID
    component_product_id: UUID | None
    product_id: UUID | None
    name: str
    contract_kind: ContractKind
    category: ProductCategory | None
    value: Money
    start: date
    end: date | None
    term_months: int | None


def add_months(start: date, months: int) -> date:
    """``start`` plus ``months`` calendar months; the 31st of January plus one is the 28th
    (or 29th) of February."""
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def split_by_weight(total: Money, weights: Sequence[Decimal]) -> list[Money]:
    """``total`` in shares proportional to ``weights``, in minor units, summing exactly.

    Each share is the exact share rounded down; the minor units left over go one
    each to the shares that lost most to that rounding (ties: the earlier one).
    """
    if not weights or any(w <= 0 for w in weights):
        raise InvalidInput("a bundle needs components of positive weight to split its value.")
    places = minor_unit(total.currency)
    # Exact fractions: Decimal's default 28 digits would round a large total (a line may
    # total up to 10^30) and its shares, and they would no longer add up.
    units = int(Fraction(total.amount) * 10**places)
    sign, units = (-1 if units < 0 else 1), abs(units)
    whole = sum((Fraction(w) for w in weights), Fraction(0))
    exact = [units * Fraction(w) / whole for w in weights]
    shares = [int(e) for e in exact]  # rounded down (non-negative)
    left = units - sum(shares)
    by_loss = sorted(range(len(weights)), key=lambda i: (-(exact[i] - shares[i]), i))
    for i in by_loss[:left]:
        shares[i] += 1
    return [Money(Decimal(sign * s).scaleb(-places, EXACT), total.currency) for s in shares]


def item_key(item_id: UUID, component_product_id: UUID | None = None) -> str:
    """A contract's key among its opportunity's: the item, or the item and a component."""
    return str(item_id) if component_product_id is None else f"{item_id}/{component_product_id}"


def keys_of_sale(items: Sequence[SoldItem]) -> list[str]:
    """The keys of the contracts a sale of ``items`` calls for, in order."""
    return [
        item_key(sold.item.id, component.product_id if component else None)
        for sold in items
        for component in (sold.item.components or (None,))
    ]


def terms_of_sale(
    items: Sequence[SoldItem],
    *,
    starts_on: date,
    start_of_renewal: date | None = None,
    kept_starts: Mapping[str, date] | None = None,
) -> list[ContractTerms]:
    """The contracts a sale of ``items`` calls for, in item (then component) order.

    A contract starts on the item's own start, else where the live contract of a
    re-sold item started (``kept_starts``, by key: a re-sale on a later day moves
    no running contract), else at the end of the contract a renewal renews
    (``start_of_renewal``), else on the sale's effective date.
    """
    kept = kept_starts or {}
    terms: list[ContractTerms] = []
    for sold in items:
        item = sold.item
        if item.components:
            shares = split_by_weight(sold.line_total, [c.weight for c in item.components])
            for component, share in zip(item.components, shares, strict=True):
                key = item_key(item.id, component.product_id)
                start = item.start or kept.get(key) or start_of_renewal or starts_on
                terms.append(
                    _terms(
                        key=key,
                        quote_item_id=item.id,
                        component_product_id=component.product_id,
                        product_id=component.product_id,
                        name=f"{item.name}: {component.name}",
                        kind=component.kind,
                        category=component.category,
                        value=share,
                        start=start,
                        term_months=component.term_months or item.term_months,
                    )
                )
        else:
            key = item_key(item.id)
            start = item.start or kept.get(key) or start_of_renewal or starts_on
            terms.append(
                _terms(
                    key=key,
                    quote_item_id=item.id,
                    component_product_id=None,
                    product_id=item.product_id,
                    name=item.name,
                    kind=item.kind,
                    category=item.category,
                    value=sold.line_total,
                    start=start,
                    term_months=item.term_months,
                )
            )
    return terms


def _terms(
    *,
    key: str,
    quote_item_id: UUID,
    component_product_id: UUID | None,
    product_id: UUID | None,
    name: str,
    kind: ContractKind,
    category: ProductCategory | None,
    value: Money,
    start: date,
    term_months: int | None,
) -> ContractTerms:
    time_based = kind == "time_based" and bool(term_months)
    return ContractTerms(
        key=key,
        quote_item_id=quote_item_id,
        component_product_id=component_product_id,
        product_id=product_id,
        name=name,
        # A time-based item without a term has no end to renew or expire at.
        contract_kind="time_based" if time_based else "one_off",
        category=category,
        value=value,
        start=start,
        end=add_months(start, term_months) if time_based and term_months else None,
        term_months=term_months if time_based else None,
    )


def contract_id_for(opportunity_id: UUID, key: str, generation: int) -> UUID:
    """The id of the ``generation``-th contract (0, 1, …) for one item of one opportunity.

    Deterministic, so a sale processed twice finds the contracts it made and makes
    none again; a later generation follows a cancelled one when the item is re-sold.
    """
    return uuid5(_NAMESPACE, f"contract:{opportunity_id}:{key}:{generation}")


def renewal_opportunity_id_for(contract_id: UUID) -> UUID:
    return uuid5(_NAMESPACE, f"renewal:{contract_id}")


# --- the aggregate -------------------------------------------------------------------------


class Contract(AggregateState, frozen=True, kw_only=True):
    kind: ClassVar[str] = "contract"
    opportunity_id: UUID
    account_id: UUID
    owner: str
    key: str
    quote_item_id: UUID
    component_product_id: UUID | None
    product_id: UUID | None
    name: str
    contract_kind: ContractKind
    category: ProductCategory | None
    value: Money
    start: date
    end: date | None
    term_months: int | None
    status: ContractStatus = "active"
    renews_contract_id: UUID | None = None
    renewal_opportunity_id: UUID | None = None
    renewed_by: UUID | None = None  # the renewal opportunity whose sale renewed it
    cancel_reason: str | None = None

    @property
    def live(self) -> bool:
        return self.status in LIVE

    def terms(self) -> ContractTerms:
        return ContractTerms(
            key=self.key,
            quote_item_id=self.quote_item_id,
            component_product_id=self.component_product_id,
            product_id=self.product_id,
            name=self.name,
            contract_kind=self.contract_kind,
            category=self.category,
            value=self.value,
            start=self.start,
            end=self.end,
            term_months=self.term_months,
        )


class ContractCreated(DomainEvent, frozen=True, kw_only=True):
    opportunity_id: UUID
    account_id: UUID
    owner: str
    key: str
    quote_item_id: UUID
    component_product_id: UUID | None
    product_id: UUID | None
    name: str
    contract_kind: ContractKind
    category: ProductCategory | None
    value: Money
    start: date
    end: date | None
    term_months: int | None
    renews_contract_id: UUID | None = None

    def apply(self, state: None) -> Contract:
        return Contract(
            id=self.originator_id,
            opportunity_id=self.opportunity_id,
            account_id=self.account_id,
            owner=self.owner,
            key=self.key,
            quote_item_id=self.quote_item_id,
            component_product_id=self.component_product_id,
            product_id=self.product_id,
            name=self.name,
            contract_kind=self.contract_kind,
            category=self.category,
            value=self.value,
            start=self.start,
            end=self.end,
            term_months=self.term_months,
            renews_contract_id=self.renews_contract_id,
        )


class ContractAmended(DomainEvent, frozen=True, kw_only=True):
    """The re-sold item changed: the contract takes its new terms (same status)."""

    name: str
    contract_kind: ContractKind
    category: ProductCategory | None
    product_id: UUID | None
    value: Money
    start: date
    end: date | None
    term_months: int | None

    def apply(self, state: Contract) -> Contract:
        return evolve(
            state,
            name=self.name,
            contract_kind=self.contract_kind,
            category=self.category,
            product_id=self.product_id,
            value=self.value,
            start=self.start,
            end=self.end,
            term_months=self.term_months,
        )


class ContractRenewalDue(DomainEvent, frozen=True, kw_only=True):
    due_on: date
    renewal_opportunity_id: UUID

    def apply(self, state: Contract) -> Contract:
        return evolve(
            state, status="renewal_due", renewal_opportunity_id=self.renewal_opportunity_id
        )


class ContractExpired(DomainEvent, frozen=True, kw_only=True):
    expired_on: date

    def apply(self, state: Contract) -> Contract:
        return evolve(state, status="expired")


class ContractRenewed(DomainEvent, frozen=True, kw_only=True):
    renewal_opportunity_id: UUID

    def apply(self, state: Contract) -> Contract:
        return evolve(state, status="renewed", renewed_by=self.renewal_opportunity_id)


class ContractRenewalWithdrawn(DomainEvent, frozen=True, kw_only=True):
    """The renewal opportunity that renewed the contract was closed (lost, disqualified or
    deleted after an unlock): the contract is no longer renewed. ``status`` is where it
    stands now: due for renewal again, or expired when its end has passed."""

    renewal_opportunity_id: UUID
    reason: str
    status: Literal["renewal_due", "expired"]

    def apply(self, state: Contract) -> Contract:
        return evolve(state, status=self.status, renewed_by=None)


class ContractFulfilled(DomainEvent, frozen=True, kw_only=True):
    def apply(self, state: Contract) -> Contract:
        return evolve(state, status="fulfilled")


class ContractCancelled(DomainEvent, frozen=True, kw_only=True):
    reason: str

    def apply(self, state: Contract) -> Contract:
        return evolve(state, status="cancelled", cancel_reason=self.reason)


# --- behaviour ------------------------------------------------------------------------------


def create(
    terms: ContractTerms,
    *,
    opportunity_id: UUID,
    account_id: UUID,
    owner: str,
    renews_contract_id: UUID | None = None,
) -> list[DomainEvent]:
    if terms.contract_kind == "time_based" and terms.end is None:
        raise InvalidInput(f"the time-based contract for {terms.name!r} needs a term.")
    return [
        ContractCreated(
            opportunity_id=opportunity_id,
            account_id=account_id,
            owner=owner,
            key=terms.key,
            quote_item_id=terms.quote_item_id,
            component_product_id=terms.component_product_id,
            product_id=terms.product_id,
            name=terms.name,
            contract_kind=terms.contract_kind,
            category=terms.category,
            value=terms.value,
            start=terms.start,
            end=terms.end,
            term_months=terms.term_months,
            renews_contract_id=renews_contract_id,
        )
    ]


def amend(contract: Contract, terms: ContractTerms) -> list[DomainEvent]:
    """The events that bring a live contract to ``terms``: none when nothing changed, or
    when it was fulfilled already (what was delivered stays as it was)."""
    if contract.status not in RUNNING or contract.terms() == terms:
        return []
    return [
        ContractAmended(
            name=terms.name,
            contract_kind=terms.contract_kind,
            category=terms.category,
            product_id=terms.product_id,
            value=terms.value,
            start=terms.start,
            end=terms.end,
            term_months=terms.term_months,
        )
    ]


def fall_due_for_renewal(contract: Contract, *, on: date) -> list[DomainEvent]:
    if contract.contract_kind != "time_based" or contract.status != "active":
        return []
    return [
        ContractRenewalDue(
            due_on=on, renewal_opportunity_id=renewal_opportunity_id_for(contract.id)
        )
    ]


def expire(contract: Contract, *, on: date) -> list[DomainEvent]:
    if contract.contract_kind != "time_based" or contract.status not in RUNNING:
        return []
    return [ContractExpired(expired_on=on)]


def renew(contract: Contract, *, by: UUID) -> list[DomainEvent]:
    """The renewal opportunity ``by`` was sold. A contract that expired meanwhile is renewed
    late; one that ended otherwise (cancelled, renewed) stays as it is."""
    if contract.status not in {"active", "renewal_due", "expired"}:
        return []
    return [ContractRenewed(renewal_opportunity_id=by)]


def withdraw_renewal(
    contract: Contract, *, by: UUID, reason: str, at: datetime
) -> list[DomainEvent]:
    """The renewal opportunity ``by`` was closed at ``at`` (when its closing was recorded)
    after it had been sold: the contract it renewed is due for renewal again, or expired if
    its end (midnight UTC, as the expiry timer) has passed by ``at``. Only a contract that
    ``by`` renewed: one renewed by another opportunity, or not renewed, stays as it is."""
    if contract.status != "renewed" or contract.renewed_by != by:
        return []
    ended = contract.end is not None and at >= midnight(contract.end)
    return [
        ContractRenewalWithdrawn(
            renewal_opportunity_id=by,
            reason=reason,
            status="expired" if ended else "renewal_due",
        )
    ]


def fulfil(contract: Contract) -> list[DomainEvent]:
    if contract.contract_kind != "one_off":
        raise RuleViolated(
            f"contract {contract.name!r} runs for a term; only one-off contracts are fulfilled."
        )
    if contract.status != "active":
        raise RuleViolated(f"contract {contract.name!r} is {_said(contract.status)}, not active.")
    return [ContractFulfilled()]


def cancel(contract: Contract, reason: str) -> list[DomainEvent]:
    if not reason.strip():
        raise InvalidInput("cancelling a contract needs a reason.")
    if contract.status not in RUNNING:
        raise RuleViolated(
            f"contract {contract.name!r} is {_said(contract.status)} and cannot be cancelled."
        )
    return [ContractCancelled(reason=reason.strip())]


def _said(status: ContractStatus) -> str:
    return status.replace("_", " ")


# --- timers -----------------------------------------------------------------------------------


class Timer(msgspec.Struct, frozen=True, kw_only=True):
    contract_id: UUID
    kind: TimerKind
    due_at: datetime


def midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def timers_of(contract: Contract, *, notice_days: int) -> list[Timer]:
    """The timers a contract in its state needs: none once it has ended or for a one-off."""
    if contract.contract_kind != "time_based" or contract.end is None:
        return []
    if contract.status not in RUNNING:
        return []
    timers = []
    if contract.status == "active":
        notice = contract.end - timedelta(days=notice_days)
        timers.append(Timer(contract_id=contract.id, kind="renewal_due", due_at=midnight(notice)))
    timers.append(Timer(contract_id=contract.id, kind="expiry", due_at=midnight(contract.end)))
    return timers


# --- the process manager's decisions ---------------------------------------------------------

Changes = dict[UUID, list[DomainEvent]]
NO_LONGER_SOLD = "its item is no longer sold on the opportunity"


class Current(msgspec.Struct, frozen=True):
    """The latest contract made for one item key, and its generation."""

    generation: int
    contract: Contract


def on_sale(
    terms: Sequence[ContractTerms],
    current: dict[str, Current],
    *,
    opportunity_id: UUID,
    account_id: UUID,
    owner: str,
    renews_contract_id: UUID | None = None,
) -> Changes:
    """What a sale (or a re-sale) of an opportunity does to its contracts.

    ``current`` holds, per item key the opportunity was ever sold with, its latest
    contract. Items without a live contract get a new one (the next generation);
    live ones whose item changed are amended; running ones whose item is no longer
    sold are cancelled; the rest are left alone.
    """
    changes: Changes = {}
    for term in terms:
        found = current.get(term.key)
        if found is not None and found.contract.live:
            amended = amend(found.contract, term)
            if amended:
                changes[found.contract.id] = amended
            continue
        generation = 0 if found is None else found.generation + 1
        changes[contract_id_for(opportunity_id, term.key, generation)] = create(
            term,
            opportunity_id=opportunity_id,
            account_id=account_id,
            owner=owner,
            renews_contract_id=renews_contract_id,
        )
    sold = {term.key for term in terms}
    for key, found in current.items():
        if key not in sold and found.contract.status in RUNNING:
            changes[found.contract.id] = cancel(found.contract, NO_LONGER_SOLD)
    return changes


def on_opportunity_closed(current: dict[str, Current], reason: str) -> Changes:
    """A sold opportunity was unlocked and then lost, disqualified or deleted: its running
    contracts are cancelled."""
    return {
        found.contract.id: cancel(found.contract, reason)
        for found in current.values()
        if found.contract.status in RUNNING
    }
