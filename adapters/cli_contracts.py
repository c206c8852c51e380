"""``crmledger tick``: fire the contract timers due by an instant (operations, backfills)."""

from __future__ import annotations

import argparse
from datetime import UTC, date, datetime

from adapters.bootstrap import bootstrap
from adapters.settings import Settings


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


def tick_command(settings: Settings, args: argparse.Namespace) -> int:
    services = bootstrap(settings)
    try:
        process = services.contracts_process()
        # Sales not processed yet make contracts (and timers) first.
        process.catch_up()
        fired = process.tick(args.until)
        # A renewal sold meanwhile, or contracts of what the timers opened: process again.
        process.catch_up()
    finally:
        services.close()
    print(f"fired {fired} contract timer(s) due by {args.until.isoformat()}")
    return 0


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    tick = sub.add_parser(
        "tick", help="fire every contract timer (renewal due, expiry) due by an instant"
    )
    tick.add_argument(
        "--until",
        type=parse_instant,
        required=True,
        help="a date (its midnight UTC) or an ISO 8601 instant with an offset",
    )
    tick.set_defaults(run=tick_command)
