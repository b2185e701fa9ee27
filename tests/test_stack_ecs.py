"""Both stacks under mocks: task definition, roles, cluster and service."""

from __future__ import annotations

import json

import pytest

from plan.engine import ACCOUNT_ID, Rendered
from rules.ecs import container as ecs_container
from settings import ConfigErrors
from tests.conftest import GIT_ENV, render_stack

TASK = "aws:ecs/taskDefinition:TaskDefinition"


def container_of(r: Rendered) -> dict:
    (c,) = json.loads(r.named("api-task-definition").inputs["containerDefinitions"])
    return c


def role_policy(r: Rendered, name: str) -> dict:
    return json.loads(r.named(name).inputs["policy"])


def test_task_definition_is_fargate_awsvpc_with_explicit_platform(stack: Rendered) -> None:
    task = stack.named("api-task-definition").inputs
    assert task["family"] == f"ecr-fargate-{stack.stack}-api"
    assert task["requiresCompatibilities"] == ["FARGATE"]
    assert task["networkMode"] == "awsvpc"
    assert task["runtimePlatform"] == {
        "cpuArchitecture": "X86_64",
        "operatingSystemFamily": "LINUX",
    }
    assert (task["cpu"], task["memory"]) == (
        ("256", "512") if stack.stack == "dev" else ("512", "1024")
    )
    assert "ephemeralStorage" not in task
    assert task["tags"]["service"] == "api"


def test_container_definition_is_safe_by_default(stack: Rendered) -> None:
    c = container_of(stack)
    assert c["readonlyRootFilesystem"] is True
    assert "privileged" not in c
    assert c["user"] == "10001:10001"
    assert c["linuxParameters"]["initProcessEnabled"] is True
    assert c["stopTimeout"] == 30
    assert c["portMappings"][0]["containerPort"] == 8080
    log = c["logConfiguration"]
    assert log["logDriver"] == "awslogs"
    assert log["options"]["mode"] == "non-blocking"
    assert log["options"]["awslogs-group"] == f"/ecs/ecr-fargate-{stack.stack}-api"
    assert log["options"]["awslogs-region"] == "us-east-1"
    assert any("/healthz" in part for part in c["healthCheck"]["command"])
    assert [m["containerPath"] for m in c["mountPoints"]] == ["/tmp"]
    assert {e["name"]: e["value"] for e in c["environment"]} == {
        "LOG_LEVEL": "info" if stack.stack == "dev" else "warning",
        "PORT": "8080",
        "SERVICE_NAME": "api",
    }


def test_container_definitions_pass_the_ecs_api_model(stack: Rendered) -> None:
    task = stack.named("api-task-definition").inputs
    request = {
        "family": task["family"],
        "containerDefinitions": json.loads(task["containerDefinitions"]),
        "cpu": task["cpu"],
        "memory": task["memory"],
        "networkMode": task["networkMode"],
        "requiresCompatibilities": task["requiresCompatibilities"],
        "runtimePlatform": task["runtimePlatform"],
        "executionRoleArn": task["executionRoleArn"],
        "taskRoleArn": task["taskRoleArn"],
        "volumes": task["volumes"],
    }
    ecs_container.validate_task_definition_request(request)


def test_log_retention_per_environment(dev: Rendered, prod: Rendered) -> None:
    assert dev.named("api-logs").inputs["retentionInDays"] == 7
    assert prod.named("api-logs").inputs["retentionInDays"] == 30


def test_execution_role_is_least_privilege(stack: Rendered) -> None:
    doc = role_policy(stack, "api-execution-policy")
    s = stack.stack
    grants: dict[str, set[str]] = {}
    for st in doc["Statement"]:
        assert st["Effect"] == "Allow"
        actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
        resources = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
        for a in actions:
            assert "*" not in a
            grants.setdefault(a, set()).update(resources)
    repo = f"arn:aws:ecr:us-east-1:{ACCOUNT_ID}:repository/{s}/api"
    for action in (
        "ecr:BatchGetImage",
        "ecr:GetDownloadUrlForLayer",
        "ecr:BatchCheckLayerAvailability",
    ):
        assert grants[action] == {repo}
    assert grants["ecr:GetAuthorizationToken"] == {"*"}
    log_group = f"arn:aws:logs:us-east-1:{ACCOUNT_ID}:log-group:/ecs/ecr-fargate-{s}-api"
    assert all(r.startswith(log_group) for r in grants["logs:PutLogEvents"])
    assert all(r.startswith(log_group) for r in grants["logs:CreateLogStream"])
    wildcard_resources = {a for a, rs in grants.items() if "*" in rs}
    assert wildcard_resources == {"ecr:GetAuthorizationToken"}


