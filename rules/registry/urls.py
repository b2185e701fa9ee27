"""ECR private registry hosts in every partition, parsed and built exactly, and the login command.

Region patterns and IPv4 DNS suffixes come from botocore's partition data. What botocore does not
hold (it describes the ECR API, `api.ecr.*` / `ecr.*`, not the Docker registry `dkr` endpoints) is
tabled here with its sources:

- IPv4: `<account>.dkr.ecr.<region>.<dnsSuffix>`, e.g. `.amazonaws.com`, `.amazonaws.com.cn`
  (https://docs.aws.amazon.com/AmazonECR/latest/userguide/Registries.html).
- FIPS: `<account>.dkr.ecr-fips.<region>.amazonaws.com`, only where AWS runs one
  (https://docs.aws.amazon.com/general/latest/gr/ecr.html; botocore's endpoints.json lists the
  same regions as `api.ecr` `dkr-<region>` endpoints with a `fips` variant).
- Dual-stack (IPv4 and IPv6): `<account>.dkr-ecr[-fips].<region>.<suffix>`, where the suffix is
  the partition's botocore `dualStackDnsSuffix` with `on.` for `api.`: `on.aws` (commercial,
  GovCloud: https://docs.aws.amazon.com/AmazonECR/latest/userguide/ecr-requests.html and the
  General Reference above), `on.amazonwebservices.com.cn` (China: amazon-ecr-credential-helper
  PR #972, amazon-ecs-agent `ecs-agent/utils/uri/uri.go`), and the isolated partitions' forms
  the ECS agent lists in the same file and its test. For the EU sovereign cloud only one ECS
  agent comment exists (`dkr-ecr.eusc-de-east-1.amazonwebservices.eu`, without the `on.` every
  other form and botocore's `api.amazonwebservices.eu` imply), so no dual-stack host is accepted
  there until one is documented.
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

# The Docker registry's dual-stack suffix per partition (sources in the module docstring). A test
# checks each is botocore's `dualStackDnsSuffix` with `on.` for `api.`.
DUAL_STACK_SUFFIXES = {
    "aws": "on.aws",
    "aws-us-gov": "on.aws",
    "aws-cn": "on.amazonwebservices.com.cn",
    "aws-iso": "on.aws.ic.gov",
    "aws-iso-b": "on.aws.scloud",
    "aws-iso-e": "on.cloud-aws.adc-e.uk",
    "aws-iso-f": "on.aws.hci.ic.gov",
}
# Regions with a FIPS registry endpoint (General Reference, "Amazon ECR endpoints"; a test checks
# botocore's endpoints.json names the same `dkr-<region>` FIPS endpoints). A `-fips` host
# elsewhere does not resolve, so it is refused rather than deployed.
FIPS_REGIONS = frozenset(
    ("us-east-1", "us-east-2", "us-west-1", "us-west-2", "us-gov-east-1", "us-gov-west-1")
)

# The shape of every form above, anchored at both ends so look-alike suffixes fail; the suffix
# must then be the one the region's partition uses for that form (`_expected_suffix`).
ECR_HOST = re.compile(
    r"^(?P<registry_id>[0-9]{12})\.(?P<form>dkr\.ecr|dkr-ecr)(?P<fips>-fips)?\."
    r"(?P<region>[a-z0-9][a-z0-9-]*)\.(?P<suffix>[a-z0-9.-]+)$",
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
    if fips and region not in FIPS_REGIONS:
        raise ValueError(f"no FIPS ECR registry host is known in {region}")
    suffix = _expected_suffix(partition, dual_stack)
    if suffix is None:
        raise ValueError(f"no dual-stack ECR registry host is known in partition {partition.name}")
    form = "dkr-ecr" if dual_stack else "dkr.ecr"
    return f"{account_id}.{form}{'-fips' if fips else ''}.{region}.{suffix}"


def _expected_suffix(partition: Partition, dual_stack: bool) -> str | None:
    return partition.dual_stack_suffix if dual_stack else partition.dns_suffix


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
    return _parse_host(url, host)


def _parse_host(url: str, host: str) -> RegistryHost:
    """The host's form, then the one suffix the region's partition uses for that form."""
    match = ECR_HOST.match(host)
    if match is None:
        raise ValueError(
            f"{url!r} is not an ECR private registry host; expected "
            "<12-digit account>.dkr.ecr.<region>.amazonaws.com (or another partition's suffix)"
        )
    region, fips = match["region"], bool(match["fips"])
    partition = partition_for_region(region)
    dual_stack = match["form"] == "dkr-ecr"
    expected = _expected_suffix(partition, dual_stack)
    if match["suffix"] != expected:
        form = "the dual-stack dkr-ecr" if dual_stack else "the dkr.ecr"
        raise ValueError(
            f"{url!r} is not allowed; {form} host of region {region} ({partition.name}) ends in "
            f"{expected or '(none: no dual-stack host is documented there)'}"
        )
    if fips and region not in FIPS_REGIONS:
        raise ValueError(
            f"{url!r} is not allowed; ECR has FIPS registry hosts only in "
            f"{', '.join(sorted(FIPS_REGIONS))}"
        )
    return RegistryHost(match["registry_id"], region, fips, dual_stack, host)


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
