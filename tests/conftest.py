"""Shared fixtures: each fixture stack rendered once per session under the mock engine.

The tests render their own stack files (`tests/stacks/`), never the project's `Pulumi.<stack>.yaml`,
which users are told to edit: a user who changes subnets or the GitHub repository still passes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from plan import engine
from plan.engine import Rendered

# A fixed commit, so the pushed tag is the same on every machine and in CI.
GIT_ENV = {"GITHUB_SHA": "0123456789abcdef0123456789abcdef01234567"}
STACKS = Path(__file__).resolve().parent / "stacks"


def render_stack(stack: str, **kwargs: Any) -> Rendered:
    """`plan.engine.render_stack` on the tests' own fixture stack files."""
    kwargs.setdefault("stack_dir", STACKS)
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
