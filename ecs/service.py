"""The `FargateService` component: log group, roles, cluster, task definition and service.

The task definition names the image by digest, so a new digest is a new revision and a rollout;
the deployment circuit breaker rolls back a rollout whose tasks never become healthy.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from ecs import container, iam
from settings.fargate import FargateSettings
from settings.naming import StackNames


@dataclass
class FargateServiceArgs:
    settings: FargateSettings
    stack: str
    project: str
    region: str
    partition: str
    account_id: pulumi.Input[str]
    image: pulumi.Input[str]  # `<repository url>@sha256:...`
    repository_arns: list[pulumi.Input[str]]
    pull_through_policy: pulumi.Input[str] | None
    tags: dict[str, str]


class FargateService(pulumi.ComponentResource):
    def __init__(
        self, name: str, args: FargateServiceArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("ecr-fargate:ecs:FargateService", name, None, opts)
        s = args.settings
        spec = s.container
        tags = {**args.tags, "service": spec.name}
        names = StackNames(args.stack, args.partition, args.region, args.project)

        log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=names.log_group(spec.name),
            retention_in_days=s.log_retention_days,
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        execution_role, task_role = self._roles(name, args, names, tags, log_group)
        cluster = aws.ecs.Cluster(
            f"{name}-cluster",
            name=names.cluster,
            settings=[aws.ecs.ClusterSettingArgs(name="containerInsights", value="enabled")],
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        task_definition = self._task_definition(
            name, args, names, tags, log_group, execution_role, task_role
        )
        service = self._service(name, s, tags, cluster, task_definition)

        self.cluster_name = cluster.name
        self.service_name = service.name
        self.task_definition_arn = task_definition.arn
        self.task_definition_family = task_definition.family
        self.log_group_name = log_group.name
        self.image = pulumi.Output.from_input(args.image)
        self.execution_role_arn = execution_role.arn
        self.task_role_arn = task_role.arn
        self.register_outputs(
            {
                "clusterName": self.cluster_name,
                "serviceName": self.service_name,
                "taskDefinitionArn": self.task_definition_arn,
            }
        )

    def _roles(
        self,
        name: str,
        args: FargateServiceArgs,
        names: StackNames,
        tags: dict[str, str],
        log_group: aws.cloudwatch.LogGroup,
    ) -> tuple[aws.iam.Role, aws.iam.Role]:
        """The execution role (pull, logs, secrets) and the app's own task role, both bounded."""
        spec = args.settings.container
        family = names.family(spec.name)
        account = pulumi.Output.from_input(args.account_id)
        assume = account.apply(
            lambda a: json.dumps(iam.ecs_tasks_assume_role_policy(a), sort_keys=True)
        )
        boundary = account.apply(names.boundary_arn)
        execution_role = aws.iam.Role(
            f"{name}-execution",
            assume_role_policy=assume,
            description=f"ECS task execution role for {family}: pull, logs, secrets",
            path=names.role_path,
            permissions_boundary=boundary,
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self._execution_policies(name, args, execution_role, log_group)
        # The app's own role: nothing by default, never the execution role.
        task_role = aws.iam.Role(
            f"{name}-task",
            assume_role_policy=assume,
            description=f"ECS task role for {family}",
            path=names.role_path,
            permissions_boundary=boundary,
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        if args.settings.enable_execute_command:
            aws.iam.RolePolicy(
                f"{name}-exec-policy",
                role=task_role.id,
                policy=json.dumps(iam.ecs_exec_policy(), sort_keys=True),
                opts=pulumi.ResourceOptions(parent=task_role),
            )
        return execution_role, task_role

    def _execution_policies(
        self,
        name: str,
        args: FargateServiceArgs,
        role: aws.iam.Role,
        log_group: aws.cloudwatch.LogGroup,
    ) -> None:
        """Pull from where the image comes from, logs, the task's secrets; the cache if used."""
        spec = args.settings.container
        execution_policy = pulumi.Output.all(log_group.arn, *args.repository_arns).apply(
            lambda v: json.dumps(
                iam.execution_role_policy(
                    repository_arns=list(v[1:]),
                    log_group_arn=v[0],
                    secret_arns=[a for a in spec.secrets.values() if ":secretsmanager:" in a],
                    parameter_arns=[a for a in spec.secrets.values() if ":ssm:" in a],
                ),
                sort_keys=True,
            )
        )
        self.execution_policy = execution_policy
        aws.iam.RolePolicy(
            f"{name}-execution-policy",
            role=role.id,
            policy=execution_policy,
            opts=pulumi.ResourceOptions(parent=role),
        )
        if args.pull_through_policy is not None:
            aws.iam.RolePolicy(
                f"{name}-pull-through-policy",
                role=role.id,
                policy=args.pull_through_policy,
                opts=pulumi.ResourceOptions(parent=role),
            )

    def _task_definition(
        self,
        name: str,
        args: FargateServiceArgs,
        names: StackNames,
        tags: dict[str, str],
        log_group: aws.cloudwatch.LogGroup,
        execution_role: aws.iam.Role,
        task_role: aws.iam.Role,
    ) -> aws.ecs.TaskDefinition:
        """The revision that pins the digest: a new digest is a new revision and a rollout."""
        s = args.settings
        spec = s.container
        definitions = pulumi.Output.all(pulumi.Output.from_input(args.image), log_group.name).apply(
            lambda v: container.container_definitions_json(
                container.render_container_definitions(
                    spec, image=v[0], log_group=v[1], region=args.region, stream_prefix=spec.name
                )
            )
        )
        self.container_definitions = definitions
        return aws.ecs.TaskDefinition(
            f"{name}-task-definition",
            family=names.family(spec.name),
            requires_compatibilities=["FARGATE"],
            network_mode="awsvpc",
            cpu=str(s.cpu),
            memory=str(s.memory),
            runtime_platform=aws.ecs.TaskDefinitionRuntimePlatformArgs(
                operating_system_family="LINUX", cpu_architecture=s.cpu_architecture
            ),
            ephemeral_storage=aws.ecs.TaskDefinitionEphemeralStorageArgs(
                size_in_gib=s.ephemeral_storage_gib
            )
            if s.ephemeral_storage_gib is not None
            else None,
            volumes=[
                aws.ecs.TaskDefinitionVolumeArgs(name=v["name"])
                for v in container.render_volumes(spec)
            ]
            or None,
            container_definitions=definitions,
            execution_role_arn=execution_role.arn,
            task_role_arn=task_role.arn,
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _service(
        self,
        name: str,
        s: FargateSettings,
        tags: dict[str, str],
        cluster: aws.ecs.Cluster,
        task_definition: aws.ecs.TaskDefinition,
    ) -> aws.ecs.Service:
        subnets, security_groups = self._network(name, s, tags, s.container.port)
        strategy, association = self._capacity(name, s, cluster)
        return aws.ecs.Service(
            f"{name}-service",
            name=s.container.name,
            cluster=cluster.arn,
            task_definition=task_definition.arn,
            desired_count=s.desired_count,
            # The provider's default launch type is EC2: say FARGATE, or give the Spot strategy.
            launch_type="FARGATE" if strategy is None else None,
            capacity_provider_strategies=strategy,
            platform_version="LATEST",
            deployment_circuit_breaker=aws.ecs.ServiceDeploymentCircuitBreakerArgs(
                enable=True, rollback=True
            ),
            deployment_minimum_healthy_percent=s.minimum_healthy_percent,
            deployment_maximum_percent=s.maximum_percent,
            # No load balancer: ECS refuses healthCheckGracePeriodSeconds on such a service
            # ("only valid for services configured to use load balancers"); the grace period is
            # the container health check's startPeriod instead (settings.fargate).
            wait_for_steady_state=s.wait_for_steady_state,
            enable_execute_command=s.enable_execute_command,
            propagate_tags="SERVICE",
            network_configuration=aws.ecs.ServiceNetworkConfigurationArgs(
                subnets=subnets,
                security_groups=security_groups,
                assign_public_ip=s.network.assign_public_ip,
            ),
            tags=tags,
            # CreateService refuses a strategy whose providers the cluster has not associated.
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[association] if association is not None else None
            ),
        )

    def _capacity(
        self, name: str, s: FargateSettings, cluster: aws.ecs.Cluster
    ) -> tuple[
        list[aws.ecs.ServiceCapacityProviderStrategyArgs] | None,
        aws.ecs.ClusterCapacityProviders | None,
    ]:
        """A capacity-provider strategy, and the cluster association it needs (Spot only).

        The plain FARGATE launch type needs no association; a strategy names providers that
        must be associated with the cluster first (ECS PutClusterCapacityProviders), and both
        Fargate providers are associated so a later switch back needs no association change.
        """
        if s.capacity_provider == "FARGATE":
            return None, None
        association = aws.ecs.ClusterCapacityProviders(
            f"{name}-capacity-providers",
            cluster_name=cluster.name,
            capacity_providers=["FARGATE", "FARGATE_SPOT"],
            default_capacity_provider_strategies=[
                aws.ecs.ClusterCapacityProvidersDefaultCapacityProviderStrategyArgs(
                    capacity_provider="FARGATE", weight=1
                )
            ],
            opts=pulumi.ResourceOptions(parent=cluster),
        )
        strategy = [
            aws.ecs.ServiceCapacityProviderStrategyArgs(
                capacity_provider=s.capacity_provider, weight=1
            )
        ]
        return strategy, association

    def _network(
        self, name: str, s: FargateSettings, tags: dict[str, str], port: int
    ) -> tuple[
        pulumi.Input[Sequence[pulumi.Input[str]]], pulumi.Input[Sequence[pulumi.Input[str]]]
    ]:
        """Configured subnets and groups, or the default VPC and a group open only on the port."""
        net = s.network
        invoke = pulumi.InvokeOptions(parent=self)
        vpc = None
        if net.subnet_ids:
            subnets: pulumi.Input[Sequence[pulumi.Input[str]]] = list(net.subnet_ids)
        else:
            vpc = aws.ec2.get_vpc_output(default=True, opts=invoke)
            subnets = aws.ec2.get_subnets_output(
                filters=[aws.ec2.GetSubnetsFilterArgs(name="vpc-id", values=[vpc.id])],  # type: ignore[list-item]
                opts=invoke,
            ).ids
        if net.security_group_ids:
            return subnets, list(net.security_group_ids)
        if vpc is None:
            first = aws.ec2.get_subnet_output(id=net.subnet_ids[0], opts=invoke)
            vpc = aws.ec2.get_vpc_output(id=first.vpc_id, opts=invoke)
        cidrs: pulumi.Input[Sequence[pulumi.Input[str]]] = (
            list(net.ingress_cidrs) if net.ingress_cidrs else vpc.cidr_block.apply(lambda c: [c])
        )
        group = aws.ec2.SecurityGroup(
            f"{name}-sg",
            description=f"{s.container.name}: container port {port} only",
            vpc_id=vpc.id,
            ingress=[
                aws.ec2.SecurityGroupIngressArgs(
                    protocol="tcp",
                    from_port=port,
                    to_port=port,
                    cidr_blocks=cidrs,
                    description="container port",
                )
            ],
            # Image pulls, logs and secrets are HTTPS; bring your own groups for other egress.
            egress=[
                aws.ec2.SecurityGroupEgressArgs(
                    protocol="tcp",
                    from_port=443,
                    to_port=443,
                    cidr_blocks=["0.0.0.0/0"],
                    description="HTTPS to AWS APIs and ECR",
                )
            ],
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        return subnets, [group.id]
