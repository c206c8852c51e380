"""The in-memory event store keeps the promises of the real one.

The sales state machine trusts ``tests.fakes.InMemoryEventStore`` to refuse
what the database would refuse. These tests show it does, atomically: a save
with any taken or skipped version, a taken idempotency key or a taken
document id raises ``ConcurrentWrite`` and leaves the log, every aggregate,
the idempotency records and the documents exactly as they were.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from commands.ports import ConcurrentWrite, Document, IdempotencyRecord
from domain.events import DomainEvent
from domain.product import ProductCreated, ProductDeactivated, ProductReactivated
from tests.conftest import T0
from tests.fakes import FixedClock, InMemoryEventStore

IDS = [UUID(int=n) for n in range(1, 4)]


def created(aggregate_id: UUID, version: int = 1) -> DomainEvent:
    return ProductCreated(
        originator_id=aggregate_id,
        originator_version=version,
        recorded_at=T0,
        name="Licence",
        code="LIC",
        category="software",
        kind="one_off",
        term_months=None,
    )


def changed(aggregate_id: UUID, version: int) -> DomainEvent:
    return ProductDeactivated(originator_id=aggregate_id, originator_version=version)


def record(key: str) -> IdempotencyRecord:
    return IdempotencyRecord(
        key=key,
        fingerprint="f",
        status_code=200,
        body=b"{}",
        aggregate_id=IDS[0],
        aggregate_version=1,
        created_at=T0,
    )


def document(document_id: UUID) -> Document:
    return Document(
        id=document_id,
        quote_id=IDS[0],
        media_type="text/plain",
        content=b"offer",
        sha256="0" * 64,
        created_at=T0,
    )


def snapshot(store: InMemoryEventStore) -> tuple[object, ...]:
    return (
        store.log,
        store.max_position(),
        {i: store.history(i) for i in IDS},
        {i: store.load(i) for i in IDS},
        store.idempotency_record("taken"),
        store.idempotency_record("fresh"),
        store.document(UUID(int=99)),
        store.document(UUID(int=98)),
    )


def seeded() -> InMemoryEventStore:
    store = InMemoryEventStore()
    store.save([created(IDS[0])], idempotency=record("taken"), documents=[document(UUID(int=99))])
    return store


def test_positions_start_at_one_and_follow_the_log() -> None:
    """Positions are 1, 2, 3… in save order; ``save`` answers the last one."""
    store = InMemoryEventStore()
    assert store.max_position() == 0
    assert store.save([created(IDS[0]), created(IDS[1])]) == 2
    assert store.save([created(IDS[2])]) == 3
    assert [store.position_of(i, 1) for i in IDS] == [1, 2, 3]
    assert store.position_of(IDS[0], 2) is None
    assert store.load(IDS[0]) is not None
    assert store.load(UUID(int=42)) is None


@given(
    fresh=st.lists(st.sampled_from(IDS[1:]), unique=True),
    taken_at=st.integers(0, 3),
    with_key=st.booleans(),
    with_document=st.booleans(),
)
def test_a_taken_version_refuses_the_whole_save(
    fresh: list[UUID], taken_at: int, with_key: bool, with_document: bool
) -> None:
    """One taken (id, version) anywhere in a batch: nothing of the batch is written."""
    store = seeded()
    before = snapshot(store)
    batch = [created(i) for i in fresh]
    batch.insert(min(taken_at, len(batch)), created(IDS[0]))
    with pytest.raises(ConcurrentWrite):
        store.save(
            batch,
            idempotency=record("fresh") if with_key else None,
            documents=[document(UUID(int=98))] if with_document else (),
        )
    assert snapshot(store) == before


@pytest.mark.parametrize(
    "batch",
    [
        [changed(IDS[0], 3)],  # skips version 2
        [changed(IDS[0], 2), changed(IDS[0], 2)],  # twice the same version
        [changed(IDS[0], 2), changed(IDS[0], 4)],  # a gap inside the batch
        [created(IDS[1], 2)],  # a new stream must start at 1
        [created(IDS[1]), changed(IDS[0], 0)],  # an unstamped event
    ],
)
def test_versions_must_continue_each_stream(batch: list[DomainEvent]) -> None:
    """Each aggregate's new events take the next versions, without gaps or repeats."""
    store = seeded()
    before = snapshot(store)
    with pytest.raises(ConcurrentWrite):
        store.save(batch)
    assert snapshot(store) == before


def test_a_taken_idempotency_key_or_document_id_refuses_the_save() -> None:
    """Keys and documents are written with the events, so a taken one refuses all of them."""
    store = seeded()
    before = snapshot(store)
    with pytest.raises(ConcurrentWrite):
        store.save([changed(IDS[0], 2)], idempotency=record("taken"))
    with pytest.raises(ConcurrentWrite):
        store.save([changed(IDS[0], 2)], documents=[document(UUID(int=99))])
    with pytest.raises(ConcurrentWrite):
        store.save([changed(IDS[0], 2)], documents=[document(UUID(int=98))] * 2)
    assert snapshot(store) == before
    store.save(
        [changed(IDS[0], 2)], idempotency=record("fresh"), documents=[document(UUID(int=98))]
    )
    assert store.idempotency_record("fresh") == record("fresh")
    assert store.document(UUID(int=98)) == document(UUID(int=98))


def test_two_writers_loading_the_same_version_cannot_both_save() -> None:
    """The second of two decisions made on the same version is refused: optimistic locking."""
    store = seeded()
    version = store.load(IDS[0]).version  # type: ignore[union-attr]
    first = changed(IDS[0], version + 1)
    second = ProductReactivated(originator_id=IDS[0], originator_version=version + 1)
    store.save([first])
    with pytest.raises(ConcurrentWrite):
        store.save([second])
    assert store.history(IDS[0])[-1] == first
    assert store.load(IDS[0]).active is False  # type: ignore[union-attr]


def test_the_fixed_clock_tells_one_aware_instant() -> None:
    """A fixed clock never moves and refuses naive time."""
    clock = FixedClock(T0)
    assert clock.now() == clock.now() == T0
    with pytest.raises(ValueError, match="aware"):
        FixedClock(datetime(2027, 1, 1))
