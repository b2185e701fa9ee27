"""Both stacks under Pulumi mocks: the ECR half (repositories, scanning, encryption, policies)."""

from __future__ import annotations

import json

from plan.engine import ACCOUNT_ID, Rendered
from rules import lifecycle

REPO = "aws:ecr/repository:Repository"


def repos(r: Rendered) -> dict[str, dict]:
    return {res.inputs["name"]: res.inputs for res in r.of_type(REPO)}


def test_one_repository_per_service_in_both_stacks(dev: Rendered, prod: Rendered) -> None:
    assert sorted(repos(dev)) == ["dev/api", "dev/worker"]
    assert sorted(repos(prod)) == ["prod/api", "prod/report", "prod/worker"]


def test_every_repository_scans_on_push_and_carries_tags(stack: Rendered) -> None:
    for res in stack.of_type(REPO):
        assert res.inputs["imageScanningConfiguration"] == {"scanOnPush": True}
        tags = res.inputs["tags"]
        assert tags["project"] == "ecr-fargate"
        assert tags["stack"] == stack.stack
        assert tags["service"] in ("api", "worker", "report")


def test_registry_scanning_is_basic_scan_on_push_by_default(prod: Rendered) -> None:
    scanning = prod.one("aws:ecr/registryScanningConfiguration:RegistryScanningConfiguration")
    assert scanning.inputs["scanType"] == "BASIC"
    (rule,) = scanning.inputs["rules"]
    assert rule["scanFrequency"] == "SCAN_ON_PUSH"
    assert rule["repositoryFilters"] == [{"filter": "*", "filterType": "WILDCARD"}]


def test_dev_is_mutable_aes256_force_delete_unprotected(dev: Rendered) -> None:
    for res in dev.of_type(REPO):
        assert res.inputs["imageTagMutability"] == "MUTABLE"
        assert res.inputs["encryptionConfigurations"] == [{"encryptionType": "AES256"}]
        assert res.inputs["forceDelete"] is True
        assert res.protect is False
    assert dev.of_type("aws:kms/key:Key") == []


def test_prod_is_immutable_with_latest_excluded_kms_protected(prod: Rendered) -> None:
    (key,) = prod.of_type("aws:kms/key:Key")
    assert key.inputs["enableKeyRotation"] is True
    assert key.protect is True
    for res in prod.of_type(REPO):
        assert res.inputs["imageTagMutability"] == "IMMUTABLE_WITH_EXCLUSION"
        assert res.inputs["imageTagMutabilityExclusionFilters"] == [
            {"filter": "latest", "filterType": "WILDCARD"},
            {"filter": "buildcache", "filterType": "WILDCARD"},  # CI's build cache (names.py)
            {"filter": "prod-running-*", "filterType": "WILDCARD"},  # the deploy's markers
        ]
        assert res.inputs["encryptionConfigurations"] == [
            {"encryptionType": "KMS", "kmsKey": key.state["arn"]}
        ]
        assert res.inputs.get("forceDelete") in (False, None)
        assert res.protect is True


def test_lifecycle_policies_are_valid_sorted_and_protect_the_deploy_prefix(stack: Rendered) -> None:
    policies = stack.of_type("aws:ecr/lifecyclePolicy:LifecyclePolicy")
    assert len(policies) == len(stack.outputs["ecrRepositoryNames"])
    prefix = f"{stack.stack}-"
    for res in policies:
        text = res.inputs["policy"]
        policy = json.loads(text)
        assert lifecycle.validate_lifecycle_policy(text) == policy
        priorities = [r["rulePriority"] for r in policy["rules"]]
        assert priorities == sorted(priorities)
        assert policy["rules"][0]["selection"] == {
            "tagStatus": "tagged",
            "tagPrefixList": [f"{prefix}running-"],
            "countType": "imageCountMoreThan",
            "countNumber": 100,
        }
        first = policy["rules"][1]
        assert first["selection"]["tagStatus"] == "tagged"
        assert first["selection"]["tagPrefixList"] == [prefix]
        assert first["selection"]["countType"] == "imageCountMoreThan"
        assert first["selection"]["countNumber"] == 10
        assert (
            lifecycle.deployed_image_expiring_rule(policy, f"{prefix}abc1234-0123456789ab") is None
        )


def test_no_repository_policy_without_cross_account_or_ci_roles(stack: Rendered) -> None:
    assert stack.of_type("aws:ecr/repositoryPolicy:RepositoryPolicy") == []


def test_outputs_registry_url_login_and_maps_by_service(stack: Rendered) -> None:
    host = f"{ACCOUNT_ID}.dkr.ecr.us-east-1.amazonaws.com"
    out = stack.outputs
    assert out["ecrRegistryUrl"] == host
    assert out["ecrLoginCommand"] == (
        f"aws ecr get-login-password --region us-east-1 | docker login --username AWS "
        f"--password-stdin {host}"
    )
    s = stack.stack
    services = ["api", "worker"] + (["report"] if s == "prod" else [])
    assert out["ecrRepositoryUrls"] == {k: f"{host}/{s}/{k}" for k in services}
    assert out["ecrRepositoryNames"] == {k: f"{s}/{k}" for k in services}
    assert (
        out["ecrRepositoryArns"]["api"] == f"arn:aws:ecr:us-east-1:{ACCOUNT_ID}:repository/{s}/api"
    )


def test_rendering_twice_is_byte_identical() -> None:
    from tests.conftest import GIT_ENV, render_stack

    def snapshot(stack: str) -> str:
        r = render_stack(stack, env=GIT_ENV)
        # Registration order is asynchronous; what must not drift is each resource's inputs.
        found = sorted([x.type, x.name, json.dumps(x.inputs, sort_keys=True)] for x in r.resources)
        return json.dumps(found)

    for stack in ("dev", "prod"):
        assert snapshot(stack) == snapshot(stack)
