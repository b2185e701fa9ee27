"""Autoscaling and deployment alarms: each component alone, `ServiceRun` with a hand-made
`WebTarget`, the whole fixture stacks, and how `pulumi up` leaves the scaler's count alone."""

from __future__ import annotations

import json
import re
from typing import Any

import pulumi
import pytest
import yaml

from components.ecs.alarms import ServiceAlarms, ServiceAlarmsArgs
from components.ecs.cluster import StackCluster, StackClusterArgs
from components.ecs.run import ServiceRun, ServiceRunArgs
from components.ecs.scaling import ServiceScaling, ServiceScalingArgs, tracked_metrics
from components.ecs.target import AlternateTarget, WebTarget
from plan import engine
from plan.engine import ACCOUNT_ID, Rendered, RenderedResource
from rules.naming import StackNames
from settings import Settings
from settings.scaling import (
    SCALE_IN_COOLDOWN,
    SCALE_OUT_COOLDOWN,
    AlarmSettings,
    ScalingSettings,
    ScheduledScaling,
)
from tests.conftest import GIT_ENV, STACKS, render_stack
from tests.test_ecs_components import alone

NAMES = StackNames("dev")
TAGS = {"stack": "dev", "service": "svc"}
LB = "app/ecr-fargate-dev/0123456789abcdef"
TG = "targetgroup/dev-api-1a2b3c4d/fedcba9876543210"
TARGET = WebTarget(
    target_group_arn=f"arn:aws:elasticloadbalancing:us-east-1:{ACCOUNT_ID}:{TG}",
    target_group_arn_suffix=TG,
    load_balancer_arn_suffix=LB,
    load_balancer_security_group_id="sg-0123456789abcdef0",
)
FULL = ScalingSettings(
    2,
    10,
    60,
    75,
    500,
    (
        ScheduledScaling("cron(0 20 * * ? *)", 1, 1, "Europe/Paris"),
        ScheduledScaling("cron(0 7 * * ? *)", 2, 10, "Europe/Paris"),
    ),
)
TARGET_TYPE = "aws:appautoscaling/target:Target"
POLICY = "aws:appautoscaling/policy:Policy"
ACTION = "aws:appautoscaling/scheduledAction:ScheduledAction"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
SERVICE = "aws:ecs/service:Service"


def scaling_alone(settings: ScalingSettings, target: WebTarget | None) -> Rendered:
    def build() -> None:
        service = pulumi.ComponentResource("test:index:Service", "svc-service")
        ServiceScaling("svc", ServiceScalingArgs("svc", settings, NAMES, service, target, TAGS))

    return alone(build)


def test_scaling_registers_the_service_and_tracks_each_metric() -> None:
    r = scaling_alone(FULL, TARGET)
    target = r.one(TARGET_TYPE).inputs
    assert target == {
        "serviceNamespace": "ecs",
        "scalableDimension": "ecs:service:DesiredCount",
        "resourceId": "service/ecr-fargate-dev/svc",
        "minCapacity": 2,
        "maxCapacity": 10,
        "tags": TAGS,
    }
    policies = {p.inputs["name"]: p.inputs for p in r.of_type(POLICY)}
    assert sorted(policies) == [f"ecr-fargate-dev-svc-{m}" for m in ("cpu", "memory", "requests")]
    found = {}
    for policy in policies.values():
        assert policy["policyType"] == "TargetTrackingScaling"
        assert (policy["resourceId"], policy["scalableDimension"], policy["serviceNamespace"]) == (
            target["resourceId"],
            target["scalableDimension"],
            target["serviceNamespace"],
        )
        config = policy["targetTrackingScalingPolicyConfiguration"]
        assert (config["scaleOutCooldown"], config["scaleInCooldown"]) == (60, 300)
        assert (SCALE_OUT_COOLDOWN, SCALE_IN_COOLDOWN) == (60, 300)  # as docs/deploys.md says
        assert config["disableScaleIn"] is False
        spec = config["predefinedMetricSpecification"]
        found[spec["predefinedMetricType"]] = (config["targetValue"], spec.get("resourceLabel"))
    assert found == {
        "ECSServiceAverageCPUUtilization": (60, None),
        "ECSServiceAverageMemoryUtilization": (75, None),
        # PredefinedMetricSpecification.ResourceLabel: app/<lb>/<id>/targetgroup/<tg>/<id>.
        "ALBRequestCountPerTarget": (500, f"{LB}/{TG}"),
    }
    assert re.fullmatch(
        r"app/[^/]+/[0-9a-f]+/targetgroup/[^/]+/[0-9a-f]+",
        found["ALBRequestCountPerTarget"][1],
    )


