"""A rebuild's writes in a second process, so they overlap the projection's work.

A rebuild spends about half its time turning change sets into rows and writing
them. ``ProcessWriter`` hands each change set (plain data, pickled) to a child
process (``python -m adapters.readmodel_writer``) that writes it in one
transaction with its tracking position, exactly as the projector would, while
the projector goes on with the next windows. One change set is in flight at a
time: the projector waits for the previous one to be committed before it hands
on the next, so memory stays bounded and a failed write stops the rebuild.

A crash keeps the guarantee of the tables: whatever the child committed is a
complete change set with its position; the rest is projected again from there.
If the parent dies, the child finishes the change set it holds and exits.

The child is a plain subprocess talking over its stdin and stdout (each message
8 bytes of length, then a pickle), not ``multiprocessing``: that would import
the parent's ``__main__`` again in the child, whatever script it is.
"""

from __future__ import annotations

import contextlib
import io
import os
import pickle
import struct
import subprocess
import sys
from typing import IO, Any

from adapters.logging import configure
from adapters.readmodel_store import open_store
from adapters.settings import Settings
from projections.changes import ChangeSet

READY = "ready"
WRITTEN = "written"
FAILED = "failed"
_LENGTH = struct.Struct("<Q")


class WriterFailed(RuntimeError):
    """The read-model writer process failed or died; the rebuild stops."""


def _send(stream: IO[bytes], message: Any) -> None:
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    # No memo: a change set is a tree of plain values (no cycles), and remembering each of
    # its hundreds of thousands of strings made pickling several times slower (measured on
    # the audit rows); a value repeated is written again instead.
    pickler.fast = True
    pickler.dump(message)
    data = buffer.getvalue()
    stream.write(_LENGTH.pack(len(data)))
    stream.write(data)
    stream.flush()


def _receive(stream: IO[bytes]) -> Any:
    head = stream.read(_LENGTH.size)
    if len(head) < _LENGTH.size:
        raise EOFError
    (length,) = _LENGTH.unpack(head)
    data = stream.read(length)
    if len(data) < length:
        raise EOFError
    return pickle.loads(data)


class ProcessWriter:
    def __init__(self, settings: Settings) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "adapters.readmodel_writer"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        assert self._process.stdin is not None and self._process.stdout is not None
        self._to_child: IO[bytes] = self._process.stdin
        self._from_child: IO[bytes] = self._process.stdout
        self._closed = False
        try:
            _send(self._to_child, settings.model_dump())
        except BaseException:
            self._stop()
            raise
        # Its READY is awaited at the first submit: the child starts while we project.
        self._in_flight = True
        self._awaiting = READY

    @property
    def pid(self) -> int:
        return self._process.pid

    def submit(self, changes: ChangeSet) -> None:
        self.drain()
        try:
            _send(self._to_child, changes)
        except OSError as error:
            raise WriterFailed(self._gone(f"took no more work ({error})")) from None
        self._in_flight, self._awaiting = True, WRITTEN

    def drain(self) -> None:
        if self._in_flight:
            self._in_flight = False
            self._expect(self._awaiting)

    def close(self) -> None:
        """Wait for what the child holds to be written, then stop it."""
        try:
            self.drain()
        finally:
            self._stop()

    def __enter__(self) -> ProcessWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _expect(self, kind: str) -> None:
        try:
            answer, detail = _receive(self._from_child)
        except EOFError:
            raise WriterFailed(self._gone("exited before it confirmed a write")) from None
        if answer == FAILED:
            raise WriterFailed(f"the read-model writer process failed: {detail}")
        if answer != kind:
            raise WriterFailed(f"the read-model writer process answered {answer!r}, not {kind!r}")

    def _gone(self, what: str) -> str:
        code = self._process.poll()
        return (
            f"the read-model writer process {what} (exit code {code}); the rebuild stops "
            "and can be run again"
        )

    def _stop(self) -> None:
        if self._closed:
            return
        self._closed = True
        for stream in (self._to_child, self._from_child):
            with contextlib.suppress(OSError):  # the child is gone already
                stream.close()
        try:
            self._process.wait(30)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


def serve(incoming: IO[bytes], outgoing: IO[bytes]) -> int:
    """The child: write each change set received and answer; stop at the end of input."""
    settings = Settings(**_receive(incoming))
    configure(settings)
    storage = open_store(settings)
    try:
        _send(outgoing, (READY, None))
        while True:
            try:
                changes: ChangeSet = _receive(incoming)
            except EOFError:
                return 0  # the parent closed the pipe, or is gone
            try:
                storage.apply(changes)
            except Exception as error:
                _send(outgoing, (FAILED, f"{type(error).__name__}: {error}"))
                return 1
            _send(outgoing, (WRITTEN, changes.position))
    finally:
        storage.datastore.close()


def main() -> int:
    # The protocol owns stdout; anything printed goes to stderr with the logs.
    outgoing = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    sys.stdout = sys.stderr
    return serve(sys.stdin.buffer, outgoing)


if __name__ == "__main__":
    sys.exit(main())
