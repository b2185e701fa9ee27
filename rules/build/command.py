"""The shell command that does by hand what the stack's build and push do."""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence


def docker_build_command(
    *,
    platform: str,
    image_ref: str,
    context: str,
    dockerfile: str,
    target: str | None = None,
    build_args: Mapping[str, str] | None = None,
    cache_from: Sequence[str] = (),
) -> str:
    argv = ["docker", "build", "--platform", platform]
    if target:
        argv += ["--target", target]
    for name in sorted(build_args or {}):
        argv += ["--build-arg", f"{name}={(build_args or {})[name]}"]
    for ref in cache_from:
        argv += ["--cache-from", ref]
    argv += ["-t", image_ref, "-f", dockerfile, context]
    return f"{shlex.join(argv)} && {shlex.join(['docker', 'push', image_ref])}"
