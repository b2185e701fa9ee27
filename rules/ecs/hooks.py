"""IAM documents for the deployment-hook Lambda functions and the role ECS invokes them with.

Each document names exact ARNs (from `rules.naming`), so a hook of one service of one stack can
touch nothing of another. Sources:
- the role in `lifecycleHooks[].roleArn`: trusted by `ecs.amazonaws.com`, allowed
  `lambda:InvokeFunction` (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/blue-green-permissions.html);
  AWS's example allows every function, this one only the hook's own;
- a function's execution role: trusted by `lambda.amazonaws.com`; logs to its own group; in a VPC
  the ENI actions of AWSLambdaVPCAccessExecutionRole, which take no resource ARN that is known
  before Lambda creates the interface
  (https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html);
- the ECS actions and condition keys (`ecs:cluster`, `ecs:CreateAction`, `iam:PassedToService`):
  https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelasticcontainerservice.html
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

VERSION = "2012-10-17"
# How long ECS waits for a Lambda hook, at most (minutes; 1440 is also the default, after which ECS
# rolls back): https://docs.aws.amazon.com/AmazonECS/latest/developerguide/lambda-lifecycle-hooks.html
# The API model allows up to 20160, for pause hooks; the Lambda hook page says 1 to 1440. A
# migration's own timeout plus two polls must fit within it, which settings check.
MAX_HOOK_TIMEOUT_MINUTES = 1440
LOG_ACTIONS = ["logs:CreateLogStream", "logs:PutLogEvents"]
VPC_ACTIONS = [
    "ec2:AssignPrivateIpAddresses",
    "ec2:CreateNetworkInterface",
    "ec2:DeleteNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSubnets",
    "ec2:UnassignPrivateIpAddresses",
]


def _trust(service: str, condition: dict[str, Any] | None = None) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": "sts:AssumeRole",
    }
    if condition:
        statement["Condition"] = condition
    return {"Version": VERSION, "Statement": [statement]}


def lambda_assume_role_policy() -> dict[str, Any]:
    """A hook function's execution role: only Lambda assumes it."""
    return _trust("lambda.amazonaws.com")


def hook_invoke_assume_role_policy(account_id: str) -> dict[str, Any]:
    """The role ECS invokes the hook with. AWS's page shows no condition; `aws:SourceAccount`
    (when ECS sends it) keeps another account's ECS from using it, and `IfExists` keeps the hook
    working should ECS not send it."""
    return _trust("ecs.amazonaws.com", {"StringEqualsIfExists": {"aws:SourceAccount": account_id}})


def hook_invoke_policy(function_arn: str) -> dict[str, Any]:
    """Invoke that one function (its unqualified ARN: `$LATEST`, what the hook names)."""
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Sid": "InvokeHook",
                "Effect": "Allow",
                "Action": ["lambda:InvokeFunction"],
                "Resource": [function_arn],
            }
        ],
    }


def hook_logs_policy(log_group_arn: str) -> dict[str, Any]:
    """Write to its own log group (the stack creates the group: no logs:CreateLogGroup)."""
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Sid": "WriteOwnLogs",
                "Effect": "Allow",
                "Action": LOG_ACTIONS,
                "Resource": [f"{log_group_arn}:*"],
            }
        ],
    }


def hook_vpc_policy() -> dict[str, Any]:
    """The network interfaces a function in a VPC needs (AWSLambdaVPCAccessExecutionRole's)."""
    return {
        "Version": VERSION,
        "Statement": [
            {"Sid": "FunctionInVpc", "Effect": "Allow", "Action": VPC_ACTIONS, "Resource": "*"}
        ],
    }


def migrate_policy(
    *,
    cluster_arn: str,
    task_definition_arn: str,
    task_arn: str,
    service_revision_arn: str,
    role_arns: Sequence[str],
) -> dict[str, Any]:
    """Run the service's own task family once on the stack's cluster, watch and stop it there.

    `task_definition_arn` is the family's (`family:*`): the hook runs whichever revision the
    deployment targets. `task_arn` is the cluster's tasks (`task/<cluster>/*`); ListTasks has no
    resource ARN and is held to the cluster by `ecs:cluster`.
    """
    on_cluster = {"ArnEquals": {"ecs:cluster": cluster_arn}}
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Sid": "ReadTargetRevision",
                "Effect": "Allow",
                "Action": ["ecs:DescribeServiceRevisions"],
                "Resource": [service_revision_arn],
            },
            {
                "Sid": "RunMigration",
                "Effect": "Allow",
                "Action": ["ecs:RunTask"],
                "Resource": [task_definition_arn],
                "Condition": on_cluster,
            },
            {
                "Sid": "TagMigrationAtLaunch",
                "Effect": "Allow",
                "Action": ["ecs:TagResource"],
                "Resource": [task_arn],
                "Condition": {"StringEquals": {"ecs:CreateAction": "RunTask"}},
            },
            {
                "Sid": "WatchMigration",
                "Effect": "Allow",
                "Action": ["ecs:DescribeTasks", "ecs:StopTask"],
                "Resource": [task_arn],
                "Condition": on_cluster,
            },
            {
                "Sid": "FindMigration",
                "Effect": "Allow",
                "Action": ["ecs:ListTasks"],
                "Resource": "*",
                "Condition": on_cluster,
            },
            {
                "Sid": "PassTaskRoles",
                "Effect": "Allow",
                "Action": ["iam:PassRole"],
                "Resource": sorted(role_arns),
                "Condition": {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}},
            },
        ],
    }
