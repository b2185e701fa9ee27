"""Rewrite image references into pull-through cache URIs: `python -m cli.cache IMAGE...`.

The rewriting itself is `rules.registry.pull_through.cache_image_uri`; this module reads the
registry host and the rules from the flags or from `pulumi stack output --json` on stdin.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from typing import IO, Any

from rules.registry.pull_through import cache_image_uri, validate_cache_prefix
from rules.registry.text import one_line


def _rules_from_stack(outputs: Any) -> tuple[str, dict[str, str]]:
    """(registry host, reference host -> prefix) from `pulumi stack output --json`."""
    shape = ValueError("stdin is not `pulumi stack output --json` of an ecr-fargate stack")
    if not isinstance(outputs, Mapping):
        raise shape
    host = outputs.get("ecrRegistryUrl")
    upstreams = outputs.get("pullThroughCacheUpstreams") or {}
    if not isinstance(host, str) or not isinstance(upstreams, Mapping):
        raise shape
    pairs = list(upstreams.items())
    if not all(isinstance(p, str) and isinstance(h, str) for p, h in pairs):
        raise shape
    return host, {reference_host: prefix for prefix, reference_host in pairs}


def main(argv: Sequence[str] | None = None, stdin: IO[str] | None = None) -> int:
    """Exit 0 when every image was rewritten, 1 when one was not, 2 for bad arguments or input."""
    parser = argparse.ArgumentParser(prog="python -m cli.cache", description=__doc__)
    parser.add_argument("images", nargs="+", metavar="IMAGE")
    parser.add_argument("--registry", help="registry host (default: ecrRegistryUrl from stdin)")
    parser.add_argument(
        "--rule",
        action="append",
        default=[],
        metavar="HOST=PREFIX",
        help="e.g. docker.io=docker-hub",
    )
    args = parser.parse_args(argv)
    stdin = stdin if stdin is not None else sys.stdin
    try:
        host, rules = _inputs(args, stdin)
    except ValueError as exc:
        print(f"error: {one_line(str(exc))}", file=sys.stderr)
        return 2
    status = 0
    for image in args.images:
        try:
            print(cache_image_uri(image, host, rules))
        except ValueError as exc:
            print(f"error: {one_line(f'{image}: {exc}')}", file=sys.stderr)
            status = 1
    return status


def _inputs(args: argparse.Namespace, stdin: IO[str]) -> tuple[str, dict[str, str]]:
    """The registry host and rules from the flags, completed from the stack outputs on stdin."""
    host: str | None = args.registry
    rules: dict[str, str] = {}
    if not args.rule or host is None:
        if stdin.isatty():
            raise ValueError("give --registry and --rule, or pipe `pulumi stack output --json` in")
        try:
            stack_host, rules = _rules_from_stack(json.load(stdin))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ValueError(f"stdin is not JSON ({exc})") from None
        host = host or stack_host
    for item in args.rule:
        ref_host, sep, prefix = item.partition("=")
        if not sep or not ref_host or not prefix:
            raise ValueError(f"--rule {item!r}: expected HOST=PREFIX")
        try:
            rules[ref_host] = validate_cache_prefix(prefix)
        except ValueError as exc:
            raise ValueError(f"--rule {item!r}: {exc}") from None
    return host, rules


if __name__ == "__main__":
    sys.exit(main())
