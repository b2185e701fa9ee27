"""The README stays a short front page whose links land: `mkdocs build --strict` (`make docs`)
checks the links between pages under docs/, but not the README, which GitHub renders instead."""

from __future__ import annotations

import re
from pathlib import Path

from markdown.extensions.toc import slugify

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
LINK = re.compile(r"\]\(([^)\s]+)\)")


def headings(path: Path) -> set[str]:
    """The anchors of a Markdown file's headings, outside code fences, as the toc slugifies them."""
    anchors, fenced = set(), False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and (m := re.match(r"#{1,6} (.+)", line)):
            anchors.add(slugify(m[1].replace("`", ""), "-"))
    return anchors


def test_readme_is_a_short_front_page_with_the_test_command() -> None:
    text = README.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 300
    assert "make test" in text
    assert "pulumi up --stack dev" in text


def test_readme_links_reach_existing_files_and_headings() -> None:
    targets = [t for t in LINK.findall(README.read_text(encoding="utf-8")) if "://" not in t]
    assert targets
    for target in targets:
        file, _, anchor = target.partition("#")
        path = ROOT / file
        assert path.is_file(), target
        if anchor:
            assert anchor in headings(path), target


def test_every_page_on_disk_is_linked_from_the_readme_or_the_docs_index() -> None:
    """A guide nobody links to is a guide nobody finds (the nav lists it, the index explains it)."""
    index = (ROOT / "docs" / "index.md").read_text(encoding="utf-8")
    readme = README.read_text(encoding="utf-8")
    for page in (ROOT / "docs").rglob("*.md"):
        rel = page.relative_to(ROOT / "docs").as_posix()
        if rel.startswith("snippets/") or rel == "index.md":
            continue
        assert f"({rel}" in index or f"(docs/{rel}" in readme, rel
