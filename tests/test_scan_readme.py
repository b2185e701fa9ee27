"""The scan gate page's examples are this module's output, not prose: the test fails when they
drift. `venv/bin/python -m tests.test_scan_readme` rewrites the two included sample files and
prints the table to paste back into docs/scan-gate.md."""

from __future__ import annotations

import contextlib
import datetime
import io
import re
import tempfile
from pathlib import Path
from typing import Any

import botocore.session
from botocore.stub import Stubber

from cli.scan import cli
from rules.scan.allowlist import load_allowlist
from tests.scan_support import AMD64, ARM64, INDEX, REPO, FakeTime, basic, index
from tests.test_scan_aws import expect_image, expect_pages, expect_poll

ROOT = Path(__file__).resolve().parent.parent
TODAY = datetime.date(2026, 11, 20)
ALLOWLIST = """\
allow:
  - id: CVE-2025-31115
    expires: 2026-12-31
    reason: "xz is not reachable from the app; base image update tracked in #42"
  - id: CVE-2024-45490
    expires: 2026-10-31
    reason: waiting for the expat backport
"""


def _client() -> tuple[Any, Stubber]:
    client = botocore.session.get_session().create_client(
        "ecr", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    stubber = Stubber(client)
    body = index(
        (AMD64, {"os": "linux", "architecture": "amd64"}),
        (ARM64, {"os": "linux", "architecture": "arm64"}),
    )
    expect_image(stubber, INDEX, body, "application/vnd.oci.image.index.v1+json")
    findings = [
        basic("CVE-2024-45490", "CRITICAL", "expat", "2.5.0-1"),
        basic("CVE-2025-31115", "HIGH", "xz-utils", "5.4.1-0.2"),
        basic("CVE-2023-50495", "LOW", "ncurses", "6.4-4"),
    ]
    expect_poll(stubber, AMD64, "IN_PROGRESS")
    expect_poll(stubber, AMD64, "COMPLETE", "The scan was completed successfully.")
    expect_pages(stubber, AMD64, {"findings": findings})
    expect_poll(stubber, ARM64, "COMPLETE", "The scan was completed successfully.")
    expect_pages(stubber, ARM64, {"findings": findings[1:]})
    stubber.activate()
    return client, stubber


def outputs() -> dict[str, str]:
    """The table, the JSON and the Markdown of one run on a two-platform image index."""
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        allow, summary = Path(tmp) / "allow.yaml", Path(tmp) / "summary.md"
        allow.write_text(ALLOWLIST)
        for kind, extra in (("text", []), ("json", ["--json", "--markdown", str(summary)])):
            client, stubber = _client()
            out = io.StringIO()
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
                args = ["--repository", REPO, "--digest", INDEX, "--allowlist", str(allow)]
                cli.main([*args, *extra], client=client, clock=FakeTime().clock(), today=TODAY)
            stubber.assert_no_pending_responses()
            results[kind] = out.getvalue()
        results["markdown"] = summary.read_text().lstrip("\n")
    return results


PAGE = ROOT / "docs" / "scan-gate.md"
# The long samples live in files the page includes (pymdownx.snippets), folded by default.
SAMPLES = {"json": "docs/snippets/scan-gate/verdict.json", "markdown": "docs/snippets/scan-gate/summary.md"}  # fmt: skip


def page_blocks() -> dict[str, str]:
    """The scan gate page's samples by language: its fenced table, and the files it includes."""
    text = PAGE.read_text(encoding="utf-8")
    section = text.split("\n## What it prints\n", 1)[1].split("\n## ", 1)[0]
    blocks = dict(re.findall(r"^```(text)\n(.*?)^```$", section, re.M | re.S))
    for kind, path in SAMPLES.items():
        assert f'--8<-- "{path}"' in section, f"the page no longer includes {path}"
        blocks[kind] = (ROOT / path).read_text(encoding="utf-8")
    return blocks


def test_the_docs_show_what_the_command_prints() -> None:
    blocks = page_blocks()
    for kind, text in outputs().items():
        assert blocks[kind] == text, f"scan gate page {kind} example is stale"


def test_committed_allowlist_is_valid_and_empty() -> None:
    """The default file the gate reads in CI: a comment-only example that accepts nothing."""
    assert load_allowlist(ROOT / ".github" / "scan-allowlist.yaml") == []


if __name__ == "__main__":
    samples = outputs()
    for kind, path in SAMPLES.items():
        (ROOT / path).write_text(samples[kind], encoding="utf-8")
    print(f"```text\n{samples['text']}```")
