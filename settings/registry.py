"""Registry settings: repositories, tag mutability, encryption, access, lifecycle policies."""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from typing import Any

from rules import lifecycle
from rules.registry import names
from rules.registry.access import validate_role_arn
from rules.registry.urls import Partition, is_account_id
from settings.errors import Collector, key_path, show
from settings.keys import LIFECYCLE, REGISTRY
from settings.reader import Obj

# ECR's `ImageTagMutabilityExclusionFilters`: 1 to 5 filters (the ECR API model's list limits).
# https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_ImageTagMutabilityExclusionFilter.html
MAX_EXCLUSIONS = 5
# A KMS key's resource: a key ID is a UUID, or `mrk-` and 32 hex digits for a multi-Region key.
KMS_KEY_RESOURCE = re.compile(
    r"key/(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})",
    re.ASCII,
)


@dataclass(frozen=True)
class RepositorySettings:
    service: str
    name: str
    lifecycle_policy: str  # canonical JSON, byte-identical between runs
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class RegistrySettings:
    tag_mutability: str
    exclusion_filters: tuple[str, ...]
    encryption: str
    kms_key_arn: str | None  # None with KMS encryption: the stack creates the key
    scan_type: str
    force_delete: bool
    protect: bool
    pull_account_ids: tuple[str, ...]
    push_role_arns: tuple[str, ...]
    deploy_tag_prefix: str
    deploy_protection_count: int
    root_creation_template: bool
    repositories: tuple[RepositorySettings, ...]
    # Deploy roles of stacks in other accounts that promote this stack's images (promoteFrom):
    # the repository policy lets exactly these pull.
    promote_role_arns: tuple[str, ...] = ()

    @property
    def create_kms_key(self) -> bool:
        return self.encryption == "KMS" and self.kms_key_arn is None

    @property
    def repository_tag_mutability(self) -> str:
        """What the repositories get: immutable tags always leave the build cache tag mutable.

        CI's buildx rewrites `<repository>:buildcache` after every build, which an immutable tag
        refuses. So IMMUTABLE is created as IMMUTABLE_WITH_EXCLUSION with that one exclusion:
        every other tag stays immutable, which is what ECR.2 (and the user) asked for.
        """
        return "MUTABLE" if self.tag_mutability == "MUTABLE" else "IMMUTABLE_WITH_EXCLUSION"

    @property
    def repository_exclusion_filters(self) -> tuple[str, ...]:
        """The user's filters, plus the build cache tag and the running markers (which the deploy
        moves, `cli.lifecycle mark`), each unless one of the user's already covers it."""
        if self.tag_mutability == "MUTABLE":
            return ()
        return (*self.exclusion_filters, *self.stack_exclusion_filters)

    @property
    def stack_exclusion_filters(self) -> tuple[str, ...]:
        """The filters the stack adds to the user's: tags it must be able to move."""
        wanted = (
            (names.BUILD_CACHE_TAG, (names.BUILD_CACHE_TAG,)),
            (
                f"{lifecycle.marker_prefix(self.deploy_tag_prefix)}*",
                lifecycle.marker_tags(self.deploy_tag_prefix),
            ),
        )
        return tuple(
            f for f, tags in wanted if not all(_covers(self.exclusion_filters, tag) for tag in tags)
        )

    def tag_is_mutable(self, tag: str) -> bool:
        """Whether ECR lets a push move `tag` (so an extra tag such as `latest` is allowed)."""
        if self.repository_tag_mutability == "MUTABLE":
            return True
        return _covers(self.repository_exclusion_filters, tag)


def _covers(filters: tuple[str, ...], tag: str) -> bool:
    """ECR's WILDCARD filters: `*` is the only wildcard (the filter pattern admits no `?` or `[`)."""
    return any(fnmatch.fnmatchcase(tag, f) for f in filters)


