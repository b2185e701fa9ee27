"""Every class of bad config stops the render with one line naming the key; nothing is created."""

from __future__ import annotations

from typing import Any

import pytest

from settings import ConfigErrors
from tests.conftest import GIT_ENV, render_stack

API = {"name": "api", "build": {"context": "app"}}
FARGATE = {"service": "api", "cpu": 256, "memory": 512, "assignPublicIp": True}


def refused(stack: str, overrides: dict[str, Any]) -> str:
    with pytest.raises(ConfigErrors) as info:
        render_stack(stack, env=GIT_ENV, overrides=overrides)
    return str(info.value)


@pytest.mark.parametrize(
    ("overrides", "key", "fragment"),
    [
        ({"environment": "staging"}, "ecr-fargate:environment'", "use one of dev, prod"),
        ({"aws:region": "mars-north-1"}, "aws:region'", "mars-north-1"),
        ({"tagMutabilty": "MUTABLE"}, "ecr-fargate:tagMutabilty'", "unknown key"),
        ({"registry": {"tagMutabilty": "MUTABLE"}}, "registry.tagMutabilty'", "unknown key"),
        (
            {"registry": {"tagMutability": "FROZEN"}},
            "registry.tagMutability'",
            "MUTABLE, IMMUTABLE",
        ),
        (
            {"services": [{"name": "api", "repository": "Bad_Name"}]},
            "services[0].repository'",
            "Bad_Name",
        ),
        ({"services": []}, "ecr-fargate:services'", "at least one service"),
        (
            {"services": [API, {"name": "api"}]},
            "services[1].name'",
            "services[0] has that name",
        ),
        (
            {"services": [{"name": "w", "lifecycle": {"preset": "keep-all"}}]},
            "services[0].lifecycle.preset'",
            "keep-last-10",
        ),
        (
            {
                "services": [
                    {
                        "name": "w",
                        "lifecycle": {
                            "policy": {
                                "rules": [
                                    {
                                        "rulePriority": 1,
                                        "selection": {
                                            "tagStatus": "untagged",
                                            "countType": "imageCountMoreThan",
                                            "countNumber": 0,
                                        },
                                        "action": {"type": "expire"},
                                    }
                                ]
                            }
                        },
                    }
                ]
            },
            "services[0].lifecycle.policy.rules[0].selection.countNumber'",
            "rule 1",
        ),
        ({"deployProtectionCount": 0}, "deployProtectionCount'", ">= 1"),
    ],
)
def test_registry_config_errors_name_the_key(overrides: dict, key: str, fragment: str) -> None:
    if "fargate" not in overrides and "services" in overrides:
        overrides = {**overrides, "fargate": {}}
    message = refused("dev", overrides)
    assert key in message
    assert fragment in message
    assert "Traceback" not in message


@pytest.mark.parametrize(
    ("service", "key", "fragment"),
    [
        (
            {"name": "api", "build": {"context": "no-such-dir"}},
            "services[0].build.context'",
            "no-such-dir",
        ),
        (
            {"name": "api", "build": {"context": "app", "dockerfile": "Missing.Dockerfile"}},
            "services[0].build",
            "Missing.Dockerfile",
        ),
        (
            {"name": "api", "build": {"context": "app"}, "platform": "linux/s390x"},
            "services[0].platform'",
            "linux/s390x",
        ),
        (
            {"name": "api", "build": {"context": "app", "args": {"WORKERS": 4}}},
            "services[0].build.args.WORKERS'",
            "quote it",
        ),
        (
            {"name": "api", "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/dev/api:v1"},
            "services[0].image'",
            "digest",
        ),
    ],
)
def test_build_config_errors_name_the_key(service: dict, key: str, fragment: str) -> None:
    message = refused("dev", {"services": [service], "fargate": FARGATE})
    assert key in message
    assert fragment in message


@pytest.mark.parametrize(
    ("fargate", "key", "fragment"),
    [
        ({"cpu": 256, "memory": 4096}, "fargate.memory'", "512, 1024, 2048"),
        ({"architecture": "ARM64"}, "fargate.architecture'", "ARM64"),
        (
            {"environment": {"DB_PASSWORD": "hunter2"}},
            "fargate.environment.DB_PASSWORD'",
            "secretArn",
        ),
        ({"subnetIds": ["subnet-xyz"]}, "fargate.subnetIds[0]'", "subnet-xyz"),
        ({"securityGroupIds": ["group-1"]}, "fargate.securityGroupIds[0]'", "group-1"),
        ({"ephemeralStorageGiB": 20}, "fargate.ephemeralStorageGiB'", ">= 21"),
        ({"logRetentionDays": 10}, "fargate.logRetentionDays'", "14"),
        ({"service": "worker"}, "fargate.service'", "api"),
    ],
)
def test_fargate_config_errors_name_the_key(fargate: dict, key: str, fragment: str) -> None:
    message = refused("dev", {"fargate": {**FARGATE, **fargate}})
    assert key in message
    assert fragment in message


def test_public_ip_is_refused_in_prod() -> None:
    message = refused("prod", {"fargate": {"service": "api", "assignPublicIp": True}})
    assert "fargate.assignPublicIp'" in message


def test_many_problems_are_reported_together() -> None:
    message = refused("dev", {"environment": "qa", "fargate": {**FARGATE, "port": 0}})
    lines = message.splitlines()
    assert any("ecr-fargate:environment'" in line for line in lines)
    assert any("fargate.port'" in line for line in lines)


def test_nothing_is_registered_when_config_is_bad() -> None:
    from plan import engine

    registered: list[str] = []
    original = engine._Mocks.new_resource

    def spy(self: Any, args: Any) -> Any:
        registered.append(args.typ)
        return original(self, args)

    engine._Mocks.new_resource = spy  # type: ignore[method-assign]
    try:
        refused("dev", {"registry": {"tagMutability": "FROZEN"}})
    finally:
        engine._Mocks.new_resource = original  # type: ignore[method-assign]
    assert registered == []
