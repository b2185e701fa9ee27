"""The rendered resources as plain JSON: what `python -m plan STACK --against REF` compares.

`plan/ref.py` runs this file's text with `python -c` inside a checkout of the ref, so the ref's own
code renders the ref's own stack files. The ref may predate this file, hence the constraints: it
imports nothing of the project but `plan.engine.render_stack` (its `env` keyword is as old as the
engine; `stack_dir`, passed only with `--stack-dir`, came with the fixture stacks), and reads fields
a past `RenderedResource` may lack (`urn`, `aliases`, `custom`) with defaults.

Usage (inside the ref's tree): python -c "$(cat plan/dump.py)" STACK STACK_DIR|'' ENV_JSON OUT
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from plan.engine import render_stack

SECRET = "[secret]"


def _plain(value: Any) -> Any:
    """Whole-number floats (the mock engine's numbers) as ints, so 512 and 512.0 compare equal."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def dump_resources(rendered: Any) -> list[dict[str, Any]]:
    """Every resource the program registered, components included (`custom` says which is which);
    secret inputs are masked, so a pull request's summary never shows one."""
    out = []
    for r in rendered.resources:
        secret = set(getattr(r, "secret_inputs", ()))
        inputs = {k: (SECRET if k in secret else _plain(v)) for k, v in r.inputs.items()}
        out.append(
            {
                "type": r.type,
                "name": r.name,
                "urn": getattr(r, "urn", "") or f"{rendered.stack}::{r.type}::{r.name}",
                "inputs": inputs,
                "protect": bool(getattr(r, "protect", False)),
                "aliases": list(getattr(r, "aliases", ())),
                "custom": bool(getattr(r, "custom", not r.type.startswith("ecr-fargate:"))),
            }
        )
    return sorted(out, key=lambda d: d["urn"])


def main(argv: list[str]) -> int:
    stack, stack_dir, env, out = argv
    # `stack_dir` only when asked for: refs before the fixture stacks lack the keyword.
    options: dict[str, Any] = {"env": json.loads(env)}
    if stack_dir:
        options["stack_dir"] = Path(stack_dir)
    try:
        rendered = render_stack(stack, **options)
    except Exception as exc:  # the ref's config errors, said as its own code says them
        print(str(exc), file=sys.stderr)
        return 1
    Path(out).write_text(json.dumps(dump_resources(rendered), sort_keys=True), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
