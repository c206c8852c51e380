"""Aggregate state as the JSON shapes of docs/api.md."""

from __future__ import annotations

from typing import Any

from domain.account import Account
from domain.bundle import Bundle
from domain.events import ENVELOPE_FIELDS, DomainEvent, json_ready
from domain.exchange_rates import ExchangeRates
from domain.money import Money
from domain.opportunity import Opportunity
from domain.personal_data import personal_fields_of
from domain.pipeline import Pipeline
from domain.price_book import PriceBook
from domain.product import Product
from domain.quote import Quote

# An answer's decimals are written in full, as the Kafka envelope's are.
builtins = json_ready


def money(value: Money) -> dict[str, str]:
    return {"amount": format(value.amount, "f"), "currency": value.currency}


def opportunity_view(opp: Opportunity, pipeline: Pipeline) -> dict[str, Any]:
    return {
        "id": str(opp.id),
        "version": opp.version,
        "title": opp.title,
        "account_id": str(opp.account_id),
        "owner": opp.owner,
        "private": opp.private,
        "shared_with": list(opp.shared_with),
        "pipeline": pipeline.name,
        "pipeline_id": str(pipeline.id),
        "stage": opp.stage,
        "probability": opp.probability(pipeline),
        "probability_overridden": opp.probability_override is not None,
        "amount": money(opp.amount),
        "status": opp.status,
        "locked": opp.locked,
        "active_quote_id": str(opp.active_quote_id) if opp.active_quote_id else None,
        "quote_ids": [str(q) for q in opp.quote_ids],
        "expected_close": opp.expected_close.isoformat(),
        "forecast_category": opp.forecast_category(pipeline),
        "forecast_category_overridden": opp.forecast_category_override is not None,
        "partner_id": str(opp.partner_id) if opp.partner_id else None,
        "sold_at": opp.sold_at.isoformat() if opp.sold_at else None,
        "close_reason": opp.close_reason,
        "business_roles": builtins(opp.roles),
        "activities": builtins(opp.activities),
        "copied_from": str(opp.copied_from) if opp.copied_from else None,
    }


def quote_view(quote: Quote) -> dict[str, Any]:
    return {
        "id": str(quote.id),
        "version": quote.version,
        "opportunity_id": str(quote.opportunity_id),
        "name": quote.name,
        "currency": quote.currency,
        "price_book_id": str(quote.price_book_id) if quote.price_book_id else None,
        "brand": quote.brand,
        "product_version": quote.product_version,
        "valid_from": quote.valid_from.isoformat() if quote.valid_from else None,
        "valid_until": quote.valid_until.isoformat() if quote.valid_until else None,
        "active": quote.active,
        "locked": quote.locked,
        "items": [
            {
                "id": str(item.id),
                "product_id": str(item.product_id) if item.product_id else None,
                "name": item.name,
                "quantity": str(item.quantity),
                "unit": item.unit,
                "unit_price": money(Money(item.unit_price, quote.currency)),
                "discount_pct": str(item.discount_pct),
                "kind": item.kind,
                "term_months": item.term_months,
                "category": item.category,
                "source": item.source,
                "start": item.start.isoformat() if item.start else None,
                "components": builtins(item.components),
                "line_total": money(item.line_total(quote.currency)),
            }
            for item in quote.items
        ],
        "rounding": money(Money(quote.rounding, quote.currency))
        if quote.rounding is not None
        else None,
        "total": money(quote.total),
        "offers": builtins(quote.offers),
        "copied_from": str(quote.copied_from) if quote.copied_from else None,
    }


def pipeline_view(pipeline: Pipeline) -> dict[str, Any]:
    return {
        "id": str(pipeline.id),
        "version": pipeline.version,
        "name": pipeline.name,
        "stages": [
            {
                "id": stage.key,
                "name": stage.name,
                "position": position,
                "probability": stage.probability,
                "forecast_category": stage.forecast_category,
                "closed": stage.closed,
            }
            for position, stage in enumerate(pipeline.stages, start=1)
        ],
    }


def reference_view(
    state: Product | PriceBook | Bundle | Account | ExchangeRates,
) -> dict[str, Any]:
    data: dict[str, Any] = builtins(state)
    if isinstance(state, Product):
        data["kind"] = data.pop("item_kind")
    return data


def history_view(events: list[DomainEvent], *, masking: bool = False) -> list[dict[str, Any]]:
    """Each event as ``GET /history`` shows it; ``masking``: its personal fields null."""
    return [
        {
            "version": event.originator_version,
            "type": type(event).type_name,
            "recorded_at": event.recorded_at.isoformat(),
            "effective_at": event.effective_at.isoformat() if event.effective_at else None,
            # Who did it, in which request, caused by what (docs/design.md, "Who did it").
            "actor": event.by,
            "correlation_id": event.request_id,
            "causation_id": event.causation_id,
            # Personal data shows opened (or null once erased), never its ciphertext.
            "data": _data(event, masking),
            "masked": masking,
        }
        for event in events
    ]


def _data(event: DomainEvent, masking: bool) -> dict[str, Any]:
    hidden = {*ENVELOPE_FIELDS, "sealed"}
    data = {k: v for k, v in builtins(event).items() if k not in hidden}
    if masking:
        data.update(dict.fromkeys(personal_fields_of(type(event))))
    return data
