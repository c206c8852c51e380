"""The contract routes of docs/api.md: GET /contracts (filters, as of, wait_for), the summary,
GET /contracts/{id}, cancel and fulfil.

Most tests run on the embedded store (``client``); the key ones also on PostgreSQL
(``any_client``). The process manager and the projector do not run in the background
here: ``sync`` catches both up, as the workers would, unless the test is about
``wait_for``.

The seeded contracts (EUR; both deals sold at 2027-01-04 09:00 UTC, the contracts recorded
by the process manager an hour later):

    deal    owner  item                             contract        value kind, category  end
    ACME    alice  3 × Licence at 100.00            Licence        300.00 time, software  2028-01-04
                   1 × Suite at 100.00 (bundle of   Suite: Licence  66.67 time, software  2028-01-04
                   Licence ×2, Support ×1)          Suite: Support  33.33 time, support   2028-01-04
                   1 × Box at 100.00                Box            100.00 one-off, impl.
    GLOBEX  bob    2 × Support at 100.00 from 03-01 Support        200.00 time, support   2028-03-01
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from adapters.bootstrap import Services
from adapters.clock import ManualClock
from adapters.http import routes_contracts
from adapters.http.paging import make_key_cursor
from tests.conftest import T0
from tests.http.helpers import (
    JSON,
    activate,
    add_item,
    as_of,
    assert_error,
    command_ok,
    every_page,
    is_uuid,
    key_reused,
    log_position,
    make_bundle,
    make_opportunity,
    make_price_book,
    make_product,
    make_quote,
    money,
    project,
    query_ok,
    refused,
    services_of,
    set_price,
    summary_rows,
)
from tests.identity import TEAM

pytestmark = pytest.mark.users(*TEAM)

RECORDED = T0 + timedelta(hours=1)  # when the process manager wrote the contracts


@dataclass
class Seed:
    acme: str
    globex: str
    acme_account: str
    globex_account: str
    sold_position: int  # the last sale's position: no contract yet
    licence: str  # contract ids
    suite_licence: str
    suite_support: str
    box: str
    support: str


def sync(client: TestClient) -> int:
    """Run the process manager and the projector up to the log's end; the read model's
    position."""
    services_of(client).contracts_process().catch_up()
    return project(client)


def sell(client: TestClient, opportunity_id: str) -> JSON:
    return command_ok(client.post(f"/opportunities/{opportunity_id}/sell", json={}))


def listed(client: TestClient, **params: Any) -> list[JSON]:
    """The contracts of one page (the first, unless a cursor says another)."""
    body = query_ok(client.get("/contracts", params=params))
    assert isinstance(body, dict)
    items: list[JSON] = body["items"]
    return items


def names(contracts: list[JSON]) -> list[str]:
    return sorted(c["name"] for c in contracts)


def by_name(client: TestClient) -> dict[str, str]:
    return {c["name"]: c["id"] for c in listed(client)}


def seed(client: TestClient, clock: ManualClock) -> Seed:
    licence = make_product(client, "LIC", name="Licence")
    support = make_product(client, "SUP", name="Support", category="support")
    box = make_product(
        client, "BOX", name="Box", category="implementation", kind="one_off", term_months=None
    )
    book = make_price_book(client)
    for product in (licence, support, box):
        set_price(client, book, product)
    bundle = make_bundle(client, book, (licence, "2"), (support, "1"))
    set_price(client, book, bundle)

    acme = make_opportunity(client, title="ACME rollout", account_name="ACME", owner="alice")
    quote = make_quote(client, acme, price_book_id=book)
    add_item(client, quote, product_id=licence, quantity="3", name=None, unit_price=None)
    add_item(client, quote, product_id=bundle, quantity="1", name=None, unit_price=None)
    add_item(client, quote, product_id=box, quantity="1", name=None, unit_price=None)
    activate(client, quote)
    sell(client, acme)

    globex = make_opportunity(client, title="Globex support", account_name="Globex", owner="bob")
    quote = make_quote(client, globex, price_book_id=book)
    add_item(
        client,
        quote,
        product_id=support,
        quantity="2",
        start="2027-03-01",
        name=None,
        unit_price=None,
    )
    activate(client, quote)
    sold = sell(client, globex)

    clock.advance(timedelta(hours=1))
    sync(client)
    ids = by_name(client)
    opportunities = {o: query_ok(client.get(f"/opportunities/{o}")) for o in (acme, globex)}
    return Seed(
        acme=acme,
        globex=globex,
        acme_account=opportunities[acme]["account_id"],
        globex_account=opportunities[globex]["account_id"],
        sold_position=sold["position"],
        licence=ids["Licence"],
        suite_licence=ids["Suite: Licence"],
        suite_support=ids["Suite: Support"],
        box=ids["Box"],
        support=ids["Support"],
    )


@pytest.fixture
def seeded(client: TestClient, clock: ManualClock) -> Iterator[Seed]:
    yield seed(client, clock)


# --- GET /contracts -----------------------------------------------------------------------------


def check_list(client: TestClient, s: Seed) -> None:
    everything = listed(client)
    # by end date, the one without an end last (on either store)
    assert [c["end"] for c in listed(client, sort="end")] == [
        "2028-01-04",
        "2028-01-04",
        "2028-01-04",
        "2028-03-01",
        None,
    ]
    required = {
        "id",
        "opportunity_id",
        "quote_item_id",
        "product_id",
        "kind",
        "category",
        "value",
        "start",
        "end",
        "status",
    }
    for found in everything:
        assert required <= set(found), found
        assert is_uuid(found["id"]) and found["status"] == "active"
    licence = next(c for c in everything if c["id"] == s.licence)
    assert (licence["opportunity_id"], licence["account_id"], licence["owner"]) == (
        s.acme,
        s.acme_account,
        "alice",
    )
    assert (licence["kind"], licence["category"], licence["value"]) == (
        "time_based",
        "software",
        money("300.00"),
    )
    assert (licence["start"], licence["end"]) == ("2027-01-04", "2028-01-04")
    suite = {c["name"]: c["value"] for c in everything if c["name"].startswith("Suite")}
    assert suite == {"Suite: Licence": money("66.67"), "Suite: Support": money("33.33")}
    box = next(c for c in everything if c["id"] == s.box)
    assert (box["kind"], box["end"]) == ("one_off", None)
    support = next(c for c in everything if c["id"] == s.support)
    assert (support["start"], support["end"], support["value"]) == (
        "2027-03-01",
        "2028-03-01",
        money("200.00"),
    )

    # each filter
    acme_four = ["Box", "Licence", "Suite: Licence", "Suite: Support"]
    assert names(listed(client, opportunity_id=s.acme)) == acme_four
    assert names(listed(client, opportunity_id=s.globex)) == ["Support"]
    assert names(listed(client, account_id=s.acme_account)) == acme_four
    assert names(listed(client, account_id=s.globex_account)) == ["Support"]
    assert names(listed(client, status="active")) == names(everything)
    assert listed(client, status="expired") == []
    assert names(listed(client, category="support")) == ["Suite: Support", "Support"]
    assert names(listed(client, category="implementation")) == ["Box"]
    assert names(listed(client, kind="one_off")) == ["Box"]
    assert names(listed(client, kind="time_based")) == [
        "Licence",
        "Suite: Licence",
        "Suite: Support",
        "Support",
    ]
    assert names(listed(client, owner="bob")) == ["Support"]
    assert names(listed(client, expires_from="2028-02-01")) == ["Support"]
    assert names(listed(client, expires_to="2028-01-31")) == [
        "Licence",
        "Suite: Licence",
        "Suite: Support",
    ]
    assert names(listed(client, expires_from="2028-01-04", expires_to="2028-01-04")) == [
        "Licence",
        "Suite: Licence",
        "Suite: Support",
    ]
    assert names(listed(client, owner="alice", category="software", kind="time_based")) == [
        "Licence",
        "Suite: Licence",
    ]


def test_contracts_are_listed_in_the_api_shape_and_filtered_by_every_filter(
    client: TestClient, seeded: Seed
) -> None:
    check_list(client, seeded)


def test_contracts_are_listed_and_filtered_alike_on_both_stores(
    any_client: TestClient, clock: ManualClock
) -> None:
    check_list(any_client, seed(any_client, clock))


def test_the_list_says_the_position_it_reflects(client: TestClient, seeded: Seed) -> None:
    # Given the read model caught up
    position = services_of(client).queries.tracked()
    # When the list is asked for now, Then the headers say the read model's position
    now, recorded_at = as_of(client, "/contracts")
    assert (now, recorded_at[:19]) == (position, "2027-01-04T10:00:00")
    # and as of a position, that position
    then, recorded_at = as_of(client, "/contracts", as_of=seeded.sold_position)
    assert (then, recorded_at[:19]) == (seeded.sold_position, "2027-01-04T09:00:00")


SORTS = ("created", "start", "end", "status")


def reverse(sort: str) -> str:
    return sort[1:] if sort.startswith("-") else f"-{sort}"


def check_paging(client: TestClient, clock: ManualClock, s: Seed) -> None:
    def ids(contracts: list[JSON]) -> list[str]:
        return [c["id"] for c in contracts]

    # Given the five contracts, the Box fulfilled
    command_ok(client.post(f"/contracts/{s.box}/fulfil"))
    sync(client)
    # Then by default they come in the order they were made: GLOBEX's, sold last, last
    made = ids(listed(client, limit=500))
    assert sorted(made[:4]) == sorted([s.licence, s.suite_licence, s.suite_support, s.box])
    assert made[4] == s.support
    for sort in (*SORTS, *map(reverse, SORTS)):
        # When the whole list is read in one page, and page by page by its cursors
        whole = listed(client, sort=sort, limit=500)
        # Then every page size gives the same contracts in the same order, `-` the reverse
        for limit in (1, 2):
            assert ids(every_page(client, "/contracts", limit, sort=sort)) == ids(whole), sort
        assert ids(listed(client, sort=reverse(sort), limit=500)) == ids(whole)[::-1]
    # And each order is its field's, ties in the order made; without an end: last
    by_end = listed(client, sort="end")
    assert [c["end"] for c in by_end] == [*["2028-01-04"] * 3, "2028-03-01", None]
    assert ids(by_end)[:3] == [i for i in made if i in ids(by_end)[:3]]
    assert listed(client, sort="-start")[0]["start"] == "2027-03-01"
    by_status = listed(client, sort="status")
    assert [c["status"] for c in by_status] == [*["active"] * 4, "fulfilled"]
    # And filters page alike
    support = every_page(client, "/contracts", 1, sort="-end", category="support")
    assert ids(support) == [s.support, s.suite_support]
    # When a deal is sold between two pages
    first = query_ok(client.get("/contracts", params={"limit": 3}))
    assert ids(first["items"]) == made[:3]
    deal = make_opportunity(client, title="Initech", account_name="Initech", owner="carol")
    quote = make_quote(client, deal)
    add_item(client, quote, name="Rollout", unit_price="500.00", kind="one_off")
    activate(client, quote)
    sell(client, deal)
    sync(client)
    # Then the pages after hold every other contract once, its contract last
    rest = every_page(client, "/contracts", 3, cursor=first["next_cursor"])
    assert ids(rest)[:2] == made[3:]
    assert [c["name"] for c in rest[2:]] == ["Rollout"]
    # And a cursor of another order, or made up, is no page of this one
    cursor = first["next_cursor"]
    assert_error(client.get("/contracts", params={"sort": "-created", "cursor": cursor}), 404)
    assert_error(client.get("/leads", params={"cursor": cursor}), 404)
    for key in ([0, "2028-02-30", 5], [0, 5], [2, "2028-01-04", 5]):
        made_up = make_key_cursor("contracts:end", key)
        response = client.get("/contracts", params={"sort": "end", "cursor": made_up})
        if key[0] == 2:  # well formed: after the last key there is no contract
            assert query_ok(response)["items"] == []
        else:
            assert_error(response, 404, "not_found")


def test_paging_the_contracts_by_cursor_gives_each_order_whole(
    any_client: TestClient, clock: ManualClock
) -> None:
    check_paging(any_client, clock, seed(any_client, clock))


def test_as_of_before_the_contracts_were_made_lists_none_and_after_lists_them(
    client: TestClient, seeded: Seed
) -> None:
    # As of the sale's position (before the process manager wrote): nothing
    assert listed(client, as_of=str(seeded.sold_position)) == []
    # As of an instant before the contracts were recorded: nothing either
    assert listed(client, as_of=(RECORDED - timedelta(minutes=30)).isoformat()) == []
    # As of the instant they were recorded, or a position after: all five
    assert len(listed(client, as_of=RECORDED.isoformat())) == 5
    assert len(listed(client, as_of=str(log_position(client)))) == 5

    # When a contract is cancelled later, a list as of before still shows it active
    before_cancel = log_position(client)
    body = {"reason": "customer left"}
    command_ok(client.post(f"/contracts/{seeded.licence}/cancel", json=body))
    sync(client)
    assert {c["status"] for c in listed(client, as_of=str(before_cancel))} == {"active"}
    assert [c["name"] for c in listed(client, status="cancelled")] == ["Licence"]
    assert listed(client, status="cancelled", as_of=str(before_cancel)) == []


def test_bad_list_parameters_are_422_and_as_of_beyond_the_read_model_is_409(
    client: TestClient, seeded: Seed
) -> None:
    for params in (
        {"status": "running"},
        {"kind": "monthly"},
        {"expires_from": "next year"},
        {"expires_to": "0"},  # a day is written as one, not as a count of seconds
        {"opportunity_id": "not-a-uuid"},
        {"as_of": "yesterday"},
        {"as_of": "2027-01-04T10:00:00"},  # no offset
        {"wait_for": "-1"},
        {"sort": "value"},
        {"limit": "501"},
        {"cursor": "?"},
    ):
        assert_error(client.get("/contracts", params=params), 422)
    empty = {"expires_from": "2028-02-01", "expires_to": "2028-01-01"}
    assert listed(client, **empty) == []
    detail = assert_error(client.get("/contracts", params={"as_of": "999999"}), 409)["detail"]
    assert "wait_for" in detail


# --- wait_for ----------------------------------------------------------------------------------


def test_wait_for_a_sale_answers_once_its_contracts_are_in_the_read_model(
    client: TestClient, seeded: Seed
) -> None:
    # Given the process manager and the projector running in the background, as serve runs them
    services = services_of(client)
    projector = services.start_projector()
    process = services.start_contracts_process()
    try:
        # When another deal is sold and the list waits for the sale's position
        deal = make_opportunity(client, title="Initech", account_name="Initech", owner="carol")
        quote = make_quote(client, deal)
        add_item(client, quote, name="Rollout", unit_price="500.00", kind="one_off")
        activate(client, quote)
        sold = sell(client, deal)
        response = client.get("/contracts", params={"wait_for": sold["position"]})
        # Then its contract is in the answer
        assert response.status_code == 200, response.text
        body = response.json()
        assert [c["name"] for c in body["items"] if c["opportunity_id"] == deal] == ["Rollout"]
        assert body["as_of"]["position"] > sold["position"]
        summary = query_ok(
            client.get("/contracts/summary", params={"by": "owner", "wait_for": sold["position"]})
        )
        assert {"owner": "carol", "currency": "EUR", "count": 1, "value": "500.00"} in summary[
            "rows"
        ]
    finally:
        process.stop()
        projector.stop()


def test_wait_for_a_sale_the_process_manager_has_not_processed_is_503(
    client: TestClient, seeded: Seed, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a sale the process manager has not read (no worker runs), and a short wait
    original = routes_contracts._wait_for_contracts

    def quick(services: Services, position: int | None, timeout: float = 5.0) -> None:
        original(services, position, timeout=0.2)

    monkeypatch.setattr(routes_contracts, "_wait_for_contracts", quick)
    deal = make_opportunity(client, title="Late", account_name="Late Ltd")
    quote = make_quote(client, deal)
    add_item(client, quote)
    activate(client, quote)
    sold = sell(client, deal)
    projector = services_of(client).projector()
    projector.start()
    projector.catch_up()  # the read model is up to date; only the contracts are missing
    # When the list waits for it, Then it answers 503 (retry later), not a list without it
    response = client.get("/contracts", params={"wait_for": sold["position"]})
    body = assert_error(response, 503, "not_caught_up")
    assert str(sold["position"]) in body["detail"]
    assert response.headers["Retry-After"] == "1"
    # And a position already processed does not wait
    assert len(listed(client, wait_for=seeded.sold_position)) == 5


# --- summary ------------------------------------------------------------------------------------


def test_the_summary_counts_and_sums_contracts_by_each_grouping(
    client: TestClient, seeded: Seed
) -> None:
    def rows(by: str, **params: Any) -> list[JSON]:
        return summary_rows(client, "/contracts/summary", by, **params)

    def row(key: str, group: Any, count: int, value: str) -> JSON:
        return {key: group, "currency": "EUR", "count": count, "value": value}

    assert rows("status") == [row("status", "active", 5, "700.00")]
    assert rows("category") == [
        row("category", "implementation", 1, "100.00"),
        row("category", "software", 2, "366.67"),
        row("category", "support", 2, "233.33"),
    ]
    assert sorted(rows("account"), key=lambda r: r["value"]) == sorted(
        [
            row("account", seeded.acme_account, 4, "500.00"),
            row("account", seeded.globex_account, 1, "200.00"),
        ],
        key=lambda r: r["value"],
    )
    # a contract without an end has no expiry month
    assert rows("expiry_month") == [
        row("expiry_month", None, 1, "100.00"),
        row("expiry_month", "2028-01", 3, "400.00"),
        row("expiry_month", "2028-03", 1, "200.00"),
    ]
    assert rows("owner") == [row("owner", "alice", 4, "500.00"), row("owner", "bob", 1, "200.00")]
    assert rows("kind") == [
        row("kind", "one_off", 1, "100.00"),
        row("kind", "time_based", 4, "600.00"),
    ]
    # the default grouping is by status; filters apply as on the list
    assert query_ok(client.get("/contracts/summary"))["by"] == "status"
    assert rows("category", owner="bob") == [row("category", "support", 1, "200.00")]

    # When the box is fulfilled and a licence cancelled, the status rows follow
    command_ok(client.post(f"/contracts/{seeded.box}/fulfil"))
    command_ok(client.post(f"/contracts/{seeded.licence}/cancel", json={"reason": "downsized"}))
    sync(client)
    assert rows("status") == [
        row("status", "active", 3, "300.00"),
        row("status", "cancelled", 1, "300.00"),
        row("status", "fulfilled", 1, "100.00"),
    ]
    # and as of the sale, nothing
    assert rows("status", as_of=str(seeded.sold_position)) == []
    assert_error(client.get("/contracts/summary", params={"by": "colour"}), 422)


# --- GET /contracts/{id} -------------------------------------------------------------------------


def test_one_contract_is_shown_with_its_version_and_links(client: TestClient, seeded: Seed) -> None:
    shown = query_ok(client.get(f"/contracts/{seeded.suite_support}"))
    assert shown["id"] == seeded.suite_support
    assert (shown["version"], shown["status"], shown["name"]) == (1, "active", "Suite: Support")
    assert (shown["kind"], shown["category"], shown["value"]) == (
        "time_based",
        "support",
        money("33.33"),
    )
    assert (shown["start"], shown["end"], shown["term_months"]) == ("2027-01-04", "2028-01-04", 12)
    assert (shown["opportunity_id"], shown["account_id"], shown["owner"]) == (
        seeded.acme,
        seeded.acme_account,
        "alice",
    )
    assert shown["renewal_opportunity_id"] is None
    assert is_uuid(shown["quote_item_id"]) and is_uuid(shown["component_product_id"])

    # Once due for renewal (the worker's tick), it shows its renewal opportunity
    services = services_of(client)
    # (2028-01-04 − 30 days = 2027-12-05: the three ACME contracts; Globex's is due in January)
    assert services.contracts_process().tick(T0 + timedelta(days=340)) == 3
    due = query_ok(client.get(f"/contracts/{seeded.suite_support}"))
    assert (due["status"], due["version"]) == ("renewal_due", 2)
    renewal = query_ok(client.get(f"/opportunities/{due['renewal_opportunity_id']}"))
    assert (renewal["account_id"], renewal["owner"]) == (seeded.acme_account, "alice")
    assert renewal["amount"] == money("33.33")
    sync(client)
    assert [c["renewal_opportunity_id"] for c in listed(client, status="renewal_due")].count(
        due["renewal_opportunity_id"]
    ) == 1


def test_an_unknown_contract_is_404_and_a_malformed_id_422(
    client: TestClient, seeded: Seed
) -> None:
    assert_error(client.get("/contracts/00000000-0000-4000-8000-00000000dead"), 404, "not_found")
    # an id of another kind of aggregate is no contract either
    assert_error(client.get(f"/contracts/{seeded.acme}"), 404, "not_found")
    assert_error(client.get("/contracts/not-a-uuid"), 422)


# --- cancel and fulfil ----------------------------------------------------------------------------


def check_cancel_and_fulfil(client: TestClient, s: Seed) -> None:
    # cancel: 200 with the new version, shown cancelled with its reason
    cancelled = command_ok(
        client.post(f"/contracts/{s.licence}/cancel", json={"reason": "customer left"})
    )
    assert (cancelled["id"], cancelled["version"]) == (s.licence, 2)
    shown = query_ok(client.get(f"/contracts/{s.licence}"))
    assert (shown["status"], shown["cancel_reason"]) == ("cancelled", "customer left")
    # cancelling again is refused and writes nothing
    url = f"/contracts/{s.licence}/cancel"
    detail = refused(client, "POST", url, 409, "rule_violated", json={"reason": "again"})["detail"]
    assert detail == "contract 'Licence' is cancelled and cannot be cancelled."
    # a reason is required
    url = f"/contracts/{s.support}/cancel"
    refused(client, "POST", url, 422, json={})
    refused(client, "POST", url, 422, json={"reason": ""})
    refused(client, "POST", url, 422, "invalid_input", json={"reason": "   "})
    json_header = {"content-type": "application/json"}
    refused(client, "POST", url, 400, "malformed_json", content=b"{not json", headers=json_header)

    # fulfil: a time-based contract is refused, a one-off fulfilled once
    detail = refused(client, "POST", f"/contracts/{s.support}/fulfil", 409, "rule_violated")[
        "detail"
    ]
    assert detail == "contract 'Support' runs for a term; only one-off contracts are fulfilled."
    fulfilled = command_ok(client.post(f"/contracts/{s.box}/fulfil"))
    assert (fulfilled["id"], fulfilled["version"]) == (s.box, 2)
    assert query_ok(client.get(f"/contracts/{s.box}"))["status"] == "fulfilled"
    detail = refused(client, "POST", f"/contracts/{s.box}/fulfil", 409)["detail"]
    assert detail == "contract 'Box' is fulfilled, not active."
    # a delivered contract cannot be cancelled
    refused(client, "POST", f"/contracts/{s.box}/cancel", 409, json={"reason": "returned"})
    # unknown contracts are 404
    unknown = "00000000-0000-4000-8000-00000000dead"
    refused(client, "POST", f"/contracts/{unknown}/cancel", 404, "not_found", json={"reason": "x"})
    refused(client, "POST", f"/contracts/{unknown}/fulfil", 404, "not_found")


def test_cancel_and_fulfil_answer_the_new_version_or_refuse_with_a_clear_error(
    client: TestClient, seeded: Seed
) -> None:
    check_cancel_and_fulfil(client, seeded)


def test_cancel_and_fulfil_behave_alike_on_both_stores(
    any_client: TestClient, clock: ManualClock
) -> None:
    check_cancel_and_fulfil(any_client, seed(any_client, clock))


def test_cancel_takes_if_match_and_an_idempotency_key(client: TestClient, seeded: Seed) -> None:
    url = f"/contracts/{seeded.suite_licence}/cancel"
    body = {"reason": "downsized"}
    # a stale If-Match is a version conflict and writes nothing; a malformed one is 400
    refused(client, "POST", url, 409, "version_conflict", json=body, headers={"If-Match": "7"})
    refused(client, "POST", url, 400, "invalid_if_match", json=body, headers={"If-Match": "v1"})
    # the current version is accepted
    headers = {"If-Match": "1", "Idempotency-Key": "cancel-suite-licence"}
    first = client.post(url, json=body, headers=headers)
    answer = command_ok(first)
    after = log_position(client)
    # the same key and request again: the same answer, replayed, nothing written
    again = client.post(url, json=body, headers=headers)
    assert (again.status_code, again.json()) == (200, answer)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert log_position(client) == after
    # the same key with another request is refused
    key_reused(client, "POST", url, "cancel-suite-licence", {"reason": "something else"})
    # fulfil takes the key too
    fulfil = f"/contracts/{seeded.box}/fulfil"
    once = command_ok(client.post(fulfil, headers={"Idempotency-Key": "fulfil-box"}))
    twice = client.post(fulfil, headers={"Idempotency-Key": "fulfil-box"})
    assert (twice.status_code, twice.json()) == (200, once)


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("GET", "/contracts?status=", None),
        ("GET", "/contracts?expires_to=2028-13-01", None),
        ("GET", "/contracts?account_id=123", None),
        ("GET", "/contracts?as_of=-5", None),
        ("GET", "/contracts?as_of=123456789012345678901234567890", None),
        ("GET", "/contracts/summary?by=", None),
        ("GET", "/contracts/summary?as_of=soon", None),
        ("GET", "/contracts/summary?wait_for=x", None),
        ("GET", "/contracts/12345", None),
        ("POST", "/contracts/12345/cancel", {"reason": "x"}),
        ("POST", "/contracts/12345/fulfil", None),
        ("POST", "/contracts/00000000-0000-4000-8000-00000000dead/cancel", {"reason": 5}),
        ("POST", "/contracts/00000000-0000-4000-8000-00000000dead/cancel", {"reason": "x" * 501}),
        ("POST", "/contracts/00000000-0000-4000-8000-00000000dead/cancel", ["reason"]),
        ("POST", "/contracts/00000000-0000-4000-8000-00000000dead/cancel", {"why": "x"}),
        ("PUT", "/contracts/00000000-0000-4000-8000-00000000dead", None),
    ],
)
def test_bad_contract_requests_get_a_json_error_never_a_500(
    client: TestClient, method: str, url: str, body: Any
) -> None:
    before = log_position(client)
    response = client.request(method, url, json=body)
    assert 400 <= response.status_code < 500, response.text
    assert_error(response, response.status_code)
    assert log_position(client) == before
