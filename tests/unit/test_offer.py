"""Offer documents: a quote rendered from a template, deterministic to the byte."""

from __future__ import annotations

import hashlib
from datetime import date
from decimal import Decimal
from uuid import UUID

import msgspec
import pytest

from domain import offer
from domain import quote as quote_rules
from domain.aggregate import fold
from domain.errors import InvalidInput
from domain.events import DomainEvent
from domain.quote import (
    OfferGenerated,
    Quote,
    QuoteDetailsChanged,
    QuoteItemAdded,
    QuoteRoundingSet,
)
from tests.builders import DOCUMENT, NOW, item, quote_created, quote_state
from tests.gwt import given

TODAY = date(2027, 1, 4)

LICENCE = item("25.00", "10", "10", item_id=UUID("00000000-0000-4000-8000-000000000101"))
IMPLEMENTATION = msgspec.structs.replace(
    item(
        "1200.00",
        "2",
        name="Implementation",
        kind="one_off",
        item_id=UUID("00000000-0000-4000-8000-000000000102"),
    ),
    unit="day",
)


QUOTE_EVENTS: tuple[DomainEvent, ...] = (
    quote_created(),
    QuoteDetailsChanged(name="Q1", valid_from=date(2027, 1, 1), valid_until=date(2027, 3, 31)),
    QuoteItemAdded(item=LICENCE),
    QuoteItemAdded(item=IMPLEMENTATION),
    QuoteRoundingSet(rounding=Decimal("-0.50")),
)


def _quote() -> Quote:
    state: Quote = fold(None, QUOTE_EVENTS)
    return state


def _render(template: str | None = None, q: Quote | None = None) -> bytes:
    return offer.render(
        template,
        quote=q or _quote(),
        account="ACME GmbH",
        opportunity="ACME rollout",
        owner="alice",
        today=TODAY,
    )


def _generate(q: Quote, template: str | None = None) -> list[DomainEvent]:
    """Render the offer and record it on the quote, as the command does."""
    document = _render(template, q)
    return quote_rules.record_offer(q, DOCUMENT, offer.sha256(document), NOW)


# 10 × 25.00 × 0.9 = 225.00; 2 × 1200.00 = 2,400.00; 225.00 + 2,400.00 − 0.50 = 2,624.50
EXPECTED = """\
OFFER  Q1
For:   ACME GmbH
Re:    ACME rollout
From:  alice
Date:  2027-01-04
Valid: 2027-01-01 to 2027-03-31

  1. CRM licence — 10 user × 25.00 EUR less 10%, 12 months = 225.00 EUR
  2. Implementation — 2 day × 1200.00 EUR = 2,400.00 EUR
Rounding -0.50 EUR
TOTAL  2,624.50 EUR
""".encode()


def test_the_default_template_lists_every_item_and_the_total() -> None:
    assert _render() == EXPECTED


def test_rendering_is_deterministic_to_the_byte_and_the_hash() -> None:
    first, second = _render(), _render()
    assert first == second
    assert offer.sha256(first) == offer.sha256(second) == hashlib.sha256(EXPECTED).hexdigest()
    assert len(offer.sha256(first)) == 64


def test_a_different_quote_gives_a_different_document_and_hash() -> None:
    changed = quote_state(QuoteItemAdded(item=LICENCE))
    assert offer.sha256(_render(q=changed)) != offer.sha256(_render())


def test_a_quote_without_validity_dates_or_rounding_renders_dashes_and_no_rounding_line() -> None:
    text = _render(q=quote_state(QuoteItemAdded(item=LICENCE))).decode()
    assert "Valid: — to —\n" in text
    assert "Rounding" not in text
    assert text.endswith("= 225.00 EUR\n\nTOTAL  225.00 EUR\n")


def test_a_jpy_offer_shows_whole_yen() -> None:
    yen = item("333.5", "3", kind="one_off")
    text = _render("$items / $total", quote_state(QuoteItemAdded(item=yen), currency="JPY"))
    # 3 × 333.5 = 1000.5 → 1,001 JPY
    assert text.decode() == "  1. CRM licence — 3 user × 333.5 JPY = 1,001 JPY / 1,001 JPY"


def test_a_custom_template_fills_every_token_and_keeps_escaped_dollars() -> None:
    template = (
        "$quote for $account ($opportunity, $owner) on $date, "
        "valid $valid_from–$valid_until: $total in $currency; fee $$5"
    )
    assert _render(template).decode() == (
        "Q1 for ACME GmbH (ACME rollout, alice) on 2027-01-04, "
        "valid 2027-01-01–2027-03-31: 2,624.50 EUR in EUR; fee $5"
    )


def test_an_unknown_token_is_refused_with_the_known_ones() -> None:
    given(*QUOTE_EVENTS).when(lambda q: _generate(q, "Dear $customer")).then_raises(
        InvalidInput,
        "the template uses an unknown token $customer (known: $account, $opportunity, $owner, "
        "$quote, $currency, $valid_from, $valid_until, $date, $items, $rounding, $total).",
    )


@pytest.mark.parametrize(
    ("template", "where"),
    [
        ("Price: $5", "line 1, col 8"),
        ("${total", "line 1, col 1"),
        ("OFFER\nends with $", "line 2, col 11"),
    ],
)
def test_a_malformed_template_is_refused(template: str, where: str) -> None:
    given(*QUOTE_EVENTS).when(lambda q: _generate(q, template)).then_raises(
        InvalidInput,
        f"the template is malformed: Invalid placeholder in string: {where}; "
        "write $$ for a dollar sign.",
    )


def test_a_template_longer_than_10000_characters_is_refused() -> None:
    given(*QUOTE_EVENTS).when(lambda q: _generate(q, "x" * 10_001)).then_raises(
        InvalidInput, "an offer template has at most 10000 characters."
    )


def test_generating_an_offer_records_the_hash_of_the_rendered_document() -> None:
    given(*QUOTE_EVENTS).when(_generate).then(
        OfferGenerated(
            document_id=DOCUMENT, sha256=hashlib.sha256(EXPECTED).hexdigest(), generated_at=NOW
        )
    )
