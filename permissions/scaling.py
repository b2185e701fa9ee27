"""The scaled services' part: Application Auto Scaling targets, policies and scheduled actions,
the alarms target tracking creates for them, and the services' deployment alarms."""

from __future__ import annotations

from permissions.documents import (
    ECS_SCALING,
    Statement,
    deny_other_stacks,
    owned_by_stack,
    retag_owned_keys,
    service_linked_role,
    statement,
    tag_on_create,
    tagged_for_stack,
    untag_owned,
)
from permissions.renders import uses_alarms, uses_scaling
from settings import Settings

SCALING_WRITES = (
    "DeleteScalingPolicy",
    "DeleteScheduledAction",
    "DeregisterScalableTarget",
    "PutScalingPolicy",
    "PutScheduledAction",
    "RegisterScalableTarget",
)
SCALING_READS = (
    "application-autoscaling:DescribeScalableTargets",
    "application-autoscaling:DescribeScalingPolicies",
    "application-autoscaling:DescribeScheduledActions",
)
TRACKING_ALARM_WRITES = (
    "cloudwatch:DeleteAlarms",
    "cloudwatch:DescribeAlarms",
    "cloudwatch:PutMetricAlarm",
)


def scaling_reads(settings: Settings, account: str) -> list[Statement]:
    names = settings.names
    found: list[Statement] = []
    if uses_scaling(settings):
        targets = names.scalable_target_arn(account)
        tags = ["application-autoscaling:ListTagsForResource"]
        found.append(statement("ReadStackScalableTargets", tags, targets, owned_by_stack(settings)))
    if uses_alarms(settings):
        reads = ("cloudwatch:DescribeAlarms", "cloudwatch:ListTagsForResource")
        found.append(statement("ReadStackAlarms", reads, names.alarm_arn(account)))
    return found


def unscoped_reads(settings: Settings) -> set[str]:
    return set(SCALING_READS) if uses_scaling(settings) else set()


def scaling_writes(settings: Settings, account: str) -> list[Statement]:
    return _scaling(settings, account) + _tagged_scaling(settings, account)


def _scaling(settings: Settings, account: str) -> list[Statement]:
    """The scaled services' scalable targets (found by tag: their ARNs carry a generated ID),
    their policies and scheduled actions, the alarms target tracking creates for them, and their
    service-linked role. Registering also needs ecs:DescribeServices and ecs:UpdateService on the
    service, which `permissions.fargate` grants on the stack's services.
    https://docs.aws.amazon.com/autoscaling/application/userguide/security_iam_id-based-policy-examples.html
    """
    if not uses_scaling(settings):
        return []
    alarms = settings.names.target_tracking_alarm_arn(account)
    return [
        statement("ManageTargetTrackingAlarms", TRACKING_ALARM_WRITES, alarms),
        service_linked_role(settings, account, ECS_SCALING, "ScalingLinkedRole"),
    ]


def _tagged_scaling(settings: Settings, account: str) -> list[Statement]:
    """The scalable targets and the stack's own alarms, one statement per kind of grant (each
    action only reaches its own service's resources): created with the stack's tag, never over
    (or retagging) another stack's (the Deny: neither service has a create-action key, and
    both creating calls also update an existing target or alarm), then changed only while they
    carry it."""
    resources, create, tag, untag, manage = [], [], [], [], []
    if uses_scaling(settings):
        resources.append(settings.names.scalable_target_arn(account))
        service = "application-autoscaling"
        create.append(f"{service}:RegisterScalableTarget")
        tag.append(f"{service}:TagResource")
        untag.append(f"{service}:UntagResource")
        manage += [f"{service}:{a}" for a in SCALING_WRITES]
    if uses_alarms(settings):
        resources.append(settings.names.alarm_arn(account))
        create.append("cloudwatch:PutMetricAlarm")
        tag.append("cloudwatch:TagResource")
        untag.append("cloudwatch:UntagResource")
        manage += ["cloudwatch:DeleteAlarms", "cloudwatch:PutMetricAlarm"]
    if not resources:
        return []
    return [
        statement("CreateStackScaling", create, resources, tagged_for_stack(settings)),
        statement("TagNewStackScaling", tag, resources, tag_on_create(settings)),
        statement("RetagStackScaling", tag, resources, retag_owned_keys(settings)),
        deny_other_stacks(settings, "DenyOtherStacksScaling", [*create, *tag], resources),
        statement("UntagStackScaling", untag, resources, untag_owned(settings)),
        statement("ManageStackScaling", manage, resources, owned_by_stack(settings)),
    ]
