"""The tag the stack pushes: `<deploy prefix><git sha>-<content hash>`.

The same commit with the same content gives the same tag, so re-running `pulumi up` against an
IMMUTABLE repository asks the provider for an image it already pushed (no change, no push); any
content change gives a new tag, so a rebuild from a dirty tree never reuses one. The deploy prefix
is what every lifecycle policy keeps first.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from collections.abc import Mapping
from pathlib import Path

from docker.utils.build import exclude_paths

from registry.names import validate_image_tag

DEPLOY_PREFIX = re.compile(r"[a-z0-9][a-z0-9._-]{0,30}[-._]", re.ASCII)
GIT_SHA = re.compile(r"[0-9a-f]{7,40}", re.ASCII)


def validate_deploy_prefix(prefix: str) -> str:
    if not DEPLOY_PREFIX.fullmatch(prefix):
        raise ValueError(
            f"{prefix!r} is not allowed; a deploy prefix is lowercase letters, digits, '.', '_' "
            "or '-', ending in a separator (e.g. 'dev-')"
        )
    return prefix


def context_hash(context: Path, dockerfile: Path) -> str:
    """12 hex of sha256 over the files Docker would send (`.dockerignore` honoured) and the Dockerfile."""
    ignore = context / ".dockerignore"
    patterns: list[str] = []
    if ignore.is_file():
        lines = (line.strip() for line in ignore.read_text().splitlines())
        patterns = [line for line in lines if line and not line.startswith("#")]
    digest = hashlib.sha256()
    for rel in sorted(exclude_paths(str(context), patterns)):
        path = context / rel
        if not path.is_file():
            continue
        mode = os.stat(path).st_mode
        digest.update(rel.replace(os.sep, "/").encode() + b"\0")
        digest.update(b"x" if mode & stat.S_IXUSR else b"-")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    digest.update(b"dockerfile\0" + dockerfile.read_bytes())
    return digest.hexdigest()[:12]


def git_sha_from_env(env: Mapping[str, str]) -> str | None:
    for name in ("GITHUB_SHA", "GIT_SHA"):
        value = env.get(name)
        if value:
            if not GIT_SHA.fullmatch(value.lower()):
                raise ValueError(f"{name}={value!r} is not a git commit sha (7 to 40 hex digits)")
            return value.lower()
    return None


def image_tag(deploy_prefix: str, *, git_sha: str | None, content_hash: str) -> str:
    validate_deploy_prefix(deploy_prefix)
    body = f"{git_sha[:7]}-{content_hash}" if git_sha else content_hash
    return validate_image_tag(f"{deploy_prefix}{body}")
