"""What a `web` service needs from the stack's load balancer: its target group, and the ARN
suffixes CloudWatch metrics and Application Auto Scaling name them by.

The load balancer component produces one `WebTarget` per `web` service; `ServiceRun` hands it to
the ECS service (its `loadBalancers` block), to the alarms the deployment rolls back on, and to
the request-count scaling policy, so none of them looks the load balancer up on its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi


@dataclass(frozen=True)
class WebTarget:
    # The target group the service registers its tasks in (`ip` targets on the service's port).
    target_group_arn: pulumi.Input[str]
    # `targetgroup/<name>/<id>`: the `TargetGroup` dimension of the AWS/ApplicationELB metrics.
    target_group_arn_suffix: pulumi.Input[str]
    # `app/<name>/<id>`: the `LoadBalancer` dimension; with the target group's suffix it makes
    # the `ALBRequestCountPerTarget` resource label `app/<name>/<id>/targetgroup/<name>/<id>`.
    load_balancer_arn_suffix: pulumi.Input[str]
    # The load balancer's security group: the only source the task's group admits on its port.
    load_balancer_security_group_id: pulumi.Input[str]
    # The listener rules that forward to the target group: ECS refuses a target group that no
    # listener uses, so the service waits for them.
    depends_on: Sequence[pulumi.Resource] = field(default_factory=tuple)
    # Not rolling: what ECS moves traffic with (`loadBalancers[].advancedConfiguration`).
    alternate: AlternateTarget | None = None


@dataclass(frozen=True)
class AlternateTarget:
    """A blue/green, canary or linear deployment's second target group, the rules ECS rewrites
    (production on the serving listener, test on the stack-internal test listener) and the role
    ECS rewrites them with."""

    target_group_arn: pulumi.Input[str]
    target_group_arn_suffix: pulumi.Input[str]
    production_listener_rule_arn: pulumi.Input[str]
    test_listener_rule_arn: pulumi.Input[str]
    role_arn: pulumi.Input[str]
