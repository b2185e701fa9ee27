"""How the stack's services run on Fargate: each service's kind, size, container and rollout
(`services[i].run`), and the stack-wide network (`network`), validated at their exact keys.

Today's single-service `fargate` section is still read, as the one `web` service it always was,
with a warning naming the new keys; it renders the same resources with the same URNs.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from build import platform
from ecs import container, environment, network, schedule, sizing
from ecs.container import ContainerSpec, ContainerSpecError
from ecs.iam import validate_secret_reference_arn

from .errors import Collector, key_path, member_path, show
from .naming import StackNames
from .reader import Obj
from .scaling import AlarmSettings, ScalingSettings, load_alarms, load_scaling
from .services import SERVICE_NAME, ServiceSettings
from .web import ROUTE_KEYS, LoadBalancerSettings, WebRoute, load_load_balancer, load_route

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
# A run's keys: the old section's, less what is now stack-wide (`network`) or named by the entry.
RUN_KEYS = (
    "kind",
    "command",
    "schedule",
    "serviceConnectName",
    "scaling",
    "alarms",
    *ROUTE_KEYS,
    *(k for k in FARGATE_KEYS if k not in ("service", "subnetIds", "securityGroupIds")),
)
NETWORK_KEYS = ("subnetIds", "securityGroupIds", "assignPublicIp")
# Copilot's service types: https://aws.github.io/copilot-cli/docs/concepts/services/
KINDS = ("web", "backend", "worker", "job")
# The kinds that listen: reachable through Service Connect at `http://<service>:<port>`.
LISTENING = ("web", "backend")
# A Service Connect client alias is a DNS name; one label of it at most 63 characters (RFC 1035).
MAX_CONNECT_NAME = 63
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
    security_group_ids: tuple[str, ...]  # empty: the stack creates its groups (one per service)
    assign_public_ip: bool


@dataclass(frozen=True)
class FargateSettings:
    """How one service runs."""

    service: ServiceSettings
    kind: str
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
    schedule: str | None  # a job's EventBridge Scheduler expression
    connect_name: str  # web, backend: the Service Connect name (`http://<connect_name>:<port>`)
    ingress_cidrs: tuple[str, ...]  # web: who besides the load balancer may reach the port
    assign_public_ip: bool  # `run.assignPublicIp`, else the stack's `network.assignPublicIp`
    # Application Auto Scaling owns the task count (`desired_count` is then scaling.min, the
    # count the service is created with); None: the count is `desired_count`, always.
    scaling: ScalingSettings | None = None
    # web: the alarms a deployment rolls back on (None: `alarms.enabled: false`, or not a web).
    alarms: AlarmSettings | None = None
    route: WebRoute | None = None  # web: its place behind the stack's load balancer

    @property
    def listens(self) -> bool:
        return self.kind in LISTENING


@dataclass(frozen=True)
class FargateStack:
    """Every service that runs, on one cluster, with the stack-wide network."""

    runs: tuple[FargateSettings, ...]
    network: NetworkSettings
    primary: str | None  # the service behind the singular outputs (`ecsServiceName`, ...)
    warnings: tuple[str, ...]
    load_balancer: LoadBalancerSettings | None = None  # when some service is a web service

    @property
    def services(self) -> tuple[FargateSettings, ...]:
        """The long-running ones (every kind but `job`)."""
        return tuple(r for r in self.runs if r.kind != "job")

    @property
    def jobs(self) -> tuple[FargateSettings, ...]:
        return tuple(r for r in self.runs if r.kind == "job")

    @property
    def uses_spot(self) -> bool:
        return any(r.capacity_provider != "FARGATE" for r in self.runs)

    @property
    def enable_execute_command(self) -> bool:
        return any(r.enable_execute_command for r in self.runs)


LEGACY_WARNING = (
    "fargate is the old single-service form: move it to services[i].run (kind: web, with the "
    "service's own keys) and network (subnetIds, securityGroupIds, assignPublicIp); the "
    "cluster, service, task definition family, roles and log group are kept"
)


def load_fargate(
    errors: Collector,
    value: Any,
    *,
    environment_name: str,
    services: tuple[ServiceSettings, ...],
    names: StackNames,
    refused_services: Collection[str] = (),
    services_value: Any = None,
    network_value: Any = None,
    primary_value: Any = None,
    load_balancer_value: Any = None,
) -> FargateStack | None:
    """Every run, from `services[i].run` and `network`, or from the old `fargate` section."""
    legacy = Obj(errors, "fargate", value, FARGATE_KEYS)
    entries = _run_entries(services_value)
    prod = environment_name == "prod"
    warnings: list[str] = []
    if legacy.value and entries:
        errors.add("fargate", "give services[].run with network, or the old fargate, not both")
        return None
    runs: list[FargateSettings | None] = []
    if legacy.value:
        net = _network(errors, legacy, prod, warnings)
        service = _service(errors, legacy, services, refused_services)
        runs.append(_load_run(errors, legacy, service, "web", prod, names, net, warnings))
        warnings.append(LEGACY_WARNING)
    elif entries:
        net = _network(errors, Obj(errors, "network", network_value, NETWORK_KEYS), prod, warnings)
        imaged = _imaged(services_value)
        indexed = _load_runs(errors, entries, services, prod, names, net, warnings, imaged)
        _cross_check(errors, indexed, warnings)
        runs += [r for _, r in indexed]
    else:
        for key, given in (
            ("network", network_value),
            ("primaryService", primary_value),
            ("loadBalancer", load_balancer_value),
        ):
            # A `services` that is not a list is refused as a whole: no second line here.
            if given and isinstance(services_value, list):
                errors.add(key, "only applies to services that run: give a service a run")
        return None
    found = tuple(r for r in runs if r is not None)
    balancer = _load_balancer(
        errors, load_balancer_value, entries, found, prod, names, net, warnings
    )
    return FargateStack(
        found, net, _primary(errors, primary_value, found), tuple(warnings), balancer
    )


def _load_balancer(
    errors: Collector,
    value: Any,
    entries: list[tuple[int, str, Any]],
    runs: tuple[FargateSettings, ...],
    prod: bool,
    names: StackNames,
    net: NetworkSettings,
    warnings: list[str],
) -> LoadBalancerSettings | None:
    """The load balancer of the web services, each with the `services[i]` index of its entry."""
    index = {name: i for i, name, _ in entries}
    routes = [
        (index.get(r.service.name, 0), r.service.name, r.route) for r in runs if r.route is not None
    ]
    if routes and net.security_group_ids:
        warnings.append(
            f"network.securityGroupIds: the stack creates no task groups, so yours must admit "
            f"each web service's port from the load balancer's group "
            f"{names.load_balancer_security_group}"
        )
    return load_load_balancer(
        errors,
        value,
        routes=routes,
        prod=prod,
        names=names,
        given_subnets=bool(net.subnet_ids),
        warnings=warnings,
    )


def _load_runs(
    errors: Collector,
    entries: list[tuple[int, str, Any]],
    services: tuple[ServiceSettings, ...],
    prod: bool,
    names: StackNames,
    net: NetworkSettings,
    warnings: list[str],
    imaged: set[int],
) -> list[tuple[int, FargateSettings | None]]:
    """Each `services[i].run`, with its index (a refused service name is reported at its name)."""
    by_name = {s.name: s for s in services}
    found: list[tuple[int, FargateSettings | None]] = []
    for i, name, raw in entries:
        obj = Obj(errors, f"services[{i}].run", raw, RUN_KEYS)
        kind = obj.string("kind")
        if kind not in KINDS:
            errors.add(
                obj.at("kind"), f"{show(kind)} is not allowed; use one of {', '.join(KINDS)}"
            )
        if name not in by_name:
            continue
        service = by_name[name]
        if service.image is None:
            if i not in imaged:  # a given build or image was refused at its own key
                errors.add(obj.path, "a service that runs needs a build or an image")
            continue
        kind = kind if kind in KINDS else "worker"
        found.append((i, _load_run(errors, obj, service, kind, prod, names, net, warnings)))
    return found


def _imaged(value: Any) -> set[int]:
    """The indexes of the service entries that give a build or an image (maybe a refused one)."""
    items = value if isinstance(value, list) else []
    return {
        i
        for i, item in enumerate(items)
        if isinstance(item, dict) and {"build", "image"} & set(item)
    }


def _run_entries(value: Any) -> list[tuple[int, str, Any]]:
    """(index, name, run) of every service entry with a `run`; the rest only get a repository."""
    items = value if isinstance(value, list) else []
    return [
        (i, item["name"] if isinstance(item.get("name"), str) else "", item["run"])
        for i, item in enumerate(items)
        if isinstance(item, dict) and "run" in item
    ]


def task_request(
    run: FargateSettings,
    names: StackNames,
    *,
    image: str | None = None,
    execution_role_arn: str | None = None,
    task_role_arn: str | None = None,
) -> dict[str, Any]:
    """The RegisterTaskDefinition request of a run (placeholders where the provider decides)."""
    preview_role = f"arn:{names.partition}:iam::123456789012:role/preview"
    return container.task_definition_request(
        family=names.family(run.service.name),
        spec=run.container,
        image=image
        or f"123456789012.dkr.ecr.{names.region}.amazonaws.com/preview@{PLACEHOLDER_DIGEST}",
        cpu=run.cpu,
        memory=run.memory,
        cpu_architecture=run.cpu_architecture,
        log_group=names.log_group(run.service.name),
        region=names.region,
        execution_role_arn=execution_role_arn or f"{preview_role}-execution",
        task_role_arn=task_role_arn or f"{preview_role}-task",
        ephemeral_storage_gib=run.ephemeral_storage_gib,
    )


def _load_run(
    errors: Collector,
    obj: Obj,
    service: ServiceSettings | None,
    kind: str,
    prod: bool,
    names: StackNames,
    net: NetworkSettings,
    warnings: list[str],
) -> FargateSettings | None:
    # Without a usable service the other fields are still checked (every problem at once), as
    # the container of a placeholder service.
    name = service.name if service is not None else "service"
    arch = _architecture(errors, obj, service)
    cpu, memory = _size(errors, obj)
    container = _container(errors, obj, name, names.partition, kind)
    retention = _retention(errors, obj, prod)
    capacity = obj.string("capacityProvider", "FARGATE", choices=CAPACITY_PROVIDERS)
    if capacity == "FARGATE_SPOT" and prod:
        warnings.append(
            f"{obj.at('capacityProvider')} FARGATE_SPOT in prod: tasks can be interrupted"
        )
    ephemeral = obj.integer("ephemeralStorageGiB", None, minimum=21, maximum=200)
    rollout = (
        _desired_count(errors, obj, kind),
        obj.integer("minimumHealthyPercent", 100, minimum=0, maximum=100),
        obj.integer("maximumPercent", 200, minimum=100, maximum=200),
    )
    cidrs = _ingress(errors, obj, kind, net)
    expression = _schedule(errors, obj, kind, names, name)
    scaling = load_scaling(errors, obj, kind)
    alarms = load_alarms(errors, obj, kind)
    route = load_route(errors, obj, kind)
    if service is None or container is None or cpu is None or memory is None:
        return None
    run = FargateSettings(
        service=service,
        kind=kind,
        cpu=cpu,
        memory=memory,
        cpu_architecture=arch,
        container=container,
        desired_count=rollout[0] if scaling is None else scaling.min,
        capacity_provider=capacity,
        log_retention_days=retention,
        wait_for_steady_state=obj.flag("waitForSteadyState", prod),
        minimum_healthy_percent=rollout[1],
        maximum_percent=rollout[2],
        ephemeral_storage_gib=ephemeral,
        enable_execute_command=obj.flag("enableExecuteCommand", False),
        schedule=expression,
        ingress_cidrs=cidrs,
        assign_public_ip=_public_ip(errors, obj, prod, net, warnings),
        connect_name=_connect_name(errors, obj, kind, name),
        scaling=scaling,
        alarms=alarms,
        route=route,
    )
    _preview_task_definition(errors, obj.path, run, names)
    return run


def _public_ip(
    errors: Collector, obj: Obj, prod: bool, net: NetworkSettings, warnings: list[str]
) -> bool:
    """A service's own `assignPublicIp` overrides the stack's; true is refused in prod, as there."""
    if obj.path == "fargate" or not obj.has("assignPublicIp"):
        return net.assign_public_ip  # the old section's key is the network's, read there
    return _checked_public_ip(errors, obj, prod, warnings)


def _retention(errors: Collector, obj: Obj, prod: bool) -> int:
    retention = obj.integer("logRetentionDays", 30 if prod else 7)
    if retention not in LOG_RETENTION_DAYS:
        errors.add(
            obj.at("logRetentionDays"),
            f"{show(retention)} is not allowed; CloudWatch Logs accepts "
            f"{', '.join(str(d) for d in LOG_RETENTION_DAYS)}",
        )
    return retention


def _desired_count(errors: Collector, obj: Obj, kind: str) -> int:
    if kind == "job" and obj.has("desiredCount"):
        errors.add(
            obj.at("desiredCount"),
            "is not allowed for a job: it runs on its schedule (or by hand), not as a service",
        )
        return 0
    return obj.integer("desiredCount", 1, minimum=0, maximum=1000)


def _schedule(errors: Collector, obj: Obj, kind: str, names: StackNames, name: str) -> str | None:
    """A job's EventBridge Scheduler expression; no other kind has one."""
    expression = obj.string("schedule")
    if kind != "job":
        if expression is not None:
            errors.add(obj.at("schedule"), f"is not allowed for a {kind}; only a job runs on one")
        return None
    if expression is None:
        errors.add(obj.at("schedule"), f"is required for a job; use {schedule.FORMS}")
        return None
    if len(names.schedule(name)) > schedule.MAX_NAME:
        errors.add(
            obj.path,
            f"the schedule name {names.schedule(name)!r} is over {schedule.MAX_NAME} characters; "
            "use a shorter service name",
        )
    with errors.guard(obj.at("schedule")):
        return schedule.validate_schedule_expression(expression)
    return None