def test_scheduled_actions_are_named_by_position_on_the_same_target() -> None:
    r = scaling_alone(FULL, TARGET)
    actions = [a.inputs for a in r.of_type(ACTION)]
    assert [a["name"] for a in actions] == [
        "ecr-fargate-dev-svc-scheduled-0",
        "ecr-fargate-dev-svc-scheduled-1",
    ]
    assert [(a["schedule"], a["timezone"], a["scalableTargetAction"]) for a in actions] == [
        ("cron(0 20 * * ? *)", "Europe/Paris", {"minCapacity": 1, "maxCapacity": 1}),
        ("cron(0 7 * * ? *)", "Europe/Paris", {"minCapacity": 2, "maxCapacity": 10}),
    ]
    assert {a["resourceId"] for a in actions} == {"service/ecr-fargate-dev/svc"}
    # PutScheduledAction names: no `:`, `/` or `|`, no leading or trailing space.
    assert all(re.fullmatch(r"[^:/|\s][^:/|]*[^:/|\s]", a["name"]) for a in actions)


def test_a_worker_scales_on_cpu_and_memory_without_a_target() -> None:
    settings = ScalingSettings(1, 3, 50, 80, None, ())
    r = scaling_alone(settings, None)
    assert [p.inputs["name"] for p in r.of_type(POLICY)] == [
        "ecr-fargate-dev-svc-cpu",
        "ecr-fargate-dev-svc-memory",
    ]
    assert r.of_type(ACTION) == []


def test_requests_without_a_web_target_is_a_wiring_error() -> None:
    with pytest.raises(ValueError, match="WebTarget"):
        tracked_metrics(ScalingSettings(1, 3, None, None, 100, ()), None)


def queries(alarm: RenderedResource) -> dict[str, dict[str, Any]]:
    return {q["id"]: q for q in alarm.inputs["metricQueries"]}


def test_alarms_watch_the_target_groups_5xx_rate_and_unhealthy_hosts() -> None:
    settings = AlarmSettings(error_rate_percent=5, unhealthy_hosts=2, evaluation_periods=3)
    r = alone(lambda: ServiceAlarms("svc", ServiceAlarmsArgs("svc", settings, NAMES, TARGET, TAGS)))
    alarms = {a.inputs["name"]: a for a in r.of_type(ALARM)}
    assert sorted(alarms) == [
        "ecr-fargate-dev-svc-5xx-rate",
        "ecr-fargate-dev-svc-latency-p99",
        "ecr-fargate-dev-svc-unhealthy-hosts",
    ]
    dims = {"LoadBalancer": LB, "TargetGroup": TG}
    latency = queries(alarms["ecr-fargate-dev-svc-latency-p99"])
    assert latency["t0"]["metric"] == {
        "namespace": "AWS/ApplicationELB",
        "metricName": "TargetResponseTime",
        "dimensions": dims,
        "period": 60,
        "stat": "p99",
    }
    # TargetResponseTime is in seconds; the threshold in milliseconds (the default 1000).
    assert (latency["g0"]["expression"], latency["worst"]["expression"]) == (
        "1000 * t0",
        "MAX([g0])",
    )
    assert [i for i, x in latency.items() if x.get("returnData")] == ["worst"]
    assert alarms["ecr-fargate-dev-svc-latency-p99"].inputs["threshold"] == 1000
    rate = alarms["ecr-fargate-dev-svc-5xx-rate"]
    q = queries(rate)
    # The one returned series is the expression; every id it names is a query of the alarm.
    assert [i for i, x in q.items() if x.get("returnData")] == ["rate"]
    # A literal, not ecs.alarms.ERROR_RATE: the percentage of requests answered 5xx, and a period
    # with no 5xx (no datapoint) counts as 0, not as missing.
    assert q["rate"]["expression"] == "100 * FILL(errors, 0) / requests"
    assert set(q) == {"rate", "errors", "requests"}
    for qid, metric in (("errors", "HTTPCode_Target_5XX_Count"), ("requests", "RequestCount")):
        assert q[qid]["metric"] == {
            "namespace": "AWS/ApplicationELB",
            "metricName": metric,
            "dimensions": dims,
            "period": 60,
            "stat": "Sum",
        }
    assert (rate.inputs["threshold"], rate.inputs["comparisonOperator"]) == (
        5,
        "GreaterThanThreshold",
    )
    hosts = alarms["ecr-fargate-dev-svc-unhealthy-hosts"].inputs
    assert (hosts["namespace"], hosts["metricName"], hosts["dimensions"]) == (
        "AWS/ApplicationELB",
        "UnHealthyHostCount",
        dims,
    )
    assert (hosts["statistic"], hosts["period"], hosts["threshold"]) == ("Maximum", 60, 2)
    assert hosts["comparisonOperator"] == "GreaterThanOrEqualToThreshold"
    for alarm in alarms.values():
        a = alarm.inputs
        assert a["treatMissingData"] == "notBreaching"
        assert a["evaluationPeriods"] == a["datapointsToAlarm"] == 3
        assert a["tags"] == TAGS
        assert "alarmActions" not in a  # ECS reads the state; nothing else is notified
        assert alarm.inputs["name"].startswith("ecr-fargate-dev-svc-")


