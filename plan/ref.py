"""The stack as a git ref renders it, for `python -m plan STACK --against REF`.

The ref's tree is exported into a temporary directory and rendered there by a child Python running
`plan/dump.py`'s text: the old code renders the old stack files, so a change to the program shows up
as well as a change to the config, and the ref needs no dump mode of its own.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DUMP_SCRIPT = Path(__file__).with_name("dump.py")
RENDER_TIMEOUT = 600  # seconds; a render takes a few


class RefError(ValueError):
    """The ref cannot be read or rendered, said in one line."""


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no message"


def _git(root: Path, *args: str) -> bytes:
    try:
        done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, check=False)
    except OSError as exc:
        raise RefError(f"git cannot be run: {exc}") from None
    if done.returncode != 0:
        raise RefError(f"git {args[0]}: {_last_line(done.stderr.decode(errors='replace'))}")
    return done.stdout


def repo_root(project_dir: Path) -> Path:
    return Path(_git(project_dir, "rev-parse", "--show-toplevel").decode().strip()).resolve()


def resolve(root: Path, ref: str) -> str:
    """The commit a ref names."""
    try:
        return _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").decode().strip()
    except RefError:
        raise RefError(f"--against {ref!r}: no such commit in {root}") from None


def export_tree(root: Path, commit: str, dest: Path) -> None:
    """The commit's files (no .git) under `dest`, extracted with tarfile's safe `data` filter."""
    archive = _git(root, "archive", "--format=tar", commit)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(dest, filter="data")


def _inside(path: Path, root: Path, what: str) -> Path:
    try:
        return path.resolve().relative_to(root)
    except ValueError:
        raise RefError(f"{what} {path} is outside the repository {root}") from None


@dataclass(frozen=True)
class Ref:
    root: Path  # the repository's top directory
    name: str  # as given: `origin/main`
    commit: str


def locate(ref: str, project_dir: Path) -> Ref:
    """The commit `ref` names in the project's repository: checked before anything renders, and
    refused before git can read it as an option."""
    if not ref or ref.startswith("-"):
        raise RefError(f"--against {ref!r}: not a git ref")
    root = repo_root(project_dir)
    return Ref(root, ref, resolve(root, ref))


def render_at_ref(
    ref: Ref,
    stack: str,
    *,
    project_dir: Path,
    stack_dir: Path | None,
    env: Mapping[str, str],
) -> list[dict[str, Any]]:
    """The dumped resources of the stack at `ref`; none if the ref has no such stack file (the
    change creates the stack)."""
    root, commit = ref.root, ref.commit
    project_rel = _inside(project_dir, root, "the project directory")
    stacks_rel = _inside(stack_dir, root, "the stack directory") if stack_dir else project_rel
    with tempfile.TemporaryDirectory(prefix="plan-ref-") as tmp:
        tree = Path(tmp) / "tree"
        export_tree(root, commit, tree)
        if not (tree / stacks_rel / f"Pulumi.{stack}.yaml").is_file():
            return []
        out = Path(tmp) / "dump.json"
        _run_dump(
            tree / project_rel,
            [stack, str(tree / stacks_rel) if stack_dir else "", json.dumps(dict(env)), str(out)],
            f"{ref.name} ({commit[:12]})",
        )
        loaded: list[dict[str, Any]] = json.loads(out.read_text(encoding="utf-8"))
        return loaded


def _run_dump(cwd: Path, args: list[str], label: str) -> None:
    """Run the dump script in the ref's tree: its directory first on the path, so `plan.engine`
    and everything it imports are the ref's."""
    child_env = {k: v for k, v in os.environ.items() if k != "PYTHONSAFEPATH"}
    child_env["PYTHONPATH"] = str(cwd)
    script = DUMP_SCRIPT.read_text(encoding="utf-8")
    try:
        done = subprocess.run(
            [sys.executable, "-c", script, *args],
            cwd=cwd,
            env=child_env,
            capture_output=True,
            text=True,
            timeout=RENDER_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise RefError(f"{label}: rendering took over {RENDER_TIMEOUT}s") from None
    if done.returncode != 0:
        raise RefError(f"{label} does not render: {_last_line(done.stderr)}")