def _ingress(errors: Collector, obj: Obj, kind: str, net: NetworkSettings) -> tuple[str, ...]:
    """Who besides the stack's services may reach a web service's port (the public contract)."""
    cidrs = obj.str_list("ingressCidrs")
    whole, items = network.list_problems(
        cidrs, network.validate_cidr, network.MAX_INGRESS_CIDRS, "CIDR blocks"
    )
    if whole is not None:
        errors.add(obj.at("ingressCidrs"), whole)
    for i, detail in items:
        errors.add(key_path(obj.path, "ingressCidrs", i), detail)
    if cidrs and kind != "web":
        errors.add(
            obj.at("ingressCidrs"),
            f"is not allowed for a {kind}; only a web service has a public-facing port",
        )
    if cidrs and net.security_group_ids:
        errors.add(
            obj.at("ingressCidrs"),
            "only applies to the security group the stack creates; "
            "drop it or drop securityGroupIds",
        )
    return cidrs


def _connect_name(errors: Collector, obj: Obj, kind: str, service: str) -> str:
    """The name other services call a web or backend by: the service's own name by default."""
    name = obj.string("serviceConnectName", service)
    if obj.has("serviceConnectName") and kind not in LISTENING:
        errors.add(obj.at("serviceConnectName"), f"is not allowed for a {kind}: it is not called")
    elif not SERVICE_NAME.fullmatch(name) or len(name) > MAX_CONNECT_NAME:
        errors.add(
            obj.at("serviceConnectName"),
            f"{show(name)} is not allowed; a DNS label of lowercase letters, digits and single "
            f"hyphens, at most {MAX_CONNECT_NAME} characters",
        )
    return name


