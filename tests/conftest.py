"""Shared fixtures: each fixture stack rendered once per session under the mock engine.

The tests render their own stack files (`tests/stacks/`), never the project's `Pulumi.<stack>.yaml`,
which users are told to edit: a user who changes subnets or the GitHub repository still passes.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from plan import engine
from plan.engine import Rendered

# The Hypothesis profiles (`ci` by default, `fuzz` for `make fuzz`), loaded before any test module.
pytest_plugins = ["tests.hypothesis_profiles"]

# The suite runs in GitHub Actions too, where `GITHUB_ACTIONS=true` would make every render that
# reads the real environment a CI deploy, which refuses `permissionsBoundary: stack` (the dev
# fixture's). The tests that need it set it themselves (tests/test_boundary.py).
os.environ.pop("GITHUB_ACTIONS", None)

# A fixed commit, so the pushed tag is the same on every machine and in CI.
GIT_ENV = {"GITHUB_SHA": "0123456789abcdef0123456789abcdef01234567"}
STACKS = Path(__file__).resolve().parent / "stacks"


def render_stack(stack: str, **kwargs: Any) -> Rendered:
    """`plan.engine.render_stack` on the tests' own fixture stack files."""
    kwargs.setdefault("stack_dir", STACKS)
    overrides = kwargs.get("overrides") or {}
    if "fargate" in overrides and "services" not in overrides:
        # The old single-service form cannot be mixed with `services[].run` and `network`.
        kwargs["overrides"] = {**legacy(stack, overrides["fargate"]), **overrides}
    return engine.render_stack(stack, **kwargs)


@pytest.fixture(scope="session")
def dev() -> Rendered:
    return render_stack("dev", env=GIT_ENV)


@pytest.fixture(scope="session")
def prod() -> Rendered:
    return render_stack("prod", env=GIT_ENV)


@pytest.fixture(scope="session", params=["dev", "prod"])
def stack(request: pytest.FixtureRequest, dev: Rendered, prod: Rendered) -> Rendered:
    return dev if request.param == "dev" else prod


def legacy(stack: str, fargate: dict[str, Any]) -> dict[str, Any]:
    """Overrides that give a fixture stack today's single `fargate` section instead of its
    `services[].run` and `network` (the old form is still read)."""
    doc = yaml.safe_load((STACKS / f"Pulumi.{stack}.yaml").read_text())
    services = [
        {k: v for k, v in s.items() if k != "run"} for s in doc["config"]["ecr-fargate:services"]
    ]
    return {"services": services, "network": {}, "fargate": fargate}
