"""ECR private registry hosts in every partition, parsed and built exactly, and the login command.

Region patterns and DNS suffixes come from botocore's own partition data; only the Docker
registry's dual-stack suffixes are ECR-specific (AWS's credential helper is the source).
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from functools import cache
from urllib.parse import urlsplit

from botocore.loaders import Loader
from botocore.utils import ArnParser

from rules import naming

# Docker registry dual-stack hosts (`<id>.dkr-ecr.<region>.<suffix>`); no form is known elsewhere.
DUAL_STACK_SUFFIXES = {
    "aws": "on.aws",
    "aws-us-gov": "on.aws",
    "aws-cn": "on.amazonwebservices.com.cn",
}

# amazon-ecr-credential-helper's `ecrPattern`, anchored at both ends, so look-alike suffixes fail.
ECR_HOST = re.compile(
    r"^(?P<registry_id>[0-9]{12})\.dkr(?P<sep>[.\-])ecr(?P<fips>-fips)?\."
    r"(?P<region>[a-zA-Z0-9][a-zA-Z0-9-_]*)\."
    r"(?P<suffix>amazonaws\.(?:com(?:\.cn)?|eu)|on\.(?:aws|amazonwebservices\.com\.cn)|"
    r"sc2s\.sgov\.gov|c2s\.ic\.gov|cloud\.adc-e\.uk|csp\.hci\.ic\.gov)$",
    re.ASCII,
)
PUBLIC_HOSTS = ("public.ecr.aws", "ecr-public.aws.com")


ACCOUNT_ID = re.compile(r"[0-9]{12}", re.ASCII)


def is_account_id(value: object) -> bool:
    """Exactly 12 ASCII digits: `str.isdigit()` and `\\d` also accept other scripts' digits."""
    return isinstance(value, str) and ACCOUNT_ID.fullmatch(value) is not None


@dataclass(frozen=True)
class Partition:
    name: str
    dns_suffix: str
    region_regex: str

    @property
    def dual_stack_suffix(self) -> str | None:
        return DUAL_STACK_SUFFIXES.get(self.name)


@dataclass(frozen=True)
class RegistryHost:
    registry_id: str
    region: str
    fips: bool
    dual_stack: bool
    host: str

    @property
    def partition(self) -> Partition:
        return partition_for_region(self.region)


@cache
def partitions() -> tuple[Partition, ...]:
    data = Loader().load_data("partitions")
    return tuple(
        Partition(p["id"], p["outputs"]["dnsSuffix"], p["regionRegex"]) for p in data["partitions"]
    )


def partition_for_region(region: str) -> Partition:
    """The partition whose region pattern the whole name matches (ASCII only, nothing trailing).

    botocore's patterns end in `$`, which `re.match` lets match before a trailing newline:
    `fullmatch` does not, so `"us-east-1\n"` is refused rather than deployed to.
    """
    for partition in partitions():
        if isinstance(region, str) and re.fullmatch(partition.region_regex, region, re.ASCII):
            return partition
    raise ValueError(
        f"{region!r} is not a region of any AWS partition "
        f"({', '.join(p.name for p in partitions())}); expected a form like us-east-1"
    )


def validate_region(region: str) -> str:
    partition_for_region(region)
    return region


def registry_host(
    account_id: str, region: str, *, dual_stack: bool = False, fips: bool = False
) -> str:
    """`<account>.dkr.ecr[-fips].<region>.<suffix>`, or the dual-stack `dkr-ecr` form."""
    if not is_account_id(account_id):
        raise ValueError(f"{account_id!r} is not allowed; an AWS account ID is 12 digits")
    partition = partition_for_region(region)
    marker = "-fips" if fips else ""
    if not dual_stack:
        return f"{account_id}.dkr.ecr{marker}.{region}.{partition.dns_suffix}"
    suffix = partition.dual_stack_suffix
    if suffix is None:
        raise ValueError(f"no dual-stack ECR registry host is known in partition {partition.name}")
    return f"{account_id}.dkr-ecr{marker}.{region}.{suffix}"


def parse_registry_url(url: str) -> RegistryHost:
    """A bare host or a URL with or without a path; anything but an ECR private registry is refused."""
    text = url.strip()
    if "://" in text:
        parts = urlsplit(text)
        if parts.scheme not in ("https", "http"):
            raise ValueError(f"{url!r} is not an ECR registry URL; expected https://HOST")
        if parts.username or parts.password or parts.port or parts.query or parts.fragment:
            raise ValueError(
                f"{url!r} is not allowed; give the registry host without port, user or query"
            )
        host = parts.hostname or ""
    else:
        host, _, _ = text.partition("/")
        if ":" in host or "@" in host:
            raise ValueError(f"{url!r} is not allowed; give the registry host without port or user")
    host = host.lower()
    if host in PUBLIC_HOSTS:
        raise ValueError(f"{url!r} is ECR Public, not a private registry")
    match = ECR_HOST.match(host)
    if match is None:
        raise ValueError(
            f"{url!r} is not an ECR private registry host; expected "
            "<12-digit account>.dkr.ecr.<region>.amazonaws.com (or another partition's suffix)"
        )
    region = match["region"]
    partition = partition_for_region(region)
    dual_stack = match["sep"] == "-"
    suffix = match["suffix"]
    # The credential helper accepts any suffix with any region; require the pair to exist.
    expected = partition.dual_stack_suffix if dual_stack else partition.dns_suffix
    if suffix != expected:
        raise ValueError(
            f"{url!r} is not allowed; region {region} ({partition.name}) uses the suffix "
            f"{expected or '(no dual-stack form)'}"
        )
    return RegistryHost(match["registry_id"], region, bool(match["fips"]), dual_stack, host)


def login_command(registry_host: str) -> str:
    """The command `pulumi stack output ecrLoginCommand | bash` runs; the region comes from the host."""
    parsed = parse_registry_url(registry_host)
    return (
        f"aws ecr get-login-password --region {shlex.quote(parsed.region)} | "
        f"docker login --username AWS --password-stdin {shlex.quote(parsed.host)}"
    )


def repository_arn(partition: str, region: str, account: str, name: str) -> str:
    """The repository `name` of the registry a parsed URL names (`naming.repository_arn`)."""
    return naming.repository_arn(partition, region, account, name)


def parse_repository_arn(arn: str) -> tuple[str, str, str, str]:
    parts = ArnParser().parse_arn(arn)
    if parts["service"] != "ecr" or not parts["resource"].startswith("repository/"):
        raise ValueError(f"{arn!r} is not an ECR repository ARN")
    name = parts["resource"].removeprefix("repository/")
    return parts["partition"], parts["region"], parts["account"], name
