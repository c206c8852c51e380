"""No process deletes a store another has open, and the demo replaces only its own.

Every process that opens the embedded store holds a shared lock on it; ``demo``
and ``rebuild`` take it exclusively and refuse in one sentence while anyone else
has it. The demo wipes a store only when its events are exactly those an earlier
demo wrote, plus what time alone did to them (renewals falling due, expiries).
All of it as real processes, as a user would run them.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from adapters.store_lock import StoreLock, StoreLocked
from tests.processes import (
    CRMLEDGER,
    TIMEOUT,
    assert_one_line_error,
    count_events,
    crmledger,
    environment,
    log_position,
    serving,
)


def deal(title: str) -> dict[str, Any]:
    return {
        "title": title,
        "owner": "alice",
        "expected_close": "2027-03-31",
        "account_name": "ACME GmbH",
        "amount": {"amount": "12000.00", "currency": "EUR"},
    }


def history(home: Path, aggregate_id: str) -> list[dict[str, Any]]:
    run = crmledger(home, "history", aggregate_id, "--format", "json")
    assert run.code == 0, run.err
    events: list[dict[str, Any]] = json.loads(run.out)
    return events


def test_a_demo_never_deletes_a_store_a_server_has_open_nor_one_with_a_users_writes(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    # Given the demo, then `serve` on its store, and one write acknowledged
    assert crmledger(home, "demo").code == 0
    with serving(home) as served:
        status, before = served.call("POST", "/opportunities", deal("Written before"))
        assert status == 201
        # When the demo is run again while the server runs
        refused = crmledger(home, "demo")
        # Then it refuses in one sentence naming the server, and deletes nothing
        line = assert_one_line_error(refused, starts="crmledger demo: ")
        assert "open in another process" in line and "serve" in line
        assert "CRMLEDGER_HOME" in line
        # and the server goes on writing to the same store
        status, during = served.call("POST", "/opportunities", deal("Written during"))
        assert status == 201 and during["position"] > before["position"]
    # When the server has stopped, the demo is refused still: the store holds a user's writes
    line = assert_one_line_error(crmledger(home, "demo"), starts="crmledger demo: ")
    assert "written after the demo" in line
    # Then, after the server restarts, every acknowledged write is in the store
    with serving(home) as served:
        status, after = served.call("POST", "/opportunities", deal("Written after"))
        assert status == 201
    for written, title in ((before, "Written before"), (during, "Written during")):
        events = history(home, written["id"])
        assert events[0]["type"] == "OpportunityCreated"
        assert events[0]["data"]["title"] == title
    assert history(home, after["id"])[0]["data"]["title"] == "Written after"


def test_a_demo_replaces_an_earlier_demo_that_time_has_moved_on(tmp_path: Path) -> None:
    home = tmp_path / "home"
    # Given a demo store whose contracts time has moved on (renewals due, expiries)
    assert crmledger(home, "demo").code == 0
    demo_events = log_position(home)
    assert crmledger(home, "tick", "--until", "2099-01-01").code == 0
    assert count_events(home, "ContractExpired") > 0
    assert log_position(home) > demo_events
    # When the demo runs again, Then it replaces it, saying so
    rerun = crmledger(home, "demo")
    assert rerun.code == 0, rerun.err
    assert "Removed the previous demo store" in rerun.out
    assert count_events(home, "ContractExpired") == 0


def test_a_demo_refuses_a_store_whose_demo_events_were_changed(tmp_path: Path) -> None:
    # Given a demo store, and another demo store whose record is put beside it
    first, second = tmp_path / "first", tmp_path / "second"
    assert crmledger(first, "demo").code == 0
    assert crmledger(second, "demo").code == 0
    (first / ".demo-store").write_bytes((second / ".demo-store").read_bytes())
    # When the demo runs on the first, Then its events are not those the record describes
    line = assert_one_line_error(crmledger(first, "demo"), starts="crmledger demo: ")
    assert "no longer holds the events the demo wrote" in line


def test_rebuild_is_refused_while_a_server_projects_into_the_store(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with serving(home):
        line = assert_one_line_error(crmledger(home, "rebuild"), starts="crmledger rebuild: ")
        assert "open in another process" in line
    assert crmledger(home, "rebuild", "--quiet").code == 0


def test_a_store_being_replaced_cannot_be_opened(tmp_path: Path) -> None:
    # Given a process holding the store exclusively (as the demo does while it seeds)
    home = tmp_path / "home"
    holder = subprocess.Popen(
        [
            str(Path(CRMLEDGER).with_name("python")),
            "-c",
            "import sys, time\n"
            "from pathlib import Path\n"
            "from adapters.store_lock import StoreLock\n"
            f"StoreLock(Path({str(home)!r}), 'exclusive', 'the demo').acquire()\n"
            "print('held', flush=True)\n"
            "time.sleep(60)\n",
        ],
        env=environment(home=home),
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        # When a command opens the store, Then it says why it cannot, in one line
        line = assert_one_line_error(crmledger(home, "pipeline"), starts="crmledger pipeline: ")
        assert "being replaced by another process" in line
        with pytest.raises(StoreLocked):
            StoreLock(home, "shared", "a test").acquire()
    finally:
        holder.kill()
        holder.wait(TIMEOUT)
    # and once the holder is gone (however it ended), the lock is free again
    with StoreLock(home, "exclusive", "a test"):
        pass
