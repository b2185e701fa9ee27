"""The migration hook as the program wires it (issue #21): prod's api (canary, `migrate`) gets a
`DeploymentHook` at PRE_SCALE_UP; the deploy role may create exactly that function and pass
exactly its roles; the boundary lets the hook run the api's task family and nothing else.
Expected values are literals."""

from __future__ import annotations

import json
from typing import Any

import permissions as policies
import settings
from plan import engine
from plan.engine import ACCOUNT_ID, Rendered
from rules.iam.evaluate import Request, is_allowed
from tests.conftest import GIT_ENV, STACKS

PREFIX = f"arn:aws:iam::{ACCOUNT_ID}:role/ecr-fargate/prod"
FUNCTION = f"arn:aws:lambda:us-east-1:{ACCOUNT_ID}:function:ecr-fargate-prod-api-migrate"
FUNCTION_ROLE = f"{PREFIX}/ecr-fargate-prod-api-migrate-fn"
INVOKE_ROLE = f"{PREFIX}/ecr-fargate-prod-api-migrate-ecs"
CLUSTER = f"arn:aws:ecs:us-east-1:{ACCOUNT_ID}:cluster/ecr-fargate-prod"
API_REVISION = f"arn:aws:ecs:us-east-1:{ACCOUNT_ID}:task-definition/ecr-fargate-prod-api:7"
WORKER_REVISION = f"arn:aws:ecs:us-east-1:{ACCOUNT_ID}:task-definition/ecr-fargate-prod-worker:7"
ON_CLUSTER = {"ecs:cluster": CLUSTER}


def stack_settings(stack: str = "prod") -> settings.Settings:
    return settings.load(engine.raw_stack_config(stack, stack_dir=STACKS), env=GIT_ENV)


def test_the_api_service_calls_the_migration_before_it_scales_up(prod: Rendered) -> None:
    config = prod.named("api-service").inputs["deploymentConfiguration"]
    assert config["lifecycleHooks"] == [
        {
            "hookTargetArn": FUNCTION,
            "roleArn": INVOKE_ROLE,
            "lifecycleStages": ["PRE_SCALE_UP"],
            # 15 minutes (the default) + two 30 s callbacks, rounded up, + 1
            "timeoutConfiguration": {"timeoutInMinutes": "17", "action": "ROLLBACK"},
        }
    ]
    assert "lifecycleHooks" not in prod.named("worker-service").inputs["deploymentConfiguration"]
    (function,) = prod.of_type("aws:lambda/function:Function")
    assert function.inputs["name"] == "ecr-fargate-prod-api-migrate"
    assert function.inputs["role"] == FUNCTION_ROLE
    assert function.inputs["environment"]["variables"] == {
        "MIGRATE_COMMAND": '["python", "/app/migrate.pyc"]',
        "MIGRATE_CONTAINER": "api",
        "MIGRATE_TIMEOUT_MINUTES": "15",
        "MIGRATE_POLL_SECONDS": "30",
    }
    roles = {r.state["arn"]: r for r in prod.of_type("aws:iam/role:Role")}
    boundary = f"arn:aws:iam::{ACCOUNT_ID}:policy/ecr-fargate-ci/prod/ecr-fargate-prod-boundary"
    assert roles[FUNCTION_ROLE].inputs["permissionsBoundary"] == boundary
    assert roles[INVOKE_ROLE].inputs["permissionsBoundary"] == boundary


