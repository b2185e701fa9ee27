"""Every service of a stack on Fargate, by kind: what each renders, who may reach it, how a job
runs, and the move from the old single `fargate` section without replacing anything."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from plan import engine
from plan.engine import ACCOUNT_ID, Rendered
from settings import ConfigErrors
from tests.conftest import GIT_ENV, legacy, render_stack

ROOT = Path(__file__).resolve().parent.parent

GROUP = "aws:ec2/securityGroup:SecurityGroup"
SERVICE = "aws:ecs/service:Service"
TASK = "aws:ecs/taskDefinition:TaskDefinition"
SCHEDULE = "aws:scheduler/schedule:Schedule"
KINDS = {"dev": {"api": "web", "worker": "worker"}}
KINDS["prod"] = {**KINDS["dev"], "report": "job"}


def container(r: Rendered, service: str) -> dict[str, Any]:
    (c,) = json.loads(r.named(f"{service}-task-definition").inputs["containerDefinitions"])
    return c


def task_groups(r: Rendered, service: str) -> list[str]:
    """The security groups a service's tasks carry (the ECS service's, or the schedule's)."""
    if KINDS[r.stack][service] == "job":
        ecs = r.named(f"{service}-schedule").inputs["target"]["ecsParameters"]
        return list(ecs["networkConfiguration"]["securityGroups"])
    return list(r.named(f"{service}-service").inputs["networkConfiguration"]["securityGroups"])


def test_every_listed_service_runs_its_own_digest(stack: Rendered) -> None:
    kinds = KINDS[stack.stack]
    digests = stack.outputs["ecsImageDigests"]
    assert sorted(digests) == sorted(kinds)
    assert len(set(digests.values())) == len(kinds), "each service is pinned to its own digest"
    for service in kinds:
        image = next(
            i for i in stack.of_type("docker:index/image:Image") if i.name == f"image-{service}"
        )
        assert container(stack, service)["image"] == image.state["repoDigest"] == digests[service]
        assert digests[service].startswith(stack.outputs["ecrRepositoryUrls"][service] + "@sha256:")
    long_running = sorted(k for k, kind in kinds.items() if kind != "job")
    assert sorted(r.inputs["name"] for r in stack.of_type(SERVICE)) == long_running
    assert sorted(stack.outputs["ecsServiceNames"]) == long_running
    assert stack.outputs["taskDefinitionFamilies"] == {
        k: f"ecr-fargate-{stack.stack}-{k}" for k in kinds
    }
    assert stack.outputs["ecsLogGroupNames"] == {
        k: f"/ecs/ecr-fargate-{stack.stack}-{k}" for k in kinds
    }
    assert container(stack, "worker")["command"] == ["python", "/app/worker.pyc"]
    assert (
        "portMappings" not in container(stack, "worker")
        or not container(stack, "worker")["portMappings"]
    )
    assert "healthCheck" not in container(stack, "worker")


def test_the_security_group_graph_is_what_the_kinds_promise(stack: Rendered) -> None:
    """Walk every ingress rule of every group the stack creates."""
    groups = {g.id: g for g in stack.of_type(GROUP)}
    shared = stack.named("cluster-services-sg")
    assert shared.inputs["ingress"] == []  # nothing reaches a task through the shared group
    for service, kind in KINDS[stack.stack].items():
        own = stack.named(f"{service}-sg")
        assert task_groups(stack, service) == [shared.id, own.id]
        rules = own.inputs["ingress"]
        if kind in ("worker", "job"):
            assert rules == [], service
            continue
        sources = []
        for rule in rules:
            assert (rule["protocol"], rule["fromPort"], rule["toPort"]) == ("tcp", 8080, 8080)
            sources += [groups[g].name for g in rule.get("securityGroups", [])]
            sources += rule.get("cidrBlocks", [])
        # A web service's public front door is the load balancer: its group, not the VPC range.
        expected = ["cluster-services-sg"] + (["load-balancer-sg"] if kind == "web" else [])
        assert sorted(sources) == sorted(expected), service
    egress = shared.inputs["egress"]
    assert {
        (e["fromPort"], tuple(e.get("cidrBlocks", ())), e.get("self", False)) for e in egress
    } == {
        (443, ("0.0.0.0/0",), False),
        (8080, (), True),
    }


