"""Fargate service settings: which service runs, its exact size, container, network and rollout."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from build import platform
from ecs import environment, network, sizing
from ecs.container import ContainerSpec
from ecs.iam import validate_secret_reference_arn

from .errors import Collector, key_path, show
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
CAPACITY_PROVIDERS = ("FARGATE", "FARGATE_SPOT")
# CloudWatch Logs accepts only these retention periods (PutRetentionPolicy).
LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
    2922, 3288, 3653,
)  # fmt: skip


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
    health_check_grace_period: int
    minimum_healthy_percent: int
    maximum_percent: int
    ephemeral_storage_gib: int | None
    enable_execute_command: bool
    network: NetworkSettings
    warnings: tuple[str, ...]


def load_fargate(
    errors: Collector, value: Any, *, environment_name: str, services: tuple[ServiceSettings, ...]
) -> FargateSettings | None:
    obj = Obj(errors, "fargate", value, FARGATE_KEYS)
    if not obj.value:
        return None
    prod = environment_name == "prod"
    warnings: list[str] = []
    runnable = {s.name: s for s in services if s.image is not None}
    name = obj.string("service")
    if name is None or name not in runnable:
        allowed = ", ".join(sorted(runnable)) or "none: give a service a build or an image first"
        errors.add(
            obj.at("service"),
            f"{show(name)} is not allowed; the service to run must have a build or image ({allowed})",
        )
        return None
    service = runnable[name]
    assert service.image is not None
    arch = service.image.cpu_architecture
    with errors.guard(obj.at("architecture")):
        arch = platform.validate_architecture(service.image.platform, obj.string("architecture"))

    port = obj.integer("port", 8080, minimum=1, maximum=65535) or 8080
    cpu, memory = _size(errors, obj)

    plain: dict[str, str] = {}
    secrets: dict[str, str] = {}
    with errors.guard(obj.at("environment")):
        plain, secrets = environment.split_environment(obj.mapping("environment"))
    for env_name, arn in sorted(obj.mapping("secrets").items()):
        with errors.guard(key_path(obj.path, "secrets", env_name)):
            if env_name in plain or env_name in secrets:
                raise ValueError(f"{env_name!r} is already set in fargate.environment")
            if not isinstance(arn, str):
                raise ValueError(
                    f"{show(arn)} is not allowed; expected a Secrets Manager or SSM ARN"
                )
            secrets[env_name] = validate_secret_reference_arn(arn)

    health_cmd = obj.str_list("healthCheckCommand") or None
    container: ContainerSpec | None = None
    with errors.guard(obj.path):
        container = ContainerSpec(
            name=name,
            port=port,
            environment=plain,
            secrets=secrets,
            user=obj.string("user", "10001:10001") or "10001:10001",
            health_check_path=obj.string("healthCheckPath", "/healthz") or "/healthz",
            health_check_command=tuple(health_cmd) if health_cmd else None,
            stop_timeout=obj.integer("stopTimeout", 30, minimum=2, maximum=120) or 30,
            writable_paths=obj.str_list("writablePaths") if obj.has("writablePaths") else ("/tmp",),
        )

    retention = obj.integer("logRetentionDays", 30 if prod else 7) or 7
    if retention not in LOG_RETENTION_DAYS:
        errors.add(
            obj.at("logRetentionDays"),
            f"{retention} is not allowed; CloudWatch Logs accepts "
            f"{', '.join(str(d) for d in LOG_RETENTION_DAYS)}",
        )
    capacity = obj.string("capacityProvider", "FARGATE", choices=CAPACITY_PROVIDERS) or "FARGATE"
    if capacity == "FARGATE_SPOT" and prod:
        warnings.append("fargate.capacityProvider FARGATE_SPOT in prod: tasks can be interrupted")

    net = _network(errors, obj, prod, warnings)
    ephemeral = obj.integer("ephemeralStorageGiB", None, minimum=21, maximum=200)
    min_healthy = obj.integer("minimumHealthyPercent", 100, minimum=0, maximum=100)
    max_percent = obj.integer("maximumPercent", 200, minimum=100, maximum=200)
    if container is None or cpu is None or memory is None:
        return None
    return FargateSettings(
        service=service,
        cpu=cpu,
        memory=memory,
        cpu_architecture=arch,
        container=container,
        desired_count=obj.integer("desiredCount", 1, minimum=0, maximum=1000) or 0,
        capacity_provider=capacity,
        log_retention_days=retention,
        wait_for_steady_state=obj.flag("waitForSteadyState", prod),
        # Longer than the sample app's start-up plus a few health-check intervals.
        health_check_grace_period=obj.integer(
            "healthCheckGracePeriodSeconds", 60, minimum=0, maximum=2147483647
        )
        or 0,
        minimum_healthy_percent=100 if min_healthy is None else min_healthy,
        maximum_percent=200 if max_percent is None else max_percent,
        ephemeral_storage_gib=ephemeral,
        enable_execute_command=obj.flag("enableExecuteCommand", False),
        network=net,
        warnings=tuple(warnings),
    )


def _size(errors: Collector, obj: Obj) -> tuple[int | None, int | None]:
    """The task size is given outright, or derived from the container's requests."""
    if obj.has("cpu") or obj.has("memory"):
        if obj.has("containerCpu") or obj.has("containerMemory"):
            errors.add(
                obj.path, "give cpu/memory (task size) or containerCpu/containerMemory, not both"
            )
        with errors.guard(obj.at("cpu")):
            return sizing.validate_task_size(obj.raw("cpu", 256), obj.raw("memory", 512))
        return None, None
    if obj.has("containerCpu") or obj.has("containerMemory"):
        c = obj.integer("containerCpu", 0, minimum=0) or 0
        m = obj.integer("containerMemory", 0, minimum=0) or 0
        with errors.guard(obj.at("containerCpu")):
            return sizing.smallest_task_size(c, m)
        return None, None
    return 256, 512


def _network(errors: Collector, obj: Obj, prod: bool, warnings: list[str]) -> NetworkSettings:
    subnets = obj.str_list("subnetIds")
    for i, s in enumerate(subnets):
        with errors.guard(key_path(obj.path, "subnetIds", i)):
            network.validate_subnet_id(s)
    groups = obj.str_list("securityGroupIds")
    for i, g in enumerate(groups):
        with errors.guard(key_path(obj.path, "securityGroupIds", i)):
            network.validate_security_group_id(g)
    cidrs = obj.str_list("ingressCidrs")
    for i, c in enumerate(cidrs):
        with errors.guard(key_path(obj.path, "ingressCidrs", i)):
            network.validate_cidr(c)
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
