"""The repository stands on its own: users clone only it, so no file may point outside it."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Spelled in pieces, so this file does not match itself (nor the before-stop check).
OUTSIDE = tuple(
    "".join(parts) for parts in ((".", "./shared"), ("/wo", "rk/"), ("shared", "/reference/"))
)


def tracked_text_files() -> list[Path]:
    names = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.split(b"\0")
    return [ROOT / n.decode() for n in names if n and (ROOT / n.decode()).is_file()]


def test_no_file_refers_to_paths_outside_the_repository() -> None:
    offenders = []
    for path in tracked_text_files():
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        offenders += [f"{path.relative_to(ROOT)}: {m}" for m in OUTSIDE if m in text]
    assert offenders == []
