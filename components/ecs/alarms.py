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


def _groups(target: WebTarget) -> list[pulumi.Input[str]]:
    """The target groups the service's tasks may be in: with a second one (blue/green, canary,
    linear), a deployment's new revision is in whichever group does not serve yet."""
    alternate = target.alternate
    second = [alternate.target_group_arn_suffix] if alternate is not None else []
    return [target.target_group_arn_suffix, *second]


def _metric(
    query_id: str, metric: str, target: WebTarget, group: pulumi.Input[str], stat: str = "Sum"
) -> aws.cloudwatch.MetricAlarmMetricQueryArgs:
    return aws.cloudwatch.MetricAlarmMetricQueryArgs(
        id=query_id,
        metric=aws.cloudwatch.MetricAlarmMetricQueryMetricArgs(
            namespace=NAMESPACE,
            metric_name=metric,
            dimensions={
                "LoadBalancer": target.load_balancer_arn_suffix,
                "TargetGroup": group,
            },
            period=ALARM_PERIOD,
            stat=stat,
        ),
        return_data=False,
    )


def _sum(
    query_id: str, metric: str, target: WebTarget
) -> aws.cloudwatch.MetricAlarmMetricQueryArgs:
    return _metric(query_id, metric, target, target.target_group_arn_suffix)


def _worst(
    expression: str, metrics: list[tuple[str, str, str]], target: WebTarget, label: str
) -> list[aws.cloudwatch.MetricAlarmMetricQueryArgs]:
    """`expression` per target group (`{i}` is the group's index), and the worst of them: a
    canary's 5xx rate or latency fires on the canary's own group, not diluted by the old one's
    traffic. `metrics`: (id prefix, metric name, statistic)."""
    groups = _groups(target)
    queries = [
        _metric(f"{prefix}{i}", metric, target, group, stat)
        for i, group in enumerate(groups)
        for prefix, metric, stat in metrics
    ]
    parts = [
        aws.cloudwatch.MetricAlarmMetricQueryArgs(
            id=f"g{i}", expression=expression.format(i=i), return_data=False
        )
        for i in range(len(groups))
    ]
    worst = aws.cloudwatch.MetricAlarmMetricQueryArgs(
        id="worst",
        expression=f"MAX([{', '.join(f'g{i}' for i in range(len(groups)))}])",
        label=label,
        return_data=True,
    )
    return [worst, *parts, *queries]


class ServiceAlarms(pulumi.ComponentResource):
    """Three alarms per web service (5xx rate, unhealthy hosts, p99 latency), each breaching only after `evaluationPeriods` minutes in a
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
            metric_queries=_error_rate(args.target),
            comparison_operator="GreaterThanThreshold",
            threshold=float(settings.error_rate_percent),
            evaluation_periods=periods,
            datapoints_to_alarm=periods,
            treat_missing_data="notBreaching",
            tags=args.tags,
            opts=child,
        )
        unhealthy = self._unhealthy(name, args)
        latency = self._latency(name, args)
        # Names as outputs: the service that lists them waits for the alarms to exist.
        self.alarm_names: list[pulumi.Output[str]] = [errors.name, unhealthy.name, latency.name]
        self.register_outputs({"alarmNames": self.alarm_names})

    def _unhealthy(self, name: str, args: ServiceAlarmsArgs) -> aws.cloudwatch.MetricAlarm:
        settings, service, periods = args.settings, args.service, args.settings.evaluation_periods
        two = args.target.alternate is not None
        return aws.cloudwatch.MetricAlarm(
            f"{name}-unhealthy-hosts",
            name=args.names.alarm_name(service, "unhealthy-hosts"),
            alarm_description=(
                f"{service}: at least {settings.unhealthy_hosts} target(s) failing the load "
                f"balancer's health check for {periods} minute(s); ECS rolls a deployment back on it"
            ),
            namespace=None if two else NAMESPACE,
            metric_name=None if two else "UnHealthyHostCount",
            dimensions=None if two else dimensions(args.target),
            statistic=None if two else "Maximum",
            period=None if two else ALARM_PERIOD,
            metric_queries=_worst(
                "u{i}", [("u", "UnHealthyHostCount", "Maximum")], args.target, "Unhealthy targets"
            )
            if two
            else None,
            comparison_operator="GreaterThanOrEqualToThreshold",
            threshold=float(settings.unhealthy_hosts),
            evaluation_periods=periods,
            datapoints_to_alarm=periods,
            treat_missing_data="notBreaching",
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _latency(self, name: str, args: ServiceAlarmsArgs) -> aws.cloudwatch.MetricAlarm:
        """TargetResponseTime (seconds, per request) at p99, in milliseconds: the slowest 1% of
        answers, which a regression moves long before the average does."""
        settings, service, periods = args.settings, args.service, args.settings.evaluation_periods
        return aws.cloudwatch.MetricAlarm(
            f"{name}-latency-p99",
            name=args.names.alarm_name(service, "latency-p99"),
            alarm_description=(
                f"{service}: the targets' p99 response time over {settings.latency_p99_ms} ms for "
                f"{periods} minute(s); ECS rolls a deployment back on it"
            ),
            metric_queries=_worst(
                "1000 * t{i}",
                [("t", "TargetResponseTime", "p99")],
                args.target,
                "Target response time p99 (ms)",
            ),
            comparison_operator="GreaterThanThreshold",
            threshold=float(settings.latency_p99_ms),
            evaluation_periods=periods,
            datapoints_to_alarm=periods,
            treat_missing_data="notBreaching",
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self),
        )


def _error_rate(target: WebTarget) -> list[aws.cloudwatch.MetricAlarmMetricQueryArgs]:
    """The 5xx share of requests: one target group as it always was; two, the worse of them."""
    if target.alternate is None:
        return [
            aws.cloudwatch.MetricAlarmMetricQueryArgs(
                id="rate",
                expression=ERROR_RATE,
                label="Target 5xx responses (% of requests)",
                return_data=True,
            ),
            _sum("errors", "HTTPCode_Target_5XX_Count", target),
            _sum("requests", "RequestCount", target),
        ]
    return _worst(
        "100 * FILL(e{i}, 0) / r{i}",
        [("e", "HTTPCode_Target_5XX_Count", "Sum"), ("r", "RequestCount", "Sum")],
        target,
        "Target 5xx responses (% of requests, worst target group)",
    )
