"""Each `web` service's place on the stack's load balancer: a target group and a listener rule.

The target group registers the service's tasks by IP (`awsvpc` tasks have no instance) on the
container port, over HTTP, and health-checks the service's `healthCheckPath`:
- every 15 s, 5 s timeout; healthy after 2 passes (30 s), unhealthy after 3 failures (45 s):
  a new task takes traffic quickly, a flapping one is not dropped on one slow answer;
- any 2xx or 3xx answer is healthy (a redirect to a login page is a live service);
- `deregistrationDelay` (default 30 s, ELB's default is 300 s) is how long a stopping task keeps
  its in-flight requests: a rolling deploy replaces each task that much sooner;
- round robin without slow start: the sample app needs no warm-up, and slow start would hold a
  fresh task's share back through every scale-out.
https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html

The target group's name carries a fingerprint of the properties that replace it (port, protocol,
target type), so Pulumi's create-before-delete replacement never asks for a name still taken.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from rules.naming import StackNames
from settings.fargate import FargateSettings
from settings.web import LoadBalancerSettings, WebRoute

PROTOCOL = "HTTP"
TARGET_TYPE = "ip"


@dataclass(frozen=True)
class HealthCheck:
    interval: int = 15
    timeout: int = 5
    healthy_threshold: int = 2
    unhealthy_threshold: int = 3
    matcher: str = "200-399"


HEALTH_CHECK = HealthCheck()


def fingerprint(port: int) -> str:
    """Six hex characters of what forces a new target group; the same inputs, the same name."""
    return hashlib.sha256(f"{PROTOCOL}|{TARGET_TYPE}|{port}".encode()).hexdigest()[:6]


def target_group_name(names: StackNames, run: FargateSettings, alternate: bool = False) -> str:
    assert run.container.port is not None
    name = names.alternate_target_group_name if alternate else names.target_group_name
    return name(run.service.name, fingerprint(run.container.port))


def literal_prefix(pattern: str) -> str:
    """What every path a pattern matches starts with: `/api/*` -> `/api/`, `/*` -> `/`."""
    return re.split(r"[*?]", pattern, maxsplit=1)[0] or "/"


def service_url(base: str, route: WebRoute, https: bool, port: int | None = None) -> str:
    """Where a person reaches the service: its first literal host (else `base`), on `port` when
    given (the test listener), and the literal head of its first path pattern."""
    host = next((h for h in route.hosts if not set(h) & set("*?")), base)
    path = literal_prefix(route.paths[0]) if route.paths else "/"
    at = f":{port}" if port is not None else ""
    return f"{'https' if https else 'http'}://{host}{at}{path}"


def conditions(route: WebRoute) -> list[aws.lb.ListenerRuleConditionArgs]:
    """Path patterns and host headers: a request must match one value of each given kind."""
    found = []
    if route.paths:
        found.append(
            aws.lb.ListenerRuleConditionArgs(
                path_pattern=aws.lb.ListenerRuleConditionPathPatternArgs(values=list(route.paths))
            )
        )
    if route.hosts:
        found.append(
            aws.lb.ListenerRuleConditionArgs(
                host_header=aws.lb.ListenerRuleConditionHostHeaderArgs(values=list(route.hosts))
            )
        )
    return found


def target_group(
    name: str,
    run: FargateSettings,
    names: StackNames,
    vpc_id: pulumi.Input[str],
    tags: dict[str, str],
    parent: pulumi.Resource,
    alternate: bool = False,
) -> aws.lb.TargetGroup:
    """The service's target group; `alternate`: the second one a blue/green, canary or linear
    deployment registers the new revision in (the same port, health check and timings)."""
    assert run.route is not None and run.container.port is not None
    return aws.lb.TargetGroup(
        f"{name}-tg-alternate" if alternate else f"{name}-tg",
        name=target_group_name(names, run, alternate),
        port=run.container.port,
        protocol=PROTOCOL,
        target_type=TARGET_TYPE,
        vpc_id=vpc_id,
        deregistration_delay=run.route.deregistration_delay,
        load_balancing_algorithm_type="round_robin",
        slow_start=0,
        health_check=aws.lb.TargetGroupHealthCheckArgs(
            enabled=True,
            path=run.container.health_check_path,
            port="traffic-port",
            protocol=PROTOCOL,
            interval=HEALTH_CHECK.interval,
            timeout=HEALTH_CHECK.timeout,
            healthy_threshold=HEALTH_CHECK.healthy_threshold,
            unhealthy_threshold=HEALTH_CHECK.unhealthy_threshold,
            matcher=HEALTH_CHECK.matcher,
        ),
        tags={**tags, "service": run.service.name},
        opts=pulumi.ResourceOptions(parent=parent),
    )


def listener_rule(
    name: str,
    run: FargateSettings,
    settings: LoadBalancerSettings,
    listener_arn: pulumi.Input[str],
    group: aws.lb.TargetGroup,
    tags: dict[str, str],
    parent: pulumi.Resource,
    suffix: str = "rule",
) -> aws.lb.ListenerRule:
    """The service's rule on `listener_arn` (`suffix` `test-rule`: on the test listener). Not
    rolling, the rule forwards to the first target group and ECS rewrites it at each deployment
    to a weighted forward over both groups (observed live: go-to-k/cdk-real-drift#1730), so
    Pulumi leaves the action to ECS from then on: a `pulumi up --refresh` that put the first
    group back at 100% would send traffic to the group ECS just emptied
    (aws/containers-roadmap#2853)."""
    assert run.route is not None
    return aws.lb.ListenerRule(
        f"{name}-{suffix}",
        listener_arn=listener_arn,
        priority=settings.priority(run.service.name),
        conditions=conditions(run.route),
        actions=[aws.lb.ListenerRuleActionArgs(type="forward", target_group_arn=group.arn)],
        tags={**tags, "service": run.service.name},
        opts=pulumi.ResourceOptions(
            parent=parent,
            ignore_changes=None if run.deployment.rolling else ["actions"],
        ),
    )
