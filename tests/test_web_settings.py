"""`loadBalancer` and the web services' routes: every bad input is one line at its exact key,
all at once, before anything is registered; the limits are AWS's (botocore models, moto's copy
of the published TLS policies)."""

from __future__ import annotations

from typing import Any

import botocore.session
import pytest
from hypothesis import given
from hypothesis import strategies as st
from moto.elbv2.ssl_policies import SSL_POLICIES as PUBLISHED_POLICIES

from rules.naming import StackNames
from settings import ConfigErrors, web
from settings.keys import RUN
from settings.keys.web import SSL_POLICIES
from tests.conftest import GIT_ENV, render_stack

APP = {"context": "app"}
ADMIN: dict[str, Any] = {
    "name": "admin",
    "build": APP,
    "run": {"kind": "web", "port": 8081, "paths": ["/admin/*"]},
}
GOOD_CERT = "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-0a1b-0a1b-0a1b-0a1b2c3d4e5f"


def api(**run: Any) -> dict[str, Any]:
    return {"name": "api", "build": APP, "run": {"kind": "web", "port": 8080, **run}}


def problems(stack: str, overrides: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigErrors) as info:
        render_stack(stack, env=GIT_ENV, overrides=overrides)
    return [str(e) for e in info.value.errors]


def limits(service: str, shape: str) -> dict[str, Any]:
    """A shape's `min`/`max` in botocore's model of the service."""
    found = botocore.session.get_session().get_service_model(service).shape_for(shape)
    return dict(found.metadata)


@pytest.mark.parametrize(
    ("stack", "overrides", "key", "fragment"),
    [
        ("dev", {"services": [api(paths=["/a b"])]}, "services[0].run.paths[0]", "path pattern"),
        ("dev", {"services": [api(paths=["/" + "a" * 128])]}, "services[0].run.paths[0]", "128"),
        ("dev", {"services": [api(paths=["api/*"])]}, "services[0].run.paths[0]", "starts with /"),
        ("dev", {"services": [api(hosts=["a_b.example"])]}, "services[0].run.hosts[0]", "host"),
        (
            "dev",
            {"services": [api(paths=["/a", "/b", "/c"], hosts=["a.example", "b.example", "c.x"])]},
            "services[0].run'",
            "at most 5 condition values",
        ),
        (
            "dev",
            {"services": [api(paths=["/admin/*"]), ADMIN]},
            "services[1].run.paths'",
            "services[0] already has it",
        ),
        (
            "dev",
            {"services": [api(default=True), {**ADMIN, "run": {**ADMIN["run"], "default": True}}]},
            "services[1].run.default'",
            "services[0] is already the default",
        ),
        (
            "dev",
            {"services": [{"name": "w", "build": APP, "run": {"kind": "worker", "paths": ["/"]}}]},
            "services[0].run.paths'",
            "only a web service",
        ),
        ("dev", {"services": [api(deregistrationDelay=3601)]}, "deregistrationDelay'", "<= 3600"),
        (
            "dev",
            {"loadBalancer": {"certificateArn": GOOD_CERT.replace("us-east-1", "eu-west-1")}},
            "loadBalancer.certificateArn'",
            "region 'us-east-1'",
        ),
        (
            "dev",
            {"loadBalancer": {"certificateArn": GOOD_CERT.replace("aws:", "aws-cn:", 1)}},
            "loadBalancer.certificateArn'",
            "partition 'aws'",
        ),
        (
            "dev",
            {"loadBalancer": {"certificateArn": "arn:aws:iam::123456789012:server-certificate/x"}},
            "loadBalancer.certificateArn'",
            "certificate/<uuid>",
        ),
        (
            "dev",
            {"loadBalancer": {"domain": "api.example.com", "hostedZoneId": "z123"}},
            "loadBalancer.hostedZoneId'",
            "Z and 1 to 31",
        ),
        (
            "dev",
            {"loadBalancer": {"domain": "api.example.com"}},
            "loadBalancer.hostedZoneId'",
            "is required with domain",
        ),
        (
            "dev",
            {"loadBalancer": {"domain": "-bad-.example", "hostedZoneId": "Z123"}},
            "loadBalancer.domain'",
            "RFC 1123",
        ),
        ("dev", {"loadBalancer": {"allowedCidrs": ["10.0.0.1/16"]}}, "allowedCidrs[0]'", "host bits"),
        ("dev", {"loadBalancer": {"allowedCidrs": ["everyone"]}}, "allowedCidrs[0]'", "CIDR"),
        ("dev", {"loadBalancer": {"allowedCidrs": ["2001:DB8::/32"]}}, "allowedCidrs[0]'", "2001:db8::/32"),
        ("dev", {"loadBalancer": {"subnetIds": ["subnet-0123456789abcdef0"]}}, "subnetIds'", "two or more"),
        ("dev", {"loadBalancer": {"sslPolicy": "ELBSecurityPolicy-TLS13-1-2-2021-06"}}, "sslPolicy'", "only applies with HTTPS"),
        (
            "prod",
            {"loadBalancer": {"certificateArn": GOOD_CERT, "sslPolicy": "ELBSecurityPolicy-2016-08"}},
            "loadBalancer.sslPolicy'",
            "use one of ELBSecurityPolicy-TLS13-1-2-2021-06",
        ),
        ("prod", {"loadBalancer": {}}, "ecr-fargate:loadBalancer'", "HTTP only is not allowed in prod"),
        ("dev", {"loadBalancer": {"accessLogs": {"prefix": "AWSLogs/x"}}}, "accessLogs.prefix'", "AWSLogs"),
        ("dev", {"loadBalancer": {"accessLogs": {"bucket": "Logs"}}}, "accessLogs.bucket'", "S3 bucket"),
        ("dev", {"loadBalancer": {"scheme": "public"}}, "loadBalancer.scheme'", "internet-facing, internal"),
        ("dev", {"loadBalancer": {"idleTimeout": 0}}, "loadBalancer.idleTimeout'", ">= 1"),
        ("dev", {"loadBalancer": {"listeners": 2}}, "loadBalancer.listeners'", "unknown key"),
        (
            "dev",
            {"services": [{"name": "w", "build": APP, "run": {"kind": "worker"}}], "loadBalancer": {"scheme": "internal"}},
            "ecr-fargate:loadBalancer'",
            "only applies to web services",
        ),
    ],
)  # fmt: skip
def test_each_bad_input_is_one_line_at_its_key(
    stack: str, overrides: dict[str, Any], key: str, fragment: str
) -> None:
    found = problems(stack, overrides)
    matching = [p for p in found if key in p]
    assert len(matching) == 1, found
    assert fragment in matching[0]
    assert all("\n" not in p for p in found)


