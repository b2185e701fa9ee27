"""The hooks' IAM documents, both ways: what each hook needs is allowed, the same action on
another stack's (or service's) cluster, tasks, revisions, roles or function is not."""

from __future__ import annotations

import pytest

from permissions.hooks import hook_boundary
from rules.ecs import hooks
from rules.iam.evaluate import Request, is_allowed
from rules.naming import StackNames

ACCOUNT = "123456789012"
PROD = StackNames("prod")
OTHER = StackNames("prod-eu")  # shares `prod`'s prefix: the sharpest neighbour
ROLES = [
    "arn:aws:iam::123456789012:role/ecr-fargate/prod/api-execution-0a1b",
    "arn:aws:iam::123456789012:role/ecr-fargate/prod/api-task-2c3d",
]
MIGRATE = hooks.migrate_policy(
    cluster_arn=PROD.cluster_arn(ACCOUNT),
    task_definition_arn=PROD.task_definition_arn(ACCOUNT, "api"),
    task_arn=PROD.ecs_task_arn(ACCOUNT),
    service_revision_arn=PROD.ecs_service_revision_arn(ACCOUNT, "api"),
    role_arns=ROLES,
)
CLUSTER = "arn:aws:ecs:us-east-1:123456789012:cluster/ecr-fargate-prod"
OTHER_CLUSTER = "arn:aws:ecs:us-east-1:123456789012:cluster/ecr-fargate-prod-eu"
TASK = "arn:aws:ecs:us-east-1:123456789012:task/ecr-fargate-prod/0123456789abcdef"
OTHER_TASK = "arn:aws:ecs:us-east-1:123456789012:task/ecr-fargate-prod-eu/0123456789abcdef"
ON_CLUSTER = {"ecs:cluster": CLUSTER}
ON_OTHER = {"ecs:cluster": OTHER_CLUSTER}
TO_TASKS = {"iam:PassedToService": "ecs-tasks.amazonaws.com"}


def allowed(document: dict, action: str, resource: str, **context: str) -> bool:
    return is_allowed([document], Request(action, resource, context))


@pytest.mark.parametrize(
    ("action", "resource", "context"),
    [
        (
            "ecs:DescribeServiceRevisions",
            "arn:aws:ecs:us-east-1:123456789012:service-revision/ecr-fargate-prod/api/9313423515",
            {},
        ),
        (
            "ecs:RunTask",
            "arn:aws:ecs:us-east-1:123456789012:task-definition/ecr-fargate-prod-api:7",
            ON_CLUSTER,
        ),
        ("ecs:TagResource", TASK, {"ecs:CreateAction": "RunTask"}),
        ("ecs:ListTasks", "*", ON_CLUSTER),
        ("ecs:DescribeTasks", TASK, ON_CLUSTER),
        ("ecs:StopTask", TASK, ON_CLUSTER),
        ("iam:PassRole", ROLES[0], TO_TASKS),
        ("iam:PassRole", ROLES[1], TO_TASKS),
    ],
)
def test_the_migration_hook_may_do_what_it_needs(action: str, resource: str, context: dict):
    assert allowed(MIGRATE, action, resource, **context)


