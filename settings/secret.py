"""A value from `pulumi config set --secret`, kept out of reprs and logs until it becomes an Output."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Secret:
    value: str = field(repr=False)

    def __str__(self) -> str:
        return "[secret]"
