"""One shape for basic and enhanced findings, and how "a fix is available" is decided for each.

Shapes from the ECR API model (`ImageScanFinding`, `EnhancedImageScanFinding`):
https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_ImageScanFindings.html
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rules.scan.severity import normalize

# Basic scanning has no fix-available flag. Not knowing is treated as "fixable": an unknown must
# not let a HIGH finding through the prod gate; the allowlist is the way to accept one.
FIX_UNKNOWN = "UNKNOWN"
# Inspector's `FixAvailable` enum is YES, NO, PARTIAL: PARTIAL means some of the vulnerable
# packages have a fix, so upgrading those is possible and the finding counts as fixable.
FIXABLE = frozenset({"YES", "PARTIAL", FIX_UNKNOWN})


@dataclass(frozen=True)
class Finding:
    """A vulnerability in one platform's image, whichever scanner reported it."""

    id: str
    severity: str
    package: str
    version: str
    fixed_in: str
    fix_available: str
    uri: str
    platform: str

    @property
    def fixable(self) -> bool:
        return self.fix_available in FIXABLE

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "severity": self.severity,
            "package": self.package,
            "version": self.version,
            "fixedIn": self.fixed_in,
            "fixAvailable": self.fix_available,
            "uri": self.uri,
            "platform": self.platform,
        }


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def basic_finding(raw: Mapping[str, Any], platform: str) -> Finding:
    """A basic (scan-on-push) finding: its attributes hold the package name and version."""
    attributes = {
        _text(a.get("key")): _text(a.get("value"))
        for a in raw.get("attributes") or []
        if isinstance(a, Mapping)
    }
    return Finding(
        id=_text(raw.get("name")) or "(unnamed)",
        severity=normalize(raw.get("severity")),
        package=attributes.get("package_name", ""),
        version=attributes.get("package_version", ""),
        fixed_in="",
        fix_available=FIX_UNKNOWN,
        uri=_text(raw.get("uri")),
        platform=platform,
    )


def enhanced_finding(raw: Mapping[str, Any], platform: str) -> Finding:
    """An enhanced (Amazon Inspector) finding: packages, fixed versions and `fixAvailable`."""
    details = raw.get("packageVulnerabilityDetails") or {}
    packages = [p for p in details.get("vulnerablePackages") or [] if isinstance(p, Mapping)]
    recommendation = (raw.get("remediation") or {}).get("recommendation") or {}
    fix = _text(raw.get("fixAvailable")).upper()
    return Finding(
        id=_text(details.get("vulnerabilityId")) or _text(raw.get("title")) or "(unnamed)",
        severity=normalize(raw.get("severity")),
        package=", ".join(_text(p.get("name")) for p in packages),
        version=", ".join(_text(p.get("version")) for p in packages),
        fixed_in=", ".join(_text(p.get("fixedInVersion")) for p in packages),
        fix_available=fix if fix in ("YES", "NO", "PARTIAL") else FIX_UNKNOWN,
        uri=_text(details.get("sourceUrl")) or _text(recommendation.get("url")),
        platform=platform,
    )


def findings_of(scan_findings: Mapping[str, Any], platform: str) -> list[Finding]:
    """Every finding of one `imageScanFindings` (all pages merged), basic and enhanced."""
    return [basic_finding(f, platform) for f in scan_findings.get("findings") or []] + [
        enhanced_finding(f, platform) for f in scan_findings.get("enhancedFindings") or []
    ]
