"""The web services behind the stack's load balancer, followed reference by reference in the
rendered stacks: listener -> rule -> target group -> ECS service -> task port, and the security
groups from the internet to the container port. The component alone too."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from components.ecs import accesslogs, routing
from components.ecs.access import NetworkAccess, NetworkAccessArgs
from components.ecs.loadbalancer import StackLoadBalancer, StackLoadBalancerArgs
from plan.engine import Rendered
from rules.naming import StackNames
from settings import web
from settings.fargate import NetworkSettings
from settings.keys.web import SSL_POLICIES
from settings.services import SERVICE_NAME
from tests.conftest import GIT_ENV, render_stack
from tests.test_ecs_components import alone, minimal_run

LB = "aws:lb/loadBalancer:LoadBalancer"
LISTENER = "aws:lb/listener:Listener"
RULE = "aws:lb/listenerRule:ListenerRule"
TG = "aws:lb/targetGroup:TargetGroup"
GROUP = "aws:ec2/securityGroup:SecurityGroup"
RECORD = "aws:route53/record:Record"
APP = {"context": "app"}


def by_state(r: Rendered, type_: str, key: str, value: Any) -> Any:
    (found,) = [x for x in r.of_type(type_) if x.state.get(key) == value]
    return found


def container(r: Rendered, service: str) -> dict[str, Any]:
    task = r.named(f"{service}-task-definition")
    (c,) = json.loads(task.inputs["containerDefinitions"])
    return dict(c)


def serving_listener(r: Rendered) -> Any:
    """The listener the rules are on: 443 with HTTPS, else 80."""
    return max(r.of_type(LISTENER), key=lambda x: x.inputs["port"])


def test_a_request_reaches_the_api_container(stack: Rendered) -> None:
    """Listener -> rule -> target group -> ECS service -> the task's container port."""
    lb = stack.one(LB)
    listener = serving_listener(stack)
    assert listener.inputs["loadBalancerArn"] == lb.state["arn"]
    (rule,) = [x for x in stack.of_type(RULE) if x.inputs["listenerArn"] == listener.state["arn"]]
    assert rule.inputs["conditions"] == [{"pathPattern": {"values": ["/*"]}}]
    (action,) = rule.inputs["actions"]
    group = by_state(stack, TG, "arn", action["targetGroupArn"])
    assert (group.inputs["targetType"], group.inputs["protocol"]) == ("ip", "HTTP")
    service = stack.named("api-service").inputs
    (attachment,) = service["loadBalancers"]
    assert attachment["targetGroupArn"] == group.state["arn"]
    c = container(stack, "api")
    assert attachment["containerName"] == c["name"] == "api"
    ports = [m["containerPort"] for m in c["portMappings"]]
    assert ports == [attachment["containerPort"]] == [group.inputs["port"]] == [8080]
    assert group.inputs["healthCheck"]["path"] == "/healthz"
    assert group.inputs["deregistrationDelay"] == 30
    assert group.inputs["vpcId"] == stack.named("cluster-services-sg").inputs["vpcId"]
    assert service["healthCheckGracePeriodSeconds"] == c["healthCheck"]["startPeriod"] == 60
    # ECS refuses a target group no listener uses: the service waits for its rule.
    assert rule.urn in stack.named("api-service").dependencies


def test_the_security_groups_chain_the_internet_to_the_container_port(stack: Rendered) -> None:
    groups = {g.id: g for g in stack.of_type(GROUP)}
    lb = stack.one(LB)
    (lb_group_id,) = lb.inputs["securityGroups"]
    lb_group = groups[lb_group_id]
    ports = {x.inputs["port"] for x in stack.of_type(LISTENER)}
    shared = stack.named("cluster-services-sg")
    for rule in lb_group.inputs["ingress"]:
        assert rule["fromPort"] == rule["toPort"] and rule["fromPort"] in ports
        if rule["fromPort"] == 8443:  # prod's canary api: the test listener, the tasks only
            assert rule["securityGroups"] == [shared.id] and "cidrBlocks" not in rule
            continue
        assert rule["cidrBlocks"] == ["0.0.0.0/0"] and rule["ipv6CidrBlocks"] == ["::/0"]
    assert {r["fromPort"] for r in lb_group.inputs["ingress"]} == ports
    # Out: only the web port, only to the group every task carries.
    (out,) = lb_group.inputs["egress"]
    assert (out["fromPort"], out["toPort"], out["securityGroups"]) == (8080, 8080, [shared.id])
    task_groups = stack.named("api-service").inputs["networkConfiguration"]["securityGroups"]
    assert shared.id in task_groups
    # In at the task: the port, from the load balancer's group; no CIDR reaches it.
    own = stack.named("api-sg")
    assert own.id in task_groups
    from_lb = [r for r in own.inputs["ingress"] if r.get("securityGroups") == [lb_group_id]]
    assert [(r["fromPort"], r["toPort"]) for r in from_lb] == [(8080, 8080)]
    assert all("cidrBlocks" not in r for r in own.inputs["ingress"])
    assert container(stack, "api")["portMappings"][0]["containerPort"] == 8080


