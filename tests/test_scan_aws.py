"""`python -m cli.scan` against ECR: botocore's Stubber for exact call sequences, moto for
the API as a whole. No test waits: the clock is injected and only moves when the code sleeps."""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.stub import Stubber
from moto import mock_aws
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ecr.models import ecr_backends

from cli.scan import cli
from tests.scan_support import (
    AMD64,
    ARM64,
    INDEX,
    REPO,
    TODAY,
    FakeTime,
    basic,
    enhanced,
    index,
    manifest,
)

MEDIA_TYPES = [
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
]


@pytest.fixture
def stub() -> Iterator[tuple[Any, Stubber]]:
    client = botocore.session.get_session().create_client(
        "ecr", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def image_id(digest: str) -> dict[str, Any]:
    return {"repositoryName": REPO, "imageId": {"imageDigest": digest}}


def expect_image(stubber: Stubber, digest: str, body: str, media_type: str) -> None:
    stubber.add_response(
        "batch_get_image",
        {
            "images": [
                {
                    "repositoryName": REPO,
                    "imageId": {"imageDigest": digest},
                    "imageManifest": body,
                    "imageManifestMediaType": media_type,
                }
            ],
            "failures": [],
        },
        {
            "repositoryName": REPO,
            "imageIds": [{"imageDigest": digest}],
            "acceptedMediaTypes": MEDIA_TYPES,
        },
    )


def expect_single_image(stubber: Stubber, digest: str = AMD64) -> None:
    expect_image(stubber, digest, manifest(), "application/vnd.oci.image.manifest.v1+json")


def expect_poll(stubber: Stubber, digest: str, status: str, description: str = "") -> None:
    stubber.add_response(
        "describe_image_scan_findings",
        {"imageScanStatus": {"status": status, "description": description}},
        {**image_id(digest), "maxResults": 1},
    )


def expect_pages(stubber: Stubber, digest: str, *pages: dict[str, list[dict]]) -> None:
    """The paginator's calls: 1000 a page, each page's nextToken sent back on the next call."""
    for n, page in enumerate(pages):
        response: dict[str, Any] = {
            "imageScanStatus": {"status": "COMPLETE"},
            "imageScanFindings": page,
        }
        params: dict[str, Any] = {**image_id(digest), "maxResults": 1000}
        if n + 1 < len(pages):
            response["nextToken"] = f"token-{n + 1}"
        if n:
            params["nextToken"] = f"token-{n}"
        stubber.add_response("describe_image_scan_findings", response, params)


def run(
    client: Any,
    capsys: Any,
    *args: str,
    clock: FakeTime | None = None,
    today: datetime.date = TODAY,
) -> tuple[int, str, str]:
    code = cli.main(
        ["--repository", REPO, *args],
        client=client,
        clock=(clock or FakeTime()).clock(),
        today=today,
    )
    out, err = capsys.readouterr()
    return code, out, err


def test_findings_are_read_across_every_page(stub: Any, capsys: Any) -> None:
    client, stubber = stub
    expect_single_image(stubber)
    expect_poll(stubber, AMD64, "COMPLETE")
    pages = [
        {"findings": [basic(f"CVE-2024-{1000 * p + n:04d}", "LOW") for n in range(3)]}
        for p in range(1, 4)
    ]
    pages[2]["findings"].append(basic("CVE-2024-9999", "CRITICAL"))
    expect_pages(stubber, AMD64, *pages)
    code, out, _ = run(client, capsys, "--digest", AMD64, "--json")
    data = json.loads(out)
    assert data["counts"]["LOW"] == 9 and data["counts"]["CRITICAL"] == 1
    assert [f["id"] for f in data["blocking"]] == ["CVE-2024-9999"]
    assert code == 1


def test_a_scan_that_never_completes_times_out_with_backoff(stub: Any, capsys: Any) -> None:
    client, stubber = stub
    expect_single_image(stubber)
    for _ in range(6):
        expect_poll(stubber, AMD64, "IN_PROGRESS")
    time = FakeTime()
    code, out, err = run(client, capsys, "--digest", AMD64, "--timeout", "60", "--json", clock=time)
    # Delays double from the waiter's 5 s (three quarters of each with the jitter fixed at 0.5),
    # and the last one is cut to the deadline: never a sleep past --timeout.
    assert time.sleeps == [3.75, 7.5, 15.0, 30.0, 3.75]
    assert sum(time.sleeps) == 60
    data = json.loads(out)
    assert (code, data["decision"], data["platforms"][0]["status"]) == (
        3,
        "scan-failed",
        "TIMED_OUT",
    )
    assert "IN_PROGRESS at --timeout" in data["platforms"][0]["description"]
    assert "IN_PROGRESS" in err


def test_a_failed_scan_exits_three_in_prod_and_is_only_reported_in_dev(
    stub: Any, capsys: Any
) -> None:
    client, stubber = stub
    for _ in range(2):
        expect_single_image(stubber)
        expect_poll(stubber, AMD64, "FAILED", "UnsupportedImageError: scratch")
    code, out, _ = run(client, capsys, "--digest", AMD64)
    assert code == 3
    assert "scan (image): FAILED: UnsupportedImageError: scratch" in out
    assert out.splitlines()[-1].startswith("decision: scan-failed (prod)")
    code, out, _ = run(client, capsys, "--digest", AMD64, "--environment", "dev")
    assert code == 0
    assert out.splitlines()[-1].startswith("decision: report (dev)")


def test_scan_not_found_right_after_push_is_retried(stub: Any, capsys: Any) -> None:
    client, stubber = stub
    expect_single_image(stubber)
    for _ in range(2):
        stubber.add_client_error(
            "describe_image_scan_findings",
            service_error_code="ScanNotFoundException",
            service_message="Image scan does not exist",
            expected_params={**image_id(AMD64), "maxResults": 1},
        )
    expect_poll(stubber, AMD64, "IN_PROGRESS")
    expect_poll(stubber, AMD64, "COMPLETE")
    expect_pages(stubber, AMD64, {"findings": [basic("CVE-2024-0001", "MEDIUM")]})
    time = FakeTime()
    code, out, _ = run(client, capsys, "--digest", AMD64, clock=time)
    assert (code, len(time.sleeps)) == (0, 3)
    assert out.splitlines()[-1].startswith("decision: pass (prod)")


def test_scan_that_never_appears_is_not_found(stub: Any, capsys: Any) -> None:
    client, stubber = stub
    expect_single_image(stubber)
    for _ in range(3):
        stubber.add_client_error("describe_image_scan_findings", "ScanNotFoundException")
    code, out, _ = run(client, capsys, "--digest", AMD64, "--timeout", "10", "--json")
    scan = json.loads(out)["platforms"][0]
    assert (code, scan["status"]) == (3, "SCAN_NOT_FOUND")
    assert "scan on push" in scan["description"]


def test_an_index_is_checked_per_platform_and_attestations_skipped(
    stub: Any, capsys: Any, tmp_path: Path
) -> None:
    client, stubber = stub
    body = index(
        (AMD64, {"os": "linux", "architecture": "amd64"}),
        (ARM64, {"os": "linux", "architecture": "arm64", "variant": "v8"}),
    )
    expect_image(stubber, INDEX, body, "application/vnd.oci.image.index.v1+json")
    expect_poll(stubber, AMD64, "COMPLETE")
    expect_pages(stubber, AMD64, {"findings": [basic("CVE-2024-0001", "LOW")]})
    expect_poll(stubber, ARM64, "COMPLETE")
    expect_pages(stubber, ARM64, {"findings": [basic("CVE-2024-0002", "HIGH")]})
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    code, out, _ = run(client, capsys, "--digest", INDEX, "--json", "--markdown", str(summary))
    data = json.loads(out)
    assert [(p["platform"], p["digest"], p["counts"]["HIGH"]) for p in data["platforms"]] == [
        ("linux/amd64", AMD64, 0),
        ("linux/arm64/v8", ARM64, 1),
    ]
    assert [(f["id"], f["platform"]) for f in data["blocking"]] == [
        ("CVE-2024-0002", "linux/arm64/v8")
    ]
    assert code == 1
    text = summary.read_text()
    assert text.startswith("earlier step\n\n### Image scan: `prod/api@sha256:aaaa")
    assert "| linux/arm64/v8 | `sha256:cccccccccccc` | COMPLETE | 0 | 1 |" in text


def test_enhanced_findings_without_a_fix_do_not_block_prod(stub: Any, capsys: Any) -> None:
    client, stubber = stub
    expect_single_image(stubber)
    expect_poll(stubber, AMD64, "ACTIVE")
    expect_pages(
        stubber,
        AMD64,
        {
            "enhancedFindings": [
                enhanced("CVE-2024-0001", "CRITICAL", "NO"),
                enhanced("CVE-2024-0002", "HIGH", "NO"),
                enhanced("CVE-2024-0003", "MEDIUM", "YES"),
            ]
        },
    )
    code, out, _ = run(client, capsys, "--digest", AMD64, "--json")
    data = json.loads(out)
    assert (code, data["decision"], data["blocking"]) == (0, "pass", [])
    assert data["counts"]["CRITICAL"] == 1


def test_bad_threshold_is_one_line_before_any_aws_call(stub: Any, capsys: Any) -> None:
    client, _ = stub  # no response queued: any call would fail the test
    code, out, err = run(client, capsys, "--digest", AMD64, "--threshold", "SEVERE")
    assert (code, out) == (2, "")
    assert err.splitlines() == [
        'error: --threshold "SEVERE" is not a severity; allowed: INFORMATIONAL, LOW, MEDIUM, '
        "HIGH, CRITICAL"
    ]


def test_every_bad_argument_and_allowlist_line_is_reported_at_once(
    stub: Any, capsys: Any, tmp_path: Path
) -> None:
    client, _ = stub
    allow = tmp_path / "allow.yaml"
    allow.write_text(
        "allow:\n  - id: CVE-24-1\n    expires: 2026-01-01\n    reason: x\n  - id: CVE-2024-0001\n"
        "    reason: no expiry\n"
    )
    code, _, err = run(
        client, capsys, "--digest", "sha256:xyz", "--timeout", "0", "--allowlist", str(allow)
    )
    assert code == 2
    assert err.splitlines() == [
        'error: --digest "sha256:xyz" is not allowed; allowed: sha256:<64 hex>',
        'error: --timeout "0" is not allowed; allowed: seconds > 0',
        f'error: {allow}:2: allow[0].id: "CVE-24-1" is not a vulnerability id; allowed: '
        "CVE-YYYY-NNNN (four or more digits) or GHSA-xxxx-xxxx-xxxx",
        f"error: {allow}:5: allow[1].expires: missing; every entry needs id, expires, reason",
    ]


def test_default_allowlist_is_read_from_the_working_directory(
    stub: Any, capsys: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, _ = stub
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".github").mkdir()
    (tmp_path / ".github" / "scan-allowlist.yaml").write_text("allow: {}\n")
    code, _, err = run(client, capsys, "--digest", AMD64)
    assert code == 2
    assert err == "error: .github/scan-allowlist.yaml:1: allow: must be a list of entries\n"


# --- moto -------------------------------------------------------------------------------------


@pytest.fixture
def ecr() -> Iterator[tuple[Any, str]]:
    """A repository holding one pushed image, as moto stores it."""
    with mock_aws():
        client = boto3.client("ecr", region_name="us-east-1")
        client.create_repository(
            repositoryName=REPO, imageScanningConfiguration={"scanOnPush": True}
        )
        body = manifest()
        digest = "sha256:" + hashlib.sha256(body.encode()).hexdigest()
        client.put_image(repositoryName=REPO, imageManifest=body, imageDigest=digest)
        yield client, digest


def test_moto_scan_not_started_times_out_as_not_found(ecr: Any, capsys: Any) -> None:
    client, digest = ecr  # moto does not scan on push: no scan exists until start_image_scan
    code, out, _ = run(client, capsys, "--digest", digest, "--timeout", "30", "--json")
    assert (code, json.loads(out)["platforms"][0]["status"]) == (3, "SCAN_NOT_FOUND")


def test_moto_basic_finding_blocks_until_allowlisted_then_again_after_expiry(
    ecr: Any, capsys: Any, tmp_path: Path
) -> None:
    client, digest = ecr
    client.start_image_scan(repositoryName=REPO, imageId={"imageDigest": digest})
    # moto's canned basic result: CVE-9999-9999, HIGH, no fix flag (basic never has one).
    code, out, _ = run(client, capsys, "--digest", digest, "--json")
    assert (code, [f["id"] for f in json.loads(out)["blocking"]]) == (1, ["CVE-9999-9999"])
    allow = tmp_path / "allow.yaml"
    allow.write_text(
        "allow:\n  - id: CVE-9999-9999\n    expires: 2026-06-30\n    reason: moto's fake package\n"
    )
    args = ("--digest", digest, "--allowlist", str(allow), "--json")
    code, out, _ = run(client, capsys, *args, today=datetime.date(2026, 6, 30))
    data = json.loads(out)
    assert (code, data["blocking"], data["expiredAllowlist"]) == (0, [], [])
    assert data["allowlisted"][0]["allowlist"]["reason"] == "moto's fake package"
    code, out, _ = run(client, capsys, *args, today=datetime.date(2026, 7, 1))
    data = json.loads(out)
    assert (code, len(data["blocking"]), data["allowlisted"]) == (1, 1, [])
    assert data["expiredAllowlist"][0]["expires"] == "2026-06-30"


def test_moto_enhanced_result_with_untriaged_finding(ecr: Any, capsys: Any) -> None:
    client, digest = ecr
    client.start_image_scan(repositoryName=REPO, imageId={"imageDigest": digest})
    result = {
        "registryId": DEFAULT_ACCOUNT_ID,
        "repositoryName": REPO,
        "imageId": {"imageDigest": digest},
        "imageScanStatus": {"status": "ACTIVE", "description": "Continuous scan is selected"},
        "imageScanFindings": {
            "enhancedFindings": [enhanced("CVE-2024-0007", "UNTRIAGED", "YES")],
            "findingSeverityCounts": {"UNTRIAGED": 1},
        },
    }
    ecr_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].scan_finding_results.append(result)
    code, out, _ = run(client, capsys, "--digest", digest, "--json")
    data = json.loads(out)
    assert (code, data["counts"]["UNTRIAGED"], data["blocking"][0]["id"]) == (1, 1, "CVE-2024-0007")
    code, out, _ = run(client, capsys, "--digest", digest, "--threshold", "CRITICAL")
    assert code == 0


