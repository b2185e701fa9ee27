"""What the settings say about how the services run: one `FargateSettings` per service that
runs, the stack-wide `NetworkSettings`, and the `FargateStack` of them all (settings.fargate
loads them). Also the task definition request a run becomes, checked before any resource."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rules.ecs import container
from rules.ecs.container import ContainerSpec
from rules.naming import StackNames
from settings.deploy import ROLLING_DEPLOYMENT, DeploymentSettings, MigrateSettings
from settings.scaling import AlarmSettings, ScalingSettings
from settings.services import ServiceSettings
from settings.web import LoadBalancerSettings, WebRoute

# The kinds that listen: reachable through Service Connect at `http://<service>:<port>`.
LISTENING = ("web", "backend")
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
    deployment: DeploymentSettings = ROLLING_DEPLOYMENT
    # A migration task the deployment runs before the new revision scales up (a lifecycle hook).
    migrate: MigrateSettings | None = None

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
