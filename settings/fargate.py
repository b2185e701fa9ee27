"""Fargate service settings: which service runs, its exact size, container, network and rollout."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from build import platform
from ecs import container, environment, network, sizing
from ecs.container import ContainerSpec, ContainerSpecError
from ecs.iam import validate_secret_reference_arn

from .errors import Collector, key_path, member_path, show
from .naming import StackNames
from .reader import Obj
from .services import ServiceSettings

FARGATE_KEYS = (
    "service",
    "cpu",
    "memory",
    "containerCpu",
    "containerMemory",
    "architecture",
    "port",
    "desiredCount",
    "capacityProvider",
    "environment",
    "secrets",
    "user",
    "healthCheckPath",
    "healthCheckCommand",
    "healthCheckGracePeriodSeconds",
    "stopTimeout",
    "writablePaths",
    "logRetentionDays",
    "waitForSteadyState",
    "assignPublicIp",
    "subnetIds",
    "securityGroupIds",
    "ingressCidrs",
    "ephemeralStorageGiB",
    "enableExecuteCommand",
    "minimumHealthyPercent",
    "maximumPercent",
)
# ECS Exec's managed agent (the SSM agent ECS bind-mounts at start) writes its binaries' working
# copies, state and logs here; on a read-only root it crashes at launch. AWS documents only that a
# read-only root is unsupported (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/
# ecs-exec.html); these are the paths aws/containers-roadmap#1359 and aws-containers/
# amazon-ecs-exec-checker#71 report. Each gets a task-local writable volume, so Exec works and the
# root filesystem stays read-only.
EXEC_AGENT_PATHS = ("/managed-agents", "/var/lib/amazon/ssm", "/var/log/amazon/ssm")
CAPACITY_PROVIDERS = ("FARGATE", "FARGATE_SPOT")
# CloudWatch Logs accepts only these retention periods (PutRetentionPolicy).
LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
    2922, 3288, 3653,
)  # fmt: skip
MAX_MEMORY = max(m for sizes in sizing.FARGATE_TABLE.values() for m in sizes)
# The task definition is checked at preview, before the image digest is known.
PLACEHOLDER_DIGEST = "sha256:" + "0" * 64


@dataclass(frozen=True)
class NetworkSettings:
    subnet_ids: tuple[str, ...]  # empty: the account's default VPC subnets
    security_group_ids: tuple[str, ...]  # empty: the stack creates one for the container port
    ingress_cidrs: tuple[str, ...]  # empty: the VPC's own CIDR block
    assign_public_ip: bool


@dataclass(frozen=True)
class FargateSettings:
    service: ServiceSettings
    cpu: int
    memory: int
    cpu_architecture: str
    container: ContainerSpec
    desired_count: int
    capacity_provider: str
    log_retention_days: int
    wait_for_steady_state: bool
    minimum_healthy_percent: int
    maximum_percent: int
    ephemeral_storage_gib: int | None
    enable_execute_command: bool
    network: NetworkSettings
    warnings: tuple[str, ...]


def load_fargate(
    errors: Collector,
    value: Any,
    *,
    environment_name: str,
    services: tuple[ServiceSettings, ...],
    names: StackNames,
    refused_services: Collection[str] = (),
) -> FargateSettings | None:
    obj = Obj(errors, "fargate", value, FARGATE_KEYS)
    if not obj.value:
        return None
    prod = environment_name == "prod"
    warnings: list[str] = []
    service = _service(errors, obj, services, refused_services)
    # Without a usable service the other fields are still checked (every problem at once), as
    # the container of a placeholder service.
    name = service.name if service is not None else "service"
    arch = _architecture(errors, obj, service)
    cpu, memory = _size(errors, obj)
    container = _container(errors, obj, name, names.partition)
    retention = obj.integer("logRetentionDays", 30 if prod else 7)
    if retention not in LOG_RETENTION_DAYS:
        errors.add(
            obj.at("logRetentionDays"),
            f"{show(retention)} is not allowed; CloudWatch Logs accepts "
            f"{', '.join(str(d) for d in LOG_RETENTION_DAYS)}",
        )
    capacity = obj.string("capacityProvider", "FARGATE", choices=CAPACITY_PROVIDERS)
    if capacity == "FARGATE_SPOT" and prod:
        warnings.append("fargate.capacityProvider FARGATE_SPOT in prod: tasks can be interrupted")
    net = _network(errors, obj, prod, warnings)
    ephemeral = obj.integer("ephemeralStorageGiB", None, minimum=21, maximum=200)
    rollout = (
        obj.integer("desiredCount", 1, minimum=0, maximum=1000),
        obj.integer("minimumHealthyPercent", 100, minimum=0, maximum=100),
        obj.integer("maximumPercent", 200, minimum=100, maximum=200),
    )
    if service is None or container is None or cpu is None or memory is None:
        return None
    _preview_task_definition(errors, names, container, cpu, memory, arch, ephemeral)
    return FargateSettings(
        service=service,
        cpu=cpu,
        memory=memory,
        cpu_architecture=arch,
        container=container,
        desired_count=rollout[0],
        capacity_provider=capacity,
        log_retention_days=retention,
        wait_for_steady_state=obj.flag("waitForSteadyState", prod),
        minimum_healthy_percent=rollout[1],
        maximum_percent=rollout[2],
        ephemeral_storage_gib=ephemeral,
        enable_execute_command=obj.flag("enableExecuteCommand", False),
        network=net,
        warnings=tuple(warnings),
    )


def _architecture(errors: Collector, obj: Obj, service: ServiceSettings | None) -> str:
    """The task's CPU architecture: the image's platform decides; `architecture` only checks it."""
    if service is None or service.image is None:
        return "X86_64"
    arch = service.image.cpu_architecture
    with errors.guard(obj.at("architecture")):
        arch = platform.validate_architecture(service.image.platform, obj.string("architecture"))
    return arch


def _service(
    errors: Collector, obj: Obj, services: tuple[ServiceSettings, ...], refused: Collection[str]
) -> ServiceSettings | None:
    """The service to run: one with a build or an image."""
    runnable = {s.name: s for s in services if s.image is not None}
    name = obj.string("service")
    if name in refused:
        return None  # reported at its services[i].name: the fargate key itself is fine
    if name is None or name not in runnable:
        allowed = ", ".join(sorted(runnable)) or "none: give a service a build or an image first"
        errors.add(
            obj.at("service"),
            f"{show(name)} is not allowed; the service to run must have a build or image ({allowed})",
        )
        return None
    return runnable[name]


def _environment(
    errors: Collector, obj: Obj, partition: str
) -> tuple[dict[str, str], dict[str, str]]:
    """Plain variables and secret references from `environment` and `secrets`, each at its key."""
    plain: dict[str, str] = {}
    secrets: dict[str, str] = {}
    try:
        plain, secrets = environment.split_environment(obj.mapping("environment"), partition)
    except environment.EnvironmentErrors as exc:
        for problem in exc.problems:
            errors.add(member_path(obj.at("environment"), problem.path), problem.detail)
    for env_name, arn in obj.mapping("secrets").items():
        with errors.guard(member_path(obj.at("secrets"), env_name)):
            environment.validate_variable_name(env_name)
            if env_name in plain or env_name in secrets:
                raise ValueError(f"{env_name!r} is already set in fargate.environment")
            if not isinstance(arn, str):
                raise ValueError(
                    f"{show(arn)} is not allowed; expected a Secrets Manager or SSM ARN"
                )
            secrets[env_name] = validate_secret_reference_arn(arn, partition)
    return plain, secrets


def _container(errors: Collector, obj: Obj, name: str, partition: str) -> ContainerSpec | None:
    """The container spec; each of its problems is reported at its own `fargate.<field>` key."""
    plain, secrets = _environment(errors, obj, partition)
    health_cmd: tuple[str, ...] | None = obj.str_list("healthCheckCommand")
    raw_cmd = obj.raw("healthCheckCommand")
    if not isinstance(raw_cmd, list) or len(raw_cmd) != len(health_cmd or ()):
        health_cmd = None  # absent, or refused item by item already
    paths = obj.str_list("writablePaths") if obj.has("writablePaths") else ("/tmp",)
    if obj.flag("enableExecuteCommand", False):
        paths = (*paths, *(p for p in EXEC_AGENT_PATHS if p not in paths))
    try:
        return ContainerSpec(
            name=name,
            port=obj.integer("port", 8080, minimum=1, maximum=65535),
            environment=plain,
            secrets=secrets,
            user=obj.string("user", "10001:10001"),
            health_check_path=obj.string("healthCheckPath", "/healthz"),
            health_check_command=health_cmd,
            stop_timeout=obj.integer("stopTimeout", 30, minimum=2, maximum=120),
            writable_paths=paths,
            # Without a load balancer ECS refuses a service's healthCheckGracePeriodSeconds and
            # recommends the container health check's startPeriod (0..300 s) instead:
            # https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateService.html
            # 60 s covers the sample app's start-up plus a few health-check intervals.
            health_check_start_period=obj.integer(
                "healthCheckGracePeriodSeconds", 60, minimum=0, maximum=300
            ),
        )
    except ContainerSpecError as exc:
        for field, detail in exc.problems:
            errors.add(f"{obj.path}.{field}", detail)
    return None


def _preview_task_definition(
    errors: Collector,
    names: StackNames,
    spec: ContainerSpec,
    cpu: int,
    memory: int,
    arch: str,
    ephemeral: int | None,
) -> None:
    """The RegisterTaskDefinition request, checked against the ECS model before any resource exists.

    Provider-computed parts (the image digest, role ARNs) are placeholders of the right shape.
    """
    request = container.task_definition_request(
        family=names.family(spec.name),
        spec=spec,
        image=f"123456789012.dkr.ecr.{names.region}.amazonaws.com/preview@{PLACEHOLDER_DIGEST}",
        cpu=cpu,
        memory=memory,
        cpu_architecture=arch,
        log_group=names.log_group(spec.name),
        region=names.region,
        execution_role_arn=f"arn:{names.partition}:iam::123456789012:role/preview-execution",
        task_role_arn=f"arn:{names.partition}:iam::123456789012:role/preview-task",
        ephemeral_storage_gib=ephemeral,
    )
    for problem in container.task_definition_problems(request):
        errors.add("fargate", f"the task definition would be refused: {problem}")


def _size(errors: Collector, obj: Obj) -> tuple[int | None, int | None]:
    """The task size is given outright, or derived from the container's requests."""
    if obj.has("cpu") or obj.has("memory"):
        if obj.has("containerCpu") or obj.has("containerMemory"):
            errors.add(
                obj.path, "give cpu/memory (task size) or containerCpu/containerMemory, not both"
            )
        raw_cpu, raw_memory = obj.raw("cpu", 256), obj.raw("memory", 512)
        cpu = memory = None
        with errors.guard(obj.at("cpu")):
            cpu = sizing.parse_cpu(raw_cpu)
        with errors.guard(obj.at("memory")):
            memory = sizing.parse_memory(raw_memory)
        if cpu is not None and cpu not in sizing.FARGATE_TABLE:
            sizes = ", ".join(map(str, sizing.FARGATE_TABLE))
            errors.add(obj.at("cpu"), f"{show(raw_cpu)} is not allowed; use one of {sizes}")
        elif cpu is not None and memory is not None and memory not in sizing.FARGATE_TABLE[cpu]:
            valid = ", ".join(map(str, sizing.FARGATE_TABLE[cpu]))
            errors.add(
                obj.at("memory"),
                f"{show(raw_memory)} is not allowed; cpu {cpu} allows memory {valid} (MiB)",
            )
        else:
            return cpu, memory
        return None, None
    if obj.has("containerCpu") or obj.has("containerMemory"):
        c = obj.integer("containerCpu", 0, minimum=0, maximum=max(sizing.FARGATE_TABLE))
        m = obj.integer("containerMemory", 0, minimum=0, maximum=MAX_MEMORY)
        with errors.guard(obj.at("containerCpu")):
            return sizing.smallest_task_size(c, m)
        return None, None
    return 256, 512


