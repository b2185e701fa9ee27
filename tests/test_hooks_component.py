"""The `DeploymentHook` component under the mocks alone: function, archive, log group, roles."""

from __future__ import annotations

import json
from pathlib import Path

import pulumi_aws as aws

from components.ecs.hooks import (
    DeploymentHook,
    DeploymentHookArgs,
    HookVpc,
    MigrateHook,
    SmokeHook,
    archive,
    hook_timeout_minutes,
)
from components.ecs.service import lifecycle_hook_args
from plan.engine import Rendered, RenderedResource
from rules.iam.evaluate import Request, is_allowed
from rules.naming import StackNames
from tests.test_ecs_components import alone

NAMES = StackNames("dev")
HOOKS = Path(__file__).resolve().parents[1] / "hooks"
ROLES = [
    "arn:aws:iam::123456789012:role/ecr-fargate/dev/api-execution",
    "arn:aws:iam::123456789012:role/ecr-fargate/dev/api-task",
]
BOUNDARY = "arn:aws:iam::123456789012:policy/ecr-fargate-ci/dev/ecr-fargate-dev-boundary"
SMOKE = SmokeHook(
    base_url="http://internal-lb.example:8443",
    paths=["/health", "/api/ping"],
    header=("X-Test-Route", "green"),
    vpc=HookVpc(
        vpc_id="vpc-0a",
        subnet_ids=["subnet-0a", "subnet-0b"],
        load_balancer_group_id="sg-0lb",
        test_port=8443,
    ),
)
MIGRATE = MigrateHook(
    command=["python", "-m", "app.migrate"], container="api", timeout_minutes=15, role_arns=ROLES
)


def render(hook: SmokeHook | MigrateHook) -> Rendered:
    """The hook, wired into a service the way the strategy will wire it."""

    def build() -> None:
        made = DeploymentHook(
            "api-hook", DeploymentHookArgs(NAMES, "api", "123456789012", 14, hook, {"stack": "dev"})
        )
        aws.ecs.Service(
            "api",
            cluster="ecr-fargate-dev",
            deployment_configuration=aws.ecs.ServiceDeploymentConfigurationArgs(
                strategy="BLUE_GREEN", lifecycle_hooks=[lifecycle_hook_args(made.lifecycle_hook())]
            ),
        )

    return alone(build)


def policy(r: Rendered, name: str) -> dict:
    return json.loads(r.named(name).inputs["policy"])


def role(r: Rendered, name: str) -> RenderedResource:
    return r.named(name)


def test_the_smoke_function_runs_its_module_with_the_test_route() -> None:
    r = render(SMOKE)
    function = r.one("aws:lambda/function:Function")
    assert function.inputs["name"] == "ecr-fargate-dev-api-smoke"
    assert function.inputs["handler"] == "smoke.handler"
    assert function.inputs["runtime"] == "python3.14"
    assert function.inputs["timeout"] == 20  # two paths at 5 s each, plus 10
    assert function.inputs["environment"]["variables"] == {
        "SMOKE_BASE_URL": "http://internal-lb.example:8443",
        "SMOKE_PATHS": '["/health", "/api/ping"]',
        "SMOKE_HEADER_NAME": "X-Test-Route",
        "SMOKE_HEADER_VALUE": "green",
        "SMOKE_REQUEST_TIMEOUT_SECONDS": "5",
        "SMOKE_BUDGET_SECONDS": "300",
        "SMOKE_RETRY_SECONDS": "15",
    }
    group = r.one("aws:ec2/securityGroup:SecurityGroup")
    assert function.inputs["vpcConfig"] == {
        "subnetIds": ["subnet-0a", "subnet-0b"],
        "securityGroupIds": [group.id],
    }
    assert group.inputs["name"] == "ecr-fargate-dev-api-smoke-hook"
    assert group.inputs["vpcId"] == "vpc-0a"
    assert group.inputs["ingress"] == []
    assert [
        (e["protocol"], e["fromPort"], e["toPort"], e["securityGroups"])
        for e in group.inputs["egress"]
    ] == [("tcp", 8443, 8443, ["sg-0lb"])]
    assert function.inputs["role"] == role(r, "api-hook-role").state["arn"]


def test_the_archive_holds_the_module_file_alone_and_only_its_bytes() -> None:
    r = render(SMOKE)
    code = r.one("aws:lambda/function:Function").inputs["code"]
    assert code == {"assets": {"smoke.py": {"text": (HOOKS / "smoke.py").read_text("utf-8")}}}
    again = archive("smoke").assets  # a second packaging: the same text, nothing else
    assert list(again) == ["smoke.py"]
    assert getattr(again["smoke.py"], "text", None) == code["assets"]["smoke.py"]["text"]


def test_the_log_group_is_lambdas_own_with_the_services_retention() -> None:
    r = render(SMOKE)
    group = r.one("aws:cloudwatch/logGroup:LogGroup")
    assert group.inputs["name"] == "/aws/lambda/ecr-fargate-dev-api-smoke"
    assert group.inputs["retentionInDays"] == 14
    logs = policy(r, "api-hook-logs-policy")
    assert logs["Statement"][0]["Resource"] == [
        "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/ecr-fargate-dev-api-smoke:*"
    ]
    function = r.one("aws:lambda/function:Function")
    assert group.urn in function.dependencies


