"""The digests a cluster's services run, read from ECS itself (`preview --from-ecs CLUSTER`).

Every deployment of a service counts, not only the primary one: during a rollout (or a rollback
by the deployment circuit breaker) the ACTIVE deployment's tasks still run, and start, the
previous task definition's image. The stack pins every image by digest, so a container image is
`<registry>/<repository>@sha256:...`; a tag-only image names no digest and is reported instead.
"""

from __future__ import annotations

from typing import Any

# DescribeServices takes at most 10 services per call (the ECS API reference).
DESCRIBE_BATCH = 10


def _task_definitions(client: Any, cluster: str) -> dict[str, list[str]]:
    """Task definition ARN -> the services whose deployments use it."""
    arns: list[str] = []
    for page in client.get_paginator("list_services").paginate(cluster=cluster):
        arns += page.get("serviceArns", [])
    used: dict[str, list[str]] = {}
    for start in range(0, len(arns), DESCRIBE_BATCH):
        found = client.describe_services(
            cluster=cluster, services=arns[start : start + DESCRIBE_BATCH]
        )
        for service in found.get("services", []):
            definitions = {d["taskDefinition"] for d in service.get("deployments") or []}
            definitions.add(service["taskDefinition"])
            for arn in sorted(definitions):
                used.setdefault(arn, []).append(service["serviceName"])
    return used


def _repository_of(image: str) -> str:
    """`<registry host>/<repository>[:tag][@digest]` -> `<repository>`."""
    name = image.partition("@")[0].split("/", 1)[-1]
    path, _, last = name.rpartition("/")
    return f"{path}/{last.split(':', 1)[0]}" if path else last.split(":", 1)[0]


def running_digests(client: Any, cluster: str, repository: str) -> tuple[set[str], list[str]]:
    """(the digests of `repository` the cluster's services run, one line per thing read)."""
    digests: set[str] = set()
    notes: list[str] = []
    for arn, services in sorted(_task_definitions(client, cluster).items()):
        definition = client.describe_task_definition(taskDefinition=arn)["taskDefinition"]
        for container in definition.get("containerDefinitions", []):
            image = str(container.get("image", ""))
            if _repository_of(image) != repository:
                continue
            digest = image.partition("@")[2]
            who = f"{', '.join(services)} ({arn.rsplit('/', 1)[-1]}, {container.get('name')})"
            if digest.startswith("sha256:"):
                digests.add(digest)
                notes.append(f"ECS {cluster}: {who} runs {digest}")
            else:
                notes.append(f"ECS {cluster}: {who} runs {image}, which names no digest")
    if not notes:
        notes.append(f"ECS {cluster}: no service runs an image of {repository}")
    return digests, notes
