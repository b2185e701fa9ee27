"""Every documented ECR lifecycle constraint, checked before `PutLifecyclePolicy` would refuse it.

Constraint numbers (V1..V18) name the rules documented in
https://docs.aws.amazon.com/AmazonECR/latest/userguide/LifecyclePolicies.html and
https://docs.aws.amazon.com/AmazonECR/latest/userguide/lifecycle_policy_parameters.html. Where AWS
leaves a gap we refuse the doubtful case, so a policy that passes here is one ECR accepts.
"""

from __future__ import annotations

import json
from typing import Any

from rules.lifecycle.errors import LifecyclePolicyError, show

MAX_RULES = 50
MIN_TEXT, MAX_TEXT = 100, 30720
TAG_STATUS = ("tagged", "untagged", "any")
COUNT_TYPES = (
    "imageCountMoreThan",
    "sinceImagePushed",
    "sinceImagePulled",
    "sinceImageTransitioned",
)
TIME_COUNTS = ("sinceImagePushed", "sinceImagePulled", "sinceImageTransitioned")
STORAGE_CLASSES = ("standard", "archive")
ACTIONS = ("expire", "transition")
RULE_KEYS = ("rulePriority", "description", "selection", "action")
SELECTION_KEYS = (
    "tagStatus",
    "tagPatternList",
    "tagPrefixList",
    "storageClass",
    "countType",
    "countUnit",
    "countNumber",
)
ACTION_KEYS = ("type", "targetStorageClass")
ARCHIVE_MINIMUM_DAYS = 90
# Gap: AWS documents no maximum for rulePriority or countNumber. ECR's API is Java-typed, so a
# number beyond a 32-bit signed integer is doubtful: refused (the conservative reading).
MAX_NUMBER = 2**31 - 1


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _in_range(value: Any) -> bool:
    return _is_int(value) and 1 <= value <= MAX_NUMBER


