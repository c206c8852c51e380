"""Real ``crmledger`` processes and background writers, for the tests that kill, cut or wait.

- ``Crmledger``: one ``crmledger …`` process (a worker, a tick, …) with its output in a
  file: read it (``output``, ``lines`` of JSON logs), ask whether it runs, kill it
  (SIGKILL: no cleanup), stop it (SIGTERM, then SIGKILL if it hangs).
- ``crmledger``: run one command to its end (``Run``: exit code, stdout, stderr);
  ``assert_one_line_error``: it failed with one sentence, no traceback.
- ``serving``: ``crmledger serve`` on an embedded store for the length of a block, called
  as an admin with a token made by ``crmledger users`` (``Served.call``).
- ``log_position``, ``count_events``: the embedded store's last position, its events of a topic.
- ``environment``: the variables a ``crmledger`` process gets: none of this process's
  ``CRMLEDGER_*``, the store of ``settings`` (or a home), and whatever the test adds.
- ``wait_until``: poll a condition, failing with the process's output when it exits
  first or the time runs out.
- ``Kill``: how far a killed process had got, to tell kills mid-run from idle ones.
- ``Background``: a step (commands through the bus, a few at a time) repeated on a
  thread until the block ends; what it raised fails the test rather than being lost.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from adapters.settings import Settings
from tests.kafka_broker import free_port

CRMLEDGER = Path(sys.executable).with_name("crmledger")
PROCESS_TIMEOUT = 30.0  # CI-safe: a worker starts in well under a second here
TIMEOUT = 60.0  # a whole command (the demo, a rebuild) on a loaded CI machine


def environment(
    settings: Settings | None = None, *, home: Path | None = None, **more: str
) -> dict[str, str]:
    """The environment of a ``crmledger`` process on ``settings``' store (or ``home``)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRMLEDGER_")}
    if settings is not None:
        env["CRMLEDGER_REPORTING_CURRENCY"] = settings.reporting_currency
        if settings.uses_postgres:
            assert settings.database_url is not None
            env["CRMLEDGER_DATABASE_URL"] = settings.database_url
            env["CRMLEDGER_DATABASE_SCHEMA"] = settings.database_schema
        else:
            env["CRMLEDGER_HOME"] = str(settings.home)
    if home is not None:
        env["CRMLEDGER_HOME"] = str(home)
    return {**env, **more}


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        assert self.code == 0, self.err
        return json.loads(self.out)


def crmledger(store: Path | Settings, *args: str, **env: str) -> Run:
    """``crmledger *args`` on the embedded store in a home (``store``: its path) or on the
    store of ``store``'s settings, run to its end."""
    where = environment(store) if isinstance(store, Settings) else environment(home=store)
    done = subprocess.run(
        [str(CRMLEDGER), *args],
        check=False,
        env={**where, **env},
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        stdin=subprocess.DEVNULL,
    )
    return Run(done.returncode, done.stdout, done.stderr)


def assert_one_line_error(run: Run, code: int = 2, starts: str = "crmledger ") -> str:
    """It failed with ``code`` and one line on stderr (no traceback); that line."""
    assert run.code == code, (run.out, run.err)
    assert "Traceback" not in run.err and run.out == ""
    lines = run.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(starts), run.err
    return lines[0]


def log_position(home: Path) -> int:
    """The last position of the embedded store in ``home``."""
    with sqlite3.connect(home / "events.sqlite") as conn:
        return int(conn.execute("SELECT MAX(rowid) FROM stored_events").fetchone()[0])


def count_events(home: Path, topic: str) -> int:
    """How many events of ``topic`` the embedded store in ``home`` holds."""
    with contextlib.closing(sqlite3.connect(home / "events.sqlite")) as conn:
        found = conn.execute("SELECT COUNT(*) FROM stored_events WHERE topic = ?", (topic,))
        return int(found.fetchone()[0])


