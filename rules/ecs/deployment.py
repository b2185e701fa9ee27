"""What ECS needs to run a blue/green, canary or linear deployment behind an Application Load
Balancer: the role it moves the listener rules with, and the lifecycle stages hooks attach to.

ECS assumes the "infrastructure role" (`loadBalancers[].advancedConfiguration.roleArn`) to
register the new revision's tasks in the alternate target group and to rewrite the production and
test listener rules' forward weights. AWS's managed `AmazonECSInfrastructureRolePolicyForLoadBalancers`
grants the reads on `*` (Describe* take no resource), RegisterTargets/DeregisterTargets on every
target group and ModifyListener/ModifyRule on every listener and rule of the account; the policy
here keeps its actions and narrows the writes to the stack's own target groups, listeners and rules.
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/AmazonECSInfrastructureRolePolicyForLoadBalancers.html
https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AmazonECSInfrastructureRolePolicyForLoadBalancers.html
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rules.ecs.iam import VERSION

ECS_PRINCIPAL = "ecs.amazonaws.com"
# Describe* of Elastic Load Balancing support no resource-level permissions.
INFRASTRUCTURE_READS = (
    "elasticloadbalancing:DescribeListeners",
    "elasticloadbalancing:DescribeRules",
    "elasticloadbalancing:DescribeTargetGroups",
    "elasticloadbalancing:DescribeTargetHealth",
)
INFRASTRUCTURE_TARGETS = (
    "elasticloadbalancing:DeregisterTargets",
    "elasticloadbalancing:RegisterTargets",
)
INFRASTRUCTURE_LISTENERS = (
    "elasticloadbalancing:ModifyListener",
    "elasticloadbalancing:ModifyRule",
)
# DeploymentLifecycleHookStage (botocore's ECS model): where a lifecycle hook may run.
LIFECYCLE_STAGES = (
    "RECONCILE_SERVICE",
    "PRE_SCALE_UP",
    "POST_SCALE_UP",
    "TEST_TRAFFIC_SHIFT",
    "POST_TEST_TRAFFIC_SHIFT",
    "PRE_PRODUCTION_TRAFFIC_SHIFT",
    "PRODUCTION_TRAFFIC_SHIFT",
    "POST_PRODUCTION_TRAFFIC_SHIFT",
)


def ecs_assume_role_policy(account_id: str) -> dict[str, Any]:
    """ECS (not its tasks) assumes the infrastructure role, for this account's services only."""
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": ECS_PRINCIPAL},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
            }
        ],
    }


def infrastructure_role_policy(
    *, target_group_arns: Sequence[str], listener_arn: str, listener_rule_arn: str
) -> dict[str, Any]:
    """The managed policy's actions, its writes on the stack's own target groups, listeners and
    listener rules (ARN patterns of the stack's load balancer)."""
    return {
        "Version": VERSION,
        "Statement": [
            {"Sid": "ReadLoadBalancing", "Effect": "Allow",
             "Action": list(INFRASTRUCTURE_READS), "Resource": "*"},
            {"Sid": "MoveTargets", "Effect": "Allow",
             "Action": list(INFRASTRUCTURE_TARGETS), "Resource": sorted(set(target_group_arns))},
            {"Sid": "ShiftTraffic", "Effect": "Allow", "Action": list(INFRASTRUCTURE_LISTENERS),
             "Resource": [listener_arn, listener_rule_arn]},
        ],
    }  # fmt: skip
