"""Request bodies of opportunities and quotes: pydantic at the edge, each turning itself
into a command."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

from pydantic import Field

from adapters.http.bodies import (
    PRIVATE,
    PRIVATE_PATCH,
    SHARED_WITH,
    SHARED_WITH_PATCH,
    Body,
    MoneyBody,
    SharedWith,
    example,
    given,
)
from adapters.http.fields import (
    Code,
    CurrencyCode,
    Day,
    Discount,
    Instant,
    Login,
    LongText,
    Name,
    OfferTemplate,
    Omittable,
    Price,
    Probability,
    Quantity,
    Reason,
    ShortText,
    SignedAmount,
    Subject,
    TermMonths,
    Unit,
    Uuid,
)
from commands import opportunities as opp_cmd
from commands import quotes as quote_cmd
from domain.opportunity import ActivityKind
from domain.pipeline import ForecastCategory
from domain.product import ItemKind, ProductCategory

# --- opportunities ------------------------------------------------------------------


class OpportunityBody(Body):
    model_config = example(
        {
            "title": "ACME rollout",
            "owner": "alice",
            "expected_close": "2027-03-31",
            "account_name": "ACME GmbH",
            "amount": {"amount": "12000.00", "currency": "EUR"},
        },
        oneOf=[given("account_id", "string"), given("account_name", "string")],
    )
    title: Name
    owner: Login
    expected_close: Day
    account_id: Uuid | None = Field(None, description="Give account_id or account_name")
    account_name: Name | None = Field(
        None, description="The account of that name, made if there is none"
    )
    amount: MoneyBody | None = None
    stage: Code | None = Field(
        None, description="A stage key; default: the pipeline's first open stage"
    )
    pipeline: Name | None = Field(None, description="A pipeline's name or id; default: sales")
    probability: Probability | None = Field(None, description="Overrides the stage's probability")
    forecast_category: ForecastCategory | None = None
    partner_id: Uuid | None = None
    effective_at: Instant | None = Field(
        None, description="When it happened in business time; default: now"
    )
    private: bool = PRIVATE
    shared_with: SharedWith = SHARED_WITH

    def to_command(self) -> opp_cmd.CreateOpportunity:
        return opp_cmd.CreateOpportunity(
            opportunity_id=uuid4(),
            title=self.title,
            owner=self.owner,
            expected_close=self.expected_close,
            account_id=self.account_id,
            account_name=self.account_name,
            amount=self.amount.to_money() if self.amount else None,
            stage=self.stage,
            pipeline=self.pipeline,
            probability=self.probability,
            forecast_category=self.forecast_category,
            partner_id=self.partner_id,
            effective_at=self.effective_at,
            private=self.private,
            shared_with=tuple(self.shared_with),
        )


class OpportunityPatch(Body):
    """Send only what changes.

    ``probability`` / ``forecast_category`` null returns to the stage's default.
    """

    model_config = example(
        {
            "amount": {"amount": "15000.00", "currency": "EUR"},
            "expected_close": "2027-06-30",
            "probability": None,
        }
    )

    title: Omittable[Name] = None
    amount: Omittable[MoneyBody] = None
    expected_close: Omittable[Day] = None
    owner: Omittable[Login] = None
    probability: Probability | None = None
    forecast_category: ForecastCategory | None = None
    account_id: Omittable[Uuid] = Field(None, description="An existing account")
    effective_at: Instant | None = None
    private: bool | None = PRIVATE_PATCH
    shared_with: SharedWith | None = SHARED_WITH_PATCH

    def to_command(self, opportunity_id: UUID) -> opp_cmd.EditOpportunity:
        given = self.model_fields_set
        fields: dict[str, Any] = {}
        for name in ("title", "expected_close", "owner", "account_id"):
            if name in given:
                fields[name] = getattr(self, name)
        if self.amount is not None:
            fields["amount"] = self.amount.to_money()
        for name in ("probability", "forecast_category"):
            if name in given:
                fields[name] = getattr(self, name)
        if self.private is not None:
            fields["private"] = self.private
        if self.shared_with is not None:
            fields["shared_with"] = tuple(self.shared_with)
        return opp_cmd.EditOpportunity(
            opportunity_id=opportunity_id, effective_at=self.effective_at, **fields
        )


class StageMoveBody(Body):
    model_config = example({"stage": "proposal", "effective_at": "2027-02-15T09:00:00Z"})
    stage: Code
    effective_at: Instant | None = None


class PartnerBody(Body):
    model_config = example({"partner_id": "9c8b7a6f-5e4d-4c3b-a2f1-0e9d8c7b6a5f"})
    partner_id: Uuid | None


class RoleBody(Body):
    """A contact's role on the deal: the contact by `contact_id` (a contact record) or,
    as roles were first given, by `contact` (a name as text); one of the two."""

    model_config = example(
        {"contact_id": "3d2c1b0a-9f8e-4d7c-8b6a-5f4e3d2c1b0a", "role": "decision maker"},
        oneOf=[given("contact_id", "string"), given("contact", "string")],
    )
    contact_id: Uuid | None = Field(None, description="A contact record")
    contact: Name | None = Field(None, description="A name, when there is no contact record")
    role: Name


class ActivityBody(Body):
    model_config = example(
        {
            "kind": "call",
            "subject": "Kick-off call",
            "occurred_at": "2027-02-01T10:00:00Z",
            "notes": "Agreed on a pilot with 25 seats.",
        }
    )
    kind: ActivityKind
    subject: Subject
    occurred_at: Instant | None = None
    notes: LongText | None = None


class ActivityPatch(Body):
    model_config = example({"notes": "Agreed on a pilot with 30 seats."})
    kind: ActivityKind | None = None
    subject: Subject | None = None
    occurred_at: Instant | None = None
    notes: LongText | None = None


class SellBody(Body):
    model_config = example({"effective_at": "2027-03-31T17:00:00Z"})
    effective_at: Instant | None = None


class ReasonBody(Body):
    model_config = example({"reason": "Budget frozen until next year"})
    reason: Reason
    effective_at: Instant | None = None


class CopyBody(Body):
    model_config = example({"title": "ACME rollout, phase 2", "owner": "bob"})
    title: Name | None = None
    owner: Login | None = Field(
        None, description="An active user's login; default: the source's owner"
    )


# --- quotes -----------------------------------------------------------------


class QuoteBody(Body):
    model_config = example(
        {
            "name": "Offer 1",
            "currency": "EUR",
            "price_book_id": "3f6a9c2e-1b4d-4e7f-a0c3-5d8b2e6f9a1c",
            "valid_until": "2027-03-31",
        }
    )
    name: Name
    currency: CurrencyCode | None = Field(
        description="null: the price book's currency, else the reporting currency"
    )
    price_book_id: Uuid | None = None
    valid_from: Day | None = None
    valid_until: Day | None = None
    brand: ShortText | None = None
    product_version: ShortText | None = None

    def to_command(self, opportunity_id: UUID) -> quote_cmd.CreateQuote:
        return quote_cmd.CreateQuote(
            quote_id=uuid4(),
            opportunity_id=opportunity_id,
            name=self.name,
            currency=self.currency,
            price_book_id=self.price_book_id,
            valid_from=self.valid_from,
            valid_until=self.valid_until,
            brand=self.brand,
            product_version=self.product_version,
        )


class QuotePatch(Body):
    model_config = example({"valid_until": "2027-04-30"})
    name: Name | None = None
    valid_from: Day | None = None
    valid_until: Day | None = None


class ItemBody(Body):
    model_config = example(
        {
            "product_id": "0b5c4a8e-2f7d-4c1e-9a3b-6d8e1f2a3b4c",
            "quantity": "25",
            "discount_pct": "10",
        }
    )
    product_id: Uuid | None = None
    name: Name | None = None
    quantity: Quantity
    unit: Unit | None = None
    unit_price: Price | None = None
    discount_pct: Discount = Decimal(0)
    kind: ItemKind | None = None
    term_months: TermMonths | None = None
    category: ProductCategory | None = None
    start: Day | None = None

    def to_command(self, quote_id: UUID) -> quote_cmd.AddQuoteItem:
        return quote_cmd.AddQuoteItem(
            quote_id=quote_id,
            item_id=uuid4(),
            quantity=self.quantity,
            product_id=self.product_id,
            name=self.name,
            unit=self.unit,
            unit_price=self.unit_price,
            discount_pct=self.discount_pct,
            kind=self.kind,
            term_months=self.term_months,
            category=self.category,
            start=self.start,
        )


class ItemPatch(Body):
    model_config = example({"quantity": "30", "discount_pct": "12.5"})
    quantity: Quantity | None = None
    discount_pct: Discount | None = None
    unit_price: Price | None = None
    name: Name | None = None
    start: Day | None = None


class RoundingBody(Body):
    model_config = example({"amount": "-0.50"})
    amount: SignedAmount | None


class DuplicateBody(Body):
    model_config = example({"name": "Offer 1, without services"})
    name: Name | None = None


class CurrencyBody(Body):
    model_config = example({"currency": "USD"})
    currency: CurrencyCode


class OfferBody(Body):
    model_config = example(
        {"template": "Offer $quote for $account: $total, valid until $valid_until."}
    )
    template: OfferTemplate | None = Field(None, description="default: the standard offer")
