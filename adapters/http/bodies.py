"""Request bodies: pydantic at the edge, each turning itself into a command."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, Literal
from uuid import UUID, uuid4

import msgspec
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from commands import opportunities as opp_cmd
from commands import quotes as quote_cmd
from commands import reference_data as ref_cmd
from domain.money import Money
from domain.pipeline import Stage

Currency = Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code, e.g. EUR")


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        # PostgreSQL text cannot hold NUL: accepted, it would stop the read-model projector.
        if _holds_nul(value):
            raise ValueError("text cannot contain the NUL character (\\u0000)")
        return value


def _holds_nul(value: Any) -> bool:
    """NUL in a text, or in a key or item of a mapping or list (shares, rule values)."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_holds_nul(v) for v in value)
    return False


class MoneyBody(Body):
    amount: Decimal = Field(description='Decimal string, e.g. "1234.50"')
    currency: str = Currency

    def to_money(self) -> Money:
        return Money.exact(self.amount, self.currency)


# --- catalogue -------------------------------------------------------------------


class ProductBody(Body):
    name: str
    code: str
    category: Literal["software", "implementation", "support"]
    kind: Literal["one_off", "time_based"]
    term_months: int | None = None

    def to_command(self) -> ref_cmd.CreateProduct:
        return ref_cmd.CreateProduct(
            name=self.name,
            code=self.code,
            category=self.category,
            kind=self.kind,
            term_months=self.term_months,
        )


class PriceBookBody(Body):
    name: str
    brand: str | None = None
    product_version: str | None = None
    update_of: UUID | None = None

    def to_command(self) -> ref_cmd.CreatePriceBook:
        return ref_cmd.CreatePriceBook(
            price_book_id=uuid4(),
            name=self.name,
            brand=self.brand,
            product_version=self.product_version,
            update_of=self.update_of,
        )


class PriceBody(Body):
    product_id: UUID
    unit: str
    currency: str = Currency
    price: Decimal

    def to_command(self, price_book_id: UUID) -> ref_cmd.SetPrice:
        return ref_cmd.SetPrice(
            price_book_id=price_book_id,
            product_id=self.product_id,
            unit=self.unit,
            currency=self.currency,
            price=self.price,
        )


class ComponentBody(Body):
    product_id: UUID
    weight: Decimal


class BundleBody(Body):
    name: str
    code: str
    price_book_id: UUID
    components: list[ComponentBody] = Field(min_length=1)

    def to_command(self) -> ref_cmd.CreateBundle:
        return ref_cmd.CreateBundle(
            name=self.name,
            code=self.code,
            price_book_id=self.price_book_id,
            components=tuple((c.product_id, c.weight) for c in self.components),
        )


class ExchangeRateBody(Body):
    currency: str = Currency
    rate: Decimal = Field(description="Reporting-currency units per 1 unit of currency")
    effective_at: AwareDatetime | None = None

    def to_command(self) -> ref_cmd.SetExchangeRate:
        return ref_cmd.SetExchangeRate(
            currency=self.currency, rate=self.rate, effective_at=self.effective_at
        )


class StageBody(Body):
    key: str
    name: str
    probability: int
    forecast_category: Literal["pipeline", "best_case", "commit", "omitted", "closed"]
    closed: Literal["won", "lost", "unqualified"] | None = None


class PipelineBody(Body):
    name: str
    stages: list[StageBody] = Field(min_length=1)

    def to_command(self) -> ref_cmd.CreatePipeline:
        return ref_cmd.CreatePipeline(
            name=self.name,
            stages=tuple(msgspec.convert(s.model_dump(), Stage) for s in self.stages),
        )


class StageChangeBody(Body):
    probability: int | None = None
    forecast_category: Literal["pipeline", "best_case", "commit", "omitted"] | None = None

    def to_command(self, pipeline_id: UUID, stage: str) -> ref_cmd.ChangeStage:
        return ref_cmd.ChangeStage(
            pipeline_id=pipeline_id,
            stage=stage,
            probability=self.probability,
            forecast_category=self.forecast_category,
        )


