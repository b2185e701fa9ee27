"""Pull-through cache: the upstream catalogue, rule validation, credentials, and URI rewriting.

`python -m cli.cache IMAGE...` prints the cache URI for each upstream reference.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rules import naming
from rules.naming import credential_secret_name as credential_secret_name
from rules.registry import urls
from rules.registry.access import validate_role_arn
from rules.registry.reference import DEFAULT_DOMAIN, parse_image_reference

# What ECR's creation-template role does when it creates a cached (or replicated) repository with
# tags and KMS encryption; the role's policy and the stack roles' permissions boundary both use it.
# https://docs.aws.amazon.com/AmazonECR/latest/userguide/repository-creation-templates.html
TEMPLATE_ROLE_ACTIONS = ("ecr:CreateRepository", "ecr:ReplicateImage", "ecr:TagResource")
TEMPLATE_KMS_ACTIONS = ("kms:CreateGrant", "kms:DescribeKey", "kms:RetireGrant")
MAX_RULES = 50  # "Pull through cache rules per registry", not adjustable
# The API's PullThroughCacheRuleRepositoryPrefix pattern.
PREFIX = re.compile(
    r"^([a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*\/?|ROOT)$", re.ASCII
)
CREDENTIAL_ARN = re.compile(
    r"^arn:aws(-\w+)*:secretsmanager:[a-zA-Z0-9-:]+:secret:ecr\-pullthroughcache\/[a-zA-Z0-9\/_+=.@-]+$",
    re.ASCII,
)
AZURE_NAME = re.compile(r"[a-zA-Z0-9]{5,50}", re.ASCII)
# The Regions where AWS says pull-through cache is not offered.
UNSUPPORTED_REGIONS = ("cn-north-1", "cn-northwest-1", "us-gov-east-1", "us-gov-west-1")
# Keys that only one upstream takes.
ONLY_FOR = (
    ("azureRegistryName", "azure-container-registry"),
    ("accountId", "ecr"),
    ("region", "ecr"),
    ("upstreamRepositoryPrefix", "ecr"),
    ("customRoleArn", "ecr"),
)
RULE_KEYS = (
    "upstream",
    "prefix",
    "azureRegistryName",
    "accountId",
    "region",
    "upstreamRepositoryPrefix",
    "customRoleArn",
    "credentialArn",
)


@dataclass(frozen=True)
class Upstream:
    name: str
    default_prefix: str
    url: str | None  # None: built from parameters (Azure, ECR)
    needs_credentials: bool


UPSTREAMS: dict[str, Upstream] = {
    u.name: u
    for u in (
        Upstream("ecr-public", "ecr-public", "public.ecr.aws", False),
        Upstream("k8s", "kubernetes", "registry.k8s.io", False),
        Upstream("quay", "quay", "quay.io", False),
        Upstream("docker-hub", "docker-hub", "registry-1.docker.io", True),
        Upstream("github-container-registry", "github", "ghcr.io", True),
        Upstream("gitlab-container-registry", "gitlab", "registry.gitlab.com", True),
        Upstream("azure-container-registry", "azure", None, True),
        Upstream("chainguard", "chainguard", "cgr.dev", True),
        Upstream("ecr", "ecr", None, False),
    )
}


@dataclass(frozen=True)
class CacheRule:
    upstream: str
    prefix: str
    upstream_url: str
    needs_credentials: bool
    credential_arn: str | None = None
    custom_role_arn: str | None = None
    upstream_repository_prefix: str | None = None

    @property
    def reference_host(self) -> str:
        """The registry a Docker reference names for this upstream (Docker Hub is `docker.io`)."""
        return DEFAULT_DOMAIN if self.upstream == "docker-hub" else self.upstream_url


class CacheRuleError(ValueError):
    def __init__(self, path: str, detail: str) -> None:
        self.path = path
        self.detail = detail
        super().__init__(detail)


class CacheRuleErrors(ValueError):
    """Every problem of every rule, each a `CacheRuleError` whose path is relative to the list."""

    def __init__(self, problems: Sequence[CacheRuleError]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(f"{p.path}: {p.detail}" for p in self.problems))


def _shown(value: Any) -> str:
    """A string as itself (quoted, escaped); anything else by its type, which is always printable."""
    if isinstance(value, str):
        return repr(value)
    kinds: tuple[tuple[type, str], ...] = (
        (bool, "a boolean"),
        (int, "an integer"),
        (float, "a number"),
        (list, "a list"),
        (dict, "an object"),
        (type(None), "null"),
    )
    return next((k for t, k in kinds if isinstance(value, t)), f"a {type(value).__name__}")


def validate_cache_prefix(prefix: str) -> str:
    if not isinstance(prefix, str) or not 2 <= len(prefix) <= 30 or not PREFIX.fullmatch(prefix):
        raise ValueError(
            f"{prefix!r} is not allowed; a cache prefix is ROOT or 2 to 30 characters of lowercase "
            "'/'-separated components joined by '.', '_', '__' or '-'"
        )
    return prefix


def validate_credential_arn(arn: str) -> str:
    if not isinstance(arn, str) or not 50 <= len(arn) <= 612 or not CREDENTIAL_ARN.fullmatch(arn):
        raise ValueError(
            f"{arn!r} is not allowed; expected a Secrets Manager ARN of a secret named "
            "ecr-pullthroughcache/... (50 to 612 characters)"
        )
    return arn


def credential_secret_string(username: str, access_token: str) -> str:
    return json.dumps({"username": username, "accessToken": access_token})


def validate_cache_rules(
    items: Sequence[Any], *, region: str, partition: str | None = None
) -> list[CacheRule]:
    """The rules, or `CacheRuleErrors` with every problem found (not just the first)."""
    problems: list[CacheRuleError] = []
    if items and region in UNSUPPORTED_REGIONS:
        others = ", ".join(r for r in UNSUPPORTED_REGIONS if r != region)
        problems.append(
            CacheRuleError("", f"pull-through cache is not offered in {region} (nor {others})")
        )
    if len(items) > MAX_RULES:
        problems.append(
            CacheRuleError(
                "", f"{len(items)} rules is not allowed; a registry holds at most {MAX_RULES}"
            )
        )
    rules: list[CacheRule] = []
    seen: dict[str, int] = {}
    for i, item in enumerate(items):
        rule = _Rule(i, item, (region, partition), problems).check()
        if rule is None:
            continue
        if rule.prefix in seen:
            problems.append(
                CacheRuleError(
                    f"[{i}].prefix",
                    f"{rule.prefix!r} is not allowed; pullThroughCache[{seen[rule.prefix]}] "
                    "uses it and a prefix identifies one rule",
                )
            )
        seen.setdefault(rule.prefix, i)
        rules.append(rule)
    if problems:
        raise CacheRuleErrors(problems)
    return rules


class _Rule:
    """One rule's checks; each field is checked on its own so that every problem is reported."""

    def __init__(
        self,
        index: int,
        item: Any,
        home: tuple[str, str | None],
        problems: list[CacheRuleError],
    ) -> None:
        self.at = f"[{index}]"
        self.item = item
        self.region, self.partition = home  # the stack's region and partition (None: unknown)
        self.problems = problems

    def fail(self, key: str, detail: str) -> None:
        self.problems.append(CacheRuleError(f"{self.at}.{key}" if key else self.at, detail))

    def text(self, key: str) -> str | None:
        value = self.item.get(key)
        if value is not None and not isinstance(value, str):
            self.fail(key, f"{_shown(value)} is not allowed; expected a string")
            return None
        return value

    def checked(self, key: str, validate: Callable[[str], str]) -> str | None:
        value = self.text(key)
        if value is not None:
            try:
                validate(value)
            except ValueError as exc:
                self.fail(key, str(exc))
                return None
        return value

    def check(self) -> CacheRule | None:
        item = self.item
        if not isinstance(item, Mapping):
            self.fail(
                "", f"{_shown(item)} is not allowed; a rule is an object such as {{upstream: quay}}"
            )
            return None
        before = len(self.problems)
        for key in item:
            if not isinstance(key, str) or key not in RULE_KEYS:
                self.fail(
                    str(key) if isinstance(key, str) else f"[{_shown(key)}]",
                    f"unknown key {_shown(key)}; allowed keys are {', '.join(RULE_KEYS)}",
                )
        name = item.get("upstream")
        if name is None:
            self.fail("upstream", f"is required; use one of {', '.join(UPSTREAMS)}")
            return None
        if not isinstance(name, str) or name not in UPSTREAMS:
            self.fail(
                "upstream", f"{_shown(name)} is not allowed; use one of {', '.join(UPSTREAMS)}"
            )
            return None
        upstream = UPSTREAMS[name]
        for key, allowed in ONLY_FOR:
            if key in item and name != allowed:
                self.fail(key, f"is only allowed with upstream {allowed}")
        prefix = self.checked("prefix", validate_cache_prefix) or upstream.default_prefix
        url = self._url(upstream)
        upstream_prefix = self.checked("upstreamRepositoryPrefix", validate_cache_prefix)
        if upstream_prefix is not None and prefix == "ROOT":
            self.fail("upstreamRepositoryPrefix", "needs a non-ROOT prefix")
        role = self.checked("customRoleArn", lambda a: validate_role_arn(a, self.partition))
        credential_arn = self.checked("credentialArn", self._local_credential_arn)
        if "credentialArn" in item and not upstream.needs_credentials:
            self.fail("credentialArn", f"upstream {name} takes no credentials")
        if len(self.problems) > before or url is None:
            return None
        return CacheRule(
            name, prefix, url, upstream.needs_credentials, credential_arn, role, upstream_prefix
        )

    def _local_credential_arn(self, arn: str) -> str:
        """ECR: "The account and Region that the secret is in must match the account and Region
        that the pull through cache rule is in" (the account is only known at deploy time)
        https://docs.aws.amazon.com/AmazonECR/latest/userguide/pull-through-cache-creating-rule.html
        """
        validate_credential_arn(arn)
        _, partition, _, region, _ = arn.split(":", 4)
        if region != self.region or (self.partition is not None and partition != self.partition):
            raise ValueError(
                f"{arn!r} is not allowed; the secret must be in the rule's region {self.region} "
                f"(partition {self.partition or 'of that region'})"
            )
        return arn

    def _url(self, upstream: Upstream) -> str | None:
        if upstream.name == "azure-container-registry":
            registry = self.text("azureRegistryName")
            if not registry or not AZURE_NAME.fullmatch(registry):
                self.fail(
                    "azureRegistryName",
                    f"{registry!r} is not allowed; the <name> of <name>.azurecr.io "
                    "(5-50 letters or digits)",
                )
                return None
            return f"{registry.lower()}.azurecr.io"
        if upstream.name == "ecr":
            account, upstream_region = self.text("accountId"), self.text("region")
            if not urls.is_account_id(account):
                self.fail(
                    "accountId",
                    f"{_shown(account)} is not allowed; the ECR upstream needs the 12-digit "
                    "account ID of the registry to pull from",
                )
            try:
                upstream_partition = urls.partition_for_region(upstream_region or "").name
            except ValueError as exc:
                self.fail("region", f"the ECR upstream needs the region it pulls from: {exc}")
                return None
            if self.partition is not None and upstream_partition != self.partition:
                self.fail(
                    "region",
                    f"{upstream_region!r} is not allowed; an ECR upstream is in the stack's "
                    f"partition ({self.partition})",
                )
                return None
            if account is None or not urls.is_account_id(account):
                return None
            url = urls.registry_host(account, str(upstream_region))
            urls.parse_registry_url(url)  # the same parser the rest of the program trusts
            return url
        return upstream.url


