"""The read-model routes of docs/api.md: pipeline, forecast, targets, baselines, stage
history, status.

Most tests run on the embedded store (``client``); the key routes also run on
PostgreSQL (``any_client``). The projector is brought up to date by the test
(``project``) unless the test is about ``wait_for``, which needs it running.

The seeded history (amounts in EUR; USD at 0.9 until the changes, then 0.8):

    deal  owner  stage           amount     expected close  then
    A     alice  proposal        10000      2027-03-15      (account ACME)
    B     bob    qualification   20000      2027-05-10      (partner)
    C     alice  initial_contact 1000 USD   2027-02-01
    D     bob    negotiation     6000       2027-01-31      sold on day 2
    E     carol  initial_contact 3000       2027-04-15      lost on day 1
    F     alice  negotiation     4000       2027-03-31
    I     carol  qualification   2500       2027-08-01
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response

from adapters.clock import ManualClock
from readmodels.deals.baselines import BUCKETS
from tests.conftest import T0
from tests.http.helpers import project, services_of
from tests.identity import TEAM

pytestmark = pytest.mark.users(*TEAM, "dana", "erin")

SEED_END = T0 + timedelta(days=2)
CHANGES_AT = T0 + timedelta(days=5)
BETWEEN = "2027-01-07T00:00:00Z"  # after the seed, before the changes
WINDOW = {"to": "2027-06-30"}  # the pipeline baselines' window: expected close by June


# --- helpers -----------------------------------------------------------------------------


def ok(response: Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def refused(response: Response, status: int, error: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "detail"} and body["error"] == error, body
    assert body["detail"] and "\n" not in body["detail"] and "Traceback" not in body["detail"]
    return str(body["detail"])


def euros(amount: str) -> dict[str, str]:
    return {"amount": amount, "currency": "EUR"}


def create(client: TestClient, title: str, owner: str, close: str, amount: Any, **more: Any) -> str:
    body = {"title": title, "owner": owner, "expected_close": close, "amount": amount, **more}
    body.setdefault("account_name", f"{title} Ltd")
    return str(ok(client.post("/opportunities", json=body), 201)["id"])


def sell(client: TestClient, deal: str, quantity: str, unit_price: str) -> None:
    quote = ok(
        client.post(f"/opportunities/{deal}/quotes", json={"name": "Q", "currency": "EUR"}), 201
    )
    item = {
        "name": "implementation days",
        "quantity": quantity,
        "unit_price": unit_price,
        "kind": "one_off",
        "category": "implementation",
    }
    ok(client.post(f"/quotes/{quote['id']}/items", json=item), 201)
    ok(client.post(f"/quotes/{quote['id']}/activate"))
    ok(client.post(f"/opportunities/{deal}/sell", json={}))


def chart_rows(answer: dict[str, Any]) -> dict[str, Any]:
    """A chart answer without its envelope: what a baseline stores."""
    return {k: v for k, v in answer.items() if k not in ("as_of", "params")}


def stage(answer: dict[str, Any], key: str) -> dict[str, Any]:
    found: dict[str, Any] = next(s for s in answer["stages"] if s["stage"] == key)
    return found


def assert_as_of(answer: dict[str, Any], position: int, recorded_at: str) -> None:
    assert answer["as_of"] == {"position": position, "recorded_at": recorded_at}


def assert_balances(waterfall: dict[str, Any]) -> None:
    for figures, number in ((waterfall, Decimal), (waterfall["counts"], int)):
        f = {bucket: number(figures[bucket]) for bucket in BUCKETS}
        assert (
            f["start"]
            + f["new"]
            + f["pulled_in"]
            + f["increased"]
            + f["reopened"]
            - f["decreased"]
            - f["pushed_out"]
            - f["won"]
            - f["lost"]
            - f["deleted"]
        ) == f["end"], figures


@dataclass
class Sales:
    deals: dict[str, str]
    account: str
    partner: str
    position: int  # the read model's position after the seed
    pipeline: dict[str, Any]  # GET /pipeline then


def seed(client: TestClient, clock: ManualClock) -> Sales:
    ok(client.post("/exchange-rates", json={"currency": "USD", "rate": "0.9"}))
    account = ok(client.post("/accounts", json={"name": "ACME"}), 201)["id"]
    partner = ok(client.post("/accounts", json={"name": "Resell", "partner": True}), 201)["id"]
    deals = {
        "A": create(client, "A", "alice", "2027-03-15", euros("10000.00"), stage="proposal",
                    account_id=account, account_name=None),
        "B": create(client, "B", "bob", "2027-05-10", euros("20000.00"), stage="qualification"),
        "C": create(client, "C", "alice", "2027-02-01", {"amount": "1000.00", "currency": "USD"}),
        "D": create(client, "D", "bob", "2027-01-31", euros("5000.00"), stage="negotiation"),
        "E": create(client, "E", "carol", "2027-04-15", euros("3000.00")),
        "F": create(client, "F", "alice", "2027-03-31", euros("4000.00"), stage="negotiation"),
        "I": create(client, "I", "carol", "2027-08-01", euros("2500.00"), stage="qualification"),
    }  # fmt: skip
    ok(client.post(f"/opportunities/{deals['B']}/partner", json={"partner_id": partner}))
    clock.set(T0 + timedelta(days=1))
    ok(client.post(f"/opportunities/{deals['E']}/lose", json={"reason": "price"}))
    clock.set(SEED_END)
    sell(client, deals["D"], "10", "600.00")
    ok(
        client.post("/targets", json={"owner": "alice", "period": "2027-Q1", "amount": "30000"}),
        200,
    )
    ok(
        client.post(
            "/targets", json={"owner": "bob", "period": "2027-Q1", "amount": euros("12000")}
        ),
        200,
    )
    position = project(client)
    assert position == services_of(client).store.max_position()
    return Sales(deals, account, partner, position, ok(client.get("/pipeline")))


def change(client: TestClient, clock: ManualClock, sales: Sales) -> int:
    """Three days later: one change of every kind the waterfall knows, and a rate move."""
    d = sales.deals
    clock.set(CHANGES_AT)
    ok(client.post("/exchange-rates", json={"currency": "USD", "rate": "0.8"}))
    d["G"] = create(client, "G", "bob", "2027-04-01", euros("7000.00"))  # new
    ok(client.patch(f"/opportunities/{d['A']}", json={"amount": euros("12500.00")}))  # increased
    sell(client, d["F"], "4", "1000.00")  # won
    ok(
        client.patch(f"/opportunities/{d['B']}", json={"expected_close": "2027-09-30"})
    )  # pushed out
    ok(client.post(f"/opportunities/{d['C']}/lose", json={"reason": "timing"}))  # lost
    ok(client.post(f"/opportunities/{d['E']}/reopen"))  # reopened
    d["H"] = create(client, "H", "bob", "2027-02-15", euros("1500.00"))  # new …
    ok(client.delete(f"/opportunities/{d['H']}"))  # … and deleted
    ok(client.patch(f"/opportunities/{d['I']}", json={"expected_close": "2027-05-01"}))  # pulled in
    ok(client.patch(f"/opportunities/{d['G']}", json={"amount": euros("6000.00")}))  # decreased
    return project(client)


@pytest.fixture
def sales(client: TestClient, clock: ManualClock) -> Sales:
    return seed(client, clock)


# --- pipeline --------------------------------------------------------------------------------


def test_pipeline_sums_open_deals_per_stage_in_stage_order_with_closed_totals(
    client: TestClient, sales: Sales
) -> None:
    # Given the seeded history, projected
    # When the pipeline is asked for
    answer = sales.pipeline

    # Then it reflects the read model's position and the time of its last event
    assert_as_of(answer, sales.position, SEED_END.isoformat())
    assert answer["params"] == {"pipeline": "sales"}
    assert answer["currency"] == "EUR" and answer["pipeline"] == "sales"
    # and has open stages in stage order, amounts converted (1000 USD at 0.9) and weighted
    assert answer["stages"] == [
        {"stage": "initial_contact", "name": "Initial contact", "probability": 10,
         "count": 1, "amount": "900.00", "weighted": "90.00"},
        {"stage": "qualification", "name": "Qualification", "probability": 25,
         "count": 2, "amount": "22500.00", "weighted": "5625.00"},
        {"stage": "proposal", "name": "Proposal", "probability": 50,
         "count": 1, "amount": "10000.00", "weighted": "5000.00"},
        {"stage": "negotiation", "name": "Negotiation", "probability": 75,
         "count": 1, "amount": "4000.00", "weighted": "3000.00"},
    ]  # fmt: skip
    # and the closed totals: D won at its quote's total, E lost
    assert answer["won"] == {"count": 1, "amount": "6000.00"}
    assert answer["lost"] == {"count": 1, "amount": "3000.00"}
    assert answer["unqualified"] == {"count": 0, "amount": "0.00"}


def test_pipeline_filters_by_owner_account_partner_and_expected_close(
    client: TestClient, sales: Sales
) -> None:
    # Given the seeded history
    def counts(query: str) -> dict[str, int]:
        answer = ok(client.get(f"/pipeline?{query}"))
        return {s["stage"]: s["count"] for s in answer["stages"] if s["count"]} | {
            kind: answer[kind]["count"] for kind in ("won", "lost") if answer[kind]["count"]
        }

    # When it is filtered, Then only the deals that match count
    assert counts("owner=bob") == {"qualification": 1, "won": 1}
    assert counts(f"account={sales.account}") == {"proposal": 1}
    assert counts(f"partner={sales.partner}") == {"qualification": 1}
    assert counts("from=2027-03-01&to=2027-03-31") == {"proposal": 1, "negotiation": 1}
    assert counts("owner=carol&from=2027-04-01") == {"qualification": 1, "lost": 1}
    assert counts("owner=nobody") == {}
    # and the filters are echoed as the parameters of the answer
    answer = ok(client.get("/pipeline?owner=bob&from=2027-01-01"))
    assert answer["params"] == {"close_from": "2027-01-01", "owner": "bob", "pipeline": "sales"}


# --- forecast and targets ----------------------------------------------------------------------


def test_forecast_rows_per_quarter_owner_and_category_with_cumulative_rollups_and_targets(
    client: TestClient, sales: Sales
) -> None:
    # Given the seeded history with targets for alice and bob in 2027-Q1
    # When the forecast is asked for by quarter
    answer = ok(client.get("/forecast?period=quarter"))

    # Then it reflects the same position as the pipeline
    assert answer["as_of"] == sales.pipeline["as_of"]
    assert answer["currency"] == "EUR" and answer["period"] == "quarter"
    # and has a row per period × owner × category, in category order; won deals are closed
    assert [(r["period"], r["owner"], r["category"], r["count"], r["amount"], r["weighted"])
            for r in answer["rows"]] == [
        ("2027-Q1", "alice", "pipeline", 1, "900.00", "90.00"),
        ("2027-Q1", "alice", "best_case", 1, "10000.00", "5000.00"),
        ("2027-Q1", "alice", "commit", 1, "4000.00", "3000.00"),
        ("2027-Q1", "bob", "closed", 1, "6000.00", "6000.00"),
        ("2027-Q2", "bob", "pipeline", 1, "20000.00", "5000.00"),
        ("2027-Q3", "carol", "pipeline", 1, "2500.00", "625.00"),
    ]  # fmt: skip
    closed = answer["rows"][3]
    assert (closed["won"], closed["target"], closed["attainment"]) == ("6000.00", "12000", "0.5000")
    # and roll-ups are cumulative; attainment = won / target, coverage = open / (target − won)
    rollups = {(r["period"], r["owner"]): r for r in answer["rollups"]}
    assert rollups[("2027-Q1", "alice")] == {
        "period": "2027-Q1", "owner": "alice", "commit": "4000.00", "best_case": "14000.00",
        "open_pipeline": "14900.00", "won": "0.00", "target": "30000",
        "attainment": "0.0000", "coverage": "0.4967",
    }  # fmt: skip
    assert rollups[("2027-Q1", "bob")] == {
        "period": "2027-Q1", "owner": "bob", "commit": "6000.00", "best_case": "6000.00",
        "open_pipeline": "0.00", "won": "6000.00", "target": "12000",
        "attainment": "0.5000", "coverage": "0.0000",
    }  # fmt: skip
    assert rollups[("2027-Q2", "bob")]["target"] is None
    assert rollups[("2027-Q2", "bob")]["attainment"] is None
    assert rollups[("2027-Q2", "bob")]["coverage"] is None


def test_forecast_labels_months_and_years_and_filters_periods_and_owners(
    client: TestClient, sales: Sales
) -> None:
    # Given the seeded history
    # When the forecast is asked by month, Then labels are months; a sale counts in its month
    months = ok(client.get("/forecast?period=month"))
    assert sorted({(r["period"], r["owner"]) for r in months["rows"]}) == [
        ("2027-01", "bob"), ("2027-02", "alice"), ("2027-03", "alice"),
        ("2027-05", "bob"), ("2027-08", "carol"),
    ]  # fmt: skip
    # When by year, Then one label
    years = ok(client.get("/forecast?period=year"))
    assert {r["period"] for r in years["rows"]} == {"2027"}
    # When limited to a range of quarters and an owner, Then only those rows remain
    q2 = ok(client.get("/forecast?period=quarter&from=2027-Q2&to=2027-Q2"))
    assert [(r["period"], r["owner"]) for r in q2["rows"]] == [("2027-Q2", "bob")]
    assert q2["params"] == {"from": "2027-Q2", "period": "quarter", "to": "2027-Q2"}
    alice = ok(client.get("/forecast?owner=alice"))
    assert {r["owner"] for r in alice["rows"] + alice["rollups"]} == {"alice"}


def test_a_target_is_answered_with_the_command_result_and_moves_attainment_and_coverage(
    client: TestClient, sales: Sales
) -> None:
    # Given alice's 2027-Q1 target of 30000
    # When it is raised to 40000 (in the reporting currency, as money)
    answer = ok(client.post("/targets", json={"owner": "alice", "period": "2027-Q1",
                                              "amount": euros("40000.00")}))  # fmt: skip

    # Then the command answers with the targets' id, version and position
    assert set(answer) == {"id", "version", "position"} and answer["version"] >= 2
    # and, once projected, the forecast uses the new target
    assert project(client) == answer["position"]
    rollup = next(
        r
        for r in ok(client.get("/forecast"))["rollups"]
        if (r["period"], r["owner"]) == ("2027-Q1", "alice")
    )
    assert (rollup["target"], rollup["attainment"], rollup["coverage"]) == (
        "40000.00",
        "0.0000",
        "0.3725",  # 14900 / 40000
    )


def test_an_amount_finer_than_its_currency_is_refused_by_the_currencys_rule(
    client: TestClient,
) -> None:
    # A well-formed decimal with more places than euros have: the currency refuses it
    body = {"owner": "alice", "period": "2027-Q1", "amount": "5.001"}
    assert "2 decimal places" in refused(client.post("/targets", json=body), 409, "rule_violated")
    # and a target in another currency than the store reports in
    dollars = {**body, "amount": {"amount": "5", "currency": "USD"}}
    assert "reporting currency" in refused(
        client.post("/targets", json=dollars), 409, "rule_violated"
    )


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"owner": "alice", "period": "2027-Q5", "amount": "1"}, "period must be a month"),
        ({"owner": "alice", "period": "2027-Q1", "amount": "-5"}, "above zero"),
        ({"owner": "alice", "period": "2027-Q1", "amount": "0.00"}, "above zero"),
        ({"owner": "alice", "period": "2027-Q1", "amount": 5}, "not a JSON number"),
        ({"owner": "", "period": "2027-Q1", "amount": "5"}, "owner"),
        ({"owner": "alice", "period": "2027-Q1"}, "amount is required"),
        ({"owner": "alice", "period": "2027-Q1", "amount": "abc"}, "amount"),
    ],
)  # fmt: skip
def test_a_refused_target_answers_422_and_writes_nothing(
    client: TestClient, body: dict[str, Any], fragment: str
) -> None:
    # Given a store at some position
    before = services_of(client).store.max_position()
    # When a bad target is posted
    detail = refused(client.post("/targets", json=body), 422, "invalid_input")
    # Then the answer says why, and nothing was written
    assert fragment in detail
    assert services_of(client).store.max_position() == before


# --- as of ---------------------------------------------------------------------------------------


def test_as_of_a_position_or_an_instant_answers_as_the_read_model_stood_then(
    client: TestClient, clock: ManualClock, sales: Sales
) -> None:
    # Given the seeded history, then three days of changes (and USD down to 0.8)
    then_forecast = ok(client.get("/forecast"))
    now = change(client, clock, sales)
    assert ok(client.get("/pipeline")) != sales.pipeline

    # When the pipeline and forecast are asked as of the seed's position
    # Then they are exactly the answers given then (rates, stages and all)
    assert ok(client.get(f"/pipeline?as_of={sales.position}")) == sales.pipeline
    assert ok(client.get(f"/forecast?as_of={sales.position}")) == then_forecast

    # When asked as of an instant between, Then the position is the last one recorded by then
    # and the answer reports that instant
    between = ok(client.get(f"/pipeline?as_of={BETWEEN}"))
    assert_as_of(between, sales.position, "2027-01-07T00:00:00+00:00")
    assert chart_rows(between) == chart_rows(sales.pipeline)
    offset = ok(client.get("/pipeline", params={"as_of": "2027-01-07T01:00:00+01:00"}))
    assert offset["as_of"]["position"] == sales.position

    # When asked as of an earlier position, Then later deals are not there yet
    early = ok(client.get("/pipeline?as_of=3"))
    assert early["as_of"]["position"] == 3
    assert sum(s["count"] for s in early["stages"]) == 0

    # When asked as of the current position, Then it is the current answer
    assert ok(client.get(f"/pipeline?as_of={now}")) == ok(client.get("/pipeline"))


@pytest.mark.parametrize("route", ["/pipeline", "/forecast", "/stage-history"])
def test_as_of_beyond_the_processed_position_is_409_and_malformed_as_of_is_422(
    client: TestClient, sales: Sales, route: str
) -> None:
    # Given a read model at the seed's position
    # When asked beyond it, Then 409: it cannot answer for what it has not processed
    detail = refused(client.get(f"{route}?as_of={sales.position + 1}"), 409, "rule_violated")
    assert "wait_for" in detail
    # When as_of is neither a position nor an instant (or an instant without offset), Then 422
    for bad in ("yesterday", "-1", "12abc", "2027-01-07T00:00:00", "²"):
        refused(client.get(route, params={"as_of": bad}), 422, "invalid_input")


# --- wait_for ------------------------------------------------------------------------------------


def test_wait_for_reads_your_writes_while_the_projector_runs(client: TestClient) -> None:
    # Given the projector running in the background, as `serve` runs it
    services = services_of(client)
    supervisor = services.start_projector()

    # When a deal is created and the pipeline is asked to wait for its position
    created = ok(client.post("/opportunities", json={
        "title": "Fresh", "owner": "dana", "account_name": "Fresh Ltd",
        "expected_close": "2027-06-30", "amount": euros("777.00")}), 201)  # fmt: skip
    answer = ok(client.get(f"/pipeline?owner=dana&wait_for={created['position']}"))

    # Then the answer includes it and says a position at or after the write
    assert answer["as_of"]["position"] >= created["position"]
    assert stage(answer, "initial_contact")["amount"] == "777.00"
    forecast = ok(client.get(f"/forecast?owner=dana&wait_for={created['position']}"))
    assert forecast["rows"][0]["amount"] == "777.00"
    history = ok(client.get(f"/stage-history?wait_for={created['position']}"))
    assert history["as_of"]["position"] >= created["position"]
    # and the status route shows the projector running and caught up
    status = ok(client.get("/read-models/status"))
    assert status["projector"] == {
        "running": True,
        "waiting": None,
        "failures": 0,
        "last_error": None,
    }
    assert status["read_model_position"] == status["log_position"]
    assert status["dead_letters"] == 0
    supervisor.stop()


def test_wait_for_a_position_not_processed_in_time_is_503_not_caught_up(
    client: TestClient,
) -> None:
    # Given a read model projected once, no projector running, and a write since
    processed = project(client)
    created = ok(client.post("/opportunities", json={
        "title": "Late", "owner": "erin", "account_name": "Late Ltd",
        "expected_close": "2027-06-30"}), 201)  # fmt: skip

    # When a query waits for it, Then after a few seconds it answers 503, retry later
    response = client.get(f"/pipeline?wait_for={created['position']}")
    detail = refused(response, 503, "not_caught_up")
    assert str(created["position"]) in detail
    assert response.headers["Retry-After"] == "1"
    # and a position already processed does not wait
    answer = ok(client.get(f"/pipeline?wait_for={processed}"))
    assert answer["as_of"]["position"] == processed < created["position"]


# --- baselines ------------------------------------------------------------------------------------


def take(client: TestClient, name: str, chart: str, params: dict[str, str], **more: Any) -> Any:
    body = {"name": name, "chart": chart, "params": params, **more}
    return ok(client.post("/baselines", json=body), 201)


def test_a_baseline_freezes_a_chart_now_or_after_the_fact_and_is_listed_shown_and_deleted(
    client: TestClient, clock: ManualClock, sales: Sales
) -> None:
    # Given the seeded history and a pipeline baseline of it taken then
    then = take(client, "plan", "pipeline", WINDOW)
    assert set(then) == {"id", "version", "position", "baseline_position", "sha256"}
    assert then["baseline_position"] == sales.position and len(then["sha256"]) == 64
    then_chart = ok(client.get("/pipeline", params=WINDOW))
    # and three days of changes
    now_position = change(client, clock, sales)

    # When the same chart is taken now, after the fact at the seed's position,
    # and after the fact at an instant between (a minute apart)
    clock.advance(timedelta(minutes=1))
    now = take(client, "now", "pipeline", WINDOW)
    clock.advance(timedelta(minutes=1))
    by_position = take(client, "late", "pipeline", WINDOW, as_of=str(sales.position))
    clock.advance(timedelta(minutes=1))
    by_instant = take(client, "late", "pipeline", WINDOW, as_of=BETWEEN)

    # Then the late ones are the chart as it stood then, hash for hash
    assert now["baseline_position"] == now_position and now["sha256"] != then["sha256"]
    assert by_position["baseline_position"] == sales.position
    assert by_position["sha256"] == then["sha256"]
    assert by_instant["sha256"] == then["sha256"]

    # When one is shown, Then it has its parameters, position and the frozen rows
    shown = ok(client.get(f"/baselines/{then['id']}"))
    assert shown["rows"] == chart_rows(then_chart)
    assert (shown["name"], shown["chart"], shown["params"]) == (
        "plan",
        "pipeline",
        {"pipeline": "sales", "close_to": "2027-06-30"},
    )
    assert (shown["position"], shown["sha256"]) == (sales.position, then["sha256"])
    late = ok(client.get(f"/baselines/{by_instant['id']}"))
    assert late["as_of"] == "2027-01-07T00:00:00+00:00" and late["rows"] == shown["rows"]

    # When they are listed (once projected), Then all four are there, oldest first
    position = project(client)
    listed = ok(client.get("/baselines"))
    assert listed["as_of"]["position"] == position
    assert listed["as_of"]["recorded_at"] == clock.now().isoformat()
    assert [b["id"] for b in listed["baselines"]] == [
        then["id"],
        now["id"],
        by_position["id"],
        by_instant["id"],
    ]
    assert listed["baselines"][0] == {
        "id": then["id"], "name": "plan", "chart": "pipeline", "params": shown["params"],
        "position": sales.position, "as_of": SEED_END.isoformat(), "sha256": then["sha256"],
        "taken_at": SEED_END.isoformat(),
    }  # fmt: skip

    # When one is deleted, Then it is gone from show, compare, verify, the list, and delete
    deleted = ok(client.delete(f"/baselines/{by_position['id']}"))
    assert deleted["id"] == by_position["id"]
    for path in ("", "/compare", "/verify"):
        refused(client.get(f"/baselines/{by_position['id']}{path}"), 404, "not_found")
    refused(client.delete(f"/baselines/{by_position['id']}"), 404, "not_found")
    assert project(client) == deleted["position"]
    listed = ok(client.get(f"/baselines?wait_for={deleted['position']}"))
    assert by_position["id"] not in [b["id"] for b in listed["baselines"]]


def test_compare_with_now_gives_row_deltas_and_a_waterfall_that_reconciles_every_change(
    client: TestClient, clock: ManualClock, sales: Sales
) -> None:
    # Given a pipeline baseline of deals closing by June, then one change of every kind
    baseline = take(client, "plan", "pipeline", WINDOW)
    now = change(client, clock, sales)

    # When it is compared with now
    answer = ok(client.get(f"/baselines/{baseline['id']}/compare?with=now"))

    # Then both ends are named with their positions
    assert answer["baseline"] == {"id": baseline["id"], "position": sales.position,
                                  "recorded_at": SEED_END.isoformat()}  # fmt: skip
    assert answer["with"] == {"id": "now", "position": now, "recorded_at": CHANGES_AT.isoformat()}
    # and each row has then, now and the difference
    rows = {r["stage"]: r for r in answer["rows"]}
    assert rows["won"] == {
        "stage": "won",
        "then": {"count": 1, "amount": "6000.00"},
        "now": {"count": 2, "amount": "10000.00"},
        "delta": {"count": 1, "amount": "4000.00"},
    }
    assert rows["qualification"]["delta"] == {
        "count": 0,
        "amount": "-17500.00",
        "weighted": "-4375.00",
    }
    # and the waterfall walks each deal's events, valued at the later end's rates (USD 0.8)
    waterfall = answer["waterfall"]
    assert (waterfall["from_position"], waterfall["to_position"]) == (sales.position, now)
    assert {bucket: waterfall[bucket] for bucket in BUCKETS} == {
        "start": "34800.00",  # A 10000 + B 20000 + C 800 + F 4000
        "new": "8500.00",  # G 7000, H 1500
        "pulled_in": "2500.00",  # I moved into June
        "increased": "2500.00",  # A 10000 → 12500
        "reopened": "3000.00",  # E
        "decreased": "1000.00",  # G 7000 → 6000
        "pushed_out": "20000.00",  # B moved to September
        "won": "4000.00",  # F
        "lost": "800.00",  # C
        "deleted": "1500.00",  # H
        "end": "24000.00",  # A 12500 + G 6000 + E 3000 + I 2500
    }
    assert waterfall["counts"] == {
        "start": 4, "new": 2, "pulled_in": 1, "increased": 0, "reopened": 1, "decreased": 0,
        "pushed_out": 1, "won": 1, "lost": 1, "deleted": 1, "end": 4,
    }  # fmt: skip
    assert_balances(waterfall)


def test_compare_with_another_baseline_of_the_same_chart_and_params_only(
    client: TestClient, clock: ManualClock, sales: Sales
) -> None:
    # Given a baseline then, one now, one after the fact at the same position, and a forecast one
    then = take(client, "then", "pipeline", WINDOW)
    change(client, clock, sales)
    now = take(client, "now", "pipeline", WINDOW)
    twin = take(client, "twin", "pipeline", WINDOW, as_of=str(sales.position))
    forecast = take(client, "forecast", "forecast", {"period": "quarter"})
    other_window = take(client, "other", "pipeline", {"to": "2027-12-31"})

    # When compared with the later baseline, Then it is the same as comparing with now
    with_now = ok(client.get(f"/baselines/{then['id']}/compare?with=now"))
    with_later = ok(client.get(f"/baselines/{then['id']}/compare", params={"with": now["id"]}))
    assert with_later["rows"] == with_now["rows"]
    assert with_later["waterfall"] == with_now["waterfall"]
    assert with_later["with"]["id"] == now["id"]
    # and the order of the two does not change the waterfall's direction
    backwards = ok(client.get(f"/baselines/{now['id']}/compare", params={"with": then["id"]}))
    assert backwards["waterfall"] == with_now["waterfall"]
    # When compared with its twin at the same position, Then nothing moved
    still = ok(client.get(f"/baselines/{then['id']}/compare", params={"with": twin["id"]}))
    assert all(value in ("0", "0.00", 0) for r in still["rows"] for value in r["delta"].values())
    assert still["waterfall"]["start"] == still["waterfall"]["end"] == "34900.00"  # USD at 0.9
    assert_balances(still["waterfall"])
    # When compared with another chart or other parameters, Then 422
    for other in (forecast, other_window):
        detail = refused(
            client.get(f"/baselines/{then['id']}/compare", params={"with": other["id"]}),
            422,
            "invalid_input",
        )
        assert "different charts or parameters" in detail
    # and with something that is not a baseline: 422 for garbage, 404 for an unknown id
    refused(client.get(f"/baselines/{then['id']}/compare?with=yesterday"), 422, "invalid_input")
    refused(client.get(f"/baselines/{then['id']}/compare?with={uuid4()}"), 404, "not_found")


def test_a_forecast_baseline_compares_and_verifies_too(
    client: TestClient, clock: ManualClock, sales: Sales
) -> None:
    # Given a forecast baseline of alice's quarters, then the changes
    baseline = take(client, "alice", "forecast", {"period": "quarter", "owner": "alice"})
    change(client, clock, sales)

    # When compared with now, Then the rows are per period × owner × category and it reconciles
    answer = ok(client.get(f"/baselines/{baseline['id']}/compare?with=now"))
    keys = {(r["period"], r["owner"], r["category"]) for r in answer["rows"]}
    assert ("2027-Q1", "alice", "closed") in keys and {k[1] for k in keys} == {"alice"}
    closed = next(r for r in answer["rows"] if r["category"] == "closed")
    assert (closed["then"]["count"], closed["now"]["count"]) == (0, 1)
    assert_balances(answer["waterfall"])
    # and it verifies by a fresh replay
    assert ok(client.get(f"/baselines/{baseline['id']}/verify"))["verified"] is True


def test_verify_replays_the_log_to_the_baseline_position_and_matches_the_stored_hash(
    client: TestClient, clock: ManualClock, sales: Sales
) -> None:
    # Given baselines taken then, now, and after the fact at an instant
    then = take(client, "then", "pipeline", WINDOW)
    change(client, clock, sales)
    now = take(client, "now", "forecast", {"period": "month"})
    late = take(client, "late", "pipeline", {}, as_of=BETWEEN)

    # When each is verified, Then the replayed hash is the stored one
    for baseline in (then, now, late):
        answer = ok(client.get(f"/baselines/{baseline['id']}/verify"))
        assert answer == {
            "verified": True,
            "sha256_stored": baseline["sha256"],
            "sha256_replayed": baseline["sha256"],
            "position": baseline["baseline_position"],
        }


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ({"name": "x", "chart": "funnel"}, 422, "invalid_input"),
        ({"name": "", "chart": "pipeline"}, 422, "invalid_input"),
        ({"name": "x", "chart": "pipeline", "params": {"colour": "red"}}, 422, "invalid_input"),
        ({"name": "x", "chart": "pipeline", "params": {"owner": 5}}, 422, "invalid_input"),
        ({"name": "x", "chart": "forecast", "params": {"period": "week"}}, 422, "invalid_input"),
        ({"name": "x", "chart": "forecast", "params": {"from": "2027-3"}}, 422, "invalid_input"),
        ({"name": "x", "chart": "pipeline", "as_of": "yesterday"}, 422, "invalid_input"),
        ({"name": "x", "chart": "pipeline", "as_of": "999999"}, 409, "rule_violated"),
        ({"name": "x", "chart": "pipeline", "params": {"pipeline": "nope"}}, 404, "not_found"),
        ({"name": "x", "chart": "pipeline", "extra": 1}, 422, "invalid_input"),
    ],
)
def test_a_refused_baseline_writes_nothing(
    client: TestClient, sales: Sales, body: dict[str, Any], status: int, error: str
) -> None:
    # Given a store at some position
    before = services_of(client).store.max_position()
    # When a bad baseline is posted, Then it is refused with its code and nothing is written
    refused(client.post("/baselines", json=body), status, error)
    assert services_of(client).store.max_position() == before
    assert ok(client.get("/baselines"))["baselines"] == []


# --- stage history and status --------------------------------------------------------------------


def test_stage_history_gives_time_in_stage_conversions_win_rate_and_sales_cycle(
    client: TestClient, clock: ManualClock, sales: Sales
) -> None:
    # Given the seed: E lost after a day in initial contact, D won after two in negotiation
    # When stage history is asked for
    answer = ok(client.get("/stage-history"))

    # Then it reflects the read model's position and has every stage in order
    assert answer["as_of"] == sales.pipeline["as_of"]
    assert [s["stage"] for s in answer["stages"]] == [
        "initial_contact", "qualification", "proposal", "negotiation", "won", "lost", "unqualified",
    ]  # fmt: skip
    rows = {s["stage"]: s for s in answer["stages"]}
    assert rows["initial_contact"] == {
        "stage": "initial_contact", "name": "Initial contact", "visits_ended": 1,
        "mean_days_in_stage": "1.00", "median_days_in_stage": "1.00",
        "conversion": {"lost": "1.0000"},
    }  # fmt: skip
    assert rows["negotiation"]["mean_days_in_stage"] == "2.00"
    assert rows["negotiation"]["conversion"] == {"won": "1.0000"}
    assert (answer["won"], answer["lost"], answer["win_rate"]) == (1, 1, "0.5000")
    assert answer["mean_sales_cycle_days"] == "2.00"
    # and filters narrow it to an owner's deals
    bob = ok(client.get("/stage-history?owner=bob"))
    assert (bob["won"], bob["lost"], bob["win_rate"]) == (1, 0, "1.0000")
    # and as of a past position it ignores what came later
    change(client, clock, sales)
    assert ok(client.get(f"/stage-history?as_of={sales.position}")) == answer
    assert ok(client.get("/stage-history"))["won"] == 2


def test_read_model_status_tells_positions_dead_letters_and_the_projector(
    client: TestClient, sales: Sales
) -> None:
    # Given the seed projected, then one more write not yet projected, no projector running
    ok(client.post("/targets", json={"owner": "carol", "period": "2027", "amount": "1"}), 200)

    # When the status is asked for
    status = ok(client.get("/read-models/status"))

    # Then it tells how far the log, the read model and the contracts process are, that
    # neither loop runs here, and that nothing is waited for
    assert status == {
        "log_position": sales.position + 1,
        "read_model_position": sales.position,
        "contracts_process_position": 0,
        "dead_letters": 0,
        "projector": None,
        "contracts_process": None,
        "waiting": [],
    }


# --- bad input never makes a 500 -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url", "status"),
    [
        ("GET", "/pipeline?pipeline=nope", 404),
        ("GET", "/pipeline?from=2027-13-01", 422),
        ("GET", "/pipeline?account=not-an-id", 422),
        ("GET", "/pipeline?partner=42", 422),
        ("GET", "/pipeline?wait_for=-1", 422),
        ("GET", "/pipeline?wait_for=soon", 422),
        ("GET", "/pipeline?as_of=99999999999999999999999999", 409),
        ("GET", "/forecast?period=week", 422),
        ("GET", "/forecast?from=2027-Q1x", 422),
        ("GET", "/forecast?period=month&from=0000-01", 422),
        ("GET", "/forecast?owner=alice&extra=ignored&as_of=1e3", 422),
        ("GET", "/stage-history?as_of=%00", 422),
        ("GET", "/stage-history?account=%F0%9F%92%A5", 422),
        ("GET", "/baselines?wait_for=-3", 422),
        ("GET", "/baselines/not-an-id", 422),
        ("GET", "/baselines/not-an-id/compare", 422),
        ("GET", "/baselines/00000000-0000-4000-8000-000000000000", 404),
        ("GET", "/baselines/00000000-0000-4000-8000-000000000000/verify", 404),
        ("GET", "/baselines/00000000-0000-4000-8000-000000000000/compare?with=now", 404),
        ("DELETE", "/baselines/00000000-0000-4000-8000-000000000000", 404),
        ("PUT", "/pipeline", 405),
    ],
)
def test_bad_read_model_requests_get_a_json_error_never_a_500(
    client: TestClient, method: str, url: str, status: int
) -> None:
    # Given the store with its defaults, projected
    project(client)
    before = services_of(client).store.max_position()
    # When a bad request arrives, Then it gets its status with the JSON error shape
    response = client.request(method, url)
    assert response.status_code == status, response.text
    assert set(response.json()) == {"error", "detail"}
    assert services_of(client).store.max_position() == before


@pytest.mark.parametrize("path", ["/targets", "/baselines"])
def test_malformed_json_to_a_read_model_command_is_400_and_writes_nothing(
    client: TestClient, path: str
) -> None:
    before = services_of(client).store.max_position()
    response = client.post(
        path, content=b'{"owner": ', headers={"content-type": "application/json"}
    )
    refused(response, 400, "malformed_json")
    assert services_of(client).store.max_position() == before


# --- the key routes on SQLite and PostgreSQL ------------------------------------------------------


def test_pipeline_forecast_baselines_and_as_of_agree_on_both_stores(
    any_client: TestClient, clock: ManualClock
) -> None:
    # Given two deals and a target, projected
    client = any_client
    create(client, "A", "alice", "2027-03-15", euros("10000.00"), stage="proposal")
    b = create(client, "B", "bob", "2027-05-10", euros("20000.00"), stage="qualification")
    ok(
        client.post("/targets", json={"owner": "alice", "period": "2027-Q1", "amount": "20000"}),
        200,
    )
    first = project(client)
    pipeline_then = ok(client.get("/pipeline"))

    # When, a day later, a baseline is taken and bob's deal is lost, and that is projected
    clock.advance(timedelta(days=1))
    baseline = take(client, "plan", "pipeline", {})
    ok(client.post(f"/opportunities/{b}/lose", json={"reason": "budget"}))
    project(client)

    # Then the pipeline shows it, and as of the first position it shows what it did then
    pipeline = ok(client.get("/pipeline"))
    assert stage(pipeline, "qualification")["count"] == 0
    assert pipeline["lost"] == {"count": 1, "amount": "20000.00"}
    assert ok(client.get(f"/pipeline?as_of={first}")) == pipeline_then
    assert stage(pipeline_then, "qualification")["amount"] == "20000.00"
    between = (T0 + timedelta(hours=12)).isoformat()
    assert ok(client.get("/pipeline", params={"as_of": between}))["as_of"]["position"] == first
    # and the forecast has quarter labels, the target and its attainment
    forecast = ok(client.get("/forecast"))
    assert [(r["period"], r["owner"], r["category"]) for r in forecast["rows"]] == [
        ("2027-Q1", "alice", "best_case")
    ]
    assert forecast["rollups"][0]["coverage"] == "0.5000"  # 10000 / (20000 − 0)
    # and the baseline compares with now (B lost) and verifies
    compared = ok(client.get(f"/baselines/{baseline['id']}/compare?with=now"))
    assert (compared["waterfall"]["lost"], compared["waterfall"]["end"]) == ("20000.00", "10000.00")
    assert_balances(compared["waterfall"])
    assert ok(client.get(f"/baselines/{baseline['id']}/verify"))["verified"] is True
    late = take(client, "late", "pipeline", {}, as_of=str(first))
    assert late["sha256"] == baseline["sha256"]
    # and a position beyond the read model is refused on this store too
    refused(client.get("/forecast?as_of=999999"), 409, "rule_violated")
    assert isinstance(datetime.fromisoformat(pipeline["as_of"]["recorded_at"]), datetime)
