"""Every event says who did it (``by``), in which request (``request_id``) and caused by
what (``causation_id``): through HTTP, the CLI and the contracts process (Kafka commands:
``test_kafka_commands.py``), read back through ``/history`` and ``crmledger history``."""

from __future__ import annotations

import contextlib
import getpass
import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any
from uuid import UUID

import msgspec

from domain.events import ENVELOPE_FIELDS, event_id, registered_event_types
from tests.processes import crmledger, serving

CLI = f"cli:{getpass.getuser()}"


def stored_events(home: Path) -> list[dict[str, Any]]:
    """Every event of the embedded store, as stored (JSON), with its topic."""
    with contextlib.closing(sqlite3.connect(home / "events.sqlite")) as conn:
        rows = conn.execute("SELECT topic, state FROM stored_events ORDER BY rowid").fetchall()
    return [{"topic": topic, **msgspec.json.decode(state)} for topic, state in rows]


def test_every_registered_event_type_carries_who_did_it_in_its_envelope() -> None:
    # Given every event type the registry knows
    types = registered_event_types()
    assert len(types) > 60
    for cls in types.values():
        # Then each has the three fields, unset until stamped, and they are envelope
        fields = {f.name: f.default for f in msgspec.structs.fields(cls)}
        assert {k: fields[k] for k in ("by", "request_id", "causation_id")} == dict.fromkeys(
            ("by", "request_id", "causation_id")
        ), cls.__name__
    # (kept out of an event's own data, as its id and times are)
    assert {"by", "request_id", "causation_id"} <= ENVELOPE_FIELDS


def test_the_demo_the_tick_and_http_each_say_who_did_what(tmp_path: Path) -> None:
    home = tmp_path / "home"
    # Given the demo (run from the command line, with the contracts process it runs)
    assert crmledger(home, "demo").code == 0
    # and time moved on by `crmledger tick` (the contracts process fires the timers, the
    # notifications process tells the owners of what they were given)
    assert crmledger(home, "tick", "--until", "2099-01-01").code == 0
    # When an admin creates an opportunity over HTTP with a request id of their own
    with serving(home) as served:
        status, created = served.call(
            "POST",
            "/opportunities",
            {"title": "Who", "owner": "alice", "expected_close": "2027-03-31", "account_name": "W"},
            headers={"X-Request-ID": "req-who-1"},
        )
        assert status == 201, created
        _, history = served.call("GET", f"/history/{created['id']}")
    # Then every event in the store says who, which request and what caused it
    events = stored_events(home)
    assert all(e["by"] and e["request_id"] and e["causation_id"] for e in events)
    by = Counter(e["by"] for e in events)
    assert set(by) == {
        CLI,
        "system:contracts",
        "system:notifications",
        "system:bootstrap",
        "admin",
    }, by
    # the notifications name the event that called for them
    ids = {str(event_id(UUID(e["originator_id"]), e["originator_version"])) for e in events}
    assert all(e["causation_id"] in ids for e in events if e["by"] == "system:notifications")
    # the store's defaults were written by the bootstrap of the first process opening it
    defaults = {e["topic"] for e in events if e["by"] == "system:bootstrap"}
    assert defaults == {"PipelineCreated", "ExchangeRatesStarted"}
    # the contracts process's reactions name the event they reacted to
    reactions = [
        e for e in events if e["by"] == "system:contracts" and e["topic"] == "ContractCreated"
    ]
    assert reactions
    sold = {
        str(event_id(UUID(e["originator_id"]), e["originator_version"]))
        for e in events
        if e["topic"] == "OpportunitySold"
    }
    assert all(e["causation_id"] in sold for e in reactions)
    # and the HTTP command's events carry the request's id; /history shows them
    [entry] = history
    assert (entry["actor"], entry["correlation_id"]) == ("admin", "req-who-1")
    assert entry["causation_id"]
    # `crmledger history` too
    cli_history = crmledger(home, "history", created["id"], "--format", "json").json()
    assert cli_history[0]["actor"] == "admin"
