"""The migration hook: at PRE_SCALE_UP, run the NEW revision's task once with the migrate command.

At PRE_SCALE_UP the green revision has not started and the blue one serves all the traffic
(https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeploymentLifecycleHook.html), so
the schema changes before any new task serves. The payload names the deployment (`resourceArn`)
and the target revision (`executionDetails.targetServiceRevisionArn`); DescribeServiceRevisions
gives that revision's task definition, network configuration and launch type or capacity
providers (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ServiceRevision.html),
which RunTask reuses with the command overridden.

Stateless across invocations: the task is started with `startedBy` derived from the deployment's
ID, so each later invocation (ECS calls again after `callBackDelay` while the hook answers
IN_PROGRESS, https://docs.aws.amazon.com/AmazonECS/latest/developerguide/lambda-lifecycle-hooks.html)
finds it with ListTasks and judges it with DescribeTasks: PENDING or RUNNING -> IN_PROGRESS;
STOPPED with the container's exit code 0 -> SUCCEEDED; any other stop -> FAILED; still running
past `MIGRATE_TIMEOUT_MINUTES` after it was created -> StopTask and FAILED. FAILED makes ECS roll
the deployment back. A retried invocation never starts a second task for the same deployment.

Settings, from environment variables the program sets: `MIGRATE_COMMAND` (JSON array of
strings), `MIGRATE_CONTAINER` (the container to override), `MIGRATE_TIMEOUT_MINUTES`,
`MIGRATE_POLL_SECONDS` (30, the `callBackDelay`).
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import boto3

SUCCEEDED, FAILED, IN_PROGRESS = "SUCCEEDED", "FAILED", "IN_PROGRESS"
DEPLOYMENT_TAG = "ecs-service-deployment"  # the deployment's ARN, on the migration task


@dataclass(frozen=True)
class Config:
    command: tuple[str, ...]
    container: str
    timeout_seconds: float
    poll_seconds: int

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Config:
        """The settings, or ValueError naming the variable that is wrong."""
        command = json.loads(env.get("MIGRATE_COMMAND", "null"))
        if (
            not isinstance(command, list)
            or not command
            or not all(isinstance(c, str) for c in command)
        ):
            raise ValueError(f"MIGRATE_COMMAND {command!r} is not a non-empty list of strings")
        container = env.get("MIGRATE_CONTAINER", "")
        if not container:
            raise ValueError("MIGRATE_CONTAINER is not set")
        return cls(
            command=tuple(command),
            container=container,
            timeout_seconds=60 * float(env["MIGRATE_TIMEOUT_MINUTES"]),
            poll_seconds=int(env.get("MIGRATE_POLL_SECONDS", "30")),
        )


def started_by(deployment_arn: str) -> str:
    """`migrate-<deployment id>`: what RunTask's `startedBy` allows (letters, digits, `-`, `_`,
    at most 128) and ListTasks filters on."""
    deployment_id = deployment_arn.rsplit("/", 1)[-1]
    return ("migrate-" + re.sub(r"[^A-Za-z0-9_-]", "-", deployment_id))[:128]


def cluster_of(service_arn: str) -> str:
    """`arn:...:service/<cluster>/<service>` -> the cluster's name."""
    return service_arn.split(":", 5)[5].split("/")[1]


def _log(**fields: Any) -> None:
    print(json.dumps(fields, sort_keys=True, default=str))  # one line per record in CloudWatch


def find_task(ecs: Any, cluster: str, marker: str) -> dict[str, Any] | None:
    """The migration task this deployment started, running or stopped, if any."""
    for status in ("RUNNING", "STOPPED"):
        arns = ecs.list_tasks(cluster=cluster, startedBy=marker, desiredStatus=status)["taskArns"]
        if arns:
            tasks = ecs.describe_tasks(cluster=cluster, tasks=arns[:1])["tasks"]
            return dict(tasks[0]) if tasks else None
    return None


def start(ecs: Any, event: Mapping[str, Any], config: Config, cluster: str) -> dict[str, Any]:
    """RunTask of the target revision's task definition with the command overridden."""
    details = event["executionDetails"]
    revision_arn = details["targetServiceRevisionArn"]
    revisions = ecs.describe_service_revisions(serviceRevisionArns=[revision_arn])
    if not revisions["serviceRevisions"]:
        _log(hookStatus=FAILED, problem=f"no service revision {revision_arn}")
        return {"hookStatus": FAILED}
    revision = revisions["serviceRevisions"][0]
    placement: dict[str, Any] = (
        {"capacityProviderStrategy": revision["capacityProviderStrategy"]}
        if revision.get("capacityProviderStrategy")
        else {"launchType": revision.get("launchType", "FARGATE")}
    )
    if revision.get("platformVersion"):
        placement["platformVersion"] = revision["platformVersion"]
    response = ecs.run_task(
        cluster=cluster,
        taskDefinition=revision["taskDefinition"],
        networkConfiguration=revision["networkConfiguration"],
        overrides={
            "containerOverrides": [{"name": config.container, "command": list(config.command)}]
        },
        startedBy=started_by(event["resourceArn"]),
        tags=[{"key": DEPLOYMENT_TAG, "value": event["resourceArn"]}],
        count=1,
        **placement,
    )
    if response.get("failures") or not response.get("tasks"):
        _log(hookStatus=FAILED, failures=response.get("failures"))
        return {"hookStatus": FAILED}
    _log(hookStatus=IN_PROGRESS, started=response["tasks"][0]["taskArn"])
    return {"hookStatus": IN_PROGRESS, "callBackDelay": config.poll_seconds}


def judge(
    ecs: Any, task: Mapping[str, Any], config: Config, cluster: str, now: float
) -> dict[str, Any]:
    """The hook's answer for the task as it stands."""
    arn = task["taskArn"]
    if task.get("lastStatus") == "STOPPED":
        exits = [
            c.get("exitCode") for c in task.get("containers", []) if c["name"] == config.container
        ]
        status = SUCCEEDED if exits == [0] else FAILED
        _log(hookStatus=status, task=arn, exitCode=exits, stoppedReason=task.get("stoppedReason"))
        return {"hookStatus": status}
    elapsed = now - task["createdAt"].timestamp()
    if elapsed > config.timeout_seconds:
        ecs.stop_task(cluster=cluster, task=arn, reason="migration timed out")
        _log(
            hookStatus=FAILED,
            task=arn,
            problem=f"still {task.get('lastStatus')} after {elapsed:.0f}s",
        )
        return {"hookStatus": FAILED}
    _log(hookStatus=IN_PROGRESS, task=arn, lastStatus=task.get("lastStatus"))
    return {"hookStatus": IN_PROGRESS, "callBackDelay": config.poll_seconds}


def evaluate(
    event: Mapping[str, Any], env: Mapping[str, str], ecs: Any, clock: Callable[[], float]
) -> dict[str, Any]:
    """The hook's answer to one invocation (the handler with its inputs made explicit)."""
    try:
        config = Config.from_env(env)
    except (KeyError, ValueError) as error:
        _log(hookStatus=FAILED, problem=f"bad setting: {error}")
        return {"hookStatus": FAILED}
    cluster = cluster_of(event["executionDetails"]["serviceArn"])
    task = find_task(ecs, cluster, started_by(event["resourceArn"]))
    if task is None:
        return start(ecs, event, config, cluster)
    return judge(ecs, task, config, cluster, clock())


def handler(event: Mapping[str, Any], context: Any = None) -> dict[str, Any]:
    """The Lambda entry point: `migrate.handler`."""
    return evaluate(event, os.environ, boto3.client("ecs"), time.time)