def test_with_a_second_target_group_every_alarm_fires_on_the_worse_group() -> None:
    second = "targetgroup/dev-api-1a2b3c4d-g/0123456789abcdef"
    target = WebTarget(
        target_group_arn=TARGET.target_group_arn,
        target_group_arn_suffix=TG,
        load_balancer_arn_suffix=LB,
        load_balancer_security_group_id="sg-0123456789abcdef0",
        alternate=AlternateTarget(
            target_group_arn=f"arn:aws:elasticloadbalancing:us-east-1:{ACCOUNT_ID}:{second}",
            target_group_arn_suffix=second,
            production_listener_rule_arn="arn:aws:elasticloadbalancing:us-east-1:1:listener-rule/p",
            test_listener_rule_arn="arn:aws:elasticloadbalancing:us-east-1:1:listener-rule/t",
            role_arn=f"arn:aws:iam::{ACCOUNT_ID}:role/ecr-fargate/dev/ecr-fargate-dev-ecs-lb",
        ),
    )
    settings = AlarmSettings(error_rate_percent=5, unhealthy_hosts=2, evaluation_periods=3)
    r = alone(lambda: ServiceAlarms("svc", ServiceAlarmsArgs("svc", settings, NAMES, target, TAGS)))
    alarms = {a.inputs["name"].rsplit("-svc-", 1)[1]: a for a in r.of_type(ALARM)}
    assert sorted(alarms) == ["5xx-rate", "latency-p99", "unhealthy-hosts"]
    for alarm in alarms.values():
        q = queries(alarm)
        assert q["worst"]["expression"] == "MAX([g0, g1])" and q["worst"]["returnData"] is True
        groups = {x["metric"]["dimensions"]["TargetGroup"] for x in q.values() if "metric" in x}
        assert groups == {TG, second}
    rate = queries(alarms["5xx-rate"])
    assert rate["g1"]["expression"] == "100 * FILL(e1, 0) / r1"
    assert rate["e1"]["metric"]["dimensions"] == {"LoadBalancer": LB, "TargetGroup": second}
    assert "namespace" not in alarms["unhealthy-hosts"].inputs


def render_runs(
    overrides: dict[str, Any] | None, target: WebTarget | None, service: str = "api"
) -> Rendered:
    """The fixture dev stack's cluster and one of its runs, the run given `target`: the load
    balancer's part, which another component provides, is a plain hand-made `WebTarget`."""
    raw = engine.raw_stack_config("dev", overrides=overrides, stack_dir=STACKS)

    def program(settings: Settings) -> dict[str, Any]:
        assert settings.fargate is not None
        f = settings.fargate
        cluster = StackCluster(
            "cluster",
            StackClusterArgs(settings.names, f.network, False, [8080], True, settings.tags),
        )
        (run,) = [r for r in f.runs if r.service.name == service]
        digest = f"{ACCOUNT_ID}.dkr.ecr.us-east-1.amazonaws.com/dev/{service}@sha256:" + "ab" * 32
        ServiceRun(
            service,
            ServiceRunArgs(
                run,
                settings.names,
                f.network,
                cluster,
                ACCOUNT_ID,
                digest,
                [],
                None,
                {**settings.tags, "service": service},
                boundary_arn=settings.names.stack_boundary_arn(ACCOUNT_ID),
                primary=False,
                target=target,
            ),
        )
        return {}

    return engine.render(raw, env=GIT_ENV, program=program)


