"""The configuration reference (docs/reference/configuration.md), written from the declarations.

One table per object, in the order a stack file nests them, each row a key's full path, type,
default in dev and prod, limits and description; the docs site renders it as it is.
"""

from __future__ import annotations

import json
from typing import Any

from settings.keys import ROOT, Computed, Env, Key, Section

REFERENCE_PATH = "docs/reference/configuration.md"

INTRO = """# Configuration reference

Every key a stack file (`Pulumi.<stack>.yaml`) may set, under the `ecr-fargate:` namespace, plus
`aws:region`. This page is generated from the one declaration of the keys (`settings/keys/`) by
`python -m settings.generate --write`; a test fails when it is out of date, so edit the
declaration, not this page.

Set a key with `pulumi config set ecr-fargate:KEY VALUE`, a nested one with
`pulumi config set --path 'ecr-fargate:services[0].run.cpu' 512`, or edit the stack file. Editors
that run yaml-language-server check a stack file against `schema/stack.schema.json` when its first
line is `# yaml-language-server: $schema=schema/stack.schema.json`.

A default written *dev / prod* differs between `environment: dev` and `environment: prod`. The
settings layer checks more than this page says (keys that go together, what a kind of service
allows); `pulumi preview` prints every problem, one line each, at its key.

| Key | Type | Default | Limits | Description |
| --- | --- | --- | --- | --- |
| `aws:region` | string | (required) | an AWS region | The stack's region, exactly as AWS spells it. |
"""


def reference() -> str:
    """The page, ending in a newline."""
    parts = [INTRO.rstrip("\n")]
    parts += [_row(k.name, k) for k in ROOT.keys]
    for path, section in _sections(ROOT, ""):
        parts.append("")
        parts.append(f"## `{path}`")
        parts.append("")
        if section.description:
            parts.append(section.description)
            parts.append("")
        parts.append("| Key | Type | Default | Limits | Description |")
        parts.append("| --- | --- | --- | --- | --- |")
        parts += [_row(f"{path}.{k.name}", k) for k in section.keys]
    return "\n".join(parts) + "\n"


def _sections(section: Section, prefix: str) -> list[tuple[str, Section]]:
    """Every object below `section` with the path a reader writes: `services[].run.scaling`."""
    found: list[tuple[str, Section]] = []
    for key in section.keys:
        if key.keys is None:
            continue
        path = f"{prefix}.{key.name}" if prefix else key.name
        path += {"list<object>": "[]", "map<object>": ".<name>"}.get(key.type, "")
        found.append((path, key.keys))
        found += _sections(key.keys, path)
    return found


def _row(path: str, key: Key) -> str:
    kind = f"`{key.type.replace('|', ' or ')}`" + (", secret" if key.secret else "")
    cells = (f"`{path}`", kind, _default(key), _limits(key), _escape(_text(key)))
    return "| " + " | ".join(cells) + " |"


def _text(key: Key) -> str:
    return key.description + (f" No effect on the render: {key.no_op}." if key.no_op else "")


def _default(key: Key) -> str:
    if key.required:
        return "(required)"
    default = key.default
    if isinstance(default, Env):
        return f"{_value(default.dev)} / {_value(default.prod)}"
    if isinstance(default, Computed):
        return _escape(default.text)
    return "—" if default is None else _value(default)


def _limits(key: Key) -> str:
    found: list[str] = []
    if key.choices is not None:
        found.append("one of " + ", ".join(_value(c) for c in key.choices))
    if key.minimum is not None:
        found.append(f">= {key.minimum}")
    if key.maximum is not None:
        found.append(f"at most {key.maximum} items" if "list" in key.type else f"<= {key.maximum}")
    if key.pattern is not None:
        found.append(f"matches `{key.pattern}`")
    return _escape("; ".join(found)) or "—"


def _value(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return f"`{text}`" if text != "" else '`""`'


def _escape(text: str) -> str:
    """A table cell on one line: a pipe outside a code span is escaped (Python-Markdown's tables
    leave pipes inside backticks alone, and would print the backslash there)."""
    parts = text.replace("\n", " ").split("`")
    return "`".join(p if i % 2 else p.replace("|", "\\|") for i, p in enumerate(parts))