class AccountBody(Body):
    name: str
    partner: bool = False

    def to_command(self) -> ref_cmd.CreateAccount:
        return ref_cmd.CreateAccount(name=self.name, partner=self.partner)


# --- opportunities ------------------------------------------------------------------

ForecastCategory = Literal["pipeline", "best_case", "commit", "omitted"]


class OpportunityBody(Body):
    title: str
    owner: str
    expected_close: date
    account_id: UUID | None = None
    account_name: str | None = None
    amount: MoneyBody | None = None
    stage: str | None = None
    pipeline: str | None = None
    probability: int | None = None
    forecast_category: ForecastCategory | None = None
    partner_id: UUID | None = None
    effective_at: AwareDatetime | None = None

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
        )


class OpportunityPatch(Body):
    """Send only what changes.

    ``probability`` / ``forecast_category`` null returns to the stage's default.
    """

    title: str | None = None
    amount: MoneyBody | None = None
    expected_close: date | None = None
    owner: str | None = None
    probability: int | None = None
    forecast_category: ForecastCategory | None = None
    effective_at: AwareDatetime | None = None

    def to_command(self, opportunity_id: UUID) -> opp_cmd.EditOpportunity:
        given = self.model_fields_set
        fields: dict[str, Any] = {}
        for name in ("title", "expected_close", "owner"):
            if name in given:
                value = getattr(self, name)
                if value is None:
                    raise ValueError(f"{name} cannot be null")
                fields[name] = value
        if "amount" in given:
            if self.amount is None:
                raise ValueError("amount cannot be null")
            fields["amount"] = self.amount.to_money()
        for name in ("probability", "forecast_category"):
            if name in given:
                fields[name] = getattr(self, name)
        return opp_cmd.EditOpportunity(
            opportunity_id=opportunity_id, effective_at=self.effective_at, **fields
        )


class StageMoveBody(Body):
    stage: str
    effective_at: AwareDatetime | None = None


class PartnerBody(Body):
    partner_id: UUID | None


class RoleBody(Body):
    contact: str
    role: str


class ActivityBody(Body):
    kind: Literal["call", "meeting", "email", "task", "note"]
    subject: str
    occurred_at: AwareDatetime | None = None
    notes: str | None = None


class ActivityPatch(Body):
    kind: Literal["call", "meeting", "email", "task", "note"] | None = None
    subject: str | None = None
    occurred_at: AwareDatetime | None = None
    notes: str | None = None


class SellBody(Body):
    effective_at: AwareDatetime | None = None


class ReasonBody(Body):
    reason: str
    effective_at: AwareDatetime | None = None


class CopyBody(Body):
    title: str | None = None


# --- quotes -----------------------------------------------------------------


class QuoteBody(Body):
    name: str
    currency: str | None = Currency
    price_book_id: UUID | None = None
    valid_from: date | None = None
    valid_until: date | None = None
    brand: str | None = None
    product_version: str | None = None

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
    name: str | None = None
    valid_from: date | None = None
    valid_until: date | None = None


class ItemBody(Body):
    product_id: UUID | None = None
    name: str | None = None
    quantity: Decimal
    unit: str | None = None
    unit_price: Decimal | None = None
    discount_pct: Decimal = Decimal(0)
    kind: Literal["one_off", "time_based"] | None = None
    term_months: int | None = None
    category: Literal["software", "implementation", "support"] | None = None
    start: date | None = None

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
    quantity: Decimal | None = None
    discount_pct: Decimal | None = None
    unit_price: Decimal | None = None
    name: str | None = None
    start: date | None = None


class RoundingBody(Body):
    amount: Decimal | None


class DuplicateBody(Body):
    name: str | None = None


class CurrencyBody(Body):
    currency: str = Currency


class OfferBody(Body):
    template: str | None = None
