"""Webhooks over HTTP, as real users with real tokens: an admin registers an endpoint (its
secret answered once), lists the webhooks (no secrets), reads each one's deliveries,
enables a disabled one again and deletes it; other roles are refused (403, nothing
written); URLs of private addresses and unknown event types are refused (422)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from adapters.webhooks.outbox import WebhookOutbox
from adapters.webhooks.sender import SenderSettings, WebhookSender
from commands.webhooks import DisableWebhook
from tests.http.helpers import JSON, command_ok, query_ok, refused, services_of
from tests.identity import bearer, user_token
from tests.webhook_receiver import Receiver, verifies


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    yield running
    running.close()


@pytest.fixture
def local(client: TestClient) -> TestClient:
    """The client, its server allowing private addresses (the receiver is on loopback)."""
    services = services_of(client)
    services.settings = services.settings.model_copy(update={"webhook_allow_private": "yes"})
    return client


def register(client: TestClient, url: str, events: list[str] | None = None) -> JSON:
    return command_ok(client.post("/webhooks", json={"url": url, "events": events or ["*"]}), 201)


def deliver(client: TestClient) -> None:
    services = services_of(client)
    outbox = WebhookOutbox(services.store, services.clock.now)
    while outbox.catch_up():
        pass
    settings = SenderSettings(timeout=2.0, allow_private=True)
    with WebhookSender(services.store, services.bus, services.clock.now, settings) as send:
        while send.deliver_due():
            pass


def test_an_admin_registers_lists_reads_deliveries_and_deletes(
    local: TestClient, receiver: Receiver
) -> None:
    answer = register(local, receiver.url, ["AccountCreated"])
    assert re.fullmatch("[0-9a-f]{64}", answer["secret"])
    webhook_id = answer["id"]
    listed = query_ok(local.get("/webhooks"))["items"]
    assert listed == [
        {
            "id": webhook_id,
            "url": receiver.url,
            "events": ["AccountCreated"],
            "owner": "admin",
            "status": "enabled",
            "disabled_reason": None,
            "failures": 0,
            "version": 1,
        }
    ]
    for name in ("Acme", "Globex"):
        command_ok(local.post("/accounts", json={"name": name}), 201)
    deliver(local)
    assert len(receiver.received) == 2
    assert all(verifies(r, answer["secret"]) for r in receiver.received)
    page = query_ok(local.get(f"/webhooks/{webhook_id}/deliveries", params={"limit": 1}))
    (newest,) = page["items"]
    assert newest["status"] == "delivered" and newest["attempts"] == 1
    assert newest["last_status_code"] == 200 and newest["event_type"] == "AccountCreated"
    assert newest["event_id"] == receiver.received[-1].envelope["event_id"]
    rest = query_ok(
        local.get(
            f"/webhooks/{webhook_id}/deliveries", params={"limit": 1, "cursor": page["next_cursor"]}
        )
    )
    assert rest["items"][0]["position"] < newest["position"] and rest["next_cursor"] is None
    command_ok(local.delete(f"/webhooks/{webhook_id}"))
    assert query_ok(local.get("/webhooks"))["items"] == []
    refused(local, "GET", f"/webhooks/{webhook_id}/deliveries", 404, "not_found")
    assert services_of(local).store.secret(UUID(webhook_id)) is None


def test_the_secret_is_in_no_event_and_a_repeat_answers_the_same(local: TestClient) -> None:
    key = {"Idempotency-Key": "hook-1"}
    body = {"url": "http://127.0.0.1:9/x", "events": ["*"]}
    first = command_ok(local.post("/webhooks", json=body, headers=key), 201)
    again = command_ok(local.post("/webhooks", json=body, headers=key), 201)
    assert again["id"] == first["id"] and again["secret"] == first["secret"]
    history = query_ok(local.get(f"/history/{first['id']}"))
    assert first["secret"] not in str(history)
    services = services_of(local)
    assert all(first["secret"] not in str(e) for e in services.store.history(UUID(first["id"])))


def test_a_disabled_webhook_is_enabled_again(local: TestClient) -> None:
    webhook_id = register(local, "http://127.0.0.1:9/x")["id"]
    services_of(local).bus.execute(DisableWebhook(webhook_id=UUID(webhook_id), reason="failing"))
    (listed,) = query_ok(local.get("/webhooks"))["items"]
    assert (listed["status"], listed["disabled_reason"]) == ("disabled", "failing")
    command_ok(local.post(f"/webhooks/{webhook_id}/enable"))
    assert query_ok(local.get("/webhooks"))["items"][0]["status"] == "enabled"
    refused(local, "POST", f"/webhooks/{webhook_id}/enable", 409)


@pytest.mark.parametrize("role", ["rep", "manager", "auditor", "analyst"])
def test_only_admins(client: TestClient, role: str) -> None:
    webhook_id = register(client, "https://93.184.216.34/x")["id"]
    who = bearer(user_token(services_of(client), f"someone-{role}", role))
    body = {"url": "https://93.184.216.34/x", "events": ["*"]}
    refused(client, "POST", "/webhooks", 403, "forbidden", json=body, headers=who)
    refused(
        client,
        "POST",
        "/webhooks",
        403,
        "forbidden",
        json={**body, "url": "http://10.0.0.1/"},
        headers=who,
    )
    refused(client, "GET", "/webhooks", 403, "forbidden", headers=who)
    refused(client, "GET", f"/webhooks/{webhook_id}/deliveries", 403, "forbidden", headers=who)
    refused(client, "DELETE", f"/webhooks/{webhook_id}", 403, "forbidden", headers=who)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://10.0.0.8/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "http://[fe80::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://localhost:8000/hook",
        "ftp://93.184.216.34/x",
    ],
)
def test_urls_of_private_addresses_are_refused(client: TestClient, url: str) -> None:
    body = refused(client, "POST", "/webhooks", 422, json={"url": url, "events": ["*"]})
    assert body["detail"].endswith(".")


def test_unknown_event_types_are_refused_with_their_names(client: TestClient) -> None:
    body = refused(
        client,
        "POST",
        "/webhooks",
        422,
        "invalid_input",
        json={"url": "https://93.184.216.34/x", "events": ["OpportunitySold", "DealWon"]},
    )
    # (the document lists the names: the refusal says which item is none of them)
    assert body["detail"].startswith("events.named.1 must be the name of an event type")
    # And "*" goes alone
    alone = refused(
        client,
        "POST",
        "/webhooks",
        422,
        "invalid_input",
        json={"url": "https://93.184.216.34/x", "events": ["*", "OpportunitySold"]},
    )
    assert alone["detail"].startswith("events.all")