def test_every_problem_is_reported_at_once() -> None:
    found = problems(
        "prod",
        {
            "services": [api(paths=["/a b"], hosts=["bad_host"]), ADMIN],
            "loadBalancer": {
                "certificateArn": GOOD_CERT.replace("us-east-1", "us-west-2"),
                "hostedZoneId": "zone",
                "allowedCidrs": ["0.0.0.0/0", "nope"],
            },
        },
    )
    for key in (
        "services[0].run.paths[0]",
        "services[0].run.hosts[0]",
        "loadBalancer.certificateArn",
        "loadBalancer.hostedZoneId",
        "loadBalancer.allowedCidrs[1]",
    ):
        assert sum(f"{key}'" in p for p in found) >= 1, (key, found)


def test_dev_without_https_serves_http_with_a_warning() -> None:
    r = render_stack("dev", env=GIT_ENV)
    assert any("plain HTTP" in w and "loadBalancer" in w for w in r.warnings)


def test_routes_rank_by_specificity_then_order() -> None:
    routes = [
        (0, "site", web.WebRoute(("/*",), (), True, 30)),
        (1, "api", web.WebRoute(("/api/*",), (), False, 30)),
        (2, "admin", web.WebRoute(("/*",), ("admin.example.com",), False, 30)),
        (3, "deep", web.WebRoute(("/api/v2/*",), (), False, 30)),
    ]
    from settings.errors import Collector

    errors = Collector()
    ranked = web._priorities(errors, routes)
    assert errors.errors == []
    assert ranked == (("admin", 1), ("deep", 2), ("api", 3), ("site", 4))


@given(st.text(alphabet="abc/*?.-_~$@:+&'\"", min_size=1, max_size=140))
def test_path_patterns_are_refused_exactly_when_aws_would(pattern: str) -> None:
    from settings.errors import Collector
    from settings.reader import Obj

    errors = Collector()
    obj = Obj(errors, "services[0].run", {"paths": [pattern]}, RUN)
    route = web.load_route(errors, obj, "web")
    allowed = len(pattern) <= 128 and pattern[0] in "/*"
    assert (errors.errors == []) == allowed
    assert route is not None and route.paths == ((pattern,) if allowed else (web.CATCH_ALL,))


def test_limits_match_the_aws_models() -> None:
    assert limits("route53", "ResourceId")["max"] == 32  # Z + at most 31
    assert web.HOSTED_ZONE_ID.fullmatch("Z" + "A" * 31)
    assert not web.HOSTED_ZONE_ID.fullmatch("Z" + "A" * 32)
    assert limits("elbv2", "RulePriority")["max"] >= web.MAX_RULES
    from components.ecs import routing

    checks = routing.HEALTH_CHECK
    for field, shape in (
        ("interval", "HealthCheckIntervalSeconds"),
        ("timeout", "HealthCheckTimeoutSeconds"),
        ("healthy_threshold", "HealthCheckThresholdCount"),
        ("unhealthy_threshold", "HealthCheckThresholdCount"),
    ):
        value, bounds = getattr(checks, field), limits("elbv2", shape)
        assert isinstance(value, int)
        assert bounds["min"] <= value <= bounds["max"], field


def test_tls_policies_are_published_and_refuse_old_tls() -> None:
    for name in SSL_POLICIES:
        assert name in PUBLISHED_POLICIES, name
        protocols = set(PUBLISHED_POLICIES[name]["ssl_protocols"])
        assert protocols <= {"TLSv1.2", "TLSv1.3"}, name


def test_certificate_arns_are_checked_with_the_stack_partition_and_region() -> None:
    cn = StackNames("prod", "aws-cn", "cn-north-1")
    arn = GOOD_CERT.replace("arn:aws:acm:us-east-1", "arn:aws-cn:acm:cn-north-1")
    assert web.validate_certificate_arn(arn, cn) == arn
    with pytest.raises(ValueError, match="partition 'aws-cn'"):
        web.validate_certificate_arn(GOOD_CERT, cn)
