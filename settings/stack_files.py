"""Settings read straight from the stack files, for commands that run without the Pulumi CLI."""

from __future__ import annotations

import json
from typing import Any

from settings import load
from settings.source import from_files


def repository_policies(stack: str) -> dict[str, dict[str, Any]]:
    """Repository name -> the lifecycle policy the stack renders for it (protection rule included)."""
    settings = load(from_files(stack), env={})  # policies only: nothing read from the environment
    return {r.name: json.loads(r.lifecycle_policy) for r in settings.registry.repositories}
