"""Lifecycle rules as teams mean them, and the presets teams use, rendered into ECR's grammar.

Config forms (one rule each; an optional `description` on any):

- `{keep: N, tagPrefix: P}` / `tagPrefixes: [..]` / `tagPattern: P` / `tagPatterns: [..]` / `any: true`
  -> keep the N most recent matching images (imageCountMoreThan)
- `{expireUntaggedAfterDays: N}` -> expire untagged images pushed more than N days ago
- `{expireAfterDays: N, tagPrefix|tagPrefixes|tagPattern|tagPatterns|any}` -> expire by push age
- `{archiveAfterDaysUnpulled: N, [selector]}` -> transition to archive N days after the last pull
  (any image when no selector is given)
- `{expireArchivedAfterDays: N}` -> expire archived images N (>= 90) days after archiving

ECR reads a multi-entry list as AND ("carries a tag for every entry"); to select images with either
of two prefixes, write one rule per prefix, as the presets do.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rules.lifecycle.errors import LifecyclePolicyError, show
from rules.lifecycle.validate import validate_lifecycle_policy

SELECTORS = ("tagPrefix", "tagPrefixes", "tagPattern", "tagPatterns", "any")
ACTIONS = (
    "keep",
    "expireUntaggedAfterDays",
    "expireAfterDays",
    "archiveAfterDaysUnpulled",
    "expireArchivedAfterDays",
)


@dataclass(frozen=True)
class LifecycleRule:
    tag_status: str
    count_type: str
    count_number: int
    tag_prefixes: tuple[str, ...] = ()
    tag_patterns: tuple[str, ...] = ()
    storage_class: str = "standard"
    action: str = "expire"
    description: str | None = None

    @classmethod
    def selecting(
        cls,
        count_type: str,
        number: int,
        *,
        prefixes: Sequence[str] = (),
        patterns: Sequence[str] = (),
        action: str = "expire",
        description: str | None = None,
    ) -> LifecycleRule:
        """Tagged when a prefix or pattern is given, otherwise every image (`any`)."""
        status = "tagged" if prefixes or patterns else "any"
        return cls(
            status, count_type, number, tuple(prefixes), tuple(patterns),
            action=action, description=description,
        )  # fmt: skip

    @classmethod
    def keep_last(
        cls, count: int, *, prefixes: Sequence[str] = (), description: str | None = None
    ) -> LifecycleRule:
        return cls.selecting(
            "imageCountMoreThan", count, prefixes=prefixes, description=description
        )

    @classmethod
    def expire_untagged_after(cls, days: int, description: str | None = None) -> LifecycleRule:
        return cls("untagged", "sinceImagePushed", days, description=description)

    @classmethod
    def expire_older_than(
        cls, days: int, *, prefixes: Sequence[str] = (), description: str | None = None
    ) -> LifecycleRule:
        return cls.selecting("sinceImagePushed", days, prefixes=prefixes, description=description)

    @classmethod
    def archive_unpulled_after(
        cls, days: int, *, prefixes: Sequence[str] = (), description: str | None = None
    ) -> LifecycleRule:
        return cls.selecting(
            "sinceImagePulled",
            days,
            prefixes=prefixes,
            action="transition",
            description=description,
        )

    @classmethod
    def expire_archived_after(cls, days: int, description: str | None = None) -> LifecycleRule:
        return cls(
            "any", "sinceImageTransitioned", days, storage_class="archive", description=description
        )

    @property
    def is_any(self) -> bool:
        return self.tag_status == "any"

    def to_json(self, priority: int) -> dict[str, Any]:
        selection: dict[str, Any] = {"tagStatus": self.tag_status}
        if self.tag_patterns:
            selection["tagPatternList"] = list(self.tag_patterns)
        if self.tag_prefixes:
            selection["tagPrefixList"] = list(self.tag_prefixes)
        if self.storage_class != "standard":
            selection["storageClass"] = self.storage_class
        selection["countType"] = self.count_type
        if self.count_type != "imageCountMoreThan":
            selection["countUnit"] = "days"
        selection["countNumber"] = self.count_number
        action: dict[str, Any] = {"type": self.action}
        if self.action == "transition":
            action["targetStorageClass"] = "archive"
        rule: dict[str, Any] = {"rulePriority": priority}
        if self.description:
            rule["description"] = self.description
        rule["selection"] = selection
        rule["action"] = action
        return rule


def policy_from_rules(rules: Sequence[LifecycleRule]) -> dict[str, Any]:
    """Priorities 1..n in the given order, standard-class rules first, each class's `any` rule last."""
    ordered = sorted(rules, key=lambda r: (r.storage_class == "archive", r.is_any))
    return validate_lifecycle_policy({"rules": [r.to_json(i) for i, r in enumerate(ordered, 1)]})


