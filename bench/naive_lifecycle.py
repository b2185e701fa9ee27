"""The obvious evaluator: every rule scans every image. The benchmark's baseline and the tests' oracle."""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from rules.lifecycle import validate_lifecycle_policy


def _storage(img: Mapping[str, Any]) -> str:
    return "archive" if img.get("imageStatus") in ("ARCHIVED", "ACTIVATING") else "standard"


def _time(img: Mapping[str, Any]) -> datetime:
    return img.get("lastActivatedAt") or img["imagePushedAt"]


@cache
def _literal_except_star(pattern: str) -> str:
    """ECR's wildcard is `*` alone: fnmatch's `?` and `[...]` must match themselves."""
    return pattern.replace("[", "[[]").replace("?", "[?]")


def _selected(sel: Mapping[str, Any], img: Mapping[str, Any]) -> bool:
    if _storage(img) != sel.get("storageClass", "standard"):
        return False
    tags = img.get("imageTags") or []
    status = sel["tagStatus"]
    if status == "any":
        return True
    if status == "untagged":
        return not tags
    if "tagPrefixList" in sel:
        return all(any(t.startswith(p) for t in tags) for p in sel["tagPrefixList"])
    return all(
        any(fnmatch.fnmatchcase(t, _literal_except_star(p)) for t in tags)
        for p in sel["tagPatternList"]
    )


def naive_preview(
    policy: Mapping[str, Any], images: Sequence[Mapping[str, Any]], now: datetime
) -> dict[int, int]:
    """image index -> priority of the rule that acts on it."""
    rules = validate_lifecycle_policy(dict(policy))["rules"]
    claimed: set[int] = set()
    acted: dict[int, int] = {}
    for rule in rules:
        sel = rule["selection"]
        chosen = [i for i, img in enumerate(images) if _selected(sel, img)]
        cutoff = now - timedelta(days=sel["countNumber"])
        if sel["countType"] == "imageCountMoreThan":
            ordered = sorted(chosen, key=lambda i: (_time(images[i]), i), reverse=True)
            candidates = ordered[sel["countNumber"] :]
        elif sel["countType"] == "sinceImagePushed":
            candidates = [i for i in chosen if _time(images[i]) < cutoff]
        elif sel["countType"] == "sinceImagePulled":
            candidates = []
            for i in chosen:
                t = _time(images[i])
                pulled = images[i].get("lastRecordedPullTime")
                candidates += [i] if max(t, pulled or t) < cutoff else []
        else:
            candidates = [
                i
                for i in chosen
                if images[i].get("lastArchivedAt") and images[i]["lastArchivedAt"] < cutoff
            ]
        for i in candidates:
            if i not in claimed and i not in acted:
                acted[i] = rule["rulePriority"]
        claimed.update(chosen)
    return acted
