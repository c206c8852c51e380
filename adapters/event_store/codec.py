"""Events as stored: msgspec JSON under stable type names, upcast on the way back.

``EventMapper`` encodes events with msgspec under stable type names (never Python
module paths) and upcasts old ``class_version`` payloads; personal fields are sealed
under their subject's key.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any, TypeVar
from uuid import UUID

import msgspec
from eventsourcing.persistence import Mapper, StoredEvent

from adapters.personal_data import PersonalDataVault
from domain.events import DomainEvent, Envelope, envelope_of, parse_topic, topic_of

_encoder = msgspec.json.Encoder()


E = TypeVar("E", bound=DomainEvent)


@cache
def _decoder(cls: type[DomainEvent]) -> msgspec.json.Decoder[DomainEvent]:
    return msgspec.json.Decoder(cls)


@cache
def envelope_decoder(topic: str) -> Callable[[bytes], Envelope]:
    """Decodes only the envelope of a stored event of ``topic`` (its body skipped, not
    converted): the same at every stored version, since upcasters change only bodies."""
    return msgspec.json.Decoder(envelope_of(parse_topic(topic)[0])).decode


@cache
def event_decoder(topic: str) -> Callable[[bytes], DomainEvent]:
    """Decodes a stored event of ``topic`` (upcast when stored at an older version)."""
    cls, stored_version = parse_topic(topic)
    if stored_version == cls.class_version:
        return _decoder(cls).decode
    return lambda state: event_from_data(cls, stored_version, msgspec.json.decode(state))


def encode_event(event: DomainEvent) -> bytes:
    return _encoder.encode(event)


def decode_event(topic: str, state: bytes) -> DomainEvent:
    cls, stored_version = parse_topic(topic)
    if stored_version == cls.class_version:
        return _decoder(cls).decode(state)
    return event_from_data(cls, stored_version, msgspec.json.decode(state))


def event_from_data(cls: type[E], stored_version: int, data: dict[str, Any]) -> E:
    """The event from its JSON builtins as stored at ``stored_version``, upcast to now
    (changes ``data``)."""
    for version in range(stored_version, cls.class_version):
        getattr(cls, f"upcast_v{version}_v{version + 1}")(data)
    return msgspec.convert(data, cls)


class EventMapper(Mapper[UUID]):
    """msgspec instead of the library's JSON transcoder (which refuses dates and
    turns tuples into lists), with stable topics; personal data sealed under its
    subject's key (``adapters.personal_data``); the library's compression and
    whole-payload encryption still apply when configured."""

    vault: PersonalDataVault

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        assert isinstance(domain_event, DomainEvent)
        state = encode_event(self.vault.seal(domain_event))
        if self.compressor:
            state = self.compressor.compress(state)
        if self.cipher:
            state = self.cipher.encrypt(state)
        return StoredEvent(
            originator_id=domain_event.originator_id,
            originator_version=domain_event.originator_version,
            topic=topic_of(type(domain_event)),
            state=state,
        )

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        return self.vault.reveal(self.sealed_event(stored_event.topic, stored_event.state))

    def sealed_event(self, topic: str, state: bytes) -> DomainEvent:
        """The event as stored: personal fields null, ``sealed`` holding them."""
        if self.cipher:
            state = self.cipher.decrypt(state)
        if self.compressor:
            state = self.compressor.decompress(state)
        return decode_event(topic, state)
