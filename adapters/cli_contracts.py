"""``crmledger tick``: fire the contract timers and the task reminders due by an instant
(operations, backfills); the notifications process sends what the log calls for too.

A tick writes events for good: they are appended to the log and never undone. So it
lists every contract it changed, and ``--dry-run`` shows what it would fire without
writing anything. The contracts are its records (``--format``); the sentences saying
what happened go above the table, or to stderr under JSON or CSV.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

from adapters.bootstrap import Services, bootstrap
from adapters.cli_output import Printed, Table, add_format_option, emit
from adapters.event_store.store import SalesEventStore
from adapters.settings import Settings
from commands.bus import CommandBus
from commands.ports import TimerChanges
from commands.tasks import TASKS_PROCESS
from domain import contract as contracts
from domain.events import DomainEvent
from domain.notification import NotificationSent
from domain.opportunity import OpportunityCreated
from processes.contracts import TOPICS, ContractsProcess
from processes.notifications import NotificationsProcess
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
        self.reminders = 0

    def save(self, events: Sequence[DomainEvent], **kwargs: Any) -> int:
        position = super().save(events, **kwargs)
        # Only once the save committed: a lost race raised above and changed nothing.
        self.saved.extend(events)
        timers = kwargs.get("timers")
        if isinstance(timers, TimerChanges):
            self.fired.extend(timers.fired)
            # Task reminders only: the automations' idle timers are counted by their process.
            self.reminders += sum(p == TASKS_PROCESS for p, _, _ in timers.process_fired)
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


def _contracts(said: dict[UUID, list[str]], store: SalesEventStore) -> list[dict[str, Any]]:
    """Each contract with what happened to it (or would), in order: its record."""
    names = _names(store, said)
    return [
        {"id": str(cid), "name": names[cid], "changes": changes} for cid, changes in said.items()
    ]


def changed_contracts(saved: Sequence[DomainEvent], store: SalesEventStore) -> list[dict[str, Any]]:
    """Every contract the saved events changed, in the order they changed it: its id,
    name and each change in words."""
    said: dict[UUID, list[str]] = {}
    for event in saved:
        change = _contract_change(event)
        if change is not None:
            said.setdefault(event.originator_id, []).append(change)
    return _contracts(said, store)


# What a tick's answer counts, by the name it prints for each.
KINDS: dict[str, tuple[str, type[DomainEvent]]] = {
    "made": ("made from sales", contracts.ContractCreated),
    "amended": ("amended", contracts.ContractAmended),
    "renewal_due": ("fell due for renewal", contracts.ContractRenewalDue),
    "expired": ("expired", contracts.ContractExpired),
    "renewed": ("renewed", contracts.ContractRenewed),
    "renewal_withdrawn": ("renewal withdrawn", contracts.ContractRenewalWithdrawn),
    "cancelled": ("cancelled", contracts.ContractCancelled),
}


def _counts(saved: Sequence[DomainEvent]) -> dict[str, int]:
    """How many contracts each kind of change touched, and the renewal opportunities opened."""
    counts = {key: sum(isinstance(e, kind) for e in saved) for key, (_, kind) in KINDS.items()}
    counts["renewal_opportunities_opened"] = sum(
        isinstance(e, OpportunityCreated) and e.renews_contract_id is not None for e in saved
    )
    return counts


def _summary(counts: dict[str, int]) -> str:
    """The kinds of change that happened, in words."""
    parts = [f"{counts[key]} {words}" for key, (words, _) in KINDS.items() if counts[key]]
    if counts["renewal_opportunities_opened"]:
        parts.append(f"{counts['renewal_opportunities_opened']} renewal opportunity(ies) opened")
    return ", ".join(parts) or "no contract changed"


def _printed(document: dict[str, Any], notes: list[str], title: str) -> Printed:
    """A tick's answer: the contracts are its records; the sentences its notes."""
    rows = [{**c, "changes": "; ".join(c["changes"])} for c in document["contracts"]]
    tables = [Table(rows, ("id", "name", "changes"), title)] if rows else []
    return Printed(
        document=document,
        records=rows,
        tables=tables,
        notes=notes,
        header=("id", "name", "changes"),
    )


def _tick(services: Services, until: datetime) -> Printed:
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
    # The automations those and the log trigger, and their idle timers due.
    from adapters.automations_runner import tick_automations  # noqa: PLC0415

    idle_fired = tick_automations(services, bus, until)
    # Then the notifications those and the log call for, and the reminders due.
    notifying = NotificationsProcess(services.event_log, bus, store)
    notifying.catch_up()
    notifying.tick(until)
    notifying.catch_up()
    sent = sum(isinstance(e, NotificationSent) for e in store.saved)
    when = until.isoformat()
    changed = changed_contracts(store.saved, store)
    counts = _counts(store.saved)
    document = {
        "dry_run": False,
        "until": when,
        "timers": len(store.fired),
        "idle_timers": idle_fired,
        "reminders": store.reminders,
        "notifications": sent,
        "processed": processed,
        "events": len(store.saved),
        "counts": counts,
        "contracts": changed,
    }
    if not store.saved and not store.fired and not store.reminders and not idle_fired:
        notes = [
            f"crmledger tick: nothing was due by {when} and no sale was waiting; "
            "nothing was written."
        ]
        return _printed(document, notes, "")
    notes = [
        f"crmledger tick: fired {len(store.fired)} contract timer(s) and {idle_fired} "
        f"automation idle timer(s) due by {when} and "
        f"processed {processed} waiting sale(s) or closing(s): {_summary(counts)}.",
        f"It sent {store.reminders} task reminder(s) due by {when} and {sent} "
        "notification(s) in all.",
        f"These {len(store.saved)} event(s) are permanent: they were appended to the log "
        "and are never undone (a later event can only follow them).",
    ]
    return _printed(document, notes, f"Contracts changed ({len(changed)}):")


def _dry_run(services: Services, until: datetime) -> Printed:
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
    log = services.event_log
    waiting = sum(
        1 for _ in events_between(log, store.tracked_position(), log.last_position(), TOPICS)
    )
    when = until.isoformat()
    reminders = len(store.due_process_timers(TASKS_PROCESS, until, DRY_RUN_LIMIT))
    document = {
        "dry_run": True,
        "until": when,
        "timers": len(timers),
        "reminders": reminders,
        "waiting": waiting,
        "contracts": _contracts(said, store),
    }
    notes = [
        f"crmledger tick --dry-run: nothing was written. A tick to {when} would fire "
        f"{len(timers)} contract timer(s) on {len(said)} contract(s) and {reminders} task "
        "reminder(s); the events it appends are permanent (never undone).",
        (
            f"Not listed: {waiting} sale(s) or closing(s) of opportunities not yet processed "
            "by the contracts process manager. A tick processes them first; the contracts "
            "they make, amend, renew or cancel, and the timers those bring due, would change "
            "this list."
        )
        if waiting
        else (
            "No sale or closing waits to be processed, so this is all a tick to then would "
            "change, unless something is recorded first."
        ),
    ]
    return _printed(document, notes, f"Contracts it would change ({len(said)}):")


def tick_command(settings: Settings, args: argparse.Namespace) -> int:
    services = bootstrap(settings)
    try:
        printed = (_dry_run if args.dry_run else _tick)(services, args.until)
    finally:
        services.close()
    emit(printed, args.format)
    return 0


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    tick = sub.add_parser(
        "tick",
        help="fire every contract timer (renewal due, expiry) and task reminder due by an "
        "instant, and send the notifications waiting; the events "
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
    add_format_option(tick, "a row per contract changed, or that would be")
    tick.set_defaults(run=tick_command)
