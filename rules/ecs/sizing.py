"""Fargate task sizes, exactly: AWS's table of 77 CPU/memory pairs, and the cheapest that fits.

The 8, 16 and 32 vCPU rows need Linux platform version 1.4.0 or later (`LATEST` is 1.4.0). The
32 vCPU row is in the current developer guide but not yet in the API model's text: accepted here,
as AWS accepts it today.
"""

from __future__ import annotations

import re
from functools import cache

from rules.ecs.api_model import ecs_model

# cpu units -> valid memory (MiB): the table in
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/create-task-definition.html
# ("For tasks hosted on Fargate, the following table shows the valid CPU and memory combinations.")
FARGATE_TABLE: dict[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: tuple(range(1024, 4096 + 1, 1024)),
    1024: tuple(range(2048, 8192 + 1, 1024)),
    2048: tuple(range(4096, 16384 + 1, 1024)),
    4096: tuple(range(8192, 30720 + 1, 1024)),
    8192: tuple(range(16384, 61440 + 1, 4096)),
    16384: tuple(range(32768, 122880 + 1, 8192)),
    32768: (61440, 122880, 249856),
}
# Windows on Fargate: at least 1 vCPU, and only the rows documented for Windows (1, 2, 4 vCPU).
WINDOWS_CPUS = (1024, 2048, 4096)
# us-east-1 on-demand rates per hour: (per vCPU, per GB). ARM is ~20% cheaper with the same order.
FARGATE_PRICES = {"X86_64": (0.04048, 0.004445), "ARM64": (0.03238, 0.00356)}

# The API's string forms ("1024", "1 vCPU", "2 GB"), ASCII digits only: `\d` would read
# fullwidth digits that ECS does not.
_VCPU = re.compile(r"([0-9]+(?:\.[0-9]+)?) ?vcpu", re.IGNORECASE | re.ASCII)
_GB = re.compile(r"([0-9]+(?:\.[0-9]+)?) ?gb", re.IGNORECASE | re.ASCII)
_INT = re.compile(r"[0-9]+", re.ASCII)


@cache
def windows_families() -> frozenset[str]:
    return frozenset(v for v in ecs_model().shape_for("OSFamily").enum if v.startswith("WINDOWS"))


def _units(value: object, unit: re.Pattern[str], scale: int, what: str) -> int:
    if isinstance(value, bool) or value is None:
        raise ValueError(f"{value!r} is not a {what} value")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        if _INT.fullmatch(value):
            return int(value)
        if m := unit.fullmatch(value):
            amount = float(m.group(1)) * scale
            if amount.is_integer():
                return int(amount)
    raise ValueError(f"{value!r} is not a {what} value; use an integer or the API's string form")


def parse_cpu(cpu: object) -> int:
    return _units(cpu, _VCPU, 1024, "cpu ('1024' units or '1 vCPU')")


def parse_memory(memory: object) -> int:
    return _units(memory, _GB, 1024, "memory ('2048' MiB or '2 GB')")


def validate_task_size(cpu: object, memory: object, *, os_family: str = "LINUX") -> tuple[int, int]:
    cpu_units, memory_mib = parse_cpu(cpu), parse_memory(memory)
    windows = os_family in windows_families()
    cpus = WINDOWS_CPUS if windows else tuple(FARGATE_TABLE)
    if cpu_units not in cpus:
        kind = "Windows " if windows else ""
        raise ValueError(
            f"cpu {cpu_units} is not a Fargate {kind}size; use one of {', '.join(map(str, cpus))}"
        )
    valid = FARGATE_TABLE[cpu_units]
    if memory_mib not in valid:
        raise ValueError(
            f"cpu {cpu_units} allows memory {', '.join(map(str, valid))} (MiB); got {memory_mib}"
        )
    return cpu_units, memory_mib


def hourly_price(cpu: int, memory: int, arch: str = "X86_64") -> float:
    per_vcpu, per_gb = FARGATE_PRICES[arch]
    return cpu / 1024 * per_vcpu + memory / 1024 * per_gb


def smallest_task_size(cpu_units: int, memory_mib: int) -> tuple[int, int]:
    """The cheapest valid pair with at least the requested cpu and memory (ties: less cpu)."""
    fits = [
        (hourly_price(c, m), c, m)
        for c, mems in FARGATE_TABLE.items()
        for m in mems
        if c >= cpu_units and m >= memory_mib
    ]
    if not fits:
        raise ValueError(
            f"no Fargate size has {cpu_units} cpu units and {memory_mib} MiB; the largest is 32768/249856"
        )
    _, c, m = min(fits)
    return c, m
