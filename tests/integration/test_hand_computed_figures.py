"""The charts' figures for a small data set, worked out by hand, exactly (docs/readmodels.md).

Everything goes through the HTTP API, on SQLite and on PostgreSQL. The data set,
on 2027-01-04 (T0), reporting in EUR with USD at 0.85 (reporting units per USD),
and the qualification stage's default probability changed from 25 to 30:

    deal  owner  stage            amount         close       then
    A     alice  proposal (50)    10000.00 EUR   2027-02-15
    B     alice  qualification    12345.67 USD   2027-03-20
    C     bob    negotiation (75) 8000.00 EUR    2027-05-10  probability override 60
    D     bob    initial_contact  5000.05 EUR    2027-06-30  category override commit
    E     alice  negotiation      4 × 1250.00    2027-01-31  sold at T0 (its quote's total)
    F     bob    qualification    3000.00 EUR    2027-02-28  lost
    G     bob    proposal (50)    2000.00 USD    2027-03-31
    I     alice  qualification    4000.00 EUR    2027-09-30

    targets: alice 2027-Q1 20000.00, bob 2027-Q1 10000.00, bob 2027 50000.00

Per-deal figures at 0.85 (each deal converted and rounded half up to the cent,
then weighted and rounded again; totals are sums of these):

    B  12345.67 × 0.85 = 10493.8195  → 10493.82; × 30 % = 3148.146  → 3148.15
    G   2000.00 × 0.85 =  1700.00;               × 50 % =  850.00
    D   5000.05 × 10 % =   500.005   → 500.01 (half up)
    C   8000.00 × 60 % (its override, not the stage's 75) = 4800.00
    I   4000.00 × 30 % = 1200.00;  A 10000.00 × 50 % = 5000.00

Ten days later (T0 + 10 d) USD moves to 0.90 and every kind of change happens
once; the baselines taken at T0 are then compared with now (see the waterfalls).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response

from adapters.bootstrap import Services
from adapters.clock import ManualClock
from readmodels.deals.baselines import BUCKETS
from tests.conftest import T0
from tests.identity import TEAM

pytestmark = pytest.mark.users(*TEAM)

LATER = T0 + timedelta(days=10)
WINDOW = {"to": "2027-06-30"}  # the pipeline baseline's window: expected close by June
BOBS_HALF = {"period": "quarter", "owner": "bob", "from": "2027-Q1", "to": "2027-Q2"}
ROW_FIELDS = ("period", "owner", "category", "count", "amount", "weighted", "won", "target",
              "attainment")  # fmt: skip
ROLLUP_FIELDS = ("period", "owner", "commit", "best_case", "open_pipeline", "won", "target",
                 "attainment", "coverage")  # fmt: skip
JSON = dict[str, Any]


# --- helpers -------------------------------------------------------------------------


def ok(response: Response, *statuses: int) -> Any:
    assert response.status_code in (statuses or (200,)), response.text
    return response.json()


def project(client: TestClient) -> int:
    """Bring the read model up to the log's end, as the projector would; its position."""
    services: Services = client.app.state.services  # type: ignore[attr-defined]
    projector = services.projector()
    projector.start()
    projector.catch_up()
    assert services.queries.tracked() == services.store.max_position()
    return services.queries.tracked()


def money(amount: str, currency: str = "EUR") -> JSON:
    return {"amount": amount, "currency": currency}


def create(client: TestClient, owner: str, stage: str, amount: JSON, close: str) -> str:
    body = {
        "title": f"{owner} {stage} {close}",
        "account_name": "ACME",
        "owner": owner,
        "stage": stage,
        "amount": amount,
        "expected_close": close,
    }
    return str(ok(client.post("/opportunities", json=body), 201)["id"])


def patch(client: TestClient, deal: str, **fields: Any) -> None:
    ok(client.patch(f"/opportunities/{deal}", json=fields))


def sell(client: TestClient, deal: str, currency: str, quantity: str, unit_price: str) -> None:
    """An active quote with one item, then the sale (now)."""
    body = {"name": "Q", "currency": currency}
    quote = ok(client.post(f"/opportunities/{deal}/quotes", json=body), 201)
    item = {"name": "implementation days", "quantity": quantity, "unit_price": unit_price,
            "kind": "one_off", "category": "implementation"}  # fmt: skip
    ok(client.post(f"/quotes/{quote['id']}/items", json=item), 201)
    ok(client.post(f"/quotes/{quote['id']}/activate"))
    ok(client.post(f"/opportunities/{deal}/sell", json={}))


