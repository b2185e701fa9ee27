"""Protecting what runs: the deploy's marker tags (moto), and the live preview's archive and ECS
checks (moto's ECS)."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

from cli.lifecycle import cli
from cli.lifecycle.mark import mark_stack
from rules import lifecycle
from rules.lifecycle.evaluate import preview_lifecycle_policy

INDEX = "application/vnd.oci.image.index.v1+json"


def manifest(n: int) -> str:
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": INDEX,
            "manifests": [
                {
                    "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "digest": f"sha256:{n:064x}",
                    "size": n,
                    "platform": {"architecture": "amd64", "os": "linux"},
                }
            ],
        }
    )


def digest(n: int) -> str:
    return "sha256:" + hashlib.sha256(manifest(n).encode()).hexdigest()


@pytest.fixture
def ecr() -> Any:
    with mock_aws():
        client = boto3.client("ecr", region_name="us-east-1")
        client.create_repository(repositoryName="prod/api")
        for n in range(1, 4):
            client.put_image(
                repositoryName="prod/api",
                imageManifest=manifest(n),
                imageManifestMediaType=INDEX,
                imageTag=f"prod-{n:016x}",
                imageDigest=digest(n),
            )
        yield client


def tags(client: Any) -> dict[str, list[str]]:
    found = client.describe_images(repositoryName="prod/api")["imageDetails"]
    return {i["imageDigest"]: sorted(i.get("imageTags", [])) for i in found}


def test_markers_follow_the_deploys_current_and_previous(ecr: Any) -> None:
    repos = {"api": "prod/api"}
    assert mark_stack(ecr, repos, {"api": digest(1)}, "prod-") == [
        f"prod/api: {digest(1)} is now prod-running-current"
    ]
    assert mark_stack(ecr, repos, {"api": digest(2)}, "prod-") == [
        f"prod/api: {digest(1)} is now prod-running-previous",
        f"prod/api: {digest(2)} is now prod-running-current",
    ]
    mark_stack(ecr, repos, {"api": digest(3)}, "prod-")
    assert tags(ecr) == {
        digest(1): ["prod-0000000000000001"],
        digest(2): ["prod-0000000000000002", "prod-running-previous"],
        digest(3): ["prod-0000000000000003", "prod-running-current"],
    }
    # A deploy that changes nothing keeps the previous revision marked.
    assert mark_stack(ecr, repos, {"api": digest(3)}, "prod-") == [
        f"prod/api: {digest(3)} is already prod-running-current"
    ]
    assert "prod-running-previous" in tags(ecr)[digest(2)]
    # The marker's manifest is the image's own: the same digest, still an index.
    got = ecr.batch_get_image(
        repositoryName="prod/api",
        imageIds=[{"imageTag": "prod-running-current"}],
        acceptedMediaTypes=[INDEX],
    )["images"][0]
    assert got["imageId"]["imageDigest"] == digest(3)
    assert got["imageManifest"] == manifest(3)


def test_a_service_without_a_repository_is_refused(ecr: Any) -> None:
    with pytest.raises(ValueError, match="no repository for service"):
        mark_stack(ecr, {"api": "prod/api"}, {"web": digest(1)}, "prod-")


def test_the_mark_command_reads_the_digests_ci_handed_to_pulumi_up(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with mock_aws():
        client = boto3.client("ecr", region_name="us-east-1")
        client.create_repository(repositoryName="dev/api")
        client.put_image(
            repositoryName="dev/api",
            imageManifest=manifest(7),
            imageManifestMediaType=INDEX,
            imageTag="dev-0000000000000007",
            imageDigest=digest(7),
        )
        monkeypatch.setenv("ECR_FARGATE_IMAGE_DIGESTS", json.dumps({"api": digest(7)}))
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            code = cli.main(["mark", "--stack", "dev"], client=client)
        assert code == 0
        assert out.getvalue() == f"dev/api: {digest(7)} is now dev-running-current\n"
        monkeypatch.setenv("ECR_FARGATE_IMAGE_DIGESTS", "[1]")
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            assert cli.main(["mark", "--stack", "dev"], client=client) == 2
        assert err.getvalue() == (
            "error: ECR_FARGATE_IMAGE_DIGESTS is not a JSON object of service digests\n"
        )


NOW = datetime(2026, 12, 1, tzinfo=UTC)


def test_no_policy_the_stack_renders_acts_on_a_marked_image() -> None:
    """A year-old, never-pulled, marked image past every count: kept by rule 1 alone."""
    for preset in sorted(lifecycle.PRESETS):
        policy, _ = lifecycle.protect_deploy_prefix(lifecycle.preset_policy(preset), "prod-", 10)
        marked = {
            "imageDigest": digest(0),
            "imageTags": ["prod-0000000000000000", "v1.0.0", "prod-running-previous"],
            "imagePushedAt": NOW - timedelta(days=400),
        }
        newer = [
            {
                "imageDigest": digest(n),
                "imageTags": [f"prod-{n:016x}", f"v1.{n}.0"],
                "imagePushedAt": NOW - timedelta(days=300 - n),
            }
            for n in range(1, 30)
        ]
        acted = {
            r["imageDigest"] for r in preview_lifecycle_policy(policy, [marked, *newer], now=NOW)
        }
        assert digest(0) not in acted, preset
        assert acted  # the same policy does act on unmarked images: the check can fail
        unmarked = {**marked, "imageTags": ["prod-0000000000000000", "v1.0.0"]}
        again = preview_lifecycle_policy(policy, [unmarked, *newer], now=NOW)
        assert digest(0) in {r["imageDigest"] for r in again}, preset


ARCHIVE_OLD = {
    "rules": [
        {
            "rulePriority": 1,
            "selection": {
                "tagStatus": "any",
                "countType": "imageCountMoreThan",
                "countNumber": 2,
            },
            "action": {"type": "transition", "targetStorageClass": "archive"},
        }
    ]
}


def preview(client: Any, tmp_path: Any, *extra: str, ecs: Any = None) -> tuple[int, str, str]:
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps(ARCHIVE_OLD))
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(
            ["preview", "--repository", "prod/api", "--policy", str(policy), *extra],
            stdin=io.StringIO(""),
            client=client,
            ecs_client=ecs,
        )
    return code, out.getvalue(), err.getvalue()


def test_a_deployed_image_that_would_be_archived_fails(ecr: Any, tmp_path: Any) -> None:
    code, out, err = preview(ecr, tmp_path, "--deployed", digest(1))
    assert code == 1
    assert err == (
        f"error: the deployed image {digest(1)} would be archived (an archived image cannot be "
        "pulled)\n"
    )
    assert "TRANSITION  DEPLOYED" in out
    assert preview(ecr, tmp_path, "--deployed", digest(3))[0] == 0


def register(ecs: Any, family: str, image: str) -> str:
    return ecs.register_task_definition(
        family=family,
        containerDefinitions=[{"name": "app", "image": image, "memory": 512}],
    )["taskDefinition"]["taskDefinitionArn"]


def test_from_ecs_reads_what_every_service_runs(ecr: Any, tmp_path: Any) -> None:
    ecs = boto3.client("ecs", region_name="us-east-1")
    ecs.create_cluster(clusterName="prod")
    host = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
    api = register(ecs, "prod-api", f"{host}/prod/api@{digest(1)}")
    other = register(ecs, "prod-worker", f"{host}/prod/worker@{digest(2)}")
    ecs.create_service(cluster="prod", serviceName="api", taskDefinition=api, desiredCount=1)
    ecs.create_service(cluster="prod", serviceName="worker", taskDefinition=other, desiredCount=1)
    code, _, err = preview(ecr, tmp_path, "--from-ecs", "prod", ecs=ecs)
    assert code == 1
    assert err.splitlines() == [
        f"ECS prod: api (prod-api:1, app) runs {digest(1)}",
        f"error: the deployed image {digest(1)} would be archived (an archived image cannot be "
        "pulled)",
    ]
    ecs.update_service(
        cluster="prod",
        service="api",
        taskDefinition=register(ecs, "prod-api", f"{host}/prod/api:latest"),
    )
    code, _, err = preview(ecr, tmp_path, "--from-ecs", "prod", ecs=ecs)
    # moto, as ECS mid-rollout, still lists the old deployment: its digest still counts.
    assert code == 1
    assert err.splitlines()[:2] == [
        f"ECS prod: api (prod-api:1, app) runs {digest(1)}",
        f"ECS prod: api (prod-api:2, app) runs {host}/prod/api:latest, which names no digest",
    ]
