"""The `ServiceAlarms` component: the CloudWatch alarms a `web` service's deployments roll back on.

ECS watches the alarms named in the service's deployment `alarms` setting during a rollout and
its bake time, and returns the service to the last completed deployment when one goes to ALARM
(https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-alarm-failure.html). The
circuit breaker catches tasks that never start; these catch tasks that start and then fail the
traffic: a share of 5xx answers from the targets, or targets the load balancer finds unhealthy.

Both read the service's target group on the stack's load balancer (AWS/ApplicationELB, dimensions
`LoadBalancer` and `TargetGroup`, the ARN suffixes `WebTarget` carries):
https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.ecs.target import WebTarget
from rules.naming import StackNames
from settings.scaling import ALARM_PERIOD, AlarmSettings

NAMESPACE = "AWS/ApplicationELB"
# The load balancer publishes HTTPCode_Target_5XX_Count only for minutes that had one, so the
# errors are FILLed with 0; RequestCount is absent for a minute without requests, which makes the
# rate absent too: no traffic is not an error (treat_missing_data `notBreaching`).
ERROR_RATE = "100 * FILL(errors, 0) / requests"


@dataclass
class ServiceAlarmsArgs:
    service: str
    settings: AlarmSettings
    names: StackNames
    target: WebTarget
    tags: dict[str, str]


def dimensions(target: WebTarget) -> dict[str, pulumi.Input[str]]:
    """The target group's metrics, as the load balancer publishes them per target group."""
    return {
        "LoadBalancer": target.load_balancer_arn_suffix,
        "TargetGroup": target.target_group_arn_suffix,
    }


def _sum(
    query_id: str, metric: str, target: WebTarget
) -> aws.cloudwatch.MetricAlarmMetricQueryArgs:
    return aws.cloudwatch.MetricAlarmMetricQueryArgs(
        id=query_id,
        metric=aws.cloudwatch.MetricAlarmMetricQueryMetricArgs(
            namespace=NAMESPACE,
            metric_name=metric,
            dimensions=dimensions(target),
            period=ALARM_PERIOD,
            stat="Sum",
        ),
        return_data=False,
    )


class ServiceAlarms(pulumi.ComponentResource):
    """Two alarms per web service, each breaching only after `evaluationPeriods` minutes in a
    row, so one bad minute during a deploy does not roll it back."""

    def __init__(
        self, name: str, args: ServiceAlarmsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("ecr-fargate:ecs:ServiceAlarms", name, None, opts)
        settings, names, service = args.settings, args.names, args.service
        periods = settings.evaluation_periods
        child = pulumi.ResourceOptions(parent=self)
        # A rate, not a count: the same threshold holds at 10 and at 10,000 requests a minute.
        errors = aws.cloudwatch.MetricAlarm(
            f"{name}-5xx-rate",
            name=names.alarm_name(service, "5xx-rate"),
            alarm_description=(
                f"{service}: over {settings.error_rate_percent}% of requests answered 5xx by the "
                f"tasks for {periods} minute(s); ECS rolls a deployment back on it"
            ),
            metric_queries=[
                aws.cloudwatch.MetricAlarmMetricQueryArgs(
                    id="rate",
                    expression=ERROR_RATE,
                    label="Target 5xx responses (% of requests)",
                    return_data=True,
                ),
                _sum("errors", "HTTPCode_Target_5XX_Count", args.target),
                _sum("requests", "RequestCount", args.target),
            ],
            comparison_operator="GreaterThanThreshold",
            threshold=float(settings.error_rate_percent),
            evaluation_periods=periods,
            datapoints_to_alarm=periods,
            treat_missing_data="notBreaching",
            tags=args.tags,
            opts=child,
        )
        unhealthy = aws.cloudwatch.MetricAlarm(
            f"{name}-unhealthy-hosts",
            name=names.alarm_name(service, "unhealthy-hosts"),
            alarm_description=(
                f"{service}: at least {settings.unhealthy_hosts} target(s) failing the load "
                f"balancer's health check for {periods} minute(s); ECS rolls a deployment back on it"
            ),
            namespace=NAMESPACE,
            metric_name="UnHealthyHostCount",
            dimensions=dimensions(args.target),
            statistic="Maximum",
            period=ALARM_PERIOD,
            comparison_operator="GreaterThanOrEqualToThreshold",
            threshold=float(settings.unhealthy_hosts),
            evaluation_periods=periods,
            datapoints_to_alarm=periods,
            treat_missing_data="notBreaching",
            tags=args.tags,
            opts=child,
        )
        # Names as outputs: the service that lists them waits for the alarms to exist.
        self.alarm_names: list[pulumi.Output[str]] = [errors.name, unhealthy.name]
        self.register_outputs({"alarmNames": self.alarm_names})
