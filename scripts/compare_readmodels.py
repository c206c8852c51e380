"""Rebuild the read models of one log with two (or more) checkouts and compare every table.

    .venv/bin/python scripts/compare_readmodels.py --log DIR --checkout OLD --checkout NEW

``DIR`` holds an embedded store (``events.sqlite``), e.g. the benchmark's cached
history (``scripts/bench_readmodels.py`` keeps it under its work directory). For each
checkout, the store is copied to a fresh home and ``crmledger rebuild`` runs with that
checkout's code (``PYTHONPATH``; its writer process inherits it). Then every table of
the read-model file is hashed — every row, in the order of all its columns, as SQLite
returns the stored values — and the hashes are printed side by side. Exit code 0 when
every table is byte for byte the same in every checkout, 1 otherwise.

A refactoring of the read side must leave this at 0: same rows, same checkpoints.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path


def rebuild(log: Path, checkout: Path, home: Path) -> float:
    """Copy the log into ``home`` and rebuild its read models with ``checkout``'s code."""
    home.mkdir(parents=True)
    for path in log.glob("events.sqlite*"):
        shutil.copyfile(path, home / path.name)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRMLEDGER_")}
    env.update(
        PYTHONPATH=str(checkout),
        CRMLEDGER_HOME=str(home),
        CRMLEDGER_LOG_LEVEL="warning",
    )
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "adapters.cli", "rebuild", "--quiet"],
        cwd=checkout,
        env=env,
        check=True,
    )
    return time.perf_counter() - started


def table_hashes(database: Path) -> dict[str, tuple[int, str]]:
    """Every table's row count and SHA-256 of its rows (ordered by every column)."""
    found: dict[str, tuple[int, str]] = {}
    with sqlite3.connect(database) as conn:
        names = [
            row[0]
            for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        for name in names:
            columns = [row[1] for row in conn.execute(f"PRAGMA table_info({name})")]
            order = ", ".join(f'"{c}"' for c in columns)
            digest = hashlib.sha256()
            count = 0
            for row in conn.execute(f'SELECT * FROM "{name}" ORDER BY {order}'):
                digest.update(repr(row).encode())
                count += 1
            found[name] = (count, digest.hexdigest())
    return found


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--log", type=Path, required=True, help="directory with events.sqlite")
    parser.add_argument(
        "--checkout", type=Path, action="append", required=True, help="a source tree (twice)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the rebuilt homes")
    args = parser.parse_args(argv)
    if len(args.checkout) < 2:
        parser.error("give --checkout at least twice")
    work = Path(tempfile.mkdtemp(prefix="crmledger-compare-"))
    results: list[dict[str, tuple[int, str]]] = []
    try:
        for n, checkout in enumerate(args.checkout):
            home = work / f"home{n}"
            seconds = rebuild(args.log, checkout.resolve(), home)
            databases = sorted(home.glob("readmodels_*.sqlite"))
            if len(databases) != 1:
                print(f"{checkout}: expected one read-model file, found {databases}")
                return 1
            results.append(table_hashes(databases[0]))
            print(f"checkout {n}: {checkout} (rebuilt in {seconds:.1f} s, {databases[0].name})")
        names = sorted(set().union(*results))
        same = True
        for name in names:
            cells = [r.get(name) for r in results]
            equal = all(c == cells[0] for c in cells)
            same = same and equal
            shown = "  ".join(
                "missing" if c is None else f"{c[0]:>9,} rows {c[1][:16]}" for c in cells
            )
            print(f"{'same' if equal else 'DIFF'}  {name:<32} {shown}")
        print("every table is identical" if same else "the tables differ")
        return 0 if same else 1
    finally:
        if args.keep:
            print(f"kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
