"""`python -m cli.scan`: wait for ECR's scan of an image and gate on its findings.

Exit codes: 0 pass, 1 blocking findings, 2 bad usage or input, 3 the scan failed, was not found
or timed out. Prod (the default) blocks on findings at or above --threshold (default HIGH) with a
fix available; dev reports the same and exits 0.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from rules.registry.names import REPOSITORY_NAME
from rules.registry.text import one_line, show
from rules.scan.allowlist import AllowEntry, AllowlistError, load_allowlist
from rules.scan.ecr import Clock, ImageMissing, scan_platforms
from rules.scan.gate import FAILED, Policy, decide
from rules.scan.render import as_json, markdown, table
from rules.scan.severity import parse_threshold

DEFAULT_ALLOWLIST = Path(".github/scan-allowlist.yaml")
DEFAULT_TIMEOUT = 600.0
ENVIRONMENTS = ("dev", "prod")
DIGEST = re.compile(r"sha256:[0-9a-f]{64}", re.ASCII)
REGISTRY_ID = re.compile(r"[0-9]{12}", re.ASCII)  # the ECR model's RegistryId pattern


class UsageError(Exception):
    """Bad arguments or allowlist: exit 2, one line per problem, before any AWS call."""


@dataclass(frozen=True)
class Options:
    policy: Policy
    digest: str
    region: str | None
    registry_id: str | None
    timeout: float
    json: bool
    markdown: Path | None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m cli.scan", description=__doc__)
    parser.add_argument(
        "--repository", required=True, help="the ECR repository name, e.g. prod/api"
    )
    parser.add_argument("--digest", required=True, help="sha256:<64 hex>, an image or image index")
    parser.add_argument("--region")
    parser.add_argument("--registry-id", help="the registry's 12-digit account id")
    parser.add_argument("--environment", default="prod", help="prod blocks (default); dev reports")
    parser.add_argument("--threshold", default="HIGH", help="lowest blocking severity (HIGH)")
    parser.add_argument("--allowlist", help=f"YAML allowlist (default {DEFAULT_ALLOWLIST}, if any)")
    parser.add_argument("--timeout", default=str(DEFAULT_TIMEOUT), help="seconds to wait in all")
    parser.add_argument("--json", action="store_true", help="print the verdict as JSON")
    parser.add_argument("--markdown", metavar="FILE", help="append a Markdown summary to FILE")
    return parser


def _problems(args: argparse.Namespace) -> list[str]:
    """Every bad argument, one line each: the option, the value, what is allowed."""
    problems = []
    if not (2 <= len(args.repository) <= 256 and REPOSITORY_NAME.fullmatch(args.repository)):
        problems.append(f"--repository {show(args.repository)} is not an ECR repository name")
    if not DIGEST.fullmatch(args.digest):
        problems.append(f"--digest {show(args.digest)} is not allowed; allowed: sha256:<64 hex>")
    if args.registry_id is not None and not REGISTRY_ID.fullmatch(args.registry_id):
        problems.append(f"--registry-id {show(args.registry_id)} is not a 12-digit account id")
    if args.environment not in ENVIRONMENTS:
        problems.append(
            f"--environment {show(args.environment)} is not allowed; allowed: dev, prod"
        )
    try:
        parse_threshold(args.threshold)
    except ValueError as exc:
        problems.append(f"--threshold {show(args.threshold)} {exc}")
    if _timeout(args.timeout) is None:
        problems.append(f"--timeout {show(args.timeout)} is not allowed; allowed: seconds > 0")
    return problems


def _timeout(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) and value > 0 else None


def _allowlist(args: argparse.Namespace) -> tuple[AllowEntry, ...]:
    if args.allowlist is None and not DEFAULT_ALLOWLIST.is_file():
        return ()
    path = Path(args.allowlist) if args.allowlist is not None else DEFAULT_ALLOWLIST
    if not path.is_file():
        raise UsageError(f"--allowlist {show(str(path))}: no such file")
    try:
        return tuple(load_allowlist(path))
    except AllowlistError as exc:
        raise UsageError(str(exc)) from None


def options(args: argparse.Namespace, today: datetime.date) -> Options:
    """The validated arguments, or UsageError listing every problem (allowlist lines included)."""
    problems = _problems(args)
    try:
        allowlist = _allowlist(args)
    except UsageError as exc:
        problems += str(exc).splitlines()
        allowlist = ()
    if problems:
        raise UsageError("\n".join(problems))
    policy = Policy(
        repository=args.repository,
        environment=args.environment,
        threshold=parse_threshold(args.threshold),
        allowlist=allowlist,
        today=today,
    )
    return Options(
        policy=policy,
        digest=args.digest,
        region=args.region,
        registry_id=args.registry_id,
        timeout=float(args.timeout),
        json=args.json,
        markdown=Path(args.markdown) if args.markdown else None,
    )


def main(
    argv: Sequence[str] | None = None,
    client: Any = None,
    clock: Clock | None = None,
    today: datetime.date | None = None,
) -> int:
    args = _parser().parse_args(argv)
    try:
        opts = options(args, today or datetime.datetime.now(datetime.UTC).date())
        summary_file = _open_summary(opts.markdown)
    except UsageError as exc:
        _errors(str(exc))
        return 2
    try:
        scans = scan_platforms(
            client if client is not None else _client(opts.region),
            opts.policy.repository,
            opts.digest,
            opts.registry_id,
            opts.timeout,
            clock or Clock(),
            lambda line: print(f"scan: {one_line(line)}", file=sys.stderr),
        )
    except Exception as exc:
        code, message = _describe(exc, opts.policy.repository)
        _errors(message)
        return code
    verdict = decide(opts.policy, opts.digest, scans)
    print(json.dumps(as_json(verdict), indent=2) if opts.json else table(verdict))
    if summary_file is not None:
        with summary_file:
            summary_file.write(markdown(verdict))
    return verdict.exit_code


def _open_summary(path: Path | None) -> IO[str] | None:
    """Opened (for appending) before waiting, so a bad path fails fast rather than after the scan."""
    if path is None:
        return None
    try:
        return path.open("a", encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"--markdown {show(str(path))}: {exc.strerror or exc}") from None


def _errors(text: str) -> None:
    for line in text.splitlines():
        print(f"error: {one_line(line)}", file=sys.stderr)


def _client(region: str | None) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client(
        "ecr", region_name=region, config=Config(retries={"mode": "standard", "max_attempts": 8})
    )


def _describe(exc: Exception, repository: str) -> tuple[int, str]:
    """An AWS failure as (exit code, one line): 2 for local setup, 3 when the scan cannot be read."""
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError

    if isinstance(exc, NoCredentialsError):
        return 2, "no AWS credentials found (set AWS_PROFILE or run `aws sso login`)"
    if isinstance(exc, NoRegionError):
        return 2, "no region: pass --region or set AWS_REGION"
    if isinstance(exc, ImageMissing):
        return FAILED, str(exc)
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = error.get("Code", "")
        if code == "RepositoryNotFoundException":
            return FAILED, f"repository {repository!r} does not exist in this account and region"
        return FAILED, f"{code}: {error.get('Message', '')}"
    if isinstance(exc, BotoCoreError):
        return FAILED, str(exc)
    return FAILED, f"{type(exc).__name__}: {exc}"
