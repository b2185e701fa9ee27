"""The `StackLoadBalancer` component: the one Application Load Balancer the stack's `web`
services share, and each service's `WebTarget` on it.

- Its own security group: the listener ports (443, and 80 for the redirect; 80 alone when dev
  serves HTTP) open to `allowedCidrs`, and out only to the web services' ports on the stack's
  `services` group (every task carries it; with `network.securityGroupIds`, the VPC's range).
  The task's own group admits its port from this group (`components.ecs.access`): internet -> load balancer
  -> task, nothing else.
- The load balancer (`StackNames.load_balancer_name`, from the stack alone: adding or renaming a
  service never replaces it) in `loadBalancer.subnetIds` or the tasks' subnets, dropping invalid
  header fields, with deletion protection in prod, and access logs when configured
  (Security Hub ELB.4, ELB.5, ELB.6).
- With HTTPS, port 80 redirects (301) to 443, which terminates TLS with the certificate (given,
  or requested and validated in the hosted zone) and the TLS 1.3 policy; without it, port 80
  serves. The default action answers 404 unless a service is `default: true`.
- Per web service, a target group and a listener rule on the serving listener (`components.ecs.routing`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.ecs import bluegreen, https, routing
from components.ecs.accesslogs import AccessLogsBucket, AccessLogsBucketArgs
from components.ecs.target import AlternateTarget, WebTarget
from rules.naming import StackNames
from settings.fargate import FargateSettings, NetworkSettings
from settings.web import LoadBalancerSettings, is_ipv6

Strings = pulumi.Input[Sequence[pulumi.Input[str]]]
NOT_FOUND = aws.lb.ListenerDefaultActionArgs(
    type="fixed-response",
    fixed_response=aws.lb.ListenerDefaultActionFixedResponseArgs(
        content_type="text/plain", message_body="Not Found", status_code="404"
    ),
)


@dataclass
class StackLoadBalancerArgs:
    settings: LoadBalancerSettings
    runs: Sequence[FargateSettings]  # the web services, each with its route
    names: StackNames
    network: NetworkSettings
    account_id: pulumi.Input[str]
    task_subnets: Strings  # the tasks' subnets: the default when loadBalancer.subnetIds is empty
    # The stack's `services` group and its VPC (StackCluster), or None with network.securityGroupIds.
    services_group_id: pulumi.Input[str] | None
    vpc_id: pulumi.Input[str] | None
    vpc_cidr: pulumi.Input[str] | None
    tags: dict[str, str]
    protect: bool  # prod: the access-logs bucket is protected
    # The boundary of the infrastructure role (blue/green, canary, linear web services only).
    boundary_arn: pulumi.Input[str] | None = None


class StackLoadBalancer(pulumi.ComponentResource):
    def __init__(
        self, name: str, args: StackLoadBalancerArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("ecr-fargate:ecs:StackLoadBalancer", name, None, opts)
        lb = args.settings
        self._vpc(args)
        self.security_group = self._security_group(name, args)
        self.load_balancer = self._load_balancer(name, args)
        groups = {
            r.service.name: routing.target_group(
                f"{name}-{r.service.name}", r, args.names, self.vpc_id, args.tags, self
            )
            for r in args.runs
        }
        default = next((r.service.name for r in args.runs if r.route and r.route.default), None)
        action = (
            aws.lb.ListenerDefaultActionArgs(type="forward", target_group_arn=groups[default].arn)
            if default is not None
            else NOT_FOUND
        )
        self.listener = self._listeners(name, args, action)
        rules = {
            r.service.name: routing.listener_rule(
                f"{name}-{r.service.name}",
                r,
                lb,
                self.listener.arn,
                groups[r.service.name],
                args.tags,
                self,
            )
            for r in args.runs
        }
        alternates = self._alternates(name, args, groups, rules)
        self.targets = {
            service: WebTarget(
                target_group_arn=group.arn,
                target_group_arn_suffix=group.arn_suffix,
                load_balancer_arn_suffix=self.load_balancer.arn_suffix,
                load_balancer_security_group_id=self.security_group.id,
                depends_on=(rules[service], self.listener, *alternates.get(service, ((), None))[0]),
                alternate=alternates.get(service, ((), None))[1],
            )
            for service, group in groups.items()
        }
        if lb.domain is not None and lb.hosted_zone_id is not None:
            https.alias_records(name, lb.domain, lb.hosted_zone_id, self.load_balancer, self)
        self.service_urls = self._urls(args)
        self.test_urls = self._urls(args, test=True)
        self.register_outputs({"dnsName": self.load_balancer.dns_name})

    def _alternates(
        self,
        name: str,
        args: StackLoadBalancerArgs,
        groups: dict[str, aws.lb.TargetGroup],
        rules: dict[str, aws.lb.ListenerRule],
    ) -> dict[str, tuple[tuple[pulumi.Resource, ...], AlternateTarget]]:
        """Per web service that is not rolling: its second target group, its rule on the test
        listener, and the stack's infrastructure role ECS moves both rules with."""
        runs = bluegreen.shifting(args.runs)
        if not runs:
            return {}
        assert args.boundary_arn is not None
        test = bluegreen.test_listener(
            name, args.settings, self.load_balancer.arn, self._certificate, args.tags, self
        )
        second = {
            r.service.name: routing.target_group(
                f"{name}-{r.service.name}", r, args.names, self.vpc_id, args.tags, self, True
            )
            for r in runs
        }
        role = bluegreen.infrastructure_role(
            name,
            args.names,
            args.account_id,
            [g.arn for r in runs for g in (groups[r.service.name], second[r.service.name])],
            args.boundary_arn,
            args.tags,
            self,
        )
        found: dict[str, tuple[tuple[pulumi.Resource, ...], AlternateTarget]] = {}
        for r in runs:
            service = r.service.name
            test_rule = routing.listener_rule(
                f"{name}-{service}", r, args.settings, test.arn, groups[service], args.tags, self,
                "test-rule",
            )  # fmt: skip
            found[service] = (
                (test_rule, test),
                AlternateTarget(
                    target_group_arn=second[service].arn,
                    target_group_arn_suffix=second[service].arn_suffix,
                    production_listener_rule_arn=rules[service].arn,
                    test_listener_rule_arn=test_rule.arn,
                    role_arn=role.arn,
                ),
            )
        return found

    def _vpc(self, args: StackLoadBalancerArgs) -> None:
        """The tasks' VPC: the cluster's, or looked up the way the cluster does."""
        if args.vpc_id is not None and args.vpc_cidr is not None:
            self.vpc_id, self.vpc_cidr = args.vpc_id, args.vpc_cidr
            return
        invoke = pulumi.InvokeOptions(parent=self)
        if args.network.subnet_ids:
            first = aws.ec2.get_subnet_output(id=args.network.subnet_ids[0], opts=invoke)
            vpc = aws.ec2.get_vpc_output(id=first.vpc_id, opts=invoke)
        else:
            vpc = aws.ec2.get_vpc_output(default=True, opts=invoke)
        self.vpc_id, self.vpc_cidr = vpc.id, vpc.cidr_block

    def _security_group(self, name: str, args: StackLoadBalancerArgs) -> aws.ec2.SecurityGroup:
        lb = args.settings
        v4: pulumi.Input[Sequence[pulumi.Input[str]]] | None = [
            c for c in lb.allowed_cidrs if not is_ipv6(c)
        ] or None
        v6 = [c for c in lb.allowed_cidrs if is_ipv6(c)] or None
        if not lb.allowed_cidrs:  # internal: the VPC's own range
            v4 = pulumi.Output.from_input(self.vpc_cidr).apply(lambda c: [c])
        ingress = [
            aws.ec2.SecurityGroupIngressArgs(
                protocol="tcp",
                from_port=port,
                to_port=port,
                description="HTTPS" if port == 443 else "HTTP",
                cidr_blocks=v4,
                ipv6_cidr_blocks=v6,
            )
            for port in lb.ports
        ]
        ingress += self._test_ingress(args)
        ports = sorted({r.container.port for r in args.runs if r.container.port is not None})
        to_tasks: dict[str, object] = (
            {"security_groups": [args.services_group_id]}
            if args.services_group_id is not None
            else {"cidr_blocks": pulumi.Output.from_input(self.vpc_cidr).apply(lambda c: [c])}
        )
        egress = [
            aws.ec2.SecurityGroupEgressArgs(
                protocol="tcp",
                from_port=port,
                to_port=port,
                description=f"web service tasks on port {port}",
                **to_tasks,  # type: ignore[arg-type]
            )
            for port in ports
        ]
        return aws.ec2.SecurityGroup(
            f"{name}-sg",
            name=args.names.load_balancer_security_group,
            description=f"{args.names.load_balancer_name}: listeners in, web tasks out",
            vpc_id=self.vpc_id,
            ingress=ingress,
            egress=egress,
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _test_ingress(self, args: StackLoadBalancerArgs) -> list[aws.ec2.SecurityGroupIngressArgs]:
        """The test listener's port, open to the stack's tasks only (their `services` group), or
        with the stack's own groups given, to the VPC's range: never to `allowedCidrs`."""
        if not bluegreen.shifting(args.runs):
            return []
        port = bluegreen.test_port(args.settings)
        source: dict[str, object] = (
            {"security_groups": [args.services_group_id]}
            if args.services_group_id is not None
            else {"cidr_blocks": pulumi.Output.from_input(self.vpc_cidr).apply(lambda c: [c])}
        )
        return [
            aws.ec2.SecurityGroupIngressArgs(
                protocol="tcp",
                from_port=port,
                to_port=port,
                description="test listener: the stack's own tasks only",
                **source,  # type: ignore[arg-type]
            )
        ]

    def _load_balancer(self, name: str, args: StackLoadBalancerArgs) -> aws.lb.LoadBalancer:
        lb = args.settings
        logs, depends = None, []
        if lb.access_logs is not None:
            bucket: pulumi.Input[str] | None = lb.access_logs.bucket
            if bucket is None:
                created = AccessLogsBucket(
                    f"{name}-logs",
                    AccessLogsBucketArgs(
                        args.names, args.account_id, lb.access_logs.prefix, args.protect, args.tags
                    ),
                    pulumi.ResourceOptions(parent=self),
                )
                bucket, depends = created.bucket.bucket, [created.policy]
            logs = aws.lb.LoadBalancerAccessLogsArgs(
                bucket=bucket,  # type: ignore[arg-type]
                prefix=lb.access_logs.prefix or None,
                enabled=True,
            )
        return aws.lb.LoadBalancer(
            name,
            name=args.names.load_balancer_name,
            load_balancer_type="application",
            internal=lb.internal,
            ip_address_type=lb.ip_address_type,
            security_groups=[self.security_group.id],
            subnets=list(lb.subnet_ids) if lb.subnet_ids else args.task_subnets,
            drop_invalid_header_fields=lb.drop_invalid_header_fields,
            enable_deletion_protection=lb.deletion_protection,
            idle_timeout=lb.idle_timeout,
            access_logs=logs,
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=depends),
        )

    def _listeners(
        self, name: str, args: StackLoadBalancerArgs, action: aws.lb.ListenerDefaultActionArgs
    ) -> aws.lb.Listener:
        """The listener the rules go on: 443 with HTTPS (80 redirecting to it), else 80."""
        lb = args.settings
        child = pulumi.ResourceOptions(parent=self)
        self._certificate: pulumi.Input[str] | None = None
        if not lb.https:
            return aws.lb.Listener(
                f"{name}-http",
                load_balancer_arn=self.load_balancer.arn,
                port=80,
                protocol="HTTP",
                default_actions=[action],
                tags=args.tags,
                opts=child,
            )
        certificate: pulumi.Input[str]
        if lb.certificate_arn is not None:
            certificate = lb.certificate_arn
        else:
            assert lb.domain is not None and lb.hosted_zone_id is not None
            certificate = https.validated_certificate(
                name, lb.domain, lb.hosted_zone_id, args.tags, self
            )
        self._certificate = certificate
        aws.lb.Listener(
            f"{name}-http",
            load_balancer_arn=self.load_balancer.arn,
            port=80,
            protocol="HTTP",
            default_actions=[
                aws.lb.ListenerDefaultActionArgs(
                    type="redirect",
                    redirect=aws.lb.ListenerDefaultActionRedirectArgs(
                        protocol="HTTPS", port="443", status_code="HTTP_301"
                    ),
                )
            ],
            tags=args.tags,
            opts=child,
        )
        return aws.lb.Listener(
            f"{name}-https",
            load_balancer_arn=self.load_balancer.arn,
            port=443,
            protocol="HTTPS",
            ssl_policy=lb.ssl_policy,
            certificate_arn=certificate,
            default_actions=[action],
            tags=args.tags,
            opts=child,
        )

    def _urls(
        self, args: StackLoadBalancerArgs, test: bool = False
    ) -> dict[str, pulumi.Output[str]]:
        """Each web service's address: on the domain, else on the load balancer's DNS name;
        `test`: the test listener's, for the services that have a test route."""
        lb = args.settings
        base: pulumi.Output[str] = (
            pulumi.Output.from_input(lb.domain)
            if lb.domain is not None
            else self.load_balancer.dns_name
        )
        port = bluegreen.test_port(lb) if test else None
        runs = bluegreen.shifting(args.runs) if test else args.runs
        return {
            r.service.name: base.apply(
                lambda b, route=r.route: routing.service_url(b, route, lb.https, port)  # type: ignore[misc]
            )
            for r in runs
            if r.route is not None
        }
