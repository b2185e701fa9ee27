"""`python -m cli.images STACK [--stack-dir DIR]`: what CI builds, as JSON, one object per service
with a `build` section, in config order.

Each object names the ECR repository, the build inputs (context and Dockerfile relative to the
repository root, target, build args, platforms) and `tag`, the content tag of those inputs built
for all of the service's platforms: the tag CI pushes its multi-platform image index under, and
whose digest it hands back through `ECR_FARGATE_IMAGE_DIGESTS`. A stack with `promoteFrom`
builds nothing (an empty list): its images are the source stack's, copied by
`python -m cli.promote`. Needs no AWS credentials, no Pulumi CLI and no Docker: it reads `Pulumi.yaml` and `Pulumi.<STACK>.yaml` as the offline plan
does. The environment is not read, so the plan is the same wherever it runs. Exits 2 with one line
per problem when the stack's config is invalid or its file is missing.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import settings
from rules.name_parts import validate_stack_name
from rules.registry.text import one_line
from settings.source import PROJECT_DIR, from_files, read_stack_file, stack_file_path


def build_plan(loaded: settings.Settings) -> list[dict[str, Any]]:
    """The services the stack builds, with everything `docker buildx build` needs. A stack that
    promotes (`promoteFrom`) builds nothing: CI copies its images (python -m cli.promote)."""
    plan: list[dict[str, Any]] = []
    if loaded.promotion is not None:
        return plan
    for service in loaded.services:
        image = service.image
        if image is None or image.build is None:
            continue
        b = image.build
        plan.append(
            {
                "service": service.name,
                "repository": service.repository.name,
                "context": b.context,
                "dockerfile": b.dockerfile,
                "target": b.target,
                "buildArgs": dict(b.args),
                "platforms": list(image.platforms),
                "tag": image.index_tag,
            }
        )
    return plan


def load_plan(
    stack: str, *, stack_dir: Path | None = None, project_dir: Path = PROJECT_DIR
) -> list[dict[str, Any]]:
    """The plan of one stack file; `ValueError` (`ConfigErrors` among them) when it cannot be made."""
    directory = stack_dir or project_dir
    read_stack_file(stack_file_path(validate_stack_name(stack), directory))
    raw = from_files(stack, project_dir=project_dir, stack_dir=directory)
    return build_plan(settings.load(raw, env={}))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cli.images", description=__doc__)
    parser.add_argument("stack", help="dev, prod, or any stack with a Pulumi.<stack>.yaml")
    parser.add_argument(
        "--stack-dir", type=Path, default=None, help="where Pulumi.<stack>.yaml is (default: .)"
    )
    args = parser.parse_args(argv)
    try:
        plan = load_plan(args.stack, stack_dir=args.stack_dir)
    except settings.ConfigErrors as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except ValueError as exc:  # a bad stack name, a missing or malformed stack file
        print(f"error: {one_line(str(exc))}", file=sys.stderr)
        return 2
    print(json.dumps(plan, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