def rule_from_config(value: Mapping[str, Any], index: int = 0) -> LifecycleRule:
    where = f"[{index}]"
    if not isinstance(value, Mapping):
        raise LifecyclePolicyError(
            where, f'rules[{index}]: expected an object such as {{keep: 10, tagPrefix: "v"}}'
        )
    for key in value:
        if not isinstance(key, str) or key not in (*ACTIONS, *SELECTORS, "description"):
            raise LifecyclePolicyError(
                f"{where}.{key}" if isinstance(key, str) else where,
                f"unknown key {show(key)}; rules use one of {', '.join(ACTIONS)} with {', '.join(SELECTORS)}",
            )
    actions = [a for a in ACTIONS if a in value]
    if len(actions) != 1:
        raise LifecyclePolicyError(
            where, f"rules[{index}]: give exactly one of {', '.join(ACTIONS)}"
        )
    action = actions[0]
    number = value[action]
    if isinstance(number, bool) or not isinstance(number, int) or number < 1:
        raise LifecyclePolicyError(
            f"{where}.{action}", f"{show(number)} is not allowed; expected an integer >= 1"
        )
    description = value.get("description")
    if description is not None and not isinstance(description, str):
        raise LifecyclePolicyError(f"{where}.description", "must be a string")
    prefixes, patterns, any_ = _selector(value, where)
    has_selector = bool(prefixes or patterns or any_)
    if action in ("expireUntaggedAfterDays", "expireArchivedAfterDays") and has_selector:
        raise LifecyclePolicyError(where, f"{action} takes no tag selector")
    if action in ("keep", "expireAfterDays") and not has_selector:
        raise LifecyclePolicyError(
            where,
            f"{action} needs one of tagPrefix, tagPrefixes, tagPattern, tagPatterns or any: true",
        )
    return _rule(action, number, prefixes, patterns, description)


# The `selection.countType` (and action) each selecting shorthand stands for.
_SELECTING = {
    "keep": ("imageCountMoreThan", "expire"),
    "expireAfterDays": ("sinceImagePushed", "expire"),
    "archiveAfterDaysUnpulled": ("sinceImagePulled", "transition"),
}


def _rule(
    action: str,
    number: int,
    prefixes: tuple[str, ...],
    patterns: tuple[str, ...],
    description: str | None,
) -> LifecycleRule:
    """The rule one validated shorthand (`keep: 10, tagPrefix: v`, ...) stands for."""
    if action in _SELECTING:
        count_type, rule_action = _SELECTING[action]
        return LifecycleRule.selecting(
            count_type,
            number,
            action=rule_action,
            prefixes=prefixes,
            patterns=patterns,
            description=description,
        )
    if action == "expireUntaggedAfterDays":
        return LifecycleRule.expire_untagged_after(number, description)
    return LifecycleRule.expire_archived_after(number, description)


