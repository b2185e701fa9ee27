"""One service's run (`services[i].run`): kind, size, container, rollout, schedule, route,
scaling, alarms, each validated at its exact key; and the stack-wide `network`.

The old `fargate` form reaches here already rewritten into a run (settings.legacy).
"""

from __future__ import annotations

from rules.build import platform
from rules.ecs import container, environment, network, schedule, sizing
from rules.ecs.container import ContainerSpec, ContainerSpecError
from rules.ecs.iam import validate_secret_reference_arn
from rules.naming import StackNames
from settings.deploy import load_deployment, load_migrate
from settings.errors import Collector, key_path, member_path, show
from settings.keys.run import LOG_RETENTION_DAYS
from settings.reader import Obj
from settings.runs import LISTENING, FargateSettings, NetworkSettings, task_request
from settings.scaling import load_alarms, load_scaling
from settings.services import SERVICE_NAME, ServiceSettings
from settings.web import load_route

# A Service Connect client alias is a DNS name; one label of it at most 63 characters (RFC 1035).
MAX_CONNECT_NAME = 63
# ECS Exec's managed agent (the SSM agent ECS bind-mounts at start) writes its binaries' working
# copies, state and logs here; on a read-only root it crashes at launch. AWS documents only that a
# read-only root is unsupported (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/
# ecs-exec.html); these are the paths aws/containers-roadmap#1359 and aws-containers/
# amazon-ecs-exec-checker#71 report. Each gets a task-local writable volume, so Exec works and the
# root filesystem stays read-only.
EXEC_AGENT_PATHS = ("/managed-agents", "/var/lib/amazon/ssm", "/var/log/amazon/ssm")


def load_run(
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
    container = _container(errors, obj, name, names.partition, kind, service is not None)
    retention = _retention(errors, obj)
    capacity = _capacity(obj, prod, warnings)
    ephemeral = obj.integer("ephemeralStorageGiB")
    rollout = (
        _desired_count(errors, obj, kind),
        obj.number("minimumHealthyPercent"),
        obj.number("maximumPercent"),
    )
    cidrs = _ingress(errors, obj, kind, net)
    expression = _schedule(errors, obj, kind, names, name)
    scaling = load_scaling(errors, obj, kind)
    alarms = load_alarms(errors, obj, kind)
    route = load_route(errors, obj, kind)
    deployment = load_deployment(errors, obj, kind, prod)
    migrate = load_migrate(errors, obj, service, deployment, kind)
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
        wait_for_steady_state=obj.flag("waitForSteadyState"),
        minimum_healthy_percent=rollout[1],
        maximum_percent=rollout[2],
        ephemeral_storage_gib=ephemeral,
        enable_execute_command=obj.flag("enableExecuteCommand"),
        schedule=expression,
        ingress_cidrs=cidrs,
        assign_public_ip=_public_ip(errors, obj, prod, net, warnings),
        connect_name=_connect_name(errors, obj, kind, name),
        scaling=scaling,
        alarms=alarms,
        route=route,
        deployment=deployment,
        migrate=migrate,
    )
    _preview_task_definition(errors, obj.path, run, names)
    return run


def _capacity(obj: Obj, prod: bool, warnings: list[str]) -> str:
    """FARGATE or FARGATE_SPOT; Spot in prod is allowed, with a warning."""
    capacity = obj.text("capacityProvider")
    if capacity == "FARGATE_SPOT" and prod:
        warnings.append(
            f"{obj.at('capacityProvider')} FARGATE_SPOT in prod: tasks can be interrupted"
        )
    return capacity


def _public_ip(
    errors: Collector, obj: Obj, prod: bool, net: NetworkSettings, warnings: list[str]
) -> bool:
    """A service's own `assignPublicIp` overrides the stack's; true is refused in prod, as there."""
    if not obj.has("assignPublicIp"):
        return net.assign_public_ip
    return _checked_public_ip(errors, obj, prod, warnings)


def _retention(errors: Collector, obj: Obj) -> int:
    retention = obj.number("logRetentionDays")
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
    return obj.number("desiredCount")


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


def _architecture(errors: Collector, obj: Obj, service: ServiceSettings | None) -> str:
    """The task's CPU architecture: the image's first platform unless `architecture` picks
    another of the image's platforms."""
    if service is None or service.image is None:
        return "X86_64"
    arch = service.image.cpu_architecture
    with errors.guard(obj.at("architecture")):
        arch = platform.validate_architecture(service.image.platforms, obj.string("architecture"))
    return arch


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
    port = obj.integer("port")
    given = obj.raw("port") is not None  # `port: null` is no port (a refused value is reported)
    if kind in LISTENING and port is None and not given:
        errors.add(obj.at("port"), f"is required for a {kind}: Service Connect publishes it")
    if kind not in LISTENING and given:
        errors.add(obj.at("port"), f"is not allowed for a {kind}: it takes no connections")
        return None
    return port


def _container(
    errors: Collector, obj: Obj, name: str, partition: str, kind: str, known: bool
) -> ContainerSpec | None:
    """The container spec; each of its problems is reported at its own `<run>.<field>` key."""
    plain, secrets = _environment(errors, obj, partition)
    command = obj.str_list("command") if obj.has("command") else None
    health_cmd: tuple[str, ...] | None = obj.str_list("healthCheckCommand")
    raw_cmd = obj.raw("healthCheckCommand")
    if not isinstance(raw_cmd, list) or len(raw_cmd) != len(health_cmd or ()):
        health_cmd = None  # absent, or refused item by item already
    paths = obj.str_list("writablePaths")
    if obj.flag("enableExecuteCommand"):
        paths = (*paths, *(p for p in EXEC_AGENT_PATHS if p not in paths))
    try:
        return ContainerSpec(
            name=name,
            name_is_service=known,
            port=_port(errors, obj, kind),
            command=command,
            environment=plain,
            secrets=secrets,
            user=obj.text("user"),
            health_check_path=obj.text("healthCheckPath"),
            health_check_command=health_cmd,
            stop_timeout=obj.number("stopTimeout"),
            writable_paths=paths,
            # Without a load balancer ECS refuses a service's healthCheckGracePeriodSeconds and
            # recommends the container health check's startPeriod (0..300 s) instead:
            # https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateService.html
            # 60 s covers the sample app's start-up plus a few health-check intervals.
            health_check_start_period=obj.number("healthCheckGracePeriodSeconds"),
        )
    except ContainerSpecError as exc:
        for field, detail in exc.problems:
            errors.add(f"{obj.path}.{field}", detail)
    return None


def _preview_task_definition(
    errors: Collector, path: str, run: FargateSettings, names: StackNames
) -> None:
    """The RegisterTaskDefinition request `components.ecs.task` deploys, checked against the ECS model
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
        raw_cpu, raw_memory = (
            obj.raw("cpu", obj.default("cpu")),
            obj.raw("memory", obj.default("memory")),
        )
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
        c = obj.integer("containerCpu", 0)
        m = obj.integer("containerMemory", 0)
        with errors.guard(obj.at("containerCpu")):
            return sizing.smallest_task_size(c, m)
        return None, None
    return obj.default("cpu"), obj.default("memory")


def load_network(errors: Collector, obj: Obj, prod: bool, warnings: list[str]) -> NetworkSettings:
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
    if not obj.flag("assignPublicIp", False):  # the run's default is the network's
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
