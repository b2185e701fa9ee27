"""The container definition and the RegisterTaskDefinition request, checked against the ECS model.

Checking with botocore's own validator at preview turns a wrong key or type into an error before
`pulumi up`, instead of an API rejection mid-deploy.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import botocore.session
from botocore.validate import ParamValidator

# Parameters Fargate rejects in task definitions (AWS "task definition differences for Fargate").
NOT_ON_FARGATE = (
    "disableNetworking",
    "dnsSearchDomains",
    "dnsServers",
    "dockerSecurityOptions",
    "extraHosts",
    "gpu",
    "ipcMode",
    "links",
    "placementConstraints",
    "privileged",
    "maxSwap",
    "swappiness",
)
_DIGEST_IMAGE = re.compile(r"^(?P<name>[^@]+)@sha256:[0-9A-Fa-f]{64}$")
_TAG_IMAGE = re.compile(r"^[A-Za-z0-9_\-:./#]{1,255}$")


@dataclass(frozen=True)
class ContainerSpec:
    name: str
    port: int
    environment: Mapping[str, str] = field(default_factory=dict)
    secrets: Mapping[str, str] = field(default_factory=dict)
    user: str = "10001:10001"
    health_check_path: str = "/healthz"
    health_check_command: Sequence[str] | None = None
    health_check_interval: int = 30
    health_check_timeout: int = 5
    health_check_retries: int = 3
    health_check_start_period: int = 10
    stop_timeout: int = 30
    readonly_root_filesystem: bool = True
    writable_paths: Sequence[str] = ("/tmp",)
    init_process_enabled: bool = True

    def __post_init__(self) -> None:
        uid = self.user.split(":", 1)[0]
        if uid in ("root", "0", ""):
            raise ValueError(
                f"user {self.user!r} is not allowed; run as a non-root user such as 10001:10001"
            )
        if not 1 <= self.port <= 65535:
            raise ValueError(f"port {self.port} is not allowed; expected 1..65535")
        if not 2 <= self.stop_timeout <= 120:
            raise ValueError(
                f"stopTimeout {self.stop_timeout} is not allowed; Fargate needs 2..120 seconds"
            )
        for value, low, high, what in (
            (self.health_check_interval, 5, 300, "interval"),
            (self.health_check_timeout, 2, 120, "timeout"),
            (self.health_check_retries, 1, 10, "retries"),
            (self.health_check_start_period, 0, 300, "startPeriod"),
        ):
            if not low <= value <= high:
                raise ValueError(
                    f"health check {what} {value} is not allowed; ECS needs {low}..{high}"
                )
        if not self.health_check_path.startswith("/"):
            raise ValueError(f"healthCheckPath {self.health_check_path!r} must start with '/'")
        for path in self.writable_paths:
            if not path.startswith("/") or path == "/":
                raise ValueError(f"writable path {path!r} must be an absolute path below /")

    def health_command(self) -> list[str]:
        if self.health_check_command:
            return list(self.health_check_command)
        url = f"http://127.0.0.1:{self.port}{self.health_check_path}"
        # Slim images have no curl; the Python the app runs on has urllib.
        return [
            "CMD",
            "python",
            "-c",
            f"import urllib.request; urllib.request.urlopen('{url}', timeout=3)",
        ]


def _volume_name(path: str) -> str:
    return "writable" + re.sub(r"[^A-Za-z0-9]+", "-", path).rstrip("-")


def render_volumes(spec: ContainerSpec) -> list[dict[str, Any]]:
    # Fargate supports bind-mount volumes only: a task-local scratch directory per path.
    return [{"name": _volume_name(p)} for p in spec.writable_paths]


def render_container_definitions(
    spec: ContainerSpec, *, image: str, log_group: str, region: str, stream_prefix: str
) -> list[dict[str, Any]]:
    definition: dict[str, Any] = {
        "name": spec.name,
        "image": image,
        "essential": True,
        "portMappings": [
            {"containerPort": spec.port, "protocol": "tcp", "name": f"{spec.name}-{spec.port}"}
        ],
        "environment": [
            {"name": k, "value": spec.environment[k]} for k in sorted(spec.environment)
        ],
        "secrets": [{"name": k, "valueFrom": spec.secrets[k]} for k in sorted(spec.secrets)],
        "logConfiguration": {
            "logDriver": "awslogs",
            "options": {
                "awslogs-group": log_group,
                "awslogs-region": region,
                "awslogs-stream-prefix": stream_prefix,
                # A full log buffer drops lines instead of blocking the app's stdout.
                "mode": "non-blocking",
                "max-buffer-size": "25m",
            },
        },
        "readonlyRootFilesystem": spec.readonly_root_filesystem,
        "user": spec.user,
        "healthCheck": {
            "command": spec.health_command(),
            "interval": spec.health_check_interval,
            "timeout": spec.health_check_timeout,
            "retries": spec.health_check_retries,
            "startPeriod": spec.health_check_start_period,
        },
        "stopTimeout": spec.stop_timeout,
        "linuxParameters": {"initProcessEnabled": spec.init_process_enabled},
        "mountPoints": [
            {"sourceVolume": _volume_name(p), "containerPath": p, "readOnly": False}
            for p in spec.writable_paths
        ],
    }
    return [definition]


def container_definitions_json(definitions: list[dict[str, Any]]) -> str:
    return json.dumps(definitions, sort_keys=True, separators=(",", ":"))


def task_definition_request(
    *,
    family: str,
    spec: ContainerSpec,
    image: str,
    cpu: int,
    memory: int,
    cpu_architecture: str,
    log_group: str,
    region: str,
    execution_role_arn: str,
    task_role_arn: str,
    ephemeral_storage_gib: int | None = None,
) -> dict[str, Any]:
    request: dict[str, Any] = {
        "family": family,
        "containerDefinitions": render_container_definitions(
            spec, image=image, log_group=log_group, region=region, stream_prefix=spec.name
        ),
        "requiresCompatibilities": ["FARGATE"],
        "networkMode": "awsvpc",
        "cpu": str(cpu),
        "memory": str(memory),
        "runtimePlatform": {"operatingSystemFamily": "LINUX", "cpuArchitecture": cpu_architecture},
        "executionRoleArn": execution_role_arn,
        "taskRoleArn": task_role_arn,
        "volumes": render_volumes(spec),
    }
    if ephemeral_storage_gib is not None:
        if not 21 <= ephemeral_storage_gib <= 200:
            raise ValueError(
                f"ephemeral storage {ephemeral_storage_gib} GiB is not allowed; Fargate needs 21..200"
            )
        request["ephemeralStorage"] = {"sizeInGiB": ephemeral_storage_gib}
    return request


@cache
def _register_shape() -> Any:
    model = botocore.session.get_session().get_service_model("ecs")
    return model.operation_model("RegisterTaskDefinition").input_shape


def validate_image_reference_for_ecs(image: str) -> str:
    if m := _DIGEST_IMAGE.match(image):
        if len(m["name"]) > 255:
            raise ValueError(f"image {image!r}: the part before '@' is over 255 characters")
        return image
    if "@" in image or not _TAG_IMAGE.match(image):
        raise ValueError(
            f"image {image!r} is not an ECS image reference (tag form <= 255 characters, or @sha256:<64 hex>)"
        )
    return image


def validate_task_definition_request(params: dict[str, Any]) -> None:
    report = ParamValidator().validate(params, _register_shape())
    problems = [report.generate_report()] if report.has_errors() else []
    for key in NOT_ON_FARGATE:
        if key in params:
            problems.append(f"{key} is not valid on Fargate")
    for container in params.get("containerDefinitions", []):
        for key in NOT_ON_FARGATE:
            if key in container:
                problems.append(
                    f"containerDefinitions[{container.get('name')}].{key} is not valid on Fargate"
                )
        try:
            validate_image_reference_for_ecs(str(container.get("image", "")))
        except ValueError as exc:
            problems.append(str(exc))
    if problems:
        raise ValueError("task definition refused before registering: " + "; ".join(problems))
