"""`python -m plan STACK`: what `pulumi up` would create, rendered offline under Pulumi's mocks.

Needs neither the Pulumi CLI nor AWS credentials. Exits 1 with the program's own messages when the
stack's config is invalid, 2 when the stack file is missing or is not a stack file.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from plan.engine import ACCOUNT_ID, Rendered, render_stack
from rules.naming import validate_stack_name
from rules.registry.text import one_line
from settings import ConfigErrors
from settings.boundary import not_deploying
from settings.source import PROJECT_DIR, read_stack_file, stack_file_path

NOTICE = (
    f"Offline plan: provider-computed values (ARNs, URLs, image digests, account {ACCOUNT_ID}) "
    "are placeholders; secrets are shown as [secret]."
)
# Inputs that carry a JSON document worth reading as JSON.
JSON_INPUTS = ("policy", "assumeRolePolicy", "containerDefinitions", "lifecyclePolicy")
SKIP_INPUTS = ("tags", "tagsAll")


def _tidy(value: Any) -> Any:
    """The mock engine hands numbers back as floats; show whole numbers as the ints they were."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _tidy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_tidy(v) for v in value]
    return value


def _readable(resource: Any) -> dict[str, Any]:
    shown: dict[str, Any] = {}
    for key, value in sorted(resource.inputs.items()):
        if key in SKIP_INPUTS:
            continue
        if key in resource.secret_inputs:
            shown[key] = "[secret]"
        elif key in JSON_INPUTS and isinstance(value, str):
            try:
                shown[key] = json.loads(value)
            except json.JSONDecodeError:
                shown[key] = value
        else:
            shown[key] = _tidy(value)
    return shown


def as_document(rendered: Rendered) -> dict[str, Any]:
    resources = [
        {"type": r.type, "name": r.name, "protect": r.protect, "inputs": _readable(r)}
        for r in sorted(rendered.resources, key=lambda r: (r.type, r.name))
        if not r.type.startswith("ecr-fargate:")
    ]
    outputs = {
        k: ("[secret]" if k in rendered.secret_outputs else v)
        for k, v in sorted(rendered.outputs.items())
    }
    return {
        "stack": rendered.stack,
        "notice": NOTICE,
        "warnings": rendered.warnings,
        "resources": resources,
        "outputs": outputs,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m plan", description=__doc__)
    parser.add_argument("stack", help="dev, prod, or any stack with a Pulumi.<stack>.yaml")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("--project-dir", type=Path, default=PROJECT_DIR, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    try:
        # `render_stack` reads a missing stack file as empty (the tests rely on it): say so here.
        read_stack_file(stack_file_path(validate_stack_name(args.stack), args.project_dir))
        env = not_deploying(os.environ)  # a plan deploys nothing: not refused as a CI deploy
        document = as_document(render_stack(args.stack, project_dir=args.project_dir, env=env))
    except ConfigErrors as exc:
        print(str(exc), file=sys.stderr)
        return 1
    except ValueError as exc:  # a bad stack name, a missing or malformed stack file
        print(f"error: {one_line(str(exc))}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(document, indent=2, default=str))
        return 0
    print(NOTICE)
    for warning in document["warnings"]:
        print(f"warning: {warning}")
    for r in document["resources"]:
        flag = "  (protected)" if r["protect"] else ""
        print(f"\n+ {r['type']}  {r['name']}{flag}")
        for key, value in r["inputs"].items():
            text = (
                json.dumps(value, indent=2, default=str)
                if isinstance(value, dict | list)
                else str(value)
            )
            print(f"    {key}: " + text.replace("\n", "\n    "))
    print("\nOutputs:")
    for key, value in document["outputs"].items():
        print(f"    {key}: {json.dumps(value, default=str)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