def test_registry_id_is_sent_with_every_call(stub: Any, capsys: Any) -> None:
    client, stubber = stub
    account = {"registryId": "123456789012"}
    stubber.add_response(
        "batch_get_image",
        {"images": [{"imageManifest": manifest(), "imageId": {"imageDigest": AMD64}}]},
        {
            **account,
            "repositoryName": REPO,
            "imageIds": [{"imageDigest": AMD64}],
            "acceptedMediaTypes": MEDIA_TYPES,
        },
    )
    done = {"imageScanStatus": {"status": "COMPLETE"}}
    stubber.add_response(
        "describe_image_scan_findings", done, {**account, **image_id(AMD64), "maxResults": 1}
    )
    stubber.add_response(
        "describe_image_scan_findings", done, {**account, **image_id(AMD64), "maxResults": 1000}
    )
    code, _, _ = run(client, capsys, "--digest", AMD64, "--registry-id", "123456789012")
    assert code == 0


def test_a_missing_image_exits_three(stub: Any, capsys: Any) -> None:
    client, stubber = stub
    stubber.add_response(
        "batch_get_image",
        {"images": [], "failures": [{"failureCode": "ImageNotFound", "failureReason": "gone"}]},
        {
            "repositoryName": REPO,
            "imageIds": [{"imageDigest": AMD64}],
            "acceptedMediaTypes": MEDIA_TYPES,
        },
    )
    code, out, err = run(client, capsys, "--digest", AMD64)
    assert (code, out) == (3, "")
    assert err == f"error: image {REPO}@{AMD64}: gone\n"


def test_an_index_with_a_malformed_child_digest_is_refused(stub: Any, capsys: Any) -> None:
    client, stubber = stub
    body = index(("sha256:not-hex`", {"os": "linux", "architecture": "amd64"}))
    expect_image(stubber, INDEX, body, "application/vnd.oci.image.index.v1+json")
    code, _, err = run(client, capsys, "--digest", INDEX)
    assert code == 3
    assert "lists a malformed digest 'sha256:not-hex`'" in err
