"""The webhooks worker killed at random moments still delivers every event, signed, in
order per aggregate (docs/design.md, "Webhooks").

The real ``crmledger worker --role webhooks`` process (the outbox and the sender) is
killed with SIGKILL while commands keep coming (accounts made and changed: several
events per aggregate), and started again; the receiver (a real HTTP server on loopback)
answers 500 now and then. When a last worker has caught up:

- every event after the webhook's registration arrived at least once;
- every delivery's signature verifies with the secret, with the standard library;
- per aggregate, the versions arrive in order (a repeat after a crash only repeats the
  last one: never an older version after a newer one).
"""

from __future__ import annotations

import random
import threading
import time as timing
from collections import defaultdict
from pathlib import Path
from uuid import uuid4

from adapters.bootstrap import Services
from adapters.webhooks.outbox import PROCESS
from commands.accounts import ChangeAccount
from commands.reference_data import CreateAccount
from commands.webhooks import RegisterWebhook
from domain.ids import account_id_for
from readmodels.log import events_between
from tests.processes import Background, Crmledger, environment, wait_until
from tests.webhook_receiver import Receiver, verifies

SECRET = "crash-test-secret"
KILLS = 6


def test_a_webhooks_worker_killed_at_random_moments_delivers_every_event(
    services: Services, tmp_path: Path
) -> None:
    rng = random.Random()
    seed = rng.randrange(2**32)
    rng.seed(seed)
    receiver = Receiver()
    flaky = threading.Lock()

    def answer_now_and_then() -> None:
        with flaky:
            receiver.status = 500 if rng.random() < 0.15 else 200
        timing.sleep(0.05)

    webhook_id = uuid4()
    services.bus.execute(
        RegisterWebhook(webhook_id=webhook_id, url=receiver.url, events=["*"], secret=SECRET)
    )
    registered_at = services.store.max_position()
    names: list[str] = []

    def write() -> None:
        if not names or rng.random() < 0.3:
            name = f"Account {len(names)} {uuid4().hex[:6]}"
            services.bus.execute(CreateAccount(name=name))
            names.append(name)
        else:
            account = account_id_for(rng.choice(names))
            services.bus.execute(ChangeAccount(account_id=account, industry=uuid4().hex[:8]))

    env = environment(
        services.settings,
        CRMLEDGER_WEBHOOK_ALLOW_PRIVATE="yes",
        CRMLEDGER_WEBHOOK_BACKOFF_SECONDS="0.02",
        CRMLEDGER_WEBHOOK_BACKOFF_MAX_SECONDS="0.2",
        CRMLEDGER_WEBHOOK_DISABLE_AFTER_FAILURES="100000",
        CRMLEDGER_PROJECTOR_POLL_SECONDS="0.02",
        CRMLEDGER_LOG_LEVEL="warning",
    )
    log_path = tmp_path / "webhooks.log"

    def worker() -> Crmledger:
        return Crmledger(["worker", "--role", "webhooks"], env, log_path)

    def delivered() -> int:
        return len({r.envelope["event_id"] for r in receiver.received})

    for _ in range(20):
        write()
    try:
        with Background(write, "writing"), Background(answer_now_and_then, "flaky receiver"):
            for _ in range(KILLS):
                process = worker()
                before = delivered()
                wait_until(
                    lambda b=before: delivered() > b, "an event was delivered", process=process
                )
                timing.sleep(rng.uniform(0.0, 0.3))
                process.kill()
        receiver.status = 200
        process = worker()
        last = services.store.max_position()
        expected = {
            str(e.originator_id) + f":{e.originator_version}"
            for e in events_between(services.event_log, registered_at, last, ())
        }

        def all_arrived() -> bool:
            got = {
                f"{r.envelope['aggregate_id']}:{r.envelope['aggregate_version']}"
                for r in list(receiver.received)
            }
            return expected <= got

        wait_until(all_arrived, "every event arrived", process=process, timeout=120)
        assert process.terminate() == 0, process.output()
    finally:
        receiver.close()

    context = f"seed {seed}"
    assert services.store.tracked_position(PROCESS) >= last, context
    received = list(receiver.received)
    assert all(verifies(r, SECRET) for r in received), context
    versions: dict[str, list[int]] = defaultdict(list)
    for r in received:
        versions[r.envelope["aggregate_id"]].append(r.envelope["aggregate_version"])
    for aggregate, seen in versions.items():
        assert seen == sorted(seen), f"{context}: {aggregate} arrived as {seen}"
    repeats = len(received) - len({r.envelope["event_id"] for r in received})
    print(f"{len(received)} deliveries, {repeats} repeated after crashes ({context})")
