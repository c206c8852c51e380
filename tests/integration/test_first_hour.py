"""A newcomer's first hour, as real processes: what README.md says to run works as written.

The README's code blocks are read from the file and run by bash as they stand, with
only the demo store's port and the path of the installed `crmledger` put in (the
README's `localhost:8000` and `.venv/bin/crmledger`). `crmledger serve` on a busy
port says so in one sentence before anything else.
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

from tests.processes import (
    CRMLEDGER,
    TIMEOUT,
    assert_one_line_error,
    crmledger,
    environment,
    serving,
)

README = Path(__file__).resolve().parents[2] / "README.md"
# Fenced shell blocks: ```sh … ```
SHELL_BLOCK = re.compile(r"^```sh\n(.*?)^```$", re.S | re.M)
# Only the status code is added to what curl prints; the command itself is untouched.
STATUS_AFTER_BODY = "curl() { command curl --write-out '\\n%{http_code}' \"$@\"; }\n"


def readme_block(containing: str) -> str:
    """The README's one shell block holding ``containing``, as written."""
    blocks = [b for b in SHELL_BLOCK.findall(README.read_text()) if containing in b]
    assert len(blocks) == 1, f"README.md has {len(blocks)} shell blocks with {containing!r}"
    return str(blocks[0])


def bash(script: str, home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", script],
        env=environment(home=home),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        stdin=subprocess.DEVNULL,
        check=False,
    )


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What `make demo` leaves: the demo store (here in a home of its own)."""
    home = tmp_path_factory.mktemp("first-hour") / "home"
    run = crmledger(home, "demo")
    assert run.code == 0, run.err
    return home


def test_the_readme_curl_example_creates_an_opportunity_as_written(demo_home: Path) -> None:
    assert shutil.which("curl"), "curl is needed to run the README's example"
    example = readme_block("curl ")
    assert example.count("localhost:8000") == 1, example
    with serving(demo_home) as served:
        # When the README's example is run by bash, against the served demo store (its
        # token made by the README's own `crmledger users token` line)
        port = served.base.rsplit(":", 1)[1]
        script = STATUS_AFTER_BODY + example.replace("localhost:8000", f"localhost:{port}")
        script = script.replace(".venv/bin/crmledger", str(CRMLEDGER))
        first, again = bash(script, demo_home), bash(script, demo_home)
    # Then it answers 201 with the new opportunity's id, version and log position
    assert first.returncode == 0, first.stderr
    body, status = first.stdout.rsplit("\n", 1)
    assert status == "201", first.stdout
    answer = json.loads(body)
    assert set(answer) == {"id", "version", "position"}
    assert answer["version"] == 1 and answer["position"] > 0
    # and, sent again as the README says, the same answer and nothing written (200 or 201
    # as the first: the stored answer)
    assert again.returncode == 0 and again.stdout == first.stdout
    history = crmledger(demo_home, "history", answer["id"], "--format", "json").json()
    assert [event["type"] for event in history] == ["OpportunityCreated"]
    assert history[0]["data"]["title"] == "ACME rollout"


def test_the_readme_cli_commands_run_as_written(tmp_path: Path) -> None:
    # Given a demo store of its own (the block ticks the clock forward for good)
    home = tmp_path / "home"
    assert crmledger(home, "demo").code == 0
    block = readme_block("crmledger tick")
    assert ".venv/bin/crmledger" in block
    # When the README's block of commands runs, line after line, as written
    done = bash(block.replace(".venv/bin/crmledger", str(CRMLEDGER)), home)
    # Then every line succeeds: charts, the dry run, and the tick it announced
    assert done.returncode == 0, done.stderr
    assert "crmledger tick --dry-run: nothing was written." in done.stdout
    assert "are permanent" in done.stdout


def test_serve_on_a_busy_port_says_so_in_one_sentence_and_touches_nothing(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    # Given a port some other program listens on
    with socket.create_server(("127.0.0.1", 0)) as holder:
        port = holder.getsockname()[1]
        # When `crmledger serve` is asked to listen there
        done = crmledger(home, "serve", "--port", str(port))
    # Then it exits with 2 and one sentence naming the address, and never claimed to serve
    line = assert_one_line_error(done, starts="crmledger serve: ")
    assert line == (
        f"crmledger serve: cannot listen on 127.0.0.1:{port}: the port is in use (another "
        "crmledger serve?); choose another with --port or CRMLEDGER_HTTP_PORT."
    )
    # and it checked before opening the store: no store was made
    assert not home.exists()
