"""A private PostgreSQL server for tests that stop and restart it (outage tests).

The shared server (``CRMLEDGER_TEST_POSTGRES_URL``) serves the parallel suite; a
test that restarts PostgreSQL must not take it away from the others, so it runs
its own: ``initdb`` into a temporary directory, ``pg_ctl start`` on a free
loopback port, ``pg_ctl restart`` or ``stop`` / ``start`` for an outage. The
binaries are the machine's (the same ones as the shared server); as root, the
server runs as the ``postgres`` user, as PostgreSQL requires.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.kafka_broker import free_port


def postgres_bin() -> Path | None:
    """The directory of ``initdb`` and ``pg_ctl``: on PATH, or Debian's newest."""
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    return versions[-1].parent if versions else None


class PostgresServer:
    def __init__(self) -> None:
        binaries = postgres_bin()
        if binaries is None:
            raise RuntimeError("no PostgreSQL server binaries (initdb, pg_ctl) on this machine")
        self.bin = binaries
        self.port = free_port()
        # Not under pytest's tmp_path: as root, the server runs as `postgres`, which may not
        # enter root's private directories; the system's temporary directory it may.
        self.dir = Path(tempfile.mkdtemp(prefix=f"crmledger-pg-{self.port}-"))
        self.data = self.dir / "data"
        self.log = self.dir / "server.log"
        self._as_root = os.geteuid() == 0

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str, timeout: float = 120.0) -> None:
        command = [str(self.bin / args[0]), *args[1:]]
        if self._as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, check=False, capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(args[:2])} failed: {done.stderr or done.stdout}")

    def init(self) -> None:
        if self._as_root:
            shutil.chown(self.dir, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8")
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.dir} "
            "-c fsync=off -c max_connections=200"
        )
        (self.dir / "options").write_text(options)

    def _ctl(self, action: str, *more: str) -> None:
        options = (self.dir / "options").read_text()
        self._run(
            "pg_ctl", action, "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", *more
        )

    def start(self) -> None:
        self._ctl("start")

    def stop(self) -> None:
        # fast: every session is ended at once, as in a real restart or crash-stop
        self._ctl("stop", "-m", "fast")

    def restart(self) -> None:
        self._ctl("restart", "-m", "fast")

    def destroy(self) -> None:
        with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
            self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
