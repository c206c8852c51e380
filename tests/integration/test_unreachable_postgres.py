"""An unreachable PostgreSQL is reported within the connect timeout, in one sentence."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from adapters.persistence import SalesEventStore
from adapters.settings import Settings
from adapters.unreachable import StoreUnreachable
from tests.integration.test_cli import crmledger


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
