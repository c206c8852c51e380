"""The whole deployment, tested as it runs: compose.yaml's services as local processes.

Every crmledger service of compose.yaml — each replica of it — runs as a process with
the file's command and environment (the image's ``ENV``, the ``x-crmledger`` anchor
merged in), with only the addresses changed: PostgreSQL (a server of the test's own, the
file's schema kept), the Kafka bootstrap servers (a tansu broker), the API's port. Which
services run, with which roles, comes from the file alone (``tests/compose.py``).

Clients sell all the time, over HTTP and as commands on ``crmledger.commands``, while
every process is killed once (SIGKILL, one at a time) and started again with the same
command, and then PostgreSQL is stopped and started. Meanwhile the API answers 503 with a
JSON body (never a 500) and recovers by itself; no process is restarted by hand after
PostgreSQL came back. Then:

- the events written are those on the topic after dedupe and those each read model
  applied; both read models equal a fresh rebuild; every sold item has one contract
  (``tests/deployment.py``, ``assert_nothing_lost``);
- no answer was a 500, no log holds a 500 or a traceback;
- every process runs at the end.

Run alone (``-m outage``, one worker), after the parallel suite, like the outage tests.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from adapters.kafka_commands import COMMANDS_TOPIC
from tests.compose import Service, crmledger_services, load_compose, load_image, settings_of
from tests.deployment import (
    Api,
    Deployment,
    answers,
    assert_clients_clean,
    assert_logs_clean,
    assert_nothing_lost,
    get,
    make_catalogue,
    make_users,
    servers,
    start_clients,
    stop_clients,
    topics,
    wait,
)
from tests.kafka_broker import TansuBroker, free_port
from tests.postgres_server import PostgresServer
from tests.processes import admin_token, environment

pytestmark = [pytest.mark.outage, pytest.mark.xdist_group("outages")]

STARTED_WORKER = "crmledger worker: role"  # what a worker prints once it runs
LOAD = 1.5  # seconds of load after each restart, before the next kill
DOWN = 4.0  # seconds PostgreSQL stays down


def _here(
    service: Service, pg: PostgresServer, broker: TansuBroker
) -> tuple[tuple[str, ...], dict[str, str]]:
    """The service's command and environment with this machine's addresses."""
    env = dict(service.environment)
    assert env["CRMLEDGER_DATABASE_URL"].startswith("postgresql://"), service.name
    env["CRMLEDGER_DATABASE_URL"] = pg.url
    if "CRMLEDGER_KAFKA_BOOTSTRAP_SERVERS" in env:
        env["CRMLEDGER_KAFKA_BOOTSTRAP_SERVERS"] = broker.bootstrap
    port = str(free_port())
    env.update(CRMLEDGER_HTTP_HOST="127.0.0.1", CRMLEDGER_HTTP_PORT=port)
    args = list(service.command)
    for option, value in (("--port", port), ("--host", "127.0.0.1")):
        if option in args:
            args[args.index(option) + 1] = value
    return tuple(args), environment(**env)


def _serves(deployment: Deployment, name: str) -> bool:
    return deployment.launches[name].args[:1] == ("serve",)


def _url(deployment: Deployment, name: str) -> str:
    return f"http://127.0.0.1:{deployment.launches[name].env['CRMLEDGER_HTTP_PORT']}"


def _started(deployment: Deployment, name: str, since: int = 0) -> bool:
    """The process runs its loops (a worker) or answers (the API), in the log after
    ``since``."""
    if _serves(deployment, name):
        return answers(f"{_url(deployment, name)}/health")
    return STARTED_WORKER in deployment.log(name)[since:]


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[Deployment]:
    services = crmledger_services(load_compose(), load_image())
    with servers(tmp_path, proxied=False) as (pg, broker):
        logs = tmp_path / "logs"
        logs.mkdir()
        launches = {
            service.name if service.replicas == 1 else f"{service.name}-{n}": _here(
                service, pg, broker
            )
            for service in services
            for n in range(1, service.replicas + 1)
        }
        settings = settings_of(next(iter(launches.values()))[1])
        deployment = Deployment(settings=settings, pg=pg, broker=broker, logs=logs)
        try:
            for name, (args, env) in launches.items():
                deployment.start(name, args, env)
            api = next(name for name in deployment.launches if _serves(deployment, name))
            deployment.base = _url(deployment, api)
            for name in deployment.processes:
                wait(lambda name=name: _started(deployment, name), f"{name} started")
            deployment.token = admin_token(settings)
            make_users(settings)
            # the workers make the topics the clients write to
            wait(lambda: COMMANDS_TOPIC in topics(broker.bootstrap), "the commands topic")
            yield deployment
        finally:
            deployment.stop_all()


def _probe_while_down(deployment: Deployment, seconds: float) -> list[tuple[int, dict[str, Any]]]:
    """What the API answers on its operations routes and an ordinary read meanwhile."""
    seen = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for route in ("/health", "/read-models/status", "/me"):
            seen.append(get(deployment.base + route, deployment.token))  # JSON, or it fails
        time.sleep(0.2)
    return seen


def test_compose_deployment_loses_nothing_when_each_process_is_killed_and_postgresql_restarts(
    deployment: Deployment,
) -> None:
    # Given every service of compose.yaml running, and clients selling all the time
    first = deployment.pids()
    catalogue = make_catalogue(Api(deployment.base, deployment.token, "admin"))
    stop = threading.Event()
    clients, kafka = start_clients(deployment, catalogue, stop)
    try:
        time.sleep(3)  # a steady load first

        # When each process is killed in turn and started again with the same command
        for name in list(deployment.processes):
            since = deployment.restart(name)
            wait(lambda name=name, since=since: _started(deployment, name, since), name)
            time.sleep(LOAD)
        restarted = deployment.pids()

        # and then PostgreSQL goes away and comes back
        deployment.pg.stop()
        down = _probe_while_down(deployment, DOWN)
        deployment.pg.start()
        wait(lambda: answers(f"{deployment.base}/health"), "the API answers again", timeout=60)
        time.sleep(5)  # and on after it
    finally:
        stop_clients(clients, kafka, stop)

    # Then while PostgreSQL was down every answer was a 503 with a JSON body
    assert down and {status for status, _ in down} == {503}, down
    for _, body in down:
        assert body.get("error") == "unavailable" or body.get("status") == "waiting", body
        assert body["waiting"], body
    # the killing was real: the clients met the API away, and every process is a new one
    assert sum(c.api.unanswered for c in clients) > 0
    assert sum(c.api.statuses[503] for c in clients) > 0
    assert all(restarted[name] != pid for name, pid in first.items())
    # and nothing was restarted after PostgreSQL came back: every process runs, the same
    for name, process in deployment.processes.items():
        assert process.running(), f"{name} exited\n{deployment.log(name)[-3000:]}"
    assert deployment.pids() == restarted
    assert_clients_clean(clients, kafka)
    assert_logs_clean(deployment)
    assert_nothing_lost(deployment, clients, kafka)
