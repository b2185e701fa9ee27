"""`python -m cli.promote STACK --digests JSON [--record]`: copy the images STACK runs from its
`promoteFrom` stack, by digest; with `--record`, record the digests STACK now runs.

CI runs it after the source stack's deploy succeeded, with STACK's deploy role: for each service
STACK builds, the image index the source stack deployed (`--digests`, the source's
`ECR_FARGATE_IMAGE_DIGESTS`) is copied from the source's repository into STACK's with the ECR
API (rules/registry/promote.py: the manifest bytes unchanged, so the digest is), tagged with
STACK's content tag. Prints, as JSON, one object per service: its repository, digest and the
platform manifests to scan. After STACK's deploy succeeded, `--record` writes the SSM parameter
`/ecr-fargate/<STACK>/image-digests` (JSON, service -> digest): what a `pulumi up` without CI's
digests deploys, so a laptop deploys exactly what CI deployed.

Exits 2 on bad usage or config, 3 when AWS refuses or the copy fails; one line per problem.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import settings
from rules.build import digests as ci_digests
from rules.registry import promote
from rules.registry.text import one_line
from settings.source import PROJECT_DIR, from_files, read_stack_file, stack_file_path


@dataclass(frozen=True)
class Copy:
    service: str
    source_repository: str
    repository: str
    digest: str
    tag: str | None


def plan(
    target: settings.Settings, source: settings.Settings, handed: Mapping[object, object]
) -> list[Copy]:
    """What to copy: every service the target builds, from the source's service of that name."""
    if target.promotion is None:
        raise ValueError(
            f"stack {target.stack!r} has no promoteFrom: it builds its own images "
            "(python -m cli.images)"
        )
    theirs = {s.name: s.repository.name for s in source.services}
    copies: list[Copy] = []
    for service in target.services:
        image = service.image
        if image is None or image.build is None:
            continue
        if service.name not in theirs:
            raise ValueError(
                f"service {service.name!r}: stack {source.stack!r} has no service of that name "
                "to promote from"
            )
        if service.name not in handed:
            raise ValueError(
                f"service {service.name!r}: --digests has no digest for it (the digests "
                f"stack {source.stack!r} deployed)"
            )
        digest = ci_digests.validate_digest(handed[service.name])
        copies.append(
            Copy(
                service.name, theirs[service.name], service.repository.name, digest, image.index_tag
            )
        )
    return copies


def source_registry(target: settings.Settings) -> str:
    """The source's account when it is another one; '' (the caller's account) otherwise."""
    promotion = target.promotion
    if promotion is None or not promotion.source_accounts:
        return ""
    if set(promotion.source_accounts) & set(target.accounts):
        return ""
    return promotion.source_accounts[0]


def run(
    target: settings.Settings,
    source: settings.Settings,
    handed: Mapping[object, object],
    ecr: Any,
    opener: promote.Opener | None = None,
) -> list[dict[str, Any]]:
    """Copy every image; what to scan, per service."""
    registry = source_registry(target)
    done: list[dict[str, Any]] = []
    for c in plan(target, source, handed):
        src = promote.Side(ecr, registry, c.source_repository)
        dest = promote.Side(ecr, "", c.repository)
        platforms = promote.promote(src, dest, c.digest, c.tag, opener)
        done.append(
            {
                "service": c.service,
                "repository": c.repository,
                "digest": c.digest,
                "platforms": platforms,
            }
        )
    return done


def record(target: settings.Settings, copies: list[Copy], ssm: Any) -> dict[str, str]:
    """The stack's image-digests parameter: what its last deploy runs, service -> digest."""
    recorded = {c.service: c.digest for c in copies}
    ssm.put_parameter(
        Name=target.names.image_digests_parameter,
        Value=json.dumps(recorded, sort_keys=True),
        Type="String",
        Overwrite=True,
    )
    return recorded


def _load(stack: str, directory: Path) -> settings.Settings:
    read_stack_file(stack_file_path(stack, directory))
    return settings.load(from_files(stack, project_dir=PROJECT_DIR, stack_dir=directory), env={})


def _clients(region: str | None) -> tuple[Any, Any]:
    import boto3
    from botocore.config import Config

    config = Config(retries={"mode": "standard", "max_attempts": 8})
    return (
        boto3.client("ecr", region_name=region, config=config),
        boto3.client("ssm", region_name=region, config=config),
    )


def main(argv: Sequence[str] | None = None, clients: tuple[Any, Any] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cli.promote", description=__doc__)
    parser.add_argument("stack", help="the stack that runs the promoted images (prod)")
    parser.add_argument("--digests", required=True, help="JSON: service -> the source's digest")
    parser.add_argument("--region", default=None, help="default: the AWS SDK's")
    parser.add_argument("--stack-dir", type=Path, default=PROJECT_DIR)
    parser.add_argument(
        "--record", action="store_true", help="record the digests only (after the deploy)"
    )
    args = parser.parse_args(argv)
    try:
        target = _load(args.stack, args.stack_dir)
        if target.promotion is None:
            raise ValueError(f"stack {args.stack!r} has no promoteFrom: nothing to promote")
        source = _load(target.promotion.source, args.stack_dir)
        handed = ci_digests.parse_image_digests(args.digests)
        copies = plan(target, source, handed)
    except settings.ConfigErrors as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except ValueError as exc:
        print(f"error: {one_line(str(exc))}", file=sys.stderr)
        return 2
    ecr, ssm = clients or _clients(args.region or target.region)
    try:
        result: Any = (
            record(target, copies, ssm) if args.record else run(target, source, handed, ecr)
        )
    except Exception as exc:  # an AWS refusal or a failed copy: one line, never a traceback
        print(f"error: promotion failed: {one_line(str(exc))}", file=sys.stderr)
        return 3
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
