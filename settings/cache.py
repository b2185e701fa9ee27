"""Pull-through cache settings: validated rules, their credentials, and the cached repositories' template."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rules import lifecycle
from rules.registry import pull_through, urls
from settings.errors import Collector, key_path
from settings.keys import CREDENTIALS
from settings.reader import Obj, as_list, string_keyed
from settings.secret import Secret

# Cached images are re-pulled on demand, so expiring superseded (untagged) layers is always safe.
CACHE_LIFECYCLE_RULES = ({"expireUntaggedAfterDays": 7, "description": "superseded cache images"},)


@dataclass(frozen=True)
class CacheRuleSettings:
    rule: pull_through.CacheRule
    username: Secret | None  # credentials the stack stores in Secrets Manager
    access_token: Secret | None


@dataclass(frozen=True)
class CacheSettings:
    rules: tuple[CacheRuleSettings, ...]
    template_lifecycle_policy: str
    warnings: tuple[str, ...]


def load_cache(
    errors: Collector,
    value: Any,
    credentials_value: Any,
    *,
    region: str,
    environment: str,
    credentials_secret: bool,
) -> CacheSettings:
    rules = _rules(errors, value, region)
    creds = Obj(errors, "pullThroughCredentials", credentials_value, [r.prefix for r in rules])
    if creds.value and not credentials_secret:
        errors.add(
            "pullThroughCredentials",
            "holds credentials in plain text; set them with `pulumi config set --secret --path "
            "'pullThroughCredentials[\"PREFIX\"].accessToken' TOKEN`",
        )
    warnings: list[str] = []
    out: list[CacheRuleSettings] = []
    for rule in rules:
        if not rule.needs_credentials or rule.credential_arn:
            out.append(CacheRuleSettings(rule, None, None))
            continue
        entry = Obj(
            errors,
            key_path("pullThroughCredentials", f'["{rule.prefix}"]'),
            creds.raw(rule.prefix),
            CREDENTIALS,
        )
        username, token = entry.string("username"), entry.string("accessToken")
        if username and token:
            out.append(CacheRuleSettings(rule, Secret(username), Secret(token)))
            continue
        command = (
            f"pulumi config set --path 'pullThroughCredentials[\"{rule.prefix}\"].username' USER && "
            f"pulumi config set --secret --path 'pullThroughCredentials[\"{rule.prefix}\"].accessToken' TOKEN"
        )
        if environment == "prod":
            errors.add(
                key_path("pullThroughCredentials", f'["{rule.prefix}"]'),
                f"upstream {rule.upstream} needs credentials in prod; set them with: {command}",
            )
        else:
            warnings.append(
                f"pull-through cache rule {rule.prefix!r} ({rule.upstream}) skipped: no credentials; "
                f"set them with: {command}"
            )
    template = lifecycle.render_policy(
        lifecycle.policy_from_config([dict(r) for r in CACHE_LIFECYCLE_RULES])
    )
    return CacheSettings(tuple(out), template, tuple(warnings))


def _rules(errors: Collector, value: Any, region: str) -> list[pull_through.CacheRule]:
    """The validated rules; every problem of every rule is reported, each at its own key."""
    items = [
        string_keyed(errors, key_path("pullThroughCache", i), item, "keys")
        if isinstance(item, dict)
        else item
        for i, item in enumerate(as_list(errors, "pullThroughCache", value))
    ]
    try:
        return pull_through.validate_cache_rules(items, region=region, partition=_partition(region))
    except pull_through.CacheRuleErrors as exc:
        for problem in exc.problems:
            errors.add(f"pullThroughCache{problem.path}", problem.detail)
    return []


def _partition(region: str) -> str | None:
    """The stack region's partition; None while the region itself is refused (reported there)."""
    try:
        return urls.partition_for_region(region).name
    except ValueError:
        return None
