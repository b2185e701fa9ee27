"""Deployed-image protection: what runs, then the deploy prefix, are kept first.

ECR guarantees that an image selected by a higher-priority rule is never acted on by a lower one.
ECR cannot read ECS, so the CI deploy marks the digest each service runs (and the one it ran
before) with a running marker tag, `<deploy prefix>running-current` / `-previous`
(`cli.lifecycle mark`). Rule 1 keeps every marked image: far fewer exist than its count, so it never
expires or archives one, and because it selects them no later rule, an archive rule included, may
act on them. Rule 2 keeps the N most recent deploy-tagged images: the image a rollout is starting
before the deploy marks it, and recent rollback targets.
"""

from __future__ import annotations

import re
from typing import Any

from rules.lifecycle.evaluate import pattern_regex
from rules.lifecycle.validate import validate_lifecycle_policy

# The slots the deploy moves: what runs now, and what ran before (the rollback target, and what
# the old tasks of a rollout still run). Two per repository: one service per repository.
MARKER_SLOTS = ("current", "previous")
# Rule 1's count: far above the two slots, so no marked image is ever beyond it; the margin holds
# markers an operator adds by hand (`<prefix>running-hold-...`) to pin a digest.
MARKER_KEEP = 100


def marker_prefix(deploy_prefix: str) -> str:
    """`prod-` -> `prod-running-`: starts with the deploy prefix (extraTags may not), and `r` is no
    hex digit, so no content tag (`<prefix><16 hex>`) ever starts with it."""
    return f"{deploy_prefix}running-"


def marker_tags(deploy_prefix: str) -> tuple[str, ...]:
    return tuple(f"{marker_prefix(deploy_prefix)}{slot}" for slot in MARKER_SLOTS)


def marker_rule(deploy_prefix: str) -> dict[str, Any]:
    prefix = marker_prefix(deploy_prefix)
    return {
        "rulePriority": 1,
        "description": f"keep every image marked {prefix}*: what the services run and ran before",
        "selection": {
            "tagStatus": "tagged",
            "tagPrefixList": [prefix],
            "countType": "imageCountMoreThan",
            "countNumber": MARKER_KEEP,
        },
        "action": {"type": "expire"},
    }


def protection_rule(
    prefix: str, keep: int, priority: int = 2, *, archive: bool = False
) -> dict[str, Any]:
    """Keep the `keep` most recent deploys; older ones are expired, or archived in a policy that
    archives (every image CI pushes carries a deploy tag, so an expiring rule here would delete
    the release images that policy means to archive)."""
    rule: dict[str, Any] = {
        "rulePriority": priority,
        "description": f"keep the {keep} most recent deploys ({prefix}*): running image and rollbacks",
        "selection": {
            "tagStatus": "tagged",
            "tagPrefixList": [prefix],
            "countType": "imageCountMoreThan",
            "countNumber": keep,
        },
        "action": {"type": "expire"},
    }
    if archive:
        rule["description"] = f"keep the {keep} most recent deploys ({prefix}*), archive older ones"
        rule["action"] = {"type": "transition", "targetStorageClass": "archive"}
    return rule


def archives(policy: dict[str, Any]) -> bool:
    return any(r["action"]["type"] == "transition" for r in policy["rules"])


def _selects_prefix(rule: dict[str, Any], prefix: str) -> bool:
    """Whether the rule's tag-prefix set is exactly the deploy prefix (in standard storage)."""
    sel = rule["selection"]
    return (
        sel.get("tagPrefixList") == [prefix] and sel.get("storageClass", "standard") == "standard"
    )


def _selects_marker(rule: dict[str, Any], prefix: str) -> bool:
    return _selects_prefix(rule, marker_prefix(prefix))


def _is_protection(rule: dict[str, Any], prefix: str, keep: int) -> bool:
    sel = rule["selection"]
    return (
        _selects_prefix(rule, prefix)
        and sel["countType"] == "imageCountMoreThan"
        and sel["countNumber"] == keep
    )


