"""The contracts on the command line and in `crmledger serve`, as real processes.

`crmledger demo` turns its sales into contracts; `crmledger tick --until`
fires the renewals and expiries due by then, once (a second tick to the same
instant fires nothing); `crmledger serve` on the embedded store runs the
process manager and the projector, so a sale made over HTTP shows up in
`GET /contracts` by itself.
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from fastapi.testclient import TestClient

from adapters.bootstrap import bootstrap
from adapters.cli_contracts import changed_contracts
from adapters.settings import Settings
from domain.contract import ContractRenewalWithdrawn
from readmodels.contracts.tables import CONTRACTS
from tests.conftest import admin_client
from tests.identity import add_users
from tests.processes import count_events, crmledger, log_position, serving

# The item each sale here sells: a year of support, so the sale makes a time-based contract.
SUPPORT = {
    "name": "Support",
    "quantity": "1",
    "unit_price": "1200.00",
    "kind": "time_based",
    "term_months": 12,
    "category": "support",
}


def contracts_rows(home: Path) -> list[tuple[Any, ...]]:
    """The contracts read model's current rows (after a CLI command brought it up to date)."""
    path = Settings(home=home).read_model_path
    with contextlib.closing(sqlite3.connect(path)) as conn:
        return conn.execute(f"SELECT id, kind, status, end_date FROM {CONTRACTS}").fetchall()


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("contracts-cli") / "home"
    run = crmledger(home, "demo")
    assert run.code == 0, run.err
    assert "Contracts by status" in run.out
    return home


def test_tick_fires_what_is_due_once_and_a_second_tick_fires_nothing(demo_home: Path) -> None:
    # Given the demo's sales turned into contracts
    created = count_events(demo_home, "ContractCreated")
    assert created > 0
    # When the clock is moved past every contract's end, twice
    first = crmledger(demo_home, "tick", "--until", "2099-01-01")
    second = crmledger(demo_home, "tick", "--until", "2099-01-01T00:00:00Z")
    # Then the first tick fired each time-based contract's renewal notice and expiry
    assert first.code == 0, first.err
    found = re.search(r"fired (\d+) contract timer\(s\)", first.out)
    assert found is not None, first.out
    fired = int(found.group(1))
    due, expired = (
        count_events(demo_home, "ContractRenewalDue"),
        count_events(demo_home, "ContractExpired"),
    )
    assert due == expired > 0 and fired == due + expired
    # and opened one renewal opportunity per contract that fell due
    assert count_events(demo_home, "OpportunityCreated") >= due
    # and the second fired nothing
    assert second.code == 0
    assert second.out.startswith("crmledger tick: nothing was due by 2099-01-01T00:00:00+00:00")
    assert count_events(demo_home, "ContractExpired") == expired
    # and the read model shows every time-based contract expired (a chart brings it up to date)
    assert crmledger(demo_home, "pipeline").code == 0
    rows = contracts_rows(demo_home)
    assert len(rows) == created
    assert {status for _, kind, status, _ in rows if kind == "time_based"} == {"expired"}


@pytest.mark.parametrize("until", ["tomorrow", "2027-13-01", "2027-03-31T18:00:00"])
def test_tick_refuses_an_instant_it_cannot_read_with_exit_2(demo_home: Path, until: str) -> None:
    run = crmledger(demo_home, "tick", "--until", until)
    assert run.code == 2 and "Traceback" not in run.err
    assert "--until" in run.err


def test_tick_needs_until(demo_home: Path) -> None:
    run = crmledger(demo_home, "tick")
    assert run.code == 2 and "--until" in run.err


def test_serve_turns_a_sale_into_contracts_by_itself(tmp_path: Path) -> None:
    # Given `crmledger serve` on a fresh embedded store, where alice was added (by the CLI)
    added = crmledger(tmp_path / "home", "users", "add", "alice", "--role", "rep")
    assert added.code == 0, added.err
    with serving(tmp_path / "home") as served:
        # When an opportunity with one item is sold over HTTP
        opp = served.ok(
            "POST",
            "/opportunities",
            {
                "title": "ACME",
                "account_name": "ACME",
                "owner": "alice",
                "expected_close": "2027-03-31",
            },
        )["id"]
        quote = served.ok("POST", f"/opportunities/{opp}/quotes", {"name": "Q", "currency": "EUR"})
        served.ok("POST", f"/quotes/{quote['id']}/items", SUPPORT)
        served.ok("POST", f"/quotes/{quote['id']}/activate")
        sold = served.ok("POST", f"/opportunities/{opp}/sell")
        # Then, reading its writes, the contract is there: made by the process manager
        # running in the server, shown by its projector
        listed = served.ok("GET", f"/contracts?opportunity_id={opp}&wait_for={sold['position']}")
        contracts = listed["items"]
    assert [(c["kind"], c["status"], c["value"]["amount"]) for c in contracts] == [
        ("time_based", "active", "1200.00")
    ]


