"""Autoscaling (`services[i].run.scaling`) and deployment alarms (`services[i].run.alarms`) of a
long-running service, validated at their exact keys. Plain Python: nothing here imports Pulumi.

Application Auto Scaling moves the ECS service's `DesiredCount` between `min` and `max` by
target tracking, and scheduled actions move `min`/`max` themselves (quiet hours). The alarms
watch a `web` service's target group on the load balancer; ECS rolls a deployment back when one
fires. Both are checked here so that a bad value fails `pulumi preview` with its key, before any
resource is registered.
"""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass
from functools import cache
from typing import Any

from rules.ecs import schedule
from settings.errors import Collector, key_path, show
from settings.keys import ALARMS, SCALING, SCHEDULED
from settings.keys.run import MAX_TASKS
from settings.reader import Obj, as_list

# Scheduled actions per scalable target: 200
# (https://docs.aws.amazon.com/autoscaling/application/userguide/application-auto-scaling-limits.html).
MAX_SCHEDULED = 200
# Target tracking cooldowns: add tasks after a minute (a Fargate task starts in about that), but
# remove them only after five minutes of low load, so a short lull does not drop capacity the
# next burst needs. AWS's default for ECS is 300 s both ways:
# https://docs.aws.amazon.com/autoscaling/application/userguide/target-tracking-scaling-policy-overview.html#target-tracking-cooldown
SCALE_OUT_COOLDOWN = 60
SCALE_IN_COOLDOWN = 300
# The alarms' metric period: the load balancer publishes its metrics every 60 seconds.
ALARM_PERIOD = 60
# IANA zone names (`Europe/Paris`, `Etc/GMT+9`, `UTC`): PutScheduledAction's Timezone.
_ZONE = re.compile(r"[A-Za-z][A-Za-z0-9_+-]*(?:/[A-Za-z0-9_+-]+)*", re.ASCII)
TRACKING = ("cpuPercent", "memoryPercent", "requestsPerTarget")


@dataclass(frozen=True)
class ScheduledScaling:
    """From `schedule` on, the service scales between `min` and `max` (until the next action)."""

    schedule: str
    min: int
    max: int
    timezone: str | None  # None: UTC


@dataclass(frozen=True)
class ScalingSettings:
    min: int
    max: int
    cpu_percent: int | None  # ECSServiceAverageCPUUtilization target
    memory_percent: int | None  # ECSServiceAverageMemoryUtilization target
    requests_per_target: int | None  # ALBRequestCountPerTarget target (web only)
    scheduled: tuple[ScheduledScaling, ...]


@dataclass(frozen=True)
class AlarmSettings:
    """A web service's deployment alarms: its target 5xx rate, its unhealthy hosts and its
    targets' p99 response time."""

    error_rate_percent: int
    unhealthy_hosts: int
    evaluation_periods: int
    latency_p99_ms: int = 1000


def load_scaling(errors: Collector, run: Obj, kind: str) -> ScalingSettings | None:
    """`scaling` of a run, or None. Refused for a job; `requestsPerTarget` only for a web."""
    if run.raw("scaling") is None:  # absent, or `scaling:` left empty
        return None
    obj = Obj(errors, run.at("scaling"), run.raw("scaling"), SCALING)
    if not isinstance(run.raw("scaling"), dict):
        return None  # refused as a whole by Obj
    if kind == "job":
        errors.add(obj.path, "is not allowed for a job: it runs on its schedule, not as a service")
        return None
    if run.has("desiredCount"):
        errors.add(
            run.at("desiredCount"),
            f"is not allowed with {obj.path}: the scaler sets the count between scaling.min "
            "and scaling.max (the service starts at scaling.min)",
        )
    low, high = _bounds(errors, obj, _least(kind), max(1, _least(kind)))
    targets = _targets(errors, obj, kind, low)
    scheduled = _scheduled(errors, obj, kind)
    if not any(obj.has(k) for k in (*TRACKING, "scheduled")):
        errors.add(
            obj.path,
            f"gives nothing to scale on; give at least one of {', '.join(TRACKING)} or scheduled",
        )
    if low is None or high is None:
        return None
    return ScalingSettings(low, high, *targets, scheduled)


def _least(kind: str) -> int:
    """A web service keeps one task behind the load balancer; a backend or worker may stop."""
    return 1 if kind == "web" else 0


def _bounds(
    errors: Collector, obj: Obj, least: int, least_max: int
) -> tuple[int | None, int | None]:
    """`min` and `max`, both required, `min <= max`, within ECS's tasks-per-service quota."""
    found: list[int | None] = []
    for key, bound in (("min", least), ("max", least_max)):
        if not obj.has(key):
            errors.add(obj.at(key), f"is required: an integer from {bound} to {MAX_TASKS}")
        found.append(obj.integer(key, None, minimum=bound, maximum=MAX_TASKS))
    low, high = found
    if low is not None and high is not None and low > high:
        errors.add(
            obj.at("min"),
            f"{show(low)} is not allowed; it must not exceed {obj.at('max')} ({high})",
        )
        return None, None
    return low, high


