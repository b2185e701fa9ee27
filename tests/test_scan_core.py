"""The scan gate's core without AWS: severities, the allowlist, the decision and the outputs."""

from __future__ import annotations

import dataclasses
import datetime
import json
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rules.scan.allowlist import AllowEntry, AllowlistError, load_allowlist
from rules.scan.findings import basic_finding, enhanced_finding, findings_of
from rules.scan.gate import PlatformScan, Policy, decide
from rules.scan.render import as_json, cell, markdown, table
from rules.scan.severity import REPORTED, THRESHOLDS, parse_threshold, rank
from tests.scan_support import AMD64, ARM64, INDEX, REPO, TODAY, basic, enhanced


def policy(**changes: object) -> Policy:
    base = Policy(repository=REPO, environment="prod", threshold="HIGH", allowlist=(), today=TODAY)
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def scan(platform: str, digest: str, *raw: dict, status: str = "COMPLETE") -> PlatformScan:
    found = findings_of(
        {
            "findings": [r for r in raw if "name" in r],
            "enhancedFindings": [r for r in raw if "name" not in r],
        },
        platform,
    )
    return PlatformScan(platform, digest, status, "", tuple(found))


def entry(vid: str, expires: datetime.date, **scope: str) -> AllowEntry:
    return AllowEntry(vid, expires, "accepted", scope.get("repository"), scope.get("package"), 3)


# --- severities -------------------------------------------------------------------------------


def test_severity_order_and_unrated_severities_rank_as_high() -> None:
    assert [rank(s) for s in THRESHOLDS] == [0, 1, 2, 3, 4]
    assert rank("UNDEFINED") == rank("UNTRIAGED") == rank("HIGH")
    assert parse_threshold("critical") == "CRITICAL"
    with pytest.raises(ValueError, match="allowed: INFORMATIONAL, LOW, MEDIUM, HIGH, CRITICAL"):
        parse_threshold("SEVERE")


def test_basic_findings_have_no_fix_flag_so_they_count_as_fixable() -> None:
    finding = basic_finding(basic("CVE-2024-0001", "HIGH"), "linux/amd64")
    assert (finding.package, finding.version, finding.fix_available) == (
        "openssl",
        "3.0.1",
        "UNKNOWN",
    )
    assert finding.fixable


def test_enhanced_findings_read_inspector_fields() -> None:
    finding = enhanced_finding(enhanced("GHSA-j8r2-6x86-q33q", "MEDIUM", "PARTIAL"), "")
    assert finding.id == "GHSA-j8r2-6x86-q33q"
    assert (finding.package, finding.fixed_in, finding.fixable) == ("requests", "2.0.1", True)
    assert not enhanced_finding(enhanced("CVE-2024-1", "HIGH", "NO"), "").fixable
    assert enhanced_finding({"severity": "BOGUS"}, "").severity == "UNDEFINED"


# --- the decision -----------------------------------------------------------------------------


def test_prod_blocks_fixable_findings_at_or_above_the_threshold_only() -> None:
    scans = [
        scan(
            "linux/amd64",
            AMD64,
            basic("CVE-2024-0001", "CRITICAL"),
            basic("CVE-2024-0002", "MEDIUM"),
            enhanced("CVE-2024-0003", "HIGH", "NO"),
            enhanced("CVE-2024-0004", "HIGH", "YES"),
        )
    ]
    verdict = decide(policy(), INDEX, scans)
    assert [f.id for f in verdict.blocking] == ["CVE-2024-0001", "CVE-2024-0004"]
    assert (verdict.decision, verdict.exit_code) == ("block", 1)
    lowered = decide(policy(threshold="MEDIUM"), INDEX, scans)
    assert [f.id for f in lowered.blocking] == ["CVE-2024-0001", "CVE-2024-0004", "CVE-2024-0002"]


def test_dev_reports_the_same_findings_and_exits_zero() -> None:
    scans = [scan("", AMD64, basic("CVE-2024-0001", "CRITICAL"))]
    verdict = decide(policy(environment="dev"), AMD64, scans)
    assert [f.id for f in verdict.blocking] == ["CVE-2024-0001"]
    assert (verdict.decision, verdict.exit_code) == ("report", 0)


def test_failed_scan_exits_three_in_prod_and_zero_in_dev() -> None:
    scans = [scan("linux/amd64", AMD64), scan("linux/arm64", ARM64, status="FAILED")]
    assert decide(policy(), INDEX, scans).exit_code == 3
    assert decide(policy(environment="dev"), INDEX, scans).exit_code == 0


