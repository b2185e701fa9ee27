"""The permissions boundary of every role the stack creates: the most any of them may do,
whatever its own policies say. The deploy role may create roles only with this boundary attached
(`permissions.roles`), so a rewritten role policy buys nothing beyond it.
https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html
"""

from __future__ import annotations

from typing import Any

from permissions.deploys import deployment_boundary
from permissions.documents import (
    ECS_TASKS,
    Condition,
    Statement,
    document,
    owned_by_stack,
    passed_to,
    statement,
)
from permissions.keys import registry_key_arn
from permissions.renders import creates_template_role, fargate_services, job_names
from rules.ecs.iam import EXEC_ACTIONS, PULL_ACTIONS
from rules.registry.pull_through import TEMPLATE_KMS_ACTIONS, TEMPLATE_ROLE_ACTIONS
from settings import Settings


def boundary_policy(settings: Settings, account: str) -> dict[str, Any]:
    """The most any stack role may do, whatever its own policies say: the execution role's pull,
        logs and configured secrets, ECS Exec for the task role, the ECR creation-template role's
        repository and key-grant actions, a job's scheduler role running the stack's task families on
        its cluster and passing the stack's own roles to ECS tasks, ECS's infrastructure role moving
    the stack's targets and listener rules in a blue/green, canary or linear deployment. Nothing else in IAM, nothing in
        STS, Organizations or key policies."""
    found = [statement("RegistryLogin", ["ecr:GetAuthorizationToken"], "*")]
    found += _task_boundary(settings, account) + _template_boundary(settings, account)
    found += deployment_boundary(settings, account)
    return document(found + _boundary_guards(settings, account))


def _boundary_guards(settings: Settings, account: str) -> list[Statement]:
    """The boundary grants nothing in IAM but PassRole; these Denies keep a stack role from
    rewriting or removing its boundary (either mode's policy) even if a later edit grants more."""
    names = settings.names
    boundaries = [names.boundary_arn(account), names.stack_boundary_arn(account)]
    detach = ["iam:DeleteRolePermissionsBoundary", "iam:PutRolePermissionsBoundary"]
    return [
        statement("DenyBoundaryWrites", ["iam:*"], boundaries, effect="Deny"),
        statement("DenyBoundaryChanges", detach, "*", effect="Deny"),
    ]


def _task_boundary(settings: Settings, account: str) -> list[Statement]:
    """The tasks' execution and task roles and the jobs' scheduler role."""
    if settings.fargate is None:
        return []
    names = settings.names
    repositories = names.repository_arn(account, "*")
    log_streams = [names.log_stream_arn(account, s) for s in fargate_services(settings)]
    # Secrets and parameters are whatever ARNs the user configures: any of the account's in
    # the stack's region, of these two types, and only to read.
    found = [
        statement("PullImages", PULL_ACTIONS, repositories),
        statement(
            "ImportOnFirstPull",
            ["ecr:BatchImportUpstreamImage", "ecr:CreateRepository"],
            repositories,
        ),
        statement("WriteLogs", ["logs:CreateLogStream", "logs:PutLogEvents"], log_streams),
        statement(
            "ReadTaskSecrets", ["secretsmanager:GetSecretValue"], names.secret_arn(account, "*")
        ),
        statement("ReadTaskParameters", ["ssm:GetParameters"], names.parameter_arn(account)),
        *_job_boundary(settings, account),
    ]
    if settings.fargate.enable_execute_command:
        # The Session Manager channels of ECS Exec have no resource-level form.
        found.append(statement("EcsExec", EXEC_ACTIONS, "*"))
    return found


def _job_boundary(settings: Settings, account: str) -> list[Statement]:
    """What EventBridge Scheduler needs to start a job's task: RunTask, and the task's roles.
    https://docs.aws.amazon.com/scheduler/latest/UserGuide/managing-targets-templated.html"""
    names = settings.names
    if not job_names(settings):
        return []
    on_cluster: Condition = {"ArnEquals": {"ecs:cluster": names.cluster_arn(account)}}
    jobs = [names.task_definition_arn(account, j) for j in job_names(settings)]
    return [
        statement("RunJobTasks", ["ecs:RunTask"], jobs, on_cluster),
        statement(
            "PassRolesToJobTasks", ["iam:PassRole"], names.role_arn(account), passed_to(ECS_TASKS)
        ),
    ]


def _template_boundary(settings: Settings, account: str) -> list[Statement]:
    """The ECR creation-template role: creating cached repositories, and the registry key's
    grant when repositories are KMS-encrypted."""
    if not creates_template_role(settings):
        return []
    repositories = settings.names.repository_arn(account, "*")
    found = [statement("CreateCachedRepositories", TEMPLATE_ROLE_ACTIONS, repositories)]
    registry = settings.registry
    if registry.encryption == "KMS":
        key = registry_key_arn(settings, account)
        condition = owned_by_stack(settings) if registry.create_kms_key else None
        found.append(statement("EncryptCachedRepositories", TEMPLATE_KMS_ACTIONS, key, condition))
    return found
