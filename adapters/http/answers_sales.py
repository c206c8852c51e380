"""What the sales routes answer: opportunities, quotes, contracts (one, the list, the
summary). Schemas only: ``adapters.http.answers`` says why."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from adapters.http.answers import Answer, AsOf, Currency, Day, Decimal, Id, Instant, Money
from domain.contract.state import ContractKind, ContractStatus
from domain.opportunity.state import ActivityKind, Status
from domain.pipeline import StageCategory
from domain.product import ItemKind, ProductCategory
from domain.quote.state import ItemSource

# --- opportunities ---------------------------------------------------------------------


class BusinessRole(Answer):
    """A contact record's part in the deal, or (as roles were first written) a name's."""

    id: Id
    contact_id: Id | None
    contact: str | None
    role: str


class SalesActivity(Answer):
    id: Id
    kind: ActivityKind
    subject: str
    occurred_at: Instant
    notes: str | None


class Opportunity(Answer):
    id: Id
    version: int
    title: str
    account_id: Id
    owner: str
    private: bool
    shared_with: list[str]
    pipeline: str = Field(description="The pipeline's name")
    pipeline_id: Id
    stage: str = Field(description="The stage's key")
    probability: int = Field(description="In effect: the stage's, or the one set on the deal")
    probability_overridden: bool
    amount: Money
    status: Status
    locked: bool = Field(description="Sold: nothing changes until it is unlocked")
    active_quote_id: Id | None
    quote_ids: list[Id]
    expected_close: Day
    forecast_category: StageCategory = Field(
        description="In effect: the stage's, or the one set on the deal"
    )
    forecast_category_overridden: bool
    partner_id: Id | None
    sold_at: Instant | None
    close_reason: str | None = Field(description="Why it was lost or unqualified")
    business_roles: list[BusinessRole]
    activities: list[SalesActivity]
    copied_from: Id | None


# --- quotes ----------------------------------------------------------------------------


class ComponentSnapshot(Answer):
    """A bundle component as it was when the item was quoted."""

    product_id: Id
    name: str
    code: str
    weight: Decimal
    kind: ItemKind
    term_months: int | None
    category: ProductCategory


class QuoteItem(Answer):
    id: Id
    product_id: Id | None
    name: str
    quantity: Decimal
    unit: str
    unit_price: Money
    discount_pct: Decimal
    kind: ItemKind
    term_months: int | None
    category: ProductCategory | None
    source: ItemSource
    start: Day | None
    components: list[ComponentSnapshot] = Field(description="A bundle's: its products")
    line_total: Money


class OfferRef(Answer):
    document_id: Id = Field(description="Read it at `/documents/{document_id}`")
    sha256: str
    generated_at: Instant


class Quote(Answer):
    id: Id
    version: int
    opportunity_id: Id
    name: str
    currency: Currency
    price_book_id: Id | None
    brand: str | None
    product_version: str | None
    valid_from: Day | None
    valid_until: Day | None
    active: bool
    locked: bool
    items: list[QuoteItem]
    rounding: Money | None = Field(description="The rounding item; null: none")
    total: Money
    offers: list[OfferRef]
    copied_from: Id | None


# --- contracts -------------------------------------------------------------------------


class ContractListed(Answer):
    """A contract as the contracts read model has it."""

    id: Id
    opportunity_id: Id
    quote_item_id: Id
    product_id: Id | None
    component_product_id: Id | None = Field(description="A bundle's product it is for")
    account_id: Id
    owner: str
    name: str
    kind: ContractKind
    category: ProductCategory | None
    value: Money
    start: Day
    end: Day | None = Field(description="null: a one-off contract")
    status: ContractStatus
    renewal_opportunity_id: Id | None = Field(description="Once due for renewal")
    renews_contract_id: Id | None


class ContractList(Answer):
    """``GET /contracts``: a page of the contracts, in the envelope of every list."""

    items: list[ContractListed]
    next_cursor: str | None = Field(description="The next page's cursor; null: the last page")
    as_of: AsOf


class Contract(ContractListed):
    """A contract as its events make it."""

    version: int
    term_months: int | None
    renewed_by: Id | None
    cancel_reason: str | None


# ``GET /contracts/summary``: one shape per ``by``, each row naming its group under the
# grouping's name (``{"category": "software", "currency": …, "count": …, "value": …}``).


class ContractGroup(Answer):
    """One group's contracts in one currency: how many, and their value."""

    currency: Currency
    count: int
    value: Decimal


class ByContractStatus(ContractGroup):
    status: ContractStatus


class ByCategory(ContractGroup):
    category: ProductCategory | None = Field(description="null: contracts without one")


class ByAccount(ContractGroup):
    account: Id


class ByExpiryMonth(ContractGroup):
    expiry_month: str | None = Field(description="`2027-03`; null: contracts with no end")


class ByContractOwner(ContractGroup):
    owner: str


class ByContractKind(ContractGroup):
    kind: ContractKind


class ContractSummaryByStatus(Answer):
    as_of: AsOf
    by: Literal["status"]
    rows: list[ByContractStatus]


class ContractSummaryByCategory(Answer):
    as_of: AsOf
    by: Literal["category"]
    rows: list[ByCategory]


class ContractSummaryByAccount(Answer):
    as_of: AsOf
    by: Literal["account"]
    rows: list[ByAccount]


class ContractSummaryByExpiryMonth(Answer):
    as_of: AsOf
    by: Literal["expiry_month"]
    rows: list[ByExpiryMonth]


class ContractSummaryByOwner(Answer):
    as_of: AsOf
    by: Literal["owner"]
    rows: list[ByContractOwner]


class ContractSummaryByKind(Answer):
    as_of: AsOf
    by: Literal["kind"]
    rows: list[ByContractKind]


ContractSummary = Annotated[
    ContractSummaryByStatus
    | ContractSummaryByCategory
    | ContractSummaryByAccount
    | ContractSummaryByExpiryMonth
    | ContractSummaryByOwner
    | ContractSummaryByKind,
    Field(discriminator="by"),
]
