"""`services[i].run.scaling` and `services[i].run.alarms`: each bad value refused at its own key,
all of them at once before anything is registered; good values read into typed settings."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from plan import engine
from rules.naming import StackNames
from settings.errors import Collector, ConfigErrors
from settings.keys import RUN
from settings.reader import Obj
from settings.scaling import (
    MAX_TASKS,
    AlarmSettings,
    ScalingSettings,
    ScheduledScaling,
    load_alarms,
    load_scaling,
)
from tests.conftest import GIT_ENV, render_stack

PATH = "services[0].run"


def scaling(
    raw: dict[str, Any], kind: str = "worker"
) -> tuple[ScalingSettings | None, dict[str, str]]:
    errors = Collector()
    found = load_scaling(errors, Obj(errors, PATH, raw, RUN), kind)
    return found, {e.path: e.detail for e in errors.errors}


def alarms(raw: dict[str, Any], kind: str = "web") -> tuple[AlarmSettings | None, dict[str, str]]:
    errors = Collector()
    found = load_alarms(errors, Obj(errors, PATH, raw, RUN), kind)
    return found, {e.path: e.detail for e in errors.errors}


def test_a_full_scaling_block_is_read_as_given() -> None:
    found, problems = scaling(
        {
            "scaling": {
                "min": 2,
                "max": 10,
                "cpuPercent": 60,
                "memoryPercent": 75,
                "requestsPerTarget": 500,
                "scheduled": [
                    {"schedule": "cron(0 20 * * ? *)", "min": 1, "max": 1, "timezone": "UTC"},
                    {"schedule": "at(2030-01-01T00:00:00)", "min": 2, "max": 10},
                ],
            }
        },
        kind="web",
    )
    assert problems == {}
    assert found == ScalingSettings(
        2,
        10,
        60,
        75,
        500,
        (
            ScheduledScaling("cron(0 20 * * ? *)", 1, 1, "UTC"),
            ScheduledScaling("at(2030-01-01T00:00:00)", 2, 10, None),
        ),
    )


def test_no_scaling_block_is_no_scaling() -> None:
    assert scaling({"desiredCount": 3}) == (None, {})
    assert scaling({"desiredCount": 3, "scaling": None}) == (None, {})  # `scaling:` left empty


@pytest.mark.parametrize(
    ("raw", "kind", "key", "detail"),
    [
        ({"min": 3, "max": 2, "cpuPercent": 50}, "worker", "min", "must not exceed"),
        ({"max": 2, "cpuPercent": 50}, "worker", "min", "is required"),
        ({"min": 1, "cpuPercent": 50}, "worker", "max", "is required"),
        ({"min": 0, "max": 2, "cpuPercent": 50}, "web", "min", ">= 1"),
        ({"min": 0, "max": 2, "cpuPercent": 50}, "worker", "min", "cannot scale out of zero"),
        ({"min": 1, "max": MAX_TASKS + 1, "cpuPercent": 50}, "worker", "max", "<= 5000"),
        ({"min": 1, "max": 2, "cpuPercent": 0}, "worker", "cpuPercent", ">= 1 and <= 100"),
        ({"min": 1, "max": 2, "memoryPercent": 101}, "worker", "memoryPercent", "<= 100"),
        ({"min": 1, "max": 2, "requestsPerTarget": 0}, "web", "requestsPerTarget", ">= 1"),
        ({"min": 1, "max": 2, "requestsPerTarget": 100}, "backend", "requestsPerTarget", "web"),
        ({"min": 1, "max": 2}, "worker", "", "nothing to scale on"),
        ({"min": 1, "max": 2, "cpu": 50}, "worker", ".cpu", "unknown key 'cpu'"),
        ({"min": 1, "max": 2, "scheduled": "nightly"}, "worker", "scheduled", "expected a list"),
        ({"min": 1, "max": 2, "scheduled": ["x"]}, "worker", "scheduled[0]", "expected an object"),
    ],
)
def test_each_bad_scaling_value_is_refused_at_its_key(
    raw: dict[str, Any], kind: str, key: str, detail: str
) -> None:
    _, problems = scaling({"scaling": raw}, kind)
    path = f"{PATH}.scaling" + (f".{key}" if key and not key.startswith(".") else key)
    assert detail in problems[path], problems


@pytest.mark.parametrize(
    ("action", "key", "detail"),
    [
        ({"min": 0, "max": 0}, "schedule", "is required"),
        ({"schedule": "rate(1 hours)", "min": 0, "max": 0}, "schedule", "singular for 1"),
        ({"schedule": "cron(0 20 * * *)", "min": 0, "max": 0}, "schedule", "6 fields"),
        ({"schedule": "daily", "min": 0, "max": 0}, "schedule", "rate(VALUE UNIT)"),
        ({"schedule": "cron(0 20 * * ? *)", "min": 2, "max": 1}, "min", "must not exceed"),
        ({"schedule": "cron(0 20 * * ? *)", "max": 1}, "min", "is required"),
        (
            {"schedule": "cron(0 20 * * ? *)", "min": 0, "max": 0, "timezone": "Mars/Olympus"},
            "timezone",
            "IANA time zone",
        ),
        (
            {"schedule": "cron(0 20 * * ? *)", "min": 0, "max": 0, "timezone": "localtime"},
            "timezone",
            "IANA time zone",
        ),
        (
            {"schedule": "cron(0 20 * * ? *)", "min": 0, "max": 0, "timezone": "../etc/passwd"},
            "timezone",
            "IANA time zone",
        ),
        (
            {"schedule": "rate(5 minutes)", "min": 0, "max": 0, "timezone": "UTC"},
            "timezone",
            "rate() schedule",
        ),
    ],
)
def test_each_bad_scheduled_action_is_refused_at_its_key(
    action: dict[str, Any], key: str, detail: str
) -> None:
    raw = {"min": 1, "max": 4, "cpuPercent": 50, "scheduled": [{}, action]}
    found, problems = scaling({"scaling": raw})
    assert detail in problems[f"{PATH}.scaling.scheduled[1].{key}"], problems
    assert found is not None and found.scheduled == ()  # the empty one is refused too


def test_a_web_service_is_never_scheduled_down_to_zero_tasks() -> None:
    action = {"schedule": "cron(0 20 * * ? *)", "min": 0, "max": 0}
    _, problems = scaling({"scaling": {"min": 1, "max": 2, "scheduled": [action]}}, "web")
    assert ">= 1" in problems[f"{PATH}.scaling.scheduled[0].min"]
    worker, problems = scaling({"scaling": {"min": 1, "max": 2, "scheduled": [action]}})
    assert problems == {} and worker is not None and worker.scheduled[0].max == 0


def test_scaling_and_desired_count_together_are_refused_at_desired_count() -> None:
    _, problems = scaling({"desiredCount": 3, "scaling": {"min": 1, "max": 2, "cpuPercent": 50}})
    assert list(problems) == [f"{PATH}.desiredCount"]
    assert "scaling.min and scaling.max" in problems[f"{PATH}.desiredCount"]


def test_a_scaling_value_that_is_not_an_object_is_one_problem() -> None:
    assert scaling({"scaling": 3}) == (
        None,
        {f"{PATH}.scaling": "3 is not allowed; expected an object"},
    )


def test_a_job_has_no_scaling() -> None:
    found, problems = scaling({"scaling": {"min": 1, "max": 2, "cpuPercent": 50}}, "job")
    assert found is None and "not allowed for a job" in problems[f"{PATH}.scaling"]


@given(low=st.integers(0, MAX_TASKS), high=st.integers(0, MAX_TASKS))
def test_min_and_max_are_accepted_exactly_when_ordered(low: int, high: int) -> None:
    raw = {"min": low, "max": high, "scheduled": [{"schedule": "rate(1 day)", "min": 0, "max": 0}]}
    found, problems = scaling({"scaling": raw})
    if high >= 1 and low <= high:
        assert problems == {} and found is not None and (found.min, found.max) == (low, high)
    else:
        assert found is None and problems


def test_web_alarms_are_on_by_default_with_their_defaults() -> None:
    assert alarms({}) == (AlarmSettings(5, 1, 3), {})
    given_ = {"errorRatePercent": 2, "unhealthyHosts": 2, "evaluationPeriods": 5}
    assert alarms({"alarms": given_}) == (AlarmSettings(2, 2, 5), {})
    assert alarms({"alarms": {"enabled": False}}) == (None, {})


@pytest.mark.parametrize(
    ("raw", "key", "detail"),
    [
        ({"errorRatePercent": 0}, "errorRatePercent", ">= 1 and <= 100"),
        ({"errorRatePercent": 101}, "errorRatePercent", "<= 100"),
        ({"unhealthyHosts": 0}, "unhealthyHosts", ">= 1"),
        ({"evaluationPeriods": 0}, "evaluationPeriods", ">= 1"),
        ({"evaluationPeriods": 1441}, "evaluationPeriods", "<= 1440"),
        ({"enabled": "yes"}, "enabled", "expected true or false"),
        ({"threshold": 3}, "threshold", "unknown key"),
    ],
)
def test_each_bad_alarm_value_is_refused_at_its_key(
    raw: dict[str, Any], key: str, detail: str
) -> None:
    _, problems = alarms({"alarms": raw})
    assert detail in problems[f"{PATH}.alarms.{key}"], problems


@pytest.mark.parametrize("kind", ["backend", "worker", "job"])
def test_only_a_web_service_has_alarms(kind: str) -> None:
    assert alarms({}, kind) == (None, {})
    found, problems = alarms({"alarms": {"errorRatePercent": 5}}, kind)
    assert found is None and "only a web service" in problems[f"{PATH}.alarms"]


def test_every_name_fits_its_api_limit_for_the_longest_stack_and_service() -> None:
    names = StackNames("s" * 44)
    service = "a" * 58
    assert len(names.alarm_name(service, "unhealthy-hosts")) <= 255  # PutMetricAlarm
    assert len(names.scaling_policy_name(service, "requests")) <= 256  # PutScalingPolicy
    action = names.scheduled_action_name(service, 199)  # PutScheduledAction: no `:`, `/`, `|`
    assert len(action) <= 256 and not set(action) & set(":/|")
    assert names.alarm_arn("123456789012", service).endswith(
        f":alarm:ecr-fargate-{'s' * 44}-{service}-*"
    )


BAD_SERVICES = [
    {
        "name": "api",
        "build": {"context": "app"},
        "run": {
            "kind": "web",
            "port": 8080,
            "desiredCount": 2,
            "scaling": {"min": 4, "max": 2, "cpuPercent": 150},
            "alarms": {"errorRatePercent": 0},
        },
    },
    {
        "name": "worker",
        "build": {"context": "app"},
        "run": {
            "kind": "worker",
            "scaling": {
                "min": 1,
                "max": 2,
                "requestsPerTarget": 100,
                "scheduled": [{"schedule": "cron(0 1 * * *)", "min": 0, "max": 0}],
            },
            "alarms": {},
        },
    },
    {
        "name": "nightly",
        "build": {"context": "app"},
        "run": {
            "kind": "job",
            "schedule": "cron(0 3 * * ? *)",
            "scaling": {"min": 1, "max": 2, "cpuPercent": 50},
        },
    },
]


def test_bad_scaling_across_services_is_refused_together_and_nothing_is_registered(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    registered: list[str] = []
    monkeypatch.setattr(engine._Mocks, "new_resource", lambda _, args: registered.append(args.typ))
    with pytest.raises(ConfigErrors) as info:
        render_stack("dev", env=GIT_ENV, overrides={"services": BAD_SERVICES})
    assert registered == []
    found = {e.path: e.detail for e in info.value.errors}
    assert set(found) == {
        "services[0].run.desiredCount",
        "services[0].run.scaling.min",
        "services[0].run.scaling.cpuPercent",
        "services[0].run.alarms.errorRatePercent",
        "services[1].run.scaling.requestsPerTarget",
        "services[1].run.scaling.scheduled[0].schedule",
        "services[1].run.alarms",
        "services[2].run.scaling",
    }
    assert "4 is not allowed" in found["services[0].run.scaling.min"]
    assert all("\n" not in str(e) for e in info.value.errors)
    assert all(str(e).startswith("config 'ecr-fargate:services[") for e in info.value.errors)