def test_service_connect_publishes_web_and_backend_and_workers_are_clients(stack: Rendered) -> None:
    namespace = stack.one("aws:servicediscovery/httpNamespace:HttpNamespace")
    assert namespace.inputs["name"] == f"ecr-fargate-{stack.stack}"
    api = stack.named("api-service").inputs["serviceConnectConfiguration"]
    assert api["enabled"] is True
    assert api["services"] == [
        {
            "clientAlias": [{"dnsName": "api", "port": 8080}],
            "discoveryName": "api",
            "portName": "api-8080",
        }
    ]
    assert container(stack, "api")["portMappings"][0]["name"] == "api-8080"
    worker = stack.named("worker-service").inputs["serviceConnectConfiguration"]
    assert worker == {"enabled": True, "namespace": api["namespace"]}


def test_a_job_runs_on_its_schedule_through_a_role_that_runs_only_its_family(
    prod: Rendered,
) -> None:
    schedule = prod.named("report-schedule").inputs
    assert schedule["scheduleExpression"] == "cron(0 3 * * ? *)"
    assert schedule["name"] == "ecr-fargate-prod-report"
    target = schedule["target"]
    assert target["arn"] == prod.one("aws:ecs/cluster:Cluster").state["arn"]
    assert (
        target["ecsParameters"]["taskDefinitionArn"]
        == prod.named("report-task-definition").state["arn"]
    )
    policy = json.loads(prod.named("report-scheduler-policy").inputs["policy"])
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    family = f"arn:aws:ecs:us-east-1:{ACCOUNT_ID}:task-definition/ecr-fargate-prod-report:*"
    assert by_sid["RunJobTask"]["Action"] == ["ecs:RunTask"]
    assert by_sid["RunJobTask"]["Resource"] == [family]
    roles = [prod.named(f"report-{r}").state["arn"] for r in ("execution", "task")]
    assert by_sid["PassJobRoles"]["Resource"] == sorted(roles)
    assert set(by_sid) == {"RunJobTask", "PassJobRoles"}
    role = prod.named("report-scheduler").inputs
    assert role["path"] == "/ecr-fargate/prod/"
    assert role["permissionsBoundary"].endswith(
        "policy/ecr-fargate-ci/prod/ecr-fargate-prod-boundary"
    )
    command = prod.outputs["jobRunCommands"]["report"]
    assert command.startswith("aws ecs run-task --region us-east-1 --cluster ecr-fargate-prod ")
    assert "--task-definition ecr-fargate-prod-report --launch-type FARGATE" in command
    assert "assignPublicIp=DISABLED" in command
    assert "healthCheck" not in container(prod, "report")


def test_the_singular_outputs_are_the_primary_services(stack: Rendered) -> None:
    out = stack.outputs
    assert out["ecsServiceName"] == "api"
    assert out["taskDefinitionArn"] == out["taskDefinitionArns"]["api"]
    assert out["ecsImageDigest"] == out["ecsImageDigests"]["api"]
    r = render_stack(stack.stack, env=GIT_ENV, overrides={"primaryService": "worker"})
    assert r.outputs["ecsServiceName"] == "worker"


# Today's URNs: what `pulumi up` of a stack with the single `fargate` section has in its state.
TODAY = (
    "ecr-fargate:ecs:FargateService$aws:cloudwatch/logGroup:LogGroup::fargate-logs",
    "ecr-fargate:ecs:FargateService$aws:ecs/cluster:Cluster::fargate-cluster",
    "ecr-fargate:ecs:FargateService$aws:iam/role:Role::fargate-execution",
    "ecr-fargate:ecs:FargateService$aws:iam/role:Role::fargate-task",
    "ecr-fargate:ecs:FargateService$aws:ec2/securityGroup:SecurityGroup::fargate-sg",
    "ecr-fargate:ecs:FargateService$aws:iam/role:Role$aws:iam/rolePolicy:RolePolicy::fargate-exec-policy",
    "ecr-fargate:ecs:FargateService$aws:ecs/cluster:Cluster"
    "$aws:ecs/clusterCapacityProviders:ClusterCapacityProviders::fargate-capacity-providers",
    "ecr-fargate:ecs:FargateService$aws:iam/role:Role$aws:iam/rolePolicy:RolePolicy::fargate-execution-policy",
    "ecr-fargate:ecs:FargateService$aws:ecs/taskDefinition:TaskDefinition::fargate-task-definition",
    "ecr-fargate:ecs:FargateService$aws:ecs/service:Service::fargate-service",
)
OLD = {
    "service": "api",
    "cpu": 256,
    "memory": 512,
    "port": 8080,
    "capacityProvider": "FARGATE_SPOT",
    "enableExecuteCommand": True,
    "environment": {"LOG_LEVEL": "info"},
    "assignPublicIp": True,
}