@dataclass(frozen=True)
class Served:
    """A running ``crmledger serve``: its base URL and an admin's bearer token."""

    base: str
    token: str

    def call(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Any]:
        """One request as the admin: its status and its JSON answer (errors too)."""
        request = urllib.request.Request(
            self.base + path,
            data=None if body is None else json.dumps(body).encode(),
            method=method,
            headers={
                "content-type": "application/json",
                "authorization": f"Bearer {self.token}",
                **(headers or {}),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as refused:
            return refused.code, json.loads(refused.read())

    def ok(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """The JSON answer of a request that must succeed."""
        status, answer = self.call(method, path, body)
        assert 200 <= status < 300, (status, answer)
        return answer


def admin_token(store: Path | Settings, login: str = "admin") -> str:
    """An API token of an admin of ``store`` (as ``crmledger`` takes it), made as an
    operator makes one: ``crmledger users add`` (refused when there is such a user
    already), then ``users token``."""
    added = crmledger(store, "users", "add", login, "--role", "admin")
    assert added.code == 0 or "there is already a user" in added.err, added.err
    made = crmledger(store, "users", "token", login)
    assert made.code == 0, made.err
    return made.out.strip()


@contextlib.contextmanager
def serving(home: Path) -> Iterator[Served]:
    """``crmledger serve`` on the embedded store in ``home``, on a free port, until the block
    ends, once it answers ``/health``; an admin's token to call it with."""
    token = admin_token(home)
    port = free_port()
    # Its log goes to a file: a pipe nobody reads fills after some thousand requests'
    # access lines, and then the server blocks on its next log line, for good.
    log_path = home.parent / f"serve-{port}.log"
    log = log_path.open("wb")
    process = subprocess.Popen(
        [str(CRMLEDGER), "serve", "--port", str(port)],
        env=environment(home=home),
        stdout=log,
        stderr=subprocess.STDOUT,
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
                    output = log_path.read_text(errors="replace")
                    raise AssertionError(f"serve did not start:\n{output}") from None
                time.sleep(0.1)
        yield Served(base, token)
    finally:
        process.terminate()
        process.wait(TIMEOUT)
        log.close()


class Crmledger:
    """One ``crmledger *args`` process; its stdout and stderr go to ``log_path``."""

    def __init__(self, args: list[str], env: dict[str, str], log_path: Path) -> None:
        self.log_path = log_path
        self._log = log_path.open("ab")
        self.process = subprocess.Popen(
            [str(CRMLEDGER), *args],
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )

    def output(self) -> str:
        """The end of what it wrote (for a failure message)."""
        return self.log_path.read_text(errors="replace")[-3000:]

    def lines(self) -> list[dict[str, Any]]:
        """Its JSON log lines (a killed process's last line may be cut: skipped)."""
        text = self.log_path.read_text(errors="replace")
        return [
            json.loads(line)
            for line in text.splitlines()
            if line.startswith("{") and line.endswith("}")
        ]

    def running(self) -> bool:
        return self.process.poll() is None

    def assert_running(self, before: str = "") -> None:
        code = self.process.poll()
        when = f" before {before}" if before else ""
        assert code is None, f"the process exited with {code}{when}:\n{self.output()}"

    def kill(self) -> None:
        """SIGKILL: no cleanup, no ``finally``."""
        self.process.send_signal(signal.SIGKILL)
        self.wait()

    def terminate(self) -> int:
        """SIGTERM, and its exit code."""
        self.process.send_signal(signal.SIGTERM)
        return self.wait()

    def stop(self) -> int:
        """SIGTERM if it still runs; SIGKILL (and a failure) if it does not end in time."""
        if self.running():
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.wait()
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise

    def wait(self) -> int:
        code = self.process.wait(PROCESS_TIMEOUT)
        self._log.close()
        return code


def wait_until(
    condition: Callable[[], bool],
    what: str,
    *,
    process: Crmledger | None = None,
    timeout: float = PROCESS_TIMEOUT,
    interval: float = 0.002,
) -> None:
    """Poll ``condition`` until it holds; fail if ``process`` exits first or time runs out."""
    deadline = time.monotonic() + timeout
    while not condition():
        if process is not None:
            process.assert_running(before=what)
        if time.monotonic() > deadline:
            shown = f":\n{process.output()}" if process is not None else ""
            raise AssertionError(f"timed out waiting until {what}{shown}")
        time.sleep(interval)


class Background:
    """``step()`` again and again on a thread while the ``with`` block runs."""

    def __init__(self, step: Callable[[], None], name: str) -> None:
        self.step = step
        self.name = name
        self.stop = threading.Event()
        self.errors: list[BaseException] = []
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)

    def _run(self) -> None:
        try:
            while not self.stop.is_set():
                self.step()
        except BaseException as error:  # surfaced by the test, not lost in the thread
            self.errors.append(error)

    def __enter__(self) -> Background:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(PROCESS_TIMEOUT)
        assert not self.thread.is_alive(), f"the {self.name} thread did not stop"
        assert not self.errors, f"the {self.name} thread failed: {self.errors[0]!r}"


@dataclass(frozen=True)
class Kill:
    """How far a killed process had got: ``before`` it started, ``after`` its kill, of
    ``end`` (log positions, timers, …: what it works through)."""

    kind: str
    before: int
    after: int
    end: int

    @property
    def mid_run(self) -> bool:
        """It had done some of its work in this run and had more to do."""
        return self.before < self.after < self.end
