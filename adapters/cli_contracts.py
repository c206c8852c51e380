"""``crmledger tick``: fire the contract timers due by an instant (operations, backfills).

A tick writes events for good: they are appended to the log and never undone. So it
lists every contract it changed, and ``--dry-run`` shows what it would fire without
writing anything.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any, TextIO
from uuid import UUID

from adapters.bootstrap import Services, bootstrap
from adapters.event_store.store import SalesEventStore
from adapters.settings import Settings
from commands.bus import CommandBus
from commands.ports import TimerChanges
from domain import contract as contracts
from domain.events import DomainEvent
from domain.opportunity import OpportunityCreated
from processes.contracts import TOPICS, ContractsProcess
from readmodels.log import events_between

# Timers listed by a dry run; far more than any store holds due at once.
DRY_RUN_LIMIT = 1_000_000


def parse_instant(text: str) -> datetime:
    """An ISO 8601 instant with an offset, or a date (its midnight UTC)."""
    value = text.strip()
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), datetime.min.time(), tzinfo=UTC)
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is neither a date (2027-03-31) nor an instant (2027-03-31T18:00:00Z)"
        ) from None
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(
            f"{text!r} has no UTC offset; write e.g. 2027-03-31T18:00:00Z"
        )
    return moment


class RecordingStore(SalesEventStore):
    """The services' store (the same application and connections), noting every event
    and timer firing its saves committed: what the tick changed, exactly, even when
    another process writes to the log at the same time."""

    def __init__(self, store: SalesEventStore) -> None:
        super().__init__(store.app)
        self.saved: list[DomainEvent] = []
        self.fired: list[tuple[UUID, str]] = []

    def save(self, events: Sequence[DomainEvent], **kwargs: Any) -> int:
        position = super().save(events, **kwargs)
        # Only once the save committed: a lost race raised above and changed nothing.
        self.saved.extend(events)
        timers = kwargs.get("timers")
        if isinstance(timers, TimerChanges):
            self.fired.extend(timers.fired)
        return position


def _contract_change(event: DomainEvent) -> str | None:
    """What an event did to its contract, in words; None for events of other aggregates."""
    if isinstance(event, contracts.ContractCreated):
        end = f" to {event.end}" if event.end else ""
        return (
            f"made from the sale of opportunity {event.opportunity_id} "
            f"({event.contract_kind.replace('_', '-')}, {event.value}, {event.start}{end})"
        )
    if isinstance(event, contracts.ContractAmended):
        return f"amended by a new sale of its opportunity ({event.value})"
    if isinstance(event, contracts.ContractRenewalDue):
        return (
            f"fell due for renewal on {event.due_on}, renewal opportunity "
            f"{event.renewal_opportunity_id} opened"
        )
    if isinstance(event, contracts.ContractExpired):
        return f"expired on {event.expired_on}"
    if isinstance(event, contracts.ContractRenewed):
        return f"renewed by the sale of opportunity {event.renewal_opportunity_id}"
    if isinstance(event, contracts.ContractRenewalWithdrawn):
        now = "due for renewal again" if event.status == "renewal_due" else "expired"
        return (
            f"renewal by opportunity {event.renewal_opportunity_id} withdrawn "
            f"({event.reason}): {now}"
        )
    if isinstance(event, contracts.ContractCancelled):
        return f"cancelled: {event.reason}"
    if isinstance(event, contracts.ContractFulfilled):
        return "fulfilled"
    if type(event).__name__.startswith("contracts.Contract"):
        return type(event).__name__.removeprefix("contracts.Contract").lower()  # a kind added later
    return None


def _names(store: SalesEventStore, contract_ids: Iterable[UUID]) -> dict[UUID, str]:
    names: dict[UUID, str] = {}
    for contract_id in contract_ids:
        contract = store.load(contract_id)
        names[contract_id] = contract.name if isinstance(contract, contracts.Contract) else "?"
    return names


def report_changes(saved: Sequence[DomainEvent], store: SalesEventStore) -> list[str]:
    """One line per contract the saved events changed, in the order they changed:
    ``<id>  <name>: <change>; <change>``."""
    changes: dict[UUID, list[str]] = {}
    for event in saved:
        said = _contract_change(event)
        if said is not None:
            changes.setdefault(event.originator_id, []).append(said)
    names = _names(store, changes)
    return [f"{cid}  {names[cid]}: {'; '.join(said)}" for cid, said in changes.items()]


def _summary(saved: Sequence[DomainEvent]) -> str:
    """How many contracts each kind of change touched (the kinds that happened)."""
    said = {
        "made from sales": contracts.ContractCreated,
        "amended": contracts.ContractAmended,
        "fell due for renewal": contracts.ContractRenewalDue,
        "expired": contracts.ContractExpired,
        "renewed": contracts.ContractRenewed,
        "renewal withdrawn": contracts.ContractRenewalWithdrawn,
        "cancelled": contracts.ContractCancelled,
    }
    parts = [
        f"{n} {what}"
        for what, kind in said.items()
        if (n := sum(isinstance(e, kind) for e in saved))
    ]
    openings = sum(
        isinstance(e, OpportunityCreated) and e.renews_contract_id is not None for e in saved
    )
    if openings:
        parts.append(f"{openings} renewal opportunity(ies) opened")
    return ", ".join(parts) or "no contract changed"


def _tick(services: Services, until: datetime, out: TextIO) -> None:
    settings = services.settings
    store = RecordingStore(services.store)
    bus = CommandBus(
        store,
        services.clock,
        handlers=services.bus.handlers,
        reporting_currency=settings.reporting_currency,
        phone_region=settings.phone_region,
        retries=settings.command_retries,
    )
    process = ContractsProcess(
        services.event_log, bus, store, notice_days=settings.renewal_notice_days
    )
    # Sales not processed yet make contracts (and timers) first.
    processed = process.catch_up()
    process.tick(until)
    # A renewal sold meanwhile, or contracts of what the timers opened: process again.
    processed += process.catch_up()
    when = until.isoformat()
    if not store.saved and not store.fired:
        print(
            f"crmledger tick: nothing was due by {when} and no sale was waiting; "
            "nothing was written.",
            file=out,
        )
        return
    print(
        f"crmledger tick: fired {len(store.fired)} contract timer(s) due by {when} and "
        f"processed {processed} waiting sale(s) or closing(s): {_summary(store.saved)}.",
        file=out,
    )
    print(
        f"These {len(store.saved)} event(s) are permanent: they were appended to the log "
        "and are never undone (a later event can only follow them).",
        file=out,
    )
    lines = report_changes(store.saved, store)
    print(f"Contracts changed ({len(lines)}):", file=out)
    for line in lines:
        print(f"  {line}", file=out)


def _dry_run(services: Services, until: datetime, out: TextIO) -> None:
    """What a tick would fire, read from the store; nothing is written.

    Read from the timers table rather than by running the real process against a throwaway
    copy of the store: a copy of the embedded store would put a second copy of the
    personal-data keys on disk (surviving a later erasure), and a PostgreSQL schema has
    no cheap copy. The list is exact while no sale or closing waits to be processed:
    firing a timer never brings another one due (after the renewal notice only the
    contract's expiry is left, and it is listed already). Waiting events are counted, and
    the output says that what they would change is not listed.
    """
    store = services.store
    notice = timedelta(days=services.settings.renewal_notice_days)
    timers: list[contracts.Timer] = store.due_timers(until, DRY_RUN_LIMIT)
    said: dict[UUID, list[str]] = {}
    for timer in timers:
        contract = store.load(timer.contract_id)
        end = contract.end if isinstance(contract, contracts.Contract) else None
        if timer.kind == "renewal_due":
            on = end - notice if end is not None else timer.due_at.date()
            change = (
                f"would fall due for renewal on {on} and open renewal opportunity "
                f"{contracts.renewal_opportunity_id_for(timer.contract_id)}"
            )
        else:
            change = f"would expire on {end or timer.due_at.date()}"
        said.setdefault(timer.contract_id, []).append(change)
    names = _names(store, said)
    log = services.event_log
    waiting = sum(
        1 for _ in events_between(log, store.tracked_position(), log.last_position(), TOPICS)
    )
    when = until.isoformat()
    print(
        f"crmledger tick --dry-run: nothing was written. A tick to {when} would fire "
        f"{len(timers)} contract timer(s) on {len(said)} contract(s); the events it appends "
        "are permanent (never undone).",
        file=out,
    )
    if said:
        print(f"Contracts it would change ({len(said)}):", file=out)
    for contract_id, changes in said.items():
        print(f"  {contract_id}  {names[contract_id]}: {'; '.join(changes)}", file=out)
    if waiting:
        print(
            f"Not listed: {waiting} sale(s) or closing(s) of opportunities not yet processed "
            "by the contracts process manager. A tick processes them first; the contracts "
            "they make, amend, renew or cancel, and the timers those bring due, would change "
            "this list.",
            file=out,
        )
    else:
        print(
            "No sale or closing waits to be processed, so this is all a tick to then would "
            "change, unless something is recorded first.",
            file=out,
        )


def tick_command(settings: Settings, args: argparse.Namespace) -> int:
    services = bootstrap(settings)
    try:
        if args.dry_run:
            _dry_run(services, args.until, sys.stdout)
        else:
            _tick(services, args.until, sys.stdout)
    finally:
        services.close()
    return 0


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    tick = sub.add_parser(
        "tick",
        help="fire every contract timer (renewal due, expiry) due by an instant; the events "
        "it writes are permanent (--dry-run first to see them)",
    )
    tick.add_argument(
        "--until",
        type=parse_instant,
        required=True,
        help="a date (its midnight UTC) or an ISO 8601 instant with an offset",
    )
    tick.add_argument(
        "--dry-run",
        action="store_true",
        help="list what the tick would change and write nothing",
    )
    tick.set_defaults(run=tick_command)
