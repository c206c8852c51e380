"""Read-model subcommands: pipeline, forecast, baseline, rebuild, and the worker's parser."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from uuid import UUID

from tqdm import tqdm

from adapters.baselines import take_baseline
from adapters.bootstrap import Services, bootstrap
from adapters.cli_charts import (
    baseline_list_output,
    baseline_output,
    chart_output,
    comparison_output,
    outcome_output,
)
from adapters.cli_output import Printed, add_format_option, emit
from adapters.settings import Settings
from adapters.store_lock import StoreLock
from adapters.worker import worker_command
from commands.read_model_commands import DeleteBaseline
from domain.access import Principal
from domain.baseline import Baseline
from domain.errors import DomainError, NotFound
from domain.ids import user_id_for
from domain.user import LOGIN, User
from projections.runner import REBUILD_FLUSH_EVERY
from readmodels.deals.analytics import Analytics, baseline_view
from readmodels.deals.specs import spec_from_params


def caught_up_services(settings: Settings) -> Services:
    services = bootstrap(settings)
    if settings.serve_runs_projector:
        # No worker follows the embedded store: bring the read model up to date first.
        projector = services.projector()
        projector.start()
        projector.catch_up()
    return services


def _params(pairs: Sequence[str]) -> dict[str, str | None]:
    params: dict[str, str | None] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise DomainError(f"parameters are key=value, not {pair!r}.")
        params[key] = value
    return params


def chart_command(settings: Settings, args: argparse.Namespace) -> int:
    services = caught_up_services(settings)
    try:
        if args.command == "pipeline":
            params = {
                "pipeline": args.pipeline,
                "owner": args.owner,
                "from": args.close_from,
                "to": args.close_to,
            }
        else:
            params = {
                "period": args.period,
                "owner": args.owner,
                "from": args.period_from,
                "to": args.period_to,
            }
        spec = spec_from_params(args.command, params)
        principal = _principal(services, args.as_user)
        answer = Analytics(services.queries).answer(
            spec, as_of=args.as_of, wait_for=None, principal=principal
        )
    finally:
        services.close()
    emit(chart_output(args.command, answer), args.format)
    return 0


def _principal(services: Services, login: str | None) -> Principal | None:
    """``--as LOGIN``: the chart as that user sees it (their scope, their team now)."""
    if login is None:
        return None
    user = services.store.load(user_id_for(login)) if LOGIN.fullmatch(login) else None
    if not isinstance(user, User):
        raise NotFound(f"there is no user {login!r}.")
    return services.identity.principal(user)


def baseline_command(settings: Settings, args: argparse.Namespace) -> int:
    services = caught_up_services(settings)
    analytics = Analytics(services.queries)
    try:
        printed = _baseline_action(services, analytics, args)
    finally:
        services.close()
    emit(printed, args.format)
    if args.action == "verify" and not printed.document["verified"]:
        return 1
    return 0


def _baseline_action(services: Services, analytics: Analytics, args: argparse.Namespace) -> Printed:
    if args.action == "create":
        command = take_baseline(analytics, args.name, args.chart, _params(args.param), args.as_of)
        return outcome_output(services.bus.execute(command).body())
    if args.action == "list":
        return baseline_list_output(analytics.list_baselines())
    baseline = _baseline(services, args.id)
    if args.action == "show":
        return baseline_output(baseline_view(baseline))
    if args.action == "compare":
        other = None if args.with_ == "now" else _baseline(services, args.with_)
        return comparison_output(analytics.compare(baseline, other))
    if args.action == "verify":
        return outcome_output(analytics.verify(baseline))
    return outcome_output(services.bus.execute(DeleteBaseline(baseline_id=baseline.id)).body())


def _baseline(services: Services, text: str) -> Baseline:
    try:
        baseline_id = UUID(text)
    except ValueError:
        raise NotFound(f"{text!r} is not a baseline id.") from None
    state = services.store.load(baseline_id)
    if not isinstance(state, Baseline) or state.deleted:
        raise NotFound(f"there is no baseline with id {baseline_id}.")
    return state


def rebuild_command(settings: Settings, args: argparse.Namespace) -> int:
    # It drops and replaces the read models: on the embedded store, no other process
    # (a `serve` projecting into them) may have the store open meanwhile.
    lock = (
        None
        if settings.uses_postgres
        else StoreLock(settings.home, "exclusive", "a rebuild").acquire()
    )
    services = bootstrap(settings, lock=lock)
    try:
        total = services.store.max_position()
        started = time.perf_counter()
        with tqdm(
            total=total,
            unit=" events",
            unit_scale=True,
            desc="rebuilding read models",
            file=sys.stderr,
            disable=args.quiet,
        ) as bar:

            def progress(position: int, target: int) -> None:
                bar.total = max(target, 1)
                bar.update(position - bar.n)

            projector, applied = services.rebuild(
                progress, writer=args.writer, flush_every=args.flush_every
            )
        seconds = time.perf_counter() - started
    finally:
        services.close()
    rate = applied / seconds if seconds > 0 else 0.0
    print(
        f"rebuilt read models from {applied} events in {seconds:.1f} s ({rate:,.0f} events/s); "
        f"{projector.parked} parked as dead letters"
    )
    return 0


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    pipeline = sub.add_parser("pipeline", help="the pipeline chart")
    pipeline.add_argument("--pipeline", default="sales")
    pipeline.add_argument("--owner")
    pipeline.add_argument("--from", dest="close_from", help="expected close from (date)")
    pipeline.add_argument("--to", dest="close_to", help="expected close to (date)")
    pipeline.add_argument("--as-of", help="a log position or an ISO 8601 instant")
    add_format_option(pipeline, "a row per stage, then won, lost and unqualified", json_alias=True)
    pipeline.add_argument(
        "--as", dest="as_user", metavar="LOGIN", help="the chart over what that user may see"
    )
    pipeline.set_defaults(run=chart_command)

    forecast = sub.add_parser("forecast", help="the forecast chart with roll-ups")
    forecast.add_argument("--period", choices=("month", "quarter", "year"), default="quarter")
    forecast.add_argument("--owner")
    forecast.add_argument("--from", dest="period_from", help="first period, e.g. 2027-Q1")
    forecast.add_argument("--to", dest="period_to", help="last period")
    forecast.add_argument("--as-of", help="a log position or an ISO 8601 instant")
    add_format_option(
        forecast, "a row per forecast row and roll-up, told apart by kind", json_alias=True
    )
    forecast.add_argument(
        "--as", dest="as_user", metavar="LOGIN", help="the chart over what that user may see"
    )
    forecast.set_defaults(run=chart_command)

    baseline = sub.add_parser(
        "baseline", help="create, list, show, compare, verify, delete baselines"
    )
    actions = baseline.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create")
    create.add_argument("name")
    create.add_argument("--chart", choices=("pipeline", "forecast"), default="pipeline")
    create.add_argument("--param", action="append", default=[], help="key=value, e.g. owner=alice")
    create.add_argument("--as-of", help="take it after the fact: a position or an instant")
    add_format_option(create, "one row: the baseline taken")
    add_format_option(actions.add_parser("list"), "a row per baseline")
    show = actions.add_parser("show")
    show.add_argument("id")
    add_format_option(show, "the rows of the chart it keeps, as the chart's own")
    for name in ("verify", "delete"):
        action = actions.add_parser(name)
        action.add_argument("id")
        add_format_option(action, "one row: the answer")
    compare = actions.add_parser("compare")
    compare.add_argument("id")
    compare.add_argument(
        "--with", dest="with_", default="now", help="now, or another baseline's id"
    )
    add_format_option(compare, "a row per step of the waterfall, start to end")
    baseline.set_defaults(run=baseline_command)

    rebuild = sub.add_parser("rebuild", help="drop the read models and rebuild them from the log")
    rebuild.add_argument(
        "--flush-every",
        type=int,
        default=REBUILD_FLUSH_EVERY,
        help=f"windows of 1,000 log positions written per transaction "
        f"(default {REBUILD_FLUSH_EVERY})",
    )
    rebuild.add_argument(
        "--writer",
        choices=("auto", "process", "inline"),
        default="auto",
        help="write from a second process (auto: for logs of 100,000 positions or more)",
    )
    rebuild.add_argument("--quiet", action="store_true", help="no progress bar")
    rebuild.set_defaults(run=rebuild_command)

    worker = sub.add_parser("worker", help="follow the log and keep the read models current")
    worker.add_argument(
        "--role",
        choices=(
            "projector",
            "process-manager",
            "contracts",
            "automations",
            "relay",
            "commands",
            "kafka-projector",
            "webhooks",
            "all",
        ),
        default="projector",
        help="projector: the read models; process-manager (alias contracts): the contracts "
        "process manager and its timers; automations: notifications and task reminders, "
        "and the automations process manager and its idle timers; "
        "relay: every event to Kafka; commands: run the commands of crmledger.commands; "
        "kafka-projector: a member of the consumer group that writes the read-model tables "
        "from crmledger.events (PostgreSQL only); webhooks: the webhook outbox and its "
        "sender; all: projector, process-manager, automations, relay, commands and webhooks "
        "in one process (default projector)",
    )
    worker.set_defaults(run=worker_command)
