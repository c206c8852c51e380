"""What the read routes answer, as schemas for the OpenAPI document: the shapes every
area shares (``as_of``, money, decimals), the users, the catalogue and the operations
routes. The other areas' answers are in ``answers_*`` beside this one.

These models document answers; routes never build or validate through them (that would
cost every read a validation and a second serialization). The tests check every answer
they receive against the schema the document declares for its route and status, so a
model that drifts from what a route answers fails there.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from domain.account import AccountType
from domain.custom_fields import Entity as CustomEntity
from domain.custom_fields import FieldType
from domain.pipeline import ClosedAs, StageCategory
from domain.product import ItemKind, ProductCategory
from domain.user import Role

# What a read route returns: JSON-ready builtins, whose schema is declared apart
# (``contract.READ_ANSWERS``). Typed Any so that FastAPI derives no schema of its own from
# it to merge into the declared one, and serializes it as it is, without validating it.
ReadAnswer = Any
# A decimal as text (``"1200.50"``, ``"-0.05"``): exact, never a JSON number, written
# out in full as requests take it (``"0.000000005682"``, not ``"5.682E-9"``).
DECIMAL_TEXT = r"^-?[0-9]+(\.[0-9]+)?$"
Decimal = Annotated[
    str, WithJsonSchema({"type": "string", "format": "decimal", "pattern": DECIMAL_TEXT})
]
Currency = Annotated[str, WithJsonSchema({"type": "string", "pattern": "^[A-Z]{3}$"})]
# An instant as the store wrote it: RFC 3339, with its offset.
Instant = datetime
Day = date
Id = UUID


def _no_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


def absent(description: str | None = None, *, alias: str | None = None) -> Any:
    """A field that some answers lack, and that is never null where it is: not required,
    of its own type only. (The None default is never used: answers are not built from
    these models.)"""
    return Field(default=None, alias=alias, description=description, json_schema_extra=_no_default)


class Answer(BaseModel):
    """An answer's object: every field it has is listed, and it has no other
    (``additionalProperties: false``)."""

    model_config = ConfigDict(extra="forbid")


class AsOf(Answer):
    """The read model's position the answer reflects, and when that event was recorded."""

    position: int = Field(description="The log position of the last event reflected")
    recorded_at: Instant | None = Field(
        description="When that event was recorded; null before the first event"
    )


class Money(Answer):
    amount: Decimal
    currency: Currency


# A custom field's value as answers show it: text (text, number as a decimal, date, select,
# user, url), a boolean, a multiselect's options, or money.
CustomValue = str | bool | list[str] | Money
CUSTOM = Field(
    description="Its custom field values by key: the fields defined at the position "
    "answered (a deleted field's value stays in history only)"
)


# --- operations ------------------------------------------------------------------------


class Waiting(Answer):
    """Something this process waits for: a server that is away, or a loop of it that
    fails and retries."""

    role: str = Field(description="`api`, or the loop's role (`projector`, `contracts` …)")
    waiting_for: str | None = Field(description="The server it waits for; null: none named")
    error: str | None = Field(description="The last error, in one line")
    since: Instant
    attempts: int = absent("A loop's tries so far (loops only)")
    retry_in_seconds: float = Field(description="When it tries again")


class Health(Answer):
    status: Literal["ok"]
    position: int = Field(description="The event log's last position")
    read_model_position: int = Field(description="The last position the read model processed")


class Loop(Answer):
    """A loop this process runs (the projector, the contracts process)."""

    running: bool
    waiting: Waiting | None
    failures: int
    last_error: str | None


class ReadModelStatus(Answer):
    log_position: int
    read_model_position: int
    contracts_process_position: int = Field(
        description="The last position the contracts process manager processed"
    )
    dead_letters: int = Field(description="Events the projector parked (it could not apply)")
    projector: Loop | None = Field(description="null: not run in this process (a worker runs it)")
    contracts_process: Loop | None = Field(
        description="null: not run in this process (a worker runs it)"
    )
    waiting: list[Waiting]


