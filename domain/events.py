"""The base of every domain event and the registry of their stable type names.

Events are msgspec Structs. Each has a stable type name (its class name) and a
``class_version``; the stored topic is ``Name`` for version 1 and ``Name@vN``
after, so a refactor that moves a module never breaks stored history and an
upcaster can bring old payloads forward (``upcast_vN_vN1`` static methods).

``originator_id``, ``originator_version``, ``recorded_at`` and who caused the event
(``by``, ``request_id``, ``causation_id``) are stamped by the application when the
events of a decision are saved; domain functions return events without them.

``DomainEvent`` is any event, as the store and the log see them; each aggregate's events
derive from ``domain.aggregate.Event[ItsState]``, which says how they change that state.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from typing import Any, ClassVar
from uuid import UUID, uuid5

import msgspec

NIL = UUID(int=0)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

_REGISTRY: dict[str, type[DomainEvent]] = {}


class Envelope(msgspec.Struct, frozen=True, kw_only=True):
    """What every stored event carries around its own data: which aggregate and version,
    when, and who caused it. Every ``DomainEvent`` is one; a reader that needs nothing
    else (the audit read model) can decode a stored event as ``envelope_of`` its type,
    skipping the body (upcasters change bodies, never these fields)."""

    originator_id: UUID = NIL
    originator_version: int = 0
    recorded_at: datetime = EPOCH
    # The business time the change took effect, when the command said so
    # ("sold on the 31st, recorded on the 2nd").
    effective_at: datetime | None = None
    # Who did it (a login, ``cli:<os user>``, ``system:<process>``), the request it came
    # with, and what caused it (the command's id, or the event a process reacted to):
    # stamped with the rest when the decision is saved.
    by: str | None = None
    request_id: str | None = None
    causation_id: str | None = None

    type_name: ClassVar[str] = "Envelope"


class DomainEvent(Envelope, frozen=True, kw_only=True):
    class_version: ClassVar[int] = 1
    type_name: ClassVar[str] = "DomainEvent"
    # A class that says `abstract = True` in its own body is a base, not stored; its
    # subclasses (which inherit the attribute) are concrete events all the same.
    abstract: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        name = cls.__dict__.get("type_name", cls.__name__)
        cls.type_name = name
        if cls.__dict__.get("abstract", False):
            return  # a base of other events, never stored itself
        if name in _REGISTRY and _REGISTRY[name] is not cls:
            raise TypeError(f"event type name {name!r} is used twice")
        _REGISTRY[name] = cls

    @property
    def occurred_at(self) -> datetime:
        """When the change took effect in business terms."""
        return self.effective_at or self.recorded_at


ENVELOPE_FIELDS = frozenset(Envelope.__struct_fields__)


@cache
def envelope_of(cls: type[DomainEvent]) -> type[Envelope]:
    """The envelope of ``cls``'s events alone: decoding a stored event as it reads the
    envelope fields and skips the rest, and it keeps the event's ``type_name``."""
    name = cls.type_name
    return type(f"{name}Envelope", (Envelope,), {"type_name": name, "__module__": __name__})


# An event's id derives from (aggregate id, version): stable across resends and replays.
_EVENT_ID_NAMESPACE = UUID("a3c1f0de-54b2-4f6e-8d1e-2f4b7c9e0a11")


def event_id(aggregate_id: UUID, version: int) -> UUID:
    return uuid5(_EVENT_ID_NAMESPACE, f"{aggregate_id}:{version}")


def event_class(type_name: str) -> type[DomainEvent]:
    try:
        return _REGISTRY[type_name]
    except KeyError:
        raise LookupError(f"unknown event type {type_name!r}") from None


def registered_event_types() -> dict[str, type[DomainEvent]]:
    return dict(_REGISTRY)


def topic_of(cls: type[DomainEvent], version: int | None = None) -> str:
    """The stored topic of ``cls`` at ``version`` (default: its current ``class_version``)."""
    version = cls.class_version if version is None else version
    return cls.type_name if version == 1 else f"{cls.type_name}@v{version}"


@cache
def parse_topic(topic: str) -> tuple[type[DomainEvent], int]:
    # Cached: a replay parses the same few dozen topics hundreds of thousands of times.
    name, _, version = topic.partition("@v")
    return event_class(name), int(version) if version else 1


def payload(event: DomainEvent) -> dict[str, Any]:
    """The event's own data, without the envelope, as JSON-ready builtins."""
    data: dict[str, Any] = json_ready(event)
    return {k: v for k, v in data.items() if k not in ENVELOPE_FIELDS}


def json_ready(value: Any) -> Any:
    """``value`` as JSON-ready builtins, each decimal written out in full (``"0.000000005682"``,
    never Python's ``"5.682E-9"``): decimals leave us in the form requests take."""
    return _in_full(msgspec.to_builtins(value, builtin_types=(Decimal,)))


def _in_full(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dict):
        return {key: _in_full(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_in_full(item) for item in value]
    return value