def deploy_prefix_conflict(rule: dict[str, Any], prefix: str, keep: int) -> str | None:
    """Why a rule someone wrote cannot stand beside the protection rule, or None if it can.

    ECR takes one rule per tag-prefix set and storage class, so a rule for exactly the deploy
    prefix would have to be merged into the protection rule. Merging silently would change what
    the user wrote (keep 20 becoming keep 10 deletes images they meant to keep; keep 5 becoming 10
    keeps more than they meant), so only an identical rule merges; any other is refused, naming
    both numbers, and the user picks one. The stack's own presets are ours to merge.
    """
    if _selects_marker(rule, prefix) and rule["selection"] != marker_rule(prefix)["selection"]:
        return (
            f"a rule for images tagged {marker_prefix(prefix)}* is not allowed; the stack's first "
            f"rule keeps every one of them (the digests the services run): drop this rule"
        )
    if not _selects_prefix(rule, prefix) or _is_protection(rule, prefix, keep):
        return None
    sel = rule["selection"]
    owned = (
        f"the stack's first rule keeps exactly deployProtectionCount ({keep}) of them and ECR "
        "takes one rule per tag-prefix set"
    )
    if sel["countType"] == "imageCountMoreThan":
        return (
            f"keeping {sel['countNumber']} images tagged {prefix}* is not allowed; {owned}: "
            f"set deployProtectionCount to {sel['countNumber']}, or drop this rule"
        )
    return (
        f"a {sel['countType']} rule for images tagged {prefix}* is not allowed; {owned}: "
        "drop this rule (select a longer prefix to expire some of them)"
    )


def protect_deploy_prefix(
    policy: dict[str, Any] | str, prefix: str, keep: int = 10
) -> tuple[dict[str, Any], list[str]]:
    """The policy with the running-marker rule first and a rule keeping exactly `keep` deploys
    second (later priorities shifted), and what changed. Rules for exactly either prefix are
    replaced by them (see `deploy_prefix_conflict` for when that must be refused instead)."""
    rules = validate_lifecycle_policy(policy)["rules"]
    first = marker_rule(prefix)
    second = protection_rule(prefix, keep, archive=archives({"rules": rules}))
    if rules[:2] == [first, second]:
        return {"rules": rules}, []
    changes = []
    rest = []
    for rule in rules:
        if _selects_marker(rule, prefix):
            changes.append(
                f"rule {rule['rulePriority']} (prefix {marker_prefix(prefix)!r}) replaced by "
                "the running-marker rule"
            )
            continue
        if _selects_prefix(rule, prefix):
            # A second rule with the same prefix set would break ECR's unique-set rule.
            changes.append(
                f"rule {rule['rulePriority']} (prefix {prefix!r}) replaced by the protection rule, "
                f"which keeps exactly {keep}"
            )
            continue
        rest.append(rule)
    shifted = [first, second]
    shifted += [{**r, "rulePriority": i} for i, r in enumerate(rest, 3)]
    changes.insert(
        0,
        f"prepended a rule keeping every image marked {marker_prefix(prefix)}* and one keeping the "
        f"{keep} most recent {prefix!r} images, so what runs cannot be expired or archived; later "
        "rules shifted by two priorities",
    )
    return validate_lifecycle_policy({"rules": shifted}), changes


def build_cache_rule(tag: str, priority: int = 3) -> dict[str, Any]:
    """Keep the one image tagged `tag`: a tag names at most one image, so a count of 1 never
    expires it, and being selected here shields it from every lower (age- or count-based) rule."""
    return {
        "rulePriority": priority,
        "description": f"keep the build cache ({tag}): CI's buildx --cache-from",
        "selection": {
            "tagStatus": "tagged",
            "tagPatternList": [tag],
            "countType": "imageCountMoreThan",
            "countNumber": 1,
        },
        "action": {"type": "expire"},
    }