def test_a_bad_tick_writes_nothing(demo_home: Path) -> None:
    before = count_events(demo_home, "ContractExpired")
    run = crmledger(demo_home, "tick", "--until", "not-a-date")
    assert run.code == 2
    assert count_events(demo_home, "ContractExpired") == before
    assert "neither a date" in run.err and "Traceback" not in run.err


# --- tick says what it changed, for good; --dry-run says it first and writes nothing ---------

# A row of the table of contracts: id, name, changes (columns two or more spaces apart).
CONTRACT_LINE = re.compile(r"^([0-9a-f-]{36})  +(.+?)  +(.+)$")
OPPORTUNITY_ID = re.compile(r"renewal opportunity ([0-9a-f-]{36})")


def listed(out: str) -> dict[str, str]:
    """The contracts a tick's table lists: contract id → what happened (or would)."""
    lines = (CONTRACT_LINE.match(line) for line in out.splitlines())
    return {m.group(1): m.group(3) for m in lines if m}


def changes_of(said: str) -> set[str]:
    """The kinds of change one listed line names, the same for a dry run and a tick."""
    kinds = {"renewal_due": "due for renewal", "expiry": "expire", "made": "made from the sale"}
    return {kind for kind, words in kinds.items() if words in said}


def originators(home: Path, topic: str) -> set[str]:
    with contextlib.closing(sqlite3.connect(home / "events.sqlite")) as conn:
        found = conn.execute("SELECT originator_id FROM stored_events WHERE topic = ?", (topic,))
        return {str(UUID(row[0])) for row in found}


def tracked(home: Path) -> int:
    with contextlib.closing(sqlite3.connect(home / "events.sqlite")) as conn:
        return int(
            conn.execute("SELECT COALESCE(MAX(notification_id), 0) FROM tracking").fetchone()[0]
        )


