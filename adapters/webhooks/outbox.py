"""The webhooks process: the outbox, fed from the log.

It follows the log from its own tracking position (process ``webhooks``) and, for each
event and each webhook that was registered, enabled and not deleted as of that event's
position and asks for its type, writes a delivery row: the Kafka envelope as JSON (the
relay's ``envelope``), pending, due now. The rows of a batch and the batch's last
position are one save (``SalesEventStore.save(outbox=…, tracking=…)``: the recorder
writes them in the events' transaction), so a crash between the two cannot happen: a
restart writes the rows of exactly the events not yet tracked. Two processes writing the
same row are harmless (one row per webhook and event).

Which webhooks stood as of a position is this process's own state: on start it folds the
webhook events up to its tracked position, then applies each one as it passes it (after
matching it: a webhook is sent the events after its registration).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from typing import get_args
from uuid import UUID

import msgspec
import structlog

from adapters.event_store.log import EventLog
from adapters.event_store.store import SalesEventStore
from adapters.event_store.webhook_tables import OutboxRow
from adapters.kafka_relay import envelope
from commands.ports import ConcurrentWrite
from domain.aggregate import replay
from domain.events import parse_topic, topic_of
from domain.webhook import Webhook, WebhookEvent
from readmodels.log import LogRow, events_between

log = structlog.get_logger("crmledger.webhooks")

PROCESS = "webhooks"
WEBHOOK_TOPICS = frozenset(topic_of(cls) for cls in get_args(WebhookEvent))
_encode = msgspec.json.Encoder().encode


class WebhookOutbox:
    def __init__(
        self, store: SalesEventStore, now: Callable[[], datetime], *, batch: int = 500
    ) -> None:
        self.store = store
        self.events = EventLog(store.app)
        self.now = now
        self.batch = batch
        self.position = 0
        self.webhooks: dict[UUID, Webhook] = {}
        self._reload()

    def _reload(self) -> None:
        """The tracked position, and the webhooks as they stood there."""
        self.position = self.store.tracked_position(PROCESS)
        self.webhooks = {}
        for logged in events_between(self.events, 0, self.position, WEBHOOK_TOPICS, window=10_000):
            self._apply(self.events.decode(logged))

    def _apply(self, event: object) -> None:
        assert isinstance(event, get_args(WebhookEvent))
        state = replay(self.webhooks.get(event.originator_id), [event])
        assert isinstance(state, Webhook)
        self.webhooks[state.id] = state

    def catch_up(self) -> int:
        """Write the deliveries of one batch of events after the tracked position, with the
        position; return how many events it read."""
        rows = self.store.recorder.select_log_rows(self.position, self.batch, None, ())
        if not rows:
            return 0
        due = self.now().timestamp()
        outbox: list[OutboxRow] = []
        for row in rows:
            outbox += self._deliveries(row, due)
            if row.topic in WEBHOOK_TOPICS:
                self._apply(self.events.decode(row))
        try:
            self.store.save([], tracking=rows[-1].id, process=PROCESS, outbox=outbox)
        except ConcurrentWrite:
            # Another webhooks process tracked this far meanwhile; start again from there.
            self._reload()
            return 0
        self.position = rows[-1].id
        return len(rows)

    def _deliveries(self, row: LogRow, due: float) -> list[OutboxRow]:
        type_name = parse_topic(row.topic)[0].type_name
        wanting = [
            w
            for w in self.webhooks.values()
            if not (w.deleted or w.disabled) and w.wants(type_name)
        ]
        if not wanting:
            return []
        sent = envelope(self.events, row)
        body = _encode(sent)
        return [
            OutboxRow(
                webhook_id=str(w.id),
                event_id=str(sent.event_id),
                position=row.id,
                aggregate_id=row.originator_id,
                event_type=type_name,
                body=body,
                next_attempt_at=due,
            )
            for w in wanting
        ]

    def run(
        self,
        stop: threading.Event,
        *,
        poll_interval: float = 0.2,
        healthy: Callable[[], None] = lambda: None,
    ) -> None:
        while not stop.is_set():
            busy = self.catch_up() > 0
            healthy()
            if not busy:
                stop.wait(poll_interval)