def _targets(
    errors: Collector, obj: Obj, kind: str, low: int | None
) -> tuple[int | None, int | None, int | None]:
    """The target-tracking values: CPU and memory percent (1..100), requests per task (>= 1)."""
    cpu = obj.integer("cpuPercent")
    memory = obj.integer("memoryPercent")
    requests = obj.integer("requestsPerTarget")
    if obj.has("requestsPerTarget") and kind != "web":
        errors.add(
            obj.at("requestsPerTarget"),
            f"is not allowed for a {kind}; only a web service has a load balancer target group "
            "to count requests on (use cpuPercent or memoryPercent)",
        )
        requests = None
    tracking = [k for k in TRACKING if obj.has(k)]
    if low == 0 and tracking:
        errors.add(
            obj.at("min"),
            f"0 is not allowed with {tracking[0]}: target tracking cannot scale out of zero "
            "tasks (they publish no metric); use 1, or scheduled actions to stop the service",
        )
    return cpu, memory, requests


def _scheduled(errors: Collector, obj: Obj, kind: str) -> tuple[ScheduledScaling, ...]:
    path = obj.at("scheduled")
    items = as_list(errors, path, obj.raw("scheduled"))
    if len(items) > MAX_SCHEDULED:
        errors.add(
            path, f"has {len(items)} actions; Application Auto Scaling allows {MAX_SCHEDULED}"
        )
    found = []
    for j, item in enumerate(items):
        action = _action(errors, key_path(path, j), item, kind)
        if action is not None:
            found.append(action)
    return tuple(found)


def _action(errors: Collector, path: str, item: Any, kind: str) -> ScheduledScaling | None:
    """One scheduled action: an `at(...)`, `rate(...)` or `cron(...)` expression (the same forms
    as EventBridge Scheduler's, checked by `rules.ecs.schedule`), its range and its time zone."""
    before = len(errors.errors)
    obj = Obj(errors, path, item, SCHEDULED)
    if not isinstance(item, dict):
        return None
    expression = obj.string("schedule")
    checked: str | None = None
    if expression is None:
        errors.add(obj.at("schedule"), f"is required; use {schedule.FORMS}")
    else:
        with errors.guard(obj.at("schedule")):
            checked = schedule.validate_schedule_expression(expression)
    # A scheduled action may stop a backend or worker (0 and 0) for the night.
    low, high = _bounds(errors, obj, _least(kind), _least(kind))
    zone = _timezone(errors, obj, expression)
    if checked is None or low is None or high is None or len(errors.errors) > before:
        return None
    return ScheduledScaling(checked, low, high, zone)


def _timezone(errors: Collector, obj: Obj, expression: str | None) -> str | None:
    """An IANA zone name; it applies to `at` and `cron` schedules only (PutScheduledAction)."""
    zone = obj.string("timezone")
    if zone is None:
        return None
    if expression is not None and expression.startswith("rate("):
        errors.add(
            obj.at("timezone"), "is not allowed with a rate() schedule: it has no clock time"
        )
        return None
    known = bool(_ZONE.fullmatch(zone)) and zone in _zones()
    if not known:
        errors.add(
            obj.at("timezone"),
            f"{show(zone)} is not allowed; use an IANA time zone name such as Europe/Paris or UTC",
        )
        return None
    return zone


@cache
def _zones() -> frozenset[str]:
    """The IANA zones of the machine's time zone database, less the two local-only names (the
    machine's own zone and tzdata's placeholder), which mean nothing to AWS."""
    return frozenset(zoneinfo.available_timezones() - {"localtime", "Factory"})


def load_alarms(errors: Collector, run: Obj, kind: str) -> AlarmSettings | None:
    """A web service's deployment alarms (on unless `enabled: false`); no other kind has them."""
    obj = Obj(errors, run.at("alarms"), run.raw("alarms"), ALARMS)
    if kind != "web":
        if run.has("alarms"):
            errors.add(
                obj.path,
                f"is not allowed for a {kind}; only a web service has load balancer metrics",
            )
        return None
    settings = AlarmSettings(
        error_rate_percent=obj.number("errorRatePercent"),
        unhealthy_hosts=obj.number("unhealthyHosts"),
        evaluation_periods=obj.number("evaluationPeriods"),
        latency_p99_ms=obj.number("latencyP99Ms"),
    )
    return settings if obj.flag("enabled") else None