@pytest.mark.parametrize(
    ("action", "resource", "context"),
    [
        # another stack's revisions, or another service's of the same stack
        (
            "ecs:DescribeServiceRevisions",
            "arn:aws:ecs:us-east-1:123456789012:service-revision/ecr-fargate-prod-eu/api/1",
            {},
        ),
        (
            "ecs:DescribeServiceRevisions",
            "arn:aws:ecs:us-east-1:123456789012:service-revision/ecr-fargate-prod/web/1",
            {},
        ),
        # another family, or the right family on another cluster
        (
            "ecs:RunTask",
            "arn:aws:ecs:us-east-1:123456789012:task-definition/ecr-fargate-prod-web:7",
            ON_CLUSTER,
        ),
        (
            "ecs:RunTask",
            "arn:aws:ecs:us-east-1:123456789012:task-definition/ecr-fargate-prod-api:7",
            ON_OTHER,
        ),
        # tagging outside a launch, or another stack's tasks
        ("ecs:TagResource", TASK, {}),
        ("ecs:TagResource", TASK, {"ecs:CreateAction": "CreateService"}),
        ("ecs:TagResource", OTHER_TASK, {"ecs:CreateAction": "RunTask"}),
        ("ecs:ListTasks", "*", ON_OTHER),
        ("ecs:DescribeTasks", OTHER_TASK, ON_OTHER),
        ("ecs:StopTask", OTHER_TASK, ON_OTHER),
        # another stack's role, any role to another service, another action on the cluster
        ("iam:PassRole", "arn:aws:iam::123456789012:role/ecr-fargate/prod-eu/api-task-9", TO_TASKS),
        ("iam:PassRole", ROLES[0], {"iam:PassedToService": "lambda.amazonaws.com"}),
        (
            "ecs:UpdateService",
            "arn:aws:ecs:us-east-1:123456789012:service/ecr-fargate-prod/api",
            {},
        ),
        (
            "ecs:DeleteService",
            "arn:aws:ecs:us-east-1:123456789012:service/ecr-fargate-prod/api",
            {},
        ),
    ],
)
def test_the_migration_hook_may_not_reach_further(action: str, resource: str, context: dict):
    assert not allowed(MIGRATE, action, resource, **context)


def test_the_invoke_role_reaches_only_its_function() -> None:
    document = hooks.hook_invoke_policy(
        PROD.function_arn(ACCOUNT, PROD.hook_function("api", "smoke"))
    )
    own = "arn:aws:lambda:us-east-1:123456789012:function:ecr-fargate-prod-api-smoke"
    assert allowed(document, "lambda:InvokeFunction", own)
    for other in (
        "arn:aws:lambda:us-east-1:123456789012:function:ecr-fargate-prod-eu-api-smoke",
        "arn:aws:lambda:us-east-1:123456789012:function:ecr-fargate-prod-api-migrate",
    ):
        assert not allowed(document, "lambda:InvokeFunction", other)
    assert not allowed(document, "lambda:UpdateFunctionCode", own)


def test_the_invoke_role_trusts_ecs_of_this_account_only() -> None:
    document = hooks.hook_invoke_assume_role_policy(ACCOUNT)
    (statement,) = document["Statement"]
    assert statement["Principal"] == {"Service": "ecs.amazonaws.com"}
    assert statement["Action"] == "sts:AssumeRole"
    assert statement["Condition"] == {"StringEqualsIfExists": {"aws:SourceAccount": "123456789012"}}


def test_a_function_writes_only_its_own_log_group() -> None:
    document = hooks.hook_logs_policy(PROD.hook_log_group_arn(ACCOUNT, "api", "smoke"))
    own = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/ecr-fargate-prod-api-smoke"
    assert allowed(document, "logs:PutLogEvents", f"{own}:log-stream:2026/01/01/abc")
    assert allowed(document, "logs:CreateLogStream", f"{own}:log-stream:2026/01/01/abc")
    neighbour = own.replace("-prod-", "-prod-eu-")
    assert not allowed(document, "logs:PutLogEvents", f"{neighbour}:log-stream:x")
    assert not allowed(document, "logs:CreateLogGroup", own)
    assert not allowed(document, "logs:DeleteLogGroup", own)


def test_only_lambda_assumes_a_function_role_and_the_vpc_grant_is_enis_only() -> None:
    trust = hooks.lambda_assume_role_policy()
    assert [s["Principal"] for s in trust["Statement"]] == [{"Service": "lambda.amazonaws.com"}]
    vpc = hooks.hook_vpc_policy()
    assert allowed(vpc, "ec2:CreateNetworkInterface", "*")
    assert not allowed(vpc, "ec2:AuthorizeSecurityGroupIngress", "*")
    assert not allowed(vpc, "ec2:RunInstances", "*")


