"""``crmledger worker --role …``: the long-running loops, each under a supervisor.

A worker outlives its servers: PostgreSQL restarting or Kafka going away makes each
role wait (capped exponential backoff, ``CRMLEDGER_RETRY_MAX_SECONDS``) and go on by
itself from the position it recorded; the logs say what it waits for. It exits only
on a signal (0) or for bad settings (one sentence on stderr, 2).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

from adapters.bootstrap import Services, bootstrap, notifications_supervisor
from adapters.kafka_health import broker_watch
from adapters.outages import Health, SettingsProblem
from adapters.settings import Settings
from adapters.supervision import Supervisor, wait_for_start

KAFKA_ROLES = ("relay", "commands", "kafka-projector", "all")


def worker_command(settings: Settings, args: argparse.Namespace) -> int:
    role = "process-manager" if args.role == "contracts" else args.role
    if role in KAFKA_ROLES and settings.kafka_bootstrap_servers is None:
        print(
            f"crmledger worker: role {role} needs CRMLEDGER_KAFKA_BOOTSTRAP_SERVERS",
            file=sys.stderr,
        )
        return 2
    if role == "kafka-projector" and not settings.uses_postgres:
        print(
            "crmledger worker: role kafka-projector writes to PostgreSQL and needs "
            "CRMLEDGER_DATABASE_URL",
            file=sys.stderr,
        )
        return 2
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    health = Health()
    try:
        if role == "kafka-projector":
            # Not in "all": it scales out beside the in-process projector, and it reads
            # Kafka, not the event store, so it opens only its own tables.
            print(
                f"crmledger worker: role {role}, following {settings.kafka_events_topic}",
                file=sys.stderr,
            )
            return _run([_kafka_projector(settings, health)], stop)
        services = wait_for_start(
            "worker",
            lambda: bootstrap(settings),
            health=health,
            stop=stop,
            max_backoff=settings.retry_max_seconds,
        )
        if services is None:
            return 0  # stopped while waiting for the store
        try:
            print(f"crmledger worker: role {role}, following the log", file=sys.stderr)
            return _run(_roles_on_the_log(role, services, settings, health), stop)
        finally:
            services.close()
    except SettingsProblem as problem:
        print(f"crmledger worker: {problem}.", file=sys.stderr)
        return 2


def _roles_on_the_log(
    role: str, services: Services, settings: Settings, health: Health
) -> list[Supervisor[Any]]:
    poll = settings.projector_poll_seconds
    cap = settings.retry_max_seconds
    roles: list[Supervisor[Any]] = []
    if role in ("projector", "all"):
        roles.append(
            Supervisor(
                "projector",
                services.projector,
                lambda loop, stop, pulse: loop.run(stop, poll_interval=poll, healthy=pulse),
                health=health,
                max_backoff=cap,
            )
        )
    if role in ("process-manager", "all"):
        # Ticks on the real clock: renewals and expiries fire as they fall due.
        roles.append(
            Supervisor(
                "process-manager",
                services.contracts_process,
                lambda loop, stop, pulse: loop.run(
                    stop, services.clock.now, poll_interval=poll, healthy=pulse
                ),
                health=health,
                max_backoff=cap,
            )
        )
    if role in ("automations", "all"):
        from adapters.automations_runner import automations_supervisor  # noqa: PLC0415

        roles.append(automations_supervisor(services, health))
        roles.append(_notifications(services, health))
    if role in ("relay", "all"):
        roles.append(_relay(services, settings, health))
    if role in ("commands", "all"):
        roles.append(_commands(services, settings, health))
    if role in ("webhooks", "all"):
        roles += _webhooks(services)
    return roles


def _notifications(services: Services, health: Health) -> Supervisor[Any]:
    """Assignment notices and task reminders, ticking on the real clock."""
    return notifications_supervisor(services, health)


def _webhooks(services: Services) -> list[Supervisor[Any]]:
    """The outbox fed from the log and its sender (``adapters.webhooks``)."""
    from adapters.webhooks.running import webhook_supervisors  # noqa: PLC0415

    return webhook_supervisors(services)


def _relay(services: Services, settings: Settings, health: Health) -> Supervisor[Any]:
    from adapters.kafka_relay import KafkaRelay, ensure_topic, kafka_producer  # noqa: PLC0415

    servers = settings.kafka_bootstrap_servers
    assert servers is not None

    def make() -> KafkaRelay:
        ensure_topic(servers, settings.kafka_events_topic, settings.kafka_partitions)
        return KafkaRelay(
            services.store,
            kafka_producer(servers),
            topic=settings.kafka_events_topic,
            batch=settings.relay_batch,
            servers=servers,
        )

    poll = settings.projector_poll_seconds
    return Supervisor(
        "relay",
        make,
        lambda relay, stop, pulse: relay.run(stop, poll_interval=poll, pulse=pulse),
        health=health,
        close=lambda relay: relay.close(),
        max_backoff=settings.retry_max_seconds,
        watch=broker_watch(servers),
    )


def _commands(services: Services, settings: Settings, health: Health) -> Supervisor[Any]:
    from adapters.kafka_commands import (  # noqa: PLC0415
        COMMANDS_TOPIC,
        RESULTS_TOPIC,
        CommandConsumer,
    )
    from adapters.kafka_relay import ensure_topic  # noqa: PLC0415
    from adapters.webhooks.addresses import screen  # noqa: PLC0415

    servers = settings.kafka_bootstrap_servers
    assert servers is not None

    def make() -> CommandConsumer:
        for topic in (COMMANDS_TOPIC, RESULTS_TOPIC):
            ensure_topic(servers, topic, settings.kafka_partitions)
        return CommandConsumer(
            services.bus,
            services.identity,
            servers,
            group="crmledger-commands",
            max_poll_interval_ms=settings.kafka_max_poll_interval_seconds * 1000,
            screen=lambda command: screen(
                command, allow_private=settings.webhook_allow_private == "yes"
            ),
        )

    return Supervisor(
        "commands",
        make,
        lambda consumer, stop, pulse: consumer.run(stop, pulse),
        health=health,
        close=lambda consumer: consumer.close(),
        max_backoff=settings.retry_max_seconds,
        watch=broker_watch(servers),
    )


def _kafka_projector(settings: Settings, health: Health) -> Supervisor[Any]:
    from adapters.kafka_projector import (  # noqa: PLC0415
        KafkaProjector,
        kafka_consumer,
        open_kafka_tables,
    )
    from adapters.kafka_relay import ensure_topic  # noqa: PLC0415

    servers = settings.kafka_bootstrap_servers
    assert servers is not None

    def make() -> KafkaProjector:
        ensure_topic(servers, settings.kafka_events_topic, settings.kafka_partitions)
        tables = open_kafka_tables(settings)
        try:
            consumer = kafka_consumer(settings)
        except BaseException:
            tables.datastore.close()
            raise
        return KafkaProjector(tables, consumer, topic=settings.kafka_events_topic)

    def close(projector: KafkaProjector) -> None:
        try:
            projector.close()
        finally:
            projector.tables.datastore.close()

    return Supervisor(
        "kafka-projector",
        make,
        lambda projector, stop, pulse: projector.run(stop, pulse),
        health=health,
        close=close,
        max_backoff=settings.retry_max_seconds,
        watch=broker_watch(servers),
    )


def _run(roles: list[Supervisor[Any]], stop: threading.Event) -> int:
    """Run every role in its own thread until ``stop``; if one meets bad settings, stop the
    others too and exit 2 (a retry cannot mend it)."""
    problems: list[str] = []

    def run(supervisor: Supervisor[Any]) -> Callable[[], None]:
        def guarded() -> None:
            try:
                supervisor.run(stop)
            except SettingsProblem as problem:
                problems.append(str(problem))
                stop.set()

        return guarded

    threads = [threading.Thread(target=run(s), name=s.role) for s in roles]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if problems:
        raise SettingsProblem(problems[0])
    return 0
