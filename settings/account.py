"""Account- and region-wide resources: one stack creates them, every other stack references them.

ECR keeps one registry per account and region. Its scanning configuration, its pull-through cache
rules (one per prefix), the repository creation templates (one per prefix) and the
`ecr-pullthroughcache/<prefix>` credential secrets exist once, so two stacks that both create them
collide on the second `pulumi up`, and destroying either would delete what the other uses.

`accountOwner` names the stack that creates them (default: the stack itself, so a lone stack is
complete). Any other stack reads the owner's stack file, from the same directory, to reference the
same rules in its outputs, and refuses account-wide keys of its own: there is one place to set them.
The GitHub OIDC provider is account-wide too; not a stack but the owner's CI bootstrap template
(`python -m cli.bootstrap OWNER`) creates it, and every other stack's CI roles trust it by ARN.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rules import name_parts
from rules.registry import urls
from settings.cache import CacheSettings, load_cache
from settings.errors import Collector, show
from settings.keys import ROOT
from settings.placement import ALLOWED_ACCOUNTS, peers, read_peer, shares_account
from settings.reader import Obj
from settings.registry_wide import load_replication
from settings.source import RawConfig, StackFileError, from_files, stack_file_path

# Keys whose resources are registry-wide, and a test of whether a stack sets them.
OWNER_ONLY = (
    ("pullThroughCache", lambda v: bool(v)),
    ("pullThroughCredentials", lambda v: bool(v)),
)

# Registry-wide keys inside `registry` (settings.registry_wide reads them for the owner).
REGISTRY_OWNER_ONLY = ("createOnPush", "replication")


@dataclass(frozen=True)
class AccountSettings:
    owner: str  # the stack that creates the registry-wide resources
    owns: bool  # this stack is that owner
    scan_type: str  # BASIC or ENHANCED, the registry's (the owner's) setting
    cache: CacheSettings  # the owner's rules: created here when `owns`, referenced otherwise
    root_creation_template: bool
    # The owner's replication destinations (another stack's `ecrReplicaRegistryUrls`).
    replica_regions: tuple[str, ...] = ()


def load_account(
    errors: Collector,
    raw: RawConfig,
    top: Obj,
    *,
    environment: str,
    region: str,
    registry_value: Any,
    accounts: tuple[str, ...] = (),
) -> AccountSettings:
    owner = top.string("accountOwner", raw.stack)
    before = len(errors.errors)
    with errors.guard("accountOwner"):
        name_parts.validate_stack_name(owner)
    if len(errors.errors) > before:
        owner = raw.stack  # refused: never used again (no file is looked up by that name)
    elif not _placed(errors, raw, owner, accounts, region):
        return AccountSettings(owner, False, "BASIC", _empty_cache(), False)
    scan_type = "ENHANCED" if top.flag("enhancedScanning") else "BASIC"
    root_template = _root_template(registry_value)
    if owner == raw.stack:
        cache = _cache(errors, top, region=region, environment=environment, raw=raw)
        return AccountSettings(owner, True, scan_type, cache, root_template)
    for key, is_set in OWNER_ONLY:
        if is_set(top.raw(key)):
            errors.add(key, _owned_elsewhere(owner))
    if root_template:
        errors.add("registry.rootCreationTemplate", _owned_elsewhere(owner))
    registry = registry_value if isinstance(registry_value, dict) else {}
    for key in REGISTRY_OWNER_ONLY:
        if registry.get(key):
            errors.add(f"registry.{key}", _owned_elsewhere(owner))
    view = _owner_view(errors, raw, owner, region)
    if view is None:
        return AccountSettings(owner, False, scan_type, _empty_cache(), False)
    if view.scan_type != scan_type:
        errors.add(
            "enhancedScanning",
            f"{show(scan_type == 'ENHANCED')} is not allowed; registry scanning is registry-wide "
            f"and stack {owner!r} (accountOwner) sets {show(view.scan_type == 'ENHANCED')}: "
            f"set it in {stack_file_path(owner).name} only",
        )
    return AccountSettings(
        owner,
        False,
        view.scan_type,
        view.cache,
        view.root_creation_template,
        view.replica_regions,
    )


def _placed(
    errors: Collector, raw: RawConfig, owner: str, accounts: tuple[str, ...], region: str
) -> bool:
    """The owner shares this stack's account, and every stack of the account agrees on it.

    ECR has one registry per account and region: an owner in another account creates nothing in
    this one, and two stacks of one account that name different owners both create (or both
    skip) the registry-wide resources."""
    if owner != raw.stack:
        peer = read_peer(raw, owner)
        if peer is not None and not shares_account(accounts, peer.accounts):
            errors.add(
                "accountOwner",
                f"{show(owner)} is not allowed; stack {owner!r} is in account "
                f"{', '.join(peer.accounts)} and this stack in {', '.join(accounts)} "
                f"({ALLOWED_ACCOUNTS}): each account's registry has its own owner, so remove "
                "accountOwner and this stack owns its account's registry-wide resources",
            )
            return False
    for peer in peers(raw) if accounts else ():  # undeclared: one account, as before
        shared = sorted(set(accounts) & set(peer.accounts))
        if shared and peer.region == region and peer.owner != owner:
            errors.add(
                "accountOwner",
                f"{show(owner)} is not allowed; stack {peer.stack!r} shares account {shared[0]} "
                f"and region {region} and names {show(peer.owner)} as the owner: every stack of "
                "one account and region names the same accountOwner",
            )
            return False
    return True


def _owned_elsewhere(owner: str) -> str:
    return (
        f"is registry-wide and created by stack {owner!r} (accountOwner); set it in "
        f"{stack_file_path(owner).name}, or make this stack the owner"
    )


def _root_template(registry_value: Any) -> bool:
    value = registry_value.get("rootCreationTemplate") if isinstance(registry_value, dict) else None
    return value is True


def _cache(
    errors: Collector, top: Obj, *, region: str, environment: str, raw: RawConfig
) -> CacheSettings:
    return load_cache(
        errors,
        top.raw("pullThroughCache"),
        top.raw("pullThroughCredentials"),
        region=region,
        environment=environment,
        credentials_secret="pullThroughCredentials" in raw.secret_keys,
    )


def _empty_cache() -> CacheSettings:
    return CacheSettings((), "", ())


def _owner_view(
    errors: Collector, raw: RawConfig, owner: str, region: str
) -> AccountSettings | None:
    """The owner's account-wide settings, read from its stack file with the same validators."""
    path = stack_file_path(owner, raw.stacks_dir)
    if not path.exists():
        errors.add(
            "accountOwner",
            f"{show(owner)} is not allowed; there is no {path.name} beside this stack's file "
            "(name a stack of this project that shares the account and region)",
        )
        return None
    try:
        owner_raw = from_files(owner, project_dir=raw.project_dir, stack_dir=raw.stacks_dir)
    except StackFileError as exc:
        errors.add("accountOwner", f"{show(owner)} is not allowed; {exc}")
        return None
    inner = Collector()
    values = {k: v for k, v in owner_raw.values.items() if k in ROOT}
    top = Obj(inner, "", values, ROOT)
    owner_env = top.text("environment")
    owners_owner = top.string("accountOwner", owner)
    if owners_owner != owner:
        errors.add(
            "accountOwner",
            f"{show(owner)} is not allowed; {path.name} names {show(owners_owner)} as the owner, "
            "so it creates no registry-wide resources itself",
        )
        return None
    owner_region = owner_raw.region
    if owner_region != region:
        errors.add(
            "accountOwner",
            f"{show(owner)} is not allowed; it deploys to {show(owner_region)}, this stack to "
            f"{show(region)}, and ECR registries are per region: each region needs its own owner",
        )
        return None
    cache = _cache(inner, top, region=region, environment=owner_env, raw=owner_raw)
    scan = "ENHANCED" if top.flag("enhancedScanning") else "BASIC"
    registry = top.raw("registry")
    replicated = load_replication(
        inner,
        registry.get("replication") if isinstance(registry, dict) else None,
        urls.partition_for_region(region),
        region,
    )
    for problem in inner.errors:
        errors.add("accountOwner", f"stack {owner!r} ({path.name}): {problem}")
    regions = tuple(sorted({r.region for r in replicated}))
    return AccountSettings(owner, True, scan, cache, _root_template(registry), regions)
