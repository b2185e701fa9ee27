"""IAM documents for the task's two roles, least privilege, as plain dicts with stable order."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from botocore.utils import ArnParser

from rules.registry.urls import is_account_id, partition_for_region

VERSION = "2012-10-17"
PULL_ACTIONS = [
    "ecr:BatchCheckLayerAvailability",
    "ecr:BatchGetImage",
    "ecr:GetDownloadUrlForLayer",
]
# The `-` and six random characters ending a complete secret ARN.
SECRET_SUFFIX = re.compile(r"-[A-Za-z0-9]{6}$", re.ASCII)
EXEC_ACTIONS = [
    "ssmmessages:CreateControlChannel",
    "ssmmessages:CreateDataChannel",
    "ssmmessages:OpenControlChannel",
    "ssmmessages:OpenDataChannel",
]


def validate_secret_reference_arn(arn: str, partition: str | None = None) -> str:
    """A Secrets Manager secret ARN (optionally `:json-key:stage:version`) or an SSM parameter ARN.

    Only full ARNs are taken, so the secret may live in another region of the stack's partition:
    ECS documents that a secret or parameter in a different region must be given by full ARN
    (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-secrets-manager.html,
    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar-ssm-paramstore.html).
    Another partition is refused: the execution role cannot be granted a resource there.
    """
    try:
        parts = ArnParser().parse_arn(arn)
    except ValueError:
        parts = {}
    service, resource = parts.get("service"), str(parts.get("resource", ""))
    home = partition or "aws"
    ok = (service == "secretsmanager" and resource.startswith("secret:") and len(resource) > 7) or (
        service == "ssm" and resource.startswith("parameter/") and len(resource) > 10
    )
    if not ok or not is_account_id(parts.get("account")) or not arn.isprintable():
        raise ValueError(
            f"{arn!r} is not allowed; expected arn:{home}:secretsmanager:REGION:ACCOUNT:secret:NAME "
            f"or arn:{home}:ssm:REGION:ACCOUNT:parameter/NAME (ACCOUNT: 12 digits)"
        )
    region = str(parts.get("region", ""))
    try:
        region_partition = partition_for_region(region).name
    except ValueError:
        raise ValueError(f"{arn!r} is not allowed; {region!r} is not an AWS region") from None
    if region_partition != parts.get("partition") or (
        partition is not None and region_partition != partition
    ):
        raise ValueError(
            f"{arn!r} is not allowed; the secret must be in the stack's partition ({home}), "
            "in any of its regions"
        )
    return arn


def secret_resource_arn(arn: str) -> str:
    """The secret itself: ECS's `:json-key:version-stage:version-id` suffix is not part of it."""
    validate_secret_reference_arn(arn)
    head, _, rest = arn.partition(":secret:")
    if not rest:
        return arn
    return f"{head}:secret:{rest.split(':', 1)[0]}"


def secret_policy_arns(arns: Sequence[str]) -> list[str]:
    """The Resource entries that let a role read exactly these secret references. IAM matches a
    secret's complete ARN, which ends in `-` and six random characters Secrets Manager adds; a
    reference without them (a partial ARN) is granted as `NAME-??????`, which matches exactly
    that suffix (`-*` would match longer names too). As Secrets Manager itself does, a name that
    already ends in `-` and six letters or digits is taken for a complete ARN.
    https://docs.aws.amazon.com/secretsmanager/latest/userguide/reference_iam-permissions.html
    https://docs.aws.amazon.com/secretsmanager/latest/userguide/permissions_grant-limited-resources.html
    https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetSecretValue.html"""
    secrets = {secret_resource_arn(a) for a in arns}
    return sorted(a if SECRET_SUFFIX.search(a) else f"{a}-??????" for a in secrets)


def ecs_tasks_assume_role_policy(account_id: str | None = None) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"Service": "ecs-tasks.amazonaws.com"},
        "Action": "sts:AssumeRole",
    }
    if account_id:
        # Confused-deputy guard: only tasks of this account may assume the role.
        statement["Condition"] = {"StringEquals": {"aws:SourceAccount": account_id}}
    return {"Version": VERSION, "Statement": [statement]}


def scheduler_assume_role_policy(account_id: str) -> dict[str, Any]:
    """EventBridge Scheduler assumes a job's role, for schedules of this account only.
    https://docs.aws.amazon.com/scheduler/latest/UserGuide/setting-up.html#setting-up-execution-role
    """
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "scheduler.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
            }
        ],
    }


def run_task_policy(
    *, task_definition_arn: str, cluster_arn: str, role_arns: Sequence[str]
) -> dict[str, Any]:
    """A job's scheduler role: run that one task family on the stack's cluster, and hand ECS the
    task's two roles. https://docs.aws.amazon.com/scheduler/latest/UserGuide/managing-targets-templated.html
    """
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Sid": "RunJobTask",
                "Effect": "Allow",
                "Action": ["ecs:RunTask"],
                "Resource": [task_definition_arn],
                "Condition": {"ArnEquals": {"ecs:cluster": cluster_arn}},
            },
            {
                "Sid": "PassJobRoles",
                "Effect": "Allow",
                "Action": ["iam:PassRole"],
                "Resource": sorted(role_arns),
                "Condition": {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}},
            },
        ],
    }


def execution_role_policy(
    *,
    repository_arns: Sequence[str],
    log_group_arn: str,
    secret_arns: Sequence[str] = (),
    parameter_arns: Sequence[str] = (),
) -> dict[str, Any]:
    """Pull (only when the image is in ECR), logs, and the task's own secrets and parameters."""
    statements: list[dict[str, Any]] = []
    if repository_arns:
        statements += [
            {
                "Sid": "PullServiceImage",
                "Effect": "Allow",
                "Action": PULL_ACTIONS,
                "Resource": sorted(set(repository_arns)),
            },
            # GetAuthorizationToken has no resource-level form: "*" is the only valid resource.
            {
                "Sid": "RegistryLogin",
                "Effect": "Allow",
                "Action": ["ecr:GetAuthorizationToken"],
                "Resource": "*",
            },
        ]
    statements += [
        {
            "Sid": "WriteLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": [f"{log_group_arn.removesuffix(':*')}:log-stream:*"],
        },
    ]
    if secret_arns:
        statements.append(
            {
                "Sid": "ReadSecrets",
                "Effect": "Allow",
                "Action": ["secretsmanager:GetSecretValue"],
                "Resource": secret_policy_arns(secret_arns),
            }
        )
    if parameter_arns:
        statements.append(
            {
                "Sid": "ReadParameters",
                "Effect": "Allow",
                "Action": ["ssm:GetParameters"],
                "Resource": sorted(set(parameter_arns)),
            }
        )
    return {"Version": VERSION, "Statement": statements}


def ecs_exec_policy() -> dict[str, Any]:
    # The Session Manager channels ECS Exec opens have no resource-level form.
    return {
        "Version": VERSION,
        "Statement": [
            {"Sid": "EcsExec", "Effect": "Allow", "Action": EXEC_ACTIONS, "Resource": "*"}
        ],
    }
