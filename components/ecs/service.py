"""The `EcsService` component (a long-running service) and the `ScheduledJob` component (a task
definition EventBridge Scheduler runs), each on the stack's cluster and network.

The deployment circuit breaker rolls back a rollout whose tasks never become healthy. A web or
backend is published in the stack's Service Connect namespace as `http://<name>:<port>`; a worker
joins the namespace as a client only, so it can call them.
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-connect-concepts.html
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.ecs import legacy
from components.ecs.cluster import StackCluster
from components.ecs.target import WebTarget
from components.ecs.task import ServiceTask
from rules.ecs import container, iam, schedule
from rules.naming import StackNames
from settings.fargate import FargateSettings, NetworkSettings


@dataclass
class EcsServiceArgs:
    run: FargateSettings
    names: StackNames
    account_id: pulumi.Input[str]
    cluster: StackCluster
    task: ServiceTask
    network: NetworkSettings
    security_groups: pulumi.Input[Sequence[pulumi.Input[str]]]
    tags: dict[str, str]
    primary: bool  # carries the old single-service URN as an alias
    target: WebTarget | None = None  # a web service's place behind the load balancer
    # The CloudWatch alarms a deployment rolls back on (`components.ecs.alarms`); empty: none.
    alarm_names: Sequence[pulumi.Input[str]] = ()
    # Lambda functions ECS calls at lifecycle stages of a deployment; empty: none.
    hooks: Sequence[LifecycleHook] = ()


@dataclass(frozen=True)
class LifecycleHook:
    """One `deploymentConfiguration.lifecycleHooks[]` entry: a Lambda function (`hook_target_arn`)
    ECS invokes, through `role_arn` (which may invoke only it), at each of `lifecycle_stages`
    (rules.ecs.deployment.LIFECYCLE_STAGES). `hook_details`: a JSON object as a string, passed to
    every invocation."""

    hook_target_arn: pulumi.Input[str]
    role_arn: pulumi.Input[str]
    lifecycle_stages: Sequence[str]
    hook_details: pulumi.Input[str] | None = None
    # How long ECS waits for the hook before it rolls back; None: ECS's default (1440).
    timeout_minutes: int | None = None


def lifecycle_hook_args(
    hook: LifecycleHook,
) -> aws.ecs.ServiceDeploymentConfigurationLifecycleHookArgs:
    timeout = None
    if hook.timeout_minutes is not None:
        timeout = aws.ecs.ServiceDeploymentConfigurationLifecycleHookTimeoutConfigurationArgs(
            # pulumi-aws 7.51 types the minutes as a string (the provider converts it)
            timeout_in_minutes=str(hook.timeout_minutes),
            action="ROLLBACK",
        )
    return aws.ecs.ServiceDeploymentConfigurationLifecycleHookArgs(
        hook_target_arn=hook.hook_target_arn,
        role_arn=hook.role_arn,
        lifecycle_stages=list(hook.lifecycle_stages),
        hook_details=hook.hook_details,
        timeout_configuration=timeout,
    )


def deployment_configuration(
    run: FargateSettings, hooks: Sequence[LifecycleHook]
) -> aws.ecs.ServiceDeploymentConfigurationArgs:
    """The strategy and its timings (pulumi-aws 7.51.1 types the minutes as strings), and the
    lifecycle hooks. `deploymentConfiguration` and `loadBalancers` update in place (UpdateService
    takes both; AWS::ECS::Service's create-only properties are Cluster, Role, SchedulingStrategy
    and ServiceName alone), so a service that switches strategy is not replaced."""
    d = run.deployment
    canary = linear = None
    if d.strategy == "canary":
        canary = aws.ecs.ServiceDeploymentConfigurationCanaryConfigurationArgs(
            canary_percent=float(d.canary_percent),
            canary_bake_time_in_minutes=str(d.canary_bake_minutes),
        )
    if d.strategy == "linear":
        linear = aws.ecs.ServiceDeploymentConfigurationLinearConfigurationArgs(
            step_percent=float(d.step_percent),
            step_bake_time_in_minutes=str(d.step_bake_minutes),
        )
    return aws.ecs.ServiceDeploymentConfigurationArgs(
        strategy=d.ecs_strategy,
        bake_time_in_minutes=None if d.rolling else str(d.bake_minutes),
        canary_configuration=canary,
        linear_configuration=linear,
        lifecycle_hooks=[lifecycle_hook_args(h) for h in hooks] or None,
    )


def service_connect(
    run: FargateSettings, namespace_arn: pulumi.Input[str]
) -> aws.ecs.ServiceServiceConnectConfigurationArgs:
    """Publish a web or backend under its Service Connect name; any other kind is a client."""
    port = run.container.port
    published = None
    if run.listens and port is not None:
        published = [
            aws.ecs.ServiceServiceConnectConfigurationServiceArgs(
                port_name=container.port_mapping_name(run.service.name, port),
                discovery_name=run.connect_name,
                client_alias=[
                    aws.ecs.ServiceServiceConnectConfigurationServiceClientAliasArgs(
                        port=port, dns_name=run.connect_name
                    )
                ],
            )
        ]
    return aws.ecs.ServiceServiceConnectConfigurationArgs(
        enabled=True, namespace=namespace_arn, services=published
    )


def deployment_alarms(names: Sequence[pulumi.Input[str]]) -> aws.ecs.ServiceAlarmsArgs | None:
    """Roll back a deployment when one of the service's alarms goes to ALARM during it. ECS
    reads the alarms' state through its service-linked role (AWSServiceRoleForECS)."""
    if not names:
        return None
    return aws.ecs.ServiceAlarmsArgs(alarm_names=list(names), enable=True, rollback=True)


