"""The deployment hooks' Lambda functions: what the deploy role needs to create them, and the
boundary's share, the most a hook's roles may ever do.

Every role the stack creates carries the stack's boundary, so the hooks' own documents
(`rules.ecs.hooks`) take effect only where the boundary allows too. `hook_boundary` allows the
hooks of the services given, on the stack's cluster, and nothing of another stack;
`boundary_policy` appends it for the services that have hooks (`permissions.renders`).

The deploy role reaches the functions by their exact names and, since a long name is hashed
and `prod`'s names share a prefix with `prod-eu`'s, only while they carry this stack's `stack`
tag; it passes each hook's two roles by their exact ARNs, the function's to Lambda and the
invoke role to ECS (the service's `lifecycleHooks[].roleArn`), and no other role to either.
https://docs.aws.amazon.com/lambda/latest/dg/lambda-api-permissions-ref.html
"""

from __future__ import annotations

from collections.abc import Sequence

from permissions.documents import (
    ECS,
    ECS_TASKS,
    Condition,
    Statement,
    deny_other_stacks,
    owned_by_stack,
    passed_to,
    retag_owned_keys,
    statement,
    tag_on_create,
    untag_owned,
)
from permissions.renders import deployment_hooks
from rules.ecs.hooks import LOG_ACTIONS, VPC_ACTIONS
from rules.naming import StackNames
from settings import Settings

LAMBDA = "lambda.amazonaws.com"
# AWS::Lambda::Function's read handler, less the key it would decrypt with (none is set).
FUNCTION_READS = (
    "lambda:GetFunction",
    "lambda:GetFunctionCodeSigningConfig",
    "lambda:GetFunctionRecursionConfig",
    "lambda:GetFunctionScalingConfig",
    "lambda:GetRuntimeManagementConfig",
)
FUNCTION_CHANGES = (
    "lambda:DeleteFunction",
    "lambda:UpdateFunctionCode",
    "lambda:UpdateFunctionConfiguration",
)
FUNCTION_CREATES = ("lambda:CreateFunction", "lambda:TagResource")


def function_arns(settings: Settings, account: str) -> list[str]:
    names = settings.names
    return [
        names.function_arn(account, names.hook_function(s, h))
        for s, h in deployment_hooks(settings)
    ]


def hook_reads(settings: Settings, account: str) -> list[Statement]:
    functions = function_arns(settings, account)
    return [statement("ReadHookFunctions", FUNCTION_READS, functions)] if functions else []


def hook_writes(settings: Settings, account: str) -> list[Statement]:
    """Create (tagged for this stack), change and delete the hooks' functions; pass their roles."""
    functions = function_arns(settings, account)
    if not functions:
        return []
    names, hooks = settings.names, deployment_hooks(settings)

    def roles(part: str) -> list[str]:
        return [names.role_arn(account, names.hook_role_name(s, h, part)) for s, h in hooks]

    writes = (*FUNCTION_CREATES, *FUNCTION_CHANGES, "lambda:UntagResource")
    return [
        statement("CreateHookFunctions", FUNCTION_CREATES, functions, tag_on_create(settings)),
        statement("ChangeHookFunctions", FUNCTION_CHANGES, functions, owned_by_stack(settings)),
        statement(
            "RetagHookFunctions", ["lambda:TagResource"], functions, retag_owned_keys(settings)
        ),
        statement("UntagHookFunctions", ["lambda:UntagResource"], functions, untag_owned(settings)),
        deny_other_stacks(settings, "DenyOtherStacksFunctions", writes, functions),
        statement("PassHookFunctionRoles", ["iam:PassRole"], roles("fn"), passed_to(LAMBDA)),
        statement("PassHookInvokeRoles", ["iam:PassRole"], roles("ecs"), passed_to(ECS)),
    ]


def hook_boundary(
    names: StackNames,
    account: str,
    *,
    smoke: Sequence[str] = (),
    migrate: Sequence[str] = (),
    smoke_in_vpc: bool = False,
) -> list[Statement]:
    """`smoke` and `migrate`: the services with that hook. Logs and invocation for every hook;
    network interfaces when a smoke test runs in the VPC; for migrations, the service's own
    task family and revisions, the cluster's tasks, and the stack's roles passed to ECS tasks."""
    hooks = [(s, "smoke") for s in smoke] + [(s, "migrate") for s in migrate]
    if not hooks:
        return []
    found = [
        statement(
            "WriteHookLogs",
            LOG_ACTIONS,
            [f"{names.hook_log_group_arn(account, s, h)}:*" for s, h in hooks],
        ),
        statement(
            "InvokeHooks",
            ["lambda:InvokeFunction"],
            [names.function_arn(account, names.hook_function(s, h)) for s, h in hooks],
        ),
    ]
    if smoke and smoke_in_vpc:
        found.append(statement("HookNetworkInterfaces", VPC_ACTIONS, "*"))
    if migrate:
        found += _migration_boundary(names, account, migrate)
    return found


def _migration_boundary(
    names: StackNames, account: str, services: Sequence[str]
) -> list[Statement]:
    on_cluster: Condition = {"ArnEquals": {"ecs:cluster": names.cluster_arn(account)}}
    tasks = names.ecs_task_arn(account)
    return [
        statement(
            "ReadMigrationRevisions",
            ["ecs:DescribeServiceRevisions"],
            [names.ecs_service_revision_arn(account, s) for s in services],
        ),
        statement(
            "RunMigrations",
            ["ecs:RunTask"],
            [names.task_definition_arn(account, s) for s in services],
            on_cluster,
        ),
        statement(
            "TagMigrations",
            ["ecs:TagResource"],
            tasks,
            {"StringEquals": {"ecs:CreateAction": "RunTask"}},
        ),
        statement("WatchMigrations", ["ecs:DescribeTasks", "ecs:StopTask"], tasks, on_cluster),
        statement("FindMigrations", ["ecs:ListTasks"], "*", on_cluster),
        statement(
            "PassRolesToMigrations", ["iam:PassRole"], names.role_arn(account), passed_to(ECS_TASKS)
        ),
    ]