def test_allowlist_applies_through_its_expiry_day_then_blocks_again() -> None:
    scans = [scan("", AMD64, basic("CVE-2024-0001", "HIGH"))]
    allow = (entry("CVE-2024-0001", TODAY),)
    on_the_day = decide(policy(allowlist=allow), AMD64, scans)
    assert (on_the_day.exit_code, len(on_the_day.allowlisted), on_the_day.expired) == (0, 1, ())
    next_day = decide(
        policy(allowlist=allow, today=TODAY + datetime.timedelta(days=1)), AMD64, scans
    )
    assert next_day.exit_code == 1
    assert [e.id for e in next_day.expired] == ["CVE-2024-0001"]
    assert next_day.allowlisted == ()


def test_allowlist_scope_by_repository_and_package() -> None:
    scans = [scan("", AMD64, basic("CVE-2024-0001", "HIGH", package="zlib"))]
    later = TODAY + datetime.timedelta(days=30)
    for scope, allowed in [
        ({"repository": REPO}, True),
        ({"repository": "dev/api"}, False),
        ({"package": "zlib"}, True),
        ({"package": "openssl"}, False),
    ]:
        verdict = decide(policy(allowlist=(entry("CVE-2024-0001", later, **scope),)), AMD64, scans)
        assert bool(verdict.allowlisted) is allowed, scope


findings_strategy = st.lists(
    st.builds(
        lambda name, sev, fix: enhanced(f"CVE-2024-{name:04d}", sev, fix),
        st.integers(0, 9999),
        st.sampled_from(REPORTED),
        st.sampled_from(["YES", "NO", "PARTIAL", ""]),
    ),
    max_size=20,
)


@given(findings_strategy, st.sampled_from(THRESHOLDS), st.sampled_from(THRESHOLDS))
def test_raising_the_threshold_never_blocks_more(raw: list[dict], low: str, high: str) -> None:
    low, high = sorted((low, high), key=rank)
    scans = [scan("", AMD64, *raw)]
    strict = decide(policy(threshold=low), AMD64, scans).blocking
    lenient = decide(policy(threshold=high), AMD64, scans).blocking
    assert set(lenient) <= set(strict)
    assert decide(policy(threshold=high), AMD64, scans).exit_code <= 1


# --- the allowlist file -----------------------------------------------------------------------


def test_allowlist_file_is_read_with_optional_scope(tmp_path: Path) -> None:
    path = tmp_path / "allow.yaml"
    path.write_text(
        "# accepted risks\n"
        "allow:\n"
        "  - id: CVE-2024-12345\n"
        "    expires: 2026-12-31\n"
        "    reason: no fix in the base image yet\n"
        "    package: openssl\n"
        "  - id: GHSA-j8r2-6x86-q33q\n"
        "    expires: '2026-07-01'\n"
        "    reason: unreachable code path\n"
        "    repository: prod/api\n"
    )
    entries = load_allowlist(path)
    assert [(e.id, e.expires, e.line) for e in entries] == [
        ("CVE-2024-12345", datetime.date(2026, 12, 31), 3),
        ("GHSA-j8r2-6x86-q33q", datetime.date(2026, 7, 1), 7),
    ]
    assert (entries[0].package, entries[1].repository) == ("openssl", "prod/api")


def test_empty_allowlist_file_allows_nothing(tmp_path: Path) -> None:
    path = tmp_path / "allow.yaml"
    path.write_text("# nothing accepted\n")
    assert load_allowlist(path) == []
    path.write_text("allow: []\n")
    assert load_allowlist(path) == []


def test_every_bad_allowlist_entry_is_one_line_with_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "allow.yaml"
    path.write_text(
        "allow:\n"
        "  - id: CVE-2024-123\n"  # 3 digits: malformed
        "    expires: 2026-12-31\n"
        "    reason: short id\n"
        "  - id: CVE-2024-0001\n"
        "    reason: no expiry\n"
        "  - id: CVE-2024-0002\n"
        "    expires: 2026-02-30\n"  # not a real date
        "    reason: bad date\n"
        "  - id: CVE-2024-0003\n"
        "    expires: 2026-12-31\n"
        "    reason: ok\n"
        "    scope: everything\n"
    )
    with pytest.raises(AllowlistError) as info:
        load_allowlist(path)
    lines = info.value.lines
    assert lines == [
        f'{path}:2: allow[0].id: "CVE-2024-123" is not a vulnerability id; allowed: CVE-YYYY-NNNN (four or more digits) or GHSA-xxxx-xxxx-xxxx',
        f"{path}:5: allow[1].expires: missing; every entry needs id, expires, reason",
        f'{path}:8: allow[2].expires: "2026-02-30" is not a date; allowed: a real YYYY-MM-DD date',
        f'{path}:13: allow[3]: "scope" is not a key; allowed: id, expires, reason, repository, package',
    ]


