"""IAM documents inside a resource's inputs, as single grants a reviewer can compare.

A statement with two actions on three resources grants six things; rewriting it as two statements,
reordering lists or moving an action between statements grants nothing new. Expanding every
statement into (effect, principal, action, resource, condition) grants and comparing sets shows
exactly what a change adds, however the document is laid out.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, NamedTuple


class Grant(NamedTuple):
    effect: str
    principal: str  # "" in an identity policy; `Service:ecs-tasks.amazonaws.com`, `AWS:arn...`
    action: str  # `NotAction:x` for a NotAction statement
    resource: str  # `NotResource:x` for a NotResource statement; "" in a trust policy
    condition: str  # the Condition block as compact sorted JSON, "" without one

    def describe(self) -> str:
        text = f"{self.effect} {self.action}"
        if self.resource:
            text += f" on {self.resource}"
        if self.principal:
            text += f" for {self.principal}"
        if self.condition:
            text += f" if {self.condition}"
        return text


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _principals(statement: dict[str, Any]) -> list[str]:
    for key in ("Principal", "NotPrincipal"):
        if key not in statement:
            continue
        prefix = "" if key == "Principal" else "NotPrincipal:"
        value = statement[key]
        if not isinstance(value, dict):  # "*"
            return [f"{prefix}{value}"]
        return [
            f"{prefix}{kind}:{who}"
            for kind, whos in sorted(value.items())
            for who in sorted(map(str, _listed(whos)))
        ]
    return [""]


def _keyed(statement: dict[str, Any], key: str) -> list[str]:
    if key in statement:
        return sorted(map(str, _listed(statement[key])))
    if f"Not{key}" in statement:
        return [f"Not{key}:{v}" for v in sorted(map(str, _listed(statement[f"Not{key}"])))]
    return [""]


def grants(document: dict[str, Any]) -> set[Grant]:
    """Every single grant of a policy document (identity, resource or trust policy)."""
    out: set[Grant] = set()
    for statement in _listed(document.get("Statement", [])):
        if not isinstance(statement, dict):
            continue
        effect = str(statement.get("Effect", "Allow"))
        condition = statement.get("Condition")
        cond = json.dumps(condition, sort_keys=True, separators=(",", ":")) if condition else ""
        for principal in _principals(statement):
            for action in _keyed(statement, "Action"):
                for resource in _keyed(statement, "Resource"):
                    out.add(Grant(effect, principal, action, resource, cond))
    return out


def is_document(value: Any) -> bool:
    return isinstance(value, dict) and "Statement" in value


def documents(value: Any, path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """(property path, document) for every IAM document in parsed inputs, however nested
    (`policy`, `assumeRolePolicy`, `inlinePolicies[0].policy`)."""
    if is_document(value):
        yield path, value
    elif isinstance(value, dict):
        for key, item in sorted(value.items()):
            yield from documents(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from documents(item, f"{path}[{index}]")


def all_grants(inputs: dict[str, Any]) -> set[Grant]:
    """The union of every document's grants: a grant moving between a resource's documents is
    not a new one."""
    found: set[Grant] = set()
    for _, document in documents(inputs):
        found |= grants(document)
    return found


def added_allows(old: dict[str, Any] | None, new: dict[str, Any]) -> list[Grant]:
    """The Allow grants `new` has and `old` had not (a new Deny only takes away), sorted."""
    before = all_grants(old) if old is not None else set()
    return sorted(g for g in all_grants(new) - before if g.effect == "Allow")
