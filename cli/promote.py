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
from settings.services import ImageSettings
from settings.source import PROJECT_DIR, from_files, read_stack_file, stack_file_path


@dataclass(frozen=True)
class Copy:
    service: str
    source: str  # the source stack's service whose index this is
    source_repository: str
    repository: str
    digest: str
    tag: str | None


def _inputs(image: ImageSettings | None) -> tuple[object, ...] | None:
    """What a content tag names, without the stack's prefix: equal inputs, the same image."""
    if image is None or image.build is None:
        return None
    b = image.build
    return (
        b.context_digest,
        b.dockerfile,
        b.target,
        tuple(sorted(b.args.items())),
        image.platforms,
    )


def sources(target: settings.Settings, source: settings.Settings) -> list[tuple[str, str, str]]:
    """(target service, source service, source repository) for every service the target builds:
    the source's service of the same name, else the first with the same build inputs (prod's
    nightly job runs the image dev runs as its api). Neither: `ValueError`."""
    built = [s for s in source.services if s.image is not None and s.image.build is not None]
    found: list[tuple[str, str, str]] = []
    for service in target.services:
        image = service.image
        if image is None or image.build is None:
            continue
        same = [s for s in built if s.name == service.name]
        same = same or [s for s in built if _inputs(s.image) == _inputs(image)]
        if not same:
            raise ValueError(
                f"service {service.name!r}: stack {source.stack!r} builds no service of that "
                "name or with the same build inputs to promote from"
            )
        found.append((service.name, same[0].name, same[0].repository.name))
    return found


def plan(
    target: settings.Settings, source: settings.Settings, handed: Mapping[object, object]
) -> list[Copy]:
    """What to copy, with the digests the source deployed (`handed`, by source service)."""
    if target.promotion is None:
        raise ValueError(
            f"stack {target.stack!r} has no promoteFrom: it builds its own images "
            "(python -m cli.images)"
        )
    repositories = {s.name: s.repository.name for s in target.services}
    tags = {s.name: s.image.index_tag for s in target.services if s.image is not None}
    copies: list[Copy] = []
    for service, theirs, their_repository in sources(target, source):
        if theirs not in handed:
            raise ValueError(
                f"service {service!r}: --digests has no digest for {theirs!r} (the digests "
                f"stack {source.stack!r} deployed)"
            )
        digest = ci_digests.validate_digest(handed[theirs])
        copies.append(
            Copy(service, theirs, their_repository, repositories[service], digest, tags[service])
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
                "source": c.source,
                "repository": c.repository,
                "digest": c.digest,
                "platforms": platforms,
            }
        )
    return done


def recorded_digests(
    target: settings.Settings, source: settings.Settings, handed: Mapping[object, object]
) -> dict[str, str]:
    """What the stack's deploy runs (`handed`: its own ECR_FARGATE_IMAGE_DIGESTS), service ->
    digest, every service it builds included."""
    recorded: dict[str, str] = {}
    for service, _, _ in sources(target, source):
        if service not in handed:
            raise ValueError(f"service {service!r}: --digests has no digest for it")
        recorded[service] = ci_digests.validate_digest(handed[service])
    return recorded


def record(target: settings.Settings, recorded: dict[str, str], ssm: Any) -> dict[str, str]:
    """The stack's image-digests parameter, which a `pulumi up` without CI's digests deploys."""
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
        recorded = recorded_digests(target, source, handed) if args.record else {}
        if not args.record:
            plan(target, source, handed)
    except settings.ConfigErrors as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except ValueError as exc:
        print(f"error: {one_line(str(exc))}", file=sys.stderr)
        return 2
    ecr, ssm = clients or _clients(args.region or target.region)
    try:
        result: Any = (
            record(target, recorded, ssm) if args.record else run(target, source, handed, ecr)
        )
    except Exception as exc:  # an AWS refusal or a failed copy: one line, never a traceback
        print(f"error: promotion failed: {one_line(str(exc))}", file=sys.stderr)
        return 3
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
