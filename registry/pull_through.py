"""Pull-through cache: the upstream catalogue, rule validation, credentials, and URI rewriting.

`python -m registry.pull_through IMAGE...` prints the cache URI for each upstream reference.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import IO, Any

from registry import urls
from registry.access import validate_role_arn
from registry.reference import DEFAULT_DOMAIN, parse_image_reference

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


def credential_secret_name(prefix: str) -> str:
    # ROOT has no path of its own; name its secret after the word, which the console also accepts.
    return f"ecr-pullthroughcache/{prefix.rstrip('/')}"


def credential_secret_string(username: str, access_token: str) -> str:
    return json.dumps({"username": username, "accessToken": access_token})


def validate_cache_rules(items: Sequence[Any], *, region: str) -> list[CacheRule]:
    if items and region in UNSUPPORTED_REGIONS:
        raise CacheRuleError(
            "",
            f"pull-through cache is not offered in {region} (nor {', '.join(r for r in UNSUPPORTED_REGIONS if r != region)})",
        )
    if len(items) > MAX_RULES:
        raise CacheRuleError(
            "", f"{len(items)} rules is not allowed; a registry holds at most {MAX_RULES}"
        )
    rules: list[CacheRule] = []
    seen: dict[str, int] = {}
    for i, item in enumerate(items):
        rule = _rule(i, item, region)
        if rule.prefix in seen:
            raise CacheRuleError(
                f"[{i}].prefix",
                f"{rule.prefix!r} is already used by pullThroughCache[{seen[rule.prefix]}]; a prefix identifies one rule",
            )
        seen[rule.prefix] = i
        rules.append(rule)
    return rules


def _rule(i: int, item: Any, region: str) -> CacheRule:
    at = f"[{i}]"
    if not isinstance(item, Mapping):
        raise CacheRuleError(at, "a rule is an object such as {upstream: quay}")
    for key in item:
        if key not in RULE_KEYS:
            raise CacheRuleError(
                f"{at}.{key}", f"unknown key {key!r}; allowed keys are {', '.join(RULE_KEYS)}"
            )
    name = item.get("upstream")
    if name not in UPSTREAMS:
        raise CacheRuleError(
            f"{at}.upstream", f"{name!r} is not allowed; use one of {', '.join(UPSTREAMS)}"
        )
    upstream = UPSTREAMS[name]

    def text(key: str) -> str | None:
        value = item.get(key)
        if value is not None and not isinstance(value, str):
            raise CacheRuleError(f"{at}.{key}", f"{value!r} is not allowed; expected a string")
        return value

    def only_for(key: str, allowed: str) -> None:
        if key in item and name != allowed:
            raise CacheRuleError(f"{at}.{key}", f"is only allowed with upstream {allowed}")

    for key, allowed in (
        ("azureRegistryName", "azure-container-registry"),
        ("accountId", "ecr"),
        ("region", "ecr"),
        ("upstreamRepositoryPrefix", "ecr"),
        ("customRoleArn", "ecr"),
    ):
        only_for(key, allowed)
    prefix = text("prefix") or upstream.default_prefix
    try:
        validate_cache_prefix(prefix)
    except ValueError as exc:
        raise CacheRuleError(f"{at}.prefix", str(exc)) from None
    url = upstream.url
    if name == "azure-container-registry":
        registry = text("azureRegistryName")
        if not registry or not AZURE_NAME.fullmatch(registry):
            raise CacheRuleError(
                f"{at}.azureRegistryName",
                f"{registry!r} is not allowed; the <name> of <name>.azurecr.io (5-50 letters or digits)",
            )
        url = f"{registry.lower()}.azurecr.io"
    if name == "ecr":
        account, upstream_region = text("accountId"), text("region")
        try:
            url = urls.registry_host(account or "", upstream_region or "")
            urls.parse_registry_url(url)  # the same parser the rest of the program trusts
        except ValueError as exc:
            raise CacheRuleError(
                f"{at}.accountId", f"the ECR upstream needs accountId and region: {exc}"
            ) from None
    upstream_prefix = text("upstreamRepositoryPrefix")
    if upstream_prefix is not None:
        if prefix == "ROOT":
            raise CacheRuleError(f"{at}.upstreamRepositoryPrefix", "needs a non-ROOT prefix")
        try:
            validate_cache_prefix(upstream_prefix)
        except ValueError as exc:
            raise CacheRuleError(f"{at}.upstreamRepositoryPrefix", str(exc)) from None
    role = text("customRoleArn")
    if role is not None:
        try:
            validate_role_arn(role)
        except ValueError as exc:
            raise CacheRuleError(f"{at}.customRoleArn", str(exc)) from None
    credential_arn = text("credentialArn")
    if credential_arn is not None:
        if not upstream.needs_credentials:
            raise CacheRuleError(f"{at}.credentialArn", f"upstream {name} takes no credentials")
        try:
            validate_credential_arn(credential_arn)
        except ValueError as exc:
            raise CacheRuleError(f"{at}.credentialArn", str(exc)) from None
    assert url is not None
    return CacheRule(
        name, prefix, url, upstream.needs_credentials, credential_arn, role, upstream_prefix
    )


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
        f"arn:{partition}:ecr:{region}:{account}:repository/"
        + ("*" if p == "ROOT" else f"{p.rstrip('/')}/*")
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


def _rules_from_stack(outputs: Mapping[str, Any]) -> tuple[str, dict[str, str]]:
    host = outputs.get("ecrRegistryUrl")
    upstreams = outputs.get("pullThroughCacheUpstreams") or {}
    if not isinstance(host, str) or not isinstance(upstreams, Mapping):
        raise ValueError("stdin is not `pulumi stack output --json` of an ecr-fargate stack")
    return host, {reference_host: prefix for prefix, reference_host in upstreams.items()}


def main(argv: Sequence[str] | None = None, stdin: IO[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m registry.pull_through", description=__doc__)
    parser.add_argument("images", nargs="+", metavar="IMAGE")
    parser.add_argument("--registry", help="registry host (default: ecrRegistryUrl from stdin)")
    parser.add_argument(
        "--rule",
        action="append",
        default=[],
        metavar="HOST=PREFIX",
        help="e.g. docker.io=docker-hub",
    )
    args = parser.parse_args(argv)
    stdin = stdin if stdin is not None else sys.stdin
    host: str | None = args.registry
    rules: dict[str, str] = {}
    if not args.rule or host is None:
        if stdin.isatty():
            parser.error("give --registry and --rule, or pipe `pulumi stack output --json` in")
        try:
            stack_host, rules = _rules_from_stack(json.load(stdin))
        except (ValueError, json.JSONDecodeError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        host = host or stack_host
    for item in args.rule:
        ref_host, sep, prefix = item.partition("=")
        if not sep or not ref_host or not prefix:
            parser.error(f"--rule {item!r}: expected HOST=PREFIX")
        rules[ref_host] = validate_cache_prefix(prefix)
    status = 0
    for image in args.images:
        try:
            print(cache_image_uri(image, host, rules))
        except ValueError as exc:
            print(f"error: {image}: {exc}", file=sys.stderr)
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