# --- users -----------------------------------------------------------------------------


class UserListed(Answer):
    """A user as the users read model has them."""

    id: Id
    login: str
    name: str
    role: Role
    manager: str | None = Field(description="The login they answer to")
    partner_id: Id | None = Field(description="A partner user's partner account")
    active: bool


class User(UserListed):
    """A user (never their tokens)."""

    version: int


# --- catalogue -------------------------------------------------------------------------


class Record(Answer):
    """What every record read by its id says first."""

    id: Id
    version: int = Field(description="Its version: the number of events it has")
    deleted: bool


class Product(Record):
    name: str
    code: str
    category: ProductCategory
    kind: ItemKind
    term_months: int | None
    active: bool


class Price(Answer):
    product_id: Id = Field(description="A product or a bundle")
    unit: str
    currency: Currency
    price: Decimal


class PriceBook(Record):
    name: str
    brand: str | None
    product_version: str | None
    update_of: Id | None = Field(description="The price book this one updates")
    active: bool
    prices: list[Price]


class BundleComponent(Answer):
    product_id: Id
    weight: Decimal


class Bundle(Record):
    name: str
    code: str
    price_book_id: Id
    components: list[BundleComponent]


class Rate(Answer):
    currency: Currency
    rate: Decimal = Field(description="Units of the reporting currency per unit of this one")
    effective_from: Instant


class ExchangeRates(Record):
    reporting_currency: Currency
    rates: list[Rate] = Field(description="Every rate set, with the instant it took effect")


class AccountAddress(Answer):
    street: str | None
    city: str | None
    postal_code: str | None
    region: str | None
    country: str | None = Field(description="ISO 3166-1 alpha-2, upper case")


class AccountCounts(Answer):
    """What was filed under the account (and the accounts merged into it) at the answer's
    position, of what the caller may see."""

    open_deals: int
    contracts: int = Field(description="Its contracts of any status but cancelled")
    contacts: int


class AccountListed(Answer):
    """An account as lists show it (``GET /accounts``)."""

    id: Id
    name: str
    partner: bool = Field(description="A partner (an account deals and leads are given to)")
    type: AccountType | None
    industry: str | None
    website: str | None
    vat_id: str | None
    address: AccountAddress | None
    parent_id: Id | None = Field(description="The account above it")
    owner: str | None
    private: bool
    shared_with: list[str]
    created_at: Instant
    updated_at: Instant


class Account(AccountListed):
    """One account (``GET /accounts/{id}``): as listed, with its version, merges, counts
    and custom values."""

    version: int = Field(description="Its version: the number of events it has")
    merged_into: Id | None = Field(
        description="Set once merged: the account its links count and list under"
    )
    merged: list[Id] = Field(description="The accounts merged into it by then")
    counts: AccountCounts = Field(description="Zero for a merged account")
    custom: dict[str, CustomValue] = CUSTOM
    as_of: AsOf


# --- custom fields -----------------------------------------------------------------------


class CustomFieldDefinition(Answer):
    entity: CustomEntity
    key: str
    label: str
    type: FieldType
    options: list[str] = Field(description="A select's or multiselect's choices; [] otherwise")
    required: bool = Field(description="Every new record must have a value")


class CustomFields(Answer):
    items: list[CustomFieldDefinition] = Field(description="By entity, then key")
    next_cursor: str | None = Field(description="The cursor of the next page; null: the last")
    as_of: AsOf


class Stage(Answer):
    id: str = Field(description="The stage's key")
    name: str
    position: int = Field(description="1 = first; open stages come before the closed ones")
    probability: int
    forecast_category: StageCategory
    closed: ClosedAs | None = Field(description="How a deal in it is closed; null: open")


class Pipeline(Answer):
    id: Id
    version: int
    name: str
    stages: list[Stage]
