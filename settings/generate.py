"""Write, or check, what the key declarations generate: Pulumi.yaml's `config:` block, the
configuration reference and the stack file JSON Schema.

    python -m settings.generate --write   # after editing settings/keys/
    python -m settings.generate --check   # exit 1 and name each stale file (the tests do this)

Pulumi's project schema types only strings, integers, booleans and arrays; an object-valued key
is declared with a description and a project-wide `value` (its default), and the settings layer
checks its shape. Everything above `config:` in Pulumi.yaml is kept as it is.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import yaml

from settings.keys import ROOT, Computed, Env, Key
from settings.reference import REFERENCE_PATH, reference
from settings.schema import SCHEMA_PATH, stack_schema
from settings.source import PROJECT_DIR

CONFIG_COMMENT = (
    "# Generated from settings/keys/ by `python -m settings.generate --write`: edit the "
    "declaration,\n# not this block. Object-valued keys carry a description and a project-wide "
    "value (their\n# default): Pulumi's project schema types only strings, integers, booleans "
    "and arrays.\n"
)


def pulumi_config(key: Key) -> dict[str, object]:
    """A top-level key as Pulumi.yaml declares it."""
    description = key.description
    default = key.default
    if isinstance(default, Computed):
        description += f" Default: {default.text}."
    elif isinstance(default, Env):
        description += f" Default: {default.dev!r} in dev, {default.prod!r} in prod."
    out: dict[str, object] = {}
    if key.type in ("string", "integer", "boolean"):
        out["type"] = key.type
    out["description"] = description
    if key.secret:
        out["secret"] = True
    elif key.type in ("string", "integer", "boolean"):
        if default is not None and not isinstance(default, Env | Computed):
            out["default"] = default
    elif default is not None:
        out["value"] = default
    return out


def project_file(current: str) -> str:
    """Pulumi.yaml with its `config:` block written from the declarations."""
    head, found, _ = current.partition("\nconfig:\n")
    if not found:
        raise ValueError("Pulumi.yaml has no top-level `config:` block to replace")
    block = {k.name: pulumi_config(k) for k in ROOT.keys}
    body = yaml.safe_dump(block, sort_keys=False, width=10_000, allow_unicode=True)
    indented = "".join(f"  {line}" if line.strip() else line for line in body.splitlines(True))
    return f"{head}\nconfig:\n{_indent(CONFIG_COMMENT)}{indented}"


def _indent(text: str) -> str:
    return "".join(f"  {line}" for line in text.splitlines(True))


def outputs(root: Path = PROJECT_DIR) -> dict[Path, str]:
    """Each generated file and the text it should hold."""
    project = root / "Pulumi.yaml"
    return {
        project: project_file(project.read_text(encoding="utf-8")),
        root / REFERENCE_PATH: reference(),
        root / SCHEMA_PATH: json.dumps(stack_schema(), indent=2, ensure_ascii=False) + "\n",
    }


def stale(root: Path = PROJECT_DIR) -> list[Path]:
    """The generated files whose text differs from what the declarations give."""
    return [
        path
        for path, text in outputs(root).items()
        if not path.exists() or path.read_text(encoding="utf-8") != text
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m settings.generate", description=__doc__)
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true", help="write the generated files")
    mode.add_argument("--check", action="store_true", help="exit 1 if any is out of date")
    args = parser.parse_args(argv)
    if args.write:
        for path, text in outputs().items():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        return 0
    behind = stale()
    for path in behind:
        print(
            f"{path.relative_to(PROJECT_DIR)} is out of date: run python -m settings.generate "
            "--write",
            file=sys.stderr,
        )
    return 1 if behind else 0


if __name__ == "__main__":
    sys.exit(main())
