"""Build contexts and build args, checked before pulumi-docker sees them."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

ARG_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*", re.ASCII)


class BuildArgError(ValueError):
    def __init__(self, path: str, detail: str) -> None:
        self.path = path
        self.detail = detail
        super().__init__(detail)


@dataclass(frozen=True)
class BuildContext:
    context: PurePosixPath  # relative to the project: resource inputs are the same on every machine
    dockerfile: PurePosixPath


def validate_build_context(project_dir: Path, context: str, dockerfile: str | None) -> BuildContext:
    """The context directory and Dockerfile, both inside the project, as project-relative paths.

    Any path the file system refuses (too long, a NUL byte, a symlink loop) is a refused value,
    not a crash: the stack file is user input.
    """
    given = context if dockerfile is None else f"{context} with dockerfile {dockerfile}"
    try:
        return _build_context(project_dir, context, dockerfile)
    except (OSError, RuntimeError) as exc:
        raise ValueError(
            f"{given!r} is not allowed; the file system refuses the path ({type(exc).__name__})"
        ) from None
    except ValueError as exc:
        if "null" in str(exc):  # pathlib's "embedded null byte"
            raise ValueError(f"{given!r} is not allowed; paths hold no NUL characters") from None
        raise


def _build_context(project_dir: Path, context: str, dockerfile: str | None) -> BuildContext:
    ctx = (project_dir / context).resolve()
    if not ctx.is_dir():
        raise ValueError(f"{context!r} is not allowed; the build context must be a directory")
    # Like `docker build -f` and pulumi-docker: the Dockerfile path is relative to the context.
    docker_file = (ctx / (dockerfile or "Dockerfile")).resolve()
    if not docker_file.is_file():
        raise ValueError(
            f"{dockerfile or 'Dockerfile'!r} is not allowed; no such file in the build context {context!r}"
        )
    root = project_dir.resolve()
    try:
        rel_ctx = PurePosixPath(ctx.relative_to(root).as_posix())
        rel_file = PurePosixPath(docker_file.relative_to(root).as_posix())
    except ValueError:
        raise ValueError(
            f"{context!r} is not allowed; keep the build context inside the project"
        ) from None
    return BuildContext(rel_ctx, rel_file)


def validate_build_args(args: Mapping[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name in sorted(args):
        value = args[name]
        if not ARG_NAME.fullmatch(name):
            raise BuildArgError(name, f"{name!r} is not a build arg name ([A-Za-z_][A-Za-z0-9_]*)")
        if not isinstance(value, str):
            raise BuildArgError(
                name, f"{value!r} is not allowed; build args are strings (quote it)"
            )
        out[name] = value
    return out
