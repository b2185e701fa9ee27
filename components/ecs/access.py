"""The `NetworkAccess` component: a service's own security group, open only as its kind promises.

- `worker`, `job`: nothing in.
- `backend`: its port, from the stack's `services` group only (every task of the stack carries it).
- `web`: the same, plus its port from the stack's load balancer's group (its public front
  door), and from `ingressCidrs` only when they are given: an explicit list is a contract the
  user wrote (a VPN or a peered network that calls the tasks directly), so it stays; the old
  default (the VPC's CIDR) does not, since everything outside the stack now comes through the
  load balancer. Without a load balancer (a component used alone), the VPC's CIDR as before.

Egress is the `services` group's (HTTPS, and calls to the stack's own ports), not this group's.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.ecs import legacy
from rules.naming import StackNames
from settings.fargate import FargateSettings


@dataclass
class NetworkAccessArgs:
    run: FargateSettings
    names: StackNames
    vpc_id: pulumi.Input[str]
    vpc_cidr: pulumi.Input[str]
    services_group_id: pulumi.Input[str]
    tags: dict[str, str]
    primary: bool  # carries the old single-service group's URN as an alias
    load_balancer_group_id: pulumi.Input[str] | None = None  # a web service behind the stack's


def ingress_rules(
    run: FargateSettings,
    services_group_id: pulumi.Input[str],
    vpc_cidr: pulumi.Input[str],
    load_balancer_group_id: pulumi.Input[str] | None = None,
) -> list[aws.ec2.SecurityGroupIngressArgs]:
    """What may reach the service, by kind."""
    port = run.container.port
    if not run.listens or port is None:
        return []

    def from_group(group_id: pulumi.Input[str], who: str) -> aws.ec2.SecurityGroupIngressArgs:
        return aws.ec2.SecurityGroupIngressArgs(
            protocol="tcp",
            from_port=port,
            to_port=port,
            security_groups=[group_id],
            description=who,
        )

    rules = [from_group(services_group_id, "the stack's services (Service Connect)")]
    if run.kind == "web" and load_balancer_group_id is not None:
        rules.append(from_group(load_balancer_group_id, "the stack's load balancer"))
    if run.kind == "web" and (run.ingress_cidrs or load_balancer_group_id is None):
        cidrs: pulumi.Input[list[pulumi.Input[str]]] = (
            list(run.ingress_cidrs)
            if run.ingress_cidrs
            else pulumi.Output.from_input(vpc_cidr).apply(lambda c: [c])
        )
        rules.append(
            aws.ec2.SecurityGroupIngressArgs(
                protocol="tcp",
                from_port=port,
                to_port=port,
                cidr_blocks=cidrs,
                description="public-facing port",
            )
        )
    return rules


class NetworkAccess(pulumi.ComponentResource):
    def __init__(
        self, name: str, args: NetworkAccessArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("ecr-fargate:ecs:NetworkAccess", name, None, opts)
        run = args.run
        port = run.container.port
        what = f"port {port} ({run.kind})" if run.listens else f"nothing in ({run.kind})"
        self.group = aws.ec2.SecurityGroup(
            f"{name}-sg",
            name=args.names.security_group(run.service.name),
            description=f"{run.service.name}: {what}",
            vpc_id=args.vpc_id,
            ingress=ingress_rules(
                run, args.services_group_id, args.vpc_cidr, args.load_balancer_group_id
            ),
            egress=[],
            tags=args.tags,
            opts=legacy.options(
                args.names if args.primary else None, [legacy.SECURITY_GROUP], "sg", self
            ),
        )
        self.register_outputs({"securityGroupId": self.group.id})