def test_the_migration_runs_only_the_api_family_and_passes_only_its_roles(prod: Rendered) -> None:
    own = [json.loads(prod.named("api-migrate-ecs-policy").inputs["policy"])]
    bound = [policies.boundary_policy(stack_settings(), ACCOUNT_ID)]
    for docs in (own, bound):
        assert is_allowed(docs, Request("ecs:RunTask", API_REVISION, ON_CLUSTER))
        assert not is_allowed(docs, Request("ecs:RunTask", WORKER_REVISION, ON_CLUSTER))
        other = {"ecs:cluster": CLUSTER.replace("ecr-fargate-prod", "ecr-fargate-dev")}
        assert not is_allowed(docs, Request("ecs:RunTask", API_REVISION, other))
    tasks = {"iam:PassedToService": "ecs-tasks.amazonaws.com"}
    for role in ("api-task", "api-execution"):
        assert is_allowed(own, Request("iam:PassRole", f"{PREFIX}/{role}", tasks))
    assert not is_allowed(own, Request("iam:PassRole", f"{PREFIX}/worker-task", tasks))
    # The boundary lets the invoke role call this function alone.
    assert is_allowed(bound, Request("lambda:InvokeFunction", FUNCTION))
    assert not is_allowed(bound, Request("lambda:InvokeFunction", FUNCTION + "-x"))


def deploy_allows(action: str, resource: str, **context: Any) -> bool:
    return is_allowed(
        [policies.deploy_policy(stack_settings(), ACCOUNT_ID)], Request(action, resource, context)
    )


def test_the_deploy_role_reaches_this_stacks_hook_function_only() -> None:
    mine, theirs = {"aws:ResourceTag/stack": "prod"}, {"aws:ResourceTag/stack": "prod-eu"}
    create = {"aws:RequestTag/stack": "prod", "aws:TagKeys": ["stack"]}
    assert deploy_allows("lambda:CreateFunction", FUNCTION, **create)
    assert not deploy_allows("lambda:CreateFunction", FUNCTION)
    bad_tag = {"aws:RequestTag/stack": "prod-eu", "aws:TagKeys": ["stack"]}
    assert not deploy_allows("lambda:CreateFunction", FUNCTION, **bad_tag)
    for action in ("lambda:UpdateFunctionCode", "lambda:DeleteFunction"):
        assert deploy_allows(action, FUNCTION, **mine)
        # `ecr-fargate-prod-eu-api-migrate` is prod-eu's api or prod's `eu-api`: the tag decides.
        assert not deploy_allows(action, FUNCTION, **theirs)
        assert not deploy_allows(action, FUNCTION)
    another = FUNCTION.replace("prod-api", "prod-worker")
    assert not deploy_allows("lambda:UpdateFunctionCode", another, **mine)
    dev = FUNCTION.replace("prod", "dev")
    assert not deploy_allows("lambda:CreateFunction", dev, **create)
    # No handing the function to another stack, no dropping its `stack` tag.
    handover = {**mine, "aws:RequestTag/stack": "prod-eu", "aws:TagKeys": ["stack"]}
    assert not deploy_allows("lambda:TagResource", FUNCTION, **handover)
    assert not deploy_allows("lambda:UntagResource", FUNCTION, **mine, **{"aws:TagKeys": ["stack"]})


def test_the_deploy_role_passes_the_hook_roles_to_their_service_only() -> None:
    to_lambda = {"iam:PassedToService": "lambda.amazonaws.com"}
    to_ecs = {"iam:PassedToService": "ecs.amazonaws.com"}
    assert deploy_allows("iam:PassRole", FUNCTION_ROLE, **to_lambda)
    assert deploy_allows("iam:PassRole", INVOKE_ROLE, **to_ecs)
    assert not deploy_allows("iam:PassRole", INVOKE_ROLE, **to_lambda)
    assert not deploy_allows("iam:PassRole", FUNCTION_ROLE, **to_ecs)
    for role in ("api-task", "api-execution", "ecr-fargate-prod-ecs-lb"):
        assert not deploy_allows("iam:PassRole", f"{PREFIX}/{role}", **to_lambda), role
    other = "arn:aws:iam::123456789012:role/ecr-fargate/dev/ecr-fargate-dev-api-migrate-fn"
    assert not deploy_allows("iam:PassRole", other, **to_lambda)


def test_a_rolling_stack_gets_no_hook_and_no_lambda_grant(dev: Rendered) -> None:
    assert dev.of_type("aws:lambda/function:Function") == []
    actions = policies.actions_of([policies.deploy_policy(stack_settings("dev"), ACCOUNT_ID)])
    assert {a for a in actions if a.startswith("lambda:")} == set()
