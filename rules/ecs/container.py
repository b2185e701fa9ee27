"""The container definition and the RegisterTaskDefinition request, checked against the ECS model.

Checking with botocore's own validator at preview turns a wrong key or type into an error before
`pulumi up`, instead of an API rejection mid-deploy.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from botocore.validate import ParamValidator

from rules.ecs.api_model import ecs_model
from rules.ecs.environment import STACK_VARIABLES, stack_variable_secret

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
# The ECS model's `ContainerDefinition.image`: "The only supported hash function is sha256, and the
# hash value after sha256: must be exactly 64 characters (only letters A-F, a-f, and numbers 0-9)".
# Docker's own, stricter rule (lowercase only) is applied where images are configured
# (`rules.registry.reference`); this is the last check of the request ECS receives.
_DIGEST_IMAGE = re.compile(r"^(?P<name>[^@]+)@sha256:[0-9A-Fa-f]{64}$")
_TAG_IMAGE = re.compile(r"^[A-Za-z0-9_\-:./#]{1,255}$")

# The ECS model's text for container names, families and volume names: "Up to 255 letters
# (uppercase and lowercase), numbers, underscores, and hyphens are allowed."
ECS_NAME = re.compile(r"[A-Za-z0-9_-]{1,255}", re.ASCII)
# Port mapping names: the ECS model allows lowercase letters, digits, `_` and `-`, not starting with
# `-`, up to 64; Service Connect's DNS use allows no `_`. The intersection is what we render.
PORT_MAPPING_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,63}", re.ASCII)
# `UID[:GID]` (positive, no sign or leading zero, within a signed 32-bit ID every runtime takes)
# or `NAME[:GROUP]` (the portable user-name shape useradd accepts, at most 32 characters).
_ID = r"[1-9][0-9]{0,9}"
_NAME = r"[a-z_][a-z0-9_-]{0,31}"
USER = re.compile(
    rf"(?P<uid>{_ID})(?::(?P<gid>{_ID}))?|(?P<user>{_NAME})(?::(?P<group>{_NAME}))?", re.ASCII
)
MAX_ID = 2**31 - 1
ROOT_NAMES = ("root",)
# RFC 3986 path characters (unreserved, %HH, sub-delims, ':', '@', '/') less the quote `'`, which
# would end the Python string literal `health_command` puts the URL in.
HEALTH_CHECK_PATH = re.compile(
    r"/(?:[A-Za-z0-9._~!$&()*+,;=:@/-]|%[0-9A-Fa-f]{2}){0,255}", re.ASCII
)
# Writable paths become bind mounts: absolute, normalised, portable file-name characters.
WRITABLE_PATH = re.compile(r"(?:/(?!\.{1,2}(?:/|$))[A-Za-z0-9._-]+)+", re.ASCII)


class ContainerSpecError(ValueError):
    """Every problem of a container spec, each with the config field it belongs to."""

    def __init__(self, problems: Sequence[tuple[str, str]]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(f"{field}: {detail}" for field, detail in self.problems))


def validate_user(user: str) -> str:
    """A non-root user in one of ECS's documented shapes; UID or GID 0 in any spelling is root.

    A name cannot be resolved here: an image could map any name to UID 0, so prefer numeric IDs.
    """
    m = USER.fullmatch(user)
    ids = [int(i) for i in (m["uid"], m["gid"]) if i] if m else []
    named = [n for n in (m["user"], m["group"]) if n] if m else []
    if m is None or any(i > MAX_ID for i in ids) or any(n in ROOT_NAMES for n in named):
        raise ValueError(
            f"{user!r} is not allowed; run as a non-root user: UID[:GID] with IDs 1 to {MAX_ID} "
            "written without sign, spaces or leading zeros (e.g. 10001:10001), or NAME[:GROUP] "
            "of lowercase letters, digits, '_' and '-' (not root)"
        )
    return user


def validate_health_check_path(path: str) -> str:
    if not HEALTH_CHECK_PATH.fullmatch(path):
        raise ValueError(
            f"{path!r} is not allowed; a health check path starts with '/' and has at most 256 "
            "RFC 3986 path characters: letters, digits, -._~!$&()*+,;=:@/ and %HH escapes "
            "(no quotes, backslashes, spaces, query or fragment)"
        )
    return path


def validate_health_check_command(command: Sequence[str]) -> Sequence[str]:
    """The ECS model: "The string array must start with CMD ... or CMD-SHELL"; something must follow."""
    if len(command) < 2 or command[0] not in ("CMD", "CMD-SHELL"):
        raise ValueError(
            f"{list(command)!r} is not allowed; a health check command is CMD then the program and "
            'its arguments, or CMD-SHELL then one shell command (["CMD-SHELL", "curl -f ..."])'
        )
    return command


def volume_name(path: str) -> str:
    return "writable" + re.sub(r"[^A-Za-z0-9]+", "-", path).rstrip("-")


def port_mapping_name(name: str, port: int) -> str:
    return f"{name}-{port}"


def writable_path_problems(paths: Sequence[str]) -> list[tuple[str, str]]:
    """(field, detail) for each path that is not a valid bind mount or shares a volume name."""
    problems: list[tuple[str, str]] = []
    seen: dict[str, int] = {}
    for i, path in enumerate(paths):
        field = f"writablePaths[{i}]"
        name = volume_name(path)
        if not WRITABLE_PATH.fullmatch(path) or not ECS_NAME.fullmatch(name):
            problems.append(
                (
                    field,
                    f"{path!r} is not allowed; a writable path is an absolute path below / of "
                    "letters, digits, '.', '_' and '-' components (no '.' or '..', no trailing "
                    "'/'), short enough for a 255-character volume name",
                )
            )
        elif name in seen:
            problems.append(
                (
                    field,
                    f"{path!r} is not allowed; it gets the same volume name {name!r} as "
                    f"writablePaths[{seen[name]}] ({paths[seen[name]]!r}): list each path once",
                )
            )
        else:
            seen[name] = i
    return problems


@dataclass(frozen=True)
class ContainerSpec:
    name: str
    port: int | None  # None: no port mapping (a worker or a job takes no connections)
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
    command: Sequence[str] | None = None  # the image's CMD unless given (one image, many roles)
    # False only for the placeholder container of a refused service: its name is not the
    # service's, so a SERVICE_NAME the user set cannot be judged against it.
    name_is_service: bool = True

    def __post_init__(self) -> None:
        problems = self.problems()
        if problems:
            raise ContainerSpecError(problems)

    def problems(self) -> list[tuple[str, str]]:
        """Every problem as (config field, detail), so a caller can report each at its own key."""
        out: list[tuple[str, str]] = []
        if not ECS_NAME.fullmatch(self.name) or not PORT_MAPPING_NAME.fullmatch(
            port_mapping_name(self.name, self.port or 65535)
        ):
            out.append(("service", f"{self.name!r} is not allowed as a container name"))
        checks: list[tuple[str, Callable[[], object]]] = [
            ("user", lambda: validate_user(self.user)),
            ("healthCheckPath", lambda: validate_health_check_path(self.health_check_path)),
        ]
        if self.health_check_command is not None:
            command = self.health_check_command
            checks.append(("healthCheckCommand", lambda: validate_health_check_command(command)))
        for key, check in checks:
            try:
                check()
            except ValueError as exc:
                out.append((key, str(exc)))
        ranges = [] if self.port is None else [(self.port, 1, 65535, "port")]
        for value, low, high, key in (
            *ranges,
            (self.stop_timeout, 2, 120, "stopTimeout"),
            (self.health_check_interval, 5, 300, "healthCheck.interval"),
            (self.health_check_timeout, 2, 120, "healthCheck.timeout"),
            (self.health_check_retries, 1, 10, "healthCheck.retries"),
            (self.health_check_start_period, 0, 300, "healthCheck.startPeriod"),
        ):
            if not low <= value <= high:
                out.append((key, f"{value} is not allowed; ECS needs {low}..{high}"))
        return out + writable_path_problems(self.writable_paths) + self._stack_variable_problems()

    def stack_environment(self) -> dict[str, str]:
        """What the stack tells every container: its service's name, and its port if it listens.

        The sample app (app/server.py) listens on `PORT` and reports `SERVICE_NAME`: without them
        a backend on 9000 was health-checked on 9000 while the app listened on its default 8080.
        """
        env = {"SERVICE_NAME": self.name}
        if self.port is not None:
            env["PORT"] = str(self.port)
        return env

    def _stack_variable_problems(self) -> list[tuple[str, str]]:
        """A user value for PORT or SERVICE_NAME may repeat the stack's, never contradict it.

        A contradiction is refused rather than resolved: either winner breaks something (the
        stack's port is where the health check and the load balancer connect).
        """
        out: list[tuple[str, str]] = []
        for name, arn in self.secrets.items():
            if name in STACK_VARIABLES:
                out.append((f"secrets.{name}", stack_variable_secret(name, arn)))
        for name, value in self.stack_environment().items():
            given = self.environment.get(name)
            if name == "SERVICE_NAME" and not self.name_is_service:
                continue
            if given is not None and given != value:
                out.append(
                    (
                        f"environment.{name}",
                        f"{given!r} is not allowed; the stack sets {name} to "
                        f"{STACK_VARIABLES[name]}, {value!r}: leave it out or give that value",
                    )
                )
        return out

    def health_command(self) -> list[str] | None:
        """The container health check: given, or an HTTP probe of the port; none without either."""
        if self.health_check_command is not None:
            return list(self.health_check_command)
        if self.port is None:
            return None
        url = f"http://127.0.0.1:{self.port}{self.health_check_path}"
        # Slim images have no curl; the Python the app runs on has urllib.
        return [
            "CMD",
            "python",
            "-c",
            f"import urllib.request; urllib.request.urlopen('{url}', timeout=3)",
        ]


def render_volumes(spec: ContainerSpec) -> list[dict[str, Any]]:
    # Fargate supports bind-mount volumes only: a task-local scratch directory per path.
    return [{"name": volume_name(p)} for p in spec.writable_paths]


def render_container_definitions(
    spec: ContainerSpec, *, image: str, log_group: str, region: str, stream_prefix: str
) -> list[dict[str, Any]]:
    # The user's variables and the stack's (which they may repeat, never contradict).
    environment = {**spec.environment, **spec.stack_environment()}
    definition: dict[str, Any] = {
        "name": spec.name,
        "image": image,
        "essential": True,
        # The mapping's name is what Service Connect publishes (`services[].portName`).
        "portMappings": []
        if spec.port is None
        else [
            {
                "containerPort": spec.port,
                "protocol": "tcp",
                "name": port_mapping_name(spec.name, spec.port),
            }
        ],
        "environment": [{"name": k, "value": v} for k, v in sorted(environment.items())],
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
        "stopTimeout": spec.stop_timeout,
        "linuxParameters": {"initProcessEnabled": spec.init_process_enabled},
        "mountPoints": [
            {"sourceVolume": volume_name(p), "containerPath": p, "readOnly": False}
            for p in spec.writable_paths
        ],
    }
    health = spec.health_command()
    if health is not None:
        definition["healthCheck"] = {
            "command": health,
            "interval": spec.health_check_interval,
            "timeout": spec.health_check_timeout,
            "retries": spec.health_check_retries,
            "startPeriod": spec.health_check_start_period,
        }
    if spec.command is not None:
        definition["command"] = list(spec.command)
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
    return ecs_model().operation_model("RegisterTaskDefinition").input_shape


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


def task_definition_problems(params: dict[str, Any]) -> list[str]:
    """What the ECS API model (and Fargate's own restrictions) refuse in a request, one line each."""
    report = ParamValidator().validate(params, _register_shape())
    problems = report.generate_report().splitlines() if report.has_errors() else []
    problems = [p.strip() for p in problems if p.strip()]
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
    return problems


def validate_task_definition_request(params: dict[str, Any]) -> None:
    problems = task_definition_problems(params)
    if problems:
        raise ValueError("task definition refused before registering: " + "; ".join(problems))
