"""Rules that span an opportunity and its quotes.

Each function returns the events for every aggregate it changes; the
application saves them in one atomic save, each aggregate with its version
check, so the rules hold under concurrency:

- an opportunity has at most one active quote, and while it has one its
  amount is that quote's total;
- the active quote cannot be deleted, nor can a locked one;
- selling needs an active quote with at least one item; it snapshots the
  sold items and locks the opportunity and all its quotes; unlocking reopens;
- an offer is generated from a changeable quote of a changeable opportunity.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID, uuid5

import msgspec

from domain import opportunity as opp_rules
from domain import quote as quote_rules
from domain.aggregate import fold
from domain.errors import InvalidInput, Locked, RuleViolated
from domain.opportunity import (
    ActiveQuoteChanged,
    Opportunity,
    OpportunityAmountChanged,
    OpportunityDeleted,
    OpportunityEvent,
    OpportunitySold,
    OpportunityUnlocked,
    QuoteAdded,
    QuoteRemoved,
    SoldItem,
)
from domain.pipeline import Pipeline
from domain.quote import (
    Quote,
    QuoteActivated,
    QuoteCreated,
    QuoteDeactivated,
    QuoteDeleted,
    QuoteEvent,
    QuoteLocked,
    QuoteUnlocked,
)

# The events a decision makes, per aggregate (an opportunity and its quotes).
Changes = dict[UUID, Sequence[OpportunityEvent | QuoteEvent]]


def _belongs(opportunity: Opportunity, quote: Quote) -> None:
    if quote.opportunity_id != opportunity.id:
        raise InvalidInput(f"quote {quote.id} does not belong to opportunity {opportunity.id}.")


def add_quote(opportunity: Opportunity, quote_id: UUID, created: Sequence[QuoteEvent]) -> Changes:
    opp_rules.ensure_changeable(opportunity)
    return {quote_id: created, opportunity.id: [QuoteAdded(quote_id=quote_id)]}


def _amount_follows(opportunity: Opportunity, quote_after: Quote) -> list[OpportunityEvent]:
    total = quote_after.total
    if total.amount < 0:
        raise RuleViolated(
            f"the active quote's total would be {total}; an opportunity amount cannot be negative."
        )
    if total == opportunity.amount:
        return []
    return [
        OpportunityAmountChanged(amount=total, previous=opportunity.amount, source="active_quote")
    ]


def change_quote(opportunity: Opportunity, quote: Quote, events: Sequence[QuoteEvent]) -> Changes:
    """A change to a quote; the opportunity's amount follows when the quote is active."""
    _belongs(opportunity, quote)
    opp_rules.ensure_changeable(opportunity)
    changes: Changes = {quote.id: events}
    if opportunity.active_quote_id == quote.id:
        follow = _amount_follows(opportunity, fold(quote, events))
        if follow:
            changes[opportunity.id] = follow
    return changes


def activate_quote(
    opportunity: Opportunity, quote: Quote, previously_active: Quote | None
) -> Changes:
    _belongs(opportunity, quote)
    opp_rules.ensure_changeable(opportunity)
    quote_rules.ensure_changeable(quote)
    if quote.active:
        raise RuleViolated(f"quote {quote.name!r} is already the active quote.")
    changes: Changes = {quote.id: [QuoteActivated()]}
    if previously_active is not None:
        changes[previously_active.id] = [QuoteDeactivated()]
    changes[opportunity.id] = [
        ActiveQuoteChanged(quote_id=quote.id),
        *_amount_follows(opportunity, quote),
    ]
    return changes


def deactivate_quote(opportunity: Opportunity, quote: Quote) -> Changes:
    """The opportunity keeps the amount it had; from now on it is set by hand."""
    _belongs(opportunity, quote)
    opp_rules.ensure_changeable(opportunity)
    quote_rules.ensure_changeable(quote)
    if not quote.active:
        raise RuleViolated(f"quote {quote.name!r} is not the active quote.")
    return {quote.id: [QuoteDeactivated()], opportunity.id: [ActiveQuoteChanged(quote_id=None)]}


def delete_quote(opportunity: Opportunity, quote: Quote) -> Changes:
    _belongs(opportunity, quote)
    quote_rules.ensure_changeable(quote)
    if quote.active:
        raise RuleViolated(
            f"quote {quote.name!r} is the active quote and cannot be deleted; "
            "activate another quote first."
        )
    opp_rules.ensure_changeable(opportunity)
    return {quote.id: [QuoteDeleted()], opportunity.id: [QuoteRemoved(quote_id=quote.id)]}


def ensure_offerable(opportunity: Opportunity, quote: Quote) -> None:
    """An offer is generated from a changeable quote of a changeable opportunity."""
    _belongs(opportunity, quote)
    quote_rules.ensure_changeable(quote)
    opp_rules.ensure_changeable(opportunity)


def record_offer(
    opportunity: Opportunity, quote: Quote, document_id: UUID, sha256: str, generated_at: datetime
) -> Changes:
    """The offer document ``document_id`` (its SHA-256 ``sha256``) was generated from the
    quote, which needs items to offer."""
    ensure_offerable(opportunity, quote)
    return {quote.id: quote_rules.record_offer(quote, document_id, sha256, generated_at)}


def copied_item_id(new_quote_id: UUID, item_id: UUID) -> UUID:
    # Deterministic, so a copy is reproducible and item ids stay unique per quote.
    return uuid5(new_quote_id, str(item_id))


