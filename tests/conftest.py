"""Shared fixtures: each stack rendered once per session under the mock engine (both stacks)."""

from __future__ import annotations

import pytest

from plan.engine import Rendered, render_stack

# A fixed commit, so the pushed tag is the same on every machine and in CI.
GIT_ENV = {"GITHUB_SHA": "0123456789abcdef0123456789abcdef01234567"}


@pytest.fixture(scope="session")
def dev() -> Rendered:
    return render_stack("dev", env=GIT_ENV)


@pytest.fixture(scope="session")
def prod() -> Rendered:
    return render_stack("prod", env=GIT_ENV)


@pytest.fixture(scope="session", params=["dev", "prod"])
def stack(request: pytest.FixtureRequest, dev: Rendered, prod: Rendered) -> Rendered:
    return dev if request.param == "dev" else prod
