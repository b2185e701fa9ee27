"""The stack's Application Load Balancer (`loadBalancer`) and each `web` service's route on it
(`services[i].run.paths`, `hosts`, `default`, `deregistrationDelay`), validated at their keys.

Plain Python: every refusal names its key before any resource is registered. The limits are
AWS's, each cited where it is checked:
- listener rule conditions, priorities and quotas:
  https://docs.aws.amazon.com/elasticloadbalancing/latest/application/rule-condition-types.html
  https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-limits.html
- certificate ARNs (botocore's ArnParser), Route 53 hosted zone IDs (the Route 53 model's
  `ResourceId`, at most 32 characters): https://docs.aws.amazon.com/Route53/latest/APIReference/API_GetHostedZone.html
- TLS policies: https://docs.aws.amazon.com/elasticloadbalancing/latest/application/describe-ssl-policies.html
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Any

from botocore.utils import ArnParser, InvalidArnException

from rules.ecs import network
from rules.naming import StackNames
from settings.errors import Collector, key_path, show
from settings.keys import ACCESS_LOGS, LOAD_BALANCER
from settings.keys.run import ROUTE_KEYS
from settings.keys.web import MAX_ALLOWED_CIDRS
from settings.reader import Obj

# Rule conditions: each value at most 128 characters; path patterns of A-Z a-z 0-9 _ - . $ / ~
# " ' @ : + & and the wildcards * and ?; host headers of A-Z a-z 0-9 - . and the wildcards.
MAX_CONDITION_VALUE = 128
PATH_PATTERN = re.compile(r"[/*][A-Za-z0-9_\-.$/~\"'@:+&*?]*", re.ASCII)
HOST_PATTERN = re.compile(r"[A-Za-z0-9\-.*?]+", re.ASCII)
PATH_CHARS = (
    "starts with / or *, at most 128 characters of A-Z a-z 0-9 _ - . $ / ~ \" ' @ : + & "
    "and the wildcards * and ?"
)
HOST_CHARS = "at most 128 characters of A-Z a-z 0-9 - . and the wildcards * and ?"
# "Condition values per rule: 5" and "Rules per Application Load Balancer: 100" (defaults not
# counted); a stack that deploys everywhere keeps to the default quotas.
MAX_CONDITION_VALUES = 5
MAX_RULES = 100
# Every route without paths or hosts gets this one: the whole site.
CATCH_ALL = "/*"
HOSTED_ZONE_ID = re.compile(r"Z[A-Z0-9]{1,31}", re.ASCII)
# RFC 1123 host names: labels of letters, digits and inner hyphens, at most 63 each, 253 in all.
DOMAIN_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?", re.ASCII)
MAX_DOMAIN = 253
CERTIFICATE_ID = re.compile(r"certificate/[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}", re.ASCII)
# S3 bucket names: https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", re.ASCII)


@dataclass(frozen=True)
class WebRoute:
    """Where the load balancer sends a `web` service's requests."""

    paths: tuple[str, ...]  # path patterns; CATCH_ALL when neither paths nor hosts are given
    hosts: tuple[str, ...]  # host headers (empty: any host)
    default: bool  # the listener's default action forwards here instead of answering 404
    deregistration_delay: int

    @property
    def key(self) -> tuple[frozenset[str], frozenset[str]]:
        """Two routes with the same hosts and paths match the same requests."""
        return frozenset(self.hosts), frozenset(self.paths)


@dataclass(frozen=True)
class AccessLogs:
    bucket: str | None  # None: the stack creates the bucket (StackNames.access_logs_bucket)
    prefix: str


