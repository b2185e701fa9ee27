"""What the stack's load balancer adds for web services that deploy blue/green, canary or linear:
the test listener, and the infrastructure role ECS moves the listener rules with.

The test route is a second listener on the load balancer (`TEST_PORTS`), not a header match on
the public listener: a header value is a shared secret anyone who reads a request log, a browser
tab or a CI job can replay, while a port the load balancer's security group opens only to the
stack's `services` group (or, with `network.securityGroupIds`, the VPC's range) cannot be reached
from the internet at all. Each such service gets a rule there with its production conditions;
ECS forwards it to the new revision while the production rule still serves the old one.
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/alb-resources-for-blue-green.html
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import pulumi
import pulumi_aws as aws

from rules.ecs import deployment
from rules.naming import StackNames
from settings.fargate import FargateSettings
from settings.web import LoadBalancerSettings

# The test listener's port: 8443 beside HTTPS (the same certificate and TLS policy), 8080 beside
# plain HTTP (dev without a domain).
TEST_PORTS = {True: 8443, False: 8080}


def shifting(runs: Sequence[FargateSettings]) -> list[FargateSettings]:
    """The web services whose deployments move traffic between two target groups."""
    return [r for r in runs if r.route is not None and not r.deployment.rolling]


def test_port(settings: LoadBalancerSettings) -> int:
    return TEST_PORTS[settings.https]


def test_listener(
    name: str,
    settings: LoadBalancerSettings,
    load_balancer_arn: pulumi.Input[str],
    certificate: pulumi.Input[str] | None,
    tags: dict[str, str],
    parent: pulumi.Resource,
) -> aws.lb.Listener:
    """The stack-internal listener the test rules go on; anything else answers 404."""
    return aws.lb.Listener(
        f"{name}-test",
        load_balancer_arn=load_balancer_arn,
        port=test_port(settings),
        protocol="HTTPS" if settings.https else "HTTP",
        ssl_policy=settings.ssl_policy if settings.https else None,
        certificate_arn=certificate if settings.https else None,
        default_actions=[
            aws.lb.ListenerDefaultActionArgs(
                type="fixed-response",
                fixed_response=aws.lb.ListenerDefaultActionFixedResponseArgs(
                    content_type="text/plain", message_body="Not Found", status_code="404"
                ),
            )
        ],
        tags=tags,
        opts=pulumi.ResourceOptions(parent=parent),
    )


def infrastructure_role(
    name: str,
    names: StackNames,
    account_id: pulumi.Input[str],
    target_group_arns: Sequence[pulumi.Input[str]],
    boundary_arn: pulumi.Input[str],
    tags: dict[str, str],
    parent: pulumi.Resource,
) -> aws.iam.Role:
    """ECS's role for the stack's listener rules: bounded and under the stack's path like every
    other role of the stack; its writes reach the given target groups and the stack's load
    balancer's listeners and rules only (`rules.ecs.deployment`)."""
    account = pulumi.Output.from_input(account_id)
    role = aws.iam.Role(
        f"{name}-ecs-infrastructure",
        name=names.infrastructure_role_name,
        assume_role_policy=account.apply(
            lambda a: json.dumps(deployment.ecs_assume_role_policy(a), sort_keys=True)
        ),
        description=f"ECS: moves {names.load_balancer_name}'s listener rules in deployments",
        path=names.role_path,
        permissions_boundary=boundary_arn,
        tags=tags,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    policy = pulumi.Output.all(account, *target_group_arns).apply(
        lambda v: json.dumps(
            deployment.infrastructure_role_policy(
                target_group_arns=v[1:],
                listener_arn=names.listener_arn(v[0]),
                listener_rule_arn=names.listener_rule_arn(v[0]),
            ),
            sort_keys=True,
        )
    )
    aws.iam.RolePolicy(
        f"{name}-ecs-infrastructure-policy",
        role=role.id,
        policy=policy,
        opts=pulumi.ResourceOptions(parent=role),
    )
    return role
