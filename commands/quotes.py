"""Commands on quotes, one handler each.

Every handler that can change a quote's total goes through
``selling.change_quote`` so the opportunity's amount follows its active quote
in the same save.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from uuid import UUID

import msgspec

from commands.accounts import survivor
from commands.bus import Answer, Handlers
from commands.ports import Document
from commands.unit_of_work import UnitOfWork
from domain import offer, sellable, selling
from domain import quote as rules
from domain.bundle import Bundle
from domain.errors import AlreadyExists, InvalidInput, NotFound
from domain.exchange_rates import ExchangeRates
from domain.ids import EXCHANGE_RATES_ID
from domain.money import check_currency
from domain.opportunity import Opportunity
from domain.price_book import PriceBook
from domain.product import ItemKind, Product, ProductCategory
from domain.quote import Quote, QuoteItem, SellableProduct

Unset = msgspec.UnsetType
UNSET = msgspec.UNSET


class CreateQuote(msgspec.Struct, frozen=True, kw_only=True):
    quote_id: UUID
    opportunity_id: UUID
    name: str
    currency: str | None = None
    price_book_id: UUID | None = None
    valid_from: date | None = None
    valid_until: date | None = None
    brand: str | None = None
    product_version: str | None = None


class EditQuote(msgspec.Struct, frozen=True, kw_only=True):
    quote_id: UUID
    name: str | None = None
    valid_from: date | None = None
    valid_until: date | None = None


class AddQuoteItem(msgspec.Struct, frozen=True, kw_only=True):
    quote_id: UUID
    item_id: UUID
    quantity: Decimal
    product_id: UUID | None = None
    name: str | None = None
    unit: str | None = None
    unit_price: Decimal | None = None
    discount_pct: Decimal = Decimal(0)
    kind: ItemKind | None = None
    term_months: int | None = None
    category: ProductCategory | None = None
    start: date | None = None


class ChangeQuoteItem(msgspec.Struct, frozen=True, kw_only=True):
    quote_id: UUID
    item_id: UUID
    quantity: Decimal | None = None
    discount_pct: Decimal | None = None
    unit_price: Decimal | None = None
    name: str | None = None
    start: date | None = None


class RemoveQuoteItem(msgspec.Struct, frozen=True, kw_only=True):
    quote_id: UUID
    item_id: UUID


class SetQuoteRounding(msgspec.Struct, frozen=True, kw_only=True):
    quote_id: UUID
    amount: Decimal | None


class ActivateQuote(msgspec.Struct, frozen=True, kw_only=True):
    quote_id: UUID


class DeactivateQuote(msgspec.Struct, frozen=True, kw_only=True):
    quote_id: UUID


class DuplicateQuote(msgspec.Struct, frozen=True, kw_only=True):
    quote_id: UUID
    new_quote_id: UUID
    name: str | None = None


class ChangeQuoteCurrency(msgspec.Struct, frozen=True, kw_only=True):
    quote_id: UUID
    currency: str


class DeleteQuote(msgspec.Struct, frozen=True, kw_only=True):
    quote_id: UUID


class GenerateOffer(msgspec.Struct, frozen=True, kw_only=True):
    quote_id: UUID
    document_id: UUID
    template: str | None = None


def _quote_and_opportunity(uow: UnitOfWork, quote_id: UUID) -> tuple[Quote, Opportunity]:
    quote = uow.get(Quote, quote_id)
    return quote, uow.get(Opportunity, quote.opportunity_id)


def create_quote(uow: UnitOfWork, command: CreateQuote) -> Answer:
    opp = uow.get(Opportunity, command.opportunity_id)
    uow.ensure_new(command.quote_id)
    book = uow.get(PriceBook, command.price_book_id) if command.price_book_id else None
    created = rules.create(
        opp.id,
        command.name,
        command.currency or opp.amount.currency,
        price_book=book,
        brand=command.brand,
        product_version=command.product_version,
        valid_from=command.valid_from,
        valid_until=command.valid_until,
    )
    uow.record_all(selling.add_quote(opp, command.quote_id, created))
    return Answer(id=command.quote_id, created=True, extra={"quote_id": str(command.quote_id)})


def edit_quote(uow: UnitOfWork, command: EditQuote) -> Answer:
    quote, opp = _quote_and_opportunity(uow, command.quote_id)
    events = rules.change_details(
        quote, name=command.name, valid_from=command.valid_from, valid_until=command.valid_until
    )
    uow.record_all(selling.change_quote(opp, quote, events))
    return Answer(id=quote.id)


def _sellable(uow: UnitOfWork, product_id: UUID) -> SellableProduct:
    found = uow.find(product_id)
    if isinstance(found, Product):
        return sellable.of_product(found)
    if isinstance(found, Bundle):
        products = {c.product_id: uow.get(Product, c.product_id) for c in found.components}
        return sellable.of_bundle(found, products)
    raise NotFound(f"there is no product or bundle with id {product_id}.")


def _new_item(uow: UnitOfWork, quote: Quote, command: AddQuoteItem) -> QuoteItem:
    if command.product_id is not None and quote.price_book_id is not None:
        if command.unit_price is not None:
            raise InvalidInput(
                "the unit price of a price-book item comes from the price book; leave unit_price "
                "out or add a manual item without product_id."
            )
        return rules.price_book_item(
            quote,
            uow.get(PriceBook, quote.price_book_id),
            item_id=command.item_id,
            sellable=_sellable(uow, command.product_id),
            quantity=command.quantity,
            unit=command.unit,
            discount_pct=command.discount_pct,
            start=command.start,
        )
    product = _sellable(uow, command.product_id) if command.product_id is not None else None
    return rules.manual_item(
        item_id=command.item_id,
        product=product,
        quantity=command.quantity,
        unit_price=command.unit_price,
        name=command.name,
        unit=command.unit,
        discount_pct=command.discount_pct,
        kind=command.kind,
        term_months=command.term_months,
        category=command.category,
        start=command.start,
    )


def add_quote_item(uow: UnitOfWork, command: AddQuoteItem) -> Answer:
    quote, opp = _quote_and_opportunity(uow, command.quote_id)
    # Asked first: a locked quote is refused as such before its new item is looked at.
    rules.ensure_changeable(quote)
    events = rules.add_item(quote, _new_item(uow, quote, command))
    uow.record_all(selling.change_quote(opp, quote, events))
    return Answer(id=quote.id, created=True, extra={"item_id": str(command.item_id)})


def change_quote_item(uow: UnitOfWork, command: ChangeQuoteItem) -> Answer:
    quote, opp = _quote_and_opportunity(uow, command.quote_id)
    events = rules.change_item(
        quote,
        command.item_id,
        quantity=command.quantity,
        discount_pct=command.discount_pct,
        unit_price=command.unit_price,
        name=command.name,
        start=command.start,
    )
    uow.record_all(selling.change_quote(opp, quote, events))
    return Answer(id=quote.id)


def remove_quote_item(uow: UnitOfWork, command: RemoveQuoteItem) -> Answer:
    quote, opp = _quote_and_opportunity(uow, command.quote_id)
    uow.record_all(selling.change_quote(opp, quote, rules.remove_item(quote, command.item_id)))
    return Answer(id=quote.id)


def set_quote_rounding(uow: UnitOfWork, command: SetQuoteRounding) -> Answer:
    quote, opp = _quote_and_opportunity(uow, command.quote_id)
    uow.record_all(selling.change_quote(opp, quote, rules.set_rounding(quote, command.amount)))
    return Answer(id=quote.id)


def activate_quote(uow: UnitOfWork, command: ActivateQuote) -> Answer:
    quote, opp = _quote_and_opportunity(uow, command.quote_id)
    previous = uow.get(Quote, opp.active_quote_id) if opp.active_quote_id else None
    uow.record_all(selling.activate_quote(opp, quote, previous))
    return Answer(id=quote.id)


def deactivate_quote(uow: UnitOfWork, command: DeactivateQuote) -> Answer:
    quote, opp = _quote_and_opportunity(uow, command.quote_id)
    uow.record_all(selling.deactivate_quote(opp, quote))
    return Answer(id=quote.id)


def duplicate_quote(uow: UnitOfWork, command: DuplicateQuote) -> Answer:
    quote, opp = _quote_and_opportunity(uow, command.quote_id)
    uow.ensure_new(command.new_quote_id)
    uow.record_all(selling.duplicate_quote(opp, quote, command.new_quote_id, command.name))
    return Answer(
        id=command.new_quote_id, created=True, extra={"quote_id": str(command.new_quote_id)}
    )


def change_quote_currency(uow: UnitOfWork, command: ChangeQuoteCurrency) -> Answer:
    quote, opp = _quote_and_opportunity(uow, command.quote_id)
    # Asked before the rates are looked up: a locked quote is refused as such, and a
    # currency without a minor unit (XAU) is bad input, not a missing rate.
    rules.ensure_changeable(quote)
    check_currency(command.currency)
    book = uow.get(PriceBook, quote.price_book_id) if quote.price_book_id else None
    rate_from = rate_to = None
    if rules.needs_rates(quote):
        rates = uow.get(ExchangeRates, EXCHANGE_RATES_ID)
        rate_from = rates.rate_at(quote.currency, uow.now)
        rate_to = rates.rate_at(command.currency, uow.now)
    events = rules.change_currency(
        quote, command.currency, price_book=book, rate_from=rate_from, rate_to=rate_to
    )
    uow.record_all(selling.change_quote(opp, quote, events))
    return Answer(id=quote.id)


def delete_quote(uow: UnitOfWork, command: DeleteQuote) -> Answer:
    quote, opp = _quote_and_opportunity(uow, command.quote_id)
    uow.record_all(selling.delete_quote(opp, quote))
    return Answer(id=quote.id)


def generate_offer(uow: UnitOfWork, command: GenerateOffer) -> Answer:
    quote, opp = _quote_and_opportunity(uow, command.quote_id)
    # Asked first: what may be offered is refused as such before the document id and the
    # template are looked at.
    selling.ensure_offerable(opp, quote)
    if uow.store.document(command.document_id) is not None:
        raise AlreadyExists(
            f"the document id {command.document_id} is already taken.", command.document_id
        )
    account = survivor(uow, opp.account_id)  # merged: the account its links went to
    document = offer.render(
        command.template,
        quote=quote,
        account=account.name,
        opportunity=opp.title,
        owner=opp.owner,
        today=uow.now.date(),
    )
    digest = offer.sha256(document)
    uow.record_all(selling.record_offer(opp, quote, command.document_id, digest, uow.now))
    uow.documents.append(
        Document(
            id=command.document_id,
            quote_id=quote.id,
            media_type="text/plain; charset=utf-8",
            content=document,
            sha256=digest,
            created_at=uow.now,
        )
    )
    return Answer(
        id=quote.id,
        created=True,
        extra={"document_id": str(command.document_id), "sha256": digest},
    )


HANDLERS: Handlers = {
    CreateQuote: create_quote,
    EditQuote: edit_quote,
    AddQuoteItem: add_quote_item,
    ChangeQuoteItem: change_quote_item,
    RemoveQuoteItem: remove_quote_item,
    SetQuoteRounding: set_quote_rounding,
    ActivateQuote: activate_quote,
    DeactivateQuote: deactivate_quote,
    DuplicateQuote: duplicate_quote,
    ChangeQuoteCurrency: change_quote_currency,
    DeleteQuote: delete_quote,
    GenerateOffer: generate_offer,
}