class _Rule:
    """Checks one rule, with messages like `rule 2: selection.countNumber: 0 is not allowed; ...`."""

    def __init__(self, index: int, rule: Any) -> None:
        self.index = index
        self.rule = rule
        self.label = f"rules[{index}]"

    def fail(self, field: str, message: str) -> LifecyclePolicyError:
        priority = self.rule.get("rulePriority") if isinstance(self.rule, dict) else None
        who = f"rule {priority}" if _in_range(priority) else f"rules[{self.index}]"
        path = f"{self.label}.{field}" if field else self.label
        return LifecyclePolicyError(path, f"{who}: {field or 'rule'}: {message}")

    def check(self) -> dict[str, Any]:
        rule = self.rule
        if not isinstance(rule, dict):
            raise self.fail("", f"{show(rule)} is not allowed; a rule is an object")
        self._keys(rule, RULE_KEYS, "")
        for key in ("rulePriority", "selection", "action"):
            if key not in rule:
                raise self.fail(key, "is required")
        priority = rule["rulePriority"]
        if not _in_range(priority):
            raise self.fail(
                "rulePriority",
                f"{show(priority)} is not allowed; ECR needs an integer >= 1 (at most {MAX_NUMBER})",
            )
        if "description" in rule and not isinstance(rule["description"], str):
            raise self.fail("description", "must be a string")
        selection = self._selection(rule["selection"])
        action = self._action(rule["action"])
        self._combination(selection, action)
        out: dict[str, Any] = {"rulePriority": priority}
        if "description" in rule:
            out["description"] = rule["description"]
        out["selection"] = selection
        out["action"] = action
        return out

    def _keys(self, obj: dict[str, Any], allowed: tuple[str, ...], where: str) -> None:
        for key, value in obj.items():
            if not isinstance(key, str):
                raise self.fail(where, f"{show(key)} is not allowed as a key; keys are strings")
            field = f"{where}.{key}" if where else key
            if key not in allowed:
                raise self.fail(field, f"unknown key; allowed keys are {', '.join(allowed)}")
            if value is None:  # V17: ECR's schema rejects nulls; omit the key instead.
                raise self.fail(field, "null is not allowed; omit the key instead")

    def _selection(self, sel: Any) -> dict[str, Any]:
        if not isinstance(sel, dict):
            raise self.fail("selection", "must be an object")
        self._keys(sel, SELECTION_KEYS, "selection")
        for key in ("tagStatus", "countType", "countNumber"):
            if key not in sel:
                raise self.fail(f"selection.{key}", "is required")
        status = sel["tagStatus"]
        if status not in TAG_STATUS:
            raise self.fail(
                "selection.tagStatus",
                f"{show(status)} is not allowed; use one of {', '.join(TAG_STATUS)}",
            )
        has_prefix, has_pattern = "tagPrefixList" in sel, "tagPatternList" in sel
        if status == "tagged":
            if has_prefix == has_pattern:  # V5, V7
                raise self.fail(
                    "selection",
                    "a tagged rule needs exactly one of tagPrefixList and tagPatternList",
                )
        elif has_prefix or has_pattern:  # V6
            field = "tagPrefixList" if has_prefix else "tagPatternList"
            raise self.fail(
                f"selection.{field}", f"is only allowed with tagStatus tagged, not {status}"
            )
        out: dict[str, Any] = {"tagStatus": status}
        for field in ("tagPatternList", "tagPrefixList"):
            if field in sel:
                out[field] = self._tag_list(field, sel[field])
        storage = sel.get("storageClass")
        if storage is not None:
            if storage not in STORAGE_CLASSES:
                raise self.fail(
                    "selection.storageClass",
                    f"{show(storage)} is not allowed; use standard or archive",
                )
            out["storageClass"] = storage
        out.update(self._count(sel))
        return out

    def _count(self, sel: dict[str, Any]) -> dict[str, Any]:
        """countType, countUnit (with, and only with, the age counts) and countNumber."""
        count_type = sel["countType"]
        if count_type not in COUNT_TYPES:
            raise self.fail(
                "selection.countType",
                f"{show(count_type)} is not allowed; use one of {', '.join(COUNT_TYPES)}",
            )
        out: dict[str, Any] = {"countType": count_type}
        if count_type in TIME_COUNTS:  # V9
            if sel.get("countUnit") != "days":
                raise self.fail(
                    "selection.countUnit",
                    f'{show(sel.get("countUnit"))} is not allowed; {count_type} needs countUnit "days"',
                )
            out["countUnit"] = "days"
        elif "countUnit" in sel:
            raise self.fail(
                "selection.countUnit", "is not allowed with imageCountMoreThan; omit it"
            )
        number = sel["countNumber"]
        if not _in_range(number):  # V10
            raise self.fail(
                "selection.countNumber",
                f"{show(number)} is not allowed; ECR needs an integer >= 1 (at most {MAX_NUMBER})",
            )
        out["countNumber"] = number
        return out

    def _tag_list(self, field: str, value: Any) -> list[str]:
        where = f"selection.{field}"
        if not isinstance(value, list) or not value:
            raise self.fail(
                where, f"{show(value)} is not allowed; expected a non-empty list of strings"
            )
        for i, entry in enumerate(value):
            if not isinstance(entry, str) or not entry:
                raise self.fail(
                    f"{where}[{i}]",
                    f"{show(entry)} is not allowed; expected a non-empty string",
                )
            if field == "tagPatternList" and entry.count("*") > 4:  # V8
                raise self.fail(
                    f"{where}[{i}]",
                    f"{entry!r} is not allowed; at most four '*' wildcards per pattern",
                )
        if len(set(value)) != len(value):
            raise self.fail(where, f"{show(value)} repeats an entry")
        return list(value)

    def _action(self, action: Any) -> dict[str, Any]:
        if not isinstance(action, dict):
            raise self.fail("action", "must be an object")
        self._keys(action, ACTION_KEYS, "action")
        kind = action.get("type")
        if kind not in ACTIONS:
            raise self.fail("action.type", f"{show(kind)} is not allowed; use expire or transition")
        out: dict[str, Any] = {"type": kind}
        target = action.get("targetStorageClass")
        if kind == "transition":
            if target != "archive":  # V14
                raise self.fail(
                    "action.targetStorageClass",
                    f'{show(target)} is not allowed; transition needs "archive"',
                )
            out["targetStorageClass"] = "archive"
        elif target is not None:
            # Gap: undocumented whether expire tolerates it; omitting is always accepted.
            raise self.fail(
                "action.targetStorageClass", "is only allowed with action type transition"
            )
        return out

    def _combination(self, sel: dict[str, Any], action: dict[str, Any]) -> None:
        count_type, storage = sel["countType"], sel.get("storageClass", "standard")
        if count_type == "sinceImageTransitioned":  # V11, V13, V18
            if sel.get("storageClass") != "archive":
                raise self.fail(
                    "selection.storageClass", 'sinceImageTransitioned needs storageClass "archive"'
                )
            if action["type"] != "expire":
                raise self.fail("action.type", "sinceImageTransitioned only works with expire")
            if sel["countNumber"] < ARCHIVE_MINIMUM_DAYS:
                raise self.fail(
                    "selection.countNumber",
                    f"{sel['countNumber']} is not allowed; archived images stay at least {ARCHIVE_MINIMUM_DAYS} days",
                )
        elif storage != "standard":  # V11
            raise self.fail(
                "selection.storageClass",
                f'"archive" is not allowed with {count_type}; only sinceImageTransitioned selects archived images',
            )
        if count_type == "sinceImagePulled" and action["type"] != "transition":  # V12
            raise self.fail(
                "action.type",
                "sinceImagePulled only works with transition (archive first, then expire with sinceImageTransitioned)",
            )


