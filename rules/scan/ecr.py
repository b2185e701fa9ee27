"""The only module that calls ECR: resolve an image index to its platforms, wait, read findings.

An image index (multi-architecture image) has no layers of its own: ECR scans image manifests,
so each platform's manifest has its own scan, status and findings (all keyed by that manifest's
digest in DescribeImageScanFindings), and each is waited for and reported.
https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-scanning.html
https://docs.aws.amazon.com/AmazonECR/latest/userguide/docker-push-multi-architecture-image.html
"""

from __future__ import annotations

import json
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rules.registry.text import bounded, one_line
from rules.scan.findings import findings_of
from rules.scan.gate import DONE, NOT_FOUND, TIMED_OUT, WAITING, PlatformScan

# https://github.com/opencontainers/image-spec/blob/main/image-index.md and Docker's manifest list.
INDEX_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
)
MANIFEST_TYPES = (
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
)
# BuildKit adds one attestation manifest per platform (provenance, SBOM) with the platform
# unknown/unknown: not an image anyone runs, and not something ECR scans.
# https://docs.docker.com/build/metadata/attestations/attestation-storage/
ATTESTATION = "attestation-manifest"
# The ImageScanComplete waiter of the botocore ECR model polls every 5 s; back off from there.
FIRST_DELAY, MAX_DELAY = 5.0, 60.0
PAGE_SIZE = 1000  # the model's MaxResults maximum for DescribeImageScanFindings
DIGEST = re.compile(r"sha256:[0-9a-f]{64}", re.ASCII)


class ImageMissing(Exception):
    """The image (or every platform of an index) cannot be scanned: exit 3, like a failed scan."""


@dataclass(frozen=True)
class Clock:
    """Time, injected so that tests wait for nothing and see every delay."""

    now: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    random: Callable[[], float] = random.random


def backoff(attempt: int, rnd: Callable[[], float]) -> float:
    """Exponential delay with equal jitter: half fixed, half random, so polls never bunch up."""
    delay = min(MAX_DELAY, FIRST_DELAY * 2 ** min(attempt, 8))  # 5 * 2**4 already passes 60
    return delay / 2 + rnd() * delay / 2


def _registry(registry_id: str | None) -> dict[str, str]:
    return {"registryId": registry_id} if registry_id else {}


def image_platforms(
    client: Any, repository: str, digest: str, registry_id: str | None
) -> list[tuple[str, str]]:
    """(platform, manifest digest) pairs to check: the index's children, or the image alone."""
    response = client.batch_get_image(
        repositoryName=repository,
        imageIds=[{"imageDigest": digest}],
        acceptedMediaTypes=[*INDEX_TYPES, *MANIFEST_TYPES],
        **_registry(registry_id),
    )
    images = response.get("images") or []
    if not images:
        failure = (response.get("failures") or [{}])[0]
        reason = failure.get("failureReason") or failure.get("failureCode") or "not found"
        raise ImageMissing(f"image {repository}@{digest}: {reason}")
    manifest = json.loads(images[0].get("imageManifest") or "{}")
    media_type = images[0].get("imageManifestMediaType") or manifest.get("mediaType")
    if media_type not in INDEX_TYPES:
        return [("", digest)]
    children = [
        (_platform_name(m.get("platform") or {}), m["digest"])
        for m in manifest.get("manifests") or []
        if m.get("digest") and not _is_attestation(m)
    ]
    if not children:
        raise ImageMissing(f"image index {repository}@{digest} lists no platform image")
    bad = [child for _, child in children if not DIGEST.fullmatch(str(child))]
    if bad:
        raise ImageMissing(f"image index {repository}@{digest} lists a malformed digest {bad[0]!r}")
    return children


def _is_attestation(entry: dict[str, Any]) -> bool:
    annotations = entry.get("annotations") or {}
    platform = entry.get("platform") or {}
    return (
        annotations.get("vnd.docker.reference.type") == ATTESTATION
        or platform.get("os") == "unknown"
    )


def _platform_name(platform: dict[str, Any]) -> str:
    parts = (platform.get("os"), platform.get("architecture"), platform.get("variant"))
    return bounded(one_line("/".join(str(p) for p in parts if p))) or "(unknown platform)"


def wait_for_status(
    client: Any,
    image: dict[str, Any],
    label: str,
    deadline: float,
    clock: Clock,
    log: Callable[[str], None],
) -> tuple[str, str]:
    """Poll until the scan leaves IN_PROGRESS/PENDING, or the deadline passes.

    ScanNotFoundException right after a push is normal (scan on push has not started yet), so it
    is retried like IN_PROGRESS; at the deadline it becomes SCAN_NOT_FOUND, anything else TIMED_OUT.
    """
    from botocore.exceptions import ClientError

    attempt, last = 0, ""
    while True:
        try:
            response = client.describe_image_scan_findings(**image, maxResults=1)
            state = response.get("imageScanStatus") or {}
            status, description = str(state.get("status", "")), str(state.get("description", ""))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ScanNotFoundException":
                raise
            status, description = NOT_FOUND, str(exc.response["Error"].get("Message", ""))
        if status != last:
            log(f"{label}: {status}")
            last = status
        if status not in WAITING and status != NOT_FOUND:
            return status, description
        remaining = deadline - clock.now()
        if remaining <= 0:
            return _gave_up(status)
        clock.sleep(min(remaining, backoff(attempt, clock.random)))
        attempt += 1


def _gave_up(status: str) -> tuple[str, str]:
    if status == NOT_FOUND:
        return NOT_FOUND, (
            "no scan of this image appeared before --timeout: is scan on push (basic) or "
            "enhanced scanning turned on for this repository?"
        )
    return TIMED_OUT, f"the scan was still {status} at --timeout"


def all_findings(client: Any, image: dict[str, Any]) -> dict[str, list[Any]]:
    """Every basic and enhanced finding, across all pages (the model's paginator, 1000 a page)."""
    merged: dict[str, list[Any]] = {"findings": [], "enhancedFindings": []}
    pages = client.get_paginator("describe_image_scan_findings").paginate(
        **image, PaginationConfig={"PageSize": PAGE_SIZE}
    )
    for page in pages:
        found = page.get("imageScanFindings") or {}
        for key, values in merged.items():
            values.extend(found.get(key) or [])
    return merged


def scan_platforms(
    client: Any,
    repository: str,
    digest: str,
    registry_id: str | None,
    timeout: float,
    clock: Clock,
    log: Callable[[str], None],
) -> list[PlatformScan]:
    """Wait for (with one deadline for all) and read the scan of every platform of the image."""
    deadline = clock.now() + timeout
    scans = []
    for platform, child in image_platforms(client, repository, digest, registry_id):
        image = {
            "repositoryName": repository,
            "imageId": {"imageDigest": child},
            **_registry(registry_id),
        }
        label = f"{platform or 'image'} {child[:19]}"
        status, description = wait_for_status(client, image, label, deadline, clock, log)
        found = findings_of(all_findings(client, image), platform) if status in DONE else []
        scans.append(PlatformScan(platform, child, status, description, tuple(found)))
    return scans