def identity(r: Rendered) -> set[tuple[str, str, tuple[str, ...], Any]]:
    """Each resource by URN, its aliases and its physical name."""
    return {
        (x.urn, x.type, x.aliases, x.inputs.get("name") or x.inputs.get("family"))
        for x in r.resources
    }


def test_an_old_fargate_stack_keeps_its_urns_when_it_moves_to_services() -> None:
    old = render_stack("dev", env=GIT_ENV, overrides=legacy("dev", OLD))
    assert any("fargate is the old single-service form" in w for w in old.warnings)
    run = {k: v for k, v in OLD.items() if k not in ("service", "assignPublicIp")}
    services = legacy("dev", OLD)["services"]
    services[0] = {**services[0], "run": {"kind": "web", **run}}
    new = render_stack(
        "dev", env=GIT_ENV, overrides={"services": services, "network": {"assignPublicIp": True}}
    )
    assert not any("old single-service form" in w for w in new.warnings)
    assert identity(old) == identity(new)
    adopted = {a.split("::", 2)[2] for x in new.resources for a in x.aliases}
    assert adopted == set(TODAY)
    for x in new.resources:
        for alias in x.aliases:
            assert alias.startswith("urn:pulumi:dev::ecr-fargate::"), alias
            assert alias.split("::")[2].split("$")[-1] == x.type, (alias, x.urn)
    names = {x.name: x.inputs for x in new.resources}
    assert names["cluster"]["name"] == "ecr-fargate-dev"
    assert names["api-service"]["name"] == "api"
    assert names["api-task-definition"]["family"] == "ecr-fargate-dev-api"
    assert names["api-logs"]["name"] == "/ecs/ecr-fargate-dev-api"
    assert names["api-execution"]["path"] == names["api-task"]["path"] == "/ecr-fargate/dev/"


def test_only_the_primary_service_carries_the_old_urns(prod: Rendered) -> None:
    carriers = {x.name for x in prod.resources if x.aliases}
    assert {n.split("-")[0] for n in carriers} == {"api", "cluster"}


BAD = [
    {"name": "api", "run": {"kind": "worker"}},  # nothing to run: every index after it still fits
    {"name": "front", "build": {"context": "app"}, "run": {"kind": "frontend"}},
    {"name": "web", "build": {"context": "app"}, "run": {"kind": "web"}},
    {
        "name": "back",
        "build": {"context": "app"},
        "run": {"kind": "backend", "serviceConnectName": "web", "port": 9000},
    },
    {"name": "nightly", "build": {"context": "app"}, "run": {"kind": "job", "desiredCount": 1}},
    {
        "name": "hourly",
        "build": {"context": "app"},
        "run": {"kind": "job", "schedule": "rate(1 hours)"},
    },
    {
        "name": "cron",
        "build": {"context": "app"},
        "run": {"kind": "job", "schedule": "cron(0 3 * * * *)", "cpu": 256, "memory": 4096},
    },
]


