"""The contracts on the command line and in `crmledger serve`, as real processes.

`crmledger demo` turns its sales into contracts; `crmledger tick --until`
fires the renewals and expiries due by then, once (a second tick to the same
instant fires nothing); `crmledger serve` on the embedded store runs the
process manager and the projector, so a sale made over HTTP shows up in
`GET /contracts` by itself.
"""

from __future__ import annotations

import contextlib
import json
import socket
import sqlite3
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from adapters.settings import Settings
from tests.integration.test_cli import CRMLEDGER, TIMEOUT, crmledger, env_for


def contracts_rows(home: Path) -> list[tuple[Any, ...]]:
    """The contracts read model's current rows (after a CLI command brought it up to date)."""
    path = Settings(home=home).read_model_path
    with contextlib.closing(sqlite3.connect(path)) as conn:
        return conn.execute("SELECT id, kind, status, end_date FROM contracts_v2").fetchall()


def count_events(home: Path, topic: str) -> int:
    with contextlib.closing(sqlite3.connect(home / "events.sqlite")) as conn:
        found = conn.execute("SELECT COUNT(*) FROM stored_events WHERE topic = ?", (topic,))
        return int(found.fetchone()[0])


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
    fired = int(first.out.split()[1])
    due, expired = (
        count_events(demo_home, "ContractRenewalDue"),
        count_events(demo_home, "ContractExpired"),
    )
    assert due == expired > 0 and fired == due + expired
    # and opened one renewal opportunity per contract that fell due
    assert count_events(demo_home, "OpportunityCreated") >= due
    # and the second fired nothing
    assert second.code == 0 and second.out.startswith("fired 0 contract timer(s)")
    assert count_events(demo_home, "ContractExpired") == expired
    # and the read model shows every time-based contract expired (a chart brings it up to date)
    assert crmledger(demo_home, "pipeline", "--json").code == 0
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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def serving(home: Path) -> Iterator[str]:
    port = _free_port()
    process = subprocess.Popen(
        [str(CRMLEDGER), "serve", "--port", str(port)],
        env=env_for(home),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + TIMEOUT
        while True:
            try:
                urllib.request.urlopen(f"{base}/health", timeout=1).read()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError("serve did not start") from None
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(TIMEOUT)
        assert process.stderr is not None
        process.stderr.close()


def call(base: str, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        base + path, data=data, method=method, headers={"content-type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
        return json.loads(response.read())


def test_serve_turns_a_sale_into_contracts_by_itself(tmp_path: Path) -> None:
    # Given `crmledger serve` on a fresh embedded store
    with serving(tmp_path / "home") as base:
        # When an opportunity with one item is sold over HTTP
        opp = call(
            base,
            "POST",
            "/opportunities",
            {
                "title": "ACME",
                "account_name": "ACME",
                "owner": "alice",
                "expected_close": "2027-03-31",
            },
        )["id"]
        quote = call(base, "POST", f"/opportunities/{opp}/quotes", {"name": "Q", "currency": "EUR"})
        item = {
            "name": "Support",
            "quantity": "1",
            "unit_price": "1200.00",
            "kind": "time_based",
            "term_months": 12,
            "category": "support",
        }
        call(base, "POST", f"/quotes/{quote['id']}/items", item)
        call(base, "POST", f"/quotes/{quote['id']}/activate")
        sold = call(base, "POST", f"/opportunities/{opp}/sell")
        # Then, reading its writes, the contract is there: made by the process manager
        # running in the server, shown by its projector
        contracts = call(
            base, "GET", f"/contracts?opportunity_id={opp}&wait_for={sold['position']}"
        )
    assert [(c["kind"], c["status"], c["value"]["amount"]) for c in contracts] == [
        ("time_based", "active", "1200.00")
    ]


def test_a_bad_tick_writes_nothing(demo_home: Path) -> None:
    before = count_events(demo_home, "ContractExpired")
    run = crmledger(demo_home, "tick", "--until", "not-a-date")
    assert run.code == 2
    assert count_events(demo_home, "ContractExpired") == before
    assert "neither a date" in run.err and "Traceback" not in run.err
