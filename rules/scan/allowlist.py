"""The allowlist: named vulnerabilities accepted until a date, after which they block again.

    allow:
      - id: CVE-2024-12345        # or a GitHub advisory, GHSA-xxxx-xxxx-xxxx
        expires: 2026-12-31       # accepted through this day (UTC), blocking from the next
        reason: no fixed openssl in the base image yet; tracked in #123
        repository: prod/api      # optional: only in this repository
        package: openssl          # optional: only in this package

Every problem is reported at once, one line each, as `FILE:LINE: <where>: <what>`; the file is
composed (not loaded) with PyYAML so that every node keeps the line it came from.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml

from rules.registry.text import show
from rules.scan.findings import Finding

# https://cve.mitre.org/cve/identifiers/syntaxchange.html: four-digit year, four or more digits.
CVE_ID = re.compile(r"CVE-\d{4}-\d{4,}", re.ASCII)
# GitHub advisory ids (Inspector reports them for language packages without a CVE):
# https://docs.github.com/en/code-security/security-advisories/working-with-global-security-advisories-from-the-github-advisory-database/about-the-github-advisory-database
GHSA_ID = re.compile(r"GHSA(-[23456789cfghjmpqrvwx]{4}){3}", re.ASCII)
DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
REQUIRED = ("id", "expires", "reason")
OPTIONAL = ("repository", "package")


class AllowlistError(ValueError):
    """Every problem of one allowlist file, one `FILE:LINE: ...` line each."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        super().__init__("\n".join(lines))


@dataclass(frozen=True)
class AllowEntry:
    id: str
    expires: datetime.date
    reason: str
    repository: str | None
    package: str | None
    line: int

    def expired(self, today: datetime.date) -> bool:
        return today > self.expires

    def matches(self, finding: Finding, repository: str) -> bool:
        """Same id, and inside the entry's repository and package scope when it has one."""
        return (
            finding.id.upper() == self.id
            and self.repository in (None, repository)
            and (self.package is None or self.package in finding.package.split(", "))
        )

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "expires": self.expires.isoformat(),
            "reason": self.reason,
            "repository": self.repository,
            "package": self.package,
            "line": self.line,
        }


def load_allowlist(path: Path) -> list[AllowEntry]:
    """The entries of `path`, or AllowlistError listing every problem in it."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise AllowlistError([f"{path}: cannot be read ({exc})"]) from None
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        problem = getattr(exc, "problem", None) or str(exc)
        raise AllowlistError([f"{where}: not YAML ({problem})"]) from None
    entries: list[AllowEntry] = []
    errors = list(_entries(root, path, entries))
    if errors:
        raise AllowlistError(errors)
    return entries


def _entries(root: yaml.Node | None, path: Path, out: list[AllowEntry]) -> Iterator[str]:
    if root is None:  # an empty file (or only comments): nothing is allowed
        return
    if not isinstance(root, yaml.MappingNode):
        yield f"{path}:{_line(root)}: the file must be a mapping with an `allow` list"
        return
    items = None
    for key, value in root.value:
        if key.value != "allow":
            yield f"{path}:{_line(key)}: {show(key.value)} is not a key; the file has only `allow`"
        elif isinstance(value, yaml.SequenceNode):
            items = value.value
        elif not (isinstance(value, yaml.ScalarNode) and value.tag.endswith(":null")):
            yield f"{path}:{_line(value)}: allow: must be a list of entries"
    for index, node in enumerate(items or []):
        yield from _entry(node, f"allow[{index}]", path, out)


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _entry(node: yaml.Node, where: str, path: Path, out: list[AllowEntry]) -> Iterator[str]:
    """One entry's problems, each on the line of the field at fault (the entry's, if missing)."""
    if not isinstance(node, yaml.MappingNode):
        yield f"{path}:{_line(node)}: {where}: must be a mapping with {', '.join(REQUIRED)}"
        return
    fields: dict[str, tuple[str, int]] = {}
    problems: list[tuple[int, str]] = []
    for key, value in node.value:
        name = str(key.value)
        if name not in REQUIRED + OPTIONAL:
            allowed = ", ".join(REQUIRED + OPTIONAL)
            problems.append((_line(key), f"{where}: {show(name)} is not a key; allowed: {allowed}"))
        elif name in fields:
            problems.append((_line(key), f"{where}.{name}: given twice"))
        elif not isinstance(value, yaml.ScalarNode) or not str(value.value).strip():
            problems.append((_line(value), f"{where}.{name}: must be a non-empty value"))
        else:
            fields[name] = (str(value.value).strip(), _line(value))
    needs = ", ".join(REQUIRED)
    problems += [
        (_line(node), f"{where}.{k}: missing; every entry needs {needs}")
        for k in REQUIRED
        if k not in fields
    ]
    problems += _field_problems(fields, where)
    yield from (f"{path}:{line}: {text}" for line, text in sorted(problems))
    if not problems:
        out.append(
            AllowEntry(
                id=fields["id"][0],
                expires=datetime.date.fromisoformat(fields["expires"][0]),
                reason=fields["reason"][0],
                repository=fields.get("repository", (None,))[0],
                package=fields.get("package", (None,))[0],
                line=_line(node),
            )
        )


def _field_problems(fields: dict[str, tuple[str, int]], where: str) -> list[tuple[int, str]]:
    problems = []
    vid, line = fields.get("id", ("", 0))
    if line and not (CVE_ID.fullmatch(vid) or GHSA_ID.fullmatch(vid)):
        problems.append(
            (
                line,
                f"{where}.id: {show(vid)} is not a vulnerability id; allowed: "
                "CVE-YYYY-NNNN (four or more digits) or GHSA-xxxx-xxxx-xxxx",
            )
        )
    expires, line = fields.get("expires", ("", 0))
    if line and not _is_date(expires):
        problems.append(
            (
                line,
                f"{where}.expires: {show(expires)} is not a date; allowed: a real YYYY-MM-DD date",
            )
        )
    return problems


def _is_date(text: str) -> bool:
    if not DATE.fullmatch(text):
        return False
    try:
        datetime.date.fromisoformat(text)
    except ValueError:
        return False
    return True