@dataclass(frozen=True)
class LoadBalancerSettings:
    internal: bool
    subnet_ids: tuple[str, ...]  # empty: the tasks' subnets (network.subnetIds or default VPC)
    allowed_cidrs: tuple[str, ...]  # IPv4 and IPv6; empty: the VPC's IPv4 CIDR (internal)
    ip_address_type: str
    certificate_arn: str | None
    domain: str | None
    hosted_zone_id: str | None
    ssl_policy: str
    deletion_protection: bool
    drop_invalid_header_fields: bool
    idle_timeout: int
    access_logs: AccessLogs | None
    # (service, listener rule priority), most specific route first.
    priorities: tuple[tuple[str, int], ...]

    @property
    def https(self) -> bool:
        return self.certificate_arn is not None or self.domain is not None

    @property
    def requests_certificate(self) -> bool:
        """`domain` + `hostedZoneId` without `certificateArn`: the stack asks ACM for one."""
        return self.certificate_arn is None and self.domain is not None

    @property
    def ports(self) -> tuple[int, ...]:
        """The listener ports: 80 redirects to 443 when HTTPS is on."""
        return (80, 443) if self.https else (80,)

    def priority(self, service: str) -> int:
        return dict(self.priorities)[service]


def load_route(errors: Collector, obj: Obj, kind: str) -> WebRoute | None:
    """A web service's route from its run; the keys are refused on any other kind."""
    if kind != "web":
        for key in ROUTE_KEYS:
            if obj.has(key):
                errors.add(
                    obj.at(key), f"is not allowed for a {kind}; only a web service has a route"
                )
        return None
    paths = _values(errors, obj, "paths", PATH_PATTERN, "path pattern", PATH_CHARS)
    hosts = _values(errors, obj, "hosts", HOST_PATTERN, "host header", HOST_CHARS)
    if len(paths) + len(hosts) > MAX_CONDITION_VALUES:
        errors.add(
            obj.path,
            f"{len(paths) + len(hosts)} paths and hosts is not allowed; a listener rule takes at "
            f"most {MAX_CONDITION_VALUES} condition values",
        )
    delay = obj.number("deregistrationDelay")
    if not paths and not hosts:
        paths = (CATCH_ALL,)
    return WebRoute(paths, hosts, obj.flag("default"), delay)


def _values(
    errors: Collector, obj: Obj, key: str, pattern: re.Pattern[str], what: str, allowed: str
) -> tuple[str, ...]:
    """The condition values at `key`, each checked; a refused one is dropped."""
    good: list[str] = []
    for i, value in enumerate(obj.str_list(key)):
        at = key_path(obj.path, key, i)
        if len(value) > MAX_CONDITION_VALUE or not pattern.fullmatch(value):
            errors.add(at, f"{show(value)} is not allowed; a {what} {allowed}")
        elif value in good:
            errors.add(at, f"{show(value)} is not allowed; it is already listed")
        else:
            good.append(value)
    return tuple(good)


def load_load_balancer(
    errors: Collector,
    value: Any,
    *,
    routes: list[tuple[int, str, WebRoute]],
    prod: bool,
    names: StackNames,
    given_subnets: bool,
    warnings: list[str],
) -> LoadBalancerSettings | None:
    """The stack's load balancer, when it has a web service; `routes` are (index, service,
    route) of the web services."""
    obj = Obj(errors, "loadBalancer", value, LOAD_BALANCER, environment="prod" if prod else "dev")
    if not routes:
        if obj.value:
            errors.add("loadBalancer", "only applies to web services: give a service kind: web")
        return None
    internal = obj.text("scheme") == "internal"
    subnets = _subnets(errors, obj)
    if not subnets and given_subnets and not internal:
        warnings.append(
            "loadBalancer.subnetIds is not given: the internet-facing load balancer uses "
            "network.subnetIds; if those are private, give public subnets in loadBalancer.subnetIds"
        )
    certificate, domain, zone = _https(errors, obj, names)
    if certificate is None and domain is None:
        _http_only(errors, obj, prod, warnings)
    cidrs = _allowed_cidrs(errors, obj, internal)
    return LoadBalancerSettings(
        internal=internal,
        subnet_ids=subnets,
        allowed_cidrs=cidrs,
        ip_address_type=obj.text("ipAddressType"),
        certificate_arn=certificate,
        domain=domain,
        hosted_zone_id=zone,
        ssl_policy=obj.text("sslPolicy"),
        deletion_protection=obj.flag("deletionProtection"),
        drop_invalid_header_fields=obj.flag("dropInvalidHeaderFields"),
        idle_timeout=obj.number("idleTimeout"),
        access_logs=_access_logs(errors, obj),
        priorities=_priorities(errors, routes),
    )


