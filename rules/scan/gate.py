"""The gate decision: which findings block, which the allowlist accepts, and the exit code.

Exit codes (the interface the image workflow relies on): 0 pass, 1 blocking findings, 2 bad usage
or input (decided before any AWS call, in cli.py), 3 the scan failed, was not found or timed out.
"""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from rules.scan.allowlist import AllowEntry
from rules.scan.findings import Finding
from rules.scan.severity import REPORTED, at_or_above, rank

# Scan statuses of the ECR API model (`ScanStatus`) after which the findings are final: COMPLETE
# (basic, or enhanced scan on push) and ACTIVE (enhanced continuous scanning: scanned, monitored).
DONE = frozenset({"COMPLETE", "ACTIVE"})
# Statuses worth waiting through. Every other one (FAILED, UNSUPPORTED_IMAGE,
# SCAN_ELIGIBILITY_EXPIRED, FINDINGS_UNAVAILABLE, LIMIT_EXCEEDED, IMAGE_ARCHIVED,
# IMAGE_SIZE_EXCEEDED, or one added later) ends the wait as a failed scan.
WAITING = frozenset({"IN_PROGRESS", "PENDING"})
# Set by the waiter, not ECR: no scan appeared, or it did not finish, within --timeout.
NOT_FOUND = "SCAN_NOT_FOUND"
TIMED_OUT = "TIMED_OUT"

PASS, BLOCK, FAILED, REPORT = 0, 1, 3, 0


@dataclass(frozen=True)
class PlatformScan:
    """The scan of one image manifest: the image itself, or one platform of an image index."""

    platform: str  # "linux/arm64" for an index's child, "" for a single-platform image
    digest: str
    status: str
    description: str
    findings: tuple[Finding, ...]

    @property
    def done(self) -> bool:
        return self.status in DONE


@dataclass(frozen=True)
class Policy:
    repository: str
    environment: str  # "prod" blocks; "dev" reports only
    threshold: str
    allowlist: tuple[AllowEntry, ...]
    today: datetime.date


@dataclass(frozen=True)
class Verdict:
    policy: Policy
    digest: str
    scans: tuple[PlatformScan, ...]
    blocking: tuple[Finding, ...]
    allowlisted: tuple[tuple[Finding, AllowEntry], ...]
    expired: tuple[AllowEntry, ...]
    decision: str
    exit_code: int

    @property
    def failed(self) -> tuple[PlatformScan, ...]:
        return tuple(s for s in self.scans if not s.done)


def counts(findings: Sequence[Finding]) -> dict[str, int]:
    """Findings by severity, every severity present (zeros included), highest first."""
    found = Counter(f.severity for f in findings)
    return {severity: found[severity] for severity in REPORTED}


def _order(finding: Finding) -> tuple[int, str, str, str]:
    """Most severe first, then by id, platform and package: outputs never depend on API order."""
    return (-rank(finding.severity), finding.id, finding.platform, finding.package)


def gated(finding: Finding, policy: Policy) -> bool:
    """At or above the threshold with a fix available: what the gate is about."""
    return at_or_above(finding.severity, policy.threshold) and finding.fixable


def decide(policy: Policy, digest: str, scans: Sequence[PlatformScan]) -> Verdict:
    """Split gated findings into blocking and allowlisted, and choose the exit code.

    An entry past its expiry no longer applies (its findings block again) and is listed as
    expired. In prod, blocking findings exit 1 even when another platform's scan failed (they are
    the actionable part); otherwise a failed scan exits 3. Dev reports the same and exits 0.
    """
    active = [e for e in policy.allowlist if not e.expired(policy.today)]
    blocking: list[Finding] = []
    allowlisted: list[tuple[Finding, AllowEntry]] = []
    for finding in (f for scan in scans for f in scan.findings if gated(f, policy)):
        entry = next((e for e in active if e.matches(finding, policy.repository)), None)
        if entry is None:
            blocking.append(finding)
        else:
            allowlisted.append((finding, entry))
    failed = any(not s.done for s in scans)
    if policy.environment != "prod":
        decision, code = "report", REPORT
    elif blocking:
        decision, code = "block", BLOCK
    elif failed:
        decision, code = "scan-failed", FAILED
    else:
        decision, code = "pass", PASS
    return Verdict(
        policy=policy,
        digest=digest,
        scans=tuple(scans),
        blocking=tuple(sorted(blocking, key=_order)),
        allowlisted=tuple(sorted(allowlisted, key=lambda pair: _order(pair[0]))),
        expired=tuple(e for e in policy.allowlist if e.expired(policy.today)),
        decision=decision,
        exit_code=code,
    )
