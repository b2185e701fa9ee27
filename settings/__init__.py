"""Stack config -> one typed, validated `Settings` object, before any resource is registered.

`load` is plain Python: it takes the decoded config (from the Pulumi runtime or from the stack
files) and either returns frozen settings or raises `ConfigErrors` listing every problem, each
naming its key, the bad value and what is allowed.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from rules.name_parts import validate_stack_name
from rules.naming import StackNames
from rules.registry import urls
from settings import legacy
from settings.account import AccountSettings, load_account
from settings.boundary import load_permissions_boundary, refuse_denied_secrets
from settings.cache import CacheSettings
from settings.errors import Collector, ConfigError, ConfigErrors, member_path, show
from settings.fargate import FargateStack, load_fargate
from settings.github import GithubSettings, load_github
from settings.keys import ROOT
from settings.placement import (
    ALLOWED_ACCOUNTS,
    Promotion,
    load_accounts,
    load_promotion,
    promoter_roles,
)
from settings.reader import Obj, string_keyed
from settings.registry import RegistrySettings, load_registry
from settings.registry_wide import RegistryWide, ci_stacks, load_registry_wide
from settings.services import ServiceSettings, load_services
from settings.source import RawConfig

__all__ = ["ConfigError", "ConfigErrors", "Settings", "load"]


@dataclass(frozen=True)
class Settings:
    project: str
    stack: str
    environment: str
    region: str
    partition: urls.Partition
    registry: RegistrySettings
    services: tuple[ServiceSettings, ...]
    account: AccountSettings
    fargate: FargateStack | None  # every service that runs, and the stack's network
    github: GithubSettings | None
    # `stack`: the stack creates the boundary of its roles; `bootstrap`: the CI bootstrap did.
    permissions_boundary: str = "stack"
    # The owner's create-on-push templates, replication and pull-time exclusions; empty elsewhere.
    registry_wide: RegistryWide = field(default_factory=RegistryWide)
    accounts: tuple[str, ...] = ()  # aws:allowedAccountIds: empty when the stack file names none
    promotion: Promotion | None = None  # promoteFrom: the stack whose images this one runs

    @property
    def names(self) -> StackNames:
        """The one source of every physical name and ARN of this stack."""
        return StackNames(self.stack, self.partition.name, self.region, self.project)

    @property
    def creates_boundary(self) -> bool:
        return self.permissions_boundary == "stack"

    def boundary_arn(self, account: str) -> str:
        """The boundary every role of the stack carries, in either mode."""
        names = self.names
        return (
            names.stack_boundary_arn(account)
            if self.creates_boundary
            else names.boundary_arn(account)
        )

    @property
    def cache(self) -> CacheSettings:
        """The pull-through rules of the registry: created by this stack only if it owns them."""
        return self.account.cache

    @property
    def tags(self) -> dict[str, str]:
        """Tags on every resource (a component adds `service` where one applies)."""
        return {"project": self.project, "stack": self.stack, "environment": self.environment}

    @property
    def warnings(self) -> tuple[str, ...]:
        found = [w for s in self.services for w in s.repository.warnings]
        if self.account.owns:  # the owner's cache warnings are the owner's to act on
            found += self.cache.warnings
            found += self.registry_wide.warnings
        if self.fargate is not None:
            found += self.fargate.warnings
        return tuple(found)


def load(raw: RawConfig, *, env: Mapping[str, str] | None = None) -> Settings:
    errors = Collector()
    environ = os.environ if env is None else env
    with errors.guard("pulumi:stack"):
        validate_stack_name(raw.stack)
    values = _known(errors, raw.values)
    config = legacy.rewrite(errors, {k: v for k, v in values.items() if k in ROOT})
    top = Obj(errors, "", config.values, ROOT)
    environment = top.text("environment")
    top.environment = environment
    region, partition = _region(errors, values.get("aws:region"))
    protection = top.number("deployProtectionCount")
    accounts = load_accounts(errors, values.get(ALLOWED_ACCOUNTS))
    promotion = load_promotion(errors, raw, top.raw("promoteFrom"), region=region, stack=raw.stack)
    account = load_account(
        errors,
        raw,
        top,
        environment=environment,
        region=region or "us-east-1",
        registry_value=top.raw("registry"),
        accounts=accounts,
    )
    registry = load_registry(
        errors,
        top.raw("registry"),
        environment=environment,
        partition=partition,
        region=region,
        scan_type=account.scan_type,
        protection_count=protection,
    )
    services, registry = _services(
        errors,
        raw,
        top,
        registry,
        account,
        promotion,
        accounts=accounts,
        partition=partition.name,
        env=environ,
    )
    names = StackNames(raw.stack, partition.name, region or "us-east-1")
    fargate = load_fargate(
        errors, config, environment_name=environment, services=services, names=names
    )
    refuse_denied_secrets(errors, account, fargate, top.raw("services"))
    github = load_github(
        errors, top.raw("github"), environment=environment, partition=partition.name
    )
    boundary = load_permissions_boundary(errors, top, environ)
    wide = _registry_wide(errors, raw, top, account, registry, partition, region, github)
    errors.raise_if_any()
    return Settings(
        project="ecr-fargate",
        stack=raw.stack,
        environment=environment,
        region=region or "",
        partition=partition,
        registry=registry,
        services=services,
        account=account,
        fargate=fargate,
        github=github,
        permissions_boundary=boundary,
        registry_wide=wide,
        accounts=accounts,
        promotion=promotion,
    )


def _services(
    errors: Collector,
    raw: RawConfig,
    top: Obj,
    registry: RegistrySettings,
    account: AccountSettings,
    promotion: Promotion | None,
    *,
    accounts: tuple[str, ...],
    partition: str,
    env: Mapping[str, str],
) -> tuple[tuple[ServiceSettings, ...], RegistrySettings]:
    """The services, and the registry completed with their repositories: a promoted stack's
    services read their digests from its SSM parameter."""
    services = load_services(
        errors,
        top.raw("services"),
        stack=raw.stack,
        registry=registry,
        project_dir=raw.project_dir,
        build_on_preview=top.flag("buildOnPreview"),
        env=env,
    )
    if promotion is not None:
        services = _promoted(services, StackNames(raw.stack).image_digests_parameter)
    registry = replace(
        registry,
        repositories=tuple(s.repository for s in services),
        root_creation_template=account.root_creation_template,
        promote_role_arns=promoter_roles(raw, accounts, partition),
    )
    return services, registry


def _registry_wide(
    errors: Collector,
    raw: RawConfig,
    top: Obj,
    account: AccountSettings,
    registry: RegistrySettings,
    partition: urls.Partition,
    region: str | None,
    github: GithubSettings | None,
) -> RegistryWide:
    """Create-on-push, replication and pull-time exclusions: the account owner's only."""
    if not account.owns:
        return RegistryWide()
    return load_registry_wide(
        errors,
        top.raw("registry"),
        registry=registry,
        cache=account.cache,
        partition=partition,
        region=region,
        excluded_stacks=ci_stacks(raw.stacks_dir, raw.stack, region, own_ci=github is not None),
    )