def _cross_check(
    errors: Collector, runs: list[tuple[int, FargateSettings | None]], warnings: list[str]
) -> None:
    """What no single service shows: who can call a backend."""
    valid = [(i, r) for i, r in runs if r is not None]
    # One name, one service: a client's `http://<name>:<port>` must reach exactly one of them.
    taken: dict[str, int] = {}
    for i, run in valid:
        if not run.listens:
            continue
        if run.connect_name in taken:
            errors.add(
                f"services[{i}].run.serviceConnectName",
                f"{run.connect_name!r} is not allowed; services[{taken[run.connect_name]}] "
                "already has that Service Connect name",
            )
        taken.setdefault(run.connect_name, i)
    # Service Connect is for ECS services only: a job's RunTask task is not a client, so a
    # backend is callable when some other long-running service (web, backend, worker) exists.
    for i, run in valid:
        callers = [r for _, r in valid if r is not run and r.kind != "job"]
        if run.kind == "backend" and not callers:
            warnings.append(
                f"services[{i}].run: backend {run.service.name} has no caller (no other web, "
                "backend or worker service in the stack; jobs do not use Service Connect)"
            )


def _primary(errors: Collector, value: Any, runs: tuple[FargateSettings, ...]) -> str | None:
    """The service behind the singular outputs: given, or the first web or backend."""
    long_running = [r.service.name for r in runs if r.kind != "job"]
    if value is None:
        listening = [r.service.name for r in runs if r.listens]
        return next(iter(listening + long_running), None)
    if value not in long_running:
        allowed = ", ".join(long_running) or "none: give a service a run of a kind other than job"
        errors.add("primaryService", f"{show(value)} is not allowed; use one of {allowed}")
        return None
    return str(value)


