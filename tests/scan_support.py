"""Builders shared by the scan gate tests: API-shaped findings and a clock that never waits."""

from __future__ import annotations

import datetime
import json
from typing import Any

from rules.scan.ecr import Clock

REPO = "prod/api"
INDEX = "sha256:" + "a" * 64
AMD64 = "sha256:" + "b" * 64
ARM64 = "sha256:" + "c" * 64
ATTEST = "sha256:" + "d" * 64
TODAY = datetime.date(2026, 6, 1)


class FakeTime:
    """Monotonic time that only moves when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def clock(self) -> Clock:
        return Clock(now=lambda: self.now, sleep=self.sleep, random=lambda: 0.5)


def basic(name: str, severity: str, package: str = "openssl", version: str = "3.0.1") -> dict:
    return {
        "name": name,
        "severity": severity,
        "uri": f"https://security-tracker.debian.org/tracker/{name}",
        "attributes": [
            {"key": "package_name", "value": package},
            {"key": "package_version", "value": version},
        ],
    }


def enhanced(vid: str, severity: str, fix: str, package: str = "requests") -> dict:
    return {
        "severity": severity,
        "fixAvailable": fix,
        "title": f"{vid} - {package}",
        "packageVulnerabilityDetails": {
            "vulnerabilityId": vid,
            "sourceUrl": f"https://github.com/advisories/{vid}",
            "vulnerablePackages": [
                {"name": package, "version": "2.0.0", "fixedInVersion": "2.0.1"}
            ],
        },
    }


def manifest() -> str:
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": "sha256:" + "e" * 64,
                "size": 1,
            },
            "layers": [],
        }
    )


def index(*children: tuple[str, dict[str, Any]]) -> str:
    """An OCI index; each child is (digest, platform), BuildKit's attestation entry included."""
    entries: list[dict[str, Any]] = [
        {
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": digest,
            "size": 500,
            "platform": platform,
        }
        for digest, platform in children
    ]
    entries.append(
        {
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": ATTEST,
            "size": 800,
            "annotations": {
                "vnd.docker.reference.digest": children[0][0],
                "vnd.docker.reference.type": "attestation-manifest",
            },
            "platform": {"architecture": "unknown", "os": "unknown"},
        }
    )
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": entries,
        }
    )
