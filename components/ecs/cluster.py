"""The `StackCluster` component: what every service of a stack shares.

One cluster (Container Insights) with, when any service uses Spot, both Fargate capacity providers
associated; the AWS Cloud Map HTTP namespace Service Connect publishes the web and backend services
in; the subnets and VPC; and the `services` security group every task carries, the one source a
backend admits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.ecs import legacy
from rules.naming import StackNames
from settings.fargate import NetworkSettings

Strings = pulumi.Input[Sequence[pulumi.Input[str]]]


@dataclass
class StackClusterArgs:
    names: StackNames
    network: NetworkSettings
    uses_spot: bool
    listening_ports: Sequence[int]  # the ports of the web and backend services
    service_connect: bool  # some long-running service exists: create the namespace
    tags: dict[str, str]


class StackCluster(pulumi.ComponentResource):
    def __init__(
        self, name: str, args: StackClusterArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("ecr-fargate:ecs:StackCluster", name, None, opts)
        names = args.names
        # The cluster was the old component's: it keeps that URN, whichever service is primary.
        self.cluster = aws.ecs.Cluster(
            name,
            name=names.cluster,
            settings=[aws.ecs.ClusterSettingArgs(name="containerInsights", value="enabled")],
            tags=args.tags,
            opts=legacy.options(names, [legacy.CLUSTER], "cluster", self),
        )
        self.association = self._capacity(name, args) if args.uses_spot else None
        self.namespace_arn: pulumi.Output[str] | None = None
        if args.service_connect:
            # Untagged, never changed, kept on destroy: Cloud Map offers IAM no way to tell one
            # stack's namespace from another's, so no deploy role may tag, update or delete a
            # namespace (permissions/fargate.py). `ignore_changes` keeps the tags a namespace
            # created before this change carries, without a tagging call.
            namespace = aws.servicediscovery.HttpNamespace(
                f"{name}-namespace",
                name=names.namespace,
                description=f"Service Connect names of {names.prefix}",
                opts=pulumi.ResourceOptions(
                    parent=self, retain_on_delete=True, ignore_changes=["tags", "tagsAll"]
                ),
            )
            self.namespace_arn = namespace.arn
        self._network(name, args)
        self.register_outputs({"clusterName": self.cluster.name})

    def _capacity(self, name: str, args: StackClusterArgs) -> aws.ecs.ClusterCapacityProviders:
        """CreateService refuses a strategy whose providers the cluster has not associated; both
        Fargate providers are, so a service can switch without an association change."""
        return aws.ecs.ClusterCapacityProviders(
            f"{name}-capacity-providers",
            cluster_name=self.cluster.name,
            capacity_providers=["FARGATE", "FARGATE_SPOT"],
            default_capacity_provider_strategies=[
                aws.ecs.ClusterCapacityProvidersDefaultCapacityProviderStrategyArgs(
                    capacity_provider="FARGATE", weight=1
                )
            ],
            opts=legacy.options(
                args.names,
                [legacy.CLUSTER, legacy.CAPACITY_PROVIDERS],
                "capacity-providers",
                self.cluster,
            ),
        )

    def _network(self, name: str, args: StackClusterArgs) -> None:
        """Configured subnets and groups, or the default VPC's subnets and the stack's groups."""
        net = args.network
        invoke = pulumi.InvokeOptions(parent=self)
        vpc = None
        if net.subnet_ids:
            self.subnets: Strings = list(net.subnet_ids)
        else:
            vpc = aws.ec2.get_vpc_output(default=True, opts=invoke)
            self.subnets = aws.ec2.get_subnets_output(
                filters=[aws.ec2.GetSubnetsFilterArgs(name="vpc-id", values=[vpc.id])],  # type: ignore[list-item]
                opts=invoke,
            ).ids
        self.services_group: aws.ec2.SecurityGroup | None = None
        if net.security_group_ids:
            return
        if vpc is None:
            first = aws.ec2.get_subnet_output(id=net.subnet_ids[0], opts=invoke)
            vpc = aws.ec2.get_vpc_output(id=first.vpc_id, opts=invoke)
        self.vpc_id = vpc.id
        self.vpc_cidr = vpc.cidr_block
        self.services_group = self._services_group(name, args)

    def _services_group(self, name: str, args: StackClusterArgs) -> aws.ec2.SecurityGroup:
        """Every task's group: nothing in; out, HTTPS (image pulls, logs, secrets, AWS APIs) and
        the web and backend ports of the stack's own tasks (Service Connect calls)."""
        calls = [
            aws.ec2.SecurityGroupEgressArgs(
                protocol="tcp",
                from_port=port,
                to_port=port,
                self=True,
                description=f"Service Connect calls to port {port}",
            )
            for port in sorted(set(args.listening_ports))
        ]
        return aws.ec2.SecurityGroup(
            f"{name}-services-sg",
            name=args.names.services_security_group,
            description=f"{args.names.prefix}: every task; the source backends admit",
            vpc_id=self.vpc_id,
            ingress=[],
            egress=[
                aws.ec2.SecurityGroupEgressArgs(
                    protocol="tcp",
                    from_port=443,
                    to_port=443,
                    cidr_blocks=["0.0.0.0/0"],
                    description="HTTPS to AWS APIs and ECR",
                ),
                *calls,
            ],
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
