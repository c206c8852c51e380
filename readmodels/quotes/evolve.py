"""How quote events change the quotes list: each change a new version of the quote's row,
its total made again from its lines (``domain.quote.Quote.total``'s rule)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any

from domain import quote
from domain.events import DomainEvent
from domain.money import minor_unit, round_half_up
from readmodels.quotes.tables import TABLE, QuoteRow
from readmodels.values import micros
from readmodels.versions import Versions


class QuoteVersions(Versions[QuoteRow]):
    """The current version of each quote."""

    def __init__(self) -> None:
        super().__init__(TABLE, QuoteRow)

    def changed(self, e: DomainEvent, position: int, key: str, **changes: Any) -> None:
        self.change(key, position, e.recorded_at, **changes)

    def priced(
        self,
        e: DomainEvent,
        position: int,
        key: str,
        lines: dict[str, str],
        **changes: Any,
    ) -> None:
        """A new version with these ``lines`` (and ``changes``), its total made again."""
        row = self.current[key]
        currency = changes.get("currency", row.currency)
        rounding = changes.get("rounding", row.rounding)
        self.changed(
            e,
            position,
            key,
            lines=lines,
            items=len(lines),
            total=_total(lines.values(), rounding, currency),
            **changes,
        )


def _total(lines: Iterable[str], rounding: Decimal | None, currency: str) -> Decimal:
    amount = sum((Decimal(line) for line in lines), start=Decimal(0))
    if rounding is not None:
        amount += rounding
    return round_half_up(amount, minor_unit(currency))


def _lines(items: Iterable[quote.QuoteItem], currency: str) -> dict[str, str]:
    return {str(i.id): str(i.line_total(currency).amount) for i in items}


def _created(state: QuoteVersions, e: quote.QuoteCreated, position: int, key: str) -> None:
    lines = _lines(e.items, e.currency)
    state.begin(
        QuoteRow(
            id=key,
            valid_from=position,
            opportunity_id=str(e.opportunity_id),
            name=e.name,
            currency=e.currency,
            active=False,
            locked=False,
            deleted=False,
            items=len(lines),
            total=_total(lines.values(), e.rounding, e.currency),
            rounding=e.rounding,
            lines=lines,
            created_at=micros(e.occurred_at),
            updated_at=micros(e.recorded_at),
        )
    )


def _details(state: QuoteVersions, e: quote.QuoteDetailsChanged, position: int, key: str) -> None:
    state.changed(e, position, key, name=e.name)


def _item(state: QuoteVersions, e: quote.QuoteItemAdded, position: int, key: str) -> None:
    row = state[key]
    lines = {**row.lines, **_lines([e.item], row.currency)}
    state.priced(e, position, key, lines)


def _removed(state: QuoteVersions, e: quote.QuoteItemRemoved, position: int, key: str) -> None:
    lines = {k: v for k, v in state[key].lines.items() if k != str(e.item_id)}
    state.priced(e, position, key, lines)


def _rounding(state: QuoteVersions, e: quote.QuoteRoundingSet, position: int, key: str) -> None:
    state.priced(e, position, key, state[key].lines, rounding=e.rounding)


def _currency(state: QuoteVersions, e: quote.QuoteCurrencyChanged, position: int, key: str) -> None:
    lines = _lines(e.items, e.currency)
    state.priced(e, position, key, lines, currency=e.currency, rounding=e.rounding)


def _flag(**flags: bool) -> Callable[[QuoteVersions, Any, int, str], None]:
    def handle(state: QuoteVersions, e: Any, position: int, key: str) -> None:
        state.changed(e, position, key, **flags)

    return handle


HANDLERS: Mapping[type[DomainEvent], Callable[[QuoteVersions, Any, int, str], None]] = {
    quote.QuoteCreated: _created,
    quote.QuoteDetailsChanged: _details,
    quote.QuoteItemAdded: _item,
    quote.QuoteItemChanged: _item,  # the same item id: its line replaced
    quote.QuoteItemRemoved: _removed,
    quote.QuoteRoundingSet: _rounding,
    quote.QuoteCurrencyChanged: _currency,
    quote.QuoteActivated: _flag(active=True),
    quote.QuoteDeactivated: _flag(active=False),
    quote.QuoteLocked: _flag(locked=True),
    quote.QuoteUnlocked: _flag(locked=False),
    quote.QuoteDeleted: _flag(deleted=True, active=False),
}
