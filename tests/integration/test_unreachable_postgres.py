"""An unreachable PostgreSQL: a one-shot command says so in one sentence within the connect
timeout; a worker waits for it; settings no retry can mend end a worker in one sentence."""

from __future__ import annotations

import json
import socket
import subprocess
import time
from pathlib import Path

import pytest

from adapters.event_store.store import SalesEventStore
from adapters.settings import Settings
from adapters.unreachable import StoreUnreachable
from tests.conftest import require_postgres
from tests.processes import CRMLEDGER, crmledger, environment


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port  # nothing listens there once the socket is closed


def test_opening_the_store_on_a_server_that_does_not_answer_fails_fast_and_says_where() -> None:
    port = _closed_port()
    settings = Settings(
        database_url=f"postgresql://postgres@127.0.0.1:{port}/postgres",
        pg_connect_timeout_seconds=2,
    )
    started = time.monotonic()
    with pytest.raises(StoreUnreachable, match=f"127.0.0.1:{port}"):
        SalesEventStore.open(settings)
    assert time.monotonic() - started < 10


def test_the_cli_reports_an_unreachable_server_in_one_line(tmp_path: Path) -> None:
    url = f"postgresql://postgres@127.0.0.1:{_closed_port()}/postgres"
    run = crmledger(
        tmp_path / "home",
        "pipeline",
        CRMLEDGER_DATABASE_URL=url,
        CRMLEDGER_PG_CONNECT_TIMEOUT_SECONDS="2",
    )
    assert run.code == 2
    assert "could not be reached within 2 s" in run.err
    assert "Traceback" not in run.err


def test_a_worker_waits_for_a_server_that_does_not_answer_yet(tmp_path: Path) -> None:
    # Given no server on the configured port (not up yet, or restarting)
    port = _closed_port()
    env = environment(
        home=tmp_path / "home",
        CRMLEDGER_DATABASE_URL=f"postgresql://postgres@127.0.0.1:{port}/postgres",
        CRMLEDGER_PG_CONNECT_TIMEOUT_SECONDS="1",
        CRMLEDGER_RETRY_MAX_SECONDS="1",
        CRMLEDGER_LOG_FORMAT="json",
    )
    worker = subprocess.Popen(
        [str(CRMLEDGER), "worker", "--role", "projector"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # When a few attempts have passed, Then it is still there, saying what it waits for
        time.sleep(4)
        assert worker.poll() is None
    finally:
        worker.terminate()
        _, err = worker.communicate(timeout=30)
    # and a stop ends it cleanly
    assert worker.returncode == 0, err
    waits = [json.loads(line) for line in err.splitlines() if "waiting_for_postgres" in line]
    assert len(waits) >= 2 and f"127.0.0.1:{port}" in waits[0]["error"]
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("postgresql://postgres@127.0.0.1:5432/no_such_database", "does not exist"),
        ("postgresql://no_such_role@127.0.0.1:5432/postgres", "does not exist"),
    ],
)
def test_a_worker_with_bad_settings_exits_2_in_one_sentence(
    tmp_path: Path, url: str, said: str
) -> None:
    require_postgres()
    env = environment(home=tmp_path / "home", CRMLEDGER_DATABASE_URL=url)
    done = subprocess.run(
        [str(CRMLEDGER), "worker", "--role", "projector"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("crmledger worker: PostgreSQL refuses the configured connection")
    assert said in last and "Traceback" not in done.stderr