def test_both_roles_live_under_the_stack_path_with_its_boundary() -> None:
    r = render(SMOKE)
    for name in ("api-hook-role", "api-hook-invoke-role"):
        made = role(r, name)
        assert made.inputs["path"] == "/ecr-fargate/dev/"
        assert made.inputs["permissionsBoundary"] == BOUNDARY
        assert made.inputs["tags"] == {"stack": "dev"}
    trust = json.loads(role(r, "api-hook-role").inputs["assumeRolePolicy"])
    assert trust["Statement"][0]["Principal"] == {"Service": "lambda.amazonaws.com"}
    vpc = policy(r, "api-hook-vpc-policy")
    assert "ec2:CreateNetworkInterface" in vpc["Statement"][0]["Action"]


def test_ecs_invokes_exactly_this_function_with_the_invoke_role() -> None:
    r = render(SMOKE)
    function_arn = r.one("aws:lambda/function:Function").state["arn"]
    assert (
        function_arn == "arn:aws:lambda:us-east-1:123456789012:function:ecr-fargate-dev-api-smoke"
    )
    invoke = policy(r, "api-hook-invoke-policy")
    assert is_allowed([invoke], Request("lambda:InvokeFunction", function_arn))
    assert not is_allowed([invoke], Request("lambda:InvokeFunction", function_arn + "-other"))
    trust = json.loads(role(r, "api-hook-invoke-role").inputs["assumeRolePolicy"])
    assert trust["Statement"][0]["Principal"] == {"Service": "ecs.amazonaws.com"}
    (hook,) = r.one("aws:ecs/service:Service").inputs["deploymentConfiguration"]["lifecycleHooks"]
    assert hook == {
        "lifecycleStages": ["POST_TEST_TRAFFIC_SHIFT"],
        "hookTargetArn": function_arn,
        "roleArn": role(r, "api-hook-invoke-role").state["arn"],
        "timeoutConfiguration": {"timeoutInMinutes": "7", "action": "ROLLBACK"},
    }


def test_a_smoke_test_outside_the_vpc_gets_no_network_interfaces() -> None:
    r = render(SmokeHook(base_url="http://lb.example:8443", paths=["/health"]))
    assert "vpcConfig" not in r.one("aws:lambda/function:Function").inputs
    assert r.of_type("aws:ec2/securityGroup:SecurityGroup") == []
    # Sorted: the mock engine registers resources whose inputs wait on outputs in no fixed order
    # (under load this list came out invoke-first).
    assert sorted(p.name for p in r.of_type("aws:iam/rolePolicy:RolePolicy")) == [
        "api-hook-invoke-policy",
        "api-hook-logs-policy",
    ]


def test_the_migration_function_runs_the_services_family_on_the_stacks_cluster() -> None:
    r = render(MIGRATE)
    function = r.one("aws:lambda/function:Function")
    assert function.inputs["handler"] == "migrate.handler"
    migrate = (HOOKS / "migrate.py").read_text(encoding="utf-8")
    assert function.inputs["code"] == {"assets": {"migrate.py": {"text": migrate}}}
    assert function.inputs["environment"]["variables"] == {
        "MIGRATE_COMMAND": '["python", "-m", "app.migrate"]',
        "MIGRATE_CONTAINER": "api",
        "MIGRATE_TIMEOUT_MINUTES": "15",
        "MIGRATE_POLL_SECONDS": "30",
    }
    ecs = policy(r, "api-hook-ecs-policy")
    cluster = {"ecs:cluster": "arn:aws:ecs:us-east-1:123456789012:cluster/ecr-fargate-dev"}
    revision = "arn:aws:ecs:us-east-1:123456789012:task-definition/ecr-fargate-dev-api:3"
    assert is_allowed([ecs], Request("ecs:RunTask", revision, cluster))
    assert not is_allowed(
        [ecs], Request("ecs:RunTask", revision.replace("-api:", "-web:"), cluster)
    )
    passed = {"iam:PassedToService": "ecs-tasks.amazonaws.com"}
    assert all(is_allowed([ecs], Request("iam:PassRole", arn, passed)) for arn in ROLES)
    (hook,) = r.one("aws:ecs/service:Service").inputs["deploymentConfiguration"]["lifecycleHooks"]
    assert hook["lifecycleStages"] == ["PRE_SCALE_UP"]
    assert hook["timeoutConfiguration"] == {"timeoutInMinutes": "17", "action": "ROLLBACK"}


def test_the_hook_timeout_leaves_room_for_two_callbacks_and_stays_within_ecs_limit() -> None:
    assert hook_timeout_minutes(MIGRATE) == 17  # 15 min + 2 x 30 s, rounded up, + 1
    assert hook_timeout_minutes(SmokeHook(base_url="http://x", paths=["/"])) == 7
    long = MigrateHook(command=["m"], container="api", timeout_minutes=1439, role_arns=ROLES)
    assert hook_timeout_minutes(long) == 1440