def api_with(run_changes: dict[str, Any]) -> dict[str, Any]:
    """Overrides giving the fixture dev stack's `api` these run keys (None: drop the key)."""
    doc = yaml.safe_load((STACKS / "Pulumi.dev.yaml").read_text())
    services = doc["config"]["ecr-fargate:services"]
    merged = {**services[0]["run"], **run_changes}
    services[0]["run"] = {k: v for k, v in merged.items() if v is not None}
    return {"services": services}


WEB_SCALING = {"min": 2, "max": 6, "cpuPercent": 70, "requestsPerTarget": 800}


def test_a_web_run_with_a_target_rolls_back_on_its_alarms_and_scales_on_requests() -> None:
    overrides = api_with({"scaling": WEB_SCALING, "alarms": {"errorRatePercent": 10}})
    r = render_runs(overrides, TARGET)
    service = r.one(SERVICE)
    alarms = {a.inputs["name"]: a.inputs for a in r.of_type(ALARM)}
    assert service.inputs["alarms"] == {
        "alarmNames": [
            "ecr-fargate-dev-api-5xx-rate",
            "ecr-fargate-dev-api-unhealthy-hosts",
            "ecr-fargate-dev-api-latency-p99",
        ],
        "enable": True,
        "rollback": True,
    }
    assert set(service.inputs["alarms"]["alarmNames"]) == set(alarms)
    assert alarms["ecr-fargate-dev-api-5xx-rate"]["threshold"] == 10
    assert service.inputs["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
    # The service starts at scaling.min, and the scaler owns the count from then on.
    assert service.inputs["desiredCount"] == 2
    assert service.ignore_changes == ("desiredCount",)
    target = r.one(TARGET_TYPE).inputs
    assert target["resourceId"] == "service/ecr-fargate-dev/api"
    assert r.one("aws:ecs/cluster:Cluster").inputs["name"] == "ecr-fargate-dev"
    assert target["resourceId"].endswith("/" + service.inputs["name"])
    requests = r.named("api-scaling-requests").inputs["targetTrackingScalingPolicyConfiguration"]
    assert requests["predefinedMetricSpecification"]["resourceLabel"] == f"{LB}/{TG}"
    tagged = [*r.of_type(ALARM), *r.of_type(TARGET_TYPE), service]
    assert all(x.inputs["tags"]["stack"] == "dev" for x in tagged)
    assert all(x.inputs["tags"]["service"] == "api" for x in tagged)


def test_a_web_run_without_a_target_or_with_alarms_off_has_no_deployment_alarms() -> None:
    # Without a target the run may not scale on requests (settings refuse it for anything but a
    # web service, and every web service behind the load balancer has its target).
    cpu_only = {"scaling": {"min": 1, "max": 3, "cpuPercent": 70}}
    for target, changes in ((None, cpu_only), (TARGET, {"alarms": {"enabled": False}})):
        r = render_runs(api_with(changes), target)
        assert r.of_type(ALARM) == []
        assert "alarms" not in r.one(SERVICE).inputs


def test_a_run_without_scaling_keeps_its_desired_count_under_pulumis_control() -> None:
    overrides = api_with({"scaling": None, "desiredCount": 3})
    r = render_runs(overrides, TARGET)
    service = r.one(SERVICE)
    assert (service.inputs["desiredCount"], service.ignore_changes) == (3, ())
    assert r.of_type(TARGET_TYPE) == r.of_type(POLICY) == []


def update_diff(
    state: dict[str, Any], inputs: dict[str, Any], ignore_changes: tuple[str, ...]
) -> set[str]:
    """The top-level inputs `pulumi up` would change: those that differ from the state, less the
    ignored ones, whose old value Pulumi carries into the new inputs.
    https://www.pulumi.com/docs/iac/concepts/options/ignorechanges/"""
    planned = {**inputs, **{k: state[k] for k in ignore_changes if k in state}}
    return {k for k in planned.keys() | state.keys() if planned.get(k) != state.get(k)}


def test_an_update_after_the_scaler_moved_the_count_changes_nothing() -> None:
    overrides = api_with({"scaling": WEB_SCALING})
    first = render_runs(overrides, TARGET).one(SERVICE)
    # The ignored name is a real input of the service: a typo would ignore nothing.
    assert set(first.ignore_changes) <= set(first.inputs)
    scaled = {**first.inputs, "desiredCount": 5}  # Application Auto Scaling's doing
    again = render_runs(overrides, TARGET).one(SERVICE)
    assert again.inputs == first.inputs
    assert update_diff(scaled, again.inputs, again.ignore_changes) == set()
    # Switching scaling on leaves a running service's count as it is (the scalable target then
    # moves it into min..max); switching it off hands the count back to desiredCount.
    fixed = render_runs(api_with({"scaling": None, "desiredCount": 3}), TARGET).one(SERVICE)
    assert update_diff(fixed.inputs, again.inputs, again.ignore_changes) == set()
    assert update_diff(fixed.inputs, again.inputs, ()) == {"desiredCount"}  # without the option
    off = render_runs(api_with({"scaling": None, "desiredCount": 2}), TARGET).one(SERVICE)
    assert update_diff(scaled, off.inputs, off.ignore_changes) == {"desiredCount"}


def test_runs_render_byte_identical_twice() -> None:
    overrides = api_with(
        {
            "scaling": {
                **WEB_SCALING,
                "scheduled": [
                    {"schedule": "cron(0 22 * * ? *)", "min": 1, "max": 2, "timezone": "Asia/Tokyo"}
                ],
            }
        }
    )
    renders = [render_runs(overrides, TARGET) for _ in range(2)]
    # Registration order is asynchronous; the inputs of each resource are what must not change.
    a, b = (
        sorted(
            (x.type, x.name, json.dumps(x.inputs, sort_keys=True), x.ignore_changes)
            for x in r.resources
        )
        for r in renders
    )
    assert a == b
    assert {t for t, *_ in a} >= {TARGET_TYPE, POLICY, ACTION, ALARM}


def test_the_stacks_scale_their_services_on_their_own_cluster(stack: Rendered) -> None:
    """Whole stacks: every scalable target is a service of the stack's cluster that ignores
    its desiredCount, and every service that ignores it has a scalable target."""
    cluster = stack.one("aws:ecs/cluster:Cluster").inputs["name"]
    services = {s.inputs["name"]: s for s in stack.of_type(SERVICE)}
    targets = {t.inputs["resourceId"]: t.inputs for t in stack.of_type(TARGET_TYPE)}
    scaled = {n for n, s in services.items() if s.ignore_changes == ("desiredCount",)}
    assert set(targets) == {f"service/{cluster}/{n}" for n in scaled}
    assert "api" in scaled
    for name in scaled:
        target = targets[f"service/{cluster}/{name}"]
        assert services[name].inputs["desiredCount"] == target["minCapacity"]
        assert target["tags"]["stack"] == stack.stack
    ids = set(targets)
    for child in [*stack.of_type(POLICY), *stack.of_type(ACTION)]:
        assert child.inputs["resourceId"] in ids


def test_the_prod_worker_stops_for_quiet_hours(prod: Rendered) -> None:
    actions = [a.inputs for a in prod.of_type(ACTION)]
    assert [(a["name"], a["scalableTargetAction"]) for a in actions] == [
        ("ecr-fargate-prod-worker-scheduled-0", {"minCapacity": 0, "maxCapacity": 0}),
        ("ecr-fargate-prod-worker-scheduled-1", {"minCapacity": 1, "maxCapacity": 4}),
    ]
    assert {a["resourceId"] for a in actions} == {"service/ecr-fargate-prod/worker"}
    memory = prod.named("worker-scaling-memory").inputs["targetTrackingScalingPolicyConfiguration"]
    assert memory["predefinedMetricSpecification"] == {
        "predefinedMetricType": "ECSServiceAverageMemoryUtilization"
    }


def test_a_backend_scales_in_a_whole_stack_render() -> None:
    backend = {
        "name": "orders",
        "build": {"context": "app"},
        "run": {"kind": "backend", "port": 9000, "scaling": {"min": 1, "max": 3, "cpuPercent": 50}},
    }
    overrides = api_with({})
    overrides["services"].append(backend)
    r = render_stack("dev", env=GIT_ENV, overrides=overrides)
    assert r.named("orders-scaling").inputs["resourceId"] == "service/ecr-fargate-dev/orders"
    assert r.named("orders-service").ignore_changes == ("desiredCount",)
    assert r.named("orders-scaling-cpu").inputs["name"] == "ecr-fargate-dev-orders-cpu"
