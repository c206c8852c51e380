"""The audit slice: Given events / Then rows, and a user's commands gathered from them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from uuid import UUID, uuid4

import msgspec

from adapters.event_store.codec import encode_event, envelope_decoder, event_decoder
from commands.handlers import all_handlers
from domain.campaign import CampaignArchived, CampaignCreated
from domain.events import DomainEvent, Envelope, envelope_of, registered_event_types, topic_of
from domain.opportunity import OpportunityCreated, SalesActivityLogged
from domain.quote import QuoteActivated
from projections.projection import Projection
from readmodels import SLICES
from readmodels.audit import SLICE
from readmodels.audit.queries import Span, actions
from readmodels.audit.tables import AuditRow
from readmodels.slice import every_topic, topics
from readmodels.values import micros

AT = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)
SPRING, AUTUMN = uuid4(), uuid4()


def _stamped(event: DomainEvent, aggregate: UUID, version: int, **who: Any) -> DomainEvent:
    """``event`` as saved: its aggregate, version and who caused it."""
    return msgspec.structs.replace(
        event, originator_id=aggregate, originator_version=version, **who
    )


def _rows(*events: Envelope) -> list[AuditRow]:
    projection = Projection.empty([SLICE])
    for position, event in enumerate(events, start=1):
        projection.apply(event, position)
    [write] = projection.flush()
    assert projection.flush() == []  # written once
    return [AuditRow(*row) for row in write.rows]


def test_every_event_type_is_recorded() -> None:
    all_handlers()  # every command module, so every event type is registered
    assert set(SLICE.handlers) == set(registered_event_types().values())


def test_an_event_is_a_row_under_who_caused_it_and_an_unsigned_one_is_none() -> None:
    # Given two events alice's request caused, and one recorded before events said who
    created = _stamped(
        CampaignCreated(name="Spring", recorded_at=AT),
        SPRING,
        1,
        by="alice",
        request_id="r-1",
        causation_id="c-1",
    )
    archived = _stamped(
        CampaignArchived(recorded_at=AT + timedelta(hours=1)),
        SPRING,
        2,
        by="alice",
        request_id="r-2",
        causation_id="c-2",
    )
    unsigned = _stamped(CampaignCreated(name="Autumn", recorded_at=AT), AUTUMN, 1)
    # Then the signed ones are rows, with their place in the log
    assert _rows(created, unsigned, archived) == [
        AuditRow(1, "alice", micros(AT), "r-1", "c-1", "CampaignCreated", str(SPRING), 1),
        AuditRow(
            3,
            "alice",
            micros(AT + timedelta(hours=1)),
            "r-2",
            "c-2",
            "CampaignArchived",
            str(SPRING),
            2,
        ),
    ]


def test_the_envelope_of_a_stored_event_gives_the_row_the_whole_event_gives() -> None:
    # Given a quote event as stored, stamped with who caused it
    quote = uuid4()
    activated = _stamped(
        QuoteActivated(recorded_at=AT), quote, 4, by="bob", request_id="r-9", causation_id="c-9"
    )
    topic, stored = topic_of(QuoteActivated), encode_event(activated)
    # When it is decoded whole, and as its envelope alone (its body skipped)
    whole = event_decoder(topic)(stored)
    envelope = envelope_decoder(topic)(stored)
    # Then the envelope is one of that type, and both give the same row
    assert type(envelope) is envelope_of(QuoteActivated)
    assert not isinstance(envelope, DomainEvent)
    assert (
        _rows(whole)
        == _rows(envelope)
        == [AuditRow(1, "bob", micros(AT), "r-9", "c-9", "QuoteActivated", str(quote), 4)]
    )


def test_only_the_events_a_chart_reads_are_decoded_whole() -> None:
    # Given every read model
    projection = Projection.empty(SLICES)
    # Then it reads every event type, and decodes in full those another slice than the
    # audit reads (a deal's creation), of the others only the envelope (a deal's activity)
    assert projection.topics == every_topic()
    others = [s for s in SLICES if s is not SLICE]
    assert projection.bodies == topics(t for s in others for t in s.handlers)
    assert topic_of(OpportunityCreated) in projection.bodies
    assert topic_of(SalesActivityLogged) not in projection.bodies


class _Rows:
    """The rows a query would read, in (recorded instant, position) order, whatever it asks."""

    def __init__(self, rows: list[AuditRow]) -> None:
        self.rows = sorted(rows, key=lambda r: (r.recorded_at, r.position))

    def select(self, statement: str, params: Any = (), kinds: Any = None) -> list[tuple[Any, ...]]:
        after = (params[-2], params[-1]) if "(recorded_at, position) >" in statement else None
        found = [r for r in self.rows if after is None or (r.recorded_at, r.position) > after]
        return [msgspec.structs.astuple(r) for r in found]

    def param(self, kind: str, value: Any) -> Any:
        return value

    @property
    def no_limit(self) -> str:
        return "-1"

    @property
    def dialect(self) -> Literal["sqlite", "postgresql"]:
        return "sqlite"


def test_a_commands_events_are_one_action_and_each_command_its_own() -> None:
    # Given a save of three events (one request, one cause, one instant), then two saves
    # sharing an instant, then an event nothing says the command of
    t = micros(AT)

    def row(position: int, request: str | None, cause: str | None, at: int = t) -> AuditRow:
        return AuditRow(position, "alice", at, request, cause, "X", str(uuid4()), 1)

    rows = _Rows(
        [
            row(1, "r-1", "c-1"),
            row(2, "r-1", "c-1"),
            row(3, "r-1", "c-1"),
            row(4, "r-2", "c-2"),
            row(5, "r-3", "c-3"),
            row(6, None, None, t + 1),
            row(7, None, None, t + 1),
        ]
    )
    # When they are gathered two at a time
    first, more = actions(rows, "alice", Span(), after=None, limit=2)  # type: ignore[arg-type]
    # Then the save is one action, the next save another, and more follow
    assert [[e.position for e in a.events] for a in first] == [[1, 2, 3], [4]]
    assert more
    rest, more = actions(rows, "alice", Span(), after=first[-1].key, limit=10)  # type: ignore[arg-type]
    assert [[e.position for e in a.events] for a in rest] == [[5], [6], [7]]
    assert not more
