"""Hypothesis profiles (a pytest plugin, loaded by tests/conftest.py before any test module).

`ci`, the default: derandomized, so `make test` and CI try the same examples on every run and a
property test can no longer pass or fail by the luck of the draw (a crash found once is found
every time). No example database either: nothing a previous run saved changes what this one
tries, and parallel workers never share a directory. `fuzz` (`HYPOTHESIS_PROFILE=fuzz`, what
`make fuzz` sets) explores instead: random examples, ten times each test's own count (1,000 where
`max_examples` is not set: ten times Hypothesis' default). It prints
the `@reproduce_failure` blob of a failure, to turn into a fixed example.

A test may choose how many examples it needs (`@settings(max_examples=...)`) but not whether they
are random: `pytest_collection_modifyitems` refuses a test that changes the profile's
derandomization, database or seed.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

PROFILE_VARIABLE = "HYPOTHESIS_PROFILE"
FUZZ_FACTOR = 10

settings.register_profile("ci", derandomize=True, database=None, deadline=None, print_blob=True)
settings.register_profile(
    "fuzz", derandomize=False, database=None, deadline=None, print_blob=True, max_examples=1000
)
PROFILE = os.environ.get(PROFILE_VARIABLE, "ci")
settings.load_profile(PROFILE)
LOADED = settings.get_profile(PROFILE)


def deviations(test_settings: settings, seeded: bool) -> list[str]:
    """What a test's own settings change of the profile's randomness."""
    found = [
        name
        for name in ("derandomize", "database")
        if getattr(test_settings, name) != getattr(LOADED, name)
    ]
    return [*found, "seed"] if seeded else found


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    problems = []
    scaled = set()  # a parametrized test is one function behind several items
    for item in items:
        if not isinstance(item, pytest.Function) or not hasattr(item.obj, "hypothesis"):
            continue  # not a @given test
        test = item.obj
        # Where @given keeps the test's settings; a Hypothesis upgrade that moves it fails here.
        own: settings = test._hypothesis_internal_use_settings
        seeded = getattr(test, "_hypothesis_internal_use_seed", None) is not None
        if changed := deviations(own, seeded):
            problems.append(f"{item.nodeid}: sets {', '.join(changed)}; the profile decides")
        elif PROFILE == "fuzz" and id(test) not in scaled:
            scaled.add(id(test))
            if own.max_examples != LOADED.max_examples:  # the test's own count
                test._hypothesis_internal_use_settings = settings(
                    own, max_examples=own.max_examples * FUZZ_FACTOR
                )
    if problems:
        raise pytest.UsageError("\n".join(problems))