def _architecture(errors: Collector, obj: Obj, service: ServiceSettings | None) -> str:
    """The task's CPU architecture: the image's first platform unless `architecture` picks
    another of the image's platforms."""
    if service is None or service.image is None:
        return "X86_64"
    arch = service.image.cpu_architecture
    with errors.guard(obj.at("architecture")):
        arch = platform.validate_architecture(service.image.platforms, obj.string("architecture"))
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
                raise ValueError(f"{env_name!r} is already set in {obj.at('environment')}")
            if not isinstance(arn, str):
                raise ValueError(
                    f"{show(arn)} is not allowed; expected a Secrets Manager or SSM ARN"
                )
            secrets[env_name] = validate_secret_reference_arn(arn, partition)
    return plain, secrets


def _port(errors: Collector, obj: Obj, kind: str) -> int | None:
    """A web or backend listens on its port (the old section's default 8080 stays); no other
    kind takes connections, so none has a port."""
    default = 8080 if obj.path == "fargate" else None
    port = obj.integer("port", default, minimum=1, maximum=65535)
    if kind in LISTENING and port is None and not obj.has("port"):
        errors.add(obj.at("port"), f"is required for a {kind}: Service Connect publishes it")
    if kind not in LISTENING and obj.has("port"):
        errors.add(obj.at("port"), f"is not allowed for a {kind}: it takes no connections")
        return None
    return port


