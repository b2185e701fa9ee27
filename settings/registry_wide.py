"""The account owner's registry-wide additions: create-on-push templates, replication, and the CI
principals excluded from pull-time updates.

All three are registry-wide, so only the account owner (settings.account) declares them; the
loader here runs for the owner only, and another stack that sets `registry.createOnPush` or
`registry.replication` is refused at that key by settings.account.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rules import name_parts, naming
from rules.registry import names, urls
from settings.cache import CacheSettings
from settings.errors import Collector, key_path, show
from settings.keys.stack import CREATE_ON_PUSH, REPLICATION
from settings.reader import Obj, as_list
from settings.registry import RegistrySettings, load_repository
from settings.source import read_stack_file

# ECR's replication quotas: 10 rules per configuration (the API model allows 25; the service
# quota and the provider say 10), each with
# 1 to 100 repository filters of 2 to 256 characters. A filter is also the prefix of the
# REPLICATION template, so it takes a repository namespace's form (stricter than the filter's).
MAX_REPLICATION_RULES = 10
# "You can configure up to 100 exclusions per account."
# https://docs.aws.amazon.com/AmazonECR/latest/userguide/pull-time-update-exclusions.html
MAX_PULL_TIME_EXCLUSIONS = 100
PROJECT_KEY = f"{naming.PROJECT}:"


@dataclass(frozen=True)
class CreateOnPush:
    prefix: str
    lifecycle_policy: str  # canonical JSON, the deploy-protection rule first
    tag_mutability: str  # MUTABLE or IMMUTABLE_WITH_EXCLUSION (CI's build cache tag mutable)
    exclusion_filters: tuple[str, ...]
    encryption: str  # AES256, or KMS with the stack's registry key


@dataclass(frozen=True)
class Replication:
    region: str
    prefixes: tuple[str, ...]


@dataclass(frozen=True)
class RegistryWide:
    create_on_push: tuple[CreateOnPush, ...] = ()
    replication: tuple[Replication, ...] = ()
    # The stacks (this one included) whose CI roles read images without running them.
    excluded_stacks: tuple[str, ...] = ()
    # The replicas' lifecycle policy: the environment's default preset, deploy-protected.
    replica_lifecycle_policy: str = ""
    warnings: tuple[str, ...] = ()

    @property
    def replica_regions(self) -> tuple[str, ...]:
        return tuple(sorted({r.region for r in self.replication}))

    def replicated_prefixes(self, region: str) -> tuple[str, ...]:
        return tuple(
            sorted({p for r in self.replication if r.region == region for p in r.prefixes})
        )


def load_registry_wide(
    errors: Collector,
    registry_value: Any,
    *,
    registry: RegistrySettings,
    cache: CacheSettings,
    partition: urls.Partition,
    region: str | None,
    excluded_stacks: tuple[str, ...],
) -> RegistryWide:
    value = registry_value if isinstance(registry_value, dict) else {}
    create_on_push = _create_on_push(errors, value.get("createOnPush"), registry, cache)
    replication = load_replication(errors, value.get("replication"), partition, region)
    default = load_repository(Collector(), "", "replication", "probe", None, registry=registry)
    warnings: list[str] = []
    if len(excluded_stacks) > MAX_PULL_TIME_EXCLUSIONS:
        left = ", ".join(excluded_stacks[MAX_PULL_TIME_EXCLUSIONS:])
        warnings.append(
            f"{len(excluded_stacks)} stacks' CI deploy roles read this registry, and ECR takes "
            f"{MAX_PULL_TIME_EXCLUSIONS} pull-time update exclusions per account: not excluded: "
            f"{left}"
        )
    return RegistryWide(
        create_on_push,
        replication,
        excluded_stacks[:MAX_PULL_TIME_EXCLUSIONS],
        default.lifecycle_policy if replication else "",
        tuple(warnings),
    )


def _create_on_push(
    errors: Collector, value: Any, registry: RegistrySettings, cache: CacheSettings
) -> tuple[CreateOnPush, ...]:
    path = "registry.createOnPush"
    found: list[CreateOnPush] = []
    cached = [r.rule.prefix for r in cache.rules if r.rule.prefix != "ROOT"]
    for i, item in enumerate(as_list(errors, path, value)):
        obj = Obj(errors, key_path(path, i), item, CREATE_ON_PUSH)
        prefix = _prefix(errors, obj, [e.prefix for e in found], cached)
        mutability = obj.string(
            "tagMutability", "MUTABLE" if registry.tag_mutability == "MUTABLE" else "IMMUTABLE"
        )
        encryption = obj.string("encryption", registry.encryption)
        if encryption == "KMS" and registry.encryption != "KMS":
            errors.add(
                obj.at("encryption"),
                "'KMS' is not allowed with registry.encryption AES256; the template encrypts with "
                "the stack's registry key: set registry.encryption KMS, or use AES256",
            )
        before = len(errors.errors)
        lifecycle = obj.raw("lifecycle")
        name = prefix or "probe"
        repository = load_repository(errors, obj.path, "push", name, lifecycle, registry=registry)
        if prefix is None or len(errors.errors) > before:
            continue
        immutable = mutability == "IMMUTABLE"
        filters = registry.repository_exclusion_filters if immutable else ()
        if immutable and not filters:
            filters = (names.BUILD_CACHE_TAG,)
        found.append(
            CreateOnPush(
                prefix,
                repository.lifecycle_policy,
                "IMMUTABLE_WITH_EXCLUSION" if immutable else "MUTABLE",
                filters,
                encryption,
            )
        )
    return tuple(found)


def _prefix(errors: Collector, obj: Obj, taken: list[str], cached: list[str]) -> str | None:
    """A repository namespace that neither nests in nor contains another template's: ECR applies
    the template of the longest matching prefix, so two nested ones would split one namespace."""
    prefix = obj.string("prefix")
    where = obj.at("prefix")
    if prefix is None:
        errors.add(where, "is required: the repository namespace (e.g. apps)")
        return None
    with errors.guard(where):
        names.validate_repository_name(prefix)
        other = next((t for t in taken if _nested(prefix, t)), None)
        if other is not None:
            raise ValueError(
                f"{prefix!r} is not allowed; it overlaps createOnPush prefix {other!r}: give "
                "namespaces that neither equal nor contain one another"
            )
        other = next((c for c in cached if _nested(prefix, c)), None)
        if other is not None:
            raise ValueError(
                f"{prefix!r} is not allowed; it overlaps pull-through cache prefix {other!r}, "
                "whose repositories ECR creates on pull with the cache's template"
            )
        return prefix
    return None


def _nested(a: str, b: str) -> bool:
    return a == b or a.startswith(f"{b}/") or b.startswith(f"{a}/")


def load_replication(
    errors: Collector, value: Any, partition: urls.Partition, region: str | None
) -> tuple[Replication, ...]:
    """`registry.replication`: the owner's own, or (settings.account) read from the owner's
    stack file by another stack, for its `ecrReplicaRegistryUrls`."""
    path = "registry.replication"
    items = as_list(errors, path, value)
    if len(items) > MAX_REPLICATION_RULES:
        errors.add(
            path,
            f"{len(items)} rules are not allowed; ECR takes at most {MAX_REPLICATION_RULES} "
            "replication rules per registry",
        )
        return ()
    found: list[Replication] = []
    for i, item in enumerate(items):
        obj = Obj(errors, key_path(path, i), item, REPLICATION)
        destination = _destination(errors, obj, partition, region)
        prefixes = _filters(errors, obj, [r for r in found if r.region == destination])
        if destination is not None and prefixes:
            found.append(Replication(destination, prefixes))
    return tuple(found)


def _destination(
    errors: Collector, obj: Obj, partition: urls.Partition, region: str | None
) -> str | None:
    destination = obj.string("region")
    where = obj.at("region")
    if destination is None:
        errors.add(where, "is required: the destination region (e.g. us-west-2)")
        return None
    try:
        other = urls.partition_for_region(destination)
    except ValueError:
        errors.add(
            where, f"{show(destination)} is not allowed; expected a region such as us-west-2"
        )
        return None
    if other.name != partition.name:
        errors.add(
            where,
            f"{show(destination)} is not allowed; it is in partition {other.name} and this "
            f"stack in {partition.name}: ECR replicates within a partition",
        )
        return None
    if destination == region:
        errors.add(
            where,
            f"{show(destination)} is not allowed; it is this stack's own region: replicate to "
            "another region",
        )
        return None
    return destination


def _filters(errors: Collector, obj: Obj, same_region: list[Replication]) -> tuple[str, ...]:
    """PREFIX_MATCH filters: two that match one repository would replicate it twice (or the
    configuration is refused), so within one region no filter may start another."""
    raw = obj.raw("prefixes")
    prefixes = obj.str_list("prefixes")
    if raw is None:
        errors.add(obj.at("prefixes"), "is required: the repository name prefixes to replicate")
        return ()
    if not 1 <= len(prefixes) <= 100:
        errors.add(
            obj.at("prefixes"),
            f"{show(list(prefixes))} is not allowed; expected 1 to 100 prefixes",
        )
        return ()
    taken = [p for r in same_region for p in r.prefixes]
    good: list[str] = []
    for i, prefix in enumerate(prefixes):
        where = key_path(obj.path, "prefixes", i)
        if not 2 <= len(prefix) <= 256 or not names.REPOSITORY_NAME.fullmatch(prefix):
            errors.add(
                where,
                f"{show(prefix)} is not allowed; a replicated prefix is a repository namespace "
                "(2 to 256 characters, lowercase components joined by '/'): the REPLICATION "
                "template of the same prefix gives the replicas their settings",
            )
            continue
        other = next(
            (t for t in (*taken, *good) if t.startswith(prefix) or prefix.startswith(t)), None
        )
        if other is not None:
            errors.add(
                where,
                f"{show(prefix)} is not allowed; it overlaps prefix {other!r} replicated to the "
                "same region (PREFIX_MATCH): keep the shorter one",
            )
            continue
        good.append(prefix)
    return tuple(good) if len(good) == len(prefixes) else ()


def ci_stacks(stacks_dir: Path, owner: str, region: str | None, *, own_ci: bool) -> tuple[str, ...]:
    """The stacks whose CI roles the owner excludes from pull-time updates: itself when it has
    CI roles (`github`), and every stack file beside its own that names it `accountOwner`, has
    `github` and deploys to the same region. A stack file that cannot be read is left out: its
    own run reports it."""
    found = {owner} if own_ci else set()
    for path in sorted(stacks_dir.glob("Pulumi.*.yaml")):
        stack = path.name[len("Pulumi.") : -len(".yaml")]
        if stack == owner:
            continue
        try:
            name_parts.validate_stack_name(stack)
            config = read_stack_file(path)
        except ValueError:
            continue
        github = config.get(f"{PROJECT_KEY}github")
        if (
            config.get(f"{PROJECT_KEY}accountOwner") == owner
            and config.get("aws:region") == region
            and isinstance(github, dict)
            and github.get("repository")
        ):
            found.add(stack)
    return tuple(sorted(found))