def test_allowlist_that_is_not_yaml_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "allow.yaml"
    path.write_text("allow:\n  - id: [unclosed\n")
    with pytest.raises(AllowlistError) as info:
        load_allowlist(path)
    assert len(info.value.lines) == 1
    assert re.match(rf"{re.escape(str(path))}:\d+: not YAML", info.value.lines[0])


# --- the outputs ------------------------------------------------------------------------------


def sample_verdict():
    scans = [
        scan(
            "linux/amd64",
            AMD64,
            basic("CVE-2024-0001", "CRITICAL", package="evil|pkg\nname"),
            basic("CVE-2024-0002", "LOW"),
        ),
        scan(
            "linux/arm64",
            ARM64,
            enhanced("GHSA-j8r2-6x86-q33q", "HIGH", "YES"),
            enhanced("CVE-2024-0005", "HIGH", "YES"),
        ),
    ]
    later = TODAY + datetime.timedelta(days=10)
    allow = (entry("CVE-2024-0005", later), entry("CVE-2023-9999", TODAY - datetime.timedelta(1)))
    return decide(policy(allowlist=allow), INDEX, scans)


def test_json_output_holds_the_whole_verdict() -> None:
    data = json.loads(json.dumps(as_json(sample_verdict())))
    assert (data["decision"], data["exitCode"], data["digest"]) == ("block", 1, INDEX)
    assert [(p["platform"], p["status"]) for p in data["platforms"]] == [
        ("linux/amd64", "COMPLETE"),
        ("linux/arm64", "COMPLETE"),
    ]
    assert data["counts"] == {**dict.fromkeys(REPORTED, 0), "CRITICAL": 1, "HIGH": 2, "LOW": 1}
    assert [(f["id"], f["platform"]) for f in data["blocking"]] == [
        ("CVE-2024-0001", "linux/amd64"),
        ("GHSA-j8r2-6x86-q33q", "linux/arm64"),
    ]
    assert [a["allowlist"]["id"] for a in data["allowlisted"]] == ["CVE-2024-0005"]
    assert [e["id"] for e in data["expiredAllowlist"]] == ["CVE-2023-9999"]


def markdown_rows(text: str, heading: str) -> list[list[str]]:
    """The data rows of the table under `heading`, split on unescaped pipes only."""
    lines = text.splitlines()
    assert lines[lines.index(heading) + 3].startswith("|---|")
    start = lines.index(heading) + 4
    rows = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        rows.append([c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]])
    return rows


def test_markdown_tables_keep_their_columns_and_link_findings() -> None:
    text = markdown(sample_verdict())
    lines = text.splitlines()
    counts_table = [
        [c.strip() for c in line.split("|")[1:-1]] for line in lines if line.startswith("| linux/")
    ]
    assert [row[:3] for row in counts_table] == [
        ["linux/amd64", f"`{AMD64[:19]}`", "COMPLETE"],
        ["linux/arm64", f"`{ARM64[:19]}`", "COMPLETE"],
    ]
    blocking = markdown_rows(text, "#### Blocking findings")
    assert all(len(row) == 6 for row in blocking)
    assert blocking[0][1] == "[CVE-2024-0001](https://nvd.nist.gov/vuln/detail/CVE-2024-0001)"
    assert blocking[0][3] == r"evil\|pkg name"
    assert blocking[1][1] == (
        "[GHSA-j8r2-6x86-q33q](https://github.com/advisories/GHSA-j8r2-6x86-q33q)"
    )
    assert markdown_rows(text, "#### Allowlisted")[0][1].startswith("[CVE-2024-0005]")
    assert "- CVE-2023-9999 expired on 2026-05-31 (line 3)" in lines


def test_table_lists_platform_counts_blocking_and_decision() -> None:
    out = table(sample_verdict())
    lines = out.splitlines()
    assert lines[0].split() == ["PLATFORM", "IMAGE", "STATUS", *REPORTED]
    assert lines[1].split()[:4] == ["linux/amd64", AMD64[:19], "COMPLETE", "1"]
    assert any(line.split()[:2] == ["CRITICAL", "CVE-2024-0001"] for line in lines)
    assert "evil|pkg\\nname" in out  # one line per finding, whatever the package name holds
    assert lines[-1].startswith("decision: block (prod): 2 findings")


@given(st.text())
def test_markdown_cells_never_break_a_table(text: str) -> None:
    escaped = cell(text)
    assert "\n" not in escaped and "\r" not in escaped
    assert not re.search(r"(?<!\\)(\\\\)*\|", escaped)