def cache_image_uri(ref: str, registry_host: str, rules: Mapping[str, str]) -> str:
    """`<registry>/<prefix>/<upstream path>[:tag][@digest]`; Docker Hub official images keep `library/`."""
    parsed = parse_image_reference(ref)
    prefix = rules.get(parsed.domain)
    if prefix is None:
        known = ", ".join(sorted(rules)) or "none"
        raise ValueError(
            f"{ref!r}: no pull-through cache rule for {parsed.domain} (rules exist for {known})"
        )
    base = registry_host if prefix == "ROOT" else f"{registry_host}/{prefix.rstrip('/')}"
    out = f"{base}/{parsed.path}"
    if parsed.tag is not None:
        out += f":{parsed.tag}"
    if parsed.digest is not None:
        out += f"@{parsed.digest}"
    return out


def pull_policy_document(
    partition: str, region: str, account: str, prefixes: Sequence[str]
) -> dict[str, Any]:
    """What a principal needs to pull through the cache, including the first pull of a new image."""
    resources = sorted(
        naming.repository_arn(
            partition, region, account, "*" if p == "ROOT" else f"{p.rstrip('/')}/*"
        )
        for p in prefixes
    )
    statements: list[dict[str, Any]] = [
        {
            "Sid": "RegistryLogin",
            "Effect": "Allow",
            "Action": ["ecr:GetAuthorizationToken"],
            "Resource": "*",
        }
    ]
    if resources:
        statements += [
            {
                "Sid": "PullCachedImages",
                "Effect": "Allow",
                "Action": [
                    "ecr:BatchCheckLayerAvailability",
                    "ecr:BatchGetImage",
                    "ecr:GetDownloadUrlForLayer",
                ],
                "Resource": resources,
            },
            {
                "Sid": "ImportOnFirstPull",
                "Effect": "Allow",
                "Action": ["ecr:BatchImportUpstreamImage", "ecr:CreateRepository"],
                "Resource": resources,
            },
        ]
    return {"Version": "2012-10-17", "Statement": statements}


def is_cache_credential(arn: str) -> bool:
    """Whether a (validated) secret reference names a pull-through cache credential secret
    (`ecr-pullthroughcache/...`, the only secrets ECR's cache reads): the account owner's, which
    no other stack's roles may read (their boundary denies it)."""
    head, _, name = arn.partition(":secret:")
    return ":secretsmanager:" in head and name.startswith(credential_secret_name("").rstrip("/"))
