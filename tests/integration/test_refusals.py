"""Command-level refusals that need more than one aggregate, on both stores."""

from __future__ import annotations

from decimal import Decimal
from uuid import uuid4

import pytest

from adapters.bootstrap import Services
from commands import opportunities as opp
from commands import quotes as qt
from domain.errors import AlreadyExists, RuleViolated
from domain.money import Money
from tests.builders import create_opportunity
from tests.identity import TEAM

pytestmark = pytest.mark.users(*TEAM)


def _opportunity_with_quote(services: Services) -> tuple[object, object]:
    bus = services.bus
    o = bus.execute(
        create_opportunity(account="ACME", title="ACME", amount=Money(Decimal("10.00"), "EUR"))
    )
    q = bus.execute(qt.CreateQuote(quote_id=uuid4(), opportunity_id=o.id, name="Q1"))
    bus.execute(
        qt.AddQuoteItem(
            quote_id=q.id,
            item_id=uuid4(),
            name="Setup",
            quantity=Decimal(1),
            unit_price=Decimal("100.00"),
        )
    )
    return o.id, q.id


def test_an_offer_for_a_lost_opportunity_is_refused_and_nothing_is_written(
    services: Services,
) -> None:
    # Given a lost opportunity with a quote
    opportunity_id, quote_id = _opportunity_with_quote(services)
    services.bus.execute(opp.LoseOpportunity(opportunity_id=opportunity_id, reason="price"))
    before = services.store.max_position()
    # When an offer is asked for
    with pytest.raises(RuleViolated, match="reopen it to change it"):
        services.bus.execute(qt.GenerateOffer(quote_id=quote_id, document_id=uuid4()))
    # Then nothing was written
    assert services.store.max_position() == before


def test_copying_onto_a_taken_id_is_refused_as_already_existing(services: Services) -> None:
    # Given two opportunities
    first, _ = _opportunity_with_quote(services)
    second, _ = _opportunity_with_quote(services)
    before = services.store.max_position()
    # When the first is copied onto the second's id
    with pytest.raises(AlreadyExists, match="already taken"):
        services.bus.execute(opp.CopyOpportunity(opportunity_id=first, new_opportunity_id=second))
    # Then nothing was written
    assert services.store.max_position() == before