def load_registry(
    errors: Collector,
    value: Any,
    *,
    environment: str,
    partition: Partition,
    region: str | None,
    scan_type: str,
    protection_count: int,
) -> RegistrySettings:
    obj = Obj(errors, "registry", value, REGISTRY, environment=environment)
    prod = environment == "prod"
    mutability = obj.text("tagMutability")
    filters = _exclusion_filters(errors, obj, mutability)
    encryption = obj.text("encryption")
    kms_key_arn = obj.string("kmsKeyArn")
    if kms_key_arn is not None:
        if encryption != "KMS":
            errors.add(obj.at("kmsKeyArn"), "is only allowed with encryption KMS")
        else:
            with errors.guard(obj.at("kmsKeyArn")):
                _validate_kms_key_arn(kms_key_arn, partition, region)
    accounts = _account_ids(errors, obj)
    push_roles = obj.str_list("pushRoleArns")
    for i, arn in enumerate(push_roles):
        with errors.guard(key_path(obj.path, "pushRoleArns", i)):
            validate_role_arn(arn, partition.name)
    prefix = obj.string("deployTagPrefix", f"{environment}-")
    with errors.guard(obj.at("deployTagPrefix")):
        from rules.build.tags import validate_deploy_prefix

        validate_deploy_prefix(prefix)
    settings = RegistrySettings(
        tag_mutability=mutability,
        exclusion_filters=filters,
        encryption=encryption,
        kms_key_arn=kms_key_arn,
        scan_type=scan_type,  # the registry's: the account owner's (settings.account)
        force_delete=not prod,
        protect=prod,
        pull_account_ids=accounts,
        push_role_arns=push_roles,
        deploy_tag_prefix=prefix,
        deploy_protection_count=protection_count,
        root_creation_template=obj.flag("rootCreationTemplate"),
        repositories=(),
    )
    _check_room(errors, obj, settings)
    return settings


def _check_room(errors: Collector, obj: Obj, settings: RegistrySettings) -> None:
    """ECR takes at most five exclusion filters, and the stack adds up to two of its own."""
    added = settings.stack_exclusion_filters
    if settings.tag_mutability != "IMMUTABLE_WITH_EXCLUSION" or not settings.exclusion_filters:
        return
    if len(settings.exclusion_filters) + len(added) > MAX_EXCLUSIONS:
        errors.add(
            obj.at("tagMutabilityExclusions"),
            f"{show(list(settings.exclusion_filters))} is not allowed; the stack adds "
            f"{', '.join(repr(f) for f in added)} (CI's build cache tag, the deploy's running "
            f"markers) and ECR takes at most {MAX_EXCLUSIONS} filters: give at most "
            f"{MAX_EXCLUSIONS - len(added)}, or ones that match {' and '.join(map(repr, added))}",
        )


def _exclusion_filters(errors: Collector, obj: Obj, mutability: str) -> tuple[str, ...]:
    filters = obj.str_list("tagMutabilityExclusions")
    if mutability == "IMMUTABLE_WITH_EXCLUSION":
        if not 1 <= len(filters) <= MAX_EXCLUSIONS:
            errors.add(
                obj.at("tagMutabilityExclusions"),
                f"{show(list(filters))} is not allowed; IMMUTABLE_WITH_EXCLUSION needs 1 to 5 "
                'wildcard filters (e.g. ["latest"])',
            )
        for i, f in enumerate(filters):
            with errors.guard(key_path(obj.path, "tagMutabilityExclusions", i)):
                names.validate_tag_exclusion_filter(f)
    elif filters:
        errors.add(
            obj.at("tagMutabilityExclusions"),
            f"{show(list(filters))} is not allowed with tagMutability {mutability}; "
            "exclusion filters need IMMUTABLE_WITH_EXCLUSION",
        )
    return filters


def _account_ids(errors: Collector, obj: Obj) -> tuple[str, ...]:
    accounts = obj.str_list("crossAccountPullAccountIds")
    for i, account in enumerate(accounts):
        if not is_account_id(account):
            errors.add(
                key_path(obj.path, "crossAccountPullAccountIds", i),
                f"{show(account)} is not allowed; an AWS account ID is exactly 12 digits 0-9",
            )
        elif account in accounts[:i]:
            errors.add(
                key_path(obj.path, "crossAccountPullAccountIds", i),
                f"{show(account)} is not allowed; it is already listed",
            )
    return accounts


def _validate_kms_key_arn(arn: str, partition: Partition, region: str | None) -> str:
    """A KMS key ARN (`key/<id>`) in the stack's partition and region.

    ECR takes an alias too, but resolves it once, when the repository is created
    (`EncryptionConfiguration.kmsKey`: "The key must exist in the same Region as the repository"),
    and IAM grants on a key name the key, not an alias: an alias that is later pointed elsewhere
    would silently disagree with both. Conservatively only the key itself is accepted.
    """
    from botocore.utils import ArnParser

    expected = f"arn:{partition.name}:kms:{region or 'REGION'}:ACCOUNT:key/KEY-ID"
    try:
        parts = ArnParser().parse_arn(arn)
    except ValueError:
        parts = {}
    if (
        parts.get("service") != "kms"
        or not KMS_KEY_RESOURCE.fullmatch(str(parts.get("resource", "")))
        or not is_account_id(parts.get("account"))
    ):
        raise ValueError(
            f"{arn!r} is not allowed; expected {expected} (a key ID is a UUID or mrk- and 32 hex "
            "digits; aliases are not accepted)"
        )
    if parts["partition"] != partition.name or (region and parts["region"] != region):
        raise ValueError(
            f"{arn!r} is not allowed; ECR needs the key in the repository's partition and region "
            f"({expected})"
        )
    return arn


