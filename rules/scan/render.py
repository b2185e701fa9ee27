"""The three outputs of one verdict: a table for people, JSON for machines, Markdown for GitHub.

Every value that came from ECR (ids, package names, descriptions, URLs) is escaped for the output
it lands in: one line in the table, a JSON string in JSON, an escaped cell in Markdown.
"""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import quote, urlsplit

from rules.registry.text import one_line
from rules.scan.allowlist import CVE_ID
from rules.scan.gate import Verdict, counts
from rules.scan.severity import REPORTED

NVD = "https://nvd.nist.gov/vuln/detail/"


def _platform(name: str) -> str:
    return name or "(image)"


def _columns(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows
    )


def summary(verdict: Verdict) -> str:
    """The decision in one sentence, shared by the table and the Markdown."""
    policy = verdict.policy
    n = len(verdict.blocking)
    gate = f"{n} finding{'' if n == 1 else 's'} at or above {policy.threshold} with a fix available"
    verb = " (blocking)" if policy.environment == "prod" else " (not blocking in dev)"
    parts = [gate + (verb if n else "")]
    if verdict.allowlisted:
        parts.append(f"{len(verdict.allowlisted)} allowlisted")
    if verdict.failed:
        parts.append(f"{len(verdict.failed)} of {len(verdict.scans)} scans did not complete")
    return (
        f"{verdict.decision} ({policy.environment}): {'; '.join(parts)}; exit {verdict.exit_code}"
    )


def table(verdict: Verdict) -> str:
    rows: list[tuple[str, ...]] = [("PLATFORM", "IMAGE", "STATUS", *REPORTED)]
    for scan in verdict.scans:
        found = counts(scan.findings)
        rows.append(
            (
                _platform(scan.platform),
                scan.digest[:19],
                one_line(scan.status),
                *(str(found[s]) for s in REPORTED),
            )
        )
    out = [_columns(rows)]
    for scan in verdict.failed:
        out.append(f"scan {_platform(scan.platform)}: {scan.status}: {one_line(scan.description)}")
    if verdict.blocking:
        head = "BLOCKING" if verdict.policy.environment == "prod" else "WOULD BLOCK IN PROD"
        blocked = [(head, "ID", "PLATFORM", "PACKAGE", "VERSION", "FIXED-IN")]
        blocked += [
            (f.severity, f.id, _platform(f.platform), f.package, f.version, f.fixed_in)
            for f in verdict.blocking
        ]
        out.append(_columns([tuple(one_line(c) for c in row) for row in blocked]))
    if verdict.allowlisted:
        allowed = [("ALLOWLISTED", "ID", "PLATFORM", "EXPIRES", "REASON")]
        allowed += [
            (f.severity, f.id, _platform(f.platform), e.expires.isoformat(), e.reason)
            for f, e in verdict.allowlisted
        ]
        out.append(_columns([tuple(one_line(c) for c in row) for row in allowed]))
    for entry in verdict.expired:
        out.append(
            f"allowlist entry {one_line(entry.id)} (line {entry.line}) expired on "
            f"{entry.expires.isoformat()} and no longer applies"
        )
    out.append(f"decision: {summary(verdict)}")
    return "\n\n".join(out)


def as_json(verdict: Verdict) -> dict[str, Any]:
    policy = verdict.policy
    return {
        "repository": policy.repository,
        "digest": verdict.digest,
        "environment": policy.environment,
        "threshold": policy.threshold,
        "decision": verdict.decision,
        "exitCode": verdict.exit_code,
        "platforms": [
            {
                "platform": scan.platform or None,
                "digest": scan.digest,
                "status": scan.status,
                "description": scan.description,
                "counts": counts(scan.findings),
            }
            for scan in verdict.scans
        ],
        "counts": counts([f for scan in verdict.scans for f in scan.findings]),
        "blocking": [f.as_json() for f in verdict.blocking],
        "allowlisted": [{**f.as_json(), "allowlist": e.as_json()} for f, e in verdict.allowlisted],
        "expiredAllowlist": [e.as_json() for e in verdict.expired],
    }


def cell(text: str) -> str:
    """`text` safe inside a GitHub Markdown table cell: no pipe, newline or HTML can break it."""
    flat = " ".join(html.escape(text, quote=False).splitlines())
    return re.sub(r"([\\|`*_\[\]])", r"\\\1", one_line(flat)) or " "


def _link(finding_id: str, uri: str) -> str:
    """The NVD page of a CVE, else the finding's own https link, else the id alone."""
    label = cell(finding_id)
    if CVE_ID.fullmatch(finding_id):
        return f"[{label}]({NVD}{finding_id})"
    if urlsplit(uri).scheme == "https":
        return f"[{label}]({quote(uri, safe=':/?&=#%+@,;~')})"
    return label


def _md_table(head: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    return [
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
        *("| " + " | ".join(row) + " |" for row in rows),
    ]


def markdown(verdict: Verdict) -> str:
    policy = verdict.policy
    image = f"{policy.repository}@{verdict.digest}"
    # A blank line first: what an earlier step appended may not end its last line.
    out = ["", f"### Image scan: `{image}`", "", f"**{cell(summary(verdict))}**", ""]
    out += _md_table(
        ("Platform", "Image", "Scan status", *REPORTED),
        [
            (
                cell(_platform(s.platform)),
                f"`{s.digest[:19]}`",
                cell(s.status),
                *(str(n) for n in counts(s.findings).values()),
            )
            for s in verdict.scans
        ],
    )
    if verdict.blocking:
        title = "Blocking findings" if policy.environment == "prod" else "Would block in prod"
        out += ["", f"#### {title}", ""]
        out += _md_table(
            ("Severity", "Vulnerability", "Platform", "Package", "Installed", "Fixed in"),
            [
                (
                    f.severity,
                    _link(f.id, f.uri),
                    cell(_platform(f.platform)),
                    cell(f.package),
                    cell(f.version),
                    cell(f.fixed_in),
                )
                for f in verdict.blocking
            ],
        )
    if verdict.allowlisted:
        out += ["", "#### Allowlisted", ""]
        out += _md_table(
            ("Severity", "Vulnerability", "Platform", "Until", "Reason"),
            [
                (
                    f.severity,
                    _link(f.id, f.uri),
                    cell(_platform(f.platform)),
                    e.expires.isoformat(),
                    cell(e.reason),
                )
                for f, e in verdict.allowlisted
            ],
        )
    if verdict.expired:
        out += ["", "#### Expired allowlist entries (no longer applied)", ""]
        out += [
            f"- {cell(e.id)} expired on {e.expires.isoformat()} (line {e.line})"
            for e in verdict.expired
        ]
    return "\n".join(out) + "\n"
