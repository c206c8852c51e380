"""Webhook deliveries to a real receiver on loopback, on both stores: signed, retried with
backoff until the receiver recovers, in log order per aggregate, never to a private
address the URL came to resolve to, and disabled (its owner told) when failing on."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import timedelta
from uuid import UUID, uuid4

import pytest

from adapters.bootstrap import Services
from adapters.clock import ManualClock
from adapters.webhooks.addresses import Resolver
from adapters.webhooks.outbox import WebhookOutbox
from adapters.webhooks.sender import SenderSettings, WebhookSender, backoff
from commands.reference_data import CreateAccount
from commands.unit_of_work import Actor
from commands.webhooks import DeleteWebhook, RegisterWebhook
from domain.notification import Notification, notification_id
from domain.webhook import Webhook
from tests.webhook_receiver import Receiver, verifies

SECRET = "a-test-secret"
FAST = SenderSettings(
    timeout=0.5, backoff=2.0, backoff_max=16.0, disable_after=1000, allow_private=True
)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    yield running
    running.close()


def register(services: Services, url: str, events: list[str] | None = None) -> UUID:
    webhook_id = uuid4()
    services.bus.execute(
        RegisterWebhook(webhook_id=webhook_id, url=url, events=events or ["*"], secret=SECRET)
    )
    return webhook_id


def accounts(services: Services, names: list[str]) -> None:
    for name in names:
        services.bus.execute(CreateAccount(name=name))


def sender(
    services: Services, settings: SenderSettings = FAST, resolve: Resolver | None = None
) -> WebhookSender:
    extra = {} if resolve is None else {"resolve": resolve}
    return WebhookSender(services.store, services.bus, services.clock.now, settings, **extra)


def pump(services: Services, send: WebhookSender, clock: ManualClock, rounds: int = 40) -> None:
    """Feed the outbox and send, moving the clock to each next due row, until all is sent
    or ``rounds`` ran out."""
    outbox = WebhookOutbox(services.store, services.clock.now)
    while outbox.catch_up():
        pass
    for _ in range(rounds):
        if send.deliver_due():
            continue
        now = clock.now().timestamp()
        later = [
            d.next_attempt_at
            for w in services.store.recorder.secret_owners()
            for d in services.store.recorder.deliveries(w, None, 1000)
            if d.status == "pending" and (d.next_attempt_at or 0) > now
        ]
        if not later:
            return
        clock.advance(timedelta(seconds=min(later) - now))


def test_every_event_arrives_signed_with_its_id(
    services: Services, clock: ManualClock, receiver: Receiver
) -> None:
    webhook_id = register(services, receiver.url)
    accounts(services, ["Acme", "Globex"])
    with sender(services) as send:
        pump(services, send, clock)
    assert [r.envelope["type"] for r in receiver.received] == ["AccountCreated"] * 2
    for received in receiver.received:
        assert verifies(received, SECRET)
        assert not verifies(received, "another secret")
        assert received.headers["X-Crmledger-Event-Id"] == received.envelope["event_id"]
        assert received.headers["Content-Type"] == "application/json"
    delivered = services.store.recorder.deliveries(str(webhook_id), None, 10)
    assert {d.status for d in delivered} == {"delivered"}


def test_only_the_types_asked_for(
    services: Services, clock: ManualClock, receiver: Receiver
) -> None:
    register(services, receiver.url, ["WebhookDeleted"])
    other = register(services, "http://127.0.0.1:9/unused", ["AccountCreated"])
    accounts(services, ["Acme"])
    services.bus.execute(DeleteWebhook(webhook_id=other))
    with sender(services) as send:
        pump(services, send, clock)
    assert [r.envelope["type"] for r in receiver.received] == ["WebhookDeleted"]


@pytest.mark.parametrize("failure", ["status 500", "time-out", "refused"])
def test_failures_are_retried_with_backoff_until_all_arrive_in_order(
    services: Services, clock: ManualClock, receiver: Receiver, failure: str
) -> None:
    port = receiver.port
    if failure == "status 500":
        receiver.status = 500
    elif failure == "time-out":
        receiver.delay = 1.0  # over FAST.timeout
    else:
        receiver.close()  # nothing listens there: connections are refused
    webhook_id = register(services, f"http://127.0.0.1:{port}/hook")
    accounts(services, ["Acme", "Globex", "Initech"])
    with sender(services) as send:
        pump(services, send, clock, rounds=5)  # every attempt fails meanwhile
        assert receiver.received == []
        if failure == "refused":
            receiver = Receiver(port)  # back, on the same port
        receiver.status, receiver.delay = 200, 0.0
        pump(services, send, clock)
    rows = services.store.recorder.deliveries(str(webhook_id), None, 100)
    assert rows and {d.status for d in rows} == {"delivered"}
    received = [r.envelope for r in receiver.received]
    assert sorted({r["event_id"] for r in received}) == sorted(d.event_id for d in rows)
    assert len(received) == len(rows)
    # The attempts of a delivery follow the backoff: base · 2^n, capped.
    attempts = services.store.recorder.attempts([d.id for d in rows])
    for row in rows:
        times = [a.at for a in attempts if a.delivery_id == row.id]
        gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
        for n, gap in enumerate(gaps):
            assert gap == pytest.approx(backoff(FAST, n), abs=1e-3)
    assert any(len([a for a in attempts if a.delivery_id == r.id]) >= 4 for r in rows)
    assert max(backoff(FAST, n) for n in range(10)) == FAST.backoff_max
    if failure == "refused":
        receiver.close()


def test_one_aggregate_waits_for_its_earlier_event(
    services: Services, clock: ManualClock, receiver: Receiver
) -> None:
    webhook_id = register(services, receiver.url)
    first = uuid4()
    services.bus.execute(RegisterWebhook(webhook_id=first, url=receiver.url, events=["*"]))
    services.bus.execute(DeleteWebhook(webhook_id=first))  # two events of one aggregate
    receiver.status = 503
    with sender(services) as send:
        pump(services, send, clock, rounds=3)
        rows = services.store.recorder.deliveries(str(webhook_id), None, 10)
        later = next(d for d in rows if d.event_type == "WebhookDeleted")
        assert later.attempts == 0  # never tried while the registration is undelivered
        receiver.status = 200
        pump(services, send, clock)
    types = [r.envelope["type"] for r in receiver.received]
    assert types == ["WebhookRegistered", "WebhookDeleted"]


def test_a_redirect_is_a_failure_not_followed(
    services: Services, clock: ManualClock, receiver: Receiver
) -> None:
    receiver.status, receiver.location = 302, "http://169.254.169.254/latest/meta-data"
    webhook_id = register(services, receiver.url)
    accounts(services, ["Acme"])
    with sender(services) as send:
        pump(services, send, clock, rounds=2)
    (row,) = services.store.recorder.deliveries(str(webhook_id), None, 10)
    assert row.status == "pending" and row.last_status_code == 302


def test_a_name_that_comes_to_resolve_to_a_private_address_is_refused_at_delivery(
    services: Services, clock: ManualClock, receiver: Receiver
) -> None:
    # Registered while public; the DNS answer changes before the delivery.
    answers = {"hooks.example.com": ["93.184.216.34"]}
    webhook_id = register(services, f"http://hooks.example.com:{receiver.port}/hook")
    answers["hooks.example.com"] = ["127.0.0.1"]
    strict = SenderSettings(timeout=0.5, backoff=2.0, backoff_max=16.0, allow_private=False)
    accounts(services, ["Acme"])
    with sender(services, strict, resolve=lambda host, port: answers[host]) as send:
        pump(services, send, clock, rounds=3)
    assert receiver.received == []
    (row,) = services.store.recorder.deliveries(str(webhook_id), None, 10)
    assert row.status == "pending" and "not a public address" in (row.last_error or "")


@pytest.mark.users("ada")
def test_failing_on_disables_the_webhook_and_tells_its_owner(
    services: Services, clock: ManualClock, receiver: Receiver
) -> None:
    receiver.status = 500
    webhook_id = uuid4()
    services.bus.execute(
        RegisterWebhook(webhook_id=webhook_id, url=receiver.url, events=["*"]),
        actor=Actor(by="ada"),
    )
    accounts(services, ["Acme", "Globex"])
    settings = SenderSettings(
        timeout=0.5, backoff=1.0, backoff_max=2.0, disable_after=3, allow_private=True
    )
    with sender(services, settings) as send:
        pump(services, send, clock, rounds=6)
    state = services.store.load(webhook_id)
    assert isinstance(state, Webhook) and state.disabled and state.owner == "ada"
    # (at the third failure in a row; the two lanes' attempts run at once, so another may
    # have failed before the disabling was saved: the reason counts what it saw)
    failed, _, rest = (state.disabled_reason or "").partition(" ")
    assert rest == "delivery attempts in a row failed" and int(failed) >= 3
    disabled = services.store.history(webhook_id)[-1]
    assert disabled.by == "system:webhooks"
    cause = f"webhook:{webhook_id}:v{disabled.originator_version}"
    notice = services.store.load(notification_id(cause, "ada", "webhook_disabled"))
    assert isinstance(notice, Notification)
    assert (notice.recipient, notice.notification_kind, notice.about_id) == (
        "ada",
        "webhook_disabled",
        webhook_id,
    )
    # Disabled, it is sent nothing more.
    attempts = len(services.store.recorder.attempts(range(1, 100)))
    with sender(services, settings) as send:
        pump(services, send, clock, rounds=3)
    assert len(services.store.recorder.attempts(range(1, 100))) == attempts
