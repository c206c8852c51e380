"""The ``crmledger`` command line."""

from __future__ import annotations

import argparse
import errno
import importlib.metadata
import json
import os
import signal
import socket
import sys
import threading
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING
from uuid import UUID, uuid4

from pydantic import ValidationError

from adapters.cli_output import Printed, Table, add_format_option, emit
from adapters.logging import configure
from adapters.settings import Settings
from adapters.store_lock import StoreLocked
from adapters.unreachable import SettingsProblem, StoreUnreachable
from domain.errors import DomainError

if TYPE_CHECKING:
    from adapters.bootstrap import Services

HISTORY_COLUMNS = ("version", "type", "recorded_at", "effective_at", "actor", "data")


def _listen(host: str, port: int) -> socket.socket:
    """A socket bound to (host, port) and listening, as uvicorn would make it (SO_REUSEADDR).

    Bound before the store is opened or anything is printed, so a busy port is the first
    and only thing reported; uvicorn then serves on this very socket, leaving no moment in
    which another process could take the port.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return socket.create_server((host, port), family=family)


def _why(error: OSError | OverflowError) -> str:
    """Why a bind failed, as the end of one sentence."""
    if isinstance(error, OverflowError):
        return "a port is a number from 0 to 65535"
    if isinstance(error, socket.gaierror):
        return f"the host name does not resolve ({error.strerror})"
    if error.errno == errno.EADDRINUSE:
        return (
            "the port is in use (another crmledger serve?); choose another with --port or "
            "CRMLEDGER_HTTP_PORT"
        )
    # create_server appends the address to strerror; the sentence names it already.
    return os.strerror(error.errno) if error.errno else str(error).rstrip(".")


def _open_for_serving(settings: Settings) -> Services | None:
    """The services; on PostgreSQL, once the server answers (a server restarting while the
    API starts is waited for, as the workers do; bad settings end it in one sentence)."""
    from adapters.bootstrap import bootstrap
    from adapters.outages import Health
    from adapters.supervision import wait_for_start

    if not settings.uses_postgres:
        return bootstrap(settings)
    stop = threading.Event()
    signals = (signal.SIGTERM, signal.SIGINT)
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in signals}
    try:
        return wait_for_start(
            "api",
            lambda: bootstrap(settings),
            health=Health(),
            stop=stop,
            max_backoff=settings.retry_max_seconds,
        )
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from adapters.http.app import create_app

    try:
        listening = _listen(args.host, args.port)
    except (OSError, OverflowError) as error:
        print(
            f"crmledger serve: cannot listen on {args.host}:{args.port}: {_why(error)}.",
            file=sys.stderr,
        )
        return 2
    try:
        services = _open_for_serving(settings)
    except BaseException:
        listening.close()
        raise
    if services is None:  # stopped while waiting for PostgreSQL
        listening.close()
        return 0
    where = "PostgreSQL" if settings.uses_postgres else f"the embedded store at {settings.home}"
    if settings.serve_runs_projector:
        services.start_projector()
        services.start_contracts_process()
        services.start_notifications_process()
        from adapters.webhooks.running import webhook_supervisors

        for loop in webhook_supervisors(services):
            loop.start()
            services.background.append(loop)
        from adapters.automations_runner import start_in_process

        start_in_process(services)
        where += (
            ", read models, contracts, notifications, automations and webhooks processed "
            "in this process"
        )
    port = listening.getsockname()[1]  # the one the system chose, for --port 0
    print(f"crmledger serving on http://{args.host}:{port} from {where}", file=sys.stderr)
    config = uvicorn.Config(create_app(services), host=args.host, port=port, log_level="warning")
    try:
        uvicorn.Server(config).run(sockets=[listening])
    finally:
        listening.close()
        services.close()
    return 0


def _demo(settings: Settings, args: argparse.Namespace) -> int:
    from adapters.demo import DemoStoreInUse, run_demo

    if settings.uses_postgres:
        print("The demo writes to the embedded store; CRMLEDGER_DATABASE_URL is ignored.")
    try:
        run_demo(settings, sys.stdout)
    except DemoStoreInUse as refusal:
        print(f"crmledger demo: {refusal}", file=sys.stderr)
        return 2
    return 0


def _history(settings: Settings, args: argparse.Namespace) -> int:
    from adapters.bootstrap import LOCAL_OPERATOR, bootstrap
    from adapters.event_store.access_log import AccessEntry
    from adapters.http.views import history_view
    from adapters.outages import StoreUnavailable
    from domain.personal_data import shows_personal_data

    try:
        aggregate_id = UUID(args.id)
    except ValueError:
        print(f"crmledger history: {args.id!r} is not an id (a UUID).", file=sys.stderr)
        return 2
    services = bootstrap(settings)
    try:
        found = services.store.history(aggregate_id)
        if any(shows_personal_data(event) for event in found):
            # The operator reads a person's data in the clear: logged, as over HTTP, first.
            read = AccessEntry(
                record_id=aggregate_id,
                login=LOCAL_OPERATOR.by,
                at=services.clock.now(),
                route="crmledger history",
                request_id=uuid4().hex,
            )
            services.store.record_accesses([read])
        events = history_view(found)
    except StoreUnavailable as error:
        print(f"crmledger history: {error.detail}.", file=sys.stderr)
        return 2
    finally:
        services.close()
    if not events:
        print(f"crmledger history: there is no aggregate with id {aggregate_id}.", file=sys.stderr)
        return 1
    # The table shows each event's data as one cell of JSON; CSV flattens it (data.*).
    shown = [{**e, "data": json.dumps(e["data"], separators=(", ", ": "))} for e in events]
    printed = Printed(document=events, records=events, tables=[Table(shown, HISTORY_COLUMNS)])
    emit(printed, args.format)
    return 0


def version() -> str:
    """The installed distribution's version; from a source tree never installed, the one
    its pyproject.toml declares."""
    try:
        return importlib.metadata.version("crmledger")
    except importlib.metadata.PackageNotFoundError:
        pass
    try:
        with (Path(__file__).resolve().parents[1] / "pyproject.toml").open("rb") as project:
            declared = tomllib.load(project).get("project", {}).get("version")
    except (OSError, tomllib.TOMLDecodeError):
        declared = None
    return str(declared) if declared else "unknown"


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="crmledger",
        description="Event-sourced CQRS backend for B2B sales. Settings come from CRMLEDGER_* "
        "environment variables (see README).",
    )
    root.add_argument("--version", action="version", version=f"crmledger {version()}")
    sub = root.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="serve the HTTP API")
    serve.add_argument("--host", default=None, help="default: CRMLEDGER_HTTP_HOST or 127.0.0.1")
    serve.add_argument(
        "--port", type=int, default=None, help="default: CRMLEDGER_HTTP_PORT or 8000"
    )
    serve.set_defaults(run=_serve)

    demo = sub.add_parser("demo", help="seed a realistic data set into the embedded store")
    demo.set_defaults(run=_demo)

    history = sub.add_parser("history", help="print every event of one aggregate")
    history.add_argument("id", help="the aggregate's id")
    add_format_option(history, "a row per event, its data in data.* columns", json_alias=True)
    history.set_defaults(run=_history)

    from adapters import cli_contracts, cli_readmodels, cli_users

    cli_readmodels.add_parsers(sub)
    cli_contracts.add_parsers(sub)
    cli_users.add_parsers(sub)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        settings = Settings()
    except ValueError as error:
        # One line per the CLI's error contract, not pydantic's multi-line report.
        problems = (
            "; ".join(
                f"CRMLEDGER_{'_'.join(map(str, e['loc'])).upper()}: "
                + e["msg"].removeprefix("Value error, ")
                for e in error.errors()
            )
            if isinstance(error, ValidationError)
            else " ".join(str(error).split())
        )
        print(f"crmledger: invalid settings: {problems}.", file=sys.stderr)
        return 2
    if getattr(args, "host", None) is None and args.command == "serve":
        args.host = settings.http_host
    if getattr(args, "port", None) is None and args.command == "serve":
        args.port = settings.http_port
    # The demo prints its own progress; its per-command logs would drown it.
    quiet = args.command in {"demo", "pipeline", "forecast", "baseline", "rebuild", "tick", "users"}
    # These print their own answers; per-command logs would drown them.
    configure(settings.model_copy(update={"log_level": "warning"}) if quiet else settings)
    try:
        code: int = args.run(settings, args)
    except DomainError as refusal:
        print(f"crmledger {args.command}: {refusal.detail}", file=sys.stderr)
        return 2
    except (StoreUnreachable, StoreLocked, SettingsProblem) as error:
        print(f"crmledger {args.command}: {error}.", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader went away (`crmledger pipeline | head`): not an error of ours.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    return code


if __name__ == "__main__":
    sys.exit(main())
