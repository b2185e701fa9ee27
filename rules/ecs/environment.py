"""Container environment: plain values stay plain, anything secret must be a reference."""

from __future__ import annotations

import re
from collections.abc import Mapping

from rules.ecs.iam import validate_secret_reference_arn

NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*", re.ASCII)
# The variables the stack sets in every container (`rules.ecs.container.ContainerSpec`): the
# service's name, and the port it listens on. A user may repeat their value, never make them secret.
STACK_VARIABLES = {"PORT": "the container port", "SERVICE_NAME": "the service's name"}
SECRET_LOOKING = re.compile(
    r"(?:^|_)(?:PASSWORD|PASSWD|SECRET|TOKEN|KEY|API_KEY|ACCESS_KEY|PRIVATE_KEY)$", re.IGNORECASE
)


class EnvironmentValueError(ValueError):
    def __init__(self, path: str, detail: str) -> None:
        self.path = path
        self.detail = detail
        super().__init__(detail)


class EnvironmentErrors(ValueError):
    """Every refused variable at once, each an `EnvironmentValueError` naming the variable."""

    def __init__(self, problems: list[EnvironmentValueError]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(f"{p.path}: {p.detail}" for p in self.problems))


def validate_variable_name(name: str) -> str:
    """Plain and secret variables alike: the portable shell name, so every image can read it."""
    if not NAME.fullmatch(name):
        raise ValueError(f"{name!r} is not allowed; a variable name is [A-Za-z_][A-Za-z0-9_]*")
    return name


def stack_variable_secret(name: str, arn: object) -> str:
    return (
        f"{arn!r} is not allowed; the stack sets {name} to {STACK_VARIABLES[name]}, "
        "a secret cannot replace it"
    )


def split_environment(
    env: Mapping[str, object], partition: str | None = None
) -> tuple[dict[str, str], dict[str, str]]:
    """(plain values, secret references by name); `{"secretArn": ARN}` marks a reference."""
    plain: dict[str, str] = {}
    secrets: dict[str, str] = {}
    problems: list[EnvironmentValueError] = []
    for name in sorted(env):
        try:
            _one(name, env[name], partition, plain, secrets)
        except ValueError as exc:
            problems.append(EnvironmentValueError(name, str(exc)))
    if problems:
        raise EnvironmentErrors(problems)
    return plain, secrets


def _one(
    name: str, value: object, partition: str | None, plain: dict[str, str], secrets: dict[str, str]
) -> None:
    validate_variable_name(name)
    if isinstance(value, Mapping):
        arn = value.get("secretArn")
        if set(value) != {"secretArn"} or not isinstance(arn, str):
            raise ValueError(
                'a secret reference is {"secretArn": "<Secrets Manager or SSM ARN>"}, nothing else'
            )
        if name in STACK_VARIABLES:
            raise ValueError(stack_variable_secret(name, arn))
        secrets[name] = validate_secret_reference_arn(arn, partition)
        return
    if not isinstance(value, str):
        raise ValueError(
            f"a {type(value).__name__} is not allowed; environment values are strings (quote it)"
        )
    if SECRET_LOOKING.search(name):
        raise ValueError(
            f"{name} looks like a secret; never put secret values in plain environment "
            'variables, give {"secretArn": "<Secrets Manager or SSM ARN>"} instead'
        )
    plain[name] = value
