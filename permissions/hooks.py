"""The boundary's share for the deployment hooks: the most a hook's roles may ever do.

Every role the stack creates carries the stack's boundary, so the hooks' own documents
(`rules.ecs.hooks`) take effect only where the boundary allows too. These statements allow the
hooks of the services given, on the stack's cluster, and nothing of another stack; the caller
appends them to `boundary_policy` for the services that have hooks. They take explicit values,
not Settings, so the statements follow whichever settings declare the hooks.
"""

from __future__ import annotations

from collections.abc import Sequence

from permissions.documents import ECS_TASKS, Condition, Statement, passed_to, statement
from rules.ecs.hooks import LOG_ACTIONS, VPC_ACTIONS
from rules.naming import StackNames


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