def _copy_of(quote: Quote, opportunity_id: UUID, new_id: UUID, name: str) -> QuoteCreated:
    return QuoteCreated(
        opportunity_id=opportunity_id,
        name=name,
        currency=quote.currency,
        price_book_id=quote.price_book_id,
        brand=quote.brand,
        product_version=quote.product_version,
        valid_from=quote.valid_from,
        valid_until=quote.valid_until,
        items=tuple(
            msgspec.structs.replace(item, id=copied_item_id(new_id, item.id))
            for item in quote.items
        ),
        rounding=quote.rounding,
        copied_from=quote.id,
    )


def duplicate_quote(
    opportunity: Opportunity, quote: Quote, new_id: UUID, name: str | None = None
) -> Changes:
    """An inactive, unlocked copy on the same opportunity."""
    _belongs(opportunity, quote)
    opp_rules.ensure_changeable(opportunity)
    if quote.deleted:
        raise RuleViolated(f"quote {quote.id} was deleted.")
    copy = _copy_of(quote, opportunity.id, new_id, (name or f"{quote.name} (copy)").strip())
    return {new_id: [copy], opportunity.id: [QuoteAdded(quote_id=new_id)]}


def sell(
    opportunity: Opportunity,
    pipeline: Pipeline,
    quotes: Sequence[Quote],
    *,
    sold_at: datetime,
    now: datetime,
) -> Changes:
    opp_rules.ensure_exists(opportunity)
    if opportunity.locked:
        raise Locked(f"opportunity {opportunity.title!r} is already sold.")
    opp_rules.ensure_changeable(opportunity)
    if sold_at > now:
        raise InvalidInput("an opportunity cannot be sold in the future.")
    active = next((q for q in quotes if q.id == opportunity.active_quote_id), None)
    if active is None or not active.items:
        raise RuleViolated("selling needs an active quote with at least one item.")
    items = tuple(
        SoldItem(item=item, line_total=item.line_total(active.currency)) for item in active.items
    )
    changes: Changes = {
        opportunity.id: [
            OpportunitySold(
                sold_at=sold_at,
                quote_id=active.id,
                stage=pipeline.closed_stage("won").key,
                previous_stage=opportunity.stage,
                amount=active.total,
                items=items,
            )
        ]
    }
    for quote in quotes:
        _belongs(opportunity, quote)
        if not quote.deleted:
            changes[quote.id] = [QuoteLocked()]
    return changes


def unlock(opportunity: Opportunity, pipeline: Pipeline, quotes: Sequence[Quote]) -> Changes:
    """Reopen a sold opportunity; its contracts stay until they are removed."""
    opp_rules.ensure_exists(opportunity)
    if not opportunity.locked:
        raise RuleViolated(f"opportunity {opportunity.title!r} is not locked.")
    changes: Changes = {
        opportunity.id: [
            OpportunityUnlocked(stage=opp_rules.reopening_stage(opportunity, pipeline))
        ]
    }
    for quote in quotes:
        _belongs(opportunity, quote)
        if quote.locked:
            changes[quote.id] = [QuoteUnlocked()]
    return changes


def delete_opportunity(opportunity: Opportunity, quotes: Sequence[Quote]) -> Changes:
    opp_rules.ensure_exists(opportunity)
    if opportunity.locked:
        raise Locked(f"opportunity {opportunity.title!r} is sold and cannot be deleted.")
    changes: Changes = {opportunity.id: [OpportunityDeleted()]}
    for quote in quotes:
        _belongs(opportunity, quote)
        if not quote.deleted:
            changes[quote.id] = [QuoteDeleted()]
    return changes


def copy_opportunity(
    source: Opportunity,
    pipeline: Pipeline,
    quotes: Sequence[Quote],
    *,
    new_id: UUID,
    title: str | None,
    quote_ids: dict[UUID, UUID],
    owner: str | None = None,
) -> Changes:
    """A new open opportunity like ``source`` (owned by ``owner``, default the source's
    owner), with copies of its quotes.

    The copy of the active quote is the copy's active quote. ``quote_ids`` maps
    each source quote id to the id its copy gets.
    """
    opp_rules.ensure_exists(source)
    stage = source.stage if source.status == "open" else opp_rules.reopening_stage(source, pipeline)
    created = opp_rules.create(
        title=title or f"{source.title} (copy)",
        account_id=source.account_id,
        owner=owner or source.owner,
        pipeline=pipeline,
        expected_close=source.expected_close,
        amount=source.amount,
        stage=stage,
        probability=source.probability_override,
        forecast_category=source.forecast_category_override,
        partner_id=source.partner_id,
        campaign_id=source.campaign_id,
        copied_from=source.id,
        # The copy keeps the source's custom values (checked when they were set).
        custom=source.custom,
    )
    copy: list[OpportunityEvent] = list(created)
    changes: Changes = {new_id: copy}
    for quote in quotes:
        if quote.deleted:
            continue
        copy_id = quote_ids[quote.id]
        quote_copy: list[QuoteEvent] = [_copy_of(quote, new_id, copy_id, quote.name)]
        changes[copy_id] = quote_copy
        copy.append(QuoteAdded(quote_id=copy_id))
        if quote.active:
            quote_copy.append(QuoteActivated())
            copy.append(ActiveQuoteChanged(quote_id=copy_id))
    return changes