@pytest.fixture
def fresh_demo(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    run = crmledger(home, "demo")
    assert run.code == 0, run.err
    return home


def test_tick_lists_each_contract_it_changed_and_says_the_events_are_permanent(
    fresh_demo: Path,
) -> None:
    # When the clock is moved past every contract's end
    run = crmledger(fresh_demo, "tick", "--until", "2099-01-01")
    # Then the tick says its events are permanent
    assert run.code == 0, run.err
    assert "permanent" in run.out and "never undone" in run.out
    # and lists every contract that fell due for renewal and expired, each once, by name
    contracts = listed(run.out)
    due = originators(fresh_demo, "ContractRenewalDue")
    assert due and set(contracts) == due == originators(fresh_demo, "ContractExpired")
    assert all(changes_of(said) == {"renewal_due", "expiry"} for said in contracts.values())
    assert f"Contracts changed ({len(due)}):" in run.out
    # with the renewal opportunity each one opened, which exists
    opened = {m.group(1) for said in contracts.values() for m in OPPORTUNITY_ID.finditer(said)}
    assert len(opened) == len(due)
    for opportunity in opened:
        assert crmledger(fresh_demo, "history", opportunity).code == 0


def test_dry_run_lists_what_a_tick_would_change_writes_nothing_and_the_tick_then_does_it(
    fresh_demo: Path,
) -> None:
    # Given the demo's contracts, the log at some position and the process's own position
    before, process_before = log_position(fresh_demo), tracked(fresh_demo)
    # When a dry run to a day in the middle of the demo's renewals is asked for
    dry = crmledger(fresh_demo, "tick", "--until", "2027-09-01", "--dry-run")
    # Then it lists contracts it would change and says it wrote nothing
    assert dry.code == 0, dry.err
    assert dry.out.startswith("crmledger tick --dry-run: nothing was written.")
    would = listed(dry.out)
    assert would, dry.out
    assert "No sale or closing waits to be processed" in dry.out
    # and the log and the process's position are as they were
    assert (log_position(fresh_demo), tracked(fresh_demo)) == (before, process_before)
    assert not originators(fresh_demo, "ContractRenewalDue")
    # When the tick runs for real
    real = crmledger(fresh_demo, "tick", "--until", "2027-09-01")
    # Then it changed exactly those contracts, in those ways
    did = listed(real.out)
    assert {c: changes_of(s) for c, s in did.items()} == {
        c: changes_of(s) for c, s in would.items()
    }
    # with the renewal opportunities the dry run named
    assert {c: OPPORTUNITY_ID.findall(s) for c, s in did.items()} == {
        c: OPPORTUNITY_ID.findall(s) for c, s in would.items()
    }
    assert log_position(fresh_demo) > before


def test_dry_run_counts_the_sales_still_waiting_and_the_tick_lists_their_contracts(
    tmp_path: Path,
) -> None:
    # Given a sale recorded while no contracts process ran (a store used in-process)
    home = tmp_path / "home"
    services = bootstrap(Settings(home=home))
    try:
        add_users(services.bus, "alice")
        with admin_client(services) as client:
            opportunity = _sold_opportunity(client)
    finally:
        services.close()
    before = log_position(home)
    # When a dry run is asked for
    dry = crmledger(home, "tick", "--until", "2099-01-01", "--dry-run")
    # Then it says the sale waits and is not in its list, and writes nothing
    assert dry.code == 0, dry.err
    assert "Not listed: 1 sale(s) or closing(s)" in dry.out
    assert listed(dry.out) == {}
    assert log_position(home) == before and not originators(home, "ContractCreated")
    # When the tick runs for real
    real = crmledger(home, "tick", "--until", "2099-01-01")
    # Then it lists the contract it made from that sale, which also fell due and expired
    assert real.code == 0, real.err
    assert "processed 1 waiting sale(s)" in real.out
    (contract, said), *others = listed(real.out).items()
    assert others == []
    assert f"made from the sale of opportunity {opportunity}" in said
    assert changes_of(said) == {"made", "renewal_due", "expiry"}
    assert originators(home, "ContractCreated") == {contract}


def _sold_opportunity(client: TestClient) -> str:
    def ok(response: Any) -> Any:
        assert response.status_code in (200, 201), response.text
        return response.json()

    opportunity = ok(
        client.post(
            "/opportunities",
            json={
                "title": "ACME",
                "account_name": "ACME",
                "owner": "alice",
                "expected_close": "2027-03-31",
            },
        )
    )["id"]
    quote = ok(
        client.post(f"/opportunities/{opportunity}/quotes", json={"name": "Q", "currency": "EUR"})
    )["id"]
    ok(client.post(f"/quotes/{quote}/items", json=SUPPORT))
    ok(client.post(f"/quotes/{quote}/activate"))
    ok(client.post(f"/opportunities/{opportunity}/sell"))
    return str(opportunity)


@pytest.mark.parametrize(
    ("status", "now"), [("renewal_due", "due for renewal again"), ("expired", "expired")]
)
def test_a_withdrawn_renewal_is_listed_with_the_opportunity_and_where_the_contract_stands(
    tmp_path: Path, status: str, now: str
) -> None:
    # Given a tick whose catch-up withdrew a renewal (its renewal opportunity was lost)
    contract_id, opportunity_id = uuid4(), uuid4()
    withdrawn = ContractRenewalWithdrawn(
        originator_id=contract_id,
        renewal_opportunity_id=opportunity_id,
        reason="the opportunity was lost",
        status=status,  # type: ignore[arg-type]
    )
    services = bootstrap(Settings(home=tmp_path / "home"))
    try:
        # When its changes are reported
        changed = changed_contracts([withdrawn], services.store)
    finally:
        services.close()
    # Then the change names the opportunity, the reason and where the contract stands now
    assert changed == [
        {
            "id": str(contract_id),
            "name": "?",
            "changes": [
                f"renewal by opportunity {opportunity_id} withdrawn "
                f"(the opportunity was lost): {now}"
            ],
        }
    ]