def _http_only(errors: Collector, obj: Obj, prod: bool, warnings: list[str]) -> None:
    """No certificate and no domain: HTTP on the load balancer's own name, never in prod."""
    if prod:
        errors.add(
            "loadBalancer",
            "HTTP only is not allowed in prod; give loadBalancer.certificateArn, or "
            "loadBalancer.domain with loadBalancer.hostedZoneId",
        )
    else:
        warnings.append(
            "loadBalancer: no certificateArn or domain, so web services are served over plain "
            "HTTP on the load balancer's DNS name (fine for dev; prod refuses it)"
        )
    if obj.has("sslPolicy"):
        errors.add(obj.at("sslPolicy"), "only applies with HTTPS: give certificateArn or domain")


def _subnets(errors: Collector, obj: Obj) -> tuple[str, ...]:
    """An Application Load Balancer needs subnets in at least two Availability Zones."""
    subnets = obj.str_list("subnetIds")
    whole, items = network.list_problems(
        subnets, network.validate_subnet_id, network.MAX_SUBNETS, "subnets"
    )
    if whole is None and len(subnets) == 1:
        whole = "1 subnet is not allowed; a load balancer needs two or more (in two AZs)"
    if whole is not None:
        errors.add(obj.at("subnetIds"), whole)
    for i, detail in items:
        errors.add(key_path(obj.path, "subnetIds", i), detail)
    return subnets


def _allowed_cidrs(errors: Collector, obj: Obj, internal: bool) -> tuple[str, ...]:
    """Who may reach the listeners: the whole internet by default when internet-facing (IPv6
    rules are harmless on an IPv4 load balancer), the VPC's own range when internal."""
    default = () if internal else ("0.0.0.0/0", "::/0")
    cidrs = obj.str_list("allowedCidrs") if obj.has("allowedCidrs") else default
    whole, items = network.list_problems(cidrs, validate_any_cidr, MAX_ALLOWED_CIDRS, "CIDR blocks")
    if whole is not None:
        errors.add(obj.at("allowedCidrs"), whole)
    for i, detail in items:
        errors.add(key_path(obj.path, "allowedCidrs", i), detail)
    return cidrs


def validate_any_cidr(value: str) -> str:
    """An IPv4 or IPv6 CIDR block, host bits zero, in its canonical spelling."""
    try:
        block = ipaddress.ip_network(value, strict=True)
    except ValueError as exc:
        raise ValueError(
            f"{value!r} is not allowed; expected an IPv4 or IPv6 CIDR block such as "
            f"203.0.113.0/24 or 2001:db8::/32 ({exc})"
        ) from None
    if str(block) != value:
        raise ValueError(f"{value!r} is not allowed; write it as {str(block)!r}")
    return value


def is_ipv6(cidr: str) -> bool:
    return ipaddress.ip_network(cidr).version == 6


def _https(
    errors: Collector, obj: Obj, names: StackNames
) -> tuple[str | None, str | None, str | None]:
    """(certificateArn, domain, hostedZoneId): each checked, and in a combination that works."""
    certificate = obj.string("certificateArn")
    domain = obj.string("domain")
    zone = obj.string("hostedZoneId")
    if certificate is not None:
        with errors.guard(obj.at("certificateArn")):
            certificate = validate_certificate_arn(certificate, names)
    if domain is not None and not valid_domain(domain):
        errors.add(
            obj.at("domain"),
            f"{show(domain)} is not allowed; a DNS name (RFC 1123) of lowercase labels of letters, "
            f"digits and inner hyphens, at most 63 characters each and {MAX_DOMAIN} in all",
        )
    if zone is not None and not HOSTED_ZONE_ID.fullmatch(zone):
        errors.add(
            obj.at("hostedZoneId"),
            f"{show(zone)} is not allowed; a Route 53 hosted zone ID is Z and 1 to 31 uppercase "
            "letters or digits (e.g. Z0123456789ABCDEFGHIJ)",
        )
    if zone is not None and domain is None:
        errors.add(obj.at("hostedZoneId"), "only applies with domain: give loadBalancer.domain")
    if domain is not None and zone is None and certificate is None:
        errors.add(
            obj.at("hostedZoneId"),
            "is required with domain: the stack validates the certificate and writes the alias "
            "records in that zone (or give certificateArn and manage DNS yourself)",
        )
    return certificate, domain, zone


