"""The one place that asks the Pulumi runtime for config (the rest of `settings` is plain Python)."""

from __future__ import annotations

import pulumi
from pulumi.runtime import config as runtime_config

from settings.source import RawConfig, from_strings


def raw_config() -> RawConfig:
    """Every config value the engine handed the program, including keys we don't know (typos)."""
    merged: dict[str, str] = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    secret = {k for k in merged if runtime_config.is_config_secret(k)}
    return from_strings(pulumi.get_stack(), merged, secret)