def load_repository(
    errors: Collector,
    path: str,
    service: str,
    name: str,
    lifecycle_value: Any,
    *,
    registry: RegistrySettings,
) -> RepositorySettings:
    """Validate the name and build the lifecycle policy with the deploy-protection rule first."""
    warnings: list[str] = []
    with errors.guard(key_path(path, "repository")):
        names.validate_repository_name(name)
        warnings.extend(
            f"repository {name!r} (service {service}): {w}"
            for w in names.repository_name_warnings(name)
        )
    obj = Obj(errors, key_path(path, "lifecycle"), lifecycle_value, LIFECYCLE)
    given = [k for k in LIFECYCLE if obj.has(k)]
    if len(given) > 1:
        errors.add(obj.path, f"give one of preset, rules or policy, not {', '.join(given)}")
    policy, raw_policy = _policy(errors, obj, registry)
    if policy is None:
        return RepositorySettings(service, name, "", tuple(warnings))
    prefix = registry.deploy_tag_prefix
    with errors.guard(obj.path):
        protected, changes = lifecycle.protect_deploy_prefix(
            policy, prefix, registry.deploy_protection_count
        )
        protected, cache_changes = lifecycle.keep_build_cache(protected, names.BUILD_CACHE_TAG)
        changes += cache_changes
        if raw_policy:
            warnings.extend(f"repository {name!r}: {c}" for c in changes)
        warnings.extend(
            f"repository {name!r}: {w}" for w in lifecycle.multi_entry_warnings(protected)
        )
        rule = lifecycle.deployed_image_expiring_rule(
            protected, f"{prefix}0000000-000000000000", prefix=prefix
        )
        if rule is not None:
            raise ValueError(
                f"rule {rule} could expire the image this stack deploys (tagged {prefix}...); "
                "keep deploy-tagged images in a higher-priority rule"
            )
        return RepositorySettings(
            service, name, lifecycle.render_policy(protected), tuple(warnings)
        )
    return RepositorySettings(service, name, "", tuple(warnings))


def _policy(
    errors: Collector, obj: Obj, registry: RegistrySettings
) -> tuple[dict[str, Any] | None, bool]:
    """(the policy before protection, whether the user wrote it in ECR's own grammar).

    A rule the user wrote for exactly the deploy prefix is refused at its own key unless it is
    the protection rule itself (`lifecycle.deploy_prefix_conflict` says why).
    """
    prefix, keep = registry.deploy_tag_prefix, registry.deploy_protection_count
    if obj.has("rules"):
        rules_value = obj.raw("rules")
        with errors.guard(obj.at("rules")):
            if not isinstance(rules_value, list) or not rules_value:
                raise ValueError(
                    f"{show(rules_value)} is not allowed; expected a non-empty list of rules"
                )
            policy = lifecycle.policy_from_config(rules_value)
            written = [
                lifecycle.rule_from_config(r, i).to_json(1) for i, r in enumerate(rules_value)
            ]
            return _unless_conflicts(errors, obj.at("rules"), written, prefix, keep, policy), False
        return None, False
    if obj.has("policy"):
        with errors.guard(obj.at("policy")):
            policy = lifecycle.validate_lifecycle_policy(obj.raw("policy"))
            written = obj.raw("policy")["rules"]
            return _unless_conflicts(
                errors, obj.at("policy.rules"), written, prefix, keep, policy
            ), True
        return None, True
    preset = obj.text("preset")
    # A preset's own rule for the deploy prefix gives way to deployProtectionCount: it is ours.
    return lifecycle.preset_policy(preset), False


def _unless_conflicts(
    errors: Collector,
    path: str,
    written: list[dict[str, Any]],
    prefix: str,
    keep: int,
    policy: dict[str, Any],
) -> dict[str, Any] | None:
    conflicts = [
        (i, lifecycle.deploy_prefix_conflict(r, prefix, keep)) for i, r in enumerate(written)
    ]
    for i, message in conflicts:
        if message is not None:
            errors.add(key_path(path, i), message)
    return None if any(m for _, m in conflicts) else policy