def _promoted(services: tuple[ServiceSettings, ...], parameter: str) -> tuple[ServiceSettings, ...]:
    """Services built elsewhere: those CI handed no digest read the promoted one from SSM."""
    out: list[ServiceSettings] = []
    for s in services:
        image = s.image
        if image is not None and image.build is not None and image.ci_digest is None:
            s = replace(s, image=replace(image, promoted_parameter=parameter))
        out.append(s)
    return tuple(out)


def _known(errors: Collector, raw_values: Mapping[Any, Any]) -> dict[str, Any]:
    """The string-keyed values; an unknown project key is a typo, reported rather than ignored."""
    values = string_keyed(errors, "", dict(raw_values), "config keys")
    for key in values:
        if ":" not in key and key not in ROOT:
            errors.add(
                member_path("", key),
                f"unknown key; known keys are {', '.join(ROOT.names)}",
            )
    return values


def _region(errors: Collector, value: object) -> tuple[str | None, urls.Partition]:
    """The stack's region and its partition (us-east-1's stands in while the region is refused)."""
    fallback = urls.partition_for_region("us-east-1")
    if value is None:
        errors.add(
            "aws:region", "is required: set it with `pulumi config set aws:region us-east-1`"
        )
        return None, fallback
    if isinstance(value, str):
        try:
            return value, urls.partition_for_region(value)
        except ValueError:
            pass
    names = ", ".join(p.name for p in urls.partitions())
    errors.add(
        "aws:region",
        f"{show(value)} is not allowed; expected a region of an AWS partition ({names}) "
        "such as us-east-1, exactly as AWS spells it",
    )
    return None, fallback
