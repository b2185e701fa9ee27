"""Blue/green, canary and linear deployments of the web services: the deploy role hands ECS the
stack's infrastructure role (and no other role, to no other service), and the boundary caps
that role at moving the stack's own targets and listener rules. Nothing for a stack whose web
services all roll. The target groups, the test listener and its rules are the load balancer's
resources (`permissions.web`) and need nothing more.
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/blue-green-permissions.html
"""

from __future__ import annotations

from permissions.documents import ECS, Statement, owned_by_stack, passed_to, statement
from permissions.renders import has_load_balancer
from rules.ecs.deployment import (
    INFRASTRUCTURE_LISTENERS,
    INFRASTRUCTURE_READS,
    INFRASTRUCTURE_TARGETS,
)
from settings import Settings


def shifts_traffic(settings: Settings) -> bool:
    """Some web service deploys blue/green, canary or linear (the stack creates the role)."""
    f = settings.fargate
    return (
        f is not None
        and has_load_balancer(settings)
        and any(r.route is not None and not r.deployment.rolling for r in f.runs)
    )


def infrastructure_role_arn(settings: Settings, account: str) -> str:
    names = settings.names
    return names.role_arn(account, names.infrastructure_role_name)


def deployment_writes(settings: Settings, account: str) -> list[Statement]:
    """CreateService/UpdateService pass `advancedConfiguration.roleArn`: that one role, to ECS."""
    if not shifts_traffic(settings):
        return []
    role = infrastructure_role_arn(settings, account)
    return [statement("PassInfrastructureRole", ["iam:PassRole"], role, passed_to(ECS))]


def deployment_boundary(settings: Settings, account: str) -> list[Statement]:
    """The most the infrastructure role may do: read the load balancing setup, move targets in
    the stack's tagged target groups, rewrite the stack's load balancer's listeners and rules."""
    if not shifts_traffic(settings):
        return []
    names = settings.names
    routing = [names.listener_arn(account), names.listener_rule_arn(account)]
    return [
        statement("ReadLoadBalancing", INFRASTRUCTURE_READS, "*"),
        statement(
            "MoveStackTargets",
            INFRASTRUCTURE_TARGETS,
            names.target_group_arn(account),
            owned_by_stack(settings),
        ),
        statement("ShiftStackTraffic", INFRASTRUCTURE_LISTENERS, routing),
    ]
