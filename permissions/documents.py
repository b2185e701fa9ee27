"""The building blocks of every IAM document here: statements, documents, the conditions the
stack's grants share, and the service principals roles are passed to.

Statements sort and de-duplicate their lists so that a re-render is byte-identical (the bootstrap
template is diffed and deployed by hand). The conditions are tag-based access control around the
`stack` tag: a grant reaches a resource the stack created, never another stack's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from rules.name_parts import STACK_TAG
from settings import Settings

VERSION = "2012-10-17"
Statement = dict[str, Any]
Condition = dict[str, dict[str, Any]]

# The service principals the stack's roles are passed to and the services whose linked roles
# its resources create on first use.
ECS_TASKS = "ecs-tasks.amazonaws.com"
ECR = "ecr.amazonaws.com"
PULL_THROUGH_CACHE = "pullthroughcache.ecr.amazonaws.com"
INSPECTOR = "inspector2.amazonaws.com"
ECS = "ecs.amazonaws.com"
SCHEDULER = "scheduler.amazonaws.com"
ELB = "elasticloadbalancing.amazonaws.com"
ECS_SCALING = "ecs.application-autoscaling.amazonaws.com"


def statement(
    sid: str,
    actions: Iterable[str],
    resources: str | Iterable[str],
    condition: Mapping[str, Mapping[str, Any]] | None = None,
    *,
    effect: str = "Allow",
) -> Statement:
    """One statement with sorted, de-duplicated lists, so a re-render is byte-identical."""
    found: Statement = {
        "Sid": sid,
        "Effect": effect,
        "Action": sorted(set(actions)),
        "Resource": [resources] if isinstance(resources, str) else sorted(set(resources)),
    }
    if condition:
        found["Condition"] = {op: dict(sorted(keys.items())) for op, keys in condition.items()}
    return found


def document(statements: Iterable[Statement]) -> dict[str, Any]:
    return {"Version": VERSION, "Statement": list(statements)}


def actions_of(documents: Iterable[Mapping[str, Any]], effect: str = "Allow") -> set[str]:
    return {
        action
        for doc in documents
        for st in doc["Statement"]
        if st["Effect"] == effect
        for action in ([st["Action"]] if isinstance(st["Action"], str) else st["Action"])
    }


def owned_by_stack(settings: Settings) -> Condition:
    """A resource tagged `stack=<this stack>` (tag-based access: keys, security groups)."""
    return {"StringEquals": {f"aws:ResourceTag/{STACK_TAG}": settings.stack}}


def tagged_for_stack(settings: Settings) -> Condition:
    """A create that tags the new resource with this stack (`aws:RequestTag/stack`)."""
    return {"StringEquals": {f"aws:RequestTag/{STACK_TAG}": settings.stack}}


def retag_owned(settings: Settings) -> Condition:
    """Retagging an owned resource may not hand it to another stack."""
    return {
        "StringEquals": {f"aws:ResourceTag/{STACK_TAG}": settings.stack},
        "StringEqualsIfExists": {f"aws:RequestTag/{STACK_TAG}": settings.stack},
    }


def untag_owned(settings: Settings) -> Condition:
    """Untagging an owned resource may not drop its `stack` tag."""
    return {
        **owned_by_stack(settings),
        "ForAllValues:StringNotEquals": {"aws:TagKeys": [STACK_TAG]},
    }


def tag_on_create(settings: Settings) -> Condition:
    """Tagging in the creating call where the service has no create-action key (KMS, ACM,
    Application Auto Scaling, CloudWatch): only the stack's tag keys, `stack` only this stack.
    IAM cannot tell this call from tagging an existing resource that carries no `stack` tag,
    so every such grant goes with `deny_other_stacks` (another stack's resources stay out of
    reach whatever the request says); give the account's other resources of these types a
    `stack` tag to keep them out of reach too (docs/ci-security.md)."""
    return {
        **tagged_for_stack(settings),
        "ForAllValues:StringEquals": {"aws:TagKeys": sorted({*settings.tags, "service"})},
    }


def retag_owned_keys(settings: Settings) -> Condition:
    """`retag_owned`, and only the stack's tag keys."""
    keys = {"ForAllValues:StringEquals": {"aws:TagKeys": sorted({*settings.tags, "service"})}}
    return {**retag_owned(settings), **keys}


def deny_other_stacks(
    settings: Settings, sid: str, actions: Iterable[str], resources: str | Iterable[str]
) -> Statement:
    """A Deny of `actions` on any resource whose `stack` tag names another stack: what a create
    or tag grant without a resource-tag condition (`tag_on_create`) must never reach."""
    other: Condition = {
        "Null": {f"aws:ResourceTag/{STACK_TAG}": "false"},
        "StringNotEquals": {f"aws:ResourceTag/{STACK_TAG}": settings.stack},
    }
    return statement(sid, actions, resources, other, effect="Deny")


def passed_to(*services: str) -> Condition:
    return {"StringEquals": {"iam:PassedToService": sorted(services)}}


def service_linked_role(settings: Settings, account: str, service: str, sid: str) -> Statement:
    """Creating a service's linked role on first use, for that one service only.
    https://docs.aws.amazon.com/IAM/latest/UserGuide/using-service-linked-roles.html
    """
    return statement(
        sid,
        ["iam:CreateServiceLinkedRole"],
        settings.names.service_linked_role_arn(account, service),
        {"StringEquals": {"iam:AWSServiceName": service}},
    )
