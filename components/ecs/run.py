"""The `ServiceRun` component: one service of the stack on Fargate, whatever its kind.

Its task definition (`ServiceTask`), its own security group (`NetworkAccess`, unless the stack
brings its groups) and either a long-running `EcsService` or, for a job, a `ScheduledJob`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi

from components.ecs.access import NetworkAccess, NetworkAccessArgs
from components.ecs.alarms import ServiceAlarms, ServiceAlarmsArgs
from components.ecs.cluster import StackCluster
from components.ecs.hooks import DeploymentHook, DeploymentHookArgs, MigrateHook
from components.ecs.scaling import ServiceScaling, ServiceScalingArgs
from components.ecs.service import EcsService, EcsServiceArgs, LifecycleHook, ScheduledJob
from components.ecs.target import WebTarget
from components.ecs.task import ServiceTask, ServiceTaskArgs
from rules.naming import StackNames
from settings.fargate import FargateSettings, NetworkSettings


@dataclass
class ServiceRunArgs:
    run: FargateSettings
    names: StackNames
    network: NetworkSettings
    cluster: StackCluster
    account_id: pulumi.Input[str]
    image: pulumi.Input[str]
    repository_arns: list[pulumi.Input[str]]
    pull_through_policy: pulumi.Input[str] | None
    tags: dict[str, str]
    boundary_arn: pulumi.Input[str]  # the boundary every role of the service carries
    primary: bool
    # A `web` service behind the stack's load balancer; None for every other kind.
    target: WebTarget | None = None
    # prod: the log group outlives a destroy or a replacement (`ServiceTaskArgs.retain_logs`).
    retain_logs: bool = False
    # Lambda functions ECS calls at the deployment's lifecycle stages (`run.deployment` not
    # rolling); empty: none.
    hooks: Sequence[LifecycleHook] = ()


class ServiceRun(pulumi.ComponentResource):
    def __init__(
        self, name: str, args: ServiceRunArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("ecr-fargate:ecs:ServiceRun", name, None, opts)
        run, names, cluster = args.run, args.names, args.cluster
        child = pulumi.ResourceOptions(parent=self)
        task = ServiceTask(
            name,
            ServiceTaskArgs(
                run,
                names,
                args.account_id,
                args.image,
                args.repository_arns,
                args.pull_through_policy,
                args.tags,
                args.primary,
                args.boundary_arn,
                retain_logs=args.retain_logs,
            ),
            child,
        )
        groups = self._groups(name, args)
        service_args = EcsServiceArgs(
            run,
            names,
            args.account_id,
            cluster,
            task,
            args.network,
            groups,
            args.tags,
            args.primary,
            args.target,
            self._alarm_names(name, args),
            [*args.hooks, *self._migration(name, args, task)],
        )
        self.family = task.task_definition.family
        self.task_definition_arn = task.task_definition.arn
        self.log_group_name = task.log_group.name
        self.image = pulumi.Output.from_input(args.image)
        self.service_name: pulumi.Output[str] | None = None
        self.run_command: pulumi.Output[str] | None = None
        if run.kind == "job":
            self.run_command = ScheduledJob(name, service_args, child).run_command
        else:
            service = EcsService(name, service_args, child).service
            self.service_name = service.name
            self._scaling(name, args, service)
        self.register_outputs({"taskDefinitionArn": self.task_definition_arn})

    def _migration(self, name: str, args: ServiceRunArgs, task: ServiceTask) -> list[LifecycleHook]:
        """A service with `run.migrate` (never rolling: settings refuse it) runs its command in
        the new revision at PRE_SCALE_UP; the hook passes the service's own two roles to it."""
        run = args.run
        if run.migrate is None or run.deployment.rolling or run.kind == "job":
            return []
        hook = DeploymentHook(
            f"{name}-migrate",
            DeploymentHookArgs(
                args.names,
                run.service.name,
                args.account_id,
                run.log_retention_days,
                MigrateHook(
                    command=run.migrate.command,
                    container=run.container.name,
                    timeout_minutes=run.migrate.timeout_minutes,
                    role_arns=[task.task_role.arn, task.execution_role.arn],
                ),
                args.tags,
                args.boundary_arn,
                args.retain_logs,
            ),
            pulumi.ResourceOptions(parent=self),
        )
        return [hook.lifecycle_hook()]

    def _alarm_names(self, name: str, args: ServiceRunArgs) -> list[pulumi.Output[str]]:
        """A web service behind the load balancer gets the alarms its deployments roll back on."""
        if args.target is None or args.run.alarms is None:
            return []
        alarms = ServiceAlarms(
            name,
            ServiceAlarmsArgs(
                args.run.service.name, args.run.alarms, args.names, args.target, args.tags
            ),
            pulumi.ResourceOptions(parent=self),
        )
        return alarms.alarm_names

    def _scaling(self, name: str, args: ServiceRunArgs, service: pulumi.Resource) -> None:
        """Application Auto Scaling of the service's task count, once the service exists."""
        if args.run.scaling is None:
            return
        ServiceScaling(
            name,
            ServiceScalingArgs(
                args.run.service.name,
                args.run.scaling,
                args.names,
                service,
                args.target,
                args.tags,
            ),
            pulumi.ResourceOptions(parent=self),
        )

    def _groups(self, name: str, args: ServiceRunArgs) -> pulumi.Input[Sequence[pulumi.Input[str]]]:
        """The stack's given groups, or the `services` group and the service's own."""
        cluster = args.cluster
        if cluster.services_group is None:
            return list(args.network.security_group_ids)
        access = NetworkAccess(
            name,
            NetworkAccessArgs(
                args.run,
                args.names,
                cluster.vpc_id,
                cluster.vpc_cidr,
                cluster.services_group.id,
                args.tags,
                args.primary,
                args.target.load_balancer_security_group_id if args.target else None,
            ),
            pulumi.ResourceOptions(parent=self),
        )
        return [cluster.services_group.id, access.group.id]
