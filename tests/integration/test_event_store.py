"""Every event type goes through the store unchanged, on SQLite and PostgreSQL."""

from __future__ import annotations

from uuid import uuid4

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.bootstrap import Services
from adapters.event_store.codec import decode_event, encode_event
from domain.events import DomainEvent, registered_event_types, topic_of
from domain.personal_data import PersonalEvent
from tests.strategies import instances

EVENT_TYPES = sorted(registered_event_types().items())


@pytest.mark.parametrize(("name", "cls"), EVENT_TYPES, ids=[n for n, _ in EVENT_TYPES])
@settings(max_examples=25, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_event_type_round_trips_through_the_codec(
    name: str, cls: type[DomainEvent], data: st.DataObject
) -> None:
    event = data.draw(instances(cls))
    assert decode_event(topic_of(cls), encode_event(event)) == event


@settings(
    max_examples=5,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.large_base_example,
    ],
)
@given(events=st.tuples(*[instances(cls) for _, cls in EVENT_TYPES]))
def test_every_event_type_round_trips_through_the_store(
    services: Services, events: tuple[DomainEvent, ...]
) -> None:
    # Given one event of every type, each on its own aggregate, saved in one batch
    originals = [
        msgspec.structs.replace(event, originator_id=uuid4(), originator_version=1)
        for event in events
    ]
    # (events with personal data come from the domain unsealed; the store seals them)
    originals = [
        msgspec.structs.replace(e, sealed=None) if isinstance(e, PersonalEvent) else e
        for e in originals
    ]
    services.store.save(originals)
    # When each is read back
    loaded = [services.store.history(e.originator_id) for e in originals]
    # Then each is exactly what was saved (personal data opened with its lead's key)
    for [event] in loaded:
        if isinstance(event, PersonalEvent) and event.personal_fields:
            assert event.sealed is not None
    unsealed = [
        [msgspec.structs.replace(e, sealed=None) if isinstance(e, PersonalEvent) else e]
        for [e] in loaded
    ]
    assert unsealed == [[e] for e in originals]


def test_stored_topics_are_stable_type_names_not_module_paths(services: Services) -> None:
    for _, cls in EVENT_TYPES:
        assert topic_of(cls) == cls.__name__
        assert "." not in topic_of(cls) and ":" not in topic_of(cls)
