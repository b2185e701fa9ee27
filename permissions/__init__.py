"""The CI roles' permissions and the stack roles' permissions boundary, as plain IAM documents.

`deploy_policy` is what `pulumi up` of ONE stack needs on that stack's resources only: the
CloudFormation resource handlers' permissions for every resource type the stack renders (the
tests check each one against the handlers bundled with cfn-lint), the `docker push` to every
repository it creates, and its invokes. `preview_policy` is the read part of it. `boundary_policy`
caps every role the stack itself creates. The one-time bootstrap (`python -m cli.bootstrap`)
renders all three; the stack never changes them (a stack with `permissionsBoundary: stack`
creates its own copy of the boundary, `components/boundary.py`, which CI may not write).

Each module is one concern, deriving its statements from the typed settings the components read:
`registry`, `keys`, `roles` (and the guards that close escalation), `fargate`, `web`, `scaling`,
`hooks` (the deployment hooks' functions),
`boundary`, `state` (a self-managed state backend); `renders` says what a stack creates,
`documents` holds the statement helpers and shared conditions, `checks` whether actions are real.
"""

from __future__ import annotations

from typing import Any

from permissions import (
    deploys,
    fargate,
    hooks,
    keys,
    promotion,
    registry,
    registry_wide,
    roles,
    scaling,
    web,
)
from permissions.boundary import boundary_policy
from permissions.checks import unknown_actions
from permissions.documents import (
    ECR,
    ECS,
    ECS_SCALING,
    ECS_TASKS,
    ELB,
    INSPECTOR,
    PULL_THROUGH_CACHE,
    SCHEDULER,
    Statement,
    actions_of,
    document,
    passed_to,
    statement,
)
from permissions.registry import ENHANCED_FINDINGS_ACTIONS, IMAGE_READ_ACTIONS, PUSH_ACTIONS
from permissions.renders import creates_security_group, job_names, repository_arns
from permissions.state import StateBackend, previews_with_secrets, secrets_key_policy, state_policy
from permissions.web import BUCKET_EMPTYING, BUCKET_READS
from settings import Settings

__all__ = [
    "BUCKET_EMPTYING",
    "BUCKET_READS",
    "ECR",
    "ECS",
    "ECS_SCALING",
    "ECS_TASKS",
    "ELB",
    "ENHANCED_FINDINGS_ACTIONS",
    "IMAGE_READ_ACTIONS",
    "INSPECTOR",
    "PULL_THROUGH_CACHE",
    "PUSH_ACTIONS",
    "SCHEDULER",
    "StateBackend",
    "actions_of",
    "boundary_policy",
    "creates_security_group",
    "deploy_policy",
    "document",
    "job_names",
    "passed_to",
    "preview_policy",
    "previews_with_secrets",
    "read_statements",
    "repository_arns",
    "secrets_key_policy",
    "state_policy",
    "statement",
    "unknown_actions",
    "unscoped_reads",
]


def read_statements(settings: Settings, account: str) -> list[Statement]:
    """The read handlers of every rendered type and the program's invokes, nothing else."""
    found = registry.repository_reads(settings, account) + roles.role_reads(settings, account)
    found += fargate.fargate_reads(settings, account) + web.web_reads(settings, account)
    found += scaling.scaling_reads(settings, account) + keys.key_reads(settings, account)
    found += registry.credential_reads(settings, account)
    found += registry_wide.reads(settings, account)
    found += promotion.promotion_reads(settings, account)
    found += hooks.hook_reads(settings, account)
    return [*found, statement("ReadUnscoped", unscoped_reads(settings), "*")]


def unscoped_reads(settings: Settings) -> set[str]:
    """Reads with no resource-level form: "*" is the only resource they take."""
    parts = (registry, registry_wide, fargate, web, scaling)
    return set().union(*(part.unscoped_reads(settings) for part in parts))


def preview_policy(settings: Settings, account: str) -> dict[str, Any]:
    """What `pulumi preview` (with or without `--refresh`) reads; no write, no secret value."""
    return document(read_statements(settings, account))


def deploy_policy(settings: Settings, account: str) -> dict[str, Any]:
    """Everything `pulumi up` of this stack needs, on this stack's resources only."""
    writers = (
        registry.repository_writes,
        registry.registry_writes,
        keys.key_writes,
        roles.role_writes,
        fargate.fargate_writes,
        web.web_writes,
        scaling.scaling_writes,
        registry.credential_writes,
        registry_wide.writes,
        promotion.promotion_writes,
        deploys.deployment_writes,
        hooks.hook_writes,
        roles.guards,
    )
    found = read_statements(settings, account)
    for write in writers:
        found += write(settings, account)
    return document(found)