def _network(errors: Collector, obj: Obj, prod: bool, warnings: list[str]) -> NetworkSettings:
    subnets = obj.str_list("subnetIds")
    groups = obj.str_list("securityGroupIds")
    cidrs = obj.str_list("ingressCidrs")
    for key, values, check, limit, what in (
        ("subnetIds", subnets, network.validate_subnet_id, network.MAX_SUBNETS, "subnets"),
        (
            "securityGroupIds",
            groups,
            network.validate_security_group_id,
            network.MAX_SECURITY_GROUPS,
            "security groups",
        ),
        ("ingressCidrs", cidrs, network.validate_cidr, network.MAX_INGRESS_CIDRS, "CIDR blocks"),
    ):
        whole, items = network.list_problems(values, check, limit, what)
        if whole is not None:
            errors.add(obj.at(key), whole)
        for i, detail in items:
            errors.add(key_path(obj.path, key, i), detail)
    if groups and cidrs:
        errors.add(
            obj.at("ingressCidrs"),
            "only applies to the security group the stack creates; "
            "drop it or drop securityGroupIds",
        )
    public = obj.flag("assignPublicIp", False)
    if public:
        if prod:
            errors.add(
                obj.at("assignPublicIp"),
                "true is not allowed in prod (Security Hub ECS.2); "
                "use private subnets with a NAT gateway or VPC endpoints",
            )
        else:
            warnings.append(
                "fargate.assignPublicIp is true: tasks get public IPs (fine for a default-VPC dev "
                "stack; Security Hub ECS.2 flags it)"
            )
    return NetworkSettings(subnets, groups, cidrs, public)
