"""The stack's own roles (execution, task, ECR template, scheduler): created only under the
stack's role path and only with the stack's boundary, passed only to the services that use them;
and the guards that keep every deploy role away from the CI roles, the boundaries and STS.

Escalation is closed three ways: the deploy role may create and change roles only under the
stack's role path and only with the stack's boundary attached (`iam:PermissionsBoundary`), it may
never remove a boundary or write the boundary policy, the CI roles or the OIDC provider, and it
may not assume any role (a rewritten trust policy buys nothing).
https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html
"""

from __future__ import annotations

from permissions.documents import (
    ECR,
    ECS_TASKS,
    SCHEDULER,
    Statement,
    passed_to,
    statement,
)
from permissions.renders import creates_template_role, job_names
from settings import Settings

ROLE_READS = (
    "iam:GetRole",
    "iam:GetRolePolicy",
    "iam:ListAttachedRolePolicies",
    "iam:ListRolePolicies",
)
ROLE_WRITES = (
    "iam:AttachRolePolicy",
    "iam:CreateRole",
    "iam:DeleteRole",
    "iam:DeleteRolePolicy",
    "iam:DetachRolePolicy",
    "iam:PutRolePermissionsBoundary",
    "iam:PutRolePolicy",
    "iam:UpdateAssumeRolePolicy",
    "iam:UpdateRole",
    "iam:UpdateRoleDescription",
)


def creates_roles(settings: Settings) -> bool:
    return settings.fargate is not None or creates_template_role(settings)


def role_reads(settings: Settings, account: str) -> list[Statement]:
    if not creates_roles(settings):
        return []
    return [statement("ReadStackRoles", ROLE_READS, settings.names.role_arn(account))]


def role_writes(settings: Settings, account: str) -> list[Statement]:
    """Stack roles: only under the stack's path, only with the stack's boundary, passed only to
    the services that use them."""
    names = settings.names
    if not creates_roles(settings):
        return []
    roles = names.role_arn(account)
    bounded = {"StringEquals": {"iam:PermissionsBoundary": names.boundary_arn(account)}}
    services = ([ECS_TASKS] if settings.fargate is not None else []) + (
        [ECR] if creates_template_role(settings) else []
    )
    services += [SCHEDULER] if job_names(settings) else []
    return [
        statement("ManageStackRoles", ROLE_WRITES, roles, bounded),
        # The provider takes a role out of its instance profiles before deleting it.
        statement(
            "TagAndEmptyStackRoles",
            ["iam:ListInstanceProfilesForRole", "iam:TagRole", "iam:UntagRole"],
            roles,
        ),
        statement("PassStackRoles", ["iam:PassRole"], roles, passed_to(*services)),
    ]


def guards(settings: Settings, account: str) -> list[Statement]:
    """Explicit Denies that no later Allow (here or in another attached policy) can override."""
    names = settings.names
    provider = (
        settings.github.oidc_provider_arn
        if settings.github is not None and settings.github.oidc_provider_arn
        else names.oidc_provider_arn(account)
    )
    # `iam:*` on purpose: a Deny must also cover IAM actions added after this was written. The
    # boundary a `permissionsBoundary: stack` stack creates is CI's to leave alone too.
    protected = [
        names.ci_roles_arn(account),
        names.ci_policies_arn(account),
        names.stack_boundary_arn(account),
        provider,
    ]
    return [
        statement("DenyCiAndBoundaryWrites", ["iam:*"], protected, effect="Deny"),
        statement("DenyBoundaryRemoval", ["iam:DeleteRolePermissionsBoundary"], "*", effect="Deny"),
        statement("DenyAssumingRoles", ["sts:AssumeRole"], "*", effect="Deny"),
    ]