def valid_domain(domain: str) -> bool:
    labels = domain.split(".")
    return (
        len(domain) <= MAX_DOMAIN
        and len(labels) >= 2
        and all(DOMAIN_LABEL.fullmatch(label) for label in labels)
    )


def validate_certificate_arn(arn: str, names: StackNames) -> str:
    """An ACM certificate in the stack's own partition and region (a listener can use no other)."""
    shape = "arn:<partition>:acm:<region>:<account>:certificate/<uuid>"
    try:
        parts = ArnParser().parse_arn(arn)
    except InvalidArnException:
        raise ValueError(f"{show(arn)} is not allowed; expected {shape}") from None
    if parts["service"] != "acm" or not CERTIFICATE_ID.fullmatch(parts["resource"]):
        raise ValueError(f"{show(arn)} is not allowed; expected {shape}")
    if not re.fullmatch(r"[0-9]{12}", parts["account"]):
        raise ValueError(f"{show(arn)} is not allowed; the account is 12 digits")
    if parts["partition"] != names.partition or parts["region"] != names.region:
        raise ValueError(
            f"{show(arn)} is not allowed; the certificate must be in the stack's partition "
            f"{names.partition!r} and region {names.region!r} (ACM certificates are regional)"
        )
    return arn


def _access_logs(errors: Collector, obj: Obj) -> AccessLogs | None:
    """Access logs when configured: to a given bucket, or to one the stack creates."""
    if not obj.has("accessLogs"):
        return None
    logs = Obj(errors, obj.at("accessLogs"), obj.raw("accessLogs"), ACCESS_LOGS)
    bucket = logs.string("bucket")
    prefix = logs.text("prefix")
    if bucket is not None and not BUCKET_NAME.fullmatch(bucket):
        errors.add(
            logs.at("bucket"),
            f"{show(bucket)} is not allowed; an S3 bucket name is 3 to 63 lowercase letters, "
            "digits, dots and hyphens, starting and ending with a letter or digit",
        )
    # "The prefix that you specify must not include AWSLogs", nor start or end with a slash.
    if "AWSLogs" in prefix or prefix.startswith("/") or prefix.endswith("/"):
        errors.add(
            logs.at("prefix"),
            f"{show(prefix)} is not allowed; a prefix without AWSLogs and without a leading or "
            "trailing slash",
        )
    return AccessLogs(bucket, prefix)


def specificity(route: WebRoute) -> tuple[int, int]:
    """Host rules first, then the longest literal path (what precedes the first wildcard)."""
    literal = max(len(re.split(r"[*?]", p)[0]) for p in route.paths) if route.paths else 0
    return (0 if route.hosts else 1, -literal)


def _priorities(
    errors: Collector, routes: list[tuple[int, str, WebRoute]]
) -> tuple[tuple[str, int], ...]:
    """Rule priorities: by specificity, then by the services' order; 1, 2, 3, ... Two services
    may not share a route, nor both be the default."""
    seen: dict[tuple[frozenset[str], frozenset[str]], int] = {}
    default: int | None = None
    for i, _, route in routes:
        if route.key in seen:
            errors.add(
                f"services[{i}].run.paths",
                f"the route (hosts {sorted(route.hosts)}, paths {sorted(route.paths)}) is not "
                f"allowed; services[{seen[route.key]}] already has it",
            )
        seen.setdefault(route.key, i)
        if route.default and default is not None:
            errors.add(
                f"services[{i}].run.default",
                f"true is not allowed; services[{default}] is already the default",
            )
        elif route.default:
            default = i
    if len(routes) > MAX_RULES:
        errors.add("services", f"{len(routes)} web services is not allowed; at most {MAX_RULES}")
    ranked = sorted(routes, key=lambda r: (specificity(r[2]), r[0]))
    return tuple((name, rank + 1) for rank, (_, name, _) in enumerate(ranked))
