"""Tasks and notifications over HTTP, as real users with real tokens: a task made for the
caller by default (201 with Location), read, listed (``assignee=me``, ``overdue``,
``about``), changed, completed, reopened; seen by its assignee, its creator and their
managers only (404 to anyone else); each user's notifications theirs alone."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.http.helpers import (
    JSON,
    assert_error,
    command_ok,
    make_opportunity,
    project,
    query_ok,
    services_of,
)
from tests.identity import bearer, user_token

DUE = "2027-03-10T15:00:00Z"  # after the test clock's now (2027-01-04 09:00Z)
PAST = "2027-01-01T12:00:00Z"  # before it


@pytest.fixture
def people(client: TestClient) -> dict[str, dict[str, str]]:
    services = services_of(client)
    user_token(services, "boss", "manager")
    people = {
        "alice": bearer(user_token(services, "alice", "rep", manager="boss")),
        "bob": bearer(user_token(services, "bob", "rep")),
        "boss": bearer(user_token(services, "boss", "manager")),
        "ann": bearer(user_token(services, "ann", "analyst")),
    }
    project(client)  # a manager's team is read from the users read model
    return people


def make_task(client: TestClient, headers: dict[str, str], **fields: Any) -> JSON:
    body = {"title": "Call back", "due": DUE, **fields}
    return command_ok(client.post("/tasks", json=body, headers=headers), 201)


def listed(client: TestClient, headers: dict[str, str], **params: Any) -> list[JSON]:
    project(client)
    items: list[JSON] = query_ok(client.get("/tasks", params=params, headers=headers))["items"]
    return items


def test_a_task_is_the_callers_by_default_with_its_reminder(
    client: TestClient, people: dict[str, dict[str, str]]
) -> None:
    alice = people["alice"]
    made = client.post(
        "/tasks",
        json={"title": "Call back", "due": DUE, "remind_before_minutes": 90},
        headers=alice,
    )
    task = command_ok(made, 201)
    assert made.headers["Location"] == f"/tasks/{task['id']}"
    read = query_ok(client.get(f"/tasks/{task['id']}", headers=alice))
    assert (read["assignee"], read["created_by"], read["status"]) == ("alice", "alice", "open")
    assert read["reminder_at"] == "2027-03-10T13:30:00+00:00"
    assert (read["overdue"], read["about"]) == (False, None)


def test_a_task_is_seen_by_assignee_creator_and_their_managers_only(
    client: TestClient, people: dict[str, dict[str, str]]
) -> None:
    task = make_task(client, people["bob"], assignee="alice")
    url = f"/tasks/{task['id']}"
    for who in ("alice", "bob", "boss", "ann"):
        assert client.get(url, headers=people[who]).status_code == 200, who
    carol = bearer(user_token(services_of(client), "carol", "rep"))
    assert_error(client.get(url, headers=carol), 404, "not_found")
    before = services_of(client).store.max_position()
    for method, path, body in (
        ("PATCH", url, {"title": "Mine now"}),
        ("POST", f"{url}/complete", None),
    ):
        assert_error(client.request(method, path, json=body, headers=carol), 404, "not_found")
    assert services_of(client).store.max_position() == before
    # the manager of the assignee works it
    changed = client.patch(url, json={"notes": "Ask for the budget"}, headers=people["boss"])
    command_ok(changed)
    # lists: each sees the tasks they may see
    assert [t["id"] for t in listed(client, people["alice"])] == [task["id"]]
    assert [t["id"] for t in listed(client, people["bob"])] == [task["id"]]
    assert listed(client, carol) == []
    assert [t["id"] for t in listed(client, people["alice"], assignee="me")] == [task["id"]]
    assert listed(client, people["bob"], assignee="me") == []


def test_overdue_lists_open_tasks_due_before_now(
    client: TestClient, people: dict[str, dict[str, str]]
) -> None:
    alice = people["alice"]
    late = make_task(client, alice, title="Late", due=PAST)
    make_task(client, alice, title="Later")
    assert [t["title"] for t in listed(client, alice, overdue="true")] == ["Late"]
    assert [t["title"] for t in listed(client, alice)] == ["Late", "Later"]  # soonest first
    command_ok(client.post(f"/tasks/{late['id']}/complete", headers=alice))
    assert listed(client, alice, overdue="true") == []
    assert [t["title"] for t in listed(client, alice, status="done")] == ["Late"]
    # completing again is refused, reopening brings it back
    assert_error(client.post(f"/tasks/{late['id']}/complete", headers=alice), 409)
    command_ok(client.post(f"/tasks/{late['id']}/reopen", headers=alice))
    assert [t["title"] for t in listed(client, alice, overdue="true")] == ["Late"]


def test_a_task_about_a_record_needs_one_the_caller_sees(
    client: TestClient, people: dict[str, dict[str, str]]
) -> None:
    deal = make_opportunity(client, owner="bob")
    about = {"type": "opportunity", "id": deal}
    assert_error(
        client.post(
            "/tasks", json={"title": "x", "due": DUE, "about": about}, headers=people["alice"]
        ),
        404,
        "not_found",
    )
    task = make_task(client, people["bob"], about=about)
    assert [t["id"] for t in listed(client, people["bob"], about=deal)] == [task["id"]]
    assert listed(client, people["bob"], about=task["id"]) == []


def test_notifications_are_the_recipients_alone(
    client: TestClient, people: dict[str, dict[str, str]]
) -> None:
    # Given bob making a task for alice, and the notifications process caught up
    task = make_task(client, people["bob"], assignee="alice")
    services_of(client).notifications_process().catch_up()
    project(client)
    # Then alice has one notification of it, and bob none
    mine = query_ok(client.get("/notifications", headers=people["alice"]))["items"]
    assert [(n["kind"], n["about"], n["read"]) for n in mine] == [
        ("task_assigned", {"type": "task", "id": task["id"]}, False)
    ]
    assert query_ok(client.get("/notifications", headers=people["bob"]))["items"] == []
    # When bob, or an admin, marks it read: not there for them
    url = f"/notifications/{mine[0]['id']}/read"
    assert_error(client.post(url, headers=people["bob"]), 404, "not_found")
    assert_error(client.post(url), 404, "not_found")  # the client's admin
    # When alice does, it is read
    command_ok(client.post(url, headers=people["alice"]))
    project(client)
    unread = client.get("/notifications", params={"unread": "true"}, headers=people["alice"])
    assert query_ok(unread)["items"] == []
