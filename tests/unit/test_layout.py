"""The shape of the house: small modules, dependencies pointing inward, comments that
stand on their own."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CORE = ("domain", "commands", "processes")
MAX_LINES = 400


def modules(*packages: str) -> list[Path]:
    return sorted(path for package in packages for path in (ROOT / package).rglob("*.py"))


def imported_modules(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append(node.module)
        elif isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
    return found


@pytest.mark.parametrize("path", modules(*CORE), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_of_the_domain_commands_or_processes_is_over_400_lines(path: Path) -> None:
    assert len(path.read_text().splitlines()) <= MAX_LINES


@pytest.mark.parametrize("path", modules(*CORE), ids=lambda p: str(p.relative_to(ROOT)))
def test_comments_cite_only_what_is_in_the_repository(path: Path) -> None:
    """Say what the rule is, or cite docs/; documents outside the repository are not
    there for a reader of the code."""
    text = path.read_text()
    assert "ARCHITECTURE.md" not in text
    assert "API.md" not in text


@pytest.mark.parametrize("path", modules("domain"), ids=lambda p: str(p.relative_to(ROOT)))
def test_the_domain_imports_nothing_of_the_other_packages(path: Path) -> None:
    outer = ("commands", "processes", "projections", "readmodels", "adapters")
    assert [m for m in imported_modules(path) if m.split(".")[0] in outer] == []


@pytest.mark.parametrize("path", modules("commands"), ids=lambda p: str(p.relative_to(ROOT)))
def test_commands_import_no_adapter_and_no_read_model(path: Path) -> None:
    outer = ("processes", "projections", "readmodels", "adapters")
    assert [m for m in imported_modules(path) if m.split(".")[0] in outer] == []


def test_no_kafka_adapter_imports_the_http_adapter() -> None:
    for path in sorted((ROOT / "adapters").glob("kafka*.py")):
        http = [m for m in imported_modules(path) if m.startswith("adapters.http")]
        assert http == [], path.name
