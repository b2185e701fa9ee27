"""The ECS components alone, each from a minimal hand-made run: no stack file, no cluster."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any, cast

import pytest

from components.ecs.access import NetworkAccess, NetworkAccessArgs
from components.ecs.task import ServiceTask, ServiceTaskArgs
from plan import engine
from plan.engine import Rendered
from rules.ecs.container import ContainerSpec
from rules.naming import StackNames
from settings import Settings
from settings.fargate import FargateSettings
from settings.services import ServiceSettings
from tests.conftest import GIT_ENV, STACKS

NAMES = StackNames("dev")
DIGEST = "123456789012.dkr.ecr.us-east-1.amazonaws.com/dev/svc@sha256:" + "ab" * 32


def minimal_run(kind: str, port: int | None, **change: Any) -> FargateSettings:
    service = cast(ServiceSettings, SimpleNamespace(name="svc"))
    fields: dict[str, Any] = {
        "service": service,
        "kind": kind,
        "cpu": 256,
        "memory": 512,
        "cpu_architecture": "X86_64",
        "container": ContainerSpec(name="svc", port=port),
        "desired_count": 1,
        "capacity_provider": "FARGATE",
        "log_retention_days": 7,
        "wait_for_steady_state": False,
        "minimum_healthy_percent": 100,
        "maximum_percent": 200,
        "ephemeral_storage_gib": None,
        "enable_execute_command": False,
        "schedule": None,
        "ingress_cidrs": (),
        "assign_public_ip": False,
        "connect_name": "svc",
    }
    return FargateSettings(**{**fields, **change})


def alone(build: Any) -> Rendered:
    """Run `build` as the whole program under the mocks (the dev fixture only sets the region)."""
    raw = engine.raw_stack_config("dev", stack_dir=STACKS)

    def program(_: Settings) -> dict[str, Any]:
        build()
        return {}

    return engine.render(raw, env=GIT_ENV, program=program)


@pytest.mark.parametrize(
    ("kind", "port", "sources"),
    [
        ("worker", None, []),
        ("job", None, []),
        ("backend", 9000, [["sg-shared"]]),
        ("web", 9000, [["sg-shared"], ["10.0.0.0/16"]]),
    ],
)
def test_network_access_opens_only_what_the_kind_promises(
    kind: str, port: int | None, sources: list[list[str]]
) -> None:
    run = minimal_run(kind, port)
    args = NetworkAccessArgs(run, NAMES, "vpc-1", "10.0.0.0/16", "sg-shared", {}, primary=False)
    r = alone(lambda: NetworkAccess("svc", args))
    group = r.one("aws:ec2/securityGroup:SecurityGroup")
    assert group.inputs["name"] == "ecr-fargate-dev-svc"
    assert group.inputs["egress"] == []
    found = [
        rule.get("securityGroups") or rule.get("cidrBlocks") for rule in group.inputs["ingress"]
    ]
    assert found == sources
    assert all(rule["fromPort"] == rule["toPort"] == port for rule in group.inputs["ingress"])
    assert group.aliases == ()


def test_a_web_service_given_cidrs_admits_those_instead_of_the_vpc() -> None:
    run = minimal_run("web", 443, ingress_cidrs=("192.0.2.0/24",))
    args = NetworkAccessArgs(run, NAMES, "vpc-1", "10.0.0.0/16", "sg-shared", {}, primary=True)
    group = alone(lambda: NetworkAccess("svc", args)).one("aws:ec2/securityGroup:SecurityGroup")
    assert group.inputs["ingress"][1]["cidrBlocks"] == ["192.0.2.0/24"]
    assert group.aliases == (
        "urn:pulumi:dev::ecr-fargate::ecr-fargate:ecs:FargateService"
        "$aws:ec2/securityGroup:SecurityGroup::fargate-sg",
    )


def test_service_task_deploys_the_worker_it_is_given() -> None:
    """Literal expectations: the same values `settings.fargate.task_request` builds would only
    prove that the component calls it."""
    run = minimal_run(
        "worker", None, container=ContainerSpec(name="svc", port=None, command=("run",))
    )
    boundary = NAMES.stack_boundary_arn("123456789012")
    args = ServiceTaskArgs(run, NAMES, "123456789012", DIGEST, [], None, {}, False, boundary)
    r = alone(lambda: ServiceTask("svc", args))
    task = r.one("aws:ecs/taskDefinition:TaskDefinition")
    roles = "arn:aws:iam::123456789012:role/ecr-fargate/dev"
    assert {k: v for k, v in task.inputs.items() if k != "containerDefinitions"} == {
        "family": "ecr-fargate-dev-svc",
        "cpu": "256",
        "memory": "512",
        "networkMode": "awsvpc",
        "requiresCompatibilities": ["FARGATE"],
        "runtimePlatform": {"operatingSystemFamily": "LINUX", "cpuArchitecture": "X86_64"},
        "executionRoleArn": f"{roles}/svc-execution",
        "taskRoleArn": f"{roles}/svc-task",
        "volumes": [{"name": "writable-tmp"}],
        "tags": {},
    }
    assert json.loads(task.inputs["containerDefinitions"]) == [
        {
            "name": "svc",
            "image": DIGEST,
            "essential": True,
            "command": ["run"],  # a worker: no port, no health check
            "portMappings": [],
            "environment": [{"name": "SERVICE_NAME", "value": "svc"}],  # a worker: no PORT
            "secrets": [],
            "user": "10001:10001",
            "readonlyRootFilesystem": True,
            "mountPoints": [
                {"containerPath": "/tmp", "readOnly": False, "sourceVolume": "writable-tmp"}
            ],
            "linuxParameters": {"initProcessEnabled": True},
            "stopTimeout": 30,
            "logConfiguration": {
                "logDriver": "awslogs",
                "options": {
                    "awslogs-group": "/ecs/ecr-fargate-dev-svc",
                    "awslogs-region": "us-east-1",
                    "awslogs-stream-prefix": "svc",
                    "mode": "non-blocking",
                    "max-buffer-size": "25m",
                },
            },
        }
    ]
    assert r.one("aws:cloudwatch/logGroup:LogGroup").inputs["name"] == "/ecs/ecr-fargate-dev-svc"
    assert all(x.aliases == () for x in r.resources)
