"""GitHub Actions OIDC: trust policies that always pin audience and subject, and the CI permissions.

A trust policy without a `sub` condition, or with a wildcard that reaches past one repository, lets
any GitHub workflow assume the role; `trust_policy` cannot produce either.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import botocore.session

ISSUER = "token.actions.githubusercontent.com"
AUDIENCE = "sts.amazonaws.com"
REPOSITORY = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}", re.ASCII)
ENVIRONMENT = re.compile(r"[^*?\s,'\"]{1,255}")
VERSION = "2012-10-17"


def validate_repository(repository: str) -> str:
    if not REPOSITORY.fullmatch(repository) or repository.split("/")[1] in (".", ".."):
        raise ValueError(f"{repository!r} is not allowed; expected OWNER/REPO without wildcards")
    return repository


def subject(
    kind: str,
    repository: str,
    *,
    environment: str | None = None,
    ref: str = "refs/heads/main",
    ids: tuple[int, int] | None = None,
) -> str:
    """The `sub` claim GitHub sends for a pull request, a branch, or a job in an environment.

    `ids=(owner_id, repository_id)` gives the ID-based form a repository gets when its OIDC subject
    template includes `repository_owner_id` and `repository_id` (immune to renames).
    """
    validate_repository(repository)
    if kind == "pull_request":
        context = "pull_request"
    elif kind == "branch":
        if not ref.startswith("refs/heads/") or "*" in ref:
            raise ValueError(f"{ref!r} is not allowed; expected refs/heads/NAME")
        context = f"ref:{ref}"
    elif kind == "environment":
        if not environment or not ENVIRONMENT.fullmatch(environment):
            raise ValueError(f"{environment!r} is not a GitHub environment name")
        context = f"environment:{environment}"
    else:
        raise ValueError(f"{kind!r} is not allowed; use pull_request, branch or environment")
    if ids is not None:
        owner_id, repository_id = ids
        return f"repository_owner_id:{owner_id}:repository_id:{repository_id}:{context}"
    return f"repo:{repository}:{context}"


def trust_policy(provider_arn: str, subjects: Sequence[str]) -> dict[str, Any]:
    if not subjects:
        raise ValueError("a GitHub OIDC trust policy needs at least one subject")
    for sub in subjects:
        if "*" in sub or "?" in sub:
            raise ValueError(f"{sub!r} is not allowed; subjects are exact (no wildcards)")
        if not (sub.startswith("repo:") or sub.startswith("repository_owner_id:")):
            raise ValueError(f"{sub!r} is not a GitHub subject")
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": provider_arn},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {
                        f"{ISSUER}:aud": AUDIENCE,
                        f"{ISSUER}:sub": sorted(subjects),
                    }
                },
            }
        ],
    }


# What `pulumi preview` reads: provider lookups, the stack's invokes, and refresh reads.
PREVIEW_ACTIONS = (
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeSubnets",
    "ec2:DescribeVpcs",
    "ecr:DescribePullThroughCacheRules",
    "ecr:DescribeRepositories",
    "ecr:DescribeRepositoryCreationTemplates",
    "ecr:GetAuthorizationToken",
    "ecr:GetLifecyclePolicy",
    "ecr:GetRegistryScanningConfiguration",
    "ecr:GetRepositoryPolicy",
    "ecr:ListTagsForResource",
    "ecs:DescribeClusters",
    "ecs:DescribeServices",
    "ecs:DescribeTaskDefinition",
    "iam:GetOpenIDConnectProvider",
    "iam:GetRole",
    "iam:GetRolePolicy",
    "iam:ListAttachedRolePolicies",
    "iam:ListRolePolicies",
    "kms:DescribeKey",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:ListResourceTags",
    "logs:DescribeLogGroups",
    "logs:ListTagsForResource",
    "secretsmanager:DescribeSecret",
    "secretsmanager:GetResourcePolicy",
)
PUSH_ACTIONS = (
    "ecr:BatchCheckLayerAvailability",
    "ecr:BatchGetImage",
    "ecr:CompleteLayerUpload",
    "ecr:InitiateLayerUpload",
    "ecr:PutImage",
    "ecr:UploadLayerPart",
)
REPOSITORY_ACTIONS = (
    "ecr:CreateRepository",
    "ecr:DeleteLifecyclePolicy",
    "ecr:DeleteRepository",
    "ecr:DeleteRepositoryPolicy",
    "ecr:PutImageScanningConfiguration",
    "ecr:PutImageTagMutability",
    "ecr:PutLifecyclePolicy",
    "ecr:SetRepositoryPolicy",
    "ecr:TagResource",
    "ecr:UntagResource",
)
# Registry-level ECR settings have no resource-level form.
REGISTRY_ACTIONS = (
    "ecr:CreatePullThroughCacheRule",
    "ecr:CreateRepositoryCreationTemplate",
    "ecr:DeletePullThroughCacheRule",
    "ecr:DeleteRepositoryCreationTemplate",
    "ecr:PutRegistryScanningConfiguration",
    "ecr:UpdatePullThroughCacheRule",
    "ecr:UpdateRepositoryCreationTemplate",
)
ROLE_ACTIONS = (
    "iam:CreateRole",
    "iam:DeleteRole",
    "iam:DeleteRolePolicy",
    "iam:PutRolePolicy",
    "iam:TagRole",
    "iam:UntagRole",
    "iam:UpdateAssumeRolePolicy",
    "iam:UpdateRole",
)
ECS_ACTIONS = (
    "ecs:CreateCluster",
    "ecs:CreateService",
    "ecs:DeleteCluster",
    "ecs:DeleteService",
    "ecs:PutClusterCapacityProviders",
    "ecs:TagResource",
    "ecs:UntagResource",
    "ecs:UpdateCluster",
    "ecs:UpdateService",
)
LOG_ACTIONS = (
    "logs:CreateLogGroup",
    "logs:DeleteLogGroup",
    "logs:PutRetentionPolicy",
    "logs:TagResource",
    "logs:UntagResource",
)
SECURITY_GROUP_ACTIONS = (
    "ec2:AuthorizeSecurityGroupEgress",
    "ec2:AuthorizeSecurityGroupIngress",
    "ec2:CreateSecurityGroup",
    "ec2:CreateTags",
    "ec2:DeleteSecurityGroup",
    "ec2:RevokeSecurityGroupEgress",
    "ec2:RevokeSecurityGroupIngress",
)
SECRET_ACTIONS = (
    "secretsmanager:CreateSecret",
    "secretsmanager:DeleteSecret",
    "secretsmanager:PutSecretValue",
    "secretsmanager:TagResource",
    "secretsmanager:UpdateSecret",
)
# Task definitions have no resource-level form for (de)registration.
TASK_DEFINITION_ACTIONS = ("ecs:DeregisterTaskDefinition", "ecs:RegisterTaskDefinition")
KMS_ACTIONS = ("kms:EnableKeyRotation", "kms:ScheduleKeyDeletion", "kms:TagResource")
# Permission-only IAM actions (no API operation of that name).
PERMISSION_ONLY = ("iam:PassRole",)


def preview_policy() -> dict[str, Any]:
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Sid": "ReadForPreview",
                "Effect": "Allow",
                "Action": list(PREVIEW_ACTIONS),
                "Resource": "*",
            }
        ],
    }


def deploy_policy(
    *, partition: str, region: str, account: str, stack: str, project: str = "ecr-fargate"
) -> dict[str, Any]:
    """What `pulumi up` of this program needs, scoped to this stack's resources where IAM allows."""
    arn = f"arn:{partition}"
    repositories = f"{arn}:ecr:{region}:{account}:repository/{stack}/*"
    roles = f"{arn}:iam::{account}:role/{project}/{stack}/*"
    family = f"{project}-{stack}"
    return {
        "Version": VERSION,
        "Statement": [
            {"Sid": "Read", "Effect": "Allow", "Action": list(PREVIEW_ACTIONS), "Resource": "*"},
            {
                "Sid": "PushStackImages",
                "Effect": "Allow",
                "Action": list(PUSH_ACTIONS),
                "Resource": repositories,
            },
            {
                "Sid": "ManageStackRepositories",
                "Effect": "Allow",
                "Action": list(REPOSITORY_ACTIONS),
                "Resource": repositories,
            },
            {
                "Sid": "ManageRegistrySettings",
                "Effect": "Allow",
                "Action": list(REGISTRY_ACTIONS),
                "Resource": "*",
            },
            {
                "Sid": "ManageStackRoles",
                "Effect": "Allow",
                "Action": list(ROLE_ACTIONS),
                "Resource": roles,
            },
            {
                "Sid": "PassStackRoles",
                "Effect": "Allow",
                "Action": list(PERMISSION_ONLY),
                "Resource": roles,
                "Condition": {
                    "StringEquals": {
                        "iam:PassedToService": ["ecr.amazonaws.com", "ecs-tasks.amazonaws.com"]
                    }
                },
            },
            {
                "Sid": "ManageStackEcs",
                "Effect": "Allow",
                "Action": list(ECS_ACTIONS),
                "Resource": [
                    f"{arn}:ecs:{region}:{account}:cluster/{family}",
                    f"{arn}:ecs:{region}:{account}:service/{family}/*",
                    f"{arn}:ecs:{region}:{account}:task-definition/{family}-*:*",
                ],
            },
            {
                "Sid": "RegisterTaskDefinitions",
                "Effect": "Allow",
                "Action": list(TASK_DEFINITION_ACTIONS),
                "Resource": "*",
            },
            {
                "Sid": "ManageStackLogs",
                "Effect": "Allow",
                "Action": list(LOG_ACTIONS),
                "Resource": f"{arn}:logs:{region}:{account}:log-group:/ecs/{family}-*",
            },
            {
                "Sid": "ManageStackSecurityGroups",
                "Effect": "Allow",
                "Action": list(SECURITY_GROUP_ACTIONS),
                "Resource": [
                    f"{arn}:ec2:{region}:{account}:security-group/*",
                    f"{arn}:ec2:{region}:{account}:vpc/*",
                ],
            },
            {
                "Sid": "ManageCacheCredentials",
                "Effect": "Allow",
                "Action": list(SECRET_ACTIONS),
                "Resource": f"{arn}:secretsmanager:{region}:{account}:secret:ecr-pullthroughcache/*",
            },
            {
                "Sid": "CreateStackKey",
                "Effect": "Allow",
                "Action": ["kms:CreateKey"],
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:RequestTag/stack": stack}},
            },
            {
                "Sid": "ManageStackKey",
                "Effect": "Allow",
                "Action": list(KMS_ACTIONS),
                "Resource": f"{arn}:kms:{region}:{account}:key/*",
                "Condition": {"StringEquals": {"aws:ResourceTag/stack": stack}},
            },
        ],
    }


def unknown_actions(document: dict[str, Any]) -> list[str]:
    """Actions no AWS API defines (a typo would silently grant nothing)."""
    session = botocore.session.get_session()
    services = {
        "ec2": "ec2",
        "ecr": "ecr",
        "ecs": "ecs",
        "iam": "iam",
        "kms": "kms",
        "logs": "logs",
        "secretsmanager": "secretsmanager",
        "sts": "sts",
    }
    operations: dict[str, set[str]] = {}
    unknown = []
    for statement in document["Statement"]:
        actions = (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
        for action in actions:
            if action in PERMISSION_ONLY:
                continue
            service, _, name = action.partition(":")
            if service not in operations:
                operations[service] = set(
                    session.get_service_model(services[service]).operation_names
                )
            if name not in operations[service]:
                unknown.append(action)
    return unknown
