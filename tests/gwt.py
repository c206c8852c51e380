"""Given / When / Then for pure domain behaviour.

    given(created, moved).when(lambda opp: move_to_stage(opp, SALES, "proposal"))
        .then(OpportunityMovedToStage(stage="proposal", previous_stage="qualification"))

``then`` compares the decided events (without envelope: id, version, times);
``then_raises`` checks the refusal and its sentence.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from uuid import UUID

import pytest

from domain.aggregate import fold
from domain.errors import DomainError
from domain.events import DomainEvent, payload

Decision = Sequence[DomainEvent] | Mapping[UUID, Sequence[DomainEvent]]


def _comparable(events: Sequence[DomainEvent]) -> list[tuple[str, dict[str, Any]]]:
    return [(type(e).type_name, payload(e)) for e in events]


class When:
    def __init__(self, state: Any, decide: Callable[[Any], Decision]) -> None:
        self.state = state
        self.decide = decide

    def then(self, *expected: DomainEvent) -> list[DomainEvent]:
        decided = self.decide(self.state)
        assert not isinstance(decided, Mapping), "use then_changes for multi-aggregate decisions"
        assert _comparable(decided) == _comparable(expected)
        return list(decided)

    def then_changes(self, expected: Mapping[UUID, Sequence[DomainEvent]]) -> None:
        decided = self.decide(self.state)
        assert isinstance(decided, Mapping)
        assert {k: _comparable(v) for k, v in decided.items()} == {
            k: _comparable(v) for k, v in expected.items()
        }

    def then_raises(self, error: type[DomainError], match: str | None = None) -> DomainError:
        with pytest.raises(error, match=re.escape(match) if match else None) as caught:
            self.decide(self.state)
        return caught.value

    def then_state(self) -> Any:
        decided = self.decide(self.state)
        assert not isinstance(decided, Mapping)
        return fold(self.state, decided)


class Given:
    def __init__(self, events: Sequence[DomainEvent]) -> None:
        self.state = fold(None, events)

    def when(self, decide: Callable[[Any], Decision]) -> When:
        return When(self.state, decide)


def given(*events: DomainEvent) -> Given:
    return Given(events)