def test_task_role_is_separate_and_empty_by_default(stack: Rendered) -> None:
    task = stack.named("api-task-definition").inputs
    assert task["taskRoleArn"] != task["executionRoleArn"]
    assert stack.named("api-task").inputs["assumeRolePolicy"]
    policies = [p.name for p in stack.of_type("aws:iam/rolePolicy:RolePolicy")]
    assert "api-exec-policy" not in policies
    assert not any(
        p.inputs.get("role") == "api-task" for p in stack.of_type("aws:iam/rolePolicy:RolePolicy")
    )
    assert stack.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment") == []


def test_cluster_has_container_insights(stack: Rendered) -> None:
    cluster = stack.one("aws:ecs/cluster:Cluster").inputs
    assert cluster["settings"] == [{"name": "containerInsights", "value": "enabled"}]
    assert cluster["tags"]["stack"] == stack.stack


def test_service_rollout_settings(dev: Rendered, prod: Rendered) -> None:
    for r in (dev, prod):
        svc = r.named("api-service").inputs
        assert svc["launchType"] == "FARGATE"
        assert svc["platformVersion"] == "LATEST"
        assert svc["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
        assert svc["deploymentMinimumHealthyPercent"] == 100
        assert svc["deploymentMaximumPercent"] == 200
        # The web service is behind the load balancer: its grace period is the start period's.
        assert svc["healthCheckGracePeriodSeconds"] == 60
        # ECS refuses a grace period on a service without a load balancer.
        assert "healthCheckGracePeriodSeconds" not in r.named("worker-service").inputs
        assert svc["taskDefinition"] == r.named("api-task-definition").state["arn"]
    assert dev.named("api-service").inputs["waitForSteadyState"] is False
    assert prod.named("api-service").inputs["waitForSteadyState"] is True


def test_networking(dev: Rendered, prod: Rendered) -> None:
    dev_net = dev.named("api-service").inputs["networkConfiguration"]
    assert dev_net["assignPublicIp"] is True
    assert dev_net["subnets"] == ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]
    assert any("assignPublicIp" in w for w in dev.warnings)
    prod_net = prod.named("api-service").inputs["networkConfiguration"]
    assert prod_net["assignPublicIp"] is False
    assert prod_net["subnets"] == ["subnet-0f1e2d3c4b5a60001", "subnet-0f1e2d3c4b5a60002"]
    # The security groups by kind: tests/test_stack_services.py walks their ingress rules.


def test_ecs_outputs(stack: Rendered) -> None:
    out = stack.outputs
    assert out["ecsClusterName"] == f"ecr-fargate-{stack.stack}"
    assert out["ecsServiceName"] == "api"
    assert out["taskDefinitionFamily"] == f"ecr-fargate-{stack.stack}-api"
    assert out["taskDefinitionArn"] == stack.named("api-task-definition").state["arn"]
    assert out["ecsLogGroupName"] == f"/ecs/ecr-fargate-{stack.stack}-api"


SPOT = {"service": "api", "assignPublicIp": True, "capacityProvider": "FARGATE_SPOT"}
DIGEST = "sha256:" + "ab" * 32
HOST = f"{ACCOUNT_ID}.dkr.ecr.us-east-1.amazonaws.com"


def test_spot_associates_both_fargate_providers_with_the_cluster() -> None:
    r = render_stack("dev", env=GIT_ENV, overrides={"fargate": SPOT})
    association = r.one("aws:ecs/clusterCapacityProviders:ClusterCapacityProviders").inputs
    assert association["clusterName"] == r.one("aws:ecs/cluster:Cluster").inputs["name"]
    assert sorted(association["capacityProviders"]) == ["FARGATE", "FARGATE_SPOT"]
    svc = r.named("api-service").inputs
    assert "launchType" not in svc
    assert svc["capacityProviderStrategies"] == [{"capacityProvider": "FARGATE_SPOT", "weight": 1}]


