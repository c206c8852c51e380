"""Request bodies: pydantic at the edge, each turning itself into a command."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID, uuid4

import msgspec
from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator
from pydantic_core import PydanticCustomError

from adapters.http import across
from adapters.http.fields import (
    Amount,
    Code,
    CurrencyCode,
    Instant,
    Login,
    Name,
    PositiveAmount,
    Price,
    Probability,
    Rate,
    ShortText,
    StageKey,
    TermMonths,
    Unit,
    Uuid,
    Weight,
)
from commands import reference_data as ref_cmd
from domain import limits
from domain.money import Money
from domain.pipeline import ForecastCategory, Stage
from domain.product import ItemKind, ProductCategory


def example(body: dict[str, Any], **across: Any) -> ConfigDict:
    """A body model's example request: shown by /docs and in docs/api.md, and checked
    against the model by the tests. ``across``: JSON Schema keywords for rules across
    fields (``oneOf``, ``anyOf``, ``if``/``then``), so the document says them too."""
    return ConfigDict(json_schema_extra={"examples": [body], **across})


def given(field: str, kind: str) -> dict[str, Any]:
    """The schema of a body in which ``field`` is given, not null."""
    return {"required": [field], "properties": {field: {"type": kind}}}


class Body(BaseModel):
    """A request body: no field beyond those declared, and each value of its JSON type
    (strict: ``"5"`` is not a number, ``1`` not a boolean); the field types
    (``adapters.http.fields``) check the rest, and the rules across fields its schema
    states (``adapters.http.across``), as the schema says."""

    model_config = ConfigDict(extra="forbid", strict=True)

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        across.check_supported(across.rules_of(cls.model_config.get("json_schema_extra")))

    @model_validator(mode="after")
    def _rules_across_fields(self) -> Body:
        rules = across.rules_of(type(self).model_config.get("json_schema_extra"))
        if rules and across.broken(rules, self):
            raise PydanticCustomError("rules_across_fields", across.says(rules))
        return self


SharedWith = Annotated[list[Login], Field(max_length=limits.SHARED_WITH)]
PRIVATE = Field(
    False, description="Seen only by its owner, those it is shared with, admins and readers"
)
SHARED_WITH: Any = Field(
    default_factory=list, description="Logins of users who see and work it as their own"
)
PRIVATE_PATCH = Field(None, description="Make it private (true) or not (false)")
SHARED_WITH_PATCH = Field(None, description="The full new list of logins it is shared with")


class MoneyBody(Body):
    amount: Amount
    currency: CurrencyCode

    def to_money(self) -> Money:
        return Money.exact(self.amount, self.currency)


class PositiveMoneyBody(MoneyBody):
    amount: PositiveAmount


# --- catalogue -------------------------------------------------------------------


class ProductBody(Body):
    model_config = example(
        {
            "name": "CRM Professional licence",
            "code": "CRM-PRO",
            "category": "software",
            "kind": "time_based",
            "term_months": 12,
        },
        # A time-based product has a term; a one-off one has none.
        **{"if": {"properties": {"kind": {"const": "time_based"}}}},
        then=given("term_months", "integer"),
        **{"else": {"properties": {"term_months": {"type": "null"}}}},
    )
    name: Name
    code: Code
    category: ProductCategory
    kind: ItemKind
    term_months: TermMonths | None = Field(None, description="A time-based product's term")

    def to_command(self) -> ref_cmd.CreateProduct:
        return ref_cmd.CreateProduct(
            name=self.name,
            code=self.code,
            category=self.category,
            kind=self.kind,
            term_months=self.term_months,
        )


class PriceBookBody(Body):
    model_config = example(
        {"name": "Standard 2027", "brand": "crmledger", "product_version": "2027.1"}
    )
    name: Name
    brand: ShortText | None = None
    product_version: ShortText | None = None
    update_of: Uuid | None = None

    def to_command(self) -> ref_cmd.CreatePriceBook:
        return ref_cmd.CreatePriceBook(
            price_book_id=uuid4(),
            name=self.name,
            brand=self.brand,
            product_version=self.product_version,
            update_of=self.update_of,
        )


class PriceBody(Body):
    model_config = example(
        {
            "product_id": "0b5c4a8e-2f7d-4c1e-9a3b-6d8e1f2a3b4c",
            "unit": "seat",
            "currency": "EUR",
            "price": "49.00",
        }
    )
    product_id: Uuid
    unit: Unit
    currency: CurrencyCode
    price: Price

    def to_command(self, price_book_id: UUID) -> ref_cmd.SetPrice:
        return ref_cmd.SetPrice(
            price_book_id=price_book_id,
            product_id=self.product_id,
            unit=self.unit,
            currency=self.currency,
            price=self.price,
        )


class ComponentBody(Body):
    product_id: Uuid
    weight: Weight


class BundleBody(Body):
    model_config = example(
        {
            "name": "Starter pack",
            "code": "STARTER",
            "price_book_id": "3f6a9c2e-1b4d-4e7f-a0c3-5d8b2e6f9a1c",
            "components": [
                {"product_id": "0b5c4a8e-2f7d-4c1e-9a3b-6d8e1f2a3b4c", "weight": "3"},
                {"product_id": "7e1d2c3b-4a5f-4e6d-8c7b-9a0f1e2d3c4b", "weight": "1"},
            ],
        }
    )
    name: Name
    code: Code
    price_book_id: Uuid
    components: list[ComponentBody] = Field(min_length=1, max_length=limits.COMPONENTS)

    def to_command(self) -> ref_cmd.CreateBundle:
        return ref_cmd.CreateBundle(
            name=self.name,
            code=self.code,
            price_book_id=self.price_book_id,
            components=tuple((c.product_id, c.weight) for c in self.components),
        )


class ExchangeRateBody(Body):
    model_config = example(
        {"currency": "USD", "rate": "0.92", "effective_at": "2027-01-01T00:00:00Z"}
    )
    currency: CurrencyCode
    rate: Rate = Field(description="Reporting-currency units per 1 unit of currency")
    effective_at: Instant | None = None

    def to_command(self) -> ref_cmd.SetExchangeRate:
        return ref_cmd.SetExchangeRate(
            currency=self.currency, rate=self.rate, effective_at=self.effective_at
        )


class OpenStageBody(Body):
    """An open stage: its forecast category is never closed."""

    key: StageKey
    name: Name
    probability: Probability
    forecast_category: ForecastCategory
    closed: None = None


class WonStageBody(Body):
    """A won deal is certain."""

    key: StageKey
    name: Name
    probability: Literal[100]
    forecast_category: Literal["closed"]
    closed: Literal["won"]


class GoneStageBody(Body):
    """A lost or unqualified deal is gone from the forecast."""

    key: StageKey
    name: Name
    probability: Literal[0]
    forecast_category: Literal["omitted"]
    closed: Literal["lost", "unqualified"]


def _stage_kind(stage: Any) -> str | None:
    closed = stage.get("closed") if isinstance(stage, dict) else getattr(stage, "closed", None)
    if closed is None:
        return "open"
    if closed == "won":
        return "won"
    return "gone" if closed in ("lost", "unqualified") else None


# What a stage's probability and category may be follows from how it closes (a closed
# stage's are fixed): the schema says so, one shape per kind.
StageBody = Annotated[
    Annotated[OpenStageBody, Tag("open")]
    | Annotated[WonStageBody, Tag("won")]
    | Annotated[GoneStageBody, Tag("gone")],
    Discriminator(
        _stage_kind,
        custom_error_type="stage_kind_invalid",
        custom_error_message="must be 'won', 'lost', 'unqualified' or null (an open stage)",
        custom_error_context={"discriminator": "closed"},
    ),
]


class PipelineBody(Body):
    model_config = example(
        {
            "name": "partners",
            "stages": [
                {
                    "key": "registered",
                    "name": "Registered",
                    "probability": 20,
                    "forecast_category": "pipeline",
                },
                {
                    "key": "committed",
                    "name": "Committed",
                    "probability": 80,
                    "forecast_category": "commit",
                },
                {
                    "key": "won",
                    "name": "Won",
                    "probability": 100,
                    "forecast_category": "closed",
                    "closed": "won",
                },
                {
                    "key": "lost",
                    "name": "Lost",
                    "probability": 0,
                    "forecast_category": "omitted",
                    "closed": "lost",
                },
                {
                    "key": "unqualified",
                    "name": "Unqualified",
                    "probability": 0,
                    "forecast_category": "omitted",
                    "closed": "unqualified",
                },
            ],
        }
    )
    name: Name
    stages: list[StageBody] = Field(min_length=1, max_length=limits.STAGES)

    def to_command(self) -> ref_cmd.CreatePipeline:
        return ref_cmd.CreatePipeline(
            name=self.name,
            stages=tuple(msgspec.convert(s.model_dump(), Stage) for s in self.stages),
        )


class StageChangeBody(Body):
    model_config = example(
        {"probability": 60, "forecast_category": "best_case"},
        anyOf=[given("probability", "integer"), given("forecast_category", "string")],
    )
    probability: Probability | None = None
    forecast_category: ForecastCategory | None = None

    def to_command(self, pipeline_id: UUID, stage: str) -> ref_cmd.ChangeStage:
        return ref_cmd.ChangeStage(
            pipeline_id=pipeline_id,
            stage=stage,
            probability=self.probability,
            forecast_category=self.forecast_category,
        )