def _container(
    errors: Collector, obj: Obj, name: str, partition: str, kind: str
) -> ContainerSpec | None:
    """The container spec; each of its problems is reported at its own `<run>.<field>` key."""
    plain, secrets = _environment(errors, obj, partition)
    command = obj.str_list("command") if obj.has("command") else None
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
            port=_port(errors, obj, kind),
            command=command,
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
    errors: Collector, path: str, run: FargateSettings, names: StackNames
) -> None:
    """The RegisterTaskDefinition request `ecs.task` deploys, checked against the ECS model
    before any resource exists; provider-computed parts (the digest, role ARNs) are placeholders
    of the right shape."""
    for problem in container.task_definition_problems(task_request(run, names)):
        errors.add(path, f"the task definition would be refused: {problem}")


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
    for key, values, check, limit, what in (
        ("subnetIds", subnets, network.validate_subnet_id, network.MAX_SUBNETS, "subnets"),
        (
            "securityGroupIds",
            groups,
            network.validate_security_group_id,
            network.MAX_SECURITY_GROUPS,
            "security groups",
        ),
    ):
        whole, items = network.list_problems(values, check, limit, what)
        if whole is not None:
            errors.add(obj.at(key), whole)
        for i, detail in items:
            errors.add(key_path(obj.path, key, i), detail)
    return NetworkSettings(subnets, groups, _checked_public_ip(errors, obj, prod, warnings))


def _checked_public_ip(errors: Collector, obj: Obj, prod: bool, warnings: list[str]) -> bool:
    """`assignPublicIp` at `obj`: refused in prod (so false), a warning in dev."""
    if not obj.flag("assignPublicIp", False):
        return False
    if prod:
        errors.add(
            obj.at("assignPublicIp"),
            "true is not allowed in prod (Security Hub ECS.2); "
            "use private subnets with a NAT gateway or VPC endpoints",
        )
        return False
    warnings.append(
        f"{obj.at('assignPublicIp')} is true: tasks get public IPs (fine for a default-VPC dev "
        "stack; Security Hub ECS.2 flags it)"
    )
    return True