def target(client: TestClient, owner: str, period: str, amount: str) -> None:
    ok(client.post("/targets", json={"owner": owner, "period": period, "amount": amount}), 200, 201)


def baseline(client: TestClient, name: str, chart: str, params: dict[str, str]) -> JSON:
    body = {"name": name, "chart": chart, "params": params}
    answer: JSON = ok(client.post("/baselines", json=body), 201)
    return answer


def compare_with_now(client: TestClient, taken: JSON) -> JSON:
    answer: JSON = ok(client.get(f"/baselines/{taken['id']}/compare?with=now"))
    return answer


def stage_row(stage: str, count: int, amount: str, weighted: str, probability: int) -> JSON:
    names = {"initial_contact": "Initial contact", "qualification": "Qualification",
             "proposal": "Proposal", "negotiation": "Negotiation"}  # fmt: skip
    return {"stage": stage, "name": names[stage], "probability": probability, "count": count,
            "amount": amount, "weighted": weighted}  # fmt: skip


def table(rows: list[JSON], fields: tuple[str, ...]) -> list[tuple[Any, ...]]:
    """Rows as tuples of ``fields``, which must be all their fields."""
    assert all(set(row) == set(fields) for row in rows), rows
    return [tuple(row[f] for f in fields) for row in rows]


def figures(waterfall: JSON) -> tuple[dict[str, str], dict[str, int]]:
    return {b: waterfall[b] for b in BUCKETS}, dict(waterfall["counts"])


# --- the data set ----------------------------------------------------------------------------


def seed(client: TestClient) -> dict[str, str]:
    """The deals at T0 (see the module docstring)."""
    before = (T0 - timedelta(days=1)).isoformat()
    rate = {"currency": "USD", "rate": "0.85", "effective_at": before}
    ok(client.post("/exchange-rates", json=rate))
    ok(client.post("/pipelines/sales/stages/qualification", json={"probability": 30}))
    d = {
        "A": create(client, "alice", "proposal", money("10000.00"), "2027-02-15"),
        "B": create(client, "alice", "qualification", money("12345.67", "USD"), "2027-03-20"),
        "C": create(client, "bob", "negotiation", money("8000.00"), "2027-05-10"),
        "D": create(client, "bob", "initial_contact", money("5000.05"), "2027-06-30"),
        "E": create(client, "alice", "negotiation", money("0.00"), "2027-01-31"),
        "F": create(client, "bob", "qualification", money("3000.00"), "2027-02-28"),
        "G": create(client, "bob", "proposal", money("2000.00", "USD"), "2027-03-31"),
        "I": create(client, "alice", "qualification", money("4000.00"), "2027-09-30"),
    }
    patch(client, d["C"], probability=60)
    patch(client, d["D"], forecast_category="commit")
    sell(client, d["E"], "EUR", "4", "1250.00")  # 5000.00, sold at T0 (2027-Q1)
    ok(client.post(f"/opportunities/{d['F']}/lose", json={"reason": "price"}))
    target(client, "alice", "2027-Q1", "20000.00")
    target(client, "bob", "2027-Q1", "10000.00")
    target(client, "bob", "2027", "50000.00")
    return d


def ten_days_later(client: TestClient, clock: ManualClock, d: dict[str, str]) -> None:
    """USD to 0.90, and one change of every kind the waterfall knows."""
    clock.set(LATER)
    ok(client.post("/exchange-rates", json={"currency": "USD", "rate": "0.90"}))
    d["H"] = create(client, "bob", "initial_contact", money("2500.00"), "2027-04-30")  # new
    patch(client, d["I"], expected_close="2027-06-15")  # pulled into the window
    patch(client, d["A"], amount=money("12000.00"))  # increased by 2000.00
    patch(client, d["C"], amount=money("7500.00"))  # decreased by 500.00 …
    ok(client.post(f"/opportunities/{d['C']}/lose", json={"reason": "timing"}))  # … then lost
    ok(client.post(f"/opportunities/{d['F']}/reopen"))  # reopened, back in qualification
    patch(client, d["G"], expected_close="2027-08-31")  # pushed out of the window
    sell(client, d["B"], "USD", "1", "12345.67")  # won, at its amount (no value change)
    ok(client.delete(f"/opportunities/{d['D']}"))  # deleted


