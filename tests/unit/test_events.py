"""Every stored event is an event of one aggregate, and each aggregate's union of events
(``OpportunityEvent``…) lists exactly its events, so a ``match`` over it is complete."""

from __future__ import annotations

from collections import defaultdict
from typing import Any, get_args, get_origin

from domain.account import Account, AccountEvent
from domain.aggregate import AggregateState, Event
from domain.automation import Automation, AutomationCatalogue, AutomationEvent, CatalogueEvent
from domain.baseline import Baseline, BaselineEvent
from domain.bundle import Bundle, BundleEvent
from domain.campaign import Campaign, CampaignEvent
from domain.contact import Contact, ContactEvent
from domain.contract import Contract, ContractEvent
from domain.custom_fields import CustomFields, CustomFieldsEvent
from domain.events import DomainEvent, registered_event_types
from domain.exchange_rates import ExchangeRates, ExchangeRatesEvent
from domain.lead import Lead, LeadEvent
from domain.lead_routing import LeadRouting, LeadRoutingEvent
from domain.notification import Notification, NotificationEvent
from domain.opportunity import Opportunity, OpportunityEvent
from domain.pipeline import Pipeline, PipelineEvent
from domain.price_book import PriceBook, PriceBookEvent
from domain.product import Product, ProductEvent
from domain.quote import Quote, QuoteEvent
from domain.targets import SalesTargets, SalesTargetsEvent
from domain.task import Task, TaskEvent
from domain.user import User, UserEvent
from domain.webhook import Webhook, WebhookEvent

UNIONS: dict[type[AggregateState], Any] = {
    Account: AccountEvent,
    Automation: AutomationEvent,
    AutomationCatalogue: CatalogueEvent,
    Baseline: BaselineEvent,
    Bundle: BundleEvent,
    Campaign: CampaignEvent,
    Contact: ContactEvent,
    Contract: ContractEvent,
    CustomFields: CustomFieldsEvent,
    ExchangeRates: ExchangeRatesEvent,
    Lead: LeadEvent,
    LeadRouting: LeadRoutingEvent,
    Notification: NotificationEvent,
    Opportunity: OpportunityEvent,
    Pipeline: PipelineEvent,
    PriceBook: PriceBookEvent,
    Product: ProductEvent,
    Quote: QuoteEvent,
    SalesTargets: SalesTargetsEvent,
    Task: TaskEvent,
    User: UserEvent,
    Webhook: WebhookEvent,
}


def domain_events() -> list[type[DomainEvent]]:
    return [c for c in registered_event_types().values() if c.__module__.startswith("domain.")]


def state_of(cls: type[DomainEvent]) -> type[AggregateState]:
    """The ``S`` of the ``Event[S]`` (or ``PersonalEvent[S]``) the class derives from."""
    for base in getattr(cls, "__orig_bases__", ()):
        origin = get_origin(base)
        if isinstance(origin, type) and issubclass(origin, Event):
            (state,) = get_args(base)
            assert isinstance(state, type)
            return state
    raise AssertionError(f"{cls.__name__} is not an Event[S]")


def members(union: Any) -> set[Any]:
    return set(get_args(union)) or {union}


def test_every_stored_event_of_the_domain_is_an_event_of_one_aggregate() -> None:
    for cls in domain_events():
        assert issubclass(cls, Event), cls.__name__
        assert issubclass(state_of(cls), AggregateState), cls.__name__


def test_each_aggregates_union_lists_exactly_its_events() -> None:
    by_state: dict[type[AggregateState], set[type[DomainEvent]]] = defaultdict(set)
    for cls in domain_events():
        by_state[state_of(cls)].add(cls)
    assert set(by_state) == set(UNIONS)
    for state, union in UNIONS.items():
        assert members(union) == by_state[state], state.__name__