def normalize_rules(policy: dict[str, Any] | str) -> list[dict[str, Any]]:
    if isinstance(policy, str):
        try:
            policy = json.loads(policy)
        except json.JSONDecodeError as exc:
            raise LifecyclePolicyError("", f"not valid JSON: {exc}") from None
    if not isinstance(policy, dict):
        raise LifecyclePolicyError("", "a lifecycle policy is an object with a `rules` list")
    for key in policy:
        if key != "rules":
            raise LifecyclePolicyError(key, f"{key}: unknown key; a policy has only `rules`")
    rules = policy.get("rules")
    if not isinstance(rules, list) or not rules:
        raise LifecyclePolicyError("rules", "rules: expected a non-empty list of rules")
    if len(rules) > MAX_RULES:  # V2
        raise LifecyclePolicyError(
            "rules", f"rules: {len(rules)} rules is not allowed; ECR allows at most {MAX_RULES}"
        )
    checked = [(i, _Rule(i, r).check()) for i, r in enumerate(rules)]
    _across_rules(checked)
    return [r for _, r in sorted(checked, key=lambda item: item[1]["rulePriority"])]


def _across_rules(checked: list[tuple[int, dict[str, Any]]]) -> None:
    seen: dict[int, int] = {}
    for i, rule in checked:  # V3
        priority = rule["rulePriority"]
        if priority in seen:
            raise LifecyclePolicyError(
                f"rules[{i}].rulePriority",
                f"rule {priority}: rulePriority: {priority} is already used by rules[{seen[priority]}]",
            )
        seen[priority] = i
    by_class: dict[str, list[tuple[int, dict[str, Any]]]] = {}
    for i, rule in checked:
        by_class.setdefault(rule["selection"].get("storageClass", "standard"), []).append((i, rule))
    for storage, rules in by_class.items():
        any_rules = [(i, r) for i, r in rules if r["selection"]["tagStatus"] == "any"]
        if len(any_rules) > 1:
            i, r = any_rules[1]
            raise LifecyclePolicyError(
                f"rules[{i}].selection.tagStatus",
                f'rule {r["rulePriority"]}: selection.tagStatus: only one "any" rule is allowed per storage class ({storage})',
            )
        if any_rules:  # V4
            i, r = any_rules[0]
            top = max(x["rulePriority"] for _, x in rules)
            if r["rulePriority"] != top:
                raise LifecyclePolicyError(
                    f"rules[{i}].rulePriority",
                    f'rule {r["rulePriority"]}: rulePriority: the "any" rule must have the highest priority number of the {storage} rules ({top})',
                )
        untagged = [(i, r) for i, r in rules if r["selection"]["tagStatus"] == "untagged"]
        if len(untagged) > 1:  # V15
            i, r = untagged[1]
            raise LifecyclePolicyError(
                f"rules[{i}].selection.tagStatus",
                f"rule {r['rulePriority']}: selection.tagStatus: only one rule may select untagged images per storage class ({storage})",
            )
        sets: dict[tuple[str, frozenset[str]], int] = {}
        for i, r in rules:  # V16 (pattern sets too: the conservative reading of a gap)
            for field in ("tagPrefixList", "tagPatternList"):
                if field in r["selection"]:
                    key = (field, frozenset(r["selection"][field]))
                    if key in sets:
                        raise LifecyclePolicyError(
                            f"rules[{i}].selection.{field}",
                            f"rule {r['rulePriority']}: selection.{field}: the same set as rules[{sets[key]}]; each rule needs a unique set",
                        )
                    sets[key] = i


def render_rules(rules: list[dict[str, Any]]) -> str:
    """Canonical text: rules by priority, fixed key order, compact: no perpetual diff."""
    return json.dumps({"rules": rules}, separators=(",", ":"), ensure_ascii=False)


def validate_lifecycle_policy(policy: dict[str, Any] | str) -> dict[str, Any]:
    """The normalized policy (rules sorted by priority) or `LifecyclePolicyError` naming rule and field."""
    rules = normalize_rules(policy)
    text = render_rules(rules)
    if not MIN_TEXT <= len(text) <= MAX_TEXT:  # V1
        raise LifecyclePolicyError(
            "rules", f"policy text is {len(text)} characters; ECR needs {MIN_TEXT} to {MAX_TEXT}"
        )
    return {"rules": rules}


def render_policy(policy: dict[str, Any] | str) -> str:
    return render_rules(validate_lifecycle_policy(policy)["rules"])
