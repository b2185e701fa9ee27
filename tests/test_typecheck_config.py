"""mypy follows only the pulumi_aws modules the code uses (pyproject.toml, for a cold run's time
and memory): a module the code starts using must be added there, or mypy would see it as Any and
miss a wrong argument to its resources."""

from __future__ import annotations

import ast
import inspect
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pulumi_aws

from tests.test_requirements import ROOT, python_files

PACKAGE = "pulumi_aws"


def followed() -> list[str]:
    """The module patterns of the override that follows imports normally."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]
    (normal,) = [o for o in config["overrides"] if o.get("follow_imports") == "normal"]
    patterns: list[str] = normal["module"]
    return patterns


def covered(module: str, patterns: list[str]) -> bool:
    """mypy's pattern rule: `a.b.*` matches `a.b` and everything below it."""
    return any(
        module == p or (p.endswith(".*") and (module + ".").startswith(p[:-1])) for p in patterns
    )


def used_modules(path: Path) -> Iterator[str]:
    """The pulumi_aws modules a file reaches: `aws.ecs.Service` reaches `pulumi_aws.ecs`, and
    `aws.get_caller_identity_output` the module that defines it."""
    tree = ast.parse(path.read_text())
    aliases = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            aliases |= {a.asname or a.name for a in node.names if a.name == PACKAGE}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith(PACKAGE):
            yield node.module or PACKAGE
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in aliases
        ):
            found = getattr(pulumi_aws, node.attr)
            yield found.__name__ if inspect.ismodule(found) else found.__module__


def test_every_pulumi_aws_module_the_code_uses_is_type_checked() -> None:
    patterns = followed()
    used = {m for path in python_files(ROOT, set()) for m in used_modules(path)}
    assert {"pulumi_aws.ecs", "pulumi_aws.get_caller_identity"} <= used  # the scan sees uses
    assert sorted(m for m in used if not covered(m, patterns)) == []


def test_the_rest_of_pulumi_aws_is_skipped() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]
    skipped = [o["module"] for o in config["overrides"] if o.get("follow_imports") == "skip"]
    assert skipped == [["pulumi_aws.*"]]
    assert covered("pulumi_aws.ecs._inputs", followed())
    assert not covered("pulumi_aws.sns", followed())