def _selector(
    value: Mapping[str, Any], where: str
) -> tuple[tuple[str, ...], tuple[str, ...], bool]:
    given = [s for s in SELECTORS if s in value]
    if len(given) > 1:
        raise LifecyclePolicyError(where, f"give one tag selector, not {', '.join(given)}")
    if not given:
        return (), (), False
    key = given[0]
    raw = value[key]
    if key == "any":
        if raw is not True:
            raise LifecyclePolicyError(f"{where}.any", "must be true")
        return (), (), True
    items = [raw] if key in ("tagPrefix", "tagPattern") else raw
    if not isinstance(items, list) or not items or not all(isinstance(i, str) and i for i in items):
        raise LifecyclePolicyError(
            f"{where}.{key}", f"{show(raw)} is not allowed; expected non-empty strings"
        )
    if key.startswith("tagPrefix"):
        return tuple(items), (), False
    return (), tuple(items), False


def policy_from_config(rules: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    built = [rule_from_config(r, i) for i, r in enumerate(rules)]
    return policy_from_rules(built)


# release-archive's numbers: ECR's 90-day archive minimum is also the longest a release has gone
# unpulled while it could still be rolled back to; a year in archive covers a yearly audit.
ARCHIVE_AFTER_DAYS_UNPULLED = 90
EXPIRE_ARCHIVED_AFTER_DAYS = 365

PRESETS: dict[str, tuple[LifecycleRule, ...]] = {
    "keep-last-10": (LifecycleRule.keep_last(10, description="keep the 10 most recent images"),),
    "env-prefixes": (
        LifecycleRule.keep_last(10, prefixes=["prod-"], description="keep 10 prod- images"),
        LifecycleRule.keep_last(10, prefixes=["v"], description="keep 10 v (release) images"),
        LifecycleRule.keep_last(5, prefixes=["staging-"], description="keep 5 staging- images"),
        LifecycleRule.keep_last(5, prefixes=["dev-"], description="keep 5 dev- images"),
        LifecycleRule.expire_untagged_after(7, description="expire untagged images after 7 days"),
    ),
    "release-channels": (
        LifecycleRule.keep_last(10, prefixes=["v"], description="keep 10 v images"),
        LifecycleRule.keep_last(10, prefixes=["release"], description="keep 10 release images"),
        LifecycleRule.keep_last(10, prefixes=["prod"], description="keep 10 prod images"),
        LifecycleRule.expire_older_than(
            7, prefixes=["dev"], description="expire dev images after 7 days"
        ),
        LifecycleRule.expire_older_than(
            7, prefixes=["staging"], description="expire staging images after 7 days"
        ),
        LifecycleRule.expire_untagged_after(1, description="expire untagged images after 1 day"),
    ),
    # Prod's: release images are kept for audits, not counted away. Archived images cannot be
    # pulled (restored within 20 minutes) and ECR bills 90 days of archive whatever happens, so
    # only what nobody pulled for 90 days goes, and goes for a year (docs/lifecycle.md).
    "release-archive": (
        *(
            LifecycleRule.archive_unpulled_after(
                ARCHIVE_AFTER_DAYS_UNPULLED,
                prefixes=[prefix],
                description=f"archive {prefix} images not pulled for 90 days",
            )
            for prefix in ("v", "release", "prod")
        ),
        LifecycleRule.expire_older_than(
            7, prefixes=["dev"], description="expire dev images after 7 days"
        ),
        LifecycleRule.expire_older_than(
            7, prefixes=["staging"], description="expire staging images after 7 days"
        ),
        LifecycleRule.expire_untagged_after(1, description="expire untagged images after 1 day"),
        LifecycleRule.expire_archived_after(
            EXPIRE_ARCHIVED_AFTER_DAYS, description="expire archived images after 365 days"
        ),
    ),
}


def preset_policy(name: str) -> dict[str, Any]:
    if name not in PRESETS:
        raise ValueError(f"{name!r} is not a preset; use one of {', '.join(sorted(PRESETS))}")
    return policy_from_rules(PRESETS[name])
