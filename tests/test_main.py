"""`__main__.py` itself under mocks, with config handed over the way the Pulumi runtime does."""

from __future__ import annotations

import json
import runpy
from pathlib import Path
from typing import Any

import pulumi
import pytest
from pulumi.runtime import config as runtime_config
from pulumi.runtime import settings as runtime_settings
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from components.runtime import raw_config
from plan.engine import _Mocks
from settings.source import from_files
from tests.conftest import STACKS

ROOT = Path(__file__).resolve().parent.parent


def runtime_strings(stack: str) -> dict[str, str]:
    """Namespaced string values, JSON for structures: what the language host hands a program."""
    raw = from_files(stack, stack_dir=STACKS)
    # Own its registry, so the program needs no other stack file beside the project's.
    out = {"ecr-fargate:accountOwner": stack}
    for key, value in raw.values.items():
        name = key if ":" in key else f"ecr-fargate:{key}"
        out[name] = value if isinstance(value, str) else json.dumps(value)
    return out


def run_main(config: dict[str, str], secret_keys: list[str]) -> list[str]:
    mock = _Mocks("us-east-1", "amazonaws.com", "aws")
    runtime_settings.reset_options(project="ecr-fargate", stack="dev", preview=False)
    pulumi.runtime.set_mocks(mock, project="ecr-fargate", stack="dev", preview=False)
    runtime_config.set_all_config(config, secret_keys)

    def program() -> None:
        runpy.run_path(str(ROOT / "__main__.py"))

    try:
        _sync_await(run_pulumi_func(program))
    finally:
        runtime_config.set_all_config({}, [])
    return [r.type for r in mock.resources]


def test_main_composes_the_dev_stack_from_runtime_config() -> None:
    types = run_main(runtime_strings("dev"), [])
    assert types.count("aws:ecr/repository:Repository") == 2
    assert "aws:ecs/service:Service" in types


def test_main_turns_config_errors_into_a_run_error_without_resources() -> None:
    config = {**runtime_strings("dev"), "ecr-fargate:environment": "staging"}
    with pytest.raises(pulumi.RunError, match="config 'ecr-fargate:environment': 'staging'"):
        run_main(config, [])


def test_runtime_config_is_decoded_and_secrets_stay_marked() -> None:
    credentials = {"docker-hub": {"username": "u", "accessToken": "t"}}
    runtime_config.set_all_config(
        {
            "aws:region": "us-east-1",
            "ecr-fargate:deployProtectionCount": "5",
            "ecr-fargate:pullThroughCredentials": json.dumps(credentials),
            "ecr-fargate:typo": "x",
        },
        ["ecr-fargate:pullThroughCredentials"],
    )
    try:
        raw: Any = raw_config()
    finally:
        runtime_config.set_all_config({}, [])
    assert raw.region == "us-east-1"
    assert raw.values["deployProtectionCount"] == 5
    assert raw.values["pullThroughCredentials"] == credentials
    assert raw.values["typo"] == "x"
    assert raw.secret_keys == frozenset({"pullThroughCredentials"})
