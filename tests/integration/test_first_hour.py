"""A newcomer's first hour, as real processes: what README.md says to run works as written.

`crmledger serve` on a busy port says so in one sentence before anything else.
"""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

from tests.integration.test_cli import CRMLEDGER, TIMEOUT, env_for


def test_serve_on_a_busy_port_says_so_in_one_sentence_and_touches_nothing(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    # Given a port some other program listens on
    with socket.create_server(("127.0.0.1", 0)) as holder:
        port = holder.getsockname()[1]
        # When `crmledger serve` is asked to listen there
        done = subprocess.run(
            [str(CRMLEDGER), "serve", "--port", str(port)],
            env=env_for(home),
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    # Then it exits with 2 and one sentence naming the address, and never claimed to serve
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert lines == [
        f"crmledger serve: cannot listen on 127.0.0.1:{port}: the port is in use (another "
        "crmledger serve?); choose another with --port or CRMLEDGER_HTTP_PORT."
    ]
    # and it checked before opening the store: no store was made
    assert not home.exists()
