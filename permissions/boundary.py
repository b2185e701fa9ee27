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
from permissions.hooks import hook_boundary
from permissions.keys import registry_key_arn, via_ecr
from permissions.registry_wide import boundary as registry_wide_boundary
from permissions.renders import (
    creates_template_role,
    fargate_services,
    job_names,
    migrations,
    pull_sources,
    task_secret_arns,
)
from rules.ecs.iam import EXEC_ACTIONS, PULL_ACTIONS
from rules.registry.pull_through import TEMPLATE_KMS_ACTIONS, TEMPLATE_ROLE_ACTIONS
from settings import Settings


def boundary_policy(settings: Settings, account: str) -> dict[str, Any]:
    """The most any stack role may do, whatever its own policies say: the execution role's pull
    from exactly where its images come from, its logs and exactly the secrets and parameters its
    config references, ECS Exec for the task role, the ECR creation-template role's repository
    and key-grant actions, a job's scheduler role running the stack's task families on its
    cluster and passing the stack's own roles to ECS tasks, ECS's infrastructure role moving the
    stack's targets and listener rules in a blue/green, canary or linear deployment, a
    deployment hook's roles (`permissions.hooks`: a migration's task of its own service). Nothing else
    in IAM, nothing in STS, Organizations or key policies; a stack that is not the account owner never reads the owner's
    pull-through credentials. The boundary is rendered from the same settings validation reads,
    so what it allows changes with the config: re-run the bootstrap after adding a secret or an
    image source (docs/bootstrap.md, "When a stack changes")."""
    found = [statement("RegistryLogin", ["ecr:GetAuthorizationToken"], "*")]
    found += _task_boundary(settings, account) + _template_boundary(settings, account)
    found += registry_wide_boundary(settings, account) + deployment_boundary(settings, account)
    found += hook_boundary(settings.names, account, migrate=migrations(settings))
    if not settings.account.owns:
        credentials = settings.names.cache_credentials_arn(account)
        found.append(
            statement("DenyOwnerCacheCredentials", ["secretsmanager:*"], credentials, effect="Deny")
        )
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
    pulls, imports = pull_sources(settings, account)
    secrets, parameters = task_secret_arns(settings)
    log_streams = [names.log_stream_arn(account, s) for s in fargate_services(settings)]
    found = [statement("PullImages", PULL_ACTIONS, pulls)] if pulls else []
    if imports:
        first_pull = ["ecr:BatchImportUpstreamImage", "ecr:CreateRepository"]
        found.append(statement("ImportOnFirstPull", first_pull, imports))
    found.append(statement("WriteLogs", ["logs:CreateLogStream", "logs:PutLogEvents"], log_streams))
    if secrets:
        read = ["secretsmanager:GetSecretValue"]
        found.append(statement("ReadTaskSecrets", read, secrets))
    if parameters:
        found.append(statement("ReadTaskParameters", ["ssm:GetParameters"], parameters))
    found += _job_boundary(settings, account)
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
        # The deploy role's own conditions (`permissions.keys`): through ECR only, and a grant
        # only for an AWS resource, so no bounded role can grant the key to anyone else.
        key = registry_key_arn(settings, account)
        through_ecr: Condition = {"StringEquals": {"kms:ViaService": via_ecr(settings)}}
        if registry.create_kms_key:
            through_ecr["StringEquals"].update(owned_by_stack(settings)["StringEquals"])
        grant: Condition = {**through_ecr, "Bool": {"kms:GrantIsForAWSResource": "true"}}
        uses = [a for a in TEMPLATE_KMS_ACTIONS if a != "kms:CreateGrant"]
        found += [
            statement("GrantKeyToCachedRepositories", ["kms:CreateGrant"], key, grant),
            statement("EncryptCachedRepositories", uses, key, through_ecr),
        ]
    return found
