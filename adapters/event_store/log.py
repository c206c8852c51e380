"""The projections' ``NotificationLog`` port on the eventsourcing application."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from datetime import datetime
from typing import Any

import msgspec

from adapters.event_store.application import SalesLog
from adapters.event_store.codec import (
    EventMapper,
    decode_event,
    envelope_decoder,
    event_decoder,
)
from adapters.event_store.postgres import PostgresSalesRecorder
from adapters.event_store.sqlite import SQLiteSalesRecorder
from domain.events import DomainEvent, Envelope
from readmodels.log import LogRow


class _Stamp(msgspec.Struct):
    """The one envelope field an instant-to-position scan needs (others are skipped)."""

    recorded_at: datetime


_stamp_decoder = msgspec.json.Decoder(_Stamp)


class EventLog:
    """The projections' ``NotificationLog`` port on the sales application."""

    def __init__(self, app: SalesLog) -> None:
        self.app = app

    def read(
        self, after: int, limit: int, *, up_to: int | None = None, topics: Collection[str] = ()
    ) -> Sequence[LogRow]:
        recorder = self.app.recorder
        assert isinstance(recorder, SQLiteSalesRecorder | PostgresSalesRecorder)
        return recorder.select_log_rows(after, limit, up_to, topics)

    def decode(self, logged: Any) -> DomainEvent:
        """The event as stored: projectors never see personal data, only its sealed form."""
        mapper = self.app.mapper
        if mapper.cipher is None and mapper.compressor is None:
            # The mapper's own path, minus two calls per event of a rebuild.
            return decode_event(logged.topic, logged.state)
        assert isinstance(mapper, EventMapper)
        return mapper.sealed_event(logged.topic, logged.state)

    def decoder(self, topic: str, *, body: bool = True) -> Callable[[Any], Envelope]:
        """How an event of ``topic`` is decoded: as ``decode`` does, or (``body`` False)
        only its envelope. One function per topic, made once: a rebuild calls it a
        million times."""
        mapper = self.app.mapper
        decode = event_decoder(topic) if body else envelope_decoder(topic)
        if mapper.cipher is None and mapper.compressor is None:
            return lambda logged: decode(logged.state)
        if body:
            return self.decode
        return lambda logged: decode(self._plain(logged.state))

    def recorded_at(self, logged: Any) -> datetime:
        return _stamp_decoder.decode(self._plain(logged.state)).recorded_at

    def _plain(self, state: bytes) -> bytes:
        """The stored bytes decrypted and decompressed (when the store is configured so)."""
        mapper = self.app.mapper
        if mapper.cipher:
            state = mapper.cipher.decrypt(state)
        if mapper.compressor:
            state = mapper.compressor.decompress(state)
        return state

    def last_position(self) -> int:
        return self.app.recorder.max_notification_id() or 0
