"""docs/design.md, "Where each rule lives": the map from each rule of docs/domain.md to the
file and function that keep it. Every file and function it names exists, every module of
domain/ that keeps a rule is named, and every heading of docs/domain.md is a group of it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DESIGN = ROOT / "docs" / "design.md"
DOMAIN_RULES = ROOT / "docs" / "domain.md"
HEADING = "## Where each rule lives"

# Modules of domain/ that keep no rule of their own, so the map need not name them.
PLUMBING: dict[str, str] = {
    "domain/aggregate.py": "the event-sourcing machinery: AggregateState, Event, fold, replay",
    "domain/errors.py": "the refusals' types (NotFound, InvalidInput, RuleViolated…)",
    "domain/events.py": "the base of every event and the registry of their type names",
}

# A backticked repository path: segments joined by "/" (a folder ends with one), or a
# file name with a suffix; no spaces, so `GET /documents/{id}` is not one.
PATH = re.compile(r"(?:[\w.-]+/)+(?:[\w.-]+\.\w+)?|[\w-]+\.(?:py|md|toml)")
# A path and the names after it in parentheses: `domain/money.py` (`minor_unit`, `EXACT`).
NAMED = re.compile(r"`([^`\s]+)`\s*\(([^)]*)\)")


def section() -> str:
    """The text of the section, up to the next second-level heading."""
    text = DESIGN.read_text()
    assert text.count(HEADING + "\n") == 1, f"docs/design.md has no single {HEADING!r}"
    after = text.split(HEADING + "\n", 1)[1]
    return after.split("\n## ", 1)[0]


def backticked_paths(text: str) -> list[str]:
    return [token for token in re.findall(r"`([^`]+)`", text) if PATH.fullmatch(token)]


def named_functions(text: str) -> list[tuple[str, str]]:
    """(path, name) for every name in parentheses after a backticked path."""
    pairs: list[tuple[str, str]] = []
    for path, names in NAMED.findall(text):
        if PATH.fullmatch(path):
            pairs.extend((path, name) for name in re.findall(r"`([^`]+)`", names))
    return pairs


def rows(text: str) -> list[tuple[str, str]]:
    """(rule, file column) of every table row but the header and its rule line."""
    found: list[tuple[str, str]] = []
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cells) == 2 and cells[0] not in ("rule", "---"):
            found.append((cells[0], cells[1]))
    return found


def defines(source: str, name: str) -> bool:
    """Whether ``source`` defines ``name`` at top level (a function, class or assignment),
    or, for ``Class.member``, a method or attribute inside that class."""
    if "." not in name:
        name = re.escape(name)
        return bool(
            re.search(
                rf"^(?:def {name}\(|class {name}\b|{name}\s*(?::[^=\n]*)?=)", source, re.MULTILINE
            )
        )
    owner, member = (re.escape(part) for part in name.split(".", 1))
    match = re.search(rf"^class {owner}\b.*?(?=^\S|\Z)", source, re.MULTILINE | re.DOTALL)
    if match is None:
        return False
    body = match.group(0)
    return bool(re.search(rf"^\s+(?:def {member}\(|{member}\s*(?::[^=\n]*)?=)", body, re.MULTILINE))


def domain_modules() -> list[str]:
    return sorted(
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / "domain").rglob("*.py")
        if path.name != "__init__.py"
    )


def test_the_section_maps_rules_in_tables() -> None:
    # Given the section in docs/design.md
    text = section()
    # When its table rows are read
    found = rows(text)
    # Then there are rows, and each names at least one file of the repository
    assert len(found) > 50
    missing = [rule for rule, files in found if not backticked_paths(files)]
    assert missing == []


def test_every_path_it_names_exists() -> None:
    # Given every backticked path in the section
    paths = backticked_paths(section())
    assert paths
    # When each is looked up in the repository
    missing = sorted({path for path in paths if not (ROOT / path).exists()})
    # Then none is misspelled or gone
    assert missing == []


def test_every_function_it_names_is_in_the_file_named() -> None:
    # Given every (file, function) pair the section names
    pairs = named_functions(section())
    assert pairs
    # When each file is searched for the definition
    missing = [
        f"{path} ({name})"
        for path, name in pairs
        if not (ROOT / path).is_file() or not defines((ROOT / path).read_text(), name)
    ]
    # Then each function, class or constant is defined there
    assert missing == []


@pytest.mark.parametrize(
    "module", [module for module in domain_modules() if module not in PLUMBING]
)
def test_every_domain_module_that_keeps_a_rule_is_named(module: str) -> None:
    # Given a module of domain/ that keeps a rule (plumbing is listed in PLUMBING, checked below)
    # When the section's paths are read
    named = set(backticked_paths(section()))
    # Then the module is among them
    assert module in named


def test_the_plumbing_list_names_only_modules_that_exist() -> None:
    # Given the modules the map may leave out
    left_out = set(PLUMBING)
    # When the modules under domain/ are listed
    modules = set(domain_modules())
    # Then each left out is still there (a removed one leaves the list too)
    assert sorted(left_out - modules) == []


def test_every_heading_of_the_domain_rules_is_a_group() -> None:
    # Given the second-level headings of docs/domain.md
    headings = re.findall(r"^## (.+)$", DOMAIN_RULES.read_text(), re.MULTILINE)
    assert headings
    # When the section's group headings are read
    groups = set(re.findall(r"^### (.+)$", section(), re.MULTILINE))
    # Then each heading has its group
    assert [h for h in headings if h not in groups] == []


def test_a_misspelled_path_or_function_is_caught() -> None:
    # Given rows that name a file that is not there and a function its file lacks
    text = (
        "| rule | `domain/mony.py` (`minor_unit`) |\n| rule | `domain/money.py` (`minor_units`) |\n"
    )
    # When they are checked as the section is
    paths = [p for p in backticked_paths(text) if not (ROOT / p).exists()]
    pairs = [
        (path, name)
        for path, name in named_functions(text)
        if (ROOT / path).is_file() and not defines((ROOT / path).read_text(), name)
    ]
    # Then both are reported
    assert paths == ["domain/mony.py"]
    assert pairs == [("domain/money.py", "minor_units")]
