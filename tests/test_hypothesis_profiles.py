"""The Hypothesis profiles: `make test` tries the same examples every run; only `make fuzz`
draws random ones; a test cannot opt out of the profile's randomness."""

from __future__ import annotations

from hypothesis import settings

from tests.hypothesis_profiles import deviations


def test_the_ci_profile_is_derandomized_without_a_database() -> None:
    ci = settings.get_profile("ci")
    assert (ci.derandomize, ci.database, ci.deadline, ci.print_blob) == (True, None, None, True)


def test_the_fuzz_profile_draws_many_random_examples() -> None:
    fuzz = settings.get_profile("fuzz")
    assert (fuzz.derandomize, fuzz.database, fuzz.max_examples) == (False, None, 1000)


def test_a_test_may_choose_its_count_but_not_its_randomness() -> None:
    loaded = settings()
    assert deviations(settings(max_examples=5), seeded=False) == []
    assert deviations(settings(derandomize=not loaded.derandomize), seeded=False) == ["derandomize"]
    assert deviations(settings(), seeded=True) == ["seed"]
