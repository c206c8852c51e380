"""A benchmark's generated section of BENCHMARKS.md: replaced between its markers, or
appended the first time."""

from __future__ import annotations

from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[2] / "BENCHMARKS.md"


def write_section(text: str, begin: str, end: str, path: Path = BENCHMARKS) -> None:
    """Put ``text`` (which starts with ``begin`` and ends with ``end``) in place of the
    section between those markers, or at the end of the file."""
    current = path.read_text() if path.exists() else "# Benchmarks\n"
    if begin in current and end in current:
        before, rest = current.split(begin, 1)
        current = before + text + rest.split(end, 1)[1]
    else:
        current = current.rstrip("\n") + "\n\n" + text + "\n"
    path.write_text(current)
