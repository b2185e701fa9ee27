"""`python -m cli.lifecycle preview`: what a policy would do to a live repository.

ECR's own preview is asynchronous and exists only once a policy is applied; this one lists the
repository's images, evaluates the stack's policy (or a file) offline, and fails when an image the
stack deploys would be expired or archived (an archived image cannot be pulled, so the next task
start fails just the same). `--from-ecs CLUSTER` reads what runs from ECS itself.

`python -m cli.lifecycle mark --stack STACK` is the deploy's half (cli/lifecycle/mark.py).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from rules.lifecycle.errors import LifecyclePolicyError
from rules.lifecycle.evaluate import preview_lifecycle_policy
from rules.lifecycle.validate import validate_lifecycle_policy
from rules.registry.text import one_line


class UsageError(Exception):
    pass


def _deployed_from_outputs(outputs: Any) -> set[str]:
    if not isinstance(outputs, Mapping):
        raise UsageError("stdin is not `pulumi stack output --json` (a JSON object)")
    refs: list[Any] = []
    # Every service's image (the maps), and the singular primary one (older stacks had only it,
    # as a map by service when several were built).
    for key in ("containerImageDigests", "ecsImageDigests", "containerImageDigest"):
        value = outputs.get(key)
        refs += list(value.values()) if isinstance(value, Mapping) else [value] if value else []
    return {str(ref).rsplit("@", 1)[-1] for ref in refs}


def _deployed(args: argparse.Namespace, stdin: IO[str]) -> set[str]:
    """Digests from --deployed, else from the stack outputs piped in (if any)."""
    deployed = {d.rsplit("@", 1)[-1] for d in args.deployed}
    if deployed or stdin.isatty():
        return deployed
    try:
        text = stdin.read()
        return _deployed_from_outputs(json.loads(text)) if text.strip() else set()
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UsageError(f"stdin is not `pulumi stack output --json` ({exc})") from None


def _policy(args: argparse.Namespace) -> Any:
    """The policy to evaluate, validated before any AWS call."""
    if args.policy:
        try:
            return validate_lifecycle_policy(json.loads(Path(args.policy).read_text("utf-8")))
        except OSError as exc:
            raise UsageError(f"--policy {args.policy}: {exc.strerror or exc}") from None
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise UsageError(f"--policy {args.policy}: not JSON ({exc})") from None
        except LifecyclePolicyError as exc:
            raise UsageError(f"--policy {args.policy}: {exc}") from None
    return _stack_policy(args.stack, args.repository)


def _stack_policy(stack: str, repository: str) -> Any:
    from rules.naming import validate_stack_name
    from settings import ConfigErrors
    from settings.source import read_stack_file, stack_file_path
    from settings.stack_files import repository_policies

    try:
        read_stack_file(stack_file_path(validate_stack_name(stack)))
        policies = repository_policies(stack)
    except ConfigErrors as exc:
        raise UsageError("\n".join(f"--stack {stack}: {e}" for e in exc.errors)) from None
    except ValueError as exc:  # a bad stack name, a missing or malformed stack file
        raise UsageError(f"--stack {stack}: {exc}") from None
    if repository not in policies:
        raise UsageError(
            f"stack {stack} has no repository {repository!r} (it has {', '.join(sorted(policies))})"
        )
    return policies[repository]


def largest_page(client: Any) -> int:
    """DescribeImages' largest page, from the client's own API model (`maxResults` 1..1000).
    Unset, ECR returns 100 per call: 200 calls instead of 20 for 20,000 images.
    https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_DescribeImages.html"""
    shape = client.meta.service_model.operation_model("DescribeImages").input_shape
    return int(shape.members["maxResults"].metadata["max"])


def list_images(client: Any, repository: str, progress: IO[str] | None) -> list[dict[str, Any]]:
    images: list[dict[str, Any]] = []
    pages = client.get_paginator("describe_images").paginate(
        repositoryName=repository, PaginationConfig={"PageSize": largest_page(client)}
    )
    for page in pages:
        images.extend(page.get("imageDetails", []))
        if progress is not None:
            progress.write(f"\rlisting {repository}: {len(images)} images")
            progress.flush()
    if progress is not None:
        progress.write("\n")
    # describe_images has no order; oldest first, so ties read "later in the list = newer".
    images.sort(key=lambda img: img["imagePushedAt"])
    return images


def _table(results: list[dict[str, Any]], images: list[dict[str, Any]], deployed: set[str]) -> str:
    acted = {r["imageDigest"]: r for r in results}
    rows = [("DIGEST", "TAGS", "PUSHED", "RULE", "ACTION", "")]
    for img in images:
        r = acted.get(img["imageDigest"])
        pushed = img["imagePushedAt"]
        rows.append(
            (
                img["imageDigest"].removeprefix("sha256:")[:12],
                ",".join(img.get("imageTags") or []) or "<untagged>",
                pushed.isoformat(timespec="seconds")
                if isinstance(pushed, datetime)
                else str(pushed),
                str(r["appliedRulePriority"]) if r else "-",
                r["action"]["type"] if r else "keep",
                "DEPLOYED" if img["imageDigest"] in deployed else "",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(6)]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m cli.lifecycle", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    m = sub.add_parser("mark", help="tag what each service runs now (after `pulumi up` in CI)")
    m.add_argument("--stack", required=True)
    m.add_argument("--region")
    p = sub.add_parser("preview", help="evaluate a policy against a live repository")
    p.add_argument("--repository", required=True)
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--policy", help="a lifecycle policy JSON file")
    source.add_argument(
        "--stack", help="the stack whose policy for this repository to use (dev, prod)"
    )
    p.add_argument("--region")
    p.add_argument("--json", action="store_true", help="print the results list as JSON")
    p.add_argument("--deployed", action="append", default=[], metavar="DIGEST")
    p.add_argument(
        "--from-ecs",
        metavar="CLUSTER",
        help="also read the digests the cluster's services run (every deployment) from ECS",
    )
    return parser


def main(
    argv: Sequence[str] | None = None,
    stdin: IO[str] | None = None,
    client: Any = None,
    ecs_client: Any = None,
) -> int:
    args = _parser().parse_args(argv)
    if args.command == "mark":
        return _mark(args, client)
    stdin = stdin if stdin is not None else sys.stdin
    try:
        deployed = _deployed(args, stdin)
        policy = _policy(args)
        if client is None:
            client = _client(args.region)
        if args.from_ecs:
            deployed |= _from_ecs(args, ecs_client)
        progress = sys.stderr if sys.stderr.isatty() else None
        images = list_images(client, args.repository, progress)
        results = preview_lifecycle_policy(policy, images)
    except UsageError as exc:
        for line in str(exc).splitlines():
            print(f"error: {one_line(line)}", file=sys.stderr)
        return 2
    except Exception as exc:
        print(f"error: {one_line(_describe(exc, args.repository))}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(results, default=str, indent=2))
    else:
        print(_table(results, images, deployed))
    verbs = {"EXPIRE": "expired", "TRANSITION": "archived (an archived image cannot be pulled)"}
    doomed = sorted(
        (r["imageDigest"], verbs[r["action"]["type"]])
        for r in results
        if r["imageDigest"] in deployed
    )
    for digest, verb in doomed:
        print(f"error: the deployed image {digest} would be {verb}", file=sys.stderr)
    return 1 if doomed else 0


def _from_ecs(args: argparse.Namespace, ecs_client: Any) -> set[str]:
    from cli.lifecycle.ecs import running_digests

    client = ecs_client if ecs_client is not None else _client(args.region, "ecs")
    digests, notes = running_digests(client, args.from_ecs, args.repository)
    for note in notes:
        print(one_line(note), file=sys.stderr)
    return digests


def _mark(args: argparse.Namespace, client: Any) -> int:
    """Mark what each service CI built now runs (ECR_FARGATE_IMAGE_DIGESTS, after `pulumi up`)."""
    import os

    from cli.lifecycle.mark import mark_stack

    try:
        digests = json.loads(os.environ.get("ECR_FARGATE_IMAGE_DIGESTS") or "{}")
        if not isinstance(digests, dict):
            raise UsageError("ECR_FARGATE_IMAGE_DIGESTS is not a JSON object of service digests")
        repositories, prefix = _stack_repositories(args.stack)
        if client is None:
            client = _client(args.region)
        done = mark_stack(client, repositories, digests, prefix)
    except json.JSONDecodeError as exc:
        print(f"error: ECR_FARGATE_IMAGE_DIGESTS is not JSON ({exc})", file=sys.stderr)
        return 2
    except UsageError as exc:
        for line in str(exc).splitlines():
            print(f"error: {one_line(line)}", file=sys.stderr)
        return 2
    except Exception as exc:
        print(f"error: {one_line(_describe(exc, '(marking)'))}", file=sys.stderr)
        return 2
    for line in done:
        print(line)
    return 0


def _stack_repositories(stack: str) -> tuple[dict[str, str], str]:
    """Service -> its repository name, and the stack's deploy prefix, from the stack file."""
    from rules.naming import validate_stack_name
    from settings import ConfigErrors, load
    from settings.source import from_files

    try:
        settings = load(from_files(validate_stack_name(stack)))
    except ConfigErrors as exc:
        raise UsageError("\n".join(f"--stack {stack}: {e}" for e in exc.errors)) from None
    except ValueError as exc:
        raise UsageError(f"--stack {stack}: {exc}") from None
    repositories = {s.name: s.repository.name for s in settings.services}
    return repositories, settings.registry.deploy_tag_prefix


def _client(region: str | None, service: str = "ecr") -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client(
        service, region_name=region, config=Config(retries={"mode": "standard", "max_attempts": 8})
    )


def _describe(exc: Exception, repository: str) -> str:
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError

    if isinstance(exc, NoCredentialsError):
        return "no AWS credentials found (set AWS_PROFILE or run `aws sso login`)"
    if isinstance(exc, NoRegionError):
        return "no region: pass --region or set AWS_REGION"
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "")
        if code == "RepositoryNotFoundException":
            return f"repository {repository!r} does not exist in this account and region"
        if code in ("ThrottlingException", "TooManyRequestsException"):
            return "ECR kept throttling after retries; try again later"
        return f"{code}: {exc.response.get('Error', {}).get('Message', '')}"
    if isinstance(exc, BotoCoreError | ValueError | OSError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"
