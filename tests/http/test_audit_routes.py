"""``GET /audit/access`` and ``GET /audit/actions``: who read a record's personal data, and
the commands a user ran — in the list envelope, oldest first, in keyset pages."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from adapters.clock import ManualClock
from tests.conftest import T0
from tests.http.helpers import assert_error, command_ok, project, query_ok, services_of
from tests.identity import bearer, user_token

LEAD = {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.org"}


def _auditor(client: TestClient) -> dict[str, str]:
    return bearer(user_token(services_of(client), "audrey", "auditor"))


def _clock(client: TestClient) -> ManualClock:
    clock = services_of(client).clock
    assert isinstance(clock, ManualClock)
    return clock


def _page(client: TestClient, who: dict[str, str], url: str, **params: Any) -> dict[str, Any]:
    page: dict[str, Any] = query_ok(client.get(url, headers=who, params=params))
    assert set(page) == {"items", "next_cursor", "as_of"}
    return page


# --- /audit/access ---------------------------------------------------------------------


def test_the_access_log_pages_oldest_first_and_a_page_never_repeats_an_entry(
    client: TestClient,
) -> None:
    # Given a lead read three times, a minute apart, and another lead read once
    auditor = _auditor(client)
    lead = str(command_ok(client.post("/leads", json=LEAD), 201)["id"])
    other = str(command_ok(client.post("/leads", json=LEAD), 201)["id"])
    for n in range(3):
        _clock(client).advance(timedelta(minutes=1))
        assert client.get(f"/leads/{lead}", headers={"X-Request-ID": f"r{n}"}).is_success
    assert client.get(f"/leads/{other}").is_success
    # When an auditor asks for two entries at a time
    first = _page(client, auditor, "/audit/access", record=lead, limit=2)
    # Then the oldest two come, and a cursor to the rest
    assert [e["request_id"] for e in first["items"]] == ["r0", "r1"]
    assert [e["at"] for e in first["items"]] == [
        (T0 + timedelta(minutes=m)).isoformat() for m in (1, 2)
    ]
    assert first["next_cursor"] is not None
    assert first["as_of"]["position"] == services_of(client).store.max_position()
    # When the lead is read once more before the next page is asked for
    assert client.get(f"/leads/{lead}", headers={"X-Request-ID": "r3"}).is_success
    rest = _page(
        client, auditor, "/audit/access", record=lead, limit=2, cursor=first["next_cursor"]
    )
    # Then the next page goes on where the first ended: nothing repeated, nothing missed
    assert [e["request_id"] for e in rest["items"]] == ["r2", "r3"]
    assert rest["next_cursor"] is None
    # and another record's reads are its own
    assert [
        e["record_id"] for e in _page(client, auditor, "/audit/access", record=other)["items"]
    ] == [other]


def test_the_access_log_refuses_bad_paging_in_a_sentence(client: TestClient) -> None:
    auditor = _auditor(client)
    lead = str(command_ok(client.post("/leads", json=LEAD), 201)["id"])

    def ask(**params: Any) -> Any:
        return client.get("/audit/access", headers=auditor, params=params)

    assert_error(ask(), 422, "invalid_input")  # no record
    assert_error(ask(record="not-an-id"), 422, "invalid_input")
    assert_error(ask(record=lead, limit=0), 422, "invalid_input")
    assert_error(ask(record=lead, limit=501), 422, "invalid_input")
    refused = assert_error(ask(record=lead, cursor="bm9wZQ"), 404, "not_found")
    assert refused["detail"] == "cursor 'bm9wZQ' is not a next_cursor this list gave."
    # a cursor of the other audit route is not one of this route's (the admin made two leads)
    command_ok(client.post("/leads", json=LEAD), 201)
    project(client)
    actions = _page(client, auditor, "/audit/actions", by="admin", limit=1)
    assert actions["next_cursor"] is not None
    assert_error(ask(record=lead, cursor=actions["next_cursor"]), 404, "not_found")
    # and a record no one read has an empty log
    assert _page(client, auditor, "/audit/access", record=lead)["items"] == []


# --- /audit/actions ----------------------------------------------------------------------


class Work:
    """alice (a rep) creates a deal, moves it an hour later, and an hour after that
    qualifies a lead (one command writing to the lead, a new opportunity and its account);
    bob creates a deal in between. Each request carries its own X-Request-ID."""

    def __init__(self, client: TestClient) -> None:
        services = services_of(client)
        self.client = client
        self.alice = bearer(user_token(services, "alice", "rep"))
        bob = bearer(user_token(services, "bob", "rep"))
        lead = command_ok(client.post("/leads", json={**LEAD, "owner": "alice"}), 201)
        self.lead = str(lead["id"])
        clock = _clock(client)
        clock.advance(timedelta(hours=1))
        self.created = self._run("POST", "/opportunities", "a-1", self._deal("alice"), 201)
        self.deal = str(self.created["id"])
        self._run("POST", "/opportunities", "b-1", self._deal("bob"), 201, who=bob)
        self.start = clock.advance(timedelta(hours=1))
        move = {"stage": "proposal"}
        self.moved = self._run("POST", f"/opportunities/{self.deal}/stage", "a-2", move, 200)
        clock.advance(timedelta(hours=1))
        deal = {"title": "Ada's", "expected_close": "2027-06-30", "account_name": "Engines"}
        qualify = {"opportunity": deal}
        self.qualified = self._run("POST", f"/leads/{self.lead}/qualify", "a-3", qualify, 200)
        project(client)

    @staticmethod
    def _deal(owner: str) -> dict[str, Any]:
        return {
            "title": f"{owner}'s deal",
            "owner": owner,
            "expected_close": "2027-06-30",
            "account_name": "ACME",
        }

    def _run(
        self,
        method: str,
        url: str,
        request_id: str,
        body: dict[str, Any],
        status: int,
        *,
        who: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        headers = {**(who or self.alice), "X-Request-ID": request_id}
        return command_ok(self.client.request(method, url, json=body, headers=headers), status)


def test_the_actions_of_a_user_are_their_commands_with_the_events_each_wrote(
    client: TestClient,
) -> None:
    # Given alice's and bob's work
    work = Work(client)
    # When an auditor asks for alice's actions
    page = _page(client, _auditor(client), "/audit/actions", by="alice")
    # Then they are her three commands, oldest first, each with its request, its cause,
    # when, and the events it wrote (type, aggregate, position)
    items = page["items"]
    assert [a["request_id"] for a in items] == ["a-1", "a-2", "a-3"]
    assert all(a["by"] == "alice" and a["causation_id"] for a in items)
    assert len({a["causation_id"] for a in items}) == 3
    assert [a["recorded_at"] for a in items] == [
        (T0 + timedelta(hours=h)).isoformat() for h in (1, 2, 3)
    ]
    created, moved, qualified = items
    # (the deal, and its account, new: one save)
    assert {(e["type"], e["aggregate_id"] == work.deal) for e in created["events"]} == {
        ("AccountCreated", False),
        ("OpportunityCreated", True),
    }
    assert created["position"] == work.created["position"]
    assert [(e["type"], e["aggregate_id"], e["position"]) for e in moved["events"]] == [
        ("OpportunityMovedToStage", work.deal, work.moved["position"])
    ]
    # one command, one action, however many aggregates it wrote to
    qualified_types = {e["type"] for e in qualified["events"]}
    assert {"LeadQualified", "OpportunityCreated", "AccountCreated"} <= qualified_types
    # (the lead, its opportunity, its account and the contact of its person)
    assert len({e["aggregate_id"] for e in qualified["events"]}) == 4
    positions = [e["position"] for e in qualified["events"]]
    assert positions == sorted(positions) and positions[-1] == work.qualified["position"]
    assert page["next_cursor"] is None
    assert page["as_of"]["position"] == services_of(client).queries.tracked()


def test_actions_are_read_within_a_span_of_time_in_pages_and_as_of_a_position(
    client: TestClient,
) -> None:
    work = Work(client)
    auditor = _auditor(client)

    def ids(**params: Any) -> list[str]:
        page = _page(client, auditor, "/audit/actions", by="alice", **params)
        return [a["request_id"] for a in page["items"]]

    # from is inclusive, to exclusive; an offset's `+` sent unencoded still reads as one
    start = work.start.isoformat()
    assert ids(**{"from": start}) == ["a-2", "a-3"]
    assert ids(to=start) == ["a-1"]
    spaced = start.replace("+", " ")
    assert ids(**{"from": spaced, "to": (work.start + timedelta(hours=1)).isoformat()}) == ["a-2"]
    # one at a time, each page going on from the cursor of the one before
    first = _page(client, auditor, "/audit/actions", by="alice", limit=1)
    second = _page(
        client, auditor, "/audit/actions", by="alice", limit=1, cursor=first["next_cursor"]
    )
    third = _page(
        client, auditor, "/audit/actions", by="alice", limit=1, cursor=second["next_cursor"]
    )
    assert [p["items"][0]["request_id"] for p in (first, second, third)] == ["a-1", "a-2", "a-3"]
    assert third["next_cursor"] is None
    # as of the move's position: what had been done by then
    assert ids(as_of=str(work.moved["position"])) == ["a-1", "a-2"]


def test_actions_refuse_bad_input_in_a_sentence(client: TestClient) -> None:
    auditor = _auditor(client)

    def ask(**params: Any) -> Any:
        return client.get("/audit/actions", headers=auditor, params=params)

    assert_error(ask(), 422, "invalid_input")  # by is required
    bad = assert_error(ask(by="alice", **{"from": "yesterday"}), 422, "invalid_input")
    assert bad["detail"] == "from must be an instant with offset like 2027-03-31T17:00:00Z."
    naive = assert_error(ask(by="alice", to="2027-01-04T09:00:00"), 422, "invalid_input")
    assert naive["detail"] == "to must be an instant with offset like 2027-03-31T17:00:00Z."
    # to before from: an empty span of time, in which nobody did anything
    backwards = {"from": "2027-02-01T00:00:00Z", "to": "2027-01-01T00:00:00Z"}
    assert ask(by="alice", **backwards).json()["items"] == []
    assert_error(ask(by="alice", cursor="!!"), 422, "invalid_input")
    assert_error(ask(by="alice", limit=501), 422, "invalid_input")


def test_actions_are_read_through_the_index_on_who_and_when(client: TestClient) -> None:
    # Given some work, and every statement the read model is asked during one request
    Work(client)
    views = services_of(client).views
    asked: list[tuple[str, list[Any]]] = []
    select = views.select

    def spy(statement: str, params: Any = (), kinds: Any = None) -> Any:
        asked.append((statement, list(params)))
        return select(statement, params, kinds)

    views.select = spy  # type: ignore[method-assign]
    try:
        query_ok(client.get("/audit/actions", headers=_auditor(client), params={"by": "alice"}))
    finally:
        del views.select  # type: ignore[method-assign]
    # Then the audit table is searched by its index, never scanned
    audit = [(s, p) for s, p in asked if "audit_events" in s]
    assert audit
    for statement, params in audit:
        plan = " ".join(
            str(row[-1]) for row in views.select("EXPLAIN QUERY PLAN " + statement, params)
        )
        assert "USING INDEX" in plan and "SCAN" not in plan, plan