# --- the test ----------------------------------------------------------------------------------


def test_pipeline_forecast_rollups_and_waterfalls_equal_the_figures_worked_out_by_hand(
    any_client: TestClient, clock: ManualClock
) -> None:
    client = any_client
    # Given the data set of the module docstring, projected
    deals = seed(client)
    then = project(client)

    # When the pipeline is asked for
    pipeline = ok(client.get("/pipeline"))

    # Then each open stage has its open deals' count, amount and weighted amount:
    #   initial_contact  D                      5000.05           500.01
    #   qualification    B 10493.82 + I 4000.00 = 14493.82   3148.15 + 1200.00 = 4348.15
    #                    (F is lost; the stage shows its changed probability, 30)
    #   proposal         A 10000.00 + G 1700.00 = 11700.00   5000.00 +  850.00 = 5850.00
    #   negotiation      C                      8000.00          4800.00 (override 60)
    assert pipeline["as_of"]["position"] == then
    assert pipeline["currency"] == "EUR"
    assert pipeline["stages"] == [
        stage_row("initial_contact", 1, "5000.05", "500.01", 10),
        stage_row("qualification", 2, "14493.82", "4348.15", 30),
        stage_row("proposal", 2, "11700.00", "5850.00", 50),
        stage_row("negotiation", 1, "8000.00", "4800.00", 75),
    ]
    # and the closed totals: E won at its quote's total (4 × 1250.00), F lost
    assert pipeline["won"] == {"count": 1, "amount": "5000.00"}
    assert pipeline["lost"] == {"count": 1, "amount": "3000.00"}
    assert pipeline["unqualified"] == {"count": 0, "amount": "0.00"}

    # When the forecast is asked for by quarter
    quarters = ok(client.get("/forecast?period=quarter"))

    # Then the rows are per quarter × owner × category, in category order. Categories are
    # the stage defaults (qualification: pipeline, proposal: best_case, negotiation:
    # commit) except D's override (commit, not initial_contact's pipeline); E is closed in
    # the quarter it was sold, at 100 %. Each row carries its owner's target and attainment.
    #   2027-Q1 alice pipeline  B                    10493.82   3148.15
    #   2027-Q1 alice best_case A                    10000.00   5000.00
    #   2027-Q1 alice closed    E                     5000.00   5000.00  won 5000.00
    #   2027-Q1 bob   best_case G                     1700.00    850.00
    #   2027-Q2 bob   commit    C 8000.00 + D 5000.05 = 13000.05   4800.00 + 500.01 = 5300.01
    #   2027-Q3 alice pipeline  I                     4000.00   1200.00
    # attainment = won / target: alice Q1 5000.00 / 20000.00 = 0.2500; bob Q1 0 / 10000.00
    assert table(quarters["rows"], ROW_FIELDS) == [
        ("2027-Q1", "alice", "pipeline", 1, "10493.82", "3148.15", "0.00", "20000.00", "0.2500"),
        ("2027-Q1", "alice", "best_case", 1, "10000.00", "5000.00", "0.00", "20000.00", "0.2500"),
        ("2027-Q1", "alice", "closed", 1, "5000.00", "5000.00", "5000.00", "20000.00", "0.2500"),
        ("2027-Q1", "bob", "best_case", 1, "1700.00", "850.00", "0.00", "10000.00", "0.0000"),
        ("2027-Q2", "bob", "commit", 2, "13000.05", "5300.01", "0.00", None, None),
        ("2027-Q3", "alice", "pipeline", 1, "4000.00", "1200.00", "0.00", None, None),
    ]  # fmt: skip
    # and the roll-ups are cumulative:
    #   commit = commit + closed; best_case = best_case + commit + closed;
    #   open_pipeline = pipeline + best_case + commit; coverage = open / (target − won)
    #   alice Q1: commit 0 + 5000.00 = 5000.00; best 10000.00 + 0 + 5000.00 = 15000.00;
    #             open 10493.82 + 10000.00 + 0 = 20493.82;
    #             coverage 20493.82 / (20000.00 − 5000.00) = 1.366254… → 1.3663
    #   bob Q1:   best 1700.00 = open; coverage 1700.00 / 10000.00 = 0.1700
    #   bob Q2:   commit 13000.05 = best = open; no target: no attainment, no coverage
    #   alice Q3: open 4000.00 only (pipeline counts in open, not in commit or best case)
    assert table(quarters["rollups"], ROLLUP_FIELDS) == [
        ("2027-Q1", "alice", "5000.00", "15000.00", "20493.82", "5000.00", "20000.00",
         "0.2500", "1.3663"),
        ("2027-Q1", "bob", "0.00", "1700.00", "1700.00", "0.00", "10000.00", "0.0000",
         "0.1700"),
        ("2027-Q2", "bob", "13000.05", "13000.05", "13000.05", "0.00", None, None, None),
        ("2027-Q3", "alice", "0.00", "0.00", "4000.00", "0.00", None, None, None),
    ]  # fmt: skip

    # When it is asked for by year, Then the quarters add up per owner:
    #   alice 2027: pipeline B + I = 14493.82 (3148.15 + 1200.00 = 4348.15), best_case A,
    #               closed E; commit 5000.00, best 15000.00, open 24493.82; no 2027 target
    #   bob 2027:   best_case G 1700.00, commit C + D 13000.05; commit 13000.05,
    #               best 14700.05, open 14700.05; target 50000.00: attainment 0.0000,
    #               coverage 14700.05 / 50000.00 = 0.294001 → 0.2940
    years = ok(client.get("/forecast?period=year"))
    assert table(years["rows"], ROW_FIELDS) == [
        ("2027", "alice", "pipeline", 2, "14493.82", "4348.15", "0.00", None, None),
        ("2027", "alice", "best_case", 1, "10000.00", "5000.00", "0.00", None, None),
        ("2027", "alice", "closed", 1, "5000.00", "5000.00", "5000.00", None, None),
        ("2027", "bob", "best_case", 1, "1700.00", "850.00", "0.00", "50000.00", "0.0000"),
        ("2027", "bob", "commit", 2, "13000.05", "5300.01", "0.00", "50000.00", "0.0000"),
    ]  # fmt: skip
    assert table(years["rollups"], ROLLUP_FIELDS) == [
        ("2027", "alice", "5000.00", "15000.00", "24493.82", "5000.00", None, None, None),
        ("2027", "bob", "13000.05", "14700.05", "14700.05", "0.00", "50000.00", "0.0000",
         "0.2940"),
    ]  # fmt: skip

    # Given baselines taken then: the pipeline of deals closing by June, and bob's forecast
    # for 2027-Q1 to 2027-Q2; then ten days of changes, projected
    by_june = baseline(client, "by June", "pipeline", WINDOW)
    bobs = baseline(client, "bob H1", "forecast", BOBS_HALF)
    assert by_june["baseline_position"] == bobs["baseline_position"] == then
    ten_days_later(client, clock, deals)
    now = project(client)

    # When the pipeline baseline is compared with now
    compared = compare_with_now(client, by_june)

    # Then the waterfall walks each deal's events between the two positions, valuing both
    # ends at the later rates (USD 0.90, so a rate move is not a deal change):
    #   start      A 10000.00 + B 11111.10 (12345.67 × 0.90 = 11111.103) + C 8000.00
    #              + D 5000.05 + G 1800.00 = 35911.15 in 5 deals (I closes in September)
    #   new        H 2500.00
    #   pulled_in  I 4000.00 (expected close moved to June)
    #   increased  A 10000.00 → 12000.00: 2000.00
    #   reopened   F 3000.00
    #   decreased  C 8000.00 → 7500.00: 500.00 …
    #   lost       … then C lost at 7500.00 (one deal, two buckets, in the order of its events)
    #   pushed_out G 1800.00 (expected close moved to August)
    #   won        B 11111.10
    #   deleted    D 5000.05
    #   end        A 12000.00 + H 2500.00 + I 4000.00 + F 3000.00 = 21500.00 in 4 deals
    #   35911.15 + 2500.00 + 4000.00 + 2000.00 + 3000.00 − 500.00 − 1800.00 − 11111.10
    #            − 7500.00 − 5000.05 = 21500.00;  5 + 1 + 1 + 1 − 1 − 1 − 1 − 1 = 4
    waterfall = compared["waterfall"]
    assert (waterfall["from_position"], waterfall["to_position"]) == (then, now)
    assert waterfall["rates_at"] == LATER.isoformat()
    assert figures(waterfall) == (
        {"start": "35911.15", "new": "2500.00", "pulled_in": "4000.00", "increased": "2000.00",
         "reopened": "3000.00", "decreased": "500.00", "pushed_out": "1800.00",
         "won": "11111.10", "lost": "7500.00", "deleted": "5000.05", "end": "21500.00"},
        {"start": 5, "new": 1, "pulled_in": 1, "increased": 0, "reopened": 1, "decreased": 0,
         "pushed_out": 1, "won": 1, "lost": 1, "deleted": 1, "end": 4},
    )  # fmt: skip

    # and the rows compare the chart then (at 0.85, in the window) with now (at 0.90):
    #   initial_contact  then D 5000.05 / 500.01          now H 2500.00 / 250.00
    #   qualification    then B 10493.82 / 3148.15        now I 4000.00 + F 3000.00 = 7000.00
    #                                                         / 1200.00 + 900.00 = 2100.00
    #   proposal         then A + G 11700.00 / 5850.00    now A 12000.00 / 6000.00
    #   negotiation      then C 8000.00 / 4800.00         now none
    #   won              then E 5000.00                   now E + B 5000.00 + 11111.10 = 16111.10
    #   lost             then F 3000.00                   now C 7500.00
    def delta(stage: str, before: tuple[Any, ...], after: tuple[Any, ...]) -> JSON:
        fields = ("count", "amount", "weighted")[: len(before)]
        diff = [a - b if f == "count" else str(Decimal(a) - Decimal(b))
                for f, b, a in zip(fields, before, after, strict=True)]  # fmt: skip
        return {"stage": stage, "then": dict(zip(fields, before, strict=True)),
                "now": dict(zip(fields, after, strict=True)),
                "delta": dict(zip(fields, diff, strict=True))}  # fmt: skip

    assert compared["rows"] == [
        delta("initial_contact", (1, "5000.05", "500.01"), (1, "2500.00", "250.00")),
        delta("qualification", (1, "10493.82", "3148.15"), (2, "7000.00", "2100.00")),
        delta("proposal", (2, "11700.00", "5850.00"), (1, "12000.00", "6000.00")),
        delta("negotiation", (1, "8000.00", "4800.00"), (0, "0.00", "0.00")),
        delta("won", (1, "5000.00"), (2, "16111.10")),
        delta("lost", (1, "3000.00"), (1, "7500.00")),
        delta("unqualified", (0, "0.00"), (0, "0.00")),
    ]

    # When bob's forecast baseline is compared with now, Then its window is bob's open deals
    # closing in 2027-Q1 to 2027-Q2:
    #   start      G 1800.00 (at 0.90) + C 8000.00 + D 5000.05 = 14800.05 in 3 deals
    #   new        H 2500.00 (2027-Q2);  reopened F 3000.00 (2027-Q1)
    #   decreased  C 500.00, then lost C 7500.00;  pushed_out G 1800.00 (to 2027-Q3)
    #   deleted    D 5000.05;  A, B and I are alice's: not in this window
    #   end        H 2500.00 + F 3000.00 = 5500.00 in 2 deals
    #   14800.05 + 2500.00 + 3000.00 − 500.00 − 1800.00 − 7500.00 − 5000.05 = 5500.00
    assert figures(compare_with_now(client, bobs)["waterfall"]) == (
        {"start": "14800.05", "new": "2500.00", "pulled_in": "0.00", "increased": "0.00",
         "reopened": "3000.00", "decreased": "500.00", "pushed_out": "1800.00", "won": "0.00",
         "lost": "7500.00", "deleted": "5000.05", "end": "5500.00"},
        {"start": 3, "new": 1, "pulled_in": 0, "increased": 0, "reopened": 1, "decreased": 0,
         "pushed_out": 1, "won": 0, "lost": 1, "deleted": 1, "end": 2},
    )  # fmt: skip

    # and both baselines still verify against a replay of the log from the start
    for taken in (by_june, bobs):
        assert ok(client.get(f"/baselines/{taken['id']}/verify"))["verified"] is True
