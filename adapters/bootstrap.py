"""The composition root: settings → event store, read models → command bus, queries."""

from __future__ import annotations

import getpass
from dataclasses import dataclass, field
from typing import Any, Literal

from adapters.clock import Clock, SystemClock
from adapters.event_store.log import EventLog
from adapters.event_store.store import SalesEventStore
from adapters.identity import Identity, OidcVerifier
from adapters.outages import Health
from adapters.readmodel_store import ReadModelStore, open_store
from adapters.readmodel_writer import ProcessWriter
from adapters.settings import Settings
from adapters.store_lock import StoreLock
from adapters.supervision import Supervisor
from commands.authorization import authorize
from commands.bus import CommandBus
from commands.handlers import all_handlers
from commands.reference_data import EnsureDefaults
from commands.unit_of_work import Actor
from processes.contracts import ContractsProcess
from processes.notifications import NotificationsProcess
from projections.runner import REBUILD_FLUSH_EVERY, Progressed, Projector
from readmodels import SLICES, TOPICS
from readmodels.deals.queries import ReadModelQueries
from readmodels.users.queries import team

__all__ = ["Services", "bootstrap"]

# Log positions from which ``rebuild`` writes from a second process by default.
PROCESS_WRITER_FROM = 100_000


@dataclass
class Services:
    settings: Settings
    store: SalesEventStore
    bus: CommandBus
    views: ReadModelStore
    queries: ReadModelQueries
    # Who is asking: a bearer token to the user it names.
    identity: Identity
    clock: Clock = field(default_factory=SystemClock)
    supervisor: Supervisor[Projector] | None = None
    contracts_supervisor: Supervisor[ContractsProcess] | None = None
    # The automations process in ``serve`` (``adapters.automations_runner``).
    automations_supervisor: Supervisor[Any] | None = None
    notifications_supervisor: Supervisor[NotificationsProcess] | None = None
    # Other loops this process runs in the background (the webhooks' in ``serve``).
    background: list[Supervisor[Any]] = field(default_factory=list)
    # What this process waits for (PostgreSQL away, …), for /health and the status route.
    health: Health = field(default_factory=Health)
    # The embedded store's lock, held while the store is open (None on PostgreSQL).
    lock: StoreLock | None = None

    @property
    def event_log(self) -> EventLog:
        return EventLog(self.store.app)

    def projector(self, *, flush_every: int = 1) -> Projector:
        return Projector(
            self.event_log,
            self.views,
            SLICES,
            checkpoint_interval=self.settings.checkpoint_interval,
            full_every=self.settings.checkpoint_full_every,
            flush_every=flush_every,
        )

    def rebuild(
        self,
        progress: Progressed | None = None,
        *,
        writer: Literal["auto", "process", "inline"] = "auto",
        flush_every: int = REBUILD_FLUSH_EVERY,
    ) -> tuple[Projector, int]:
        """Drop the read models and rebuild them from the log (``crmledger rebuild``).

        Large logs are written by a second process while this one projects
        (``adapters.readmodel_writer``); ``auto`` does so from
        ``PROCESS_WRITER_FROM`` positions on, where it pays for starting it.
        """
        projector = self.projector(flush_every=flush_every)
        use_process = writer == "process" or (
            writer == "auto" and self.store.max_position() >= PROCESS_WRITER_FROM
        )
        if not use_process:
            return projector, projector.rebuild(progress)
        with ProcessWriter(self.settings) as child:
            return projector, projector.rebuild(progress, writer=child)

    def start_projector(self) -> Supervisor[Projector]:
        """Follow the log in a background thread (``serve`` on the embedded store)."""
        poll = self.settings.projector_poll_seconds
        self.supervisor = Supervisor(
            "projector",
            self.projector,
            lambda loop, stop, pulse: loop.run(stop, poll_interval=poll, healthy=pulse),
            health=self.health,
            max_backoff=self.settings.retry_max_seconds,
        )
        self.supervisor.start()
        return self.supervisor

    def contracts_process(self) -> ContractsProcess:
        return ContractsProcess(
            self.event_log,
            self.bus,
            self.store,
            notice_days=self.settings.renewal_notice_days,
        )

    def start_contracts_process(self) -> Supervisor[ContractsProcess]:
        """Follow the log and tick on this clock in a background thread (``serve`` on the
        embedded store)."""
        poll = self.settings.projector_poll_seconds
        self.contracts_supervisor = Supervisor(
            "process-manager",
            self.contracts_process,
            lambda loop, stop, pulse: loop.run(
                stop, self.clock.now, poll_interval=poll, healthy=pulse
            ),
            health=self.health,
            max_backoff=self.settings.retry_max_seconds,
        )
        self.contracts_supervisor.start()
        return self.contracts_supervisor

    def notifications_process(self) -> NotificationsProcess:
        return NotificationsProcess(self.event_log, self.bus, self.store)

    def start_notifications_process(self) -> Supervisor[NotificationsProcess]:
        """Send notifications and fire task reminders on this clock in a background thread
        (``serve`` on the embedded store)."""
        self.notifications_supervisor = notifications_supervisor(self)
        self.notifications_supervisor.start()
        return self.notifications_supervisor

    def close(self) -> None:
        if self.automations_supervisor is not None:
            self.automations_supervisor.stop()
        if self.notifications_supervisor is not None:
            self.notifications_supervisor.stop()
        for loop in self.background:
            loop.stop()
        if self.contracts_supervisor is not None:
            self.contracts_supervisor.stop()
        if self.supervisor is not None:
            self.supervisor.stop()
        self.store.close()
        self.views.datastore.close()
        if self.lock is not None:
            self.lock.release()