def keep_build_cache(policy: dict[str, Any] | str, tag: str) -> tuple[dict[str, Any], list[str]]:
    """The policy with `build_cache_rule(tag)` third, right after the two protection rules (which
    stay first), later rules shifted by one; and what changed.

    A rule of the user's for exactly the pattern set `[tag]` is replaced (ECR takes one rule per
    set, and the cache is the stack's own). Applying it twice changes nothing.
    """
    rules = validate_lifecycle_policy(policy)["rules"]
    keep = build_cache_rule(tag)
    if len(rules) > 2 and rules[2] == keep:
        return {"rules": rules}, []
    changes = [
        f"inserted rule 3 keeping the build cache image (tag {tag!r}) so no rule expires it; "
        "later rules shifted by one priority"
    ]
    rest = []
    for rule in rules[2:]:
        if rule["selection"].get("tagPatternList") == [tag]:
            changes.append(f"rule {rule['rulePriority']} (pattern {tag!r}) replaced by it")
            continue
        rest.append(rule)
    shifted = [*rules[:2], keep] + [{**r, "rulePriority": i} for i, r in enumerate(rest, 4)]
    return validate_lifecycle_policy({"rules": shifted}), changes


def multi_entry_warnings(policy: dict[str, Any] | str) -> list[str]:
    """ECR's lists are AND: say what a multi-entry list really selects."""
    warnings = []
    for rule in validate_lifecycle_policy(policy)["rules"]:
        sel = rule["selection"]
        for field, kind in (("tagPrefixList", "starting with"), ("tagPatternList", "matching")):
            entries = sel.get(field, [])
            if len(entries) > 1:
                both = " AND ".join(f"a tag {kind} {e!r}" for e in entries)
                warnings.append(
                    f"rule {rule['rulePriority']} selects only images that carry {both}; "
                    f"write one rule per entry to select any of them"
                )
    return warnings


def _matches(sel: dict[str, Any], tag: str) -> bool:
    if "tagPrefixList" in sel:
        return all(tag.startswith(p) for p in sel["tagPrefixList"])
    return all(pattern_regex(p).fullmatch(tag) for p in sel["tagPatternList"])


def _others_can_match(sel: dict[str, Any], prefix: str) -> bool:
    """Can an image whose tags avoid `prefix` be selected too (and so push ours out of a count)?"""
    if sel["tagStatus"] == "any":
        return True
    if "tagPrefixList" in sel:
        longest = max(sel["tagPrefixList"], key=len)
        return not longest.startswith(prefix)
    # Conservative for patterns: only a literal lead that starts with the prefix rules others out.
    return not all(
        re.split(r"\*", p, maxsplit=1)[0].startswith(prefix) for p in sel["tagPatternList"]
    )


def deployed_image_expiring_rule(
    policy: dict[str, Any] | str, deploy_tag: str, *, prefix: str | None = None
) -> int | None:
    """The rule that could act on the image tagged `deploy_tag` in the worst case, else None.

    Worst case: that image is the oldest in the repository, never pulled, and followed by any
    number of newer pushes whose tags do not start with the deploy prefix (and untagged images).
    """
    if prefix is None:
        prefix = deploy_tag[: deploy_tag.find("-") + 1] if "-" in deploy_tag else deploy_tag
    if not deploy_tag.startswith(prefix):
        raise ValueError(f"{deploy_tag!r} does not start with the deploy prefix {prefix!r}")
    for rule in validate_lifecycle_policy(policy)["rules"]:
        sel = rule["selection"]
        if sel.get("storageClass", "standard") != "standard":
            continue
        if sel["tagStatus"] == "untagged":
            continue
        if sel["tagStatus"] == "tagged" and not _matches(sel, deploy_tag):
            continue
        if sel["countType"] != "imageCountMoreThan":
            return int(rule["rulePriority"])  # arbitrarily old: every age rule catches it
        if _others_can_match(sel, prefix):
            return int(rule["rulePriority"])  # enough newer matches push it past the count
        return None  # kept by this rule, and selected: no lower rule may act on it
    return None
