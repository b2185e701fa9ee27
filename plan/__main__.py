"""`python -m plan STACK`: what `pulumi up` would create, rendered offline under Pulumi's mocks.
`python -m plan STACK --against REF`: what the working tree changes from the stack at git REF,
per resource and property: replacements, protected resources `pulumi up` stops at, IAM grants
that grow (docs/plan.md).

Needs neither the Pulumi CLI nor AWS credentials. Exits 1 with the program's own messages when the
stack's config is invalid, 2 when the stack file is missing or is not a stack file or REF cannot
be rendered, 3 when `--fail-on` finds what it names.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from plan import report
from plan.diff import Change, diff, from_dump
from plan.dump import dump_resources
from plan.engine import ACCOUNT_ID, Rendered, render_stack
from plan.ref import locate, render_at_ref
from rules.name_parts import validate_stack_name
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
# The environment both sides of `--against` render with: a fixed commit, no image digests.
PLAN_ENV = {"GITHUB_SHA": "0" * 40}
FAIL_ON: dict[str, Callable[[Change], bool]] = {
    "protected": lambda c: c.stops_up,
    "replace": lambda c: c.action == "replace",
    "iam": lambda c: bool(c.iam_added),
}


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


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m plan", description=__doc__)
    parser.add_argument("stack", help="dev, prod, or any stack with a Pulumi.<stack>.yaml")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument(
        "--against",
        metavar="REF",
        help="print what the working tree changes from the stack as git REF renders it",
    )
    parser.add_argument(
        "--fail-on",
        action="append",
        choices=sorted(FAIL_ON),
        default=[],
        help="with --against: exit 3 if the plan has such a change (repeatable)",
    )
    parser.add_argument(
        "--stack-dir",
        type=Path,
        default=None,
        help="the directory of Pulumi.<stack>.yaml (default: the project's)",
    )
    parser.add_argument("--project-dir", type=Path, default=PROJECT_DIR, help=argparse.SUPPRESS)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        # `render_stack` reads a missing stack file as empty (the tests rely on it): say so here.
        stack = validate_stack_name(args.stack)
        read_stack_file(stack_file_path(stack, args.stack_dir or args.project_dir))
        if args.against is not None:
            return _against(args)
        env = not_deploying(os.environ)  # a plan deploys nothing: not refused as a CI deploy
        rendered = render_stack(
            stack, project_dir=args.project_dir, stack_dir=args.stack_dir, env=env
        )
    except ConfigErrors as exc:
        print(str(exc), file=sys.stderr)
        return 1
    except ValueError as exc:  # a bad stack name or ref, a missing or malformed stack file
        print(f"error: {one_line(str(exc))}", file=sys.stderr)
        return 2
    _print_plan(as_document(rendered), as_json=args.json)
    return 0


def _print_plan(document: dict[str, Any], *, as_json: bool) -> None:
    if as_json:
        print(json.dumps(document, indent=2, default=str))
        return
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


def _against(args: argparse.Namespace) -> int:
    """Both sides rendered with one fixed environment, so a commit-derived image tag is no change;
    the ref by its own code (plan/ref.py), the working tree here."""
    ref = locate(args.against, args.project_dir)
    rendered = render_stack(
        args.stack, project_dir=args.project_dir, stack_dir=args.stack_dir, env=PLAN_ENV
    )
    before = render_at_ref(
        ref,
        args.stack,
        project_dir=args.project_dir,
        stack_dir=args.stack_dir,
        env=PLAN_ENV,
    )
    changes = diff(from_dump(before), from_dump(dump_resources(rendered)))
    if args.json:
        about = {
            "stack": args.stack,
            "against": args.against,
            "commit": ref.commit,
            "notice": NOTICE,
        }
        print(json.dumps(report.document(changes, about), indent=2, default=str))
    else:
        header = [
            f"Plan of {args.stack}: the working tree against {args.against} ({ref.commit[:12]})"
        ]
        print(report.text(changes, [*header, NOTICE]))
    failed = [key for key in args.fail_on if any(FAIL_ON[key](c) for c in changes)]
    if failed:
        print(f"error: the plan has {' and '.join(failed)} changes (--fail-on)", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
