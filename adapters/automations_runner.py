"""Where the automations process manager runs: a worker role, ``serve`` on the embedded
store, and ``crmledger tick --until`` (its idle timers)."""

from __future__ import annotations

from datetime import datetime

from adapters.bootstrap import Services
from adapters.outages import Health
from adapters.supervision import Supervisor
from commands.bus import CommandBus
from commands.ports import EventStore
from processes.automations import AutomationsProcess


def automations_process(services: Services, bus: CommandBus | None = None) -> AutomationsProcess:
    store: EventStore = services.store if bus is None else bus.store
    return AutomationsProcess(
        services.event_log,
        bus or services.bus,
        store,
        max_depth=services.settings.automation_max_depth,
    )


def automations_supervisor(services: Services, health: Health) -> Supervisor[AutomationsProcess]:
    """The process under a supervisor, ticking on the services' clock: idle timers fire as
    they fall due."""
    poll = services.settings.projector_poll_seconds
    return Supervisor(
        "automations",
        lambda: automations_process(services),
        lambda loop, stop, pulse: loop.run(
            stop, services.clock.now, poll_interval=poll, healthy=pulse
        ),
        health=health,
        max_backoff=services.settings.retry_max_seconds,
    )


def start_in_process(services: Services) -> None:
    """``serve`` on the embedded store runs it beside the projector and the contracts."""
    services.automations_supervisor = automations_supervisor(services, services.health)
    services.automations_supervisor.start()


def tick_automations(services: Services, bus: CommandBus, until: datetime) -> int:
    """Catch up, fire the idle timers due by ``until``, catch up again; how many fired."""
    process = automations_process(services, bus)
    process.catch_up()
    fired = process.tick(until)
    process.catch_up()
    return fired
