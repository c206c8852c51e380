"""The shape of the house: small modules, and text that stands on its own.

Which package may import which is import-linter's (``[tool.importlinter]`` in
pyproject.toml, run by ``make test``; ``test_import_contracts.py`` shows each rule
refusing a breach).
"""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Everything but the tests: the limit keeps a module readable in one sitting.
PACKAGES = ("domain", "commands", "processes", "projections", "readmodels", "adapters", "scripts")
MAX_LINES = 400
# Documents a reader of this repository does not have (spelled in two parts, so that
# this file does not name them itself).
FOREIGN = (*(name + ".md" for name in ("ARCHITECTURE", "API", "EXAMPLES")), "../" + "shared")


def modules(*packages: str) -> list[Path]:
    return sorted(path for package in packages for path in (ROOT / package).rglob("*.py"))


def texts() -> list[Path]:
    """Every module, test and document of the repository."""
    docs = [*(ROOT / "docs").glob("*.md"), ROOT / "README.md", ROOT / "BENCHMARKS.md"]
    return [*modules(*PACKAGES, "tests"), *sorted(docs)]


def _id(path: Path) -> str:
    return str(path.relative_to(ROOT))


def test_every_package_is_checked() -> None:
    assert all(modules(package) for package in PACKAGES)


@pytest.mark.parametrize("path", modules(*PACKAGES), ids=_id)
def test_no_module_outside_the_tests_is_over_400_lines(path: Path) -> None:
    assert len(path.read_text().splitlines()) <= MAX_LINES


@pytest.mark.parametrize("path", texts(), ids=_id)
def test_code_and_docs_cite_only_what_is_in_the_repository(path: Path) -> None:
    """Say what the rule is, or cite docs/; documents outside the repository are not
    there for a reader of the code."""
    text = path.read_text()
    assert [name for name in FOREIGN if name in text] == []
