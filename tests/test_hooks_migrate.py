"""The migration hook against botocore's Stubber: each call it makes, and what it answers ECS."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from hooks import migrate

DEPLOYMENT = "arn:aws:ecs:us-east-1:123456789012:service-deployment/ecr-fargate-prod/api/EZe5RNVLH6"
REVISION = "arn:aws:ecs:us-east-1:123456789012:service-revision/ecr-fargate-prod/api/9313423515"
TASK = "arn:aws:ecs:us-east-1:123456789012:task/ecr-fargate-prod/0123456789abcdef"
TASK_DEFINITION = "arn:aws:ecs:us-east-1:123456789012:task-definition/ecr-fargate-prod-api:7"
EVENT = {
    "executionId": "e8d5a28f-eb01-4f3c-9454-a30ba6dc54bc",
    "lifecycleStage": "PRE_SCALE_UP",
    "resourceArn": DEPLOYMENT,
    "executionDetails": {
        "serviceArn": "arn:aws:ecs:us-east-1:123456789012:service/ecr-fargate-prod/api",
        "targetServiceRevisionArn": REVISION,
        "testTrafficWeights": {},
        "productionTrafficWeights": {},
    },
}
ENV = {
    "MIGRATE_COMMAND": '["python", "-m", "app.migrate"]',
    "MIGRATE_CONTAINER": "api",
    "MIGRATE_TIMEOUT_MINUTES": "10",
    "MIGRATE_POLL_SECONDS": "20",
}
NETWORK = {
    "awsvpcConfiguration": {
        "subnets": ["subnet-0aaa"],
        "securityGroups": ["sg-0bbb"],
        "assignPublicIp": "DISABLED",
    }
}
CREATED = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
NOW = CREATED.timestamp() + 120  # two minutes after the task was created


@pytest.fixture
def ecs() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client(
        "ecs", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    with Stubber(client) as stub:
        yield client, stub
        stub.assert_no_pending_responses()


def listed(stub: Stubber, running: list[str], stopped: list[str] | None = None) -> None:
    marker = "migrate-EZe5RNVLH6"
    base = {"cluster": "ecr-fargate-prod", "startedBy": marker}
    stub.add_response("list_tasks", {"taskArns": running}, {**base, "desiredStatus": "RUNNING"})
    if stopped is not None:
        stub.add_response("list_tasks", {"taskArns": stopped}, {**base, "desiredStatus": "STOPPED"})


def described(stub: Stubber, **task: Any) -> None:
    stub.add_response(
        "describe_tasks",
        {"tasks": [{"taskArn": TASK, "createdAt": CREATED, **task}], "failures": []},
        {"cluster": "ecr-fargate-prod", "tasks": [TASK]},
    )


def test_the_first_call_starts_the_new_revision_with_the_command(ecs) -> None:
    client, stub = ecs
    listed(stub, [], [])
    stub.add_response(
        "describe_service_revisions",
        {
            "serviceRevisions": [
                {
                    "serviceRevisionArn": REVISION,
                    "taskDefinition": TASK_DEFINITION,
                    "launchType": "FARGATE",
                    "platformVersion": "1.4.0",
                    "networkConfiguration": NETWORK,
                }
            ],
            "failures": [],
        },
        {"serviceRevisionArns": [REVISION]},
    )
    stub.add_response(
        "run_task",
        {"tasks": [{"taskArn": TASK}], "failures": []},
        {
            "cluster": "ecr-fargate-prod",
            "taskDefinition": TASK_DEFINITION,
            "networkConfiguration": NETWORK,
            "overrides": {
                "containerOverrides": [{"name": "api", "command": ["python", "-m", "app.migrate"]}]
            },
            "startedBy": "migrate-EZe5RNVLH6",
            "tags": [{"key": "ecs-service-deployment", "value": DEPLOYMENT}],
            "count": 1,
            "launchType": "FARGATE",
            "platformVersion": "1.4.0",
        },
    )
    answer = migrate.evaluate(EVENT, ENV, client, lambda: NOW)
    assert answer == {"hookStatus": "IN_PROGRESS", "callBackDelay": 20}


def test_a_capacity_provider_strategy_is_kept_and_a_refused_start_fails(ecs) -> None:
    client, stub = ecs
    listed(stub, [], [])
    spot = [{"capacityProvider": "FARGATE_SPOT", "weight": 1, "base": 0}]
    stub.add_response(
        "describe_service_revisions",
        {
            "serviceRevisions": [
                {
                    "taskDefinition": TASK_DEFINITION,
                    "capacityProviderStrategy": spot,
                    "networkConfiguration": NETWORK,
                }
            ]
        },
    )
    stub.add_response(
        "run_task",
        {"tasks": [], "failures": [{"reason": "RESOURCE:ENI"}]},
        {
            "cluster": "ecr-fargate-prod",
            "taskDefinition": TASK_DEFINITION,
            "networkConfiguration": NETWORK,
            "overrides": {
                "containerOverrides": [{"name": "api", "command": ["python", "-m", "app.migrate"]}]
            },
            "startedBy": "migrate-EZe5RNVLH6",
            "tags": [{"key": "ecs-service-deployment", "value": DEPLOYMENT}],
            "count": 1,
            "capacityProviderStrategy": spot,
        },
    )
    assert migrate.evaluate(EVENT, ENV, client, lambda: NOW) == {"hookStatus": "FAILED"}


@pytest.mark.parametrize("status", ["PROVISIONING", "PENDING", "RUNNING"])
def test_a_task_still_running_is_in_progress(ecs, status: str) -> None:
    client, stub = ecs
    listed(stub, [TASK])
    described(stub, lastStatus=status, containers=[{"name": "api"}])
    answer = migrate.evaluate(EVENT, ENV, client, lambda: NOW)
    assert answer == {"hookStatus": "IN_PROGRESS", "callBackDelay": 20}


def test_exit_zero_succeeds(ecs) -> None:
    client, stub = ecs
    listed(stub, [], [TASK])
    described(stub, lastStatus="STOPPED", containers=[{"name": "api", "exitCode": 0}])
    assert migrate.evaluate(EVENT, ENV, client, lambda: NOW) == {"hookStatus": "SUCCEEDED"}


def test_exit_one_fails(ecs) -> None:
    client, stub = ecs
    listed(stub, [], [TASK])
    described(stub, lastStatus="STOPPED", containers=[{"name": "api", "exitCode": 1}])
    assert migrate.evaluate(EVENT, ENV, client, lambda: NOW) == {"hookStatus": "FAILED"}


def test_a_stop_without_an_exit_code_fails(ecs) -> None:
    client, stub = ecs
    listed(stub, [], [TASK])
    described(
        stub,
        lastStatus="STOPPED",
        stoppedReason="CannotPullContainerError",
        containers=[{"name": "api"}],
    )
    assert migrate.evaluate(EVENT, ENV, client, lambda: NOW) == {"hookStatus": "FAILED"}


def test_over_the_timeout_stops_the_task_and_fails(ecs) -> None:
    client, stub = ecs
    listed(stub, [TASK])
    described(stub, lastStatus="RUNNING", containers=[{"name": "api"}])
    stub.add_response(
        "stop_task",
        {"task": {"taskArn": TASK}},
        {"cluster": "ecr-fargate-prod", "task": TASK, "reason": "migration timed out"},
    )
    eleven_minutes = CREATED.timestamp() + 660
    assert migrate.evaluate(EVENT, ENV, client, lambda: eleven_minutes) == {"hookStatus": "FAILED"}


@pytest.mark.parametrize(
    "change",
    [
        {"MIGRATE_COMMAND": "python -m app.migrate"},
        {"MIGRATE_COMMAND": "[]"},
        {"MIGRATE_COMMAND": "[1]"},
        {"MIGRATE_CONTAINER": ""},
        {"MIGRATE_TIMEOUT_MINUTES": "ten"},
    ],
)
def test_a_bad_setting_fails_without_a_call(ecs, change: dict[str, str]) -> None:
    client, _ = ecs
    assert migrate.evaluate(EVENT, {**ENV, **change}, client, lambda: NOW) == {
        "hookStatus": "FAILED"
    }


def test_started_by_fits_what_run_task_allows() -> None:
    assert migrate.started_by(DEPLOYMENT) == "migrate-EZe5RNVLH6"
    assert migrate.started_by("arn:x/a.b:c") == "migrate-a-b-c"
    assert len(migrate.started_by("arn:x/" + "a" * 200)) == 128
