"""Every ARN comes from the naming module: no other source file formats one.

A convention written twice drifts (rules/naming.py says how a custom repository name once left CI
without push rights). So outside rules/naming.py no string literal or f-string of the program may
start with `arn:`. Left alone: plan/engine.py, whose mocks fake the ARNs the provider would
return, and the shapes validation shows or matches (a message's `arn:<partition>:acm:...` or
`...:ACCOUNT:...`, a placeholder in AWS's documentation account 123456789012, a regular
expression), which name no resource.
"""

from __future__ import annotations

import ast
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The naming module (rules/naming.py, with its parts in rules/name_parts.py) and the mock engine.
ALLOWED = {Path("rules/naming.py"), Path("rules/name_parts.py"), Path("plan/engine.py")}
# What marks a shape rather than an ARN: a `<name>` or capitalized placeholder, AWS's
# documentation account.
SHAPE = re.compile(r"<[a-z-]+>|\bACCOUNT\b|\bREGION\b|\b123456789012\b")
REGEX_CALLS = {"compile", "fullmatch", "match", "search"}


def python_sources() -> list[Path]:
    """The program's Python files, tracked or new (not ignored), outside tests/."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", "*.py"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    paths = {Path(n.decode()) for n in listed if n}
    return sorted(p for p in paths if p.parts[0] != "tests" and (ROOT / p).is_file())


def _text(node: ast.expr) -> str | None:
    """A literal's text, an f-string's with `{}` for each value; None for anything else."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(_text(v) or "{}" for v in node.values)
    return None


def _regex_arguments(tree: ast.AST) -> set[int]:
    """The literals passed to `re.compile` and friends: patterns, not ARNs."""
    return {
        id(arg)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in REGEX_CALLS
        for arg in node.args[:1]
    }


def formatted_arns(source: str) -> list[str]:
    """`line: text` of each literal or f-string that starts with `arn:` and is no shape."""
    tree = ast.parse(source)
    inside_fstrings = {
        id(v) for n in ast.walk(tree) if isinstance(n, ast.JoinedStr) for v in n.values
    }
    skipped = inside_fstrings | _regex_arguments(tree)
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.expr) or id(node) in skipped:
            continue
        text = _text(node)
        if text is not None and text.startswith("arn:") and not SHAPE.search(text):
            found.append(f"{node.lineno}: {text}")
    return found


def test_the_scanner_finds_literals_and_fstrings_and_spares_shapes() -> None:
    source = (
        'a = f"arn:{p}:s3:::{bucket}"\n'
        'b = "arn:aws:iam::111122223333:root"\n'
        'c = f"expected arn:{p}:iam::ACCOUNT:role/NAME"\n'
        'd = "arn:<partition>:acm:<region>:<account>:certificate/<uuid>"\n'
        'e = re.compile(r"arn:aws(?:-[a-z]+)*:iam::[0-9]{12}:root")\n'
        'f = f"{arn}:log-stream:*"\n'
    )
    assert formatted_arns(source) == ["1: arn:{}:s3:::{}", "2: arn:aws:iam::111122223333:root"]


def test_the_naming_module_is_where_arns_are_formatted() -> None:
    """A positive control: the scan sees the one place that does format ARNs."""
    assert formatted_arns((ROOT / "rules/name_parts.py").read_text(encoding="utf-8")) != []


def test_no_source_outside_the_naming_module_formats_an_arn() -> None:
    sources = python_sources()
    assert Path("permissions/__init__.py") in sources and Path("rules/naming.py") in sources
    offenders = [
        f"{path}:{hit}"
        for path in sources
        if path not in ALLOWED
        for hit in formatted_arns((ROOT / path).read_text(encoding="utf-8"))
    ]
    assert offenders == []
