"""Products: what can be sold, one-off (a delivered product) or time-based (a term in months)."""

from __future__ import annotations

from typing import ClassVar, Literal

from domain import limits
from domain.aggregate import AggregateState, Event, created, evolve
from domain.errors import InvalidInput, RuleViolated

ProductCategory = Literal["software", "implementation", "support"]
ItemKind = Literal["one_off", "time_based"]
PRODUCT_CATEGORIES: tuple[ProductCategory, ...] = ("software", "implementation", "support")
MAX_TERM_MONTHS = limits.TERM_MONTHS


class Product(AggregateState, frozen=True, kw_only=True):
    kind: ClassVar[str] = "product"
    name: str
    code: str
    category: ProductCategory
    item_kind: ItemKind
    term_months: int | None
    active: bool = True


class ProductCreated(Event[Product], frozen=True, kw_only=True):
    name: str
    code: str
    category: ProductCategory
    kind: ItemKind
    term_months: int | None

    def apply(self, state: Product | None) -> Product:
        return created(Product, self, item_kind=self.kind)


class ProductDeactivated(Event[Product], frozen=True, kw_only=True):
    def apply(self, state: Product) -> Product:
        return evolve(state, active=False)


class ProductReactivated(Event[Product], frozen=True, kw_only=True):
    def apply(self, state: Product) -> Product:
        return evolve(state, active=True)


ProductEvent = ProductCreated | ProductDeactivated | ProductReactivated


def check_term(kind: ItemKind, term_months: int | None) -> None:
    if kind == "time_based":
        if term_months is None or not 1 <= term_months <= MAX_TERM_MONTHS:
            raise InvalidInput(f"a time-based item needs a term of 1 to {MAX_TERM_MONTHS} months.")
    elif term_months is not None:
        raise InvalidInput("a one-off item has no term; leave term_months out.")


def create(
    name: str, code: str, category: ProductCategory, kind: ItemKind, term_months: int | None
) -> list[ProductEvent]:
    if not name.strip():
        raise InvalidInput("a product needs a name.")
    if not code.strip():
        raise InvalidInput("a product needs a code.")
    check_term(kind, term_months)
    return [
        ProductCreated(
            name=name.strip(),
            code=code.strip(),
            category=category,
            kind=kind,
            term_months=term_months,
        )
    ]


def deactivate(state: Product) -> list[ProductEvent]:
    if not state.active:
        raise RuleViolated(f"product {state.code} is already inactive.")
    return [ProductDeactivated()]


def reactivate(state: Product) -> list[ProductEvent]:
    if state.active:
        raise RuleViolated(f"product {state.code} is already active.")
    return [ProductReactivated()]
