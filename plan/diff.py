"""What a change does to a stack: two renders compared resource by resource, property by property.

Resources match by URN, or by an alias (a resource that names the old URN in `aliases` is moved by
`pulumi up`, not deleted and created). A resource deleted while one of the same type under the same
parents is created is a rename: for the cloud a new resource and a deleted one, which a plan of
additions alone hides. A protected resource that would be deleted or replaced stops `pulumi up`.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from plan.iam import Grant, added_allows

# Inputs that hold a physical name: changing one creates a new resource under the new name.
NAME_INPUTS = frozenset(
    {
        "name",
        "namePrefix",
        "bucket",
        "bucketPrefix",
        "family",
        "ecrRepositoryPrefix",
        "prefix",
        "domainName",
        "groupName",
    }
)
ALL_INPUTS = "*"
# Further inputs the AWS provider cannot update in place for the types this program creates
# (ForceNew in the Terraform provider Pulumi's is bridged from). A task definition is immutable:
# every change registers a new revision, which Pulumi shows as a replacement.
REPLACE_INPUTS: dict[str, frozenset[str]] = {
    "aws:ecs/taskDefinition:TaskDefinition": frozenset({ALL_INPUTS}),
    "aws:ecr/repository:Repository": frozenset({"encryptionConfigurations"}),
    "aws:iam/role:Role": frozenset({"path"}),
    "aws:iam/rolePolicy:RolePolicy": frozenset({"role"}),
    "aws:ec2/securityGroup:SecurityGroup": frozenset({"description", "vpcId"}),
    "aws:lb/targetGroup:TargetGroup": frozenset({"port", "protocol", "targetType", "vpcId"}),
    "aws:lb/loadBalancer:LoadBalancer": frozenset({"internal", "loadBalancerType"}),
    "aws:ecs/service:Service": frozenset({"cluster", "launchType"}),
    "aws:ecr/lifecyclePolicy:LifecyclePolicy": frozenset({"repository"}),
    "aws:ecr/pullThroughCacheRule:PullThroughCacheRule": frozenset({"upstreamRegistryUrl"}),
    "aws:route53/record:Record": frozenset({"zoneId"}),
    "aws:acm/certificate:Certificate": frozenset({"subjectAlternativeNames", "keyAlgorithm"}),
    "aws:appautoscaling/target:Target": frozenset(
        {"resourceId", "scalableDimension", "serviceNamespace"}
    ),
    "aws:appautoscaling/policy:Policy": frozenset(
        {"resourceId", "scalableDimension", "serviceNamespace"}
    ),
}
UPDATABLE = frozenset({"tags", "tagsAll", "skipDestroy", "trackLatest"})
RENAME_SIMILARITY = 0.5  # names less alike than this are an unrelated deletion and creation
_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


@dataclass(frozen=True)
class Resource:
    urn: str
    type: str
    name: str
    inputs: dict[str, Any]  # JSON text inputs (policies, container definitions) parsed
    protect: bool = False
    aliases: tuple[str, ...] = ()

    @classmethod
    def from_dump(cls, item: dict[str, Any]) -> Resource:
        return cls(
            item["urn"],
            item["type"],
            item["name"],
            {k: _parsed(v) for k, v in item["inputs"].items()},
            bool(item.get("protect")),
            tuple(item.get("aliases") or ()),
        )

    @property
    def qualified_type(self) -> str:
        """The URN's type chain (parents' types, then its own): where in the program it sits."""
        parts = self.urn.split("::")
        return parts[2] if len(parts) > 3 else self.type


def _parsed(value: Any) -> Any:
    """JSON documents given as text (IAM policies, container definitions) as structures, so
    their changes read as property paths."""
    if isinstance(value, str) and value.lstrip()[:1] in ("{", "["):
        try:
            return _parsed(json.loads(value))
        except json.JSONDecodeError:
            return value
    if isinstance(value, dict):
        return {k: _parsed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_parsed(v) for v in value]
    return value


class _Absent:
    def __repr__(self) -> str:
        return "(absent)"


ABSENT: Any = _Absent()


@dataclass(frozen=True)
class PropertyChange:
    path: str
    old: Any  # ABSENT when the property was not set
    new: Any


@dataclass(frozen=True)
class Change:
    action: str  # "add", "delete", "update" or "replace"
    old: Resource | None
    new: Resource | None
    properties: tuple[PropertyChange, ...] = ()
    forcing: tuple[str, ...] = ()  # the properties that force the replacement
    iam_added: tuple[Grant, ...] = ()

    @property
    def resource(self) -> Resource:
        found = self.new or self.old
        assert found is not None
        return found

    @property
    def renamed(self) -> bool:
        return self.old is not None and self.new is not None and self.old.urn != self.new.urn

    @property
    def stops_up(self) -> bool:
        """`pulumi up` refuses to delete a protected resource, and so to replace one."""
        return self.old is not None and self.old.protect and self.action in ("delete", "replace")

    @property
    def markers(self) -> list[str]:
        found = ["REPLACE"] if self.action == "replace" else []
        found += ["PROTECTED"] if self.stops_up else []
        return found + (["IAM+"] if self.iam_added else [])


def _path(parent: str, key: str) -> str:
    if not _PLAIN_KEY.match(key):
        return f"{parent}[{json.dumps(key)}]"
    return f"{parent}.{key}" if parent else key


def leaves(value: Any, path: str = "") -> dict[str, Any]:
    """Every scalar (and empty container) by its property path: `a.b[0].c`."""
    if isinstance(value, dict) and value:
        out: dict[str, Any] = {}
        for key in sorted(value):
            out.update(leaves(value[key], _path(path, str(key))))
        return out
    if isinstance(value, list) and value:
        out = {}
        for index, item in enumerate(value):
            out.update(leaves(item, f"{path}[{index}]"))
        return out
    return {path: value}


def _filled(path: str, value: Any, other: dict[str, Any]) -> bool:
    """An empty list or map on one side whose items the other side lists: said by the items."""
    return value in ([], {}) and any(p.startswith((f"{path}[", f"{path}.")) for p in other)


def property_changes(old: dict[str, Any], new: dict[str, Any]) -> tuple[PropertyChange, ...]:
    before, after = leaves(old), leaves(new)
    return tuple(
        PropertyChange(path, before.get(path, ABSENT), after.get(path, ABSENT))
        for path in sorted(set(before) | set(after))
        if before.get(path, ABSENT) != after.get(path, ABSENT)
        and not _filled(path, before.get(path), after)
        and not _filled(path, after.get(path), before)
    )


def _top(path: str) -> str:
    return re.split(r"[.\[]", path, maxsplit=1)[0]


def forcing(type_: str, changes: Iterable[PropertyChange]) -> tuple[str, ...]:
    """The changed properties that make the provider replace rather than update the resource."""
    extra = REPLACE_INPUTS.get(type_, frozenset())
    tops = sorted({_top(c.path) for c in changes})
    if ALL_INPUTS in extra:
        return tuple(t for t in tops if t not in UPDATABLE)
    return tuple(t for t in tops if t in NAME_INPUTS or t in extra)


def _compare(old: Resource, new: Resource) -> Change | None:
    props = property_changes(old.inputs, new.inputs)
    if old.protect != new.protect:
        props += (PropertyChange("(protect)", old.protect, new.protect),)
    renamed = old.urn != new.urn and new.urn not in old.aliases and old.urn not in new.aliases
    if not props and not renamed:
        return None
    forced = forcing(new.type, props)
    action = "replace" if forced or renamed else "update"
    return Change(action, old, new, props, forced, tuple(added_allows(old.inputs, new.inputs)))


def _by_alias(old: dict[str, Resource], new: Resource, taken: set[str]) -> Resource | None:
    for alias in new.aliases:
        if alias in old and alias not in taken:
            return old[alias]
    return None


def _pair_renames(
    removed: list[Resource], added: list[Resource]
) -> list[tuple[Resource, Resource]]:
    """Deleted and created resources of one type under the same parents, most alike names
    first: `registry-worker` and `registry-jobs` are one repository renamed."""
    scored = sorted(
        (
            (-difflib.SequenceMatcher(None, old.name, new.name).ratio(), old.urn, new.urn)
            for old in removed
            for new in added
            if old.qualified_type == new.qualified_type
        ),
    )
    olds = {r.urn: r for r in removed}
    news = {r.urn: r for r in added}
    pairs = []
    for score, old_urn, new_urn in scored:
        if -score >= RENAME_SIMILARITY and old_urn in olds and new_urn in news:
            pairs.append((olds.pop(old_urn), news.pop(new_urn)))
    return pairs


def diff(old_items: Iterable[Resource], new_items: Iterable[Resource]) -> list[Change]:
    """Every change from the old render to the new, sorted: additions, deletions, then updates
    and replacements, each by type and name."""
    old = {r.urn: r for r in old_items}
    new = {r.urn: r for r in new_items}
    matched: list[tuple[Resource, Resource]] = []
    taken: set[str] = set()
    added: list[Resource] = []
    for resource in new.values():
        before = old.get(resource.urn) or _by_alias(old, resource, taken | set(new))
        if before is None:
            added.append(resource)
        else:
            taken.add(before.urn)
            matched.append((before, resource))
    removed = [r for urn, r in old.items() if urn not in taken]
    renames = _pair_renames(removed, added)
    paired = {r.urn for pair in renames for r in pair}
    changes = [_compare(a, b) for a, b in matched + renames]
    changes += [
        Change("add", None, r, iam_added=tuple(added_allows(None, r.inputs)))
        for r in added
        if r.urn not in paired
    ]
    changes += [Change("delete", r, None) for r in removed if r.urn not in paired]
    order = {"add": 0, "delete": 1, "replace": 2, "update": 2}
    return sorted(
        (c for c in changes if c is not None),
        key=lambda c: (order[c.action], c.resource.type, c.resource.name),
    )


def summary(changes: Iterable[Change]) -> dict[str, int]:
    counts = {"add": 0, "change": 0, "replace": 0, "delete": 0, "protected": 0}
    for change in changes:
        key = "change" if change.action == "update" else change.action
        counts[key] += 1
        counts["protected"] += change.stops_up
    return counts


def from_dump(items: Iterable[dict[str, Any]]) -> list[Resource]:
    """The cloud resources of a dump (component resources only group them)."""
    return [Resource.from_dump(item) for item in items if item.get("custom", True)]
