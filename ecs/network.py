"""Network identifiers as EC2 issues them, checked before a service is created with them."""

from __future__ import annotations

import ipaddress
import re

_SUBNET = re.compile(r"subnet-(?:[0-9a-f]{8}|[0-9a-f]{17})", re.ASCII)
_GROUP = re.compile(r"sg-(?:[0-9a-f]{8}|[0-9a-f]{17})", re.ASCII)


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
    try:
        return str(ipaddress.ip_network(value, strict=True))
    except ValueError as exc:
        raise ValueError(
            f"{value!r} is not allowed; expected a CIDR block such as 10.0.0.0/16 ({exc})"
        ) from None
