"""Upgrades replace nothing: the stack files as they were before the layered layout render with the
same URNs (or carry the old ones as aliases), the same physical names and the same protection.

`tests/previous/` holds those stack files (the project's and the fixtures') and what the program
rendered from them at the time (`render.json`: URN -> physical names and `protect`), recorded by the
code of that commit, never by the code under test. A changed URN without an alias makes `pulumi up`
replace the resource (or, where protected, refuse); a changed physical name replaces it too.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from plan import engine

PREVIOUS = Path(__file__).resolve().parent / "previous"
RECORDED: dict[str, dict[str, dict[str, object]]] = json.loads(
    (PREVIOUS / "render.json").read_text()
)
GIT_ENV = {"GITHUB_SHA": "0123456789abcdef0123456789abcdef01234567"}
NAME_KEYS = ("name", "bucket", "family", "ecrRepositoryPrefix", "prefix", "domainName", "groupName")


@pytest.mark.parametrize("variant", sorted(RECORDED))
def test_previous_stack_files_keep_their_urns_names_and_protection(variant: str) -> None:
    kind, stack = variant.split("/")
    rendered = engine.render_stack(stack, stack_dir=PREVIOUS / kind, env=GIT_ENV)
    by_urn = {}
    for resource in rendered.resources:
        for urn in (resource.urn, *resource.aliases):
            by_urn[urn] = resource
    problems = []
    for urn, before in sorted(RECORDED[variant].items()):
        now = by_urn.get(urn)
        if now is None:
            problems.append(f"{urn}: neither rendered nor carried as an alias")
            continue
        physical = {k: now.inputs[k] for k in NAME_KEYS if isinstance(now.inputs.get(k), str)}
        if physical != before["physical"]:
            problems.append(f"{urn}: physical names {before['physical']} became {physical}")
        if now.protect != before["protect"]:
            problems.append(f"{urn}: protect {before['protect']} became {now.protect}")
    assert problems == []
