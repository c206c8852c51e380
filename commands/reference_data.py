"""Commands for reference data: products, price books, bundles, rates, pipelines, accounts."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from uuid import UUID

import msgspec

from commands.accounts import parent_for, survivor
from commands.bus import Answer, Handlers, change
from commands.owners import owner_or_caller
from commands.sharing import share_new
from commands.unit_of_work import UnitOfWork
from domain import account, bundle, exchange_rates, pipeline, price_book, product
from domain.account import Account, AccountType, Address, Details
from domain.bundle import Bundle
from domain.errors import AlreadyExists, InvalidInput, NotFound, RuleViolated
from domain.exchange_rates import ExchangeRates
from domain.ids import (
    EXCHANGE_RATES_ID,
    account_id_for,
    bundle_id_for,
    pipeline_id_for,
    product_id_for,
)
from domain.pipeline import DEFAULT_PIPELINE_NAME, DEFAULT_STAGES, ForecastCategory, Pipeline, Stage
from domain.price_book import PriceBook
from domain.product import ItemKind, Product, ProductCategory


class EnsureDefaults(msgspec.Struct, frozen=True, kw_only=True):
    """Create the default ``sales`` pipeline and the exchange-rate table if missing."""


class CreateProduct(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    code: str
    category: ProductCategory
    kind: ItemKind
    term_months: int | None = None


class DeactivateProduct(msgspec.Struct, frozen=True, kw_only=True):
    product_id: UUID


class ReactivateProduct(msgspec.Struct, frozen=True, kw_only=True):
    product_id: UUID


class CreatePriceBook(msgspec.Struct, frozen=True, kw_only=True):
    price_book_id: UUID
    name: str
    brand: str | None = None
    product_version: str | None = None
    update_of: UUID | None = None


class SetPrice(msgspec.Struct, frozen=True, kw_only=True):
    price_book_id: UUID
    product_id: UUID
    unit: str
    currency: str
    price: Decimal


class DeactivatePriceBook(msgspec.Struct, frozen=True, kw_only=True):
    price_book_id: UUID


class CreateBundle(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    code: str
    price_book_id: UUID
    components: tuple[tuple[UUID, Decimal], ...]


class SetExchangeRate(msgspec.Struct, frozen=True, kw_only=True):
    currency: str
    rate: Decimal
    effective_at: datetime | None = None


class CreatePipeline(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    stages: tuple[Stage, ...]


class ChangeStage(msgspec.Struct, frozen=True, kw_only=True):
    pipeline_id: UUID
    stage: str
    probability: int | None = None
    forecast_category: ForecastCategory | None = None


class CreateAccount(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    partner: bool = False
    # None: the user creating it (nobody for the processes and the local operator).
    owner: str | None = None
    private: bool = False
    shared_with: tuple[str, ...] = ()
    type: AccountType | None = None
    industry: str | None = None
    website: str | None = None
    vat_id: str | None = None
    address: Address | None = None
    # A merged one: the account it was merged into.
    parent_id: UUID | None = None


def ensure_defaults(uow: UnitOfWork, command: EnsureDefaults) -> Answer:
    pipeline_id = pipeline_id_for(DEFAULT_PIPELINE_NAME)
    if uow.find(pipeline_id) is None:
        uow.record(pipeline_id, pipeline.create(DEFAULT_PIPELINE_NAME, DEFAULT_STAGES))
    rates = uow.find(EXCHANGE_RATES_ID)
    if rates is None:
        uow.record(EXCHANGE_RATES_ID, exchange_rates.start(uow.context.reporting_currency))
    elif (
        isinstance(rates, ExchangeRates)
        and rates.reporting_currency != uow.context.reporting_currency
    ):
        raise RuleViolated(
            f"this store reports in {rates.reporting_currency}, but the reporting currency "
            f"setting is {uow.context.reporting_currency}; set CRMLEDGER_REPORTING_CURRENCY="
            f"{rates.reporting_currency} or use another store."
        )
    return Answer(id=pipeline_id)


def create_product(uow: UnitOfWork, command: CreateProduct) -> Answer:
    product_id = product_id_for(command.code)
    if uow.find(product_id) is not None:
        raise AlreadyExists(
            f"the code {command.code!r} is already used by product or bundle {product_id}.",
            product_id,
        )
    uow.record(
        product_id,
        product.create(
            command.name, command.code, command.category, command.kind, command.term_months
        ),
    )
    return Answer(id=product_id, created=True)


def deactivate_product(uow: UnitOfWork, command: DeactivateProduct) -> Answer:
    return change(uow, Product, command.product_id, product.deactivate)


def reactivate_product(uow: UnitOfWork, command: ReactivateProduct) -> Answer:
    return change(uow, Product, command.product_id, product.reactivate)


def create_price_book(uow: UnitOfWork, command: CreatePriceBook) -> Answer:
    uow.ensure_new(command.price_book_id)
    previous = uow.get(PriceBook, command.update_of) if command.update_of else None
    uow.record(
        command.price_book_id,
        price_book.create(
            command.name,
            brand=command.brand,
            product_version=command.product_version,
            update_of=previous,
        ),
    )
    return Answer(id=command.price_book_id, created=True)


def set_price(uow: UnitOfWork, command: SetPrice) -> Answer:
    book = uow.get(PriceBook, command.price_book_id)
    priced = uow.find(command.product_id)
    if not isinstance(priced, Product | Bundle):
        raise NotFound(f"there is no product or bundle with id {command.product_id}.")
    uow.record(
        book.id,
        price_book.set_price(
            book, command.product_id, command.unit, command.currency, command.price
        ),
    )
    return Answer(id=book.id)


def deactivate_price_book(uow: UnitOfWork, command: DeactivatePriceBook) -> Answer:
    return change(uow, PriceBook, command.price_book_id, price_book.deactivate)


def create_bundle(uow: UnitOfWork, command: CreateBundle) -> Answer:
    bundle_id = bundle_id_for(command.code)
    if uow.find(bundle_id) is not None:
        raise AlreadyExists(
            f"the code {command.code!r} is already used by product or bundle {bundle_id}.",
            bundle_id,
        )
    book = uow.get(PriceBook, command.price_book_id)
    components = [(uow.get(Product, pid), weight) for pid, weight in command.components]
    uow.record(bundle_id, bundle.create(command.name, command.code, book, components))
    return Answer(id=bundle_id, created=True)


def set_exchange_rate(uow: UnitOfWork, command: SetExchangeRate) -> Answer:
    rates = uow.get(ExchangeRates, EXCHANGE_RATES_ID)
    effective_from = command.effective_at or uow.now
    uow.record(
        rates.id, exchange_rates.set_rate(rates, command.currency, command.rate, effective_from)
    )
    return Answer(id=rates.id)


def create_pipeline(uow: UnitOfWork, command: CreatePipeline) -> Answer:
    pipeline_id = pipeline_id_for(command.name)
    if uow.find(pipeline_id) is not None:
        raise AlreadyExists(
            f"a pipeline named {command.name!r} already exists ({pipeline_id}).", pipeline_id
        )
    uow.record(pipeline_id, pipeline.create(command.name, command.stages))
    return Answer(id=pipeline_id, created=True)


def change_stage(uow: UnitOfWork, command: ChangeStage) -> Answer:
    state = uow.get(Pipeline, command.pipeline_id)
    if command.probability is None and command.forecast_category is None:
        raise InvalidInput("give a probability, a forecast_category, or both.")
    if command.probability is not None:
        uow.record(
            state.id, pipeline.change_stage_probability(state, command.stage, command.probability)
        )
    if command.forecast_category is not None:
        uow.record(
            state.id,
            pipeline.change_stage_forecast_category(
                state, command.stage, command.forecast_category
            ),
        )
    return Answer(id=state.id)


def create_account(uow: UnitOfWork, command: CreateAccount) -> Answer:
    account_id = account_id_for(command.name)
    if uow.find(account_id) is not None:
        raise AlreadyExists(
            f"an account named {command.name!r} already exists ({account_id}).", account_id
        )
    owner = owner_or_caller(uow, command.owner)
    details = Details(
        type=command.type,
        industry=command.industry,
        website=command.website,
        vat_id=command.vat_id,
        address=command.address,
        parent_id=parent_for(uow, account_id, command.parent_id),
    )
    uow.record(
        account_id,
        account.create(command.name, partner=command.partner, owner=owner, details=details),
    )
    share_new(uow, Account, account_id, command.private, command.shared_with)
    return Answer(id=account_id, created=True)


def find_or_create_account(uow: UnitOfWork, name: str) -> UUID:
    """The account of that name (a merged one: the account it was merged into), created in
    the same save when it does not exist."""
    account_id = account_id_for(name)
    existing = uow.find(account_id)
    if existing is None:
        uow.record(account_id, account.create(name))
    elif not isinstance(existing, Account):
        raise InvalidInput(f"{name!r} does not name an account.")
    else:
        return survivor(uow, account_id).id
    return account_id


HANDLERS: Handlers = {
    EnsureDefaults: ensure_defaults,
    CreateProduct: create_product,
    DeactivateProduct: deactivate_product,
    ReactivateProduct: reactivate_product,
    CreatePriceBook: create_price_book,
    SetPrice: set_price,
    DeactivatePriceBook: deactivate_price_book,
    CreateBundle: create_bundle,
    SetExchangeRate: set_exchange_rate,
    CreatePipeline: create_pipeline,
    ChangeStage: change_stage,
    CreateAccount: create_account,
}
