"""The plan of a change as a reviewer reads it (text, shaped like `pulumi preview --diff`) and as
a machine reads it (JSON)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from plan.diff import ABSENT, Change, PropertyChange, summary

MAX_VALUE = 96  # characters of one value on a line; longer ones keep their start and end
SIGNS = {"add": "+", "delete": "-", "update": "~", "replace": "+-"}
GROUPS = (
    ("add", ("add",), "+ added"),
    ("delete", ("delete",), "- removed"),
    ("change", ("update", "replace"), "~ changed (+- replaced)"),
)


def shorten(value: Any) -> str:
    """One line: JSON for anything but the absent marker; the middle elided when long, since
    ARNs and names differ at their ends."""
    text = repr(value) if value is ABSENT else json.dumps(value, sort_keys=True)
    if len(text) <= MAX_VALUE:
        return text
    half = (MAX_VALUE - 3) // 2
    return f"{text[:half]}...{text[-half:]}"


def _stop_line(change: Change) -> str:
    assert change.old is not None
    return (
        f"    `pulumi up` will stop here: unprotect it first with "
        f"`pulumi state unprotect '{change.old.urn}'`"
    )


def _heading(change: Change) -> str:
    r = change.resource
    name = f"{change.old.name} -> {r.name}" if change.renamed and change.old else r.name
    markers = "  ".join(change.markers)
    return f"{SIGNS[change.action]} {r.type}  {name}" + (f"  {markers}" if markers else "")


def _property_line(prop: PropertyChange) -> str:
    return f"    {prop.path}: {shorten(prop.old)} -> {shorten(prop.new)}"


def change_lines(change: Change) -> list[str]:
    lines = [_heading(change)]
    if change.renamed and change.old is not None:
        lines.append(f"    renamed: {change.resource.name} is created, {change.old.name} deleted")
    if change.forcing:
        lines.append(f"    replaced because {', '.join(change.forcing)} cannot change in place")
    if change.stops_up:
        lines.append(_stop_line(change))
    if change.action == "add" and change.new is not None:
        lines += [
            f"    {key}: {shorten(value)}" for key, value in sorted(change.new.inputs.items())
        ]
    else:
        lines += [_property_line(p) for p in change.properties]
    lines += [f"    IAM+ {grant.describe()}" for grant in change.iam_added]
    return lines


def summary_line(changes: Iterable[Change]) -> str:
    c = summary(changes)
    return (
        f"{c['add']} to add, {c['change']} to change, {c['replace']} to replace, "
        f"{c['delete']} to delete, {c['protected']} protected"
    )


def text(changes: list[Change], header: list[str]) -> str:
    lines = list(header)
    for _, actions, title in GROUPS:
        group = [c for c in changes if c.action in actions]
        if group:
            lines += ["", f"{title} ({len(group)})"]
            for change in group:
                lines += change_lines(change)
    if not changes:
        lines += ["", "No changes."]
    return "\n".join([*lines, "", summary_line(changes)])


def _property_json(prop: PropertyChange) -> dict[str, Any]:
    out: dict[str, Any] = {"path": prop.path}
    if prop.old is not ABSENT:
        out["old"] = prop.old
    if prop.new is not ABSENT:
        out["new"] = prop.new
    return out


def change_json(change: Change) -> dict[str, Any]:
    r = change.resource
    return {
        "action": change.action,
        "type": r.type,
        "name": r.name,
        "urn": r.urn,
        "oldUrn": change.old.urn if change.old else None,
        "markers": change.markers,
        "replacedBecause": list(change.forcing) + (["renamed"] if change.renamed else []),
        "properties": [_property_json(p) for p in change.properties],
        "iamAdded": [g._asdict() for g in change.iam_added],
    }


def document(changes: list[Change], about: dict[str, Any]) -> dict[str, Any]:
    return {
        **about,
        "changes": [change_json(c) for c in changes],
        "summary": summary(changes),
    }
