"""How every event changes the audit slice: a row saying who caused it, in which request,
caused by what, when — for every event type, since every command writes some. It reads
only the events' envelopes (``AuditSlice.reads_bodies``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

# Every module that defines events, so that the registry below holds them all.
from domain import (  # noqa: F401
    account,
    automation,
    baseline,
    bundle,
    campaign,
    contact,
    contract,
    exchange_rates,
    lead,
    lead_routing,
    notification,
    opportunity,
    pipeline,
    price_book,
    product,
    quote,
    targets,
    task,
    user,
    webhook,
)
from domain.events import DomainEvent, Envelope, registered_event_types
from readmodels.values import micros


class AuditLog:
    """The rows applied since the last flush (nothing else is kept: rows never change)."""

    def __init__(self) -> None:
        self.rows: list[tuple[Any, ...]] = []


def _recorded(state: AuditLog, e: Envelope, position: int, key: str) -> None:
    # ``e`` is the event's envelope alone (``envelope_of``), or the whole event when it was
    # decoded for another slice: the same fields either way.
    if e.by is None:
        return  # recorded before events said who caused them: no one to list it under
    state.rows.append(
        (
            position,
            e.by,
            micros(e.recorded_at),
            e.request_id,
            e.causation_id,
            type(e).type_name,
            key,
            e.originator_version,
        )
    )


HANDLERS: Mapping[type[DomainEvent], Callable[[AuditLog, Any, int, str], None]] = dict.fromkeys(
    registered_event_types().values(), _recorded
)
