"""EventBridge Scheduler expressions, checked before deploy: `rate(...)`, `cron(...)`, `at(...)`.

The forms and their rules are AWS's:
https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html
A schedule the service would refuse fails `pulumi preview` with the key, not `pulumi up` midway.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Sequence

_RATE = re.compile(r"rate\((?P<value>[1-9][0-9]*) (?P<unit>minutes?|hours?|days?)\)", re.ASCII)
_CRON = re.compile(r"cron\((?P<fields>[^()]*)\)", re.ASCII)
_AT = re.compile(r"at\((?P<when>[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2})\)", re.ASCII)
# Per cron field (minutes hours day-of-month month day-of-week year), the characters the user
# guide's table allows; `?` only in the day fields, `L`/`W`/`#` only where the table lists them.
_CRON_FIELDS = (
    ("minutes", re.compile(r"[0-9,*/-]+")),
    ("hours", re.compile(r"[0-9,*/-]+")),
    ("day-of-month", re.compile(r"[0-9,*/?LW-]+")),
    ("month", re.compile(r"(?:[0-9]+|[A-Za-z]{3}|[,*/-])+")),
    ("day-of-week", re.compile(r"(?:[1-7]|[A-Za-z]{3}|[,*?L#-])+")),
    ("year", re.compile(r"[0-9,*/-]+")),
)
# CreateSchedule's `Name`: 1 to 64 characters (the Scheduler API model).
MAX_NAME = 64
FORMS = "rate(VALUE UNIT), cron(MIN HOUR DAY-OF-MONTH MONTH DAY-OF-WEEK YEAR) or at(yyyy-mm-ddThh:mm:ss)"


def validate_schedule_expression(expression: str) -> str:
    """The expression unchanged, or a ValueError saying what the service requires."""
    if m := _RATE.fullmatch(expression):
        singular = not m["unit"].endswith("s")
        if (m["value"] == "1") != singular:
            raise ValueError(
                f"{expression!r} is not allowed; the unit is singular for 1 and plural above "
                "(rate(1 hour), rate(5 minutes))"
            )
        return expression
    if m := _CRON.fullmatch(expression):
        _check_cron(expression, m["fields"].split(" "))
        return expression
    if m := _AT.fullmatch(expression):
        try:
            datetime.datetime.fromisoformat(m["when"])
        except ValueError:
            raise ValueError(f"{expression!r} is not allowed; {m['when']} is not a date") from None
        return expression
    raise ValueError(f"{expression!r} is not allowed; use {FORMS}")


def _check_cron(expression: str, fields: list[str]) -> None:
    if len(fields) != len(_CRON_FIELDS):
        raise ValueError(
            f"{expression!r} is not allowed; a cron expression has 6 fields separated by single "
            "spaces: minutes hours day-of-month month day-of-week year"
        )
    for (name, shape), value in zip(_CRON_FIELDS, fields, strict=True):
        if not shape.fullmatch(value):
            raise ValueError(f"{expression!r} is not allowed; {value!r} is not a {name} field")
    if (fields[2] == "?") == (fields[4] == "?"):
        raise ValueError(
            f"{expression!r} is not allowed; exactly one of day-of-month and day-of-week must be "
            "'?' (cron(0 3 * * ? *) runs at 03:00 every day)"
        )


def run_task_command(
    *,
    cluster: str,
    family: str,
    subnets: Sequence[str],
    security_groups: Sequence[str],
    assign_public_ip: bool,
    capacity_provider: str,
    region: str,
) -> str:
    """`aws ecs run-task` for a job, by hand: the latest revision of its family, on the stack's
    cluster and network, as the schedule runs it."""
    launch = (
        "--launch-type FARGATE"
        if capacity_provider == "FARGATE"
        else f"--capacity-provider-strategy capacityProvider={capacity_provider},weight=1"
    )
    network = (
        f"awsvpcConfiguration={{subnets=[{','.join(subnets)}],"
        f"securityGroups=[{','.join(security_groups)}],"
        f"assignPublicIp={'ENABLED' if assign_public_ip else 'DISABLED'}}}"
    )
    return (
        f"aws ecs run-task --region {region} --cluster {cluster} --task-definition {family} "
        f"{launch} --network-configuration '{network}'"
    )