def test_dev_serves_http_on_the_load_balancer_name(dev: Rendered) -> None:
    (listener,) = dev.of_type(LISTENER)
    assert (listener.inputs["port"], listener.inputs["protocol"]) == (80, "HTTP")
    assert listener.inputs["defaultActions"][0]["fixedResponse"]["statusCode"] == "404"
    lb = dev.one(LB)
    assert dev.outputs["serviceUrls"] == {"api": f"http://{lb.state['dnsName']}/"}
    assert dev.outputs["loadBalancerDnsName"] == lb.state["dnsName"]
    assert dev.outputs["loadBalancerArn"] == lb.state["arn"]
    assert dev.outputs["loadBalancerZoneId"] == lb.state["zoneId"]
    assert lb.inputs["enableDeletionProtection"] is False
    assert dev.of_type("aws:acm/certificate:Certificate") == []


def test_prod_serves_https_with_a_validated_certificate(prod: Rendered) -> None:
    lb = prod.one(LB)
    http, https, test = sorted(prod.of_type(LISTENER), key=lambda x: x.inputs["port"])
    # prod's canary api has a test listener: the same certificate and TLS policy, on 8443.
    assert (test.inputs["port"], test.inputs["protocol"]) == (8443, "HTTPS")
    assert test.inputs["certificateArn"] == https.inputs["certificateArn"]
    assert test.inputs["sslPolicy"] == https.inputs["sslPolicy"]
    assert test.inputs["defaultActions"][0]["fixedResponse"]["statusCode"] == "404"
    assert http.inputs["defaultActions"] == [
        {
            "type": "redirect",
            "redirect": {"port": "443", "protocol": "HTTPS", "statusCode": "HTTP_301"},
        }
    ]
    assert (https.inputs["port"], https.inputs["protocol"]) == (443, "HTTPS")
    assert https.inputs["sslPolicy"] == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    cert = prod.one("aws:acm/certificate:Certificate")
    assert (cert.inputs["domainName"], cert.inputs["validationMethod"]) == (
        "api.fixture.example",
        "DNS",
    )
    validation = prod.one("aws:acm/certificateValidation:CertificateValidation")
    assert https.inputs["certificateArn"] == validation.state["certificateArn"] == cert.state["arn"]
    (option,) = cert.state["domainValidationOptions"]
    record = prod.named("load-balancer-certificate-validation-record").inputs
    assert (record["name"], record["type"], record["records"]) == (
        option["resourceRecordName"],
        option["resourceRecordType"],
        [option["resourceRecordValue"]],
    )
    assert validation.inputs["validationRecordFqdns"] == [record["name"].rstrip(".")]
    aliases = [r for r in prod.of_type(RECORD) if r.inputs.get("aliases")]
    assert sorted(r.inputs["type"] for r in aliases) == ["A", "AAAA"]
    for alias in aliases:
        assert alias.inputs["name"] == "api.fixture.example"
        assert alias.inputs["zoneId"] == "Z0FIXTURE0000000000001"
        assert alias.inputs["aliases"] == [
            {
                "name": lb.state["dnsName"],
                "zoneId": lb.state["zoneId"],
                "evaluateTargetHealth": True,
            }
        ]
    assert prod.outputs["serviceUrls"] == {"api": "https://api.fixture.example/"}
    assert prod.outputs["testUrls"] == {"api": "https://api.fixture.example:8443/"}
    assert lb.inputs["subnets"] == ["subnet-0f1e2d3c4b5a60101", "subnet-0f1e2d3c4b5a60102"]
    assert lb.inputs["enableDeletionProtection"] is True
    assert lb.inputs["dropInvalidHeaderFields"] is True


