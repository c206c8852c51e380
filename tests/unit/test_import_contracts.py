"""The layer rules hold, and would catch an import against them.

``lint-imports`` checks the contracts of ``pyproject.toml`` (``make test`` runs it). Here
it runs on the repository as it is, and on copies with one import against a rule
added: the domain importing an adapter, a read model importing the projector, a Kafka
adapter importing the HTTP layer. Each copy must be refused, naming the contract.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("domain", "commands", "processes", "projections", "readmodels", "adapters")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=root,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("house")
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package, root / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    return root


def test_the_repository_keeps_every_contract() -> None:
    done = lint_imports(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("domain/money.py", "import adapters.settings", "never back"),
        ("readmodels/values.py", "import projections.runner", "never back"),
        ("commands/bus.py", "import adapters.clock", "never back"),
        ("adapters/kafka_relay.py", "import adapters.http.errors", "HTTP adapter"),
    ],
)
def test_an_import_against_a_rule_is_refused(
    copy: Path, module: str, line: str, contract: str
) -> None:
    path = copy / module
    original = path.read_text()
    path.write_text(f"{original}\n{line}  # against the rules\n")
    try:
        done = lint_imports(copy)
    finally:
        path.write_text(original)
    assert done.returncode != 0, done.stdout
    broken = [row for row in done.stdout.splitlines() if row.endswith("BROKEN")]
    assert len(broken) == 1 and contract in broken[0], done.stdout
