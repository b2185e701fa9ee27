"""Today's URNs of the single-service `FargateService` component, as Pulumi aliases.

Before the service model, a stack had one component `ecr-fargate:ecs:FargateService` named
`fargate`, whose children were named `fargate-<part>`. The stack's primary service and its cluster
now carry these URNs as aliases, so `pulumi up` after the move adopts the existing cluster, service,
task definition family, roles and log group instead of replacing them.
https://www.pulumi.com/docs/iac/concepts/options/aliases/
"""

from __future__ import annotations

from collections.abc import Sequence

import pulumi

from rules.naming import StackNames

COMPONENT = "ecr-fargate:ecs:FargateService"
NAME = "fargate"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
CLUSTER = "aws:ecs/cluster:Cluster"
CAPACITY_PROVIDERS = "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders"
TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"
SERVICE = "aws:ecs/service:Service"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"


def urn(names: StackNames, types: Sequence[str], part: str) -> str:
    """The URN of `fargate-<part>`, a resource of the given type chain under the old component."""
    chain = "$".join((COMPONENT, *types))
    return f"urn:pulumi:{names.stack}::{names.project}::{chain}::{NAME}-{part}"


def options(
    names: StackNames | None,
    types: Sequence[str],
    part: str,
    parent: pulumi.Resource,
    depends_on: Sequence[pulumi.Resource] = (),
) -> pulumi.ResourceOptions:
    """Resource options with the old URN as an alias when `names` is given (the primary service
    and the cluster), without it otherwise."""
    aliases: list[pulumi.Input[str | pulumi.Alias]] | None = (
        [urn(names, types, part)] if names is not None else None
    )
    return pulumi.ResourceOptions(
        parent=parent, aliases=aliases, depends_on=list(depends_on) or None
    )