def test_prod_access_logs_go_to_the_bucket_the_stack_creates(prod: Rendered) -> None:
    bucket = prod.one("aws:s3/bucket:Bucket")
    # Globally unique: the stack's prefix, the account and the region.
    assert bucket.inputs["bucket"] == "ecr-fargate-prod-lb-logs-123456789012-us-east-1"
    assert bucket.protect is True and bucket.inputs["tags"]["stack"] == "prod"
    assert prod.one(LB).inputs["accessLogs"] == {
        "bucket": bucket.inputs["bucket"],
        "prefix": "alb",
        "enabled": True,
    }
    sse = prod.one(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
    )
    assert sse.inputs["rules"][0]["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "AES256"
    policy = json.loads(prod.one("aws:s3/bucketPolicy:BucketPolicy").inputs["policy"])
    (allow,) = [s for s in policy["Statement"] if s["Effect"] == "Allow"]
    assert allow["Principal"] == {"AWS": "arn:aws:iam::127311923021:root"}
    assert allow["Resource"].endswith(f"{bucket.inputs['bucket']}/alb/AWSLogs/123456789012/*")


def test_a_given_logs_bucket_is_used_as_is_and_none_is_created() -> None:
    overrides = {
        "loadBalancer": {"accessLogs": {"bucket": "my-logs"}, "ipAddressType": "dualstack"}
    }
    r = render_stack("dev", env=GIT_ENV, overrides=overrides)
    lb = r.one(LB).inputs
    assert lb["accessLogs"] == {"bucket": "my-logs", "enabled": True}
    assert lb["ipAddressType"] == "dualstack"
    assert (
        r.of_type("aws:s3/bucket:Bucket") == []
        and r.of_type("aws:s3/bucketPolicy:BucketPolicy") == []
    )


def test_newer_regions_write_logs_through_the_service_principal() -> None:
    policy = accesslogs.bucket_policy(StackNames("dev", "aws", "ap-southeast-5"), "b", "", "1" * 12)
    allow = policy["Statement"][0]
    assert allow["Principal"] == {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"}
    assert allow["Resource"] == "arn:aws:s3:::b/AWSLogs/111111111111/*"


def test_every_load_balancer_resource_carries_the_stack_tag(stack: Rendered) -> None:
    taggable = (
        LB,
        LISTENER,
        RULE,
        TG,
        GROUP,
        "aws:acm/certificate:Certificate",
        "aws:s3/bucket:Bucket",
    )
    for res in stack.resources:
        if res.type in taggable:
            assert res.inputs["tags"]["stack"] == stack.stack, res.name


def test_the_quick_start_ends_with_curl_on_the_dev_service_url(dev: Rendered) -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    quick = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    last = [line for line in quick.strip().splitlines() if line and line != "```"][-1]
    match = re.fullmatch(
        r"curl \$\(pulumi stack output serviceUrls --stack dev --json \| jq -r \.(\w+)\)", last
    )
    assert match is not None, last
    assert dev.outputs["serviceUrls"][match[1]].startswith("http://")


def test_names_fit_elb_and_differ_between_stacks(dev: Rendered, prod: Rendered) -> None:
    d, p = dev.one(LB).inputs["name"], prod.one(LB).inputs["name"]
    assert d != p and len(d) <= 32 and len(p) <= 32
    d, p = (
        dev.named("load-balancer-api-tg").inputs["name"],
        prod.named("load-balancer-api-tg").inputs["name"],
    )
    assert d != p and len(d) <= 32 and len(p) <= 32
    # prod's canary api: a second group, named apart from the first (create-before-delete safe).
    second = prod.named("load-balancer-api-tg-alternate").inputs["name"]
    assert (second, p) == ("prod-api-7e8c6d-g", "prod-api-7e8c6d")
    assert dev.one(LB).inputs["name"] == "ecr-fargate-dev"


@given(st.from_regex(SERVICE_NAME, fullmatch=True).filter(lambda n: len(n) <= 58))
def test_alternate_target_group_names_are_valid_and_never_the_first_groups(service: str) -> None:
    names = StackNames("a-long-stack-name")
    first = names.target_group_name(service, routing.fingerprint(8080))
    second = names.alternate_target_group_name(service, routing.fingerprint(8080))
    assert re.fullmatch(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?", second), second
    assert second != first
    assert second != names.alternate_target_group_name(service, routing.fingerprint(9000))


@given(st.from_regex(SERVICE_NAME, fullmatch=True).filter(lambda n: len(n) <= 58))
def test_target_group_names_are_valid_elb_names_for_any_service(service: str) -> None:
    """1 to 32 letters, digits and hyphens, no hyphen first or last; distinct per service."""
    name = StackNames("a-long-stack-name").target_group_name(service, routing.fingerprint(8080))
    assert re.fullmatch(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?", name), name
    other = StackNames("a-long-stack-name").target_group_name(
        service + "x", routing.fingerprint(8080)
    )
    assert other != name


def test_services_share_one_load_balancer_by_path_and_host() -> None:
    services = [
        {"name": "site", "build": APP, "run": {"kind": "web", "port": 8080, "default": True}},
        {"name": "api", "build": APP, "run": {"kind": "web", "port": 9000, "paths": ["/api/*"]}},
        {"name": "admin", "build": APP, "run": {"kind": "web", "port": 8080, "hosts": ["admin.example.com"]}},
    ]  # fmt: skip
    r = render_stack("dev", env=GIT_ENV, overrides={"services": services})
    lb = r.one(LB)
    (listener,) = r.of_type(LISTENER)
    site_group = r.named("load-balancer-site-tg")
    assert listener.inputs["defaultActions"] == [
        {"type": "forward", "targetGroupArn": site_group.state["arn"]}
    ]
    priorities = {x.name: x.inputs["priority"] for x in r.of_type(RULE)}
    assert priorities == {
        "load-balancer-admin-rule": 1,
        "load-balancer-api-rule": 2,
        "load-balancer-site-rule": 3,
    }
    dns = lb.state["dnsName"]
    assert r.outputs["serviceUrls"] == {
        "site": f"http://{dns}/",
        "api": f"http://{dns}/api/",
        "admin": "http://admin.example.com/",
    }
    egress = r.named("load-balancer-sg").inputs["egress"]
    assert sorted(e["fromPort"] for e in egress) == [8080, 9000]


def test_rendering_a_web_variant_twice_is_identical() -> None:
    overrides = {"loadBalancer": {"certificateArn": CERT, "allowedCidrs": ["192.0.2.0/24"]}}

    def snapshot() -> str:
        r = render_stack("dev", env=GIT_ENV, overrides=overrides)
        return json.dumps(
            sorted([x.type, x.name, json.dumps(x.inputs, sort_keys=True)] for x in r.resources)
        )

    assert snapshot() == snapshot()


CERT = "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-0a1b-0a1b-0a1b-0a1b2c3d4e5f"


def settings(**change: Any) -> web.LoadBalancerSettings:
    fields: dict[str, Any] = {
        "internal": False,
        "subnet_ids": (),
        "allowed_cidrs": ("0.0.0.0/0",),
        "ip_address_type": "ipv4",
        "certificate_arn": CERT,
        "domain": None,
        "hosted_zone_id": None,
        "ssl_policy": SSL_POLICIES[0],
        "deletion_protection": True,
        "drop_invalid_header_fields": True,
        "idle_timeout": 60,
        "access_logs": None,
        "priorities": (("svc", 1),),
    }
    return web.LoadBalancerSettings(**{**fields, **change})


def component(lb: web.LoadBalancerSettings, *, groups: tuple[str, ...] = ()) -> Rendered:
    run = minimal_run("web", 9000, route=web.WebRoute(("/svc/*",), (), False, 10))
    args = StackLoadBalancerArgs(
        lb,
        [run],
        StackNames("dev"),
        NetworkSettings((), groups, False),
        "123456789012",
        ["subnet-1", "subnet-2"],
        None if groups else "sg-services",
        None if groups else "vpc-1",
        None if groups else "10.0.0.0/16",
        {"stack": "dev"},
        protect=False,
    )
    return alone(lambda: StackLoadBalancer("lb", args))


def test_the_component_alone_uses_a_given_certificate() -> None:
    r = component(settings())
    assert r.of_type("aws:acm/certificate:Certificate") == [] and r.of_type(RECORD) == []
    https = [x for x in r.of_type(LISTENER) if x.inputs["port"] == 443]
    assert https[0].inputs["certificateArn"] == CERT
    group = r.one(TG)
    # The stack, the service, and six hex of sha256 of what forces a new group (protocol,
    # target type, port): sha256(b"HTTP|ip|9000") starts d932b2.
    assert group.inputs["name"] == "dev-svc-d932b2"
    assert (group.inputs["vpcId"], group.inputs["deregistrationDelay"]) == ("vpc-1", 10)
    sg = r.one(GROUP).inputs
    assert "ipv6CidrBlocks" not in sg["ingress"][0]
    assert sg["egress"][0]["securityGroups"] == ["sg-services"]
    assert r.one(RULE).inputs["conditions"] == [{"pathPattern": {"values": ["/svc/*"]}}]


def test_the_component_alone_with_given_groups_and_internal_scheme() -> None:
    """With network.securityGroupIds the stack has no services group: out to the VPC range,
    looked up from the default VPC; internal admits the VPC range only."""
    r = component(settings(internal=True, allowed_cidrs=()), groups=("sg-0123456789abcdef0",))
    assert "aws:ec2/getVpc:getVpc" in r.invokes
    sg = r.one(GROUP).inputs
    assert sg["egress"][0]["cidrBlocks"] == ["172.31.0.0/16"]
    assert all(rule["cidrBlocks"] == ["172.31.0.0/16"] for rule in sg["ingress"])
    assert r.one(LB).inputs["internal"] is True


@pytest.mark.parametrize(
    ("cidrs", "sources"),
    [
        ((), [["sg-shared"], ["sg-lb"]]),
        (("192.0.2.0/24",), [["sg-shared"], ["sg-lb"], ["192.0.2.0/24"]]),
    ],
)
def test_a_web_task_admits_the_load_balancer_and_only_the_cidrs_given(
    cidrs: tuple[str, ...], sources: list[list[str]]
) -> None:
    run = minimal_run("web", 9000, ingress_cidrs=cidrs)
    args = NetworkAccessArgs(
        run, StackNames("dev"), "vpc-1", "10.0.0.0/16", "sg-shared", {}, False, "sg-lb"
    )
    group = alone(lambda: NetworkAccess("svc", args)).one(GROUP)
    found = [r.get("securityGroups") or r.get("cidrBlocks") for r in group.inputs["ingress"]]
    assert found == sources


@pytest.mark.parametrize(
    ("pattern", "prefix"), [("/*", "/"), ("/api/*", "/api/"), ("/v?/x", "/v"), ("*", "/")]
)
def test_urls_use_the_literal_head_of_a_path_pattern(pattern: str, prefix: str) -> None:
    assert routing.literal_prefix(pattern) == prefix


def test_the_api_rolls_back_on_alarms_over_its_own_target_group_and_scales_on_its_requests(
    stack: Rendered,
) -> None:
    """Whole stacks: the alarms a web service's deployments roll back on watch that service's
    target group on the stack's load balancer, and the request-count policy names the same pair
    (`ALBRequestCountPerTarget` label `app/<lb>/<id>/targetgroup/<tg>/<id>`)."""
    lb = stack.one(LB)
    service = stack.named("api-service").inputs
    (attachment,) = service["loadBalancers"]
    group = by_state(stack, TG, "arn", attachment["targetGroupArn"])
    suffixes = [group.state["arnSuffix"]]
    if "advancedConfiguration" in attachment:  # prod's canary api: the alarms watch both groups
        second = attachment["advancedConfiguration"]["alternateTargetGroupArn"]
        suffixes.append(by_state(stack, TG, "arn", second).state["arnSuffix"])
    dimensions = [{"LoadBalancer": lb.state["arnSuffix"], "TargetGroup": s} for s in suffixes]
    alarms = {
        a.inputs["name"]: a.inputs
        for a in stack.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
        if a.inputs["tags"].get("service") == "api"
    }
    deployment = service["alarms"]
    assert (deployment["enable"], deployment["rollback"]) == (True, True)
    assert sorted(deployment["alarmNames"]) == sorted(alarms)
    assert len(alarms) == 3  # 5xx rate, unhealthy hosts, p99 latency
    for alarm in alarms.values():
        watched = [
            q["metric"]["dimensions"] for q in alarm.get("metricQueries", []) if "metric" in q
        ]
        watched += [alarm["dimensions"]] if "dimensions" in alarm else []
        key = [sorted(d.items()) for d in watched]
        assert key and all(k in [sorted(d.items()) for d in dimensions] for k in key)
        # Two groups: every alarm watches both (the new revision is in either).
        assert len({str(k) for k in key}) == len(dimensions)
    assert service["deploymentCircuitBreaker"] == {"enable": True, "rollback": True}
    if stack.stack != "dev":
        return
    policies = [
        p.inputs["targetTrackingScalingPolicyConfiguration"]
        for p in stack.of_type("aws:appautoscaling/policy:Policy")
        if p.inputs["resourceId"]
        == f"service/{stack.one('aws:ecs/cluster:Cluster').inputs['name']}/api"
    ]
    by_metric = {p["predefinedMetricSpecification"]["predefinedMetricType"]: p for p in policies}
    requests = by_metric["ALBRequestCountPerTarget"]["predefinedMetricSpecification"]
    assert requests["resourceLabel"] == f"{lb.state['arnSuffix']}/{group.state['arnSuffix']}"
    assert "ECSServiceAverageCPUUtilization" in by_metric
