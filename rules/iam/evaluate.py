"""A small IAM policy evaluator for identity policies and permissions boundaries, offline.

The CI policies are tested by asking what a request (action, resource ARN, request context) gets,
the way IAM decides it: an explicit Deny in any policy wins; otherwise every policy *set* (the
identity policies, then the boundary) must allow the request
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html).
It covers what the project's documents use: Action/NotAction, Resource/NotResource with `*` and
`?` wildcards, and the String/Arn/Bool/Null operators with `...IfExists` and the
`ForAllValues:`/`ForAnyValue:` set qualifiers
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html).
An operator it does not know raises instead of guessing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

ContextValue = str | Sequence[str]


@dataclass(frozen=True)
class Request:
    action: str
    resource: str
    context: Mapping[str, ContextValue] = field(default_factory=dict)


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


@lru_cache(maxsize=4096)
def _glob(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    body = "".join(
        ".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern
    )  # `*` and `?` are the only wildcards IAM knows
    return re.compile(body, re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def glob_match(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    return _glob(pattern, ignore_case).fullmatch(value) is not None


def _arn_like(pattern: str, value: str) -> bool:
    """ArnLike compares the six `:`-separated ARN parts one by one (a `*` stays in its part)."""
    p_parts, v_parts = pattern.split(":", 5), value.split(":", 5)
    if len(p_parts) != 6 or len(v_parts) != 6:
        return False
    return all(glob_match(p, v) for p, v in zip(p_parts, v_parts, strict=True))


_MATCHERS: dict[str, Callable[[str, str], bool]] = {
    "StringEquals": lambda p, v: p == v,
    "StringEqualsIgnoreCase": lambda p, v: p.lower() == v.lower(),
    "StringLike": glob_match,
    "ArnEquals": _arn_like,
    "ArnLike": _arn_like,
    "Bool": lambda p, v: p.lower() == v.lower(),
}
_NEGATED = {
    "StringNotEquals": "StringEquals",
    "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
    "StringNotLike": "StringLike",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
}


def _lookup(context: Mapping[str, ContextValue], key: str) -> list[str] | None:
    """Condition key names are case-insensitive; values are not."""
    for name, value in context.items():
        if name.lower() == key.lower():
            return [value] if isinstance(value, str) else list(value)
    return None


def _condition(operator: str, key: str, wanted: list[Any], context: Mapping[str, Any]) -> bool:
    qualifier, _, op = operator.rpartition(":")
    if_exists = op.endswith("IfExists") and op != "IfExists"
    op = op.removesuffix("IfExists")
    present = _lookup(context, key)
    patterns = [str(w) for w in wanted]
    if op == "Null":
        return (present is None) == (patterns[0].lower() == "true")
    negated = op in _NEGATED
    matcher = _MATCHERS.get(_NEGATED.get(op, op))
    if matcher is None or qualifier not in ("", "ForAllValues", "ForAnyValue"):
        raise ValueError(f"unsupported condition operator {operator!r}")
    if present is None:
        # Missing key: IfExists and ForAllValues hold, negated operators hold, the rest fail.
        return if_exists or qualifier == "ForAllValues" or (negated and qualifier == "")

    def hit(value: str) -> bool:
        matched = any(matcher(p, value) for p in patterns)
        return not matched if negated else matched

    if qualifier == "ForAllValues":
        return all(hit(v) for v in present)
    if qualifier == "ForAnyValue":
        return any(hit(v) for v in present)
    if len(present) != 1:
        raise ValueError(f"{key} is multivalued; use ForAllValues or ForAnyValue")
    return hit(present[0])


def conditions_hold(block: Mapping[str, Mapping[str, Any]], context: Mapping[str, Any]) -> bool:
    """Operators AND, keys within an operator AND, values of one key OR."""
    return all(
        _condition(operator, key, as_list(wanted), context)
        for operator, keys in block.items()
        for key, wanted in keys.items()
    )


def _matches(statement: Mapping[str, Any], request: Request) -> bool:
    if "Action" in statement:
        acts = any(
            glob_match(a, request.action, ignore_case=True) for a in as_list(statement["Action"])
        )
    else:
        acts = not any(
            glob_match(a, request.action, ignore_case=True) for a in as_list(statement["NotAction"])
        )
    if not acts:
        return False
    if "Resource" in statement:
        on = any(glob_match(r, request.resource) for r in as_list(statement["Resource"]))
    else:
        on = not any(glob_match(r, request.resource) for r in as_list(statement["NotResource"]))
    return on and conditions_hold(statement.get("Condition", {}), request.context)


def decide(documents: Iterable[Mapping[str, Any]], request: Request) -> str:
    """`Deny` (explicit), `Allow`, or `Implicit` (no statement applies) for one policy set."""
    allowed = False
    for document in documents:
        for statement in as_list(document["Statement"]):
            if _matches(statement, request):
                if statement["Effect"] == "Deny":
                    return "Deny"
                allowed = True
    return "Allow" if allowed else "Implicit"


def is_allowed(
    identity: Sequence[Mapping[str, Any]],
    request: Request,
    boundary: Mapping[str, Any] | None = None,
) -> bool:
    """Allowed only if no policy denies it, the identity policies allow it, and so does the
    boundary when the role has one (the effective permissions are the intersection)."""
    sets = [list(identity)] + ([[boundary]] if boundary is not None else [])
    decisions = [decide(s, request) for s in sets]
    return "Deny" not in decisions and all(d == "Allow" for d in decisions)
