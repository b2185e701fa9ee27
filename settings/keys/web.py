"""Declarations of the stack's Application Load Balancer (`loadBalancer`)."""

from __future__ import annotations

from settings.keys.model import Computed, Env, Key, Section

SCHEMES = ("internet-facing", "internal")
# dualstack needs an IPv6 CIDR on the VPC and on every subnet: the default VPC has none.
IP_ADDRESS_TYPES = ("ipv4", "dualstack")
# The TLS 1.3 policies that refuse TLS 1.0 and 1.1 (Security Hub ELB.17 accepts these); the
# first is the console's default. The others in the published list allow TLS 1.0/1.1.
SSL_POLICIES = (
    "ELBSecurityPolicy-TLS13-1-2-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-PQ-2025-09",
    "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09",
    "ELBSecurityPolicy-TLS13-1-2-Ext1-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-Ext1-PQ-2025-09",
    "ELBSecurityPolicy-TLS13-1-2-Ext2-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-Ext2-PQ-2025-09",
    "ELBSecurityPolicy-TLS13-1-3-2021-06",
    "ELBSecurityPolicy-TLS13-1-3-PQ-2025-09",
)
# Idle timeout: 1 to 4000 seconds, 60 by default (ModifyLoadBalancerAttributes).
MAX_IDLE_TIMEOUT = 4000
# Each allowed CIDR is one inbound rule per listener port (80 and 443): within the default 60
# rules per security group.
MAX_ALLOWED_CIDRS = 30
CERTIFICATE = "arn:aws:acm:us-east-1:123456789012:certificate/01234567-89ab-cdef-0123-456789abcdef"

ACCESS_LOGS = Section(
    "loadBalancer.accessLogs",
    (
        Key(
            "bucket",
            "string",
            "An existing S3 bucket; default: the stack creates one.",
            Computed("a bucket the stack creates"),
            pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$",
            example="fixture-logs",
        ),
        Key("prefix", "string", "The key prefix in the bucket.", "", example="logs"),
    ),
    "Access logs, when given (even empty).",
)

LOAD_BALANCER = Section(
    "loadBalancer",
    (
        Key(
            "scheme",
            "string",
            "Who reaches it.",
            "internet-facing",
            choices=SCHEMES,
            example="internal",
        ),
        Key(
            "subnetIds",
            "list<string>",
            "Its subnets (two AZs or more); default: the tasks' subnets.",
            pattern=r"^subnet-[0-9a-f]{8,17}$",
            example=["subnet-0aaaaaaaaaaaaaaa1", "subnet-0aaaaaaaaaaaaaaa2"],
        ),
        Key(
            "allowedCidrs",
            "list<string>",
            "Who may reach the listeners (IPv4 and IPv6 blocks).",
            Computed("everyone when internet-facing; the VPC's range when internal"),
            maximum=MAX_ALLOWED_CIDRS,
            example=["203.0.113.0/24"],
        ),
        Key(
            "ipAddressType",
            "string",
            "dualstack needs IPv6 subnets.",
            "ipv4",
            choices=IP_ADDRESS_TYPES,
            example="dualstack",
        ),
        Key(
            "certificateArn",
            "string",
            "An ACM certificate in the stack's region: HTTPS.",
            pattern=r"^arn:[a-z-]+:acm:",
            example=CERTIFICATE,
        ),
        Key(
            "domain",
            "string",
            "HTTPS for this name: with `hostedZoneId` the stack requests the certificate and "
            "writes the alias records.",
            example="app.example.com",
        ),
        Key(
            "hostedZoneId",
            "string",
            "The Route 53 zone of `domain`.",
            pattern=r"^Z[A-Z0-9]{1,31}$",
            example="Z0123456789ABCDEFGHIJ",
        ),
        Key(
            "sslPolicy",
            "string",
            "HTTPS only: the TLS policy.",
            SSL_POLICIES[0],
            choices=SSL_POLICIES,
            example=SSL_POLICIES[8],
        ),
        Key(
            "deletionProtection",
            "boolean",
            "ELB deletion protection.",
            Env(False, True),
            example=True,
        ),
        Key(
            "dropInvalidHeaderFields",
            "boolean",
            "Drop invalid HTTP headers (Security Hub ELB.4).",
            True,
            example=False,
        ),
        Key(
            "idleTimeout",
            "integer",
            "Connection idle timeout, seconds.",
            60,
            minimum=1,
            maximum=MAX_IDLE_TIMEOUT,
            example=120,
        ),
        Key("accessLogs", "object", "Access logs to S3.", keys=ACCESS_LOGS),
    ),
    "The Application Load Balancer the web services share.",
)
