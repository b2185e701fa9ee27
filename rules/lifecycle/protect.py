"""Deployed-image protection: the deploy prefix is kept first, so no rule can expire what runs.

ECR guarantees that an image selected by a higher-priority rule is never acted on by a lower one,
so a first rule "keep the N most recent `<prefix>` images" shields the running image and its
rollback targets from every later rule, age-based ones included.
"""

from __future__ import annotations

import re
from typing import Any

from rules.lifecycle.evaluate import pattern_regex
from rules.lifecycle.validate import validate_lifecycle_policy


def protection_rule(prefix: str, keep: int) -> dict[str, Any]:
    return {
        "rulePriority": 1,
        "description": f"keep the {keep} most recent deploys ({prefix}*): running image and rollbacks",
        "selection": {
            "tagStatus": "tagged",
            "tagPrefixList": [prefix],
            "countType": "imageCountMoreThan",
            "countNumber": keep,
        },
        "action": {"type": "expire"},
    }


def _selects_prefix(rule: dict[str, Any], prefix: str) -> bool:
    """Whether the rule's tag-prefix set is exactly the deploy prefix (in standard storage)."""
    sel = rule["selection"]
    return (
        sel.get("tagPrefixList") == [prefix] and sel.get("storageClass", "standard") == "standard"
    )


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
    """The policy with a rule keeping exactly `keep` deploys first (priorities shifted), and what
    changed. Rules for exactly the deploy prefix are replaced by it (see `deploy_prefix_conflict`
    for when that must be refused instead)."""
    rules = validate_lifecycle_policy(policy)["rules"]
    if _is_protection(rules[0], prefix, keep):
        return {"rules": rules}, []
    changes = []
    rest = []
    for rule in rules:
        if _selects_prefix(rule, prefix):
            # A second rule with the same prefix set would break ECR's unique-set rule.
            changes.append(
                f"rule {rule['rulePriority']} (prefix {prefix!r}) replaced by the protection rule, "
                f"which keeps exactly {keep}"
            )
            continue
        rest.append(rule)
    first = protection_rule(prefix, keep)
    shifted = [first] + [{**r, "rulePriority": i} for i, r in enumerate(rest, 2)]
    changes.insert(
        0,
        f"prepended a rule keeping the {keep} most recent {prefix!r} images so the deployed image "
        "cannot be expired; later rules shifted by one priority",
    )
    return validate_lifecycle_policy({"rules": shifted}), changes


def build_cache_rule(tag: str, priority: int = 2) -> dict[str, Any]:
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
    """The policy with `build_cache_rule(tag)` second, right after the deploy protection (which
    stays first), later rules shifted by one; and what changed.

    A rule of the user's for exactly the pattern set `[tag]` is replaced (ECR takes one rule per
    set, and the cache is the stack's own). Applying it twice changes nothing.
    """
    rules = validate_lifecycle_policy(policy)["rules"]
    keep = build_cache_rule(tag)
    if len(rules) > 1 and rules[1] == keep:
        return {"rules": rules}, []
    changes = [
        f"inserted rule 2 keeping the build cache image (tag {tag!r}) so no rule expires it; "
        "later rules shifted by one priority"
    ]
    rest = []
    for rule in rules[1:]:
        if rule["selection"].get("tagPatternList") == [tag]:
            changes.append(f"rule {rule['rulePriority']} (pattern {tag!r}) replaced by it")
            continue
        rest.append(rule)
    shifted = [rules[0], keep] + [{**r, "rulePriority": i} for i, r in enumerate(rest, 3)]
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
