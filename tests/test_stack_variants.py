"""Config switches rendered under mocks: access policies, enhanced scanning, partitions, given keys."""

from __future__ import annotations

import json

from plan.engine import ACCOUNT_ID
from tests.conftest import GIT_ENV, render_stack

CI_ROLE = "arn:aws:iam::210987654321:role/ci-push"


def test_cross_account_pull_and_ci_only_push() -> None:
    r = render_stack(
        "prod",
        env=GIT_ENV,
        overrides={
            "registry": {
                "tagMutability": "IMMUTABLE",
                "crossAccountPullAccountIds": ["111111111111"],
                "pushRoleArns": [CI_ROLE],
            }
        },
    )
    policies = r.of_type("aws:ecr/repositoryPolicy:RepositoryPolicy")
    assert len(policies) == len(r.outputs["ecrRepositoryNames"])
    doc = json.loads(policies[0].inputs["policy"])
    by_sid = {s["Sid"]: s for s in doc["Statement"]}
    pull = by_sid["CrossAccountPull"]
    assert pull["Principal"] == {"AWS": ["arn:aws:iam::111111111111:root"]}
    assert sorted(pull["Action"]) == [
        "ecr:BatchCheckLayerAvailability",
        "ecr:BatchGetImage",
        "ecr:GetDownloadUrlForLayer",
    ]
    push = by_sid["CiPush"]
    # The stack's own CI deploy role (from the bootstrap) always pushes too.
    deploy_role = f"arn:aws:iam::{ACCOUNT_ID}:role/ecr-fargate-ci/prod/ecr-fargate-prod-deploy"
    assert push["Principal"] == {"AWS": sorted([CI_ROLE, deploy_role])}
    assert "ecr:PutImage" in push["Action"]
    assert not any(a.endswith("*") for s in doc["Statement"] for a in s["Action"])
    deny = by_sid["OnlyCiPushes"]
    assert deny["Effect"] == "Deny"
    assert deny["Condition"] == {
        "StringNotEquals": {"aws:PrincipalArn": sorted([CI_ROLE, deploy_role])}
    }
    assert "ecr:BatchGetImage" not in deny["Action"]


def test_enhanced_scanning_switch() -> None:
    r = render_stack("prod", env=GIT_ENV, overrides={"enhancedScanning": True})
    scanning = r.one("aws:ecr/registryScanningConfiguration:RegistryScanningConfiguration")
    assert scanning.inputs["scanType"] == "ENHANCED"
    assert scanning.inputs["rules"][0]["scanFrequency"] == "CONTINUOUS_SCAN"


def test_given_kms_key_is_used_and_none_created() -> None:
    key = f"arn:aws:kms:us-east-1:{ACCOUNT_ID}:key/0f0e0d0c-0b0a-0908-0706-050403020100"
    r = render_stack("prod", env=GIT_ENV, overrides={"registry": {"kmsKeyArn": key}})
    assert r.of_type("aws:kms/key:Key") == []
    for repo in r.of_type("aws:ecr/repository:Repository"):
        assert repo.inputs["encryptionConfigurations"] == [{"encryptionType": "KMS", "kmsKey": key}]
        # IMMUTABLE leaves only CI's build cache tag and the deploy's running markers mutable
        # (settings.registry).
        assert repo.inputs["imageTagMutability"] == "IMMUTABLE_WITH_EXCLUSION"
        assert repo.inputs["imageTagMutabilityExclusionFilters"] == [
            {"filter": "buildcache", "filterType": "WILDCARD"},
            {"filter": "prod-running-*", "filterType": "WILDCARD"},
        ]


def test_china_region_uses_the_cn_dns_suffix() -> None:
    r = render_stack(
        "dev", env=GIT_ENV, overrides={"aws:region": "cn-north-1", "accountOwner": "dev"}
    )
    host = f"{ACCOUNT_ID}.dkr.ecr.cn-north-1.amazonaws.com.cn"
    assert r.outputs["ecrRegistryUrl"] == host
    assert r.outputs["ecrLoginCommand"].endswith(f"--password-stdin {host}")
    assert "--region cn-north-1" in r.outputs["ecrLoginCommand"]


def test_preview_render_does_not_need_the_image_digest() -> None:
    r = render_stack("dev", env=GIT_ENV, preview=True)
    assert r.of_type("aws:ecs/taskDefinition:TaskDefinition")


def test_secret_references_and_ecs_exec_get_exactly_their_permissions() -> None:
    secret = "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-password-AbCdEf"
    parameter = "arn:aws:ssm:us-east-1:123456789012:parameter/app/api-token"
    r = render_stack(
        "dev",
        env=GIT_ENV,
        overrides={
            "fargate": {
                "service": "api",
                "assignPublicIp": True,
                "environment": {"LOG_LEVEL": "debug", "DB_PASSWORD": {"secretArn": secret}},
                "secrets": {"API_TOKEN": parameter},
                "enableExecuteCommand": True,
            }
        },
    )
    (container,) = json.loads(r.named("api-task-definition").inputs["containerDefinitions"])
    assert container["environment"] == [
        {"name": "LOG_LEVEL", "value": "debug"},
        {"name": "PORT", "value": "8080"},
        {"name": "SERVICE_NAME", "value": "api"},
    ]
    assert container["secrets"] == [
        {"name": "API_TOKEN", "valueFrom": parameter},
        {"name": "DB_PASSWORD", "valueFrom": secret},
    ]
    doc = json.loads(r.named("api-execution-policy").inputs["policy"])
    grants = {}
    for st in doc["Statement"]:
        actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
        for a in actions:
            grants[a] = st["Resource"]
    assert grants["secretsmanager:GetSecretValue"] in (secret, [secret])
    assert grants["ssm:GetParameters"] in (parameter, [parameter])
    exec_doc = json.loads(r.named("api-exec-policy").inputs["policy"])
    (statement,) = exec_doc["Statement"]
    assert sorted(statement["Action"]) == [
        "ssmmessages:CreateControlChannel",
        "ssmmessages:CreateDataChannel",
        "ssmmessages:OpenControlChannel",
        "ssmmessages:OpenDataChannel",
    ]
    assert r.named("api-service").inputs["enableExecuteCommand"] is True