def test_bad_services_are_refused_together_one_line_each_and_nothing_is_registered(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    registered: list[str] = []
    monkeypatch.setattr(engine._Mocks, "new_resource", lambda _, args: registered.append(args.typ))
    with pytest.raises(ConfigErrors) as info:
        render_stack("dev", env=GIT_ENV, overrides={"services": BAD})
    assert registered == []
    found = {e.path: e.detail for e in info.value.errors}
    assert "needs a build or an image" in found["services[0].run"]
    assert "use one of web, backend, worker, job" in found["services[1].run.kind"]
    assert "cpu 256 allows memory 512, 1024, 2048" in found["services[6].run.memory"]
    assert "is required for a web" in found["services[2].run.port"]
    assert (
        "services[2] already has that Service Connect name"
        in found["services[3].run.serviceConnectName"]
    )
    assert "not allowed for a job" in found["services[4].run.desiredCount"]
    assert "is required for a job" in found["services[4].run.schedule"]
    assert "singular for 1" in found["services[5].run.schedule"]
    assert "day-of-month and day-of-week" in found["services[6].run.schedule"]
    assert all("\n" not in str(e) for e in info.value.errors)


def test_a_backend_nothing_can_call_is_a_warning() -> None:
    services = [
        {"name": "api", "build": {"context": "app"}, "run": {"kind": "backend", "port": 8080}}
    ]
    r = render_stack("dev", env=GIT_ENV, overrides={"services": services})
    assert any("backend api has no caller" in w for w in r.warnings)
    assert not any("no caller" in w for w in render_stack("dev", env=GIT_ENV).warnings)


def test_a_worker_or_job_takes_no_port_and_the_old_and_new_forms_do_not_mix() -> None:
    services = [{"name": "api", "build": {"context": "app"}, "run": {"kind": "worker", "port": 80}}]
    with pytest.raises(ConfigErrors, match=r"services\[0\].run.port'.*no connections"):
        render_stack("dev", env=GIT_ENV, overrides={"services": services})
    with pytest.raises(ConfigErrors, match=r"'ecr-fargate:fargate'.*not both"):
        render_stack(
            "dev",
            env=GIT_ENV,
            overrides={"fargate": {"service": "api"}, "services": None}
            | {
                "services": [
                    {"name": "api", "build": {"context": "app"}, "run": {"kind": "web", "port": 1}}
                ]
            },
        )


@pytest.mark.parametrize("name", ["dev", "prod"])
def test_the_committed_stacks_render_every_service_they_list(name: str) -> None:
    """The project's own stack files (users edit them, so only what holds for any edit)."""
    r = engine.render_stack(name, env=GIT_ENV)
    # What the file lists, read as YAML: not through the settings loader the render uses.
    doc = yaml.safe_load((ROOT / f"Pulumi.{name}.yaml").read_text())["config"]
    listed = {s["name"] for s in doc["ecr-fargate:services"] if "run" in s}
    assert listed
    assert set(r.outputs["ecsImageDigests"]) == set(r.outputs["taskDefinitionArns"]) == listed
    for service in listed:
        (c,) = json.loads(r.named(f"{service}-task-definition").inputs["containerDefinitions"])
        assert c["image"] == r.outputs["ecsImageDigests"][service]
    assert len(set(r.outputs["ecsImageDigests"].values())) == len(listed)


def test_network_and_primary_service_need_services_that_run() -> None:
    overrides = {"services": [{"name": "api"}], "primaryService": "api"}
    with pytest.raises(ConfigErrors) as info:
        render_stack("dev", env=GIT_ENV, overrides=overrides)
    assert {e.path for e in info.value.errors} == {"network", "primaryService"}


def test_ecs_exec_keeps_every_services_root_read_only() -> None:
    """The exec agent's paths become writable volumes for any kind, not only the web service."""
    run = {"kind": "worker", "command": ["python", "/app/worker.pyc"], "enableExecuteCommand": True}
    services = [{"name": "worker", "build": {"context": "app"}, "run": run}]
    r = render_stack("dev", env=GIT_ENV, overrides={"services": services})
    c = container(r, "worker")
    assert c["readonlyRootFilesystem"] is True
    paths = [m["containerPath"] for m in c["mountPoints"]]
    assert paths == ["/tmp", "/managed-agents", "/var/lib/amazon/ssm", "/var/log/amazon/ssm"]
    assert r.named("worker-service").inputs["enableExecuteCommand"] is True
    assert r.named("worker-exec-policy").inputs["role"] == "worker-task"
    assert "healthCheck" not in c
