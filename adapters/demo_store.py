"""Which store the demo may replace: only one whose events are an earlier demo's.

The demo records, beside the store (``.demo-store``), its last log position and a
SHA-256 of the rows up to it. A rerun compares the log with that record and replaces
the store only when those rows are unchanged and every later event is one that time
alone made of the demo's contracts (renewals falling due with their renewal
opportunities, expiries) or an API token made for (or revoked from) a demo user;
anything else was written by someone, and stays.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterable, Iterator
from typing import TextIO

import msgspec

from adapters.bootstrap import bootstrap
from adapters.event_store.log import EventLog
from adapters.settings import Settings
from adapters.store_lock import StoreLock
from domain.contract import ContractExpired, ContractRenewalDue, renewal_opportunity_id_for
from domain.events import DomainEvent, parse_topic
from domain.notification import NotificationSent
from domain.opportunity import OpportunityCreated
from domain.user import ApiTokenIssued, ApiTokensRevoked
from readmodels.log import LogRow

MARKER = ".demo-store"


class DemoStoreInUse(Exception):
    pass


class DemoRecord(msgspec.Struct, frozen=True, kw_only=True):
    """What the demo wrote, kept beside the store (``MARKER``): a rerun compares the log
    with it to know that the store holds nothing but an earlier demo."""

    made_by: str = "crmledger demo"
    last_position: int
    sha256: str  # of the log's rows up to ``last_position``


# What time alone does to the demo's contracts once it has ended (``serve`` ticks on the
# real clock): renewals fall due, each opening its renewal opportunity, and contracts
# expire. Anything else after the demo's last event was written by someone.
# Tokens made for the demo's users are credentials, not data: a store whose demo users
# got tokens is still only the demo.
_STILL_A_DEMO = frozenset(
    {
        ContractRenewalDue.type_name,
        ContractExpired.type_name,
        ApiTokenIssued.type_name,
        ApiTokensRevoked.type_name,
        # What the notifications process tells of those (a contract falling due).
        NotificationSent.type_name,
    }
)


def digest(rows: Iterable[LogRow]) -> str:
    digest = hashlib.sha256()
    for row in rows:
        digest.update(
            f"{row.id}|{row.originator_id}|{row.originator_version}|{row.topic}|".encode()
        )
        digest.update(hashlib.sha256(row.state).digest())
    return digest.hexdigest()


def log_rows(events: EventLog, after: int, up_to: int) -> Iterator[LogRow]:
    while after < up_to:
        window = events.read(after, min(1000, up_to - after), up_to=up_to)
        if not window:
            return
        yield from window
        after = window[-1].id


def _written_by_someone(settings: Settings, lock: StoreLock) -> str | None:
    """Why the store is not only an earlier demo, decided from its events; None if it is."""
    store = settings.event_store_path
    marker = settings.home / MARKER
    try:
        record = msgspec.json.decode(marker.read_bytes(), type=DemoRecord)
    except (OSError, msgspec.DecodeError, msgspec.ValidationError):
        return (
            f"{store} holds data that the demo did not make (or a demo that was interrupted "
            "and may have been written to since)"
        )
    services = bootstrap(settings, lock=lock)
    try:
        events = services.event_log
        last = events.last_position()
        if (
            last < record.last_position
            or digest(log_rows(events, 0, record.last_position)) != record.sha256
        ):
            return f"{store} no longer holds the events the demo wrote there"
        for row in log_rows(events, record.last_position, last):
            cls, _ = parse_topic(row.topic)
            if cls.type_name in _STILL_A_DEMO or (
                cls is OpportunityCreated and _opened_by_a_renewal(events.decode(row))
            ):
                continue
            return (
                f"{store} holds events written after the demo (the first: {cls.type_name} "
                f"at position {row.id})"
            )
        return None
    finally:
        services.close()


def _opened_by_a_renewal(event: DomainEvent) -> bool:
    """The renewal opportunity the contracts process opens when a contract falls due: its
    id derives from the contract it renews."""
    renews = getattr(event, "renews_contract_id", None)
    return renews is not None and event.originator_id == renewal_opportunity_id_for(renews)


def prepare_home(settings: Settings, lock: StoreLock, out: TextIO) -> None:
    """Start clean: remove a previous demo store, refuse to touch anything else."""
    home = settings.home
    store = settings.event_store_path
    if not store.exists():
        return
    reason = _written_by_someone(settings, lock)
    if reason is not None:
        raise DemoStoreInUse(
            f"{reason}; the demo replaces only a store it made. Run it elsewhere with "
            "CRMLEDGER_HOME=<another directory>, or remove the store yourself."
        )
    # The read models go too: they followed the log being replaced.
    (home / MARKER).unlink()
    for path in [*home.glob("events.sqlite*"), *home.glob("readmodels*.sqlite*")]:
        path.unlink()
    shutil.rmtree(home / "documents", ignore_errors=True)
    print(f"Removed the previous demo store at {store}; starting clean.", file=out)


def record_demo(settings: Settings, events: EventLog) -> None:
    """Note beside the store what the demo wrote there (its last position, their hash)."""
    last = events.last_position()
    record = DemoRecord(last_position=last, sha256=digest(log_rows(events, 0, last)))
    (settings.home / MARKER).write_bytes(msgspec.json.encode(record))
