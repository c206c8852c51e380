"""The embedded store's lock: who has it open, and who may delete or replace it.

Every process that opens the embedded store holds a shared lock on
``$CRMLEDGER_HOME/store.lock`` for as long as it has the store open; ``demo`` and
``rebuild``, which delete or replace what is there, take it exclusively. The lock
is the operating system's advisory file lock (``flock``): it ends with the process
however the process ends, so nothing stale is ever left to clean up (unlike a PID
file), and it is never waited for: a process that cannot have it says so in one
sentence and stops.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import Literal

LOCK_FILE = "store.lock"


class StoreLocked(Exception):
    """Another process holds the store in a way this one cannot share."""


class StoreLock:
    def __init__(self, home: Path, mode: Literal["shared", "exclusive"], purpose: str) -> None:
        self.home = home
        self.mode = mode
        self.purpose = purpose
        self._fd: int | None = None

    @property
    def path(self) -> Path:
        return self.home / LOCK_FILE

    def acquire(self) -> StoreLock:
        self.home.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        flag = fcntl.LOCK_SH if self.mode == "shared" else fcntl.LOCK_EX
        try:
            fcntl.flock(fd, flag | fcntl.LOCK_NB)
        except BlockingIOError:
            holders = _holders(fd)
            os.close(fd)
            raise StoreLocked(self._refusal(holders)) from None
        self._fd = fd
        return self

    def _refusal(self, holders: str) -> str:
        if self.mode == "shared":
            return (
                f"the store at {self.home} is being replaced by another process ({holders}); "
                "try again when it has finished"
            )
        return (
            f"the store at {self.home} is open in another process ({holders}) and "
            f"{self.purpose} needs it to itself; stop that process first, or set "
            "CRMLEDGER_HOME to another directory"
        )

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor releases the flock
            self._fd = None

    def __enter__(self) -> StoreLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def _holders(fd: int) -> str:
    """Which processes hold the lock file, for the refusal: read from ``/proc/locks``
    on Linux (best effort; elsewhere, or without permission, just "another process")."""
    try:
        inode = os.fstat(fd).st_ino
        pids: list[int] = []
        for line in Path("/proc/locks").read_text().splitlines():
            fields = line.split()
            # "1: FLOCK  ADVISORY  READ 12345 fd:01:678 0 EOF" (blocked waiters carry "->")
            if (
                len(fields) >= 6
                and fields[1] == "FLOCK"
                and "->" not in fields
                and fields[5].rsplit(":", 1)[-1] == str(inode)
                and fields[4].isdigit()
            ):
                pids.append(int(fields[4]))
        described = [_describe(pid) for pid in sorted(set(pids)) if pid != os.getpid()]
    except OSError:
        described = []
    return ", ".join(described) or "another process"


def _describe(pid: int) -> str:
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return f"pid {pid}"
    words = [Path(argv[0].decode()).name, *(a.decode() for a in argv[1:3] if a)] if argv else []
    if len(words) > 1 and words[0].startswith("python"):
        words = [Path(words[1]).name, *words[2:]]
    said = " ".join(" ".join(words).split())  # one line, however the process was started
    said = said if len(said) <= 60 else said[:59] + "…"
    return f"pid {pid}: {said}" if said else f"pid {pid}"
