"""Catalogue: products, price books, bundles, and what a quote records of them."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

from domain import bundle, price_book, product, sellable
from domain.bundle import Bundle, BundleComponent, BundleCreated
from domain.errors import InvalidInput, NotFound, RuleViolated
from domain.events import DomainEvent
from domain.price_book import Price, PriceBookCreated, PriceBookDeactivated, PriceSet
from domain.product import Product, ProductCreated, ProductDeactivated, ProductReactivated
from domain.quote import ComponentSnapshot, SellableProduct
from tests.builders import price_book as a_price_book
from tests.builders import price_book_of
from tests.builders import product as a_product
from tests.gwt import given

PRODUCT = UUID("00000000-0000-4000-8000-000000000301")
OTHER = UUID("00000000-0000-4000-8000-000000000302")
BUNDLE = UUID("00000000-0000-4000-8000-000000000303")
BOOK = UUID("00000000-0000-4000-8000-000000000304")
Decide = Callable[[Any], list[DomainEvent]]


def _product_created(**overrides: Any) -> ProductCreated:
    fields: dict[str, Any] = {
        "originator_id": PRODUCT,
        "name": "CRM licence",
        "code": "LIC",
        "category": "software",
        "kind": "time_based",
        "term_months": 12,
    }
    fields.update(overrides)
    return ProductCreated(**fields)


def _book_created(**overrides: Any) -> PriceBookCreated:
    fields: dict[str, Any] = {"originator_id": BOOK, "name": "Standard"}
    fields.update(overrides)
    return PriceBookCreated(**fields)


# --- products ----------------------------------------------------------------------


def test_a_time_based_product_is_created_with_its_default_term() -> None:
    given().when(
        lambda _: product.create(" CRM licence ", " LIC ", "software", "time_based", 36)
    ).then(
        ProductCreated(
            name="CRM licence", code="LIC", category="software", kind="time_based", term_months=36
        )
    )


def test_a_one_off_product_has_no_term() -> None:
    given().when(
        lambda _: product.create("Onboarding", "ONB", "implementation", "one_off", None)
    ).then(
        ProductCreated(
            name="Onboarding",
            code="ONB",
            category="implementation",
            kind="one_off",
            term_months=None,
        )
    )


def test_a_one_off_product_with_a_term_is_refused() -> None:
    given().when(
        lambda _: product.create("Onboarding", "ONB", "implementation", "one_off", 12)
    ).then_raises(InvalidInput, "a one-off item has no term; leave term_months out.")


@pytest.mark.parametrize("term", [None, 0, -1, 241])
def test_a_time_based_product_needs_a_term_of_1_to_240_months(term: int | None) -> None:
    given().when(
        lambda _: product.create("Support", "SUP", "support", "time_based", term)
    ).then_raises(InvalidInput, "a time-based item needs a term of 1 to 240 months.")


@pytest.mark.parametrize("term", [1, 240])
def test_terms_of_1_and_240_months_are_allowed(term: int) -> None:
    [created] = product.create("Support", "SUP", "support", "time_based", term)
    assert isinstance(created, ProductCreated)
    assert created.term_months == term


@pytest.mark.parametrize(
    ("name", "code", "sentence"),
    [(" ", "LIC", "a product needs a name."), ("CRM licence", "  ", "a product needs a code.")],
)
def test_a_product_needs_a_name_and_a_code(name: str, code: str, sentence: str) -> None:
    given().when(lambda _: product.create(name, code, "software", "time_based", 12)).then_raises(
        InvalidInput, sentence
    )


def test_a_new_product_is_active() -> None:
    state = given(_product_created()).state
    assert (state.active, state.item_kind, state.term_months) == (True, "time_based", 12)


def test_reactivating_a_product_makes_it_active_again() -> None:
    when = given(_product_created(), ProductDeactivated()).when(product.reactivate)
    when.then(ProductReactivated())
    assert when.then_state().active is True


def test_reactivating_an_active_product_is_refused() -> None:
    given(_product_created()).when(product.reactivate).then_raises(
        RuleViolated, "product LIC is already active."
    )


def test_a_product_is_quoted_with_its_kind_term_category_and_activity() -> None:
    state = given(_product_created(), ProductDeactivated()).state
    assert sellable.of_product(state) == SellableProduct(
        id=PRODUCT,
        name="CRM licence",
        kind="time_based",
        term_months=12,
        category="software",
        active=False,
    )


# --- price books ----------------------------------------------------------------------


def test_a_price_book_records_its_brand_version_and_the_book_it_updates() -> None:
    old = a_price_book()
    given().when(
        lambda _: price_book.create(
            " Standard 2027 ", brand="Acme", product_version="2027.1", update_of=old
        )
    ).then(
        PriceBookCreated(
            name="Standard 2027", brand="Acme", product_version="2027.1", update_of=old.id
        )
    )


def test_a_price_book_needs_a_name() -> None:
    given().when(lambda _: price_book.create("  ")).then_raises(
        InvalidInput, "a price book needs a name."
    )


def test_setting_a_price_records_product_unit_currency_and_price() -> None:
    when = given(_book_created()).when(
        lambda book: price_book.set_price(book, PRODUCT, " user ", "EUR", Decimal("25.00"))
    )
    when.then(PriceSet(product_id=PRODUCT, unit="user", currency="EUR", price=Decimal("25.00")))
    assert when.then_state().price_of(PRODUCT, "user", "EUR") == Decimal("25.00")


@pytest.mark.parametrize(
    ("price", "refusal"),
    [
        (Decimal("0.1234567"), "a price has more than 6 decimal places."),
        (Decimal("-1"), "a price must be zero or more."),
    ],
)
def test_a_price_is_zero_or_more_with_at_most_six_decimal_places(
    price: Decimal, refusal: str
) -> None:
    given(_book_created()).when(
        lambda book: price_book.set_price(book, PRODUCT, "user", "EUR", price)
    ).then_raises(InvalidInput, refusal)


@pytest.mark.parametrize(
    ("unit", "price"),
    [("kWh", Decimal("0.123456")), ("user", Decimal(0))],
    ids=["six decimal places", "free"],
)
def test_a_price_with_six_decimal_places_or_free_is_accepted(unit: str, price: Decimal) -> None:
    given(_book_created()).when(
        lambda book: price_book.set_price(book, PRODUCT, unit, "EUR", price)
    ).then(PriceSet(product_id=PRODUCT, unit=unit, currency="EUR", price=price))


@pytest.mark.parametrize("written", ["1.0000000", "2.50000000", "100"])
def test_trailing_zeros_are_not_decimal_places(written: str) -> None:
    # 1.0000000 is 1: a quantity of at most 6 decimals is accepted as written.
    price_book.check_decimal(Decimal(written), "a quantity", places=6, positive=True)


def test_a_seventh_significant_decimal_is_still_refused() -> None:
    with pytest.raises(InvalidInput, match="more than 6 decimal places"):
        price_book.check_decimal(Decimal("1.0000001"), "a quantity", places=6, positive=True)


def test_a_price_needs_an_iso_currency() -> None:
    given(_book_created()).when(
        lambda book: price_book.set_price(book, PRODUCT, "user", "EURO", Decimal(1))
    ).then_raises(InvalidInput, "'EURO' is not an ISO 4217 currency code.")


@pytest.mark.parametrize("unit", ["", "   ", "u" * 33])
def test_a_price_needs_a_unit_of_1_to_32_characters(unit: str) -> None:
    given(_book_created()).when(
        lambda book: price_book.set_price(book, PRODUCT, unit, "EUR", Decimal(1))
    ).then_raises(InvalidInput, "a unit is a name of 1 to 32 characters")


def test_an_inactive_price_book_cannot_change() -> None:
    given(_book_created(), PriceBookDeactivated()).when(
        lambda book: price_book.set_price(book, PRODUCT, "user", "EUR", Decimal(1))
    ).then_raises(RuleViolated, "price book 'Standard' is inactive and cannot change.")


def test_setting_a_price_again_replaces_it() -> None:
    state = (
        given(
            _book_created(),
            PriceSet(product_id=PRODUCT, unit="user", currency="EUR", price=Decimal("25.00")),
            PriceSet(product_id=PRODUCT, unit="user", currency="USD", price=Decimal("27.50")),
        )
        .when(lambda book: price_book.set_price(book, PRODUCT, "user", "EUR", Decimal("24.00")))
        .then_state()
    )
    assert state.prices == (
        Price(PRODUCT, "user", "USD", Decimal("27.50")),
        Price(PRODUCT, "user", "EUR", Decimal("24.00")),
    )
    assert state.price_of(PRODUCT, "user", "EUR") == Decimal("24.00")


def test_a_price_book_lists_units_and_currencies_per_product() -> None:
    book = a_price_book(
        (PRODUCT, "user", "USD", "27.50"),
        (PRODUCT, "user", "EUR", "25.00"),
        (PRODUCT, "seat", "EUR", "20.00"),
        (OTHER, "day", "GBP", "900.00"),
    )
    assert book.units_of(PRODUCT) == ["seat", "user"]
    assert book.currencies_of(PRODUCT, "user") == ["EUR", "USD"]
    assert book.price_of(PRODUCT, "seat", "USD") is None
    assert book.units_of(BUNDLE) == []


# A product and a price book are deactivated alike: (created, deactivate, the event, the
# refusal when it is already inactive).
DEACTIVATIONS = pytest.mark.parametrize(
    ("created", "deactivate", "deactivated", "refusal"),
    [
        (
            _product_created(),
            product.deactivate,
            ProductDeactivated(),
            "product LIC is already inactive.",
        ),
        (
            _book_created(),
            price_book.deactivate,
            PriceBookDeactivated(),
            "price book 'Standard' is already inactive.",
        ),
    ],
    ids=["product", "price book"],
)


@DEACTIVATIONS
def test_deactivating_makes_it_inactive(
    created: DomainEvent, deactivate: Decide, deactivated: DomainEvent, refusal: str
) -> None:
    when = given(created).when(deactivate)
    when.then(deactivated)
    assert when.then_state().active is False


@DEACTIVATIONS
def test_deactivating_an_inactive_one_is_refused(
    created: DomainEvent, deactivate: Decide, deactivated: DomainEvent, refusal: str
) -> None:
    given(created, deactivated).when(deactivate).then_raises(RuleViolated, refusal)


# --- bundles ----------------------------------------------------------------------

LIC = a_product("LIC")  # time-based, 12 months
SUP = a_product("SUP", term=36)
ONB = a_product("ONB", kind="one_off")
BUNDLE_BOOK = price_book_of(name="Bundles")


def test_a_bundle_records_its_components_and_weights() -> None:
    given().when(
        lambda _: bundle.create(
            " Starter ",
            " START ",
            BUNDLE_BOOK,
            [(LIC, Decimal("0.7")), (ONB, Decimal("0.3"))],
        )
    ).then(
        BundleCreated(
            name="Starter",
            code="START",
            price_book_id=BUNDLE_BOOK.id,
            components=(
                BundleComponent(product_id=LIC.id, weight=Decimal("0.7")),
                BundleComponent(product_id=ONB.id, weight=Decimal("0.3")),
            ),
        )
    )


def test_a_bundle_needs_a_component() -> None:
    given().when(lambda _: bundle.create("Starter", "START", BUNDLE_BOOK, [])).then_raises(
        InvalidInput, "a bundle needs at least one component."
    )


def test_a_product_appears_only_once_in_a_bundle() -> None:
    given().when(
        lambda _: bundle.create(
            "Starter", "START", BUNDLE_BOOK, [(LIC, Decimal(1)), (LIC, Decimal(2))]
        )
    ).then_raises(
        InvalidInput, "a product can appear only once in a bundle; raise its weight instead."
    )


@pytest.mark.parametrize("weight", ["0", "-1"])
def test_bundle_weights_are_positive(weight: str) -> None:
    given().when(
        lambda _: bundle.create("Starter", "START", BUNDLE_BOOK, [(LIC, Decimal(weight))])
    ).then_raises(InvalidInput, "the weight of LIC must be positive.")


def test_a_bundle_weight_has_at_most_six_decimal_places() -> None:
    given().when(
        lambda _: bundle.create("Starter", "START", BUNDLE_BOOK, [(LIC, Decimal("0.1234567"))])
    ).then_raises(InvalidInput, "the weight of LIC has more than 6 decimal places.")


def test_a_bundle_needs_a_name_and_a_code() -> None:
    given().when(
        lambda _: bundle.create("Starter", " ", BUNDLE_BOOK, [(LIC, Decimal(1))])
    ).then_raises(InvalidInput, "a bundle needs a name and a code.")


# --- sellable summary of a bundle ---------------------------------------------------


def _bundle(*products: tuple[UUID, str]) -> Bundle:
    state: Bundle = given(
        BundleCreated(
            originator_id=BUNDLE,
            name="Starter",
            code="START",
            price_book_id=BUNDLE_BOOK.id,
            components=tuple(BundleComponent(product_id=p, weight=Decimal(w)) for p, w in products),
        )
    ).state
    return state


def _snapshot(
    component: Product, weight: str, kind: str, term_months: int | None
) -> ComponentSnapshot:
    """What a bundle records of a software product made by ``tests.builders.product``."""
    return ComponentSnapshot(
        product_id=component.id,
        name=f"Product {component.code}",
        code=component.code,
        weight=Decimal(weight),
        kind=kind,  # type: ignore[arg-type]
        term_months=term_months,
        category="software",
    )


def test_a_bundle_with_a_time_based_component_is_time_based_with_the_longest_term() -> None:
    summary = sellable.of_bundle(
        _bundle((LIC.id, "0.5"), (SUP.id, "0.3"), (ONB.id, "0.2")),
        {p.id: p for p in (LIC, SUP, ONB)},
    )
    assert (summary.id, summary.name, summary.kind, summary.term_months) == (
        BUNDLE,
        "Starter",
        "time_based",
        36,
    )
    assert summary.active is True
    assert summary.components == (
        _snapshot(LIC, "0.5", "time_based", 12),
        _snapshot(SUP, "0.3", "time_based", 36),
        _snapshot(ONB, "0.2", "one_off", None),
    )


def test_a_bundle_of_one_off_products_is_one_off_without_a_term() -> None:
    other_one_off = a_product("TRN", kind="one_off")
    summary = sellable.of_bundle(
        _bundle((ONB.id, "1"), (other_one_off.id, "1")),
        {ONB.id: ONB, other_one_off.id: other_one_off},
    )
    assert (summary.kind, summary.term_months, summary.category) == ("one_off", None, "software")


def test_a_bundle_mixing_categories_has_no_single_category() -> None:
    implementation = given(
        _product_created(
            originator_id=OTHER,
            code="IMP",
            category="implementation",
            kind="one_off",
            term_months=None,
        )
    ).state
    summary = sellable.of_bundle(
        _bundle((LIC.id, "1"), (OTHER, "1")),
        {LIC.id: LIC, OTHER: implementation},
    )
    assert summary.category is None
    assert [c.category for c in summary.components] == ["software", "implementation"]


def test_a_bundle_with_an_inactive_component_is_inactive() -> None:
    retired = ProductDeactivated().apply(SUP)
    summary = sellable.of_bundle(
        _bundle((LIC.id, "1"), (SUP.id, "1")),
        {LIC.id: LIC, SUP.id: retired},
    )
    assert summary.active is False


def test_a_bundle_naming_a_missing_product_is_refused() -> None:
    with pytest.raises(NotFound, match="bundle START names a product"):
        sellable.of_bundle(_bundle((LIC.id, "1"), (SUP.id, "1")), {LIC.id: LIC})