def count_options(run: FargateSettings) -> pulumi.ResourceOptions:
    """With scaling, Application Auto Scaling owns the running count: the service is created at
    `scaling.min` and `pulumi up` ignores `desiredCount` from then on, so an update never resets
    what the scaler set (otherwise each deploy undoes the scaler's last move). Switching scaling off
    drops the option: the next update sets the count to `desiredCount` again."""
    return pulumi.ResourceOptions(ignore_changes=["desiredCount"] if run.scaling else None)


def _load_balancers(args: EcsServiceArgs) -> list[aws.ecs.ServiceLoadBalancerArgs] | None:
    """A web service's container port, registered in its target group."""
    run, target = args.run, args.target
    if target is None or run.container.port is None:
        return None
    alternate = target.alternate
    advanced = (
        aws.ecs.ServiceLoadBalancerAdvancedConfigurationArgs(
            alternate_target_group_arn=alternate.target_group_arn,
            production_listener_rule=alternate.production_listener_rule_arn,
            test_listener_rule=alternate.test_listener_rule_arn,
            role_arn=alternate.role_arn,
        )
        if alternate is not None
        else None
    )
    return [
        aws.ecs.ServiceLoadBalancerArgs(
            target_group_arn=target.target_group_arn,
            container_name=args.names.container(run.service.name),
            container_port=run.container.port,
            advanced_configuration=advanced,
        )
    ]


def capacity(run: FargateSettings) -> list[aws.ecs.ServiceCapacityProviderStrategyArgs] | None:
    """The plain FARGATE launch type, or a strategy on the provider the run asks for."""
    if run.capacity_provider == "FARGATE":
        return None
    return [
        aws.ecs.ServiceCapacityProviderStrategyArgs(
            capacity_provider=run.capacity_provider, weight=1
        )
    ]


