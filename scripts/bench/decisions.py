"""What each simulated command decides, with the domain's own behaviour functions."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import cast
from uuid import UUID

from commands.ports import Document
from domain import offer as offer_rules
from domain import opportunity as opp_rules
from domain import quote as quote_rules
from domain import selling
from domain.money import Money
from domain.opportunity import ActivityKind, SalesActivity
from domain.price_book import PriceBook
from domain.quote import Quote, QuoteItem

from .simulation import Simulation
from .world import CONTACT_ROLES, DEAL_KINDS, LOSS_REASONS, MANAGER_OF, OWNERS


class Decisions(Simulation):
    """Decisions (each what one command would decide)."""

    def log_activity(self, oid: UUID) -> None:
        rng = self.rng
        kind: ActivityKind = rng.choice(("call", "meeting", "email", "email", "task", "note"))
        activity = SalesActivity(
            id=self.uuid(),
            kind=kind,
            subject=f"{kind.title()} about {rng.choice(DEAL_KINDS)}",
            occurred_at=self.now - timedelta(minutes=rng.randint(0, 600)),
            notes="Follow up next week." if rng.random() < 0.3 else None,
        )
        self.attempt(lambda: self.decide({oid: opp_rules.log_activity(self.opp(oid), activity)}))

    def edit_activity(self, oid: UUID) -> None:
        opportunity = self.opp(oid)
        if opportunity.activities:
            activity = self.rng.choice(opportunity.activities)
            self.decide(
                {
                    oid: opp_rules.edit_activity(
                        opportunity, activity.id, notes=f"Updated notes {self.rng.randint(1, 999)}"
                    )
                }
            )

    def delete_activity(self, oid: UUID) -> None:
        opportunity = self.opp(oid)
        if opportunity.activities:
            activity = self.rng.choice(opportunity.activities)
            self.decide({oid: opp_rules.delete_activity(opportunity, activity.id)})

    def add_role(self, oid: UUID) -> None:
        opportunity = self.opp(oid)
        contact = f"contact{self.rng.randint(1, 9999)}@customer.example"
        role = self.rng.choice(CONTACT_ROLES)
        self.attempt(
            lambda: self.decide(
                {
                    oid: opp_rules.add_business_role(
                        opportunity, self.uuid(), contact=contact, role=role
                    )
                }
            )
        )

    def change_amount(self, oid: UUID) -> None:
        opportunity = self.opp(oid)
        factor = Decimal(self.rng.choice(("0.8", "0.9", "1.1", "1.25", "1.5")))
        amount = Money.of(opportunity.amount.amount * factor, opportunity.amount.currency)
        self.decide({oid: opp_rules.change_amount(opportunity, amount)})

    def move(self, oid: UUID, stage: str) -> None:
        self.attempt(
            lambda: self.decide({oid: opp_rules.move_to_stage(self.opp(oid), self.pipeline, stage)})
        )

    def close(self, oid: UUID, how: str) -> None:
        def decide() -> None:
            opportunity = self.opp(oid)
            reason = self.rng.choice(LOSS_REASONS)
            effective = None
            if self.rng.random() < 0.2:
                effective = self.now - timedelta(days=self.rng.randint(1, 4))
            if how == "lost":
                events = opp_rules.lose(opportunity, self.pipeline, reason)
            else:
                events = opp_rules.mark_unqualified(opportunity, self.pipeline, "no project")
            self.decide({oid: events}, effective_at=effective)

        self.attempt(decide)

    def delete(self, oid: UUID) -> None:
        def decide() -> None:
            opportunity = self.opp(oid)
            self.decide(selling.delete_opportunity(opportunity, self.quotes_of(opportunity)))

        self.attempt(decide)

    def create_quote(self, oid: UUID, currency: str) -> UUID:
        quote_id = self.uuid()
        opportunity = self.opp(oid)
        self.quotes += 1
        created = quote_rules.create(
            oid,
            f"Q-{self.quotes:06d}",
            currency,
            price_book=cast(PriceBook, self.states[self.book_id]),
            valid_from=self.now.date(),
            valid_until=opportunity.expected_close + timedelta(days=30),
        )
        self.attempt(lambda: self.decide(selling.add_quote(opportunity, quote_id, created)))
        return quote_id

    def new_item(self, quote: Quote) -> QuoteItem:
        rng = self.rng
        if rng.random() < 0.1:
            return QuoteItem(
                id=self.uuid(),
                name=rng.choice(("Custom integration", "Onsite workshop", "Consulting")),
                quantity=Decimal(rng.randint(4, 80)),
                unit="hour",
                unit_price=Decimal(rng.choice(("140.00", "165.00", "190.00"))),
                kind="one_off",
                source="manual",
                category="implementation",
                discount_pct=Decimal(rng.choice((0, 0, 5, 10))),
            )
        product = rng.choice(self.sellables)
        unit = self.units[product.id]
        quantity = (
            Decimal(rng.choice((5, 10, 25, 50, 120, 300)))
            if unit == "user"
            else Decimal(rng.randint(1, 6))
        )
        assert quote.price_book_id is not None
        return quote_rules.price_book_item(
            quote,
            cast(PriceBook, self.states[quote.price_book_id]),
            item_id=self.uuid(),
            sellable=product,
            quantity=quantity,
            unit=None,
            discount_pct=Decimal(rng.choice(("0", "0", "0", "5", "10", "12.5", "15"))),
        )

    def add_item(self, quote_id: UUID) -> None:
        def decide() -> None:
            quote = cast(Quote, self.states[quote_id])
            opportunity = self.opp(quote.opportunity_id)
            events = quote_rules.add_item(quote, self.new_item(quote))
            self.decide(selling.change_quote(opportunity, quote, events))

        self.attempt(decide)

    def activate(self, oid: UUID, quote_id: UUID) -> None:
        def decide() -> None:
            opportunity = self.opp(oid)
            quote = cast(Quote, self.states[quote_id])
            previous = self.active_quote(opportunity)
            self.decide(selling.activate_quote(opportunity, quote, previous))

        self.attempt(decide)

    def change_item(self, oid: UUID) -> None:
        opportunity = self.opp(oid)
        quote = self.active_quote(opportunity)
        if quote is None or not quote.items:
            return
        rng = self.rng
        item = rng.choice(quote.items)
        if rng.random() < 0.5:
            events = quote_rules.change_item(
                quote, item.id, quantity=item.quantity + rng.randint(1, 10)
            )
        else:
            discount = rng.choice(("0", "5", "7.5", "10", "15", "20"))
            if Decimal(discount) == item.discount_pct:
                discount = "2.5"
            events = quote_rules.change_item(quote, item.id, discount_pct=Decimal(discount))
        self.decide(selling.change_quote(opportunity, quote, events))

    def offer(self, oid: UUID) -> None:
        opportunity = self.opp(oid)
        quote = self.active_quote(opportunity)
        if quote is None:
            return
        account = self.states[opportunity.account_id]
        content = offer_rules.render(
            None,
            quote=quote,
            account=getattr(account, "name", "?"),
            opportunity=opportunity.title,
            owner=opportunity.owner,
            today=self.now.date(),
        )
        digest = offer_rules.sha256(content)
        document_id = self.uuid()
        self.decide({quote.id: quote_rules.record_offer(quote, document_id, digest, self.now)})
        self.documents.append(
            Document(
                id=document_id,
                quote_id=quote.id,
                media_type="text/plain; charset=utf-8",
                content=content,
                sha256=digest,
                created_at=self.now,
            )
        )
        self.document_count += 1

    def push_close(self, oid: UUID) -> None:
        opportunity = self.opp(oid)
        shift = self.rng.choice((-14, 15, 30, 30, 45, 60))
        close = max(self.now.date(), opportunity.expected_close) + timedelta(days=shift)
        self.decide({oid: opp_rules.edit(opportunity, expected_close=close)})

    def override_probability(self, oid: UUID) -> None:
        probability = self.rng.choice((20, 40, 60, 80, 90))
        self.decide({oid: opp_rules.set_probability(self.opp(oid), probability)})

    def override_category(self, oid: UUID) -> None:
        category = self.rng.choice(("commit", "best_case", "omitted"))
        self.decide({oid: opp_rules.set_forecast_category(self.opp(oid), category)})  # type: ignore[arg-type]

    def second_quote(self, oid: UUID) -> None:
        """Duplicate the active quote, change the copy, and make it the active one."""
        opportunity = self.opp(oid)
        quote = self.active_quote(opportunity)
        if quote is None:
            return
        copy_id = self.uuid()
        self.quotes += 1
        self.decide(selling.duplicate_quote(opportunity, quote, copy_id, f"{quote.name} v2"))
        copy = cast(Quote, self.states[copy_id])
        if copy.items:
            item = copy.items[0]
            events = quote_rules.change_item(copy, item.id, quantity=item.quantity + 2)
            self.decide(selling.change_quote(self.opp(oid), copy, events))
        opportunity = self.opp(oid)
        self.decide(
            selling.activate_quote(
                opportunity, cast(Quote, self.states[copy_id]), self.active_quote(opportunity)
            )
        )

    def reassign(self, oid: UUID) -> None:
        """The owner's manager gives the deal to another rep, who works it from then on."""
        opportunity = self.opp(oid)
        owner = self.rng.choice([o for o in OWNERS if o != opportunity.owner])
        self.by = MANAGER_OF[opportunity.owner]
        try:
            self.decide({oid: opp_rules.edit(opportunity, owner=owner)})
        finally:
            self.by = self.opp(oid).owner

    def rename(self, oid: UUID) -> None:
        opportunity = self.opp(oid)
        self.decide({oid: opp_rules.edit(opportunity, title=f"{opportunity.title} (phase 2)")})

    def assign_partner(self, oid: UUID) -> None:
        opportunity = self.opp(oid)
        partner = self.rng.choice([p for p in self.partners if p != opportunity.partner_id])
        self.decide({oid: opp_rules.assign_partner(opportunity, partner)})

    def sell(self, oid: UUID) -> None:
        opportunity = self.opp(oid)
        sold_at = self.now
        effective = None
        if self.rng.random() < 0.2:  # "sold on the 31st, recorded on the 2nd"
            sold_at = effective = self.now - timedelta(days=self.rng.randint(1, 4))
        changes = selling.sell(
            opportunity, self.pipeline, self.quotes_of(opportunity), sold_at=sold_at, now=self.now
        )
        self.decide(changes, effective_at=effective)

    def unlock(self, oid: UUID) -> None:
        opportunity = self.opp(oid)
        self.decide(selling.unlock(opportunity, self.pipeline, self.quotes_of(opportunity)))
