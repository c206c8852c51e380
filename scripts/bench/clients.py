"""Commands as a rep, with and without the token check each request makes: the client
processes of ``scripts/bench_throughput.py``."""

from __future__ import annotations

import multiprocessing
import statistics
import time
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import uuid4

COMMANDS_PER_DEAL = 7


def rate(part: dict[str, float]) -> float:
    return float(part["commands"] / part["seconds"])


@dataclass(frozen=True)
class Job:
    """What one client process does: ``deals`` deals as the rep ``login`` (with ``token``),
    in blocks of ``block`` deals of one mode."""

    settings: dict[str, Any]
    deals: int
    login: str
    token: str
    block: int


def client(job: Job, ready: Any, go: Any, out: Any) -> None:
    """One client process: ``job.deals`` deals from creation to sale, as fast as it can, as
    its rep. Blocks of deals alternate between commands run as the rep straight away and
    commands whose request first checks the rep's token (as every HTTP request does: the
    user it names, read from the store, then their rights); each mode's time is summed
    apart."""
    from adapters.bootstrap import bootstrap
    from adapters.logging import configure
    from adapters.settings import Settings
    from commands import opportunities as opp
    from commands import quotes as qt
    from commands.unit_of_work import Actor

    configure(Settings(log_level="error"))
    services = bootstrap(Settings(**job.settings))
    bus, identity = services.bus, services.identity
    login, token, deals, block = job.login, job.token, job.deals, job.block
    checked_once = identity.principal(identity.authenticate(token))
    seconds = {"plain": 0.0, "token": 0.0}
    commands = {"plain": 0, "token": 0}

    def run(command: object, mode: str, n: int) -> None:
        if mode == "token":  # what a request does before its command
            principal = identity.principal(identity.authenticate(token))
        else:
            principal = checked_once
        bus.execute(command, actor=Actor(by=login, request_id=f"r{n}", principal=principal))

    def deal(n: int, mode: str) -> None:
        oid, quote = uuid4(), uuid4()
        for command in (
            opp.CreateOpportunity(
                opportunity_id=oid,
                title=f"Bench deal {n}",
                owner=login,
                expected_close=date(2027, 6, 30),
                account_name=f"{login} account {n % 50}",
            ),
            opp.MoveOpportunityToStage(opportunity_id=oid, stage="qualification"),
            opp.MoveOpportunityToStage(opportunity_id=oid, stage="proposal"),
            qt.CreateQuote(quote_id=quote, opportunity_id=oid, name="Offer", currency="EUR"),
            qt.AddQuoteItem(
                quote_id=quote,
                item_id=uuid4(),
                name="CRM licence",
                quantity=Decimal(25),
                unit_price=Decimal("42.00"),
                kind="time_based",
                term_months=12,
                category="software",
            ),
            qt.ActivateQuote(quote_id=quote),
            opp.SellOpportunity(opportunity_id=oid),
        ):
            run(command, mode, n)

    for mode in ("plain", "token"):  # warm-up, not timed: first statements, first loads
        deal(-1, mode)
    ready.put(True)
    go.wait()
    for first in range(0, deals, block):
        # The order of the two modes swaps every block: a machine that speeds up or slows
        # down in between favours neither.
        modes = ("plain", "token") if (first // block) % 2 == 0 else ("token", "plain")
        for mode in modes:
            started = time.perf_counter()
            for n in range(first, min(first + block, deals)):
                deal(n, mode)
                commands[mode] += COMMANDS_PER_DEAL
            seconds[mode] += time.perf_counter() - started
    out.put((commands, seconds))
    services.close()


def bench_users(settings: dict[str, Any], clients: int) -> list[tuple[str, str]]:
    """The store made once (clients opening a new store at once would race), with a rep and
    an API token per client, as ``crmledger users add`` and ``users token`` make them."""
    from adapters.bootstrap import bootstrap
    from adapters.settings import Settings
    from adapters.tokens import new_token
    from commands.users import AddUser, IssueApiToken
    from domain.ids import user_id_for

    services = bootstrap(Settings(**settings))
    users = []
    for n in range(1, clients + 1):
        login = f"rep{n}"
        services.bus.execute(AddUser(login=login, role="rep"))
        token, digest = new_token(user_id_for(login))
        services.bus.execute(IssueApiToken(login=login, sha256=digest, days=30))
        users.append((login, token))
    services.close()
    return users


def run_clients(
    settings: dict[str, Any], clients: int, deals: int, block: int
) -> dict[str, dict[str, float]]:
    """Commands and seconds per mode (``plain``, ``token``), summed over the clients; wall
    time of the whole run."""
    users = bench_users(settings, clients)
    ctx = multiprocessing.get_context("spawn")
    ready, out, go = ctx.Queue(), ctx.Queue(), ctx.Event()
    procs = [
        ctx.Process(target=client, args=(Job(settings, deals, login, token, block), ready, go, out))
        for login, token in users
    ]
    for p in procs:
        p.start()
    for _ in procs:
        ready.get(timeout=120)
    started = time.perf_counter()
    go.set()
    results = [out.get(timeout=3600) for _ in procs]
    wall = time.perf_counter() - started
    for p in procs:
        p.join(60)
        if p.exitcode != 0:
            raise SystemExit(f"a client failed (exit {p.exitcode})")
    found: dict[str, dict[str, float]] = {"wall": {"seconds": wall}}
    for mode in ("plain", "token"):
        # Clients run at once: a mode's rate is every client's commands over the mean of
        # the clients' times in that mode.
        commands = sum(c[mode] for c, _ in results)
        seconds = sum(s[mode] for _, s in results) / len(results)
        found[mode] = {"commands": commands, "seconds": seconds}
    return found


def token_read(settings: dict[str, Any], checks: int) -> dict[str, float]:
    """Median microseconds of the read a token check makes, alternating: as it is made now
    (the user's last version, in one round trip on PostgreSQL: ``in_one_round_trip``) and as
    it was (the user brought up to date from the log by the store's ``load``, pinged)."""
    from adapters.bootstrap import bootstrap
    from adapters.postgres_guard import in_one_round_trip
    from adapters.settings import Settings
    from domain.ids import user_id_for

    services = bootstrap(Settings(**settings))
    store = services.store
    user_id = user_id_for("rep1")
    store.load(user_id)
    times: dict[str, list[float]] = {"now": [], "before": []}
    for n in range(checks):
        for mode in ("now", "before") if n % 2 == 0 else ("before", "now"):
            started = time.perf_counter()
            if mode == "now":
                in_one_round_trip(lambda: store.version_of(user_id))
            else:
                store.load(user_id)
            times[mode].append((time.perf_counter() - started) * 1e6)
    services.close()
    return {mode: statistics.median(values) for mode, values in times.items()}