def test_plain_fargate_needs_no_association(stack: Rendered) -> None:
    assert stack.of_type("aws:ecs/clusterCapacityProviders:ClusterCapacityProviders") == []


def execution_grants(r: Rendered) -> dict[str, set[str]]:
    grants: dict[str, set[str]] = {}
    for policy in r.of_type("aws:iam/rolePolicy:RolePolicy"):
        if not policy.name.startswith("api-") or policy.name == "api-exec-policy":
            continue
        for st in json.loads(policy.inputs["policy"])["Statement"]:
            for a in st["Action"]:
                resources = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
                grants.setdefault(a, set()).update(resources)
    return grants


def run_prebuilt(image: str) -> Rendered:
    services = [
        {"name": "api", "image": image, "run": {"kind": "web", "port": 8080}},
        {"name": "worker"},
    ]
    return render_stack("dev", env=GIT_ENV, overrides={"services": services})


def test_a_prebuilt_image_from_another_repository_is_pullable() -> None:
    r = run_prebuilt(f"{HOST}/shared/base-api@{DIGEST}")
    grants = execution_grants(r)
    assert grants["ecr:BatchGetImage"] == {
        f"arn:aws:ecr:us-east-1:{ACCOUNT_ID}:repository/shared/base-api"
    }
    assert "ecr:BatchImportUpstreamImage" not in grants
    assert not [p for p in r.resources if p.name == "api-pull-through-policy"]


def test_an_image_pulled_through_the_cache_gets_that_prefix_only() -> None:
    r = run_prebuilt(f"{HOST}/quay/prometheus/node-exporter@{DIGEST}")
    grants = execution_grants(r)
    cached = f"arn:aws:ecr:us-east-1:{ACCOUNT_ID}:repository/quay/*"
    assert grants["ecr:BatchImportUpstreamImage"] == {cached}
    assert grants["ecr:CreateRepository"] == {cached}
    assert (
        f"arn:aws:ecr:us-east-1:{ACCOUNT_ID}:repository/quay/prometheus/node-exporter"
        in (grants["ecr:BatchGetImage"])
    )


def test_an_image_outside_ecr_gets_no_ecr_permission() -> None:
    r = run_prebuilt(f"docker.io/library/nginx@{DIGEST}")
    assert not [a for a in execution_grants(r) if a.startswith("ecr:")]


def test_grace_period_is_the_container_health_checks_start_period() -> None:
    assert container_of(render_stack("dev", env=GIT_ENV))["healthCheck"]["startPeriod"] == 60
    fargate = {"service": "api", "assignPublicIp": True, "healthCheckGracePeriodSeconds": 120}
    r = render_stack("dev", env=GIT_ENV, overrides={"fargate": fargate})
    assert container_of(r)["healthCheck"]["startPeriod"] == 120
    with pytest.raises(ConfigErrors, match=r"fargate.healthCheckGracePeriodSeconds'.*<= 300"):
        render_stack(
            "dev",
            env=GIT_ENV,
            overrides={"fargate": {**fargate, "healthCheckGracePeriodSeconds": 301}},
        )


def test_ecs_exec_keeps_the_root_filesystem_read_only() -> None:
    """The exec agent's paths get writable volumes instead of a writable root."""
    fargate = {
        "service": "api",
        "assignPublicIp": True,
        "enableExecuteCommand": True,
        "writablePaths": ["/tmp", "/var/log/amazon/ssm"],
    }
    r = render_stack("dev", env=GIT_ENV, overrides={"fargate": fargate})
    c = container_of(r)
    assert c["readonlyRootFilesystem"] is True
    mounted = [m["containerPath"] for m in c["mountPoints"]]
    assert mounted == ["/tmp", "/var/log/amazon/ssm", "/managed-agents", "/var/lib/amazon/ssm"]
    volumes = {v["name"] for v in r.named("api-task-definition").inputs["volumes"]}
    assert {m["sourceVolume"] for m in c["mountPoints"]} == volumes
    assert r.named("api-service").inputs["enableExecuteCommand"] is True
    # Without Exec, nothing but the configured paths is writable.
    assert [
        m["containerPath"] for m in container_of(render_stack("dev", env=GIT_ENV))["mountPoints"]
    ] == ["/tmp"]
