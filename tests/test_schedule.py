"""EventBridge Scheduler expressions, as the user guide states them, and the by-hand command."""

from __future__ import annotations

import shlex

import pytest

from rules.ecs.schedule import run_task_command, validate_schedule_expression


@pytest.mark.parametrize(
    "expression",
    [
        "rate(1 minute)",
        "rate(5 minutes)",
        "rate(1 hour)",
        "rate(12 hours)",
        "rate(1 day)",
        "cron(0 3 * * ? *)",
        "cron(15 10 ? * 6L 2027-2030)",
        "cron(0/10 * ? * MON-FRI *)",
        "cron(0 8 1 * ? *)",
        "at(2027-01-31T23:59:00)",
    ],
)
def test_documented_expressions_are_accepted(expression: str) -> None:
    assert validate_schedule_expression(expression) == expression


@pytest.mark.parametrize(
    ("expression", "fragment"),
    [
        ("rate(1 hours)", "singular for 1"),
        ("rate(2 hour)", "singular for 1"),
        ("rate(0 minutes)", "use rate("),
        ("rate(5 weeks)", "use rate("),
        ("cron(0 3 * * *)", "6 fields"),
        ("cron(0 3 * * * *)", "exactly one of day-of-month and day-of-week"),
        ("cron(0 3 ? * ? *)", "exactly one of day-of-month and day-of-week"),
        ("cron(0 3 ? * MON x)", "not a year field"),
        ("at(2027-02-30T00:00:00)", "is not a date"),
        ("nightly", "use rate("),
        ("", "use rate("),
    ],
)
def test_what_the_service_refuses_is_refused(expression: str, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment.replace("(", r"\(")):
        validate_schedule_expression(expression)


def test_the_run_task_command_is_one_shell_command() -> None:
    command = run_task_command(
        cluster="c",
        family="f",
        subnets=["subnet-1", "subnet-2"],
        security_groups=["sg-1"],
        assign_public_ip=False,
        capacity_provider="FARGATE_SPOT",
        region="eu-west-1",
    )
    argv = shlex.split(command)
    assert argv[:3] == ["aws", "ecs", "run-task"]
    assert argv[argv.index("--capacity-provider-strategy") + 1] == (
        "capacityProvider=FARGATE_SPOT,weight=1"
    )
    assert argv[-1] == (
        "awsvpcConfiguration={subnets=[subnet-1,subnet-2],securityGroups=[sg-1],"
        "assignPublicIp=DISABLED}"
    )