class EcsService(pulumi.ComponentResource):
    def __init__(
        self, name: str, args: EcsServiceArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("ecr-fargate:ecs:EcsService", name, None, opts)
        run, cluster = args.run, args.cluster
        strategy = capacity(run)
        association = [cluster.association] if cluster.association and strategy else []
        self.service = aws.ecs.Service(
            f"{name}-service",
            name=args.names.ecs_service(run.service.name),
            cluster=cluster.cluster.arn,
            task_definition=args.task.task_definition.arn,
            desired_count=run.desired_count,
            # The provider's default launch type is EC2: say FARGATE, or give the Spot strategy.
            launch_type="FARGATE" if strategy is None else None,
            capacity_provider_strategies=strategy,
            platform_version="LATEST",
            deployment_circuit_breaker=aws.ecs.ServiceDeploymentCircuitBreakerArgs(
                enable=True, rollback=True
            ),
            deployment_configuration=deployment_configuration(run, args.hooks),
            deployment_minimum_healthy_percent=run.minimum_healthy_percent,
            deployment_maximum_percent=run.maximum_percent,
            load_balancers=_load_balancers(args),
            # ECS refuses healthCheckGracePeriodSeconds on a service without a load balancer; there
            # the grace period is the container health check's startPeriod alone (settings.fargate).
            # Behind the load balancer the same number also holds off its health checks while
            # the container starts (the sample app's start plus a few checks fits in 60 s).
            health_check_grace_period_seconds=run.container.health_check_start_period
            if args.target is not None
            else None,
            wait_for_steady_state=run.wait_for_steady_state,
            enable_execute_command=run.enable_execute_command,
            propagate_tags="SERVICE",
            network_configuration=aws.ecs.ServiceNetworkConfigurationArgs(
                subnets=cluster.subnets,
                security_groups=args.security_groups,
                assign_public_ip=run.assign_public_ip,
            ),
            service_connect_configuration=service_connect(run, cluster.namespace_arn)
            if cluster.namespace_arn is not None
            else None,
            alarms=deployment_alarms(args.alarm_names),
            tags=args.tags,
            # CreateService refuses a strategy whose providers the cluster has not associated.
            opts=pulumi.ResourceOptions.merge(
                legacy.options(
                    args.names if args.primary else None,
                    [legacy.SERVICE],
                    "service",
                    self,
                    # ECS refuses a target group that no listener uses: the rules come first.
                    depends_on=[*association, *(args.target.depends_on if args.target else ())],
                ),
                count_options(run),
            ),
        )
        self.register_outputs({"serviceName": self.service.name})


class ScheduledJob(pulumi.ComponentResource):
    """A job: its task definition run by EventBridge Scheduler, through a role that may run only
    that family on the stack's cluster and pass only the task's two roles."""

    def __init__(
        self, name: str, args: EcsServiceArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("ecr-fargate:ecs:ScheduledJob", name, None, opts)
        run, names, cluster = args.run, args.names, args.cluster
        role = self._role(name, args)
        strategy = run.capacity_provider != "FARGATE"
        aws.scheduler.Schedule(
            f"{name}-schedule",
            name=names.schedule(run.service.name),
            group_name="default",
            schedule_expression=run.schedule,
            flexible_time_window=aws.scheduler.ScheduleFlexibleTimeWindowArgs(mode="OFF"),
            target=aws.scheduler.ScheduleTargetArgs(
                arn=cluster.cluster.arn,
                role_arn=role.arn,
                ecs_parameters=aws.scheduler.ScheduleTargetEcsParametersArgs(
                    task_definition_arn=args.task.task_definition.arn,
                    launch_type=None if strategy else "FARGATE",
                    capacity_provider_strategies=[
                        aws.scheduler.ScheduleTargetEcsParametersCapacityProviderStrategyArgs(
                            capacity_provider=run.capacity_provider, weight=1
                        )
                    ]
                    if strategy
                    else None,
                    platform_version="LATEST",
                    network_configuration=aws.scheduler.ScheduleTargetEcsParametersNetworkConfigurationArgs(
                        subnets=cluster.subnets,
                        security_groups=args.security_groups,
                        assign_public_ip=run.assign_public_ip,
                    ),
                ),
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[role]),
        )
        self.run_command = pulumi.Output.all(
            cluster.cluster.name, cluster.subnets, args.security_groups
        ).apply(
            lambda v: schedule.run_task_command(
                cluster=v[0],
                family=names.family(run.service.name),
                subnets=v[1],
                security_groups=v[2],
                assign_public_ip=run.assign_public_ip,
                capacity_provider=run.capacity_provider,
                region=names.region,
            )
        )
        self.register_outputs({"runCommand": self.run_command})

    def _role(self, name: str, args: EcsServiceArgs) -> aws.iam.Role:
        names, task = args.names, args.task
        account = pulumi.Output.from_input(args.account_id)
        role = aws.iam.Role(
            f"{name}-scheduler",
            assume_role_policy=account.apply(
                lambda a: json.dumps(iam.scheduler_assume_role_policy(a), sort_keys=True)
            ),
            description=f"EventBridge Scheduler: runs {names.family(args.run.service.name)}",
            path=names.role_path,
            permissions_boundary=task.boundary_arn,
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        policy = pulumi.Output.all(
            account, args.cluster.cluster.arn, task.execution_role.arn, task.task_role.arn
        ).apply(
            lambda v: json.dumps(
                iam.run_task_policy(
                    task_definition_arn=names.task_definition_arn(v[0], args.run.service.name),
                    cluster_arn=v[1],
                    role_arns=[v[2], v[3]],
                ),
                sort_keys=True,
            )
        )
        aws.iam.RolePolicy(
            f"{name}-scheduler-policy",
            role=role.id,
            policy=policy,
            opts=pulumi.ResourceOptions(parent=role),
        )
        return role
