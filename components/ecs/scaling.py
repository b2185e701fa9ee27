"""The `ServiceScaling` component: Application Auto Scaling of a long-running service's task count.

The service registers as a scalable target (`ecs:service:DesiredCount`, between `scaling.min` and
`scaling.max`), with one target-tracking policy per metric given and one scheduled action per
`scaling.scheduled` entry. The scaler, not `pulumi up`, owns the running count from then on: the
ECS service ignores changes to its `desiredCount` (see `components.ecs.service`), so an update never resets
what the scaler set.
https://docs.aws.amazon.com/autoscaling/application/userguide/services-that-can-integrate-ecs.html
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.ecs.target import WebTarget
from rules.naming import StackNames
from settings.scaling import SCALE_IN_COOLDOWN, SCALE_OUT_COOLDOWN, ScalingSettings

DIMENSION = "ecs:service:DesiredCount"


@dataclass
class ServiceScalingArgs:
    service: str
    settings: ScalingSettings
    names: StackNames
    ecs_service: pulumi.Resource  # registered only once the ECS service exists
    target: WebTarget | None  # a web service's target group: what requestsPerTarget counts on
    tags: dict[str, str]


def tracked_metrics(
    settings: ScalingSettings, target: WebTarget | None
) -> list[tuple[str, str, int, pulumi.Input[str] | None]]:
    """(short name, predefined metric, target value, resource label) of each policy to create.

    `ALBRequestCountPerTarget` names its target group by `<lb arn suffix>/<tg arn suffix>`
    (PredefinedMetricSpecification's ResourceLabel)."""
    found: list[tuple[str, str, int, pulumi.Input[str] | None]] = []
    if settings.cpu_percent is not None:
        found.append(("cpu", "ECSServiceAverageCPUUtilization", settings.cpu_percent, None))
    if settings.memory_percent is not None:
        found.append(
            ("memory", "ECSServiceAverageMemoryUtilization", settings.memory_percent, None)
        )
    if settings.requests_per_target is not None:
        if target is None:
            # Settings allow requestsPerTarget for a web service only, and every web service
            # gets a WebTarget: reaching here is a wiring bug, not a configuration problem.
            raise ValueError("requestsPerTarget needs the web service's WebTarget")
        label = pulumi.Output.concat(
            target.load_balancer_arn_suffix, "/", target.target_group_arn_suffix
        )
        found.append(("requests", "ALBRequestCountPerTarget", settings.requests_per_target, label))
    return found


class ServiceScaling(pulumi.ComponentResource):
    def __init__(
        self, name: str, args: ServiceScalingArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("ecr-fargate:ecs:ServiceScaling", name, None, opts)
        settings, names, service = args.settings, args.names, args.service
        # No role_arn: Application Auto Scaling uses (and creates on first use) its ECS
        # service-linked role, AWSServiceRoleForApplicationAutoScaling_ECSService.
        self.target = aws.appautoscaling.Target(
            f"{name}-scaling",
            service_namespace="ecs",
            scalable_dimension=DIMENSION,
            resource_id=names.scalable_target_resource_id(service),
            min_capacity=settings.min,
            max_capacity=settings.max,
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[args.ecs_service]),
        )
        # One change at a time: a scalable target with a pending update refuses another
        # (ConcurrentUpdateException), so each policy and action waits for the one before.
        previous: pulumi.Resource = self.target
        for short, metric, value, label in tracked_metrics(settings, args.target):
            previous = aws.appautoscaling.Policy(
                f"{name}-scaling-{short}",
                name=names.scaling_policy_name(service, short),
                policy_type="TargetTrackingScaling",
                service_namespace=self.target.service_namespace,
                scalable_dimension=self.target.scalable_dimension,
                resource_id=self.target.resource_id,
                target_tracking_scaling_policy_configuration=aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationArgs(
                    target_value=float(value),
                    predefined_metric_specification=aws.appautoscaling.PolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecificationArgs(
                        predefined_metric_type=metric, resource_label=label
                    ),
                    scale_out_cooldown=SCALE_OUT_COOLDOWN,
                    scale_in_cooldown=SCALE_IN_COOLDOWN,
                    disable_scale_in=False,
                ),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[previous]),
            )
        for j, action in enumerate(settings.scheduled):
            previous = aws.appautoscaling.ScheduledAction(
                f"{name}-scheduled-{j}",
                name=names.scheduled_action_name(service, j),
                service_namespace=self.target.service_namespace,
                scalable_dimension=self.target.scalable_dimension,
                resource_id=self.target.resource_id,
                schedule=action.schedule,
                timezone=action.timezone,
                scalable_target_action=aws.appautoscaling.ScheduledActionScalableTargetActionArgs(
                    min_capacity=action.min, max_capacity=action.max
                ),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[previous]),
            )
        self.register_outputs({"resourceId": self.target.resource_id})