def notifications_supervisor(
    services: Services, health: Health | None = None
) -> Supervisor[NotificationsProcess]:
    """The notifications process under its supervisor, ticking on the services' clock (a
    worker's role ``automations``, ``serve`` on the embedded store)."""
    poll = services.settings.projector_poll_seconds
    return Supervisor(
        "notifications",
        services.notifications_process,
        lambda loop, stop, pulse: loop.run(
            stop, services.clock.now, poll_interval=poll, healthy=pulse
        ),
        health=health or services.health,
        max_backoff=services.settings.retry_max_seconds,
    )


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name and no password entry (some containers)
        return "unknown"


# Who runs a command that no request or process names: the operator at this machine
# (the CLI, the demo). HTTP requests, Kafka commands and the process managers say who.
LOCAL_OPERATOR = Actor(by=f"cli:{_os_user()}")
# Who writes the defaults a new store starts with (the sales pipeline, the rate table):
# whichever process opens it first (`serve`, a worker, the CLI), on no one's request.
BOOTSTRAP = Actor(by="system:bootstrap")


def bootstrap(
    settings: Settings | None = None, *, clock: Clock | None = None, lock: StoreLock | None = None
) -> Services:
    """Open the store and the read models. On the embedded store this process holds its
    lock (shared, unless ``lock`` is given: one the caller holds, e.g. the demo's exclusive
    one) until ``Services.close``; ``StoreLocked`` when another process replaces it."""
    settings = settings or Settings()
    clock = clock or SystemClock()
    if lock is None and not settings.uses_postgres:
        lock = StoreLock(settings.home, "shared", "opening the store").acquire()
    try:
        return _open(settings, clock, lock)
    except BaseException:
        if lock is not None:
            lock.release()
        raise


def _open(settings: Settings, clock: Clock, lock: StoreLock | None) -> Services:
    store = SalesEventStore.open(settings)
    bus = CommandBus(
        store,
        clock,
        handlers=all_handlers(),
        reporting_currency=settings.reporting_currency,
        phone_region=settings.phone_region,
        retries=settings.command_retries,
        actor=LOCAL_OPERATOR,
        authorize=authorize,
    )
    bus.execute(EnsureDefaults(), actor=BOOTSTRAP)
    views = open_store(settings)
    queries = ReadModelQueries(
        views,
        EventLog(store.app),
        checkpoint_interval=settings.checkpoint_interval,
        topics=TOPICS,
    )
    oidc = None
    if settings.oidc_issuer and settings.oidc_audience and settings.oidc_jwks:
        oidc = OidcVerifier(
            settings.oidc_issuer,
            settings.oidc_audience,
            settings.oidc_jwks,
            settings.oidc_login_claim,
        )
    return Services(
        settings=settings,
        store=store,
        bus=bus,
        views=views,
        queries=queries,
        clock=clock,
        lock=lock,
        identity=Identity(store, clock, oidc, team=lambda login: team(views, login)),
    )
