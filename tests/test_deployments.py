"""Deployment strategies (`services[].run.deployment`), the latency alarm, `migrate`, and what a
web service that is not rolling gets: a second target group, a test listener and rules reachable
from the stack's tasks only, the infrastructure role, the deploy role's and the boundary's part,
and the policy pack's guard on prod rollouts. Expected values are literals or AWS's own limits."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any, cast

import pytest
from pulumi_aws.ecs import ServiceDeploymentConfigurationLifecycleHookArgs

import permissions as policies
import settings
from components import program
from components.ecs.run import ServiceRunArgs
from components.ecs.service import LifecycleHook, deployment_configuration
from plan import engine
from plan.engine import ACCOUNT_ID, Rendered
from policy import controls
from rules.iam.evaluate import Request, is_allowed
from rules.naming import StackNames
from settings import ConfigErrors
from settings.deploy import DeploymentSettings, MigrateSettings
from settings.source import from_files
from tests.conftest import GIT_ENV, STACKS, legacy, render_stack
from tests.test_ecs_components import minimal_run

APP = {"context": "app"}
TG = "aws:lb/targetGroup:TargetGroup"
LISTENER = "aws:lb/listener:Listener"
RULE = "aws:lb/listenerRule:ListenerRule"
ROLE = "aws:iam/role:Role"
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/dev/site@sha256:" + "ab" * 32


def web(name: str = "api", **run: Any) -> dict[str, Any]:
    return {"name": name, "build": APP, "run": {"kind": "web", "port": 8080, **run}}


def by_arn(stack: Rendered, type_: str, arn: str) -> Any:
    (found,) = [r for r in stack.of_type(type_) if r.state.get("arn") == arn]
    return found


# --- defaults -------------------------------------------------------------------------------------
def test_prod_web_services_go_canary_and_everything_else_rolls(
    dev: Rendered, prod: Rendered
) -> None:
    api = dict(prod.named("api-service").inputs["deploymentConfiguration"])
    api.pop("lifecycleHooks")  # prod's api migrates (tests/test_hooks_wired.py)
    assert api == {
        "strategy": "CANARY",
        "bakeTimeInMinutes": "15",
        "canaryConfiguration": {"canaryPercent": 10.0, "canaryBakeTimeInMinutes": "10"},
    }
    assert prod.named("worker-service").inputs["deploymentConfiguration"] == {"strategy": "ROLLING"}
    assert dev.named("api-service").inputs["deploymentConfiguration"] == {"strategy": "ROLLING"}
    assert prod.outputs["deploymentStrategies"] == {"api": "canary", "worker": "rolling"}
    assert dev.outputs["deploymentStrategies"] == {"api": "rolling", "worker": "rolling"}
    # A rolling stack gets none of the blue/green resources.
    assert len(dev.of_type(TG)) == 1 and len(dev.of_type(LISTENER)) == 1
    assert "testUrls" in dev.outputs and dev.outputs["testUrls"] == {}
    assert not [r for r in dev.of_type(ROLE) if "ecs-infrastructure" in r.name]


def test_the_old_fargate_form_keeps_rolling_in_prod() -> None:
    """It declares no `deployment`, so it could not opt out of canary: it stays as it was."""
    fargate = {"service": "api", "subnetIds": ["subnet-0f1e2d3c4b5a60001"]}
    r = render_stack("prod", env=GIT_ENV, overrides=legacy("prod", fargate))
    assert r.outputs["deploymentStrategies"] == {"api": "rolling"}
    assert len(r.of_type(TG)) == 1


def test_prod_api_wires_both_groups_both_rules_and_the_role(prod: Rendered) -> None:
    service = prod.named("api-service")
    (attachment,) = service.inputs["loadBalancers"]
    advanced = attachment["advancedConfiguration"]
    first = by_arn(prod, TG, attachment["targetGroupArn"])
    second = by_arn(prod, TG, advanced["alternateTargetGroupArn"])
    assert (first.name, second.name) == ("load-balancer-api-tg", "load-balancer-api-tg-alternate")
    for key in ("port", "protocol", "targetType", "vpcId", "healthCheck", "deregistrationDelay"):
        assert second.inputs[key] == first.inputs[key], key
    production = by_arn(prod, RULE, advanced["productionListenerRule"])
    test = by_arn(prod, RULE, advanced["testListenerRule"])
    serving = by_arn(prod, LISTENER, production.inputs["listenerArn"])
    test_listener = by_arn(prod, LISTENER, test.inputs["listenerArn"])
    assert (serving.inputs["port"], test_listener.inputs["port"]) == (443, 8443)
    # The test rule matches what the production rule matches, at the same priority.
    assert test.inputs["conditions"] == production.inputs["conditions"]
    assert test.inputs["priority"] == production.inputs["priority"]
    for rule in (production, test):
        assert rule.inputs["actions"] == [{"type": "forward", "targetGroupArn": first.state["arn"]}]
    role = by_arn(prod, ROLE, advanced["roleArn"])
    assert role.inputs["name"] == "ecr-fargate-prod-ecs-lb"
    assert role.inputs["path"] == "/ecr-fargate/prod/"
    assert role.inputs["permissionsBoundary"] == StackNames("prod").boundary_arn(ACCOUNT_ID)
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert trust == [
        {
            "Effect": "Allow",
            "Principal": {"Service": "ecs.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT_ID}},
        }
    ]
    (policy,) = [
        json.loads(p.inputs["policy"])
        for p in prod.of_type("aws:iam/rolePolicy:RolePolicy")
        if p.inputs["role"] == role.inputs["name"]  # a role's ID is its name
    ]
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    assert by_sid["MoveTargets"]["Resource"] == sorted([first.state["arn"], second.state["arn"]])
    lb = "elasticloadbalancing:us-east-1:123456789012"
    assert by_sid["ShiftTraffic"]["Resource"] == [
        f"arn:aws:{lb}:listener/app/ecr-fargate-prod/*",
        f"arn:aws:{lb}:listener-rule/app/ecr-fargate-prod/*",
    ]
    assert by_sid["ReadLoadBalancing"]["Resource"] == "*"
    assert prod.outputs["testUrls"] == {"api": "https://api.fixture.example:8443/"}


def test_the_test_listener_admits_the_stacks_tasks_only(prod: Rendered) -> None:
    (group,) = [
        g
        for g in prod.of_type("aws:ec2/securityGroup:SecurityGroup")
        if g.name == "load-balancer-sg"
    ]
    (rule,) = [r for r in group.inputs["ingress"] if r["fromPort"] == 8443]
    assert rule["securityGroups"] == [prod.named("cluster-services-sg").id]
    assert "cidrBlocks" not in rule and "ipv6CidrBlocks" not in rule


def test_the_latency_alarm_rolls_back_during_the_bake(dev: Rendered) -> None:
    alarm = dev.named("api-latency-p99").inputs
    assert alarm["name"] == "ecr-fargate-dev-api-latency-p99"
    assert alarm["threshold"] == 1000.0 and alarm["comparisonOperator"] == "GreaterThanThreshold"
    stats = {
        q["metric"]["metricName"]: q["metric"]["stat"]
        for q in alarm["metricQueries"]
        if "metric" in q
    }
    assert stats == {"TargetResponseTime": "p99"}
    assert (
        "ecr-fargate-dev-api-latency-p99" in dev.named("api-service").inputs["alarms"]["alarmNames"]
    )
    off = render_stack("dev", env=GIT_ENV, overrides={"services": [web(alarms={"enabled": False})]})
    assert off.of_type("aws:cloudwatch/metricAlarm:MetricAlarm") == []


def test_switching_strategy_updates_the_service_in_place() -> None:
    """CloudFormation's registry schema for AWS::ECS::Service (bundled with cfn-lint) lists what
    only a replacement can change; the strategy and the load balancers are not among it."""
    import cfnlint

    schemas = Path(cfnlint.__file__).parent / "data" / "schemas" / "resources"
    found = [json.loads(p.read_text()) for p in schemas.glob("*.json")]
    (ecs,) = [d for d in found if d.get("typeName") == "AWS::ECS::Service"]
    create_only = set(ecs["createOnlyProperties"])
    assert "/properties/DeploymentConfiguration" not in create_only
    assert "/properties/LoadBalancers" not in create_only
    assert "Strategy" in ecs["definitions"]["DeploymentConfiguration"]["properties"]


# --- other strategies -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("deployment", "expected"),
    [
        (
            {"strategy": "linear", "stepPercent": 25, "stepBakeMinutes": 3},
            {
                "strategy": "LINEAR",
                "bakeTimeInMinutes": "5",
                "linearConfiguration": {"stepPercent": 25.0, "stepBakeTimeInMinutes": "3"},
            },
        ),
        (
            {"strategy": "blue-green", "bakeMinutes": 0},
            {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": "0"},
        ),
    ],
)
def test_dev_web_service_on_linear_or_blue_green(deployment: dict, expected: dict) -> None:
    r = render_stack("dev", env=GIT_ENV, overrides={"services": [web(deployment=deployment)]})
    assert r.named("api-service").inputs["deploymentConfiguration"] == expected
    # HTTP without a domain: the test listener is plain HTTP on 8080.
    assert sorted(x.inputs["port"] for x in r.of_type(LISTENER)) == [80, 8080]
    assert r.outputs["testUrls"]["api"].endswith(":8080/")


def test_a_backend_may_go_blue_green_without_a_load_balancer() -> None:
    backend = {
        "name": "svc",
        "build": APP,
        "run": {"kind": "backend", "port": 9000, "deployment": {"strategy": "blue-green"}},
    }
    r = render_stack("dev", env=GIT_ENV, overrides={"services": [backend]})
    service = r.named("svc-service").inputs
    assert service["deploymentConfiguration"] == {
        "strategy": "BLUE_GREEN",
        "bakeTimeInMinutes": "5",
    }
    assert "loadBalancers" not in service and r.of_type(TG) == []


def test_lifecycle_hooks_come_from_the_runs_hooks_and_are_absent_without() -> None:
    run = minimal_run("web", 8080, deployment=DeploymentSettings("canary", 15, 10, 10, 20, 5))
    hook = LifecycleHook(
        hook_target_arn="arn:aws:lambda:us-east-1:123456789012:function:fake-smoke",
        role_arn="arn:aws:iam::123456789012:role/ecr-fargate/dev/fake-hook",
        lifecycle_stages=["POST_TEST_TRAFFIC_SHIFT"],
    )
    args = deployment_configuration(run, [hook])
    (entry,) = cast(list[ServiceDeploymentConfigurationLifecycleHookArgs], args.lifecycle_hooks)
    assert entry.hook_target_arn == "arn:aws:lambda:us-east-1:123456789012:function:fake-smoke"
    assert entry.role_arn == "arn:aws:iam::123456789012:role/ecr-fargate/dev/fake-hook"
    assert entry.lifecycle_stages == ["POST_TEST_TRAFFIC_SHIFT"]
    assert deployment_configuration(run, []).lifecycle_hooks is None


def test_hooks_given_to_the_run_reach_the_rendered_service(monkeypatch: pytest.MonkeyPatch) -> None:
    hook = LifecycleHook(
        hook_target_arn="arn:aws:lambda:us-east-1:123456789012:function:fake-migrate",
        role_arn="arn:aws:iam::123456789012:role/ecr-fargate/prod/fake-hook",
        lifecycle_stages=["PRE_SCALE_UP"],
        hook_details='{"timeoutMinutes": 15}',
    )
    monkeypatch.setattr(program, "ServiceRunArgs", functools.partial(ServiceRunArgs, hooks=[hook]))
    r = render_stack("prod", env=GIT_ENV)
    given, migration = r.named("api-service").inputs["deploymentConfiguration"]["lifecycleHooks"]
    assert given == {
        "hookTargetArn": "arn:aws:lambda:us-east-1:123456789012:function:fake-migrate",
        "roleArn": "arn:aws:iam::123456789012:role/ecr-fargate/prod/fake-hook",
        "lifecycleStages": ["PRE_SCALE_UP"],
        "hookDetails": '{"timeoutMinutes": 15}',
    }
    # The api's own migration follows the given hooks (tests/test_hooks_wired.py).
    assert migration["hookTargetArn"].endswith(":function:ecr-fargate-prod-api-migrate")


def test_prod_api_carries_its_migration_for_the_hooks() -> None:
    loaded = settings.load(from_files("prod", stack_dir=STACKS), env=GIT_ENV)
    assert loaded.fargate is not None
    api = next(r for r in loaded.fargate.runs if r.service.name == "api")
    assert api.migrate == MigrateSettings(("python", "/app/migrate.pyc"), 15)
    assert all(r.migrate is None for r in loaded.fargate.runs if r.service.name != "api")


def test_the_migrations_are_an_output_for_the_team(prod: Rendered, dev: Rendered) -> None:
    assert prod.outputs["migrations"] == {
        "api": {"command": ["python", "/app/migrate.pyc"], "timeoutMinutes": 15}
    }
    assert dev.outputs["migrations"] == {}


# --- bad input ------------------------------------------------------------------------------------
def test_every_bad_deployment_is_one_line_at_its_key_all_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    services = [
        web(
            deployment={
                "strategy": "canary",
                "canaryPercent": 0,
                "canaryBakeMinutes": 1441,
                "bakeMinutes": -1,
            }
        ),
        web(
            "site",
            paths=["/site/*"],
            deployment={"strategy": "linear", "stepPercent": 2, "stepBakeMinutes": 2000},
        ),
        {
            "name": "worker",
            "build": APP,
            "run": {"kind": "worker", "deployment": {"strategy": "canary"}},
        },
        {
            "name": "img",
            "image": IMAGE,
            "run": {
                "kind": "web",
                "port": 8080,
                "paths": ["/img/*"],
                "deployment": {"strategy": "blue-green"},
                "migrate": {"command": ["x"]},
            },
        },
        web("roll", paths=["/roll/*"], migrate={"command": ["python", "/app/migrate.pyc"]}),
        web(
            "slow",
            paths=["/slow/*"],
            deployment={"strategy": "canary"},
            migrate={"command": [], "timeoutMinutes": 1441},
        ),
        web("odd", paths=["/odd/*"], deployment={"strategy": "canary", "stepPercent": 10}),
    ]
    registered: list[str] = []
    original = engine._Mocks.new_resource

    def spy(self: Any, args: Any) -> Any:
        registered.append(args.typ)
        return original(self, args)

    monkeypatch.setattr(engine._Mocks, "new_resource", spy)
    with pytest.raises(ConfigErrors) as info:
        render_stack("dev", env=GIT_ENV, overrides={"services": services})
    assert registered == []
    run = "config 'ecr-fargate:services[{}].run"
    assert sorted(str(info.value).splitlines()) == sorted([
        f"{run.format(0)}.deployment.bakeMinutes': -1 is not allowed; expected an integer >= 0 and <= 1440",
        f"{run.format(0)}.deployment.canaryBakeMinutes': 1441 is not allowed; expected an integer >= 0 and <= 1440",
        f"{run.format(0)}.deployment.canaryPercent': 0 is not allowed; expected an integer >= 1 and <= 100",
        f"{run.format(1)}.deployment.stepBakeMinutes': 2000 is not allowed; expected an integer >= 0 and <= 1440",
        f"{run.format(1)}.deployment.stepPercent': 2 is not allowed; expected an integer >= 3 and <= 100",
        f"{run.format(2)}.deployment.strategy': canary is not allowed for a worker; it shifts shares of load balancer traffic and only a web service has a load balancer (use rolling or blue-green)",
        f"{run.format(3)}.migrate': is not allowed for a service that is not built here: the migration runs the revision's image, which the stack builds (give the service a build)",
        f"{run.format(4)}.migrate': needs strategy blue-green, canary or linear: ECS runs it at the PRE_SCALE_UP lifecycle stage, before the new revision starts beside the old one",
        f"{run.format(5)}.migrate.command': is required: a non-empty list of strings",
        f"{run.format(5)}.migrate.timeoutMinutes': 1441 is not allowed; expected an integer >= 1 and <= 1440",
        f"{run.format(6)}.deployment.stepPercent': applies to strategy linear only; this one is canary",
    ])  # fmt: skip


def test_a_job_takes_no_deployment_and_a_refused_strategy_adds_no_second_line() -> None:
    job: dict[str, Any] = {
        "name": "report",
        "build": APP,
        "run": {"kind": "job", "schedule": "rate(1 hour)", "deployment": {"strategy": "canary"}},
    }
    bad = web(
        deployment={"strategy": "purple", "stepPercent": 10},
        migrate={"command": ["python", "/app/migrate.pyc"]},
    )
    job["run"]["migrate"] = {"command": ["python", "/app/migrate.pyc"]}
    worker = {
        "name": "worker",
        "build": APP,
        "run": {"kind": "worker", "deployment": {"strategy": "linear", "stepPercent": 10}},
    }
    with pytest.raises(ConfigErrors) as info:
        render_stack("dev", env=GIT_ENV, overrides={"services": [bad, job, worker]})
    assert str(info.value).splitlines() == [
        "config 'ecr-fargate:services[0].run.deployment.strategy': 'purple' is not allowed; use one of rolling, blue-green, canary, linear",
        "config 'ecr-fargate:services[1].run.deployment': is not allowed for a job: it runs on its schedule, not as a service",
        "config 'ecr-fargate:services[1].run.migrate': is not allowed for a job: it has no deployments to run it in",
        "config 'ecr-fargate:services[2].run.deployment.strategy': linear is not allowed for a worker; it shifts shares of load balancer traffic and only a web service has a load balancer (use rolling or blue-green)",
    ]  # fmt: skip


# --- deploy role, boundary, policy pack -----------------------------------------------------------
def test_the_deploy_role_passes_only_the_infrastructure_role_and_only_to_ecs() -> None:
    prod = settings.load(from_files("prod", stack_dir=STACKS), env=GIT_ENV)
    dev = settings.load(from_files("dev", stack_dir=STACKS), env=GIT_ENV)
    names = StackNames("prod")
    role = names.role_arn(ACCOUNT_ID, "ecr-fargate-prod-ecs-lb")
    deploy = [policies.deploy_policy(prod, ACCOUNT_ID)]

    def passes(arn: str, service: str, docs: list[dict[str, Any]] = deploy) -> bool:
        return is_allowed(docs, Request("iam:PassRole", arn, {"iam:PassedToService": service}))

    assert passes(role, "ecs.amazonaws.com")
    assert not passes(role, "lambda.amazonaws.com")
    assert not passes(names.role_arn(ACCOUNT_ID, "api-task"), "ecs.amazonaws.com")
    assert not passes(
        StackNames("other").role_arn(ACCOUNT_ID, "ecr-fargate-other-ecs-lb"), "ecs.amazonaws.com"
    )
    dev_role = StackNames("dev").role_arn(ACCOUNT_ID, "ecr-fargate-dev-ecs-lb")
    assert not passes(dev_role, "ecs.amazonaws.com", [policies.deploy_policy(dev, ACCOUNT_ID)])


def test_the_boundary_lets_ecs_move_only_the_stacks_targets_and_rules() -> None:
    prod = settings.load(from_files("prod", stack_dir=STACKS), env=GIT_ENV)
    cap = [policies.boundary_policy(prod, ACCOUNT_ID)]
    lb = "arn:aws:elasticloadbalancing:us-east-1:123456789012"
    mine = f"{lb}:listener-rule/app/ecr-fargate-prod/1/2/3"
    theirs = f"{lb}:listener-rule/app/ecr-fargate-other/1/2/3"
    assert is_allowed(cap, Request("elasticloadbalancing:ModifyRule", mine))
    assert not is_allowed(cap, Request("elasticloadbalancing:ModifyRule", theirs))
    group = f"{lb}:targetgroup/prod-api-7e8c6d-g/1"
    tagged = {"aws:ResourceTag/stack": "prod"}
    assert is_allowed(cap, Request("elasticloadbalancing:RegisterTargets", group, tagged))
    other = {"aws:ResourceTag/stack": "other"}
    assert not is_allowed(cap, Request("elasticloadbalancing:RegisterTargets", group, other))
    dev = settings.load(from_files("dev", stack_dir=STACKS), env=GIT_ENV)
    assert not is_allowed(
        [policies.boundary_policy(dev, ACCOUNT_ID)],
        Request("elasticloadbalancing:ModifyRule", f"{lb}:listener-rule/app/ecr-fargate-dev/1/2/3"),
    )


def test_the_pack_refuses_a_prod_web_service_rolling_without_alarms(prod: Rendered) -> None:
    service = json.loads(json.dumps(prod.named("api-service").inputs))
    assert controls.guarded_rollout(service) == []  # canary, alarms on
    rolling = {**service, "deploymentConfiguration": {"strategy": "ROLLING"}}
    assert controls.guarded_rollout(rolling) == []  # alarms still on
    bare = {**rolling, "alarms": None}
    (line,) = controls.guarded_rollout(bare)
    assert line.startswith("prod web services on a rolling deployment must roll back on alarms")
    assert controls.guarded_rollout(
        {k: v for k, v in bare.items() if k != "deploymentConfiguration"}
    )
    assert (
        controls.guarded_rollout({**bare, "deploymentConfiguration": {"strategy": "CANARY"}}) == []
    )
    assert controls.guarded_rollout({**bare, "tags": {"environment": "dev"}}) == []
    worker = json.loads(json.dumps(prod.named("worker-service").inputs))
    assert controls.guarded_rollout(worker) == []  # no load balancer
