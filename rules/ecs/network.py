"""Network identifiers as EC2 issues them, and the counts ECS and VPC quotas allow, checked before a
service is created with them."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Sequence

_SUBNET = re.compile(r"subnet-(?:[0-9a-f]{8}|[0-9a-f]{17})", re.ASCII)
_GROUP = re.compile(r"sg-(?:[0-9a-f]{8}|[0-9a-f]{17})", re.ASCII)
# The ECS model's AwsVpcConfiguration: "There's a limit of 16 subnets" and "a limit of 5 security
# groups" (tests/test_container_validation.py reads both sentences from botocore).
MAX_SUBNETS = 16
MAX_SECURITY_GROUPS = 5
# A web service's group has three inbound rules for its port: one from the stack's services group,
# one from the load balancer's group, and one with an entry per CIDR;
# each entry counts as a rule against "Inbound or outbound rules per security group", 60 by default
# (https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html#vpc-limits-security-groups).
# The quota can be raised, but a stack that deploys everywhere keeps to the default.
MAX_INGRESS_CIDRS = 60 - 2


def validate_subnet_id(value: str) -> str:
    if not _SUBNET.fullmatch(value):
        raise ValueError(f"{value!r} is not allowed; a subnet ID is subnet- and 8 or 17 hex digits")
    return value


def validate_security_group_id(value: str) -> str:
    if not _GROUP.fullmatch(value):
        raise ValueError(
            f"{value!r} is not allowed; a security group ID is sg- and 8 or 17 hex digits"
        )
    return value


def validate_cidr(value: str) -> str:
    """An IPv4 CIDR block in its canonical spelling: the field feeds IPv4 `cidr_blocks` only."""
    try:
        network = ipaddress.IPv4Network(value, strict=True)
    except ValueError as exc:
        if _is_ipv6(value):
            raise ValueError(
                f"{value!r} is not allowed; this field takes IPv4 blocks only (it feeds the "
                "security group's IPv4 cidr_blocks)"
            ) from None
        raise ValueError(
            f"{value!r} is not allowed; expected an IPv4 CIDR block such as 10.0.0.0/16 ({exc})"
        ) from None
    if str(network) != value:
        raise ValueError(f"{value!r} is not allowed; write it as {str(network)!r}")
    return value


def _is_ipv6(value: str) -> bool:
    try:
        ipaddress.IPv6Network(value, strict=False)
    except ValueError:
        return False
    return True


def list_problems(
    values: Sequence[str], validate: Callable[[str], str], limit: int, what: str
) -> tuple[str | None, list[tuple[int, str]]]:
    """(a problem with the list as a whole, problems by index): each item valid, once, within `limit`."""
    whole = None
    if len(values) > limit:
        whole = f"{len(values)} {what} is not allowed; at most {limit}"
    items: list[tuple[int, str]] = []
    seen: dict[str, int] = {}
    for i, value in enumerate(values):
        try:
            validate(value)
        except ValueError as exc:
            items.append((i, str(exc)))
            continue
        if value in seen:
            items.append((i, f"{value!r} is not allowed; it is already listed at [{seen[value]}]"))
        seen.setdefault(value, i)
    return whole, items