def test_names_fit_lambda_and_keep_the_stack_prefix() -> None:
    assert PROD.hook_function("api", "migrate") == "ecr-fargate-prod-api-migrate"
    assert PROD.hook_log_group("api", "smoke") == "/aws/lambda/ecr-fargate-prod-api-smoke"
    long = StackNames("a" * 40).hook_function("s" * 40, "migrate")
    assert len(long) == 64
    assert long.startswith("ecr-fargate-" + "a" * 40 + "-")


BOUNDARY = {
    "Version": "2012-10-17",
    "Statement": hook_boundary(PROD, ACCOUNT, smoke=["api"], migrate=["api"], smoke_in_vpc=True),
}


@pytest.mark.parametrize(
    ("action", "resource", "context"),
    [
        (
            "ecs:DescribeServiceRevisions",
            "arn:aws:ecs:us-east-1:123456789012:service-revision/ecr-fargate-prod/api/9313423515",
            {},
        ),
        (
            "ecs:RunTask",
            "arn:aws:ecs:us-east-1:123456789012:task-definition/ecr-fargate-prod-api:7",
            ON_CLUSTER,
        ),
        ("ecs:TagResource", TASK, {"ecs:CreateAction": "RunTask"}),
        ("ecs:ListTasks", "*", ON_CLUSTER),
        ("ecs:DescribeTasks", TASK, ON_CLUSTER),
        ("ecs:StopTask", TASK, ON_CLUSTER),
        ("iam:PassRole", ROLES[0], TO_TASKS),
    ],
)
def test_the_boundary_lets_the_migration_role_do_its_work(action, resource, context):
    assert is_allowed([MIGRATE], Request(action, resource, context), BOUNDARY)


@pytest.mark.parametrize(
    ("action", "resource", "context"),
    [
        (
            "ecs:RunTask",
            "arn:aws:ecs:us-east-1:123456789012:task-definition/ecr-fargate-prod-api:7",
            ON_OTHER,
        ),
        ("ecs:StopTask", OTHER_TASK, ON_OTHER),
        ("iam:PassRole", "arn:aws:iam::123456789012:role/ecr-fargate/prod-eu/api-task", TO_TASKS),
    ],
)
def test_the_boundary_refuses_another_stack_even_to_a_wider_policy(action, resource, context):
    wide = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
    }
    assert not is_allowed([wide], Request(action, resource, context), BOUNDARY)


def test_the_boundary_covers_the_hook_logs_invocation_and_enis() -> None:
    logs = hooks.hook_logs_policy(PROD.hook_log_group_arn(ACCOUNT, "api", "smoke"))
    stream = (
        "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/ecr-fargate-prod-api-smoke"
        ":log-stream:2026/01/01/abc"
    )
    assert is_allowed([logs], Request("logs:PutLogEvents", stream), BOUNDARY)
    function = "arn:aws:lambda:us-east-1:123456789012:function:ecr-fargate-prod-api-migrate"
    invoke = hooks.hook_invoke_policy(function)
    assert is_allowed([invoke], Request("lambda:InvokeFunction", function), BOUNDARY)
    vpc = hooks.hook_vpc_policy()
    assert is_allowed([vpc], Request("ec2:CreateNetworkInterface", "*"), BOUNDARY)
    other = function.replace("-prod-", "-prod-eu-")
    wide = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
    }
    assert not is_allowed([wide], Request("lambda:InvokeFunction", other), BOUNDARY)


def test_no_hooks_no_boundary_statements_and_no_enis_outside_the_vpc() -> None:
    assert hook_boundary(PROD, ACCOUNT) == []
    sids = [s["Sid"] for s in hook_boundary(PROD, ACCOUNT, smoke=["api"])]
    assert sids == ["WriteHookLogs", "InvokeHooks"]
