"""The tag the stack pushes: `<deploy prefix><content hash>`, never the commit.

The hash covers exactly what the image is built from: the files Docker sends (rules/build/dockerignore.py),
the Dockerfile, the ignore file, the build args, the target and the platforms built. A commit that
changes none of them keeps the tag, so `pulumi up` finds the image it already pushed (no build, no
new digest, no new task definition revision); any change gives a new tag, so a rebuild never reuses
one. The deploy prefix stays first: every lifecycle policy keeps deploy-prefixed images first.

The hash is canonical, the same on every machine and checkout path:
- entries are keyed by their `/`-separated path relative to the context, as bytes, and sorted;
- a regular file contributes its bytes and only its owner-executable bit (what git records;
  group/other bits follow the machine's umask, and timestamps and owners follow the checkout);
- a symlink contributes its target text, unfollowed (Docker sends symlinks as symlinks);
- a directory contributes its name only (Docker sends empty directories too);
- any other file type (FIFO, socket, device) contributes its name and kind.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from collections.abc import Iterable, Mapping
from pathlib import Path

from rules.build import dockerignore
from rules.registry.names import validate_image_tag

DEPLOY_PREFIX = re.compile(r"[a-z0-9][a-z0-9._-]{0,30}[-._]", re.ASCII)
GIT_SHA = re.compile(r"[0-9a-f]{7,40}", re.ASCII)
# Hex digits of the hash in the tag: 64 bits, far from a collision within one repository. With a
# deploy prefix of at most 32 characters a tag is at most 48: ECR takes 300 (the `ImageTag` shape
# of the ECR API model) and Docker clients 128 (rules/registry/names.py checks the stricter rule).
HASH_LENGTH = 16
COMMIT_VARIABLES = ("GITHUB_SHA", "GIT_SHA")


def validate_deploy_prefix(prefix: str) -> str:
    if not DEPLOY_PREFIX.fullmatch(prefix):
        raise ValueError(
            f"{prefix!r} is not allowed; a deploy prefix is lowercase letters, digits, '.', '_' "
            "or '-', ending in a separator (e.g. 'dev-')"
        )
    return prefix


def context_digest(context: Path, dockerfile: Path) -> str:
    """sha256 (hex) over the sent files, the Dockerfile and the ignore file.

    The Dockerfile and the ignore file always count, whatever the ignore file says: Docker sends
    them to the builder in any case. A file the system refuses to read is a refused build context.
    """
    try:
        return _context_digest(context, dockerfile)
    except OSError as exc:
        raise ValueError(
            f"the build context cannot be read ({type(exc).__name__}: {exc.strerror or exc})"
        ) from None


def _context_digest(context: Path, dockerfile: Path) -> str:
    ignore = dockerignore.ignore_file(context, dockerfile)
    ignore_text = ignore.read_bytes() if ignore is not None else b""
    patterns = dockerignore.read_patterns(
        ignore_text.decode("utf-8", "surrogateescape"),
        ignore.name if ignore is not None else ".dockerignore",
    )
    digest = hashlib.sha256()
    digest.update(b"dockerfile\0" + hashlib.sha256(dockerfile.read_bytes()).digest())
    digest.update(b"ignore\0" + hashlib.sha256(ignore_text).digest())
    records = [_record(e) for e in dockerignore.sent_entries(context, patterns)]
    for record in sorted(records):
        digest.update(record)
    return digest.hexdigest()


def _record(entry: dockerignore.Entry) -> bytes:
    """One entry as `kind NUL path NUL sha256(payload)`: paths hold no NUL, so records never run together."""
    name = os.fsencode(entry.path)
    if entry.kind == "file":
        executable = os.stat(entry.location).st_mode & stat.S_IXUSR
        payload = entry.location.read_bytes()
        kind = b"x" if executable else b"f"
    elif entry.kind == "symlink":
        payload, kind = os.fsencode(os.readlink(entry.location)), b"l"
    else:
        payload, kind = b"", b"d" if entry.kind == "dir" else b"o"
    return kind + b"\0" + name + b"\0" + hashlib.sha256(payload).digest()


def image_tag(
    deploy_prefix: str,
    *,
    context_digest: str,
    target: str | None,
    args: Mapping[str, str],
    platforms: Iterable[str],
) -> str:
    """The tag for these inputs built for exactly these platforms (order and repeats ignored)."""
    validate_deploy_prefix(deploy_prefix)
    document = json.dumps(
        {
            "args": dict(sorted(args.items())),
            "context": context_digest,
            "platforms": sorted(set(platforms)),
            "target": target,
        },
        sort_keys=True,
        separators=(",", ":"),
    )
    body = hashlib.sha256(document.encode()).hexdigest()[:HASH_LENGTH]
    return validate_image_tag(f"{deploy_prefix}{body}")


def commit_variable(env: Mapping[str, str]) -> str | None:
    """The variable naming the commit being deployed: `GITHUB_SHA` in Actions, else `GIT_SHA`.

    The commit feeds the `imageSources` output only: never a tag, an image or a task definition.
    """
    return next((name for name in COMMIT_VARIABLES if env.get(name)), None)


def validate_commit(value: str) -> str:
    if not GIT_SHA.fullmatch(value.lower()):
        raise ValueError(f"{value!r} is not allowed; a git commit sha is 7 to 40 hex digits")
    return value.lower()
